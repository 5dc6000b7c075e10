"""Scheduling: the per-example IR becomes batched NumPy statements.

People declare the network for ONE example; at run time every input carries a leading batch axis.
This pass decides how each IR variable lives as an array and prints one statement per variable that
needs a name. The passes, in order:

1. **batching** — a variable is *batched* when it depends on an input. Its per-example shape picks
   the array layout: () → (B,); a column (m, 1) → (B, m); a row (1, n) → (B, n); (m, n) → (B, m, n).
   Unbatched variables (parameters, constants, what depends on them only) keep their own shape.
   So the per-example product W·x is ``x @ W.T`` on the (B, n) batch, and a transpose of a batched
   column is the same array read as a row — no statement at all.
2. **grouping** — an elementwise equation used once is not given a name: its SymPy body is
   substituted into its consumer's, so a chain of elementwise equations prints as one NumPy
   expression. Transposes and broadcasts are views, never statements.
3. **batch sums** — a parameter's gradient is the sum over the batch of the per-example gradients
   (the 1/B of the mean is in the seed of reverse mode). A per-example outer product δ·yᵀ summed
   over the batch is one matrix product ``delta.T @ y``; anything else is ``.sum(0)``.
4. **buffers** — a statement whose first operand is a fresh temporary that dies there reuses its
   buffer in place (``v4 += p1.T``, ``numpy.maximum(v7, 0, out=v7)``), and temporaries are deleted
   after their last use, so peak memory stays that of hand-written backprop. An elementwise
   equation whose fused body is another variable as it is (t + (u − t) is u) gets no statement and
   no second name: its readers read u, so u's buffer is reused only after their last read too; and a
   statement whose value nothing needed reads (t itself, there) is not printed.

The result is a `Block`: statements (code and comment lines) and the names of the roots.
"""
from __future__ import annotations

import ast
import itertools
from dataclasses import dataclass, field
from typing import Sequence

import sympy as sp

from symgrad.core import rules as R
from symgrad.core.ir import Graph, Var

from .printers import numpy_linalg
from .printers.numpy_printer import NumpyPrinter, is_boolean
from .printers.numpy_tensor import ROW_MAX_COMMENT, not_finite_max, row_max


# -------------------------------------------------------------------------------------------------
# Layouts


def layout_of(shape) -> str:
    if shape == ():
        return "scalar"
    m, n = shape
    if n == 1:
        return "col"
    if m == 1:
        return "row"
    return "mat"


@dataclass(frozen=True)
class Value:
    """How a variable lives at run time."""
    batched: bool
    shape: tuple          # per-example shape

    @property
    def layout(self) -> str:
        return layout_of(self.shape)

    def array_shape(self) -> tuple:
        """The array's shape as code strings (``"B"`` is the batch size)."""
        if not self.batched:
            return tuple(str(d) for d in self.shape)
        lay = self.layout
        rest = () if lay == "scalar" else (self.shape[0],) if lay == "col" else (
            (self.shape[1],) if lay == "row" else self.shape)
        return ("B",) + tuple(str(d) for d in rest)


def shape_code(dims: tuple) -> str:
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


def adapt(code: str, have: Value, want: Value) -> str:
    """``code`` (an array laid out as ``have``) as an operand that NumPy broadcasting lines up with an
    array laid out as ``want`` (an elementwise expression of that layout)."""
    if not want.batched:
        return code                                   # both in declared shapes: NumPy broadcasts
    if not have.batched:
        # a declared column (m, 1) lines up with a batch of columns (B, m) as its transpose (1, m)
        if want.layout == "col" and have.layout == "col" and have.shape != (1, 1):
            return code[:-2] if code.endswith(".T") else code + ".T"
        return code
    lay, wl = have.layout, want.layout
    if lay == wl or lay == "scalar" and wl == "scalar":
        return code
    if lay == "scalar":
        return code + ("[:, None, None]" if wl == "mat" else "[:, None]")
    if wl == "mat":
        return code + ("[:, :, None]" if lay == "col" else "[:, None, :]")
    return code                                       # (B, 1) against (B, n): NumPy broadcasts


# -------------------------------------------------------------------------------------------------
# Statements


@dataclass
class Stmt:
    code: list                       # lines of code
    comment: list = field(default_factory=list)
    reads: set = field(default_factory=set)      # var ids read
    defines: int | None = None


@dataclass
class Block:
    """Straight-line batched code: statements, then the roots' code names."""
    stmts: list
    roots: dict                      # role -> code name / expression


