"""The training step's large arrays in a workspace kept from one call to the next.

A new array of a few hundred KiB or more is memory that glibc maps afresh, or gets back from the
kernel as its heap grows, and that the kernel zeroes page by page on first touch; when the step frees
it, glibc hands it back (munmap, or trimming its heap's top). A NumPy transformer step alone in its
process made 5800-6300 minor page faults a step, 11-23 % of its CPU time (bench/step_page_faults.py).
This pass runs on the lines of ``step`` once `codegen.lifetimes` has ordered them and placed their
``del``s, and makes the step's large new arrays buffers of a workspace (``scratch(ws, 'w3', shape)``):

- a matrix product ``v = a @ b`` (or ``numpy.matmul(a, b)``): ``v = numpy.matmul(a, b, out=…)``;
- a new array of an in-place chain (`codegen.numpy_in_place`), ``v = numpy.empty(shape, dtype=DTYPE)``;
- an elementwise statement ``v = a ∘ b ∘ c`` (∘ among + − * /, NumPy's left to right):
  ``v = numpy.multiply(a, b, out=…)``, then ``v *= c``: the same operations in the same order, the
  same values bit for bit, and no temporary for ``a ∘ b``;
- ``v = erf(e)``: e worked out in the buffer as above, then ``erf(v, out=v)`` (the helper reads each
  entry before it writes it).
- max pooling's windows, ``v = W.transpose(P).copy().transpose(Q)`` (W the window view; the form
  that prints it says so, `codegen.printers.numpy_conv.CopyInto`): the buffer laid out in the order P
  and seen in the declared one, ``v = scratch(ws, 'w0', (2, 2, d0, 4, 4,
  16)).transpose(Q)``, then ``v[...] = W`` — the backward's mask is written into it later
  (`codegen.printers.numpy_tensor.window_first_hit`): the digits CNN's step in a process with NumPy
  alone made 191 page faults a step before, 1 now (bench/numpy_only_step.py).

A product read later only as ``v.transpose(P)`` (one P) and as an operand of other products (BLAS
reads any layout) is laid out in the order of P: ``out=scratch(ws, 'w3', (d0, 64, 4, 32)).transpose((0,
2, 1, 3))``, so that ``v.transpose(P).reshape(…)`` — an attention's heads (N, H, T, Dh) read back as
(N·T, D) by the next product and by its weight's gradient — is a view, not a copy (`_read_permuted`).

Only arrays with a batch size and at least `MIN_ENTRIES` entries an example (smaller ones stay in
glibc's heap), and only where the result's shape is known to be the buffer's: the scheduler's shape of
the statement, and for an elementwise statement an operand of that very shape (NumPy refuses an
``out=`` smaller than the result; a larger one it would fill by broadcasting, which is never taken).

A buffer serves several statements of the same size (in entries), one after another, each seeing
it in its own shape: it is free again once every
name that may view it (`codegen.lifetimes.alias_groups`: a view, ``out=``, ``g = v``) has had its
``del``, and names bound twice, or never deleted, keep theirs to the end. Nothing of the workspace
leaves ``step``: it returns the loss, a float; parameters and optimizer slots are the caller's
arrays, changed in place; ``loss``, ``grad`` and ``forward`` allocate afresh (``grad`` returns its
gradients). Each call takes a workspace of its own (``workspace()``) and hands it back on return
(``done(ws)``), so two steps at once — two threads, or two programs loading the same module — never
share one; a step that raises drops its workspace, and the next call starts another.
"""
from __future__ import annotations

import ast

from .lifetimes import alias_groups, names_in
from .numpy_row_major import column_major_operand, with_row_major_operand
from .printers.numpy_printer import NumpyPrinter

# entries an example from which an array goes to the workspace: a batch of 128 makes it 256 KiB in
# float32, above glibc's first mmap threshold (128 KiB)
MIN_ENTRIES = 512

