"""Lifetimes in a generated NumPy function: each weight gradient as soon as its operands are final,
each parameter's update as soon as nothing reads the old parameter, and a ``del`` after each
temporary's last use.

The scheduler (`codegen.schedule`) prints the forward and backward statements, then every weight
gradient Σ_b δ_b y_bᵀ at the end. Left there, every layer's activation y stays alive through the
whole backward pass, and every gradient through the end of the step: one SGD step of a
784-1024-1024-10 MLP at batch 512 held 15 MiB where torch eager holds 10. Autograd frees a saved
activation once its backward node has run, and so does this pass:

1. a gradient statement ``g_i = …`` moves up to just after the last statement that writes what it
   reads (it writes only ``g_i``, which nothing but the update reads, so nothing else moves);
2. in ``step``, parameter i's update moves up to just after its gradient and the last statement that
   reads ``p_i`` (the backward pass's δ·W needs the OLD W), or anything aliasing either;
3. a temporary that is read, after some point, only as the mask ``(v >= 0)`` (relu's derivative
   at z, with relu'(0) = 1) is kept as that boolean mask from there on: a quarter of the bytes,
   and when its last other use is relu itself, ``relu(v)`` (or ``numpy.maximum(v, 0)``) is
   computed in v's own buffer (autograd keeps relu(z) alone; z's sign, one byte an entry, is
   what relu' needs);
4. a ``del`` follows the last statement that uses each name the function binds (a NumPy buffer goes
   back when its last name goes).

Names are found by `ast`, statement by statement; "writes" counts in-place forms (``a += …``,
``a[…] = …``, ``out=a``, ``numpy.copyto(a, …)``, ``numpy.add.at(a, …)``). A name bound to a view of
another (``v = p3.T``, ``v = p3.reshape(…)``, ``numpy.broadcast_to(b, …)``, ``f(…, out=b)``) aliases
it, and aliasing is transitive: a view's lifetime extends its base's, so moving past one counts as
moving past the other. This is what makes early updates safe in whole-batch programs
(`codegen.numpy_whole_batch`), which read parameters through views: p3 is updated in place only
after the last use of p3 and of every name that may view it. Only the base of a view counts (the
value of ``(x @ p3).reshape(…)`` is a new array, no view of p3). Moves are only ever earlier than
the scheduler's order, and only past statements that neither write what the moved one reads nor
read what it writes.

>>> units = [Unit(["v1 = x0 @ p0.T"]), Unit(["v2 = numpy.maximum(v1, 0)"]), Unit(["v3 = v2 @ p1.T"]),
...          Unit(["L = v3.sum(1)"]), Unit(["g0 = v1.T @ x0"], grad=0), Unit(["loss = float(L.sum())"]),
...          Unit(["p0 -= 0.1 * g0"], update=0), Unit(["return loss"])]
>>> print("\\n".join(line for u in arrange(units) for line in u.code))
v1 = x0 @ p0.T
g0 = v1.T @ x0
p0 -= 0.1 * g0
del g0
v2 = numpy.maximum(v1, 0)
del v1
v3 = v2 @ p1.T
del v2
L = v3.sum(1)
del v3
loss = float(L.sum())
del L
return loss
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

# calls that write into their first argument, and methods that write into their object
_WRITES_FIRST = {"copyto", "at", "put", "put_along_axis", "place", "putmask", "fill_diagonal"}
_WRITING_METHODS = {"fill", "sort", "put", "itemset", "resize", "partition"}
# calls (functions or methods) whose result may share the memory of their arguments (a method's:
# of its object)
_VIEWS = {"broadcast_to", "reshape", "transpose", "swapaxes", "squeeze", "expand_dims", "moveaxis",
          "rollaxis", "ravel", "diagonal", "as_strided", "view", "asarray", "asanyarray", "ascontiguousarray",
          "asfortranarray", "require", "atleast_1d", "atleast_2d", "atleast_3d", "sliding_window_view",
          "real", "imag", "flip", "fliplr", "flipud", "rot90", "einsum", "broadcast_arrays", "split",
          "array_split"}


@dataclass
class Unit:
    """A few lines of generated code kept together, with their comments. ``grad``: the index i of
    the parameter whose gradient ``g_i`` it binds; ``update``: of the parameter it updates."""
    code: list
    comment: list = field(default_factory=list)
    grad: int | None = None
    update: int | None = None
    reads: set = field(default_factory=set, repr=False)
    writes: set = field(default_factory=set, repr=False)
    binds: set = field(default_factory=set, repr=False)
    aliases: dict = field(default_factory=dict, repr=False)    # bound name -> names it may view


def arrange(units: list) -> list:
    """``units`` reordered as the module docstring says, with ``del`` lines at last uses. The
    units' own ``del`` lines are dropped first (this pass places them again). The input is left
    as it is; on code it cannot parse, the units come back as given."""
    units = [Unit([ln for ln in u.code if not ln.startswith("del ")], list(u.comment), u.grad, u.update)
             for u in units]
    try:
        for u in units:
            _analyse(u)
    except SyntaxError:         # pragma: no cover - generated code always parses
        return units
    group = _alias_groups(units)
    order = [u for u in units if u.grad is None and u.update is None]
    tail = order.pop() if order and order[-1].code and order[-1].code[0].startswith("return") else None
    for u in (u for u in units if u.grad is not None):
        need = _closure(u.reads, group)
        at = max((k for k, o in enumerate(order) if (o.writes | o.binds) & need), default=-1)
        order.insert(at + 1, u)
    # (a name that no unit writes nor binds — numpy, float, t, DTYPE — orders nothing: reading it
    # twice is no conflict; counted, it held every update back behind every statement that calls
    # numpy, to the end of the backward pass)
    changing = set().union(*(o.writes | o.binds for o in units))
    for u in (u for u in units if u.update is not None):
        mine = _closure({f"p{u.update}", f"g{u.update}"} | (u.reads & changing), group)
        at = max((k for k, o in enumerate(order) if (o.reads | o.writes | o.binds) & mine), default=-1)
        order.insert(at + 1, u)
    if tail is not None:
        order.append(tail)
    return _free(_masks(order, group), tail)


def _analyse(u: Unit) -> None:
    tree = ast.parse("\n".join(u.code))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            u.reads.add(node.id)          # stores too: a rebinding orders like a read
        elif isinstance(node, ast.AugAssign):
            u.writes |= _written(node.target)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for t in (node.targets if isinstance(node, ast.Assign) else [node.target]):
                if not isinstance(t, (ast.Name, ast.Tuple, ast.List)):
                    u.writes |= _written(t)     # a[...] = …: writes into a
        elif isinstance(node, ast.Call):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            if name in _WRITES_FIRST and node.args:
                u.writes |= _written(node.args[0])
            if isinstance(f, ast.Attribute) and name in _WRITING_METHODS:
                u.writes |= _written(f.value)
            for kw in node.keywords:
                if kw.arg == "out":
                    u.writes |= _written(kw.value)
    for stmt in tree.body:      # names bound at the top level of the unit (not in a loop's body)
        if isinstance(stmt, ast.Assign):
            for t in stmt.targets:
                if isinstance(t, (ast.Name, ast.Tuple, ast.List)):
                    bound = names_in(t)
                    u.binds |= bound
                    base = _viewed(stmt.value)
                    if base:
                        for b in bound:
                            u.aliases[b] = base


def _written(node) -> set:
    """The names whose memory a write into ``node`` changes: the base of a view (``a`` for
    ``a[~numpy.isfinite(a)]``, ``a.reshape(…)[…]``, ``out=a.T``), not the names of its index or
    arguments (numpy, a mask: counted as written, they held every parameter's update back to the
    end of the step behind a log-sum-exp's ``m[~numpy.isfinite(m)] = 0``); all the names in
    ``node`` where it has no base known (`_viewed`)."""
    return _viewed(node) or names_in(node)


def names_in(node) -> set:
    """The names (``ast.Name`` ids) anywhere in the ast ``node``."""
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _viewed(e) -> set:
    """The names whose memory the value of the expression ``e`` may share: ``a`` for ``a``, ``a.T``,
    ``a[1:]``, ``a.reshape(…)``, ``numpy.broadcast_to(a, …)``, ``numpy.ascontiguousarray(a)`` (a
    itself when a is contiguous), ``numpy.einsum('ii->i', a)`` and ``f(…, out=a)``; nothing for an
    expression that makes a new array (``a @ b``, ``a + b``, ``a.sum(0)``, ``a.copy()``,
    ``numpy.einsum('ij,ij->j', a, b)``: einsum of two operands or more, ``numpy.einsum('ij->i', a)``:
    a sum). Only the view's base counts: the value
    of ``(x @ p0.T).reshape(…)`` shares no memory with ``p0``, so ``p0`` may be updated while it lives."""
    if isinstance(e, ast.Name):
        return {e.id}
    if isinstance(e, ast.Attribute):              # a.T, a.real; numpy.inf is no array of ours
        return set() if _is_module(e.value) else _viewed(e.value)
    if isinstance(e, ast.Subscript):              # a slice is a view; an index array copies, but
        return _viewed(e.value)                   # which one it is is not known here
    if isinstance(e, ast.IfExp):
        return _viewed(e.body) | _viewed(e.orelse)
    if isinstance(e, (ast.Tuple, ast.List)):
        return set().union(*(_viewed(x) for x in e.elts)) if e.elts else set()
    if isinstance(e, ast.Call):
        out = set()
        for kw in e.keywords:
            if kw.arg == "out":                   # f(…, out=a) returns a
                out |= _viewed(kw.value)
        f = e.func
        name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
        if name not in _VIEWS:
            return out
        if name == "einsum" and (len(e.args) > 2 or _sums_over(e.args[0])):
            return out                            # a product of two operands or more, or a sum over
            #                                       an axis ('ijk->ij'): a new array
        if isinstance(f, ast.Attribute) and not _is_module(f.value):
            return out | _viewed(f.value)         # a method: a view of its object
        return out | set().union(*(_viewed(a) for a in e.args)) if e.args else out
    return set()


def _sums_over(spec) -> bool:
    """An einsum subscript, as code, that drops an index of its operand (``'ijk->ij'``, a sum: a new
    array), where ``'ii->i'`` keeps every index (the diagonal: a view)."""
    if not (isinstance(spec, ast.Constant) and isinstance(spec.value, str) and "->" in spec.value):
        return False
    ins, out = spec.value.split("->")
    return bool(set(ins) - set(out) - {",", "."})


def _is_module(e) -> bool:
    """``numpy``, ``numpy.lib.stride_tricks``: a module the generated code calls into, not an array."""
    while isinstance(e, ast.Attribute):
        e = e.value
    return isinstance(e, ast.Name) and e.id == "numpy"


def alias_groups(codes: list) -> dict:
    """name -> the set of names that may share its memory, over the statements ``codes`` (code
    strings, in order): `_alias_groups` of their units (`codegen.numpy_workspace` frees a buffer when
    all of them are deleted)."""
    units = [Unit([c]) for c in codes]
    for u in units:
        _analyse(u)
    return _alias_groups(units)


def written_names(codes: list) -> set:
    """The names that the statements ``codes`` (code strings) write into in place (``a += …``,
    ``a[…] = …``, ``out=a``, ``numpy.copyto(a, …)``: "writes" of the module docstring)."""
    out: set = set()
    for c in codes:
        u = Unit([c])
        _analyse(u)
        out |= u.writes
    return out


def _alias_groups(units: list) -> dict:
    """name -> the set of names that may share its memory (connected through view bindings)."""
    group: dict = {}
    for u in units:
        for a, bs in u.aliases.items():
            merged = {a} | group.get(a, {a})
            for b in bs:
                merged |= group.get(b, {b})
            for n in merged:
                group[n] = merged
    return group


def _closure(names: set, group: dict) -> set:
    out = set()
    for n in names:
        out |= group.get(n, {n})
    return out


def _free(order: list, tail) -> list:
    """``del`` each name a unit binds after the last unit that uses it; names the final ``return``
    reads are kept."""
    keep = set(tail.reads) if tail is not None else set()
    bound = set().union(*(u.binds for u in order)) - keep
    last = {}
    for k, u in enumerate(order):
        for n in (u.reads | u.writes) & bound:
            last[n] = k
    dying: dict = {}
    for n, k in last.items():
        dying.setdefault(k, []).append(n)
    for k, names in dying.items():
        if order[k] is not tail:
            order[k].code.append("del " + ", ".join(sorted(names, key=_natural)))
    return order


def _natural(name: str):
    """v5 before v12: digits compared as numbers."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


_MASK = re.compile(r"\((v\d+) (>=|>) 0\)")


def _masks(order: list, group: dict) -> list:
    """Point 3 of the module docstring: for each temporary ``v`` read, from some statement on, only
    inside ``(v >= 0)`` (or ``(v > 0)``), with nothing writing ``v`` from there on, the mask
    ``v_ge0 = v >= 0`` is computed just before the last statement that reads ``v`` plainly (just
    after it, when that statement makes ``v``'s value) and read in its place. A temporary that is bound here, shares no memory with another name, and whose
    last use is then ``w = relu(v)`` (or ``w = numpy.maximum(v, 0)``), lends that statement its
    buffer (``out=v``)."""
    for name in sorted({m.group(1) for u in order for ln in u.code for m in _MASK.finditer(ln)}, key=_natural):
        if len(group.get(name, {name})) > 1 or not any(name in u.binds for u in order):
            continue
        word = re.compile(rf"\b{name}\b")
        plain = [k for k, u in enumerate(order) if any(word.search(_MASK.sub("", ln)) for ln in u.code)]
        masked = [k for k, u in enumerate(order) if any(m.group(1) == name for ln in u.code for m in _MASK.finditer(ln))]
        if not plain or not masked:
            continue
        j = plain[-1]
        later = [k for k in masked if k > j]
        if not later or any(name in order[k].writes for k in range(j + 1, len(order))):
            continue
        # the last plain use may make v's value (bind it, or write into it): the mask comes after it
        after = name in order[j].binds or name in order[j].writes
        if any(k < j and k not in plain for k in masked) or any(k >= j for k in masked if k in plain):
            continue    # a unit that reads both ways, or a mask before the last plain use: left alone
        ops = {m.group(2) for k in later for ln in order[k].code for m in _MASK.finditer(ln) if m.group(1) == name}
        if len(ops) != 1:
            continue
        (op,) = ops
        mask = f"{name}_{'ge' if op == '>=' else 'gt'}0"
        for k in later:
            order[k].code = [_MASK.sub(lambda m: mask if m.group(1) == name else m.group(0), ln)
                             for ln in order[k].code]
            order[k].reads = (order[k].reads - {name}) | {mask}
        unit = Unit([f"{mask} = {name} {op} 0"], [f"{name} is read from here on only through its sign: "
                                                  f"kept as a boolean mask (a quarter of the bytes)"])
        unit.reads, unit.binds = {name, mask}, {mask}
        order.insert(j + 1 if after else j, unit)
        if after:
            continue
        relu = order[j + 1]
        m = re.fullmatch(rf"(v\d+) = (relu\({name}|numpy\.maximum\({name}, 0)\)", relu.code[0]) \
            if len(relu.code) == 1 else None
        if m:
            relu.code = [f"{m.group(1)} = {m.group(2)}, out={name})"]
            relu.comment = relu.comment + [f"(in the buffer of {name}: only its sign is needed after this)"]
            relu.writes = relu.writes | {name}
    return order