class Scheduler:
    """Schedule the variables ``roots`` of ``graph`` (see the module docstring).

    ``names`` maps leaf var ids to argument names (``p0``, ``x1``, ``scale`` ...), ``batched_leaves``
    the ids of leaves that carry the batch axis, ``notes`` var id → comment text (already safe).
    ``grads`` are (name, var or None, declared shape) whose batch sums are wanted; ``keep`` the other
    vars wanted by name, with their names.
    """

    def __init__(self, graph: Graph, names: dict, batched_leaves: set, notes: dict,
                 printer: NumpyPrinter | None = None, consts=None):
        self.g = graph
        self.names = dict(names)
        self.batched_leaves = batched_leaves
        self.notes = notes
        self.printer = printer or NumpyPrinter()
        self.consts = consts               # shared module-level constants: .names, .defs
        self.alias: dict[int, int] = {}    # var id -> the var whose value it is (`_same_as`)
        self.dead: set = set()             # vars whose statements nothing needed reads (`_dead`)

    # -- analysis ---------------------------------------------------------------------------------
    def _analyse(self, roots: Sequence[Var]):
        self.eqns = self.g.ancestors(list(roots))
        self.value: dict[int, Value] = {}
        self.uses: dict[int, int] = {}
        self.consumer: dict[int, object] = {}
        for e in self.eqns:
            if e.prim.leaf:
                b = e.out.id in self.batched_leaves
            else:
                b = any(self.value[u.id].batched for u in e.inputs)
            self.value[e.out.id] = Value(b, tuple(e.out.shape))
            for u in e.inputs:
                self.uses[u.id] = self.uses.get(u.id, 0) + 1
                self.consumer[u.id] = e
        for r in roots:
            self.uses[r.id] = self.uses.get(r.id, 0) + 1
        root_ids = {r.id for r in roots}
        self.softmax_of = self._softmaxes()
        self.inline = {e.out.id for e in self.eqns
                       if e.prim is R.ewise_p and self.uses.get(e.out.id) == 1 and e.out.id not in root_ids
                       and e.out.id not in self.softmax_of.values() and not self._read_twice(e.out.id)}

    # whether an elementwise var that one elementwise body reads at two places gets its own
    # statement (`_read_twice`); the kernel scheduler keeps it inline (Triton's compiler computes a
    # repeated subexpression once itself, and a name would be an array in memory)
    NAME_READ_TWICE = True

    def _read_twice(self, v: int) -> bool:
        """Whether var ``v``'s one consumer is an elementwise body that reads it at two or more
        places as printed (GELU's ``gelu(a0)`` prints as a0·(erf(a0/√2) + 1)/2): inline, ``v``'s
        expression would be printed, and computed, once per place (``(p1 + v3)*(erf(…*(p1 + v3)) +
        1)``); named, it is computed once."""
        e = self.consumer.get(v)
        if not self.NAME_READ_TWICE or e is None or e.prim is not R.ewise_p:
            return False
        body = e.params[0]
        (i,) = [i for i, u in enumerate(e.inputs) if u.id == v]     # (read once: ``uses`` is 1)
        a = R.ph(i)
        if sum(1 for s in sp.preorder_traversal(body) if s == a) > 1:
            return True
        if not body.atoms(sp.Function):     # no function the printer could write out (gelu, leaky_relu)
            return False
        mark = sp.Symbol("read_here", real=True)
        return NumpyPrinter().doprint(body.xreplace({a: mark})).count("read_here") > 1

    def _softmaxes(self) -> dict:
        """logsumexp var id → the id of the softmax ``exp(z − logsumexp z)`` of the same z, when the
        program needs both. The log-sum-exp statement then keeps its exp(z − max z) and row sums and
        divides, in place, into the softmax — the forward pass's exponentials serve the backward
        pass, as in hand-written backprop, instead of a second exp over z."""
        out = {}
        for e in self.eqns:
            sm = R.softmax_operands(self.g, e)
            if sm is not None and self.value[sm[0].id] == self.value[e.out.id]:
                out[sm[1].id] = e.out.id
        return out

    # -- references -------------------------------------------------------------------------------
    def _const_name(self, e) -> str:
        arr = R._const_impl((), e.params)
        lit = repr(arr.tolist()) if hasattr(arr, "tolist") else repr(float(arr))
        if lit not in self.consts.names:
            name = f"C{len(self.consts.names)}"
            self.consts.defs.append(f"{name} = numpy.array({lit}, dtype=DTYPE)")
            self.consts.names[lit] = name
        return self.consts.names[lit]

    def view(self, v: int, reads: set) -> str:
        """Code for var ``v`` as an array in its own layout (transposes are views, inline elementwise
        equations are parenthesized expressions, broadcasts are ``numpy.broadcast_to`` views)."""
        if v in self.alias:                 # the same value as another var: read as that one
            return self.view(self.alias[v], reads)
        if v in self.dead:                  # (only where a fused body simplifies it away: `_dead`)
            return f"v{v}"
        e = self.g.producer[v]
        val = self.value[v]
        if v in self.names:
            reads.add(v)
            return self.names[v]
        if e.prim is R.const_p:
            u = R.uniform_value(self.g, e.out)
            return repr(float(u)) if e.out.shape == () else self._const_name(e)
        if e.prim is R.transpose_p:
            (a,) = e.inputs
            code = self.view(a.id, reads)
            if val.batched:
                return code if val.layout != "mat" else f"{code}.transpose(0, 2, 1)"
            return code[:-2] if code.endswith(".T") else f"{_atom(code)}.T"
        if e.prim is R.broadcast_p:
            (a,) = e.inputs
            code = adapt(self.view(a.id, reads), self.value[a.id], val)
            return f"numpy.broadcast_to({code}, {shape_code(val.array_shape())})"
        if v in self.inline:
            code = "(" + self._printed(self.body_of(v, val, reads), val) + ")"
            if not self._full(v, val):      # e.g. c·𝟙, all of whose operands are scalars: a view
                code = f"numpy.broadcast_to({code}, {shape_code(val.array_shape())})"
            return code
        raise AssertionError(f"v{v} has no name")   # pragma: no cover

    def body_of(self, v: int, want: Value, reads: set):
        """Var ``v`` as a SymPy expression over code-named leaves, laid out as ``want``: inline
        elementwise equations are substituted, broadcasts dissolve into NumPy broadcasting."""
        e = self.g.producer[v]
        if v not in self.names:
            if e.prim is R.ewise_p and v in self.inline:
                return e.params[0].xreplace({R.ph(i): self.body_of(u.id, want, reads)
                                            for i, u in enumerate(e.inputs)})
            if e.prim is R.const_p and R.uniform_value(self.g, e.out) is not None:
                return R.uniform_value(self.g, e.out)
            if e.prim is R.broadcast_p:
                return self.body_of(e.inputs[0].id, want, reads)
        code = adapt(self.view(v, reads), self.value[v], want)
        return sp.Symbol(code, real=True)

    # -- statements -------------------------------------------------------------------------------
    def schedule(self, keep: dict, grads: Sequence) -> Block:
        """Statements computing ``keep`` (var → name) and the batch sums ``grads``
        [(name, var | None, shape)]."""
        all_roots = list(keep) + [g for _, g, _ in grads if g is not None]
        self._analyse(all_roots)
        fused = self._fusable_grad_matmuls(grads)
        leaf_names = dict(self.names)
        # Pass 1 finds what each statement reads; pass 2 prints again knowing each temporary's last
        # use, so it can reuse dying buffers in place (and later statements see the reused name),
        # and without the statements whose value nothing needed reads (`_dead`).
        self.dead = set()
        first = self._emit(keep, grads, fused, None)
        self.dead = self._dead(first)
        first = [st for st in first if st.defines not in self.dead]
        last: dict[int, int] = {}
        for i, st in enumerate(first):
            for r in st.reads:
                last[r] = i
        self.names = leaf_names
        stmts = self._emit(keep, grads, fused, last)
        return Block(stmts, {var.id: name for var, name in keep.items()})

    def _emit(self, keep, grads, fused, last) -> list:
        stmts: list[Stmt] = []
        self.fresh: set[int] = set()
        self.alias = {}
        for e in self.eqns:
            v = e.out.id
            if e.prim.leaf or v in self.inline or v in fused or self._is_view(e) or v in self.names \
                    or v in self.dead:
                continue
            n_named = len(self.names)
            self._index = len(stmts)            # the statement's index (pass 2 compares it with `last`)
            st = self._statement(e)
            # the vars it names (a log-sum-exp names the softmax it keeps too): a statement only adds
            # names, so they are the newest keys — read from the end, not a set of all names per
            # equation (quadratic in the program's size)
            st.made = set(itertools.islice(reversed(self.names), len(self.names) - n_named))
            same = self._same_as(st, v)
            if same is not None:
                # no statement: its readers read that var's array, so its last use (and whether a
                # later statement may work in its buffer) counts theirs
                self.alias[v] = same
                del self.names[v]
                self.fresh.discard(v)
                continue
            if last is not None and getattr(st, "body", None) is not None:
                self._in_place(st, st.body, v, len(stmts), last)
            stmts.append(st)
            if last is not None:
                self._dels(st, len(stmts) - 1, last)
        for var, name in keep.items():
            reads: set = set()
            code = self.view(var.id, reads)
            stmts.append(Stmt([f"{name} = {code}"], reads=reads))
        for name, var, shape in grads:
            if var is None:
                continue
            reads = set()
            code = self._batch_sum(var, shape, fused, reads)
            note = self.notes.get(var.id)
            if note and code == self.names.get(var.id) and any(
                    st.defines == var.id and note in st.comment for st in stmts):
                note = None     # the statement that made the array says so already
            stmts.append(Stmt([f"{name} = {code}"], [note] if note else [], reads=reads))
        return stmts

    def _dead(self, stmts: list) -> set:
        """The vars of the statements of pass 1 whose values nothing needed reads: walked backwards
        from the roots (the statements that define no var: the kept values, the gradients), a
        statement is needed when a needed one reads a var it makes (an elementwise statement reads
        only what its fused body still holds: t + (u − t) does not read t), or reads a name its code
        binds besides (a forward's im2col buffer that the backward reuses)."""
        needed: set = set()
        texts: list = []            # the code of the needed statements, for names bound on the side
        dead: set = set()
        for st in reversed(stmts):
            made = getattr(st, "made", set()) | ({st.defines} if st.defines is not None else set())
            if st.defines is None or made & needed or self._binds_read(st, made, texts):
                needed |= st.reads
                texts.append("\n".join(st.code))
            else:
                dead |= made
        return dead

    def _binds_read(self, st: Stmt, made: set, texts: list) -> bool:
        """Whether ``st`` binds a name other than those of the vars it makes that a needed
        statement's code reads."""
        import re
        own = {self.names.get(v) for v in made}
        bound = set(re.findall(r"^\s*([A-Za-z_]\w*)\s*=[^=]", "\n".join(st.code), re.M)) - own
        return any(re.search(rf"(?<![\w.]){re.escape(n)}(?!\w)", t) for n in bound for t in texts)

    def _same_as(self, st: Stmt, v: int) -> int | None:
        """The var whose array an elementwise statement's fused body is, as it is (t + (u − t) is u:
        a stop-gradient taken out, ``z + sg(e − z)``, leaves such a sum), else None. Printed, it would
        be ``v57 = v8``: a second name of v8's buffer, which a later statement could overwrite in place
        (v8 dies there as far as its own name goes) while v57 is still read."""
        body = getattr(st, "body", None)
        if not isinstance(body, sp.Symbol) or len(st.code) != 1:
            return None
        for u in st.reads:
            if u != v and self.names.get(u) == body.name and self.value[u] == self.value[v]:
                return u
        return None

    def _is_view(self, e) -> bool:
        """Whether equation ``e`` is printed where it is used (a view of its operand), not as a
        statement: transposes and broadcasts here; reshapes, slices ... in the whole-batch schedule."""
        return e.prim is R.transpose_p or e.prim is R.broadcast_p

    def _statement(self, e) -> Stmt:
        v = e.out.id
        val = self.value[v]
        name = f"v{v}"
        reads: set = set()
        comment = [_eqn_comment(e)] + ([self.notes[v]] if v in self.notes else [])
        p = e.prim
        if p is R.ewise_p:
            body = self.body_of_stmt(e, val, reads)
            code = self._printed(body, val)
            # a bare name that `_same_as` does not take (another layout, a broadcast operand) is a
            # copy of the full shape: never a second name of (or a view into) another array
            if is_boolean(body) or isinstance(body, sp.Symbol) or not any(self._full(u.id, val) for u in e.inputs):
                code = f"numpy.array(numpy.broadcast_to({code}, {shape_code(val.array_shape())}), dtype=DTYPE)"
            code = _bare(code)              # v = 0.5*x*(erf(…) + 1), not v = (0.5*x*(erf(…) + 1))
            st = Stmt([f"{name} = {code}"], comment, self._held(reads, body), v)
            st.body = body
        elif p is R.matmul_p:
            st = Stmt([f"{name} = {self._matmul(e, reads)}"], comment, reads, v)
        elif p is R.sum_p:
            st = Stmt([f"{name} = {self._sum(e, reads)}"], comment, reads, v)
        elif p is R.logsumexp_p:
            st = Stmt(self._logsumexp(e, name, reads), comment, reads, v)
        elif p is R.gather_p:
            st = Stmt([f"{name} = {self._gather(e, reads)}"], comment, reads, v)
        elif p.name in numpy_linalg.PRIMITIVES:          # X⁻¹, det X, log det X
            st = Stmt(numpy_linalg.statement(self, e, name, reads, _atom), comment, reads, v)
        else:
            from symgrad.errors import UnsupportedError
            raise UnsupportedError(f"the NumPy backend has no rule for the primitive {p.name!r}")
        self.names[v] = name
        self.fresh.add(v)
        return st

    def _printed(self, body, val: Value) -> str:
        """``body`` as code, for an array laid out as ``val`` (relu inline over short rows: `narrow_rows`)."""
        self.printer.narrow_rows = narrow_rows(val)
        try:
            return self.printer.doprint(body)
        finally:
            self.printer.narrow_rows = False

    def _held(self, reads: set, body) -> set:
        """The vars among ``reads`` that the printed ``body`` still holds: a fused body may have
        simplified a read operand away (t + (u − t) is u), and then it does not read t."""
        import re
        text = " ".join(s.name for s in body.free_symbols)
        return {u for u in reads if u not in self.names
                or re.search(rf"(?<![A-Za-z0-9_]){re.escape(self.names[u])}(?![A-Za-z0-9_])", text)}

    def _full(self, v: int, val: Value) -> bool:
        """Whether var ``v``, as printed in an elementwise expression laid out as ``val``, already has
        the whole array shape (else NumPy broadcasting alone would leave the result too small)."""
        if self.value[v] != val:
            return False
        e = self.g.producer[v]
        if v in self.names:
            return True
        if e.prim is R.broadcast_p or e.prim is R.const_p:
            return False
        if v in self.inline:
            return any(self._full(u.id, val) for u in e.inputs)
        return True

    def body_of_stmt(self, e, val: Value, reads: set):
        return e.params[0].xreplace({R.ph(i): self.body_of(u.id, val, reads)
                                    for i, u in enumerate(e.inputs)})

    def _matmul(self, e, reads: set) -> str:
        a, b = e.inputs
        va, vb, vo = self.value[a.id], self.value[b.id], self.value[e.out.id]
        A, Bc = self.view(a.id, reads), self.view(b.id, reads)
        if not va.batched and not vb.batched:
            return f"{_atom(A)} @ {_atom(Bc)}"
        if not va.batched and vb.layout == "col":           # W·x for a batch of columns: X @ Wᵀ
            return f"{_atom(Bc)} @ {_T(A)}"
        if va.batched and va.layout in ("row",) and not vb.batched:   # yᵀ·W for a batch of rows
            return f"{_atom(A)} @ {_atom(Bc)}"
        if va.batched and vb.batched and va.shape[0] == 1 and vb.shape[1] == 1:   # a row times a column
            return f"numpy.einsum('bk,bk->b', {A}, {Bc})[:, None]"
        # General case: both as stacks of matrices (B, m, k) @ (B, k, n), then back to the layout.
        prod = f"{_atom(self._as3(A, va))} @ {_atom(self._as3(Bc, vb))}"
        return {"col": f"({prod})[:, :, 0]", "row": f"({prod})[:, 0, :]",
                "mat": prod, "scalar": f"({prod})[:, 0, 0]"}[vo.layout] if vo.batched else prod

    @staticmethod
    def _as3(code: str, val: Value) -> str:
        if not val.batched:
            return code
        return {"col": f"{code}[:, :, None]", "row": f"{code}[:, None, :]", "mat": code}[val.layout]

    def _sum(self, e, reads: set) -> str:
        """Σ of a var's entries (all, or along one axis). Per-example sums of a batch, (B, n) → (B,),
        are ``numpy.einsum('bi->b', ·)`` — twice as fast as ``.sum(1)`` over short rows, and exact
        enough over one example's entries — and a sum of a product of two rows is one contraction,
        ``numpy.einsum('bi,bi->b', u, w)``, with no product array. Sums over the batch (the
        gradients' batch sums) stay ``.sum(0)``: NumPy's pairwise summation, for long batches."""
        (a,) = e.inputs
        axis = e.params[0]
        va = self.value[a.id]
        coeff, body = "", None
        if a.id in self.inline and self._full(a.id, va):
            # Σ c·u = c·Σ u: the constant factor multiplies the (smaller) sum, not every entry.
            # Not when every operand is a scalar (ḡ·s broadcast to a matrix): Σ of the bare
            # scalar would count it once instead of once per entry.
            seen: set = set()
            c, rest = self.body_of(a.id, va, seen).as_coeff_Mul()
            if c != 1 and rest != 1:
                body = rest
                reads |= seen
                coeff = "-" if c == -1 else f"{self.printer.doprint(c)}*"
        rowwise = va.batched and va.layout in ("col", "row") and axis is None
        if rowwise and a.id in self.inline and va.shape != (1, 1):
            pair = self._product_pair(self.g.producer[a.id], va)
            if pair is not None:
                return coeff + f"numpy.einsum('bi,bi->b', {self.view(pair[0], reads)}, {self.view(pair[1], reads)})"
        A = _atom(self.printer.doprint(body)) if body is not None else _atom(self.view(a.id, reads))
        # Σ of a 0/1 mask alone (a count): in the program's floats — NumPy would count a boolean
        # array in integers (.sum) or take its logical or (einsum)
        mask = a.id in self.inline and is_boolean(body if body is not None else self.body_of(a.id, va, set()))
        if rowwise:
            if va.shape == (1, 1):              # one entry per example: no sum at all
                if mask:
                    return coeff + f"{A}[:, 0].astype(DTYPE)"
                fresh = a.id in self.inline and self._full(a.id, va)   # else a view of a live array
                return coeff + f"{A}[:, 0]" + ("" if fresh or coeff else ".copy()")
            return coeff + f"numpy.einsum('bi->b', {A}" + (", dtype=DTYPE)" if mask else ")")
        return coeff + self._sum_code(A, axis, va, ", dtype=DTYPE" if mask else "")

    def _product_pair(self, e, val: Value):
        """(u, w) when equation ``e`` is c·u⊙w (or c·u⊙u) of batched arrays laid out like ``val``."""
        if e.prim is not R.ewise_p:
            return None
        _, rest = e.params[0].as_coeff_Mul()
        if rest == R.ph(0) ** 2 and len(e.inputs) == 1:          # Σ u², the contraction of u with u
            (u,) = e.inputs
            return (u.id, u.id) if self.value[u.id] == val and self._full(u.id, val) else None
        if len(e.inputs) != 2 or rest != R.ph(0) * R.ph(1) or any(self.value[u.id] != val or not self._full(u.id, val)
                                             for u in e.inputs):
            return None
        return e.inputs[0].id, e.inputs[1].id

    def _sum_code(self, A: str, axis, va: Value, dtype: str = "") -> str:
        """``dtype``: "" or ", dtype=DTYPE" (the sum of a mask, in floats)."""
        if not va.batched:
            return f"numpy.sum({_bare(A)}{dtype})" if axis is None else f"{A}.sum({axis}, keepdims=True{dtype})"
        lay = va.layout
        if axis is None:
            return f"{A}.sum((1, 2){dtype})" if lay == "mat" else f"{A}.sum(1{dtype})"
        if lay == "mat":
            return f"{A}.sum({1 if axis == 0 else 2}{dtype})"
        # a column summed over its rows, or a row over its columns, is a (1, 1): (B, 1)
        if (lay == "col" and axis == 0) or (lay == "row" and axis == 1):
            return f"{A}.sum(1, keepdims=True{dtype})"
        return f"{A}.astype(DTYPE)" if dtype else A        # summing a single row / column

    def _gather(self, e, reads: set) -> str:
        """z[k] for a column z and an integer label k: per example, the row's entry at its label."""
        z, k = e.inputs
        vz, vk = self.value[z.id], self.value[k.id]
        Z, K = _atom(self.view(z.id, reads)), _atom(self.view(k.id, reads))
        if vz.batched and vk.batched:
            return f"{Z}[numpy.arange({Z}.shape[0]), {K}.astype(numpy.intp)]"
        if vz.batched:
            return f"{Z}[:, int({K})]"
        if vk.batched:
            return f"{Z}[{K}.astype(numpy.intp), 0]"
        return f"{Z}[int({K}), 0]"

    def _logsumexp(self, e, name: str, reads: set) -> list:
        """log Σ exp(z) = m + log Σ exp(z − m), m = max z: no exp of a large number. When the program
        also needs softmax(z), the exponentials and their sum are kept and become it in place:
        softmax(z) = exp(z − m) / Σ exp(z − m)."""
        (z,) = e.inputs
        vz = self.value[z.id]
        Z = _atom(self.view(z.id, reads))
        sm = self.softmax_of.get(e.out.id)
        if sm is None:
            if not vz.batched:
                return [f"{name}_max = {Z}.max()", _scalar_not_finite_max(name),
                        f"{name} = numpy.log(numpy.exp({Z} - {name}_max).sum()) + {name}_max"]
            if vz.layout == "mat":
                Z = f"{Z}.reshape({Z}.shape[0], -1)"
            return [f"{name}_max = {row_max(Z, 1)}" + ROW_MAX_COMMENT, not_finite_max(name),
                    f"{name} = numpy.log(numpy.einsum('bi->b', numpy.exp({Z} - {name}_max)))",
                    f"{name} += {name}_max[:, 0]",
                    f"del {name}_max"]
        S = f"v{sm}"
        if not vz.batched:          # one z: plain reductions, 0-d results
            return [f"{name}_max = {Z}.max()", _scalar_not_finite_max(name),
                    f"{S} = numpy.exp({Z} - {name}_max)",
                    f"{name}_sum = {S}.sum()",
                    f"{name} = numpy.log({name}_sum) + {name}_max",
                    f"# {S} = softmax(z) = exp(z − max z) / Σ exp(z − max z), kept for the backward pass",
                    f"{S} /= {name}_sum",
                    f"del {name}_max, {name}_sum"] + self._named(sm, S)
        if vz.layout == "mat":      # per example over a matrix: reduce both of its axes
            m, ssum, back = f"numpy.fmax.reduce({Z}, axis=(1, 2))", f"{S}.sum((1, 2))", "[:, None, None]"
        else:
            m, ssum, back = f"numpy.fmax.reduce({Z}, axis=1)", f"numpy.einsum('bi->b', {S})", "[:, None]"
        lines = [f"{name}_max = {m}" + ROW_MAX_COMMENT, not_finite_max(name),
                 f"{S} = numpy.exp({Z} - {name}_max{back})",
                 f"{name}_sum = {ssum}",
                 f"{name} = numpy.log({name}_sum)",
                 f"{name} += {name}_max",
                 f"# {S} = softmax(z) = exp(z − max z) / Σ exp(z − max z), kept for the backward pass",
                 f"{S} /= {name}_sum{back}",
                 f"del {name}_max, {name}_sum"]
        return lines + self._named(sm, S)

    def _named(self, v: int, name: str) -> list:
        """Var ``v`` is now the fresh array ``name`` (made inside another statement); no code."""
        self.names[v] = name
        self.fresh.add(v)
        return []

    # -- batch sums of gradients ------------------------------------------------------------------
    def _fusable_grad_matmuls(self, grads) -> set:
        """Gradient vars that are a per-example outer product (column · row) used nowhere else:
        their batch sum is one matrix product."""
        out = set()
        for _, var, _ in grads:
            if var is None or self.uses.get(var.id) != 1:
                continue
            e = self.g.producer[var.id]
            if e.prim is R.matmul_p:
                a, b = e.inputs
                va, vb = self.value[a.id], self.value[b.id]
                if va.batched and vb.batched and a.shape[1] == 1 and b.shape[0] == 1:
                    out.add(var.id)
        return out

    def _batch_sum(self, var: Var, shape, fused: set, reads: set) -> str:
        val = self.value[var.id]
        e = self.g.producer[var.id]
        if var.id in fused:
            a, b = e.inputs
            return f"{_T(self.view(a.id, reads))} @ {_atom(self.view(b.id, reads))}"   # Σ_b δ_b y_bᵀ
        code = _atom(self.view(var.id, reads))
        if not val.batched:     # the same for every example: B times it
            dims = shape_code(tuple(str(d) for d in shape))
            return f"numpy.array(numpy.broadcast_to(B * {code}, {dims}), dtype=DTYPE)"   # writable: a step scales it in place
        return {"scalar": f"{code}.sum()", "col": f"{code}.sum(0)[:, None]",
                "row": f"{code}.sum(0)[None, :]", "mat": f"{code}.sum(0)"}[val.layout]

    # -- buffers ----------------------------------------------------------------------------------
    def _dels(self, st: Stmt, i: int, last: dict):
        """``del`` the temporaries whose last use is statement ``i`` (their buffers go back at once,
        so the peak memory is that of the live values only)."""
        names = []
        for r in sorted(st.reads):
            if last.get(r) != i or r not in self.fresh:
                continue
            n = self.names[r]
            if n in names or (st.defines is not None and self.names[st.defines] == n) \
                    or any(self.names.get(m) == n for m in getattr(st, "made", ())):
                continue        # (a var this statement makes lives in that buffer now)
            names.append(n)
        if names:
            st.code.append("del " + ", ".join(names))

    def _in_place(self, st: Stmt, body, v: int, i: int, last: dict):
        val = self.value[v]
        if is_boolean(body):
            return
        for u in sorted(st.reads):
            if u not in self.fresh or last.get(u) != i or self.value[u] != val:
                continue
            name = self.names[u]
            sym = sp.Symbol(name, real=True)
            if sym not in body.free_symbols:
                continue
            code = None
            if body.is_Add and sym in body.args:
                code = self._add_terms(name, body - sym, val)
            elif body.is_Mul and sym in body.args and len(body.args) > 1:
                code = [f"{name} *= {self.printer.doprint(body / sym)}"]
            elif isinstance(body, sp.Function) and body.args == (sym,) and type(body).__name__ in _UFUNC:
                f = type(body).__name__
                code = [(_NARROW_RELU if f == "relu" and narrow_rows(val) else _UFUNC[f]).format(name)]
            if code is not None:
                st.code[0:1] = code
                st.comment.append(f"(computed in the buffer named {name}: v{u} is not needed after this)")
                self.names[v] = name
                return


    def _add_terms(self, name: str, rest, val: Value) -> list:
        """``name += rest`` in place, one term at a time (``name += a; name += b``; ``-=`` for a
        negative term): NumPy's ``name += a + b`` makes a + b a new array first, which costs
        10-35 % of the statement over (32, 64, 128) to (32, 64, 512) float32 arrays (a residual
        ``x += c2 + h @ W2``, a layer norm's backward ``x̄ += u + r``) and is no faster over (128, 64).
        As one expression when a term reads ``name``'s array (it would see the sum so far)."""
        from .numpy_in_place import read_through_another_name
        sym = sp.Symbol(name, real=True)
        whole = sym in rest.free_symbols or read_through_another_name(rest, sym)
        lines = []
        for t in (rest.args if rest.is_Add and not whole else (rest,)):
            lines.append(f"{name} -= {self._printed(-t, val)}" if t.could_extract_minus_sign()
                         else f"{name} += {self._printed(t, val)}")
        return lines