HELPERS = [
    "# The training step's large arrays live in a workspace kept from one call to the next (a new",
    "# large array costs a page fault each 4 KiB when first written: codegen/numpy_workspace.py).",
    "# Each call takes a workspace of its own and gives it back when it returns: two steps at once",
    "# (threads) never share one. None of its arrays leaves step (it returns the loss, a float);",
    "# loss, grad and forward allocate afresh.",
    "WORKSPACES = []",
    "",
    "",
    "def workspace():",
    '    """A workspace (a dict: buffer name -> array) that no other call of step holds."""',
    "    try:",
    "        return WORKSPACES.pop()",
    "    except IndexError:      # (none kept, or another thread took the last one)",
    "        return {}",
    "",
    "",
    "def done(ws):",
    '    """Hand the workspace ``ws`` back for the next call of step."""',
    "    WORKSPACES.append(ws)",
    "",
    "",
    "def scratch(ws, name, shape):",
    '    """The buffer ``name`` of ``ws`` as an array of ``shape``, its entries as some earlier statement',
    '    left them (the statement that takes it writes every one); made anew when its size changes',
    '    (the batch size)."""',
    "    size = math.prod(shape)",
    "    buf = ws.get(name)",
    "    if buf is None or buf.size != size:",
    "        buf = ws[name] = numpy.empty(size, dtype=DTYPE)",
    "    return buf.reshape(shape)",
    "",
    "",
    "def kept(ws, name, shape):",
    '    """The buffer ``name`` of ``shape`` in ``ws``: zeros the first time, then as the last step',
    '    left it (an im2col buffer whose borders stay 0)."""',
    "    buf = ws.get(name)",
    "    if buf is None or buf.shape != shape:",
    "        buf = ws[name] = numpy.zeros(shape, dtype=DTYPE)",
    "    return buf",
]

_OPS = {ast.Add: ("numpy.add", "+="), ast.Sub: ("numpy.subtract", "-="), ast.Mult: ("numpy.multiply", "*="),
        ast.Div: ("numpy.divide", "/=")}


def _factors(shape: str) -> tuple | None:
    """The size of an array of ``shape`` (code, as ``(64*d0, 128)``) as (the product of its numbers,
    its size names in order), read from the code (never evaluated); None for a size that is not a
    product of numbers and names."""
    node = ast.parse(shape, mode="eval").body
    const, names = 1, []
    stack = list(node.elts) if isinstance(node, ast.Tuple) else [node]
    while stack:
        d = stack.pop()
        if isinstance(d, ast.BinOp) and isinstance(d.op, ast.Mult):
            stack += [d.left, d.right]
        elif isinstance(d, ast.Constant) and type(d.value) is int:
            const *= d.value
        elif isinstance(d, ast.Name):
            names.append(d.id)
        else:
            return None
    return const, tuple(sorted(names))


def size_key(shape: str):
    """The number of entries of an array of ``shape`` (code) in one form: ``(64*d0, 128)`` and
    ``(d0, 64, 128)`` both (8192, ('d0',)); the code itself for a size `_factors` does not read."""
    return _factors(shape) or shape


def per_example(shape: str, sizes: set) -> int | None:
    """The entries an example of the array of ``shape`` (code): its size with every size in ``sizes``
    set to 1; None without one of them (no batch size) or with a size not read (`_factors`)."""
    f = _factors(shape)
    if f is None or not set(f[1]) & sizes or set(f[1]) - sizes:
        return None
    return f[0]


def use_workspace(body: list, shapes: dict, sizes: set, copies: dict | None = None) -> list:
    """The lines ``body`` of ``step`` (unindented, ``del``s placed) with its large new arrays in the
    workspace (module docstring). ``shapes``: the name a statement binds -> its shape as code;
    ``sizes``: the names of the symbolic sizes (``d0``); ``copies``: the name -> the
    `codegen.printers.numpy_conv.CopyInto` of a statement that copies a view into a layout of its
    own (the pooling windows), as the form that printed it left it. Lines that use a workspace
    buffer (also ``kept(ws, …)``) get ``ws = workspace()`` before the first and ``done(ws)`` before
    the return."""
    copies = copies or {}
    lines = "\n".join(body).split("\n")
    tree = ast.parse("\n".join(lines))
    stmts = tree.body
    group = alias_groups([ast.get_source_segment("\n".join(lines), s) for s in stmts])
    bound: dict = {}
    for s in stmts:
        for t in (s.targets if isinstance(s, ast.Assign) else []):
            for n in ast.walk(t):
                if isinstance(n, ast.Name):
                    bound[n.id] = bound.get(n.id, 0) + 1
    parents = {c: n for n in ast.walk(tree) for c in ast.iter_child_nodes(n)}
    # the module's helpers by the printer's own table (a new helper is not another name to add here)
    scalars = set(sizes) | {"scale", "t", "DTYPE", "math", "float"} | set(NumpyPrinter.HELPERS) \
        | {n for n, sh in shapes.items() if sh == "()"}

    def array(node) -> bool:
        return bool(names_in(node) - scalars - {"numpy"})

    free: dict = {}             # size (`size_key`) -> buffers free again
    held: dict = {}             # buffer -> (its size, the names that may view it)
    dead: set = set()
    new: dict = {}              # statement index -> its lines
    in_order: set = set()       # products written into a buffer as it is (`codegen.numpy_row_major`)
    count = 0
    for k, s in enumerate(stmts):
        if isinstance(s, ast.Delete):
            dead |= names_in(s)
            for buf, (key, names) in list(held.items()):
                if names <= dead:
                    free.setdefault(key, []).append(buf)
                    del held[buf]
            continue
        if not (isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name)):
            continue
        x = s.targets[0].id
        shape = shapes.get(x)
        n = per_example(shape, sizes) if shape else None
        if n is None or n < MIN_ENTRIES or bound.get(x) != 1:
            continue
        key = size_key(shape)
        pool = free.get(key, [])
        buf = pool[-1] if pool else f"w{count}"
        win = _copy_into(copies.get(x), s, shape)
        if win is not None:     # the pooling windows, copied into the buffer seen in their layout
            code = [f"{x} = scratch(ws, '{buf}', {win.laid}).transpose({win.back})", f"{x}[...] = {win.view}"]
        else:
            code = _into(x, s.value, f"scratch(ws, '{buf}', {shape})", shape, shapes, array)
        perm = _read_permuted(x, stmts[k + 1:], parents) if code and "numpy.matmul(" in code[0] else None
        if perm is not None:    # the product in the layout its readers permute it to (module docstring)
            dims = _dims(shape)
            laid = "(" + ", ".join(dims[i] for i in perm) + ")"
            back = tuple(sorted(range(len(perm)), key=perm.__getitem__))
            code = _into(x, s.value, f"scratch(ws, '{buf}', {laid}).transpose({back})", shape, shapes, array)
        if code is None:
            continue
        if pool:
            pool.pop()
        else:
            count += 1
        names = group.get(x, {x}) | {x}
        if any(bound.get(m, 0) > 1 for m in names):
            names = names | {"<a name bound twice: the buffer is never given back>"}
        held[buf] = (key, names)
        if "numpy.matmul(" in code[0]:
            if perm is None:
                in_order.add(x)
            col = column_major_operand(s.value, shapes, in_order)
            if col is not None:     # its right operand copied row-major first, into a buffer free again after
                tkey = size_key(col[1])
                tpool = free.setdefault(tkey, [])
                if tpool:
                    tbuf = tpool.pop()
                else:
                    tbuf, count = f"w{count}", count + 1
                tpool.append(tbuf)  # free again once the product is made (its copy deleted)
                code = with_row_major_operand(x, code, col[0], f"scratch(ws, '{tbuf}', {col[1]})")
        new[k] = code
    if not new and not any("kept(ws, " in ln for ln in lines):
        return body
    out, first = [], None
    at = 0
    for k, s in enumerate(stmts):
        start, end = s.lineno - 1, s.end_lineno
        out += lines[at:start]
        code = new.get(k, lines[start:end])
        if first is None and any("(ws, " in ln for ln in code):
            first = len(out)
        if isinstance(s, ast.Return):
            out.append("done(ws)  # the workspace back, for the next call")
        out += code
        at = end
    out += lines[at:]
    out.insert(first, "ws = workspace()  # this call's buffers, kept between calls (see WORKSPACES)")
    return out


def _copy_into(mark, st, shape: str):
    """``mark`` (a `codegen.printers.numpy_conv.CopyInto`, or None) where the statement ``st`` is still
    the line it describes (no later pass has rewritten it) and its buffer holds as many entries as
    ``shape``; None else."""
    if mark is None or ast.unparse(st) != ast.unparse(ast.parse(mark.line).body[0]):
        return None
    return mark if size_key(mark.laid) == size_key(shape) else None


def _dims(shape: str) -> list:
    """The sizes of ``shape`` (code), each as code."""
    node = ast.parse(shape, mode="eval").body
    return [ast.unparse(d) for d in (node.elts if isinstance(node, ast.Tuple) else [node])]