def narrow_rows(val: Value) -> bool:
    """Whether ``val``'s array has a last axis of fewer than 32 entries, known when compiling: there
    relu prints as numpy.maximum(x, 0) itself (`NumpyPrinter`'s ``narrow_rows``), not the module's
    helper, whose row of zeros gains nothing over such short rows and whose call costs ~0.5 µs."""
    dims = val.array_shape()
    return bool(dims) and str(dims[-1]).isdigit() and int(dims[-1]) < 32


# f(a) computed into a's own buffer
_NARROW_RELU = "numpy.maximum({0}, 0, out={0})"
_UFUNC = {"exp": "numpy.exp({0}, out={0})", "tanh": "numpy.tanh({0}, out={0})",
          "log": "numpy.log({0}, out={0})", "relu": "relu({0}, out={0})"}


def _T(code: str) -> str:
    return code[:-2] if code.endswith(".T") else f"{_atom(code)}.T"


def _atom(code: str) -> str:
    """Parenthesize ``code`` unless it needs none as an operand or before ``.attr``: a name, or
    one followed by attributes, subscripts and calls (``v7.reshape((d0, 64)).T``: Python's
    primaries bind tighter than any operator), or already in parentheses. A number is
    parenthesized (``2.T`` is no Python)."""
    if code.startswith("(") and code.endswith(")") and _balanced(code[1:-1]):
        return code
    try:
        top = ast.parse(code, mode="eval").body
    except SyntaxError:
        return f"({code})"
    if isinstance(top, (ast.Name, ast.Attribute, ast.Subscript, ast.Call)):
        return code
    return f"({code})"