def _read_permuted(x: str, later: list, parents: dict) -> tuple | None:
    """The permutation P when the statements ``later`` read ``x`` as ``x.transpose(P)`` at least once,
    each time with the same P, and otherwise only as an operand of a matrix product (BLAS reads any
    layout) or in a ``del``; None else. An attention's heads, (N, H, T, Dh), are read as
    ``x.transpose((0, 2, 1, 3)).reshape((T·N, D))`` by the next product and by its weight's gradient:
    NumPy copies each such reshape (the axes are not in memory order), unless x's buffer is laid out
    in the permuted order, where the reshape is a view."""
    perm = None
    for st in later:
        for n in ast.walk(st):
            if not (isinstance(n, ast.Name) and n.id == x):
                continue
            up = parents.get(n)
            if isinstance(st, ast.Delete):
                continue
            if isinstance(up, ast.Attribute) and up.attr == "transpose" and isinstance(parents.get(up), ast.Call):
                call = parents[up]
                if len(call.args) != 1 or call.keywords or not isinstance(call.args[0], ast.Tuple):
                    return None
                try:
                    p = tuple(int(ast.literal_eval(d)) for d in call.args[0].elts)
                except ValueError:
                    return None
                if perm is not None and p != perm or sorted(p) != list(range(len(p))):
                    return None
                perm = p
            elif isinstance(up, ast.BinOp) and isinstance(up.op, ast.MatMult) or \
                    isinstance(up, ast.Call) and ast.unparse(up.func) == "numpy.matmul" and n in up.args:
                continue
            else:
                return None
    return perm


def _into(x: str, e, buf: str, shape: str, shapes: dict, array) -> list | None:
    """The lines that bind ``x`` to the value of ``e`` (an ast) worked out in ``buf`` (code), or None
    for a form not taken (see the module docstring)."""
    src = ast.unparse
    if isinstance(e, ast.Call) and src(e.func) == "numpy.empty" and not any(k.arg != "dtype" for k in e.keywords) \
            and len(e.args) == 1 and src(e.args[0]).replace(" ", "") == shape.replace(" ", ""):
        return [f"{x} = {buf}"]
    if isinstance(e, ast.BinOp) and isinstance(e.op, ast.MatMult):
        return [f"{x} = numpy.matmul({src(e.left)}, {src(e.right)}, out={buf})"]
    if isinstance(e, ast.Call) and src(e.func) == "numpy.matmul" and len(e.args) == 2 and not e.keywords:
        return [f"{x} = numpy.matmul({src(e.args[0])}, {src(e.args[1])}, out={buf})"]
    if isinstance(e, ast.Call) and src(e.func) == "erf" and len(e.args) == 1 and not e.keywords:
        (a,) = e.args
        if _full(a, shape, shapes):
            return [f"{x} = erf({src(a)}, out={buf})"]
        lines = _chain(x, a, buf, shape, shapes, array)
        return None if lines is None else lines + [f"erf({x}, out={x})"]
    return _chain(x, e, buf, shape, shapes, array)


def _full(e, shape: str, shapes: dict) -> bool:
    """Whether ``e`` is a name bound to an array of ``shape``, or a reshape of an array to it."""
    same = lambda a, b: a.replace(" ", "") == b.replace(" ", "")  # noqa: E731
    if isinstance(e, ast.Name):
        return e.id in shapes and same(shapes[e.id], shape)
    return isinstance(e, ast.Call) and isinstance(e.func, ast.Attribute) and e.func.attr == "reshape" \
        and isinstance(e.func.value, ast.Name) and len(e.args) == 1 and not e.keywords \
        and same(ast.unparse(e.args[0]), shape)


def _chain(x: str, e, buf: str, shape: str, shapes: dict, array) -> list | None:
    """``a ∘ b ∘ c …`` (NumPy's order: ((a ∘ b) ∘ c) …) as ``x = numpy.op(a, b, out=buf)``, then
    ``x ∘= c`` …: None unless one operand is an array of ``shape`` itself (`_full`)."""
    rest = []
    while isinstance(e, ast.BinOp) and type(e.op) in _OPS and array(e.left):
        rest.append((e.op, e.right))
        e = e.left
    if isinstance(e, ast.BinOp) and type(e.op) in _OPS and array(e):
        rest.append((e.op, e.right))
        e = e.left
    if not rest:
        return None
    rest.reverse()
    if not any(_full(a, shape, shapes) for a in [e] + [r for _, r in rest]):
        return None
    (op, a), more = rest[0], rest[1:]
    src = ast.unparse
    return [f"{x} = {_OPS[type(op)][0]}({src(e)}, {src(a)}, out={buf})"] + \
        [f"{x} {_OPS[type(o)][1]} {src(r)}" for o, r in more]