def _bare(code: str) -> str:
    """``code`` without parentheses around the whole of it (a function's sole argument needs none),
    unless they make a tuple."""
    if code.startswith("(") and code.endswith(")") and _balanced(code[1:-1]):
        try:
            inner = ast.parse(code[1:-1], mode="eval").body
        except SyntaxError:
            return code
        return code if isinstance(inner, ast.Tuple) else code[1:-1]
    return code


def _balanced(s: str) -> bool:
    depth = 0
    for c in s:
        depth += c == "("
        depth -= c == ")"
        if depth < 0:
            return False
    return depth == 0


def _eqn_comment(e) -> str:
    return str(e)



def __getattr__(name):
    """The kernel plan lives in `codegen.kernel_schedule` (its own module, as this one grew past a
    thousand lines): ``codegen.schedule.KernelScheduler`` and the rest still resolve, imported only
    when asked for, so neither module imports the other at load time."""
    if name in ("Kernel", "KernelScheduler", "Plan", "Stack"):
        from . import kernel_schedule
        return getattr(kernel_schedule, name)
    raise AttributeError(f"module 'codegen.schedule' has no attribute {name!r}")


def _scalar_not_finite_max(name: str) -> str:
    """`not_finite_max` for a 0-d max (one z shared by the batch): z of −inf only gives −inf, not NaN."""
    return f"if not numpy.isfinite({name}_max): {name}_max = 0     # z is -inf only: logsumexp -inf, not NaN"
