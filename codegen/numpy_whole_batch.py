"""Whole-batch programs in NumPy: a network declared over the batch (``x`` of shape (N, D) with a
symbolic N, the mean over N written in the loss) runs as declared — no batch axis is added, no
batch sum is taken: every IR variable is one array of its declared shape, the symbolic sizes bound
from the inputs at entry (``d0 = x0.shape[0]``, names made by symgrad).

The scheduler is `codegen.schedule.Scheduler` with every value unbatched, plus:

- the N-d primitives print from the table `codegen.printers.numpy_tensor.FORMS`, one row each;
  the views among them (reshape, permute, expand, slice) are printed where they are used;
- a broadcast (``expand``, or a reshape that only adds leading size-1 axes) inside an elementwise
  expression dissolves into NumPy's own broadcasting: ``z + b`` for a bias b of shape (H,) against
  z of shape (N, H), with no (N, H) copy of b;
- a gradient is the gradient variable itself (the 1/N of the mean is in the declaration), in a
  buffer of its own, because the optimizer's update is worked out in it;
- fewer (N, D) temporaries, each of which costs about as much as the arithmetic in it: Σ over an
  axis of a product u⊙w read by nothing else is one contraction, ``numpy.einsum('ij,ij->j', u, w)``
  (`WholeBatchScheduler._contraction`); a sum ``a + c⊙u`` is ``t = c⊙u; t += a``, or
  ``u *= c; u += a`` in the buffer of a temporary u that dies there (`WholeBatchScheduler._split_sum`);
  a term ``a = c'⊙w`` with w another temporary that dies there is worked out in w's buffer,
  ``w *= c'; u += w`` (`WholeBatchScheduler._add_into`); a statement of several passes over a
  large array is worked out by in-place ufuncs (`WholeBatchScheduler._chain`); an attention's
  softmax is worked out in the buffer of its scores, which die there (`WholeBatchScheduler._statement`).

A dropout mask (``sg.dropout`` of a tensor) is drawn at the start of ``grad`` and ``step``, in its
declared shape, N included (`codegen.numpy_backend.mask_units`). The function's statements then
end as the per-example writer's do (`codegen.numpy_backend.tail_lines`), arranged by
`codegen.lifetimes`: each parameter's update right after the last read of the old parameter —
through a view of it too (``p3.T``, ``p3.reshape(…)``), which the pass tracks — and each temporary
deleted after its last use.

>>> import numpy as np, sympy as sp, symgrad as sg
>>> N = sp.Symbol("N", integer=True, positive=True)
>>> x, w = sg.tensor("x", (N, 3)), sg.tensor("w", (3,))
>>> prog = sg.compile(sg.mean((x @ w) ** 2), [w], [x], dtype="float64")
>>> float(prog.loss({"w": np.ones(3)}, {"x": np.ones((5, 3))}))
9.0
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import sympy as sp

from symgrad.core import array_rules as A
from symgrad.core import rules as R
from symgrad.core.ir import Graph

from . import numpy_entry_dtypes as entry_dtypes
from .numpy_causal_mask import causal_fill, causal_rows
from .numpy_in_place import (CHAIN_MIN_ENTRIES, MIN_PASSES, REFUSED, cheapest, passes, pull_common_factors,
                             read_through_another_name, scratch_ok, unmasked)
from .numpy_gelu_phi import HELPER_LINES as PHI_HELPER
from .numpy_gelu_phi import fuse_phi
from .numpy_shared_erf import share_erf
from .numpy_workspace import HELPERS as WORKSPACE_HELPERS
from .numpy_workspace import use_workspace
from .printers.numpy_printer import NumpyPrinter, is_boolean
from .printers.numpy_tensor import (FORMS, Context, lse_keeping_softmax, short_rows, window_argmax,
                                    window_first_hit)
from .schedule import Block, Scheduler, Stmt, Value, _atom, _eqn_comment


# views that leave one number over a whole shape the same number everywhere
_UNIFORM_VIEWS = ("reshape", "permute", "expand", "broadcast", "transpose")


@dataclass(frozen=True)
class TensorValue(Value):
    """A value in its declared shape; ``code`` is that shape as code (sizes bound to d0, d1, ...)."""
    code: tuple = ()

    def array_shape(self) -> tuple:
        return self.code


class WholeBatchScheduler(Scheduler):
    """`Scheduler` for whole-batch declarations (see the module docstring). ``dims`` maps each
    symbolic size (a SymPy Symbol) to its generated name."""

    def __init__(self, graph: Graph, names: dict, notes: dict, printer: NumpyPrinter, consts, dims: dict):
        super().__init__(graph, names, set(), notes, printer, consts)
        self.dims = dims
        self.dim_syms = {s: sp.Symbol(n, integer=True) for s, n in dims.items()}

    # -- shapes as code -------------------------------------------------------------------------
    def dim_code(self, d) -> str:
        d = sp.sympify(d)
        if d.is_Integer:
            return str(int(d))
        return self.printer.doprint(d.xreplace(self.dim_syms))

    def shape_code(self, shape) -> str:
        dims = [self.dim_code(d) for d in shape]
        return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"

    def _analyse(self, roots):
        super()._analyse(roots)
        self.value = {v: TensorValue(False, val.shape, tuple(self.dim_code(d) for d in val.shape))
                      for v, val in self.value.items()}
        # an elementwise expression read through a view (a reshape of it, a slice) gets a name: the
        # view may be read several times, and would recompute it each time; one the pooling windows
        # read too: NumPy makes its array anyway, and as a statement of its own it may be computed
        # in the buffer of an operand that dies there (relu(z) in z's, `codegen.lifetimes`)
        self.inline = {v for v in self.inline if not self._is_view(self.consumer[v])
                       and self.consumer[v].prim.name != "windows"}

    def _softmaxes(self) -> dict:
        """`Scheduler._softmaxes`, and over an axis of a tensor: the lse var id → the id of the
        softmax exp(z − expand(lse(z, axis))) of the same z, both needed (`lse_keeping_softmax`)."""
        out = super()._softmaxes()
        for e in self.eqns:
            if e.prim is not R.ewise_p or len(e.inputs) != 2:
                continue
            for i, j in ((0, 1), (1, 0)):
                z, x = e.inputs[i], e.inputs[j]
                pe = self.g.producer[x.id]
                if pe.prim is A.expand_p and e.params[0] == sp.exp(R.ph(i) - R.ph(j)):
                    pl = self.g.producer[pe.inputs[0].id]
                    if pl.prim is A.lse_p and pl.inputs[0].id == z.id:
                        out.setdefault(pl.out.id, e.out.id)
        return out

    def _lse_read(self, v: int) -> bool:
        """Whether the lse var ``v`` is read by more than the expand its softmax reads (the
        cross-entropy's loss reads it; an attention's softmax alone does not)."""
        sm = self.g.producer[self.softmax_of[v]]
        x = next(u for u in sm.inputs if self.g.producer[u.id].prim is A.expand_p)
        return self.uses.get(v, 0) != 1 or self.uses.get(x.id, 0) != 1 or self.consumer.get(v) is not self.g.producer[x.id]

    def _is_view(self, e) -> bool:
        form = FORMS.get(e.prim.name)
        return super()._is_view(e) or (form is not None and form.view)

    def _dissolves(self, e) -> bool:
        """A broadcast that NumPy's broadcasting does by itself inside an elementwise expression:
        ``expand`` (size-1 axes repeated) and a reshape that only adds leading size-1 axes."""
        if e.prim is A.expand_p:
            return True
        if e.prim is A.reshape_p:
            old, new = tuple(e.inputs[0].shape), tuple(e.out.shape)
            k = len(new) - len(old)
            return k > 0 and all(d == 1 for d in new[:k]) and R.shapes_equal(new[k:], old)
        return False

    # -- values that are one number over their whole shape ---------------------------------------
    def _uniform_name(self, v: int, reads: set) -> str | None:
        """The name of the one number (`_one_number_statement`) that var ``v`` is, or is a view of
        (a reshape, permute, expand or broadcast of it: the same number everywhere), else None."""
        while True:
            v = self.alias.get(v, v)
            if v in self.uniform:
                reads.add(v)
                return self.names[v]
            if v in self.names:
                return None
            e = self.g.producer[v]
            if e.prim.name not in _UNIFORM_VIEWS:
                return None
            v = e.inputs[0].id

    def _one_number(self, v: int) -> bool:
        """Whether var ``v``, as an elementwise body reads it, is one number: a scalar, a uniform
        constant, a view of a one-number statement, or an inline elementwise expression of such."""
        if tuple(self.value[v].shape) == () or self._uniform_name(v, set()) is not None:
            return True
        if v in self.names:
            return False
        e = self.g.producer[v]
        if e.prim is R.const_p:
            return R.uniform_value(self.g, e.out) is not None
        if e.prim.name in _UNIFORM_VIEWS or (e.prim is R.ewise_p and v in self.inline):
            return all(self._one_number(u.id) for u in e.inputs)
        return False

    def _one_number_statement(self, e) -> Stmt | None:
        """An elementwise statement all of whose operands are one number — the mean's seed ``scale/N``
        broadcast over the N examples, and its negative, in a cross-entropy's backward pass — as
        that number, of the program's dtype (``v48 = DTYPE(v46)``), not an (N,) array filled with
        it (``numpy.array(numpy.broadcast_to(v46, (d0,)), dtype=DTYPE)``) only to be multiplied by:
        NumPy broadcasts it where an elementwise expression reads it (`body_of`); a reader that needs
        the array (a sum, a product, a gradient) reads a broadcast view of it (`view`). DTYPE, so
        that ``v36 *= v48`` multiplies in the program's precision, the same bits as by the array of
        DTYPE. The number is never a buffer to work in (not in ``fresh``)."""
        if e.prim is not R.ewise_p or tuple(e.out.shape) == () or not all(self._one_number(u.id) for u in e.inputs):
            return None
        v, val, reads = e.out.id, self.value[e.out.id], set()
        body = self.body_of_stmt(e, val, reads)
        if is_boolean(body) or body.atoms(sp.Function):     # (a mask, a helper written for arrays)
            return None
        name = f"v{v}"
        comment = [_eqn_comment(e)] + ([self.notes[v]] if v in self.notes else []) + \
            [f"(one number: NumPy broadcasts it to {self.shape_code(e.out.shape)} where it is read)"]
        self.names[v] = name
        self.uniform.add(v)
        return Stmt([f"{name} = DTYPE({self._printed(body, val)})"], comment, self._held(reads, body), v)

    # -- references -----------------------------------------------------------------------------
    def _context(self, name: str, e, reads: set) -> Context:
        return Context(name, [_atom(self.view(u.id, reads)) for u in e.inputs], self.shape_code, self.dim_code,
                       lambda var: self.g.producer.get(var.id), self._built)

    def view(self, v: int, reads: set) -> str:
        one = self._uniform_name(v, reads)
        if one is not None:         # (a reader that needs the array: a read-only view of it)
            return f"numpy.broadcast_to({one}, {self.shape_code(self.g.producer[v].out.shape)})"
        e = self.g.producer[v]
        if v not in self.names:
            form = FORMS.get(e.prim.name)
            if form is not None and form.view:
                return form.code(self._context("", e, reads), e)
            if e.prim is R.const_p:
                u = R.uniform_value(self.g, e.out)
                if u is not None and e.out.shape != ():
                    return f"numpy.full({self.shape_code(e.out.shape)}, {float(u)!r}, dtype=DTYPE)"
        return super().view(v, reads)

    def body_of(self, v: int, want, reads: set):
        one = self._uniform_name(v, reads)
        if one is not None:         # NumPy broadcasts the number itself (no `_leaf_of`: no array)
            return sp.Symbol(one, real=True)
        e = self.g.producer[v]
        if v not in self.names and self._dissolves(e):
            return self.body_of(e.inputs[0].id, want, reads)
        body = super().body_of(v, want, reads)
        if isinstance(body, sp.Symbol):
            self._leaf_of[body] = v         # the code name's var: its shape, for `_split_sum`
        return body.xreplace(self.dim_syms) if self.dim_syms else body

    def body_of_stmt(self, e, val, reads: set):
        body = super().body_of_stmt(e, val, reads)
        return body.xreplace(self.dim_syms) if self.dim_syms else body

    def _full(self, v: int, val) -> bool:
        if self._uniform_name(v, set()) is not None:
            return False
        e = self.g.producer[v]
        if v not in self.names and self.value[v] == val and self._dissolves(e):
            return False                # printed as its (smaller) operand
        return super()._full(v, val)

    # -- statements -----------------------------------------------------------------------------
    def _statement(self, e) -> Stmt:
        form = FORMS.get(e.prim.name)
        st = self._one_number_statement(e)
        if st is not None:
            return st
        if form is None:
            st = super()._statement(e)
            self._unread_masks(st, e.out.id)
            return st
        v = e.out.id
        name, reads = f"v{v}", set()
        out = (self._contraction(e, reads) or self._matvec_sum(e, reads)) if e.prim is A.rsum_p else None
        if e.prim is A.lse_p and v in self.softmax_of:     # (the softmax is made here too: one exp)
            sm = self.softmax_of[v]
            c = self._context(name, e, reads)
            # in the buffer of the scores when they die here (an attention's; not the cross-entropy's
            # logits, which its loss reads again): no new (N, H, T, T) array
            z = e.inputs[0].id
            dying = self._dies_here(z, sm, self._index, self._last) and c.args[0] == self.names.get(z)
            buf = self.names[z] if dying else f"v{sm}"
            out = lse_keeping_softmax(c, e, buf, self._lse_read(v))
            self._named(sm, buf)
        first = self._window_argmax_of(e) if e.prim is A.one_hot_p else None
        if first is not None:
            # the pooling backward's mask made from the windows themselves: the arg-max statement,
            # read by nothing else now, is left out as dead (`Scheduler._dead`)
            out = window_first_hit(self._context(name, first, reads), first, self._windows_die_here(first))
            self.notes.setdefault(v, f"(made from the entries that reach the max: {str(first).split(' : ')[0]} is not made)")
        if out is None:
            out = form.code(self._context(name, e, reads), e)
            (a,) = e.inputs if e.prim is A.rsum_p else (None,)
            if a is not None and a.id in self.inline and is_boolean(self.body_of(a.id, self.value[a.id], set())):
                out = counted(out)
        code = [f"{name} = {out}"] if isinstance(out, str) else list(out)
        comment = [_eqn_comment(e)] + ([self.notes[v]] if v in self.notes else [])
        st = Stmt(code, comment, reads, v)
        self.names[v] = name
        self.fresh.add(v)
        return st

    def _window_argmax_of(self, e):
        """The arg-max equation a one-hot ``e`` encodes, when it is a pooling window's
        (`window_argmax`) with the same axis and size, read by that one-hot alone — max pooling's
        backward mask ḡ·one_hot(argmax(windows)) — else None."""
        a = self.g.producer.get(e.inputs[0].id)
        if a is None or a.prim is not A.argmax_p or not window_argmax(a) or self.uses.get(a.out.id) != 1:
            return None
        (axis,) = a.params
        return a if tuple(e.params) == (a.inputs[0].shape[axis], axis) else None

    def _windows_die_here(self, a) -> bool:
        """Whether the windows that the arg-max ``a`` reads (through reshapes printed as views) are a
        temporary of the program's floats, made by the windows' form (a copy of its own: never a view
        of its input), that nothing reads after this statement: the mask may be written into them."""
        u = a.inputs[0].id
        while u not in self.names and self.g.producer[u].prim is A.reshape_p:
            u = self.g.producer[u].inputs[0].id
        last = self._last
        return last is not None and u in self.fresh and last.get(u) == self._index and self._floats(u) \
            and self.g.producer[u].prim.name == "windows" and self.names.get(u) == f"v{u}"

    def _contraction(self, e, reads: set) -> str | None:
        """Σ over axes of c·u⊙w (or c·u²), the product read by nothing else: one
        ``numpy.einsum('ij,ij->j', u, w)`` with no (N, D) product array — the variance's Σ(z − μ)²
        and the batch norm's Σ(z − μ)⊙ḡ — as the per-example writer's ``_sum`` does over rows
        (`Scheduler._product_pair`); the size-1 axes put back by a reshape (a view). None when the
        summed value is not such a product."""
        (a,) = e.inputs
        va = self.value[a.id]
        axes = tuple(e.params[0])
        last = axes == (len(a.shape) - 1,) and short_rows(a.shape)
        if a.id not in self.inline or (len(a.shape) > 2 and not last):
            return None         # (einsum's generic loops are slower than NumPy's over 3-d and up,
            #                     but for the last axis alone: 2-8 times faster than .sum there)
        pair = self._product_pair(self.g.producer[a.id], va)
        if pair is None or any(is_boolean(self.body_of(u, va, set())) for u in pair):
            return None         # a product of two 0/1 masks: einsum would multiply booleans
        c = self.g.producer[a.id].params[0].as_coeff_Mul()[0]
        coeff = "" if c == 1 else "-" if c == -1 else f"{self.printer.doprint(c)}*"
        ij = "ijklmnop"[:len(a.shape)]
        kept = "".join(x for k, x in enumerate(ij) if k not in axes)
        u, w = (self.view(x, reads) for x in pair)
        return f"{coeff}numpy.einsum('{ij},{ij}->{kept}', {u}, {w}).reshape({self.shape_code(e.out.shape)})"

    def _matvec_sum(self, e, reads: set) -> str | None:
        """Σ of a product P⊙r or P⊙p read by nothing else, P a product of arrays of the full shape
        (…, D), as one matrix-vector product of P's rows (BLAS) instead of NumPy's temporary of the
        whole product and its sums — a layer norm's backward, twice:

        - over every axis but the last, r of shape (…, 1) (1/σ of each row): the γ gradient
          Σ_rows r·u⊙ḡ, ``(r.reshape((1, -1)) @ (u*ḡ).reshape((-1, D))).reshape((1, 1, D))``;
        - over the last axis, p of shape (D,) (γ itself): the row sums Σ_k γ·u⊙ḡ,
          ``((u*ḡ) @ p)[..., None]``.

        The same values to rounding (BLAS adds in its own order). None for any other sum."""
        (a,) = e.inputs
        shape, axes, rank = tuple(a.shape), tuple(e.params[0]), len(a.shape)
        if a.id not in self.inline or rank < 2 or self.g.producer[a.id].prim is not R.ewise_p:
            return None
        va = self.value[a.id]
        mine: set = set()
        body = self.body_of(a.id, va, mine)
        if not body.is_Mul or is_boolean(body):
            return None
        c, factors = body.as_coeff_mul()
        full, small = [], []
        for f in factors:
            var = self._leaf_of.get(f) if f.is_Symbol else None
            if var is None or not self._floats(var):
                return None
            s = tuple(self.value[var].shape)
            (full if R.shapes_equal(s, shape) else small).append((f, s))
        if not full or len(small) != 1:
            return None
        (f, s), = small
        d = self.dim_code(shape[-1])
        product = self._printed(sp.Mul(c, *(g for g, _ in full)), va)
        if sorted(axes) == list(range(rank - 1)) and R.shapes_equal(s, shape[:-1] + (1,)):
            code = f"({_atom(str(f))}.reshape((1, -1)) @ ({product}).reshape((-1, {d})))" \
                f".reshape({self.shape_code(e.out.shape)})"
        elif axes == (rank - 1,) and R.shapes_equal(s[-1:], shape[-1:]) and all(k == 1 for k in s[:-1]):
            vec = str(f) if len(s) == 1 else f"{_atom(str(f))}.reshape(-1)"
            code = f"(({product}) @ {vec})[..., None]"
        else:
            return None
        reads |= mine
        return code

    def _batch_sum(self, var, shape, fused, reads) -> str:
        """The gradient as declared (no batch sum), in a writable buffer of its own: a fresh
        temporary that nothing else holds is used as it is, anything else (a view, a parameter, a
        gradient another parameter shares) is copied."""
        code = self.view(var.id, reads)
        if var.id in self.fresh and self.names.get(var.id) == code and code not in self._grad_buffers:
            self._grad_buffers.add(code)
            return code
        e = self.g.producer[var.id]
        if e.prim is A.reshape_p and var.id not in self.names:      # a fresh temporary in the shape declared
            u = e.inputs[0].id                                      # (v7 = x.sum(0).sum(1): g3 = v7.reshape((D,)))
            base = self.names.get(u)
            if u in self.fresh and base and re.fullmatch(r"v\d+", base) and code.startswith(f"{base}.reshape(") \
                    and base not in self._grad_buffers and tuple(var.shape) == tuple(shape):
                self._grad_buffers.add(base)
                return code
        if tuple(var.shape) == tuple(shape):        # a copy; nothing to broadcast
            if re.search(r"\.T\b|\.transpose\(", code):
                # laid out as the parameter is (row-major), not as the view (numpy.array keeps the
                # memory order of what it copies: a weight gradient (x.T @ δ).T came out
                # column-major, and every pass of the update over it and the row-major parameter and
                # slots ran NumPy's strided loops: Adam's nine passes over a (256, 128) weight took
                # 0.27 ms instead of 0.04 (docs/benchmarks.md, thirteenth session, np)
                return f"numpy.array({code}, dtype=DTYPE, order='C')"
            return f"numpy.array({code}, dtype=DTYPE)"
        return f"numpy.array(numpy.broadcast_to({code}, {self.shape_code(shape)}), dtype=DTYPE)"

    def _in_place(self, st: Stmt, body, v: int, i: int, last: dict):
        if self._masked_fill(st, body, v, i, last) or self._chain(st, body, v, i, last):
            return
        super()._in_place(st, body, v, i, last)
        if st.code[0].startswith(f"v{v} = ") and self.names[v] == f"v{v}" \
                and not self._in_reshaped(st, body, v, i, last):
            self._split_sum(st, body, v, i, last)

    def _in_reshaped(self, st: Stmt, body, v: int, i: int, last: dict) -> bool:
        """``z = u.reshape(s) ∘ a`` (∘ + or ·) with u a temporary that dies here, of another shape
        than z — a transformer's bias add ``z = (x @ W).reshape((N, T, 4D)) + b``, the product made
        over (N·T, D) rows — as ``z = u.reshape(s); z += a``: the result in u's buffer, seen in z's
        shape, instead of a new (N, T, 4D) array (in ``step``, one pass over the buffer the product
        just wrote instead of a write into another: 0.47 → 0.28 ms, docs/benchmarks.md). z is then
        a view of u's memory: `codegen.lifetimes.alias_groups` follows ``.reshape``, so the workspace
        gives u's buffer to another statement only once z is deleted too (`codegen.numpy_workspace`).
        Were u not contiguous, the reshape would copy, and z would be that copy: the same values."""
        val = self.value[v]
        if not (body.is_Add or body.is_Mul) or is_boolean(body) or all(sp.sympify(d).is_Integer for d in val.shape):
            return False    # (only arrays with a batch size: a (D,) vector's new array costs nothing)
        for sym in sorted(body.args, key=str):
            r = self._leaf_of.get(sym) if sym.is_Symbol else None
            pe = self.g.producer.get(r) if r is not None else None
            if pe is None or pe.prim is not A.reshape_p or r in self.names or self.value[r] != val:
                continue
            u = pe.inputs[0].id
            name = self.names.get(u)
            if name is None or u not in self.fresh or last.get(u) != i or not self._floats(u) \
                    or not re.fullmatch(rf"{name}\.reshape\(\([\w*, ]*\)\)", str(sym)):
                continue
            rest = body - sym if body.is_Add else body / sym
            if sym in rest.free_symbols or read_through_another_name(rest, sp.Symbol(name)):
                continue        # (the rest reads u's array too: it would see the result so far)
            z = f"v{v}"
            if body.is_Add:
                more = self._add_terms(z, rest, val)
            else:
                more = [f"{z} *= {self._printed(rest, val)}"]
            st.code[0:1] = [f"{z} = {sym}"] + more
            st.comment.append(f"(computed in the buffer named {name}, seen as {z}'s shape: v{u} is not "
                              f"needed after this)")
            return True
        return False

    def _masked_fill(self, st: Stmt, body, v: int, i: int, last: dict) -> bool:
        """``where(c, a, k)`` or ``where(c, k, a)`` with k a number, c over arrays smaller than the
        result (an attention's causal mask of (T, T), a padding mask of (N, 1, 1, T)) and a an array
        of the result's shape — torch's ``masked_fill``, nested too — as a then
        ``numpy.copyto(·, k, where=…)`` for each mask, innermost first: the same values (an entry
        is a's or k), but numpy.where over the (N, H, T, T) scores took 2.5-4 times as long as the
        masked copy. a is worked out in the buffer of a temporary that dies here when a is that
        temporary or a product of it."""
        found = self._fills(body, v)
        if found is None:
            return False
        fills, a = found
        p = self.printer.doprint
        n, code = f"v{v}", None
        for u in sorted(st.reads):
            sym = sp.Symbol(self.names[u], real=True)
            if self._dies_here(u, v, i, last) \
                    and (a == sym or a.is_Mul and sym in a.args and not read_through_another_name(a, sym)):
                n = self.names[u]
                code = [] if a == sym else [f"{n} *= {p(a / sym)}"]
                st.comment.append(f"(computed in the buffer named {n}: v{u} is not needed after this)")
                break
        if code is None:        # (a bare name of another array, or a view of one: copied)
            code = [f"{n} = numpy.array({p(a)}, dtype=DTYPE)" if a.is_Symbol else f"{n} = {p(a)}"]
        st.code[0:1] = code + [self._fill(n, p(k), c, cond, false, v) for k, c, cond, false in reversed(fills)]
        self.names[v] = n
        return True

    def _fills(self, body, v: int):
        """(the masks of `_masked_fill` [(k, the mask's code, the mask, whether k goes where it is
        false)], outermost first, and the array a they fill), or None where it does not apply."""
        val = self.value[v]
        if body is None or all(sp.sympify(d).is_Integer for d in val.shape):
            return None         # (only arrays with a batch size)
        p = self.printer.doprint
        small = lambda c: all(self._leaf_of.get(s) is not None and self.value[self._leaf_of[s]] != val  # noqa: E731
                              for s in c.free_symbols)
        fills = []
        a = body
        while isinstance(a, sp.Piecewise) and len(a.args) == 2 and a.args[1].cond == sp.true:
            (x, c), (y, _) = a.args
            if y.is_number and not x.is_number and small(c):
                fills.append((y, f"numpy.logical_not({p(c)})", c, True))
                a = x
            elif x.is_number and not y.is_number and small(c):
                fills.append((x, p(c), c, False))
                a = y
            else:
                break
        if not fills or not any(self.value.get(self._leaf_of.get(s)) == val and self._floats(self._leaf_of[s])
                                for s in a.free_symbols):
            return None
        return fills, a

    def _causal(self, cond, where_false: bool, v: int) -> int | None:
        """T when the mask ``cond`` is a causal (T, T) lower triangle (`codegen.numpy_causal_mask`)."""
        syms = getattr(cond, "free_symbols", ())
        m = self._leaf_of.get(next(iter(syms))) if len(syms) == 1 else None
        return causal_rows(self.g, m, cond, where_false, self.value[v].shape) if m is not None else None

    def _unread_masks(self, st: Stmt, v: int) -> None:
        """A causal mask that `_masked_fill` writes as rows (`_causal`) is not read by the statement:
        out of its reads, so that nothing keeps the (T, T) triangle alive for it (``loss`` made it
        and deleted it unread)."""
        found = self._fills(getattr(st, "body", None), v)
        for _, _, cond, false in found[0] if found else ():
            if self._causal(cond, false, v) is not None:
                st.reads.discard(self._leaf_of[next(iter(cond.free_symbols))])

    def _fill(self, name: str, k: str, where: str, cond, where_false: bool, v: int) -> str:
        """The masked copy of k into ``name``, or a causal mask's rows (`codegen.numpy_causal_mask`)."""
        T = self._causal(cond, where_false, v)
        if T is not None:
            return causal_fill(name, T, k)
        return f"numpy.copyto({name}, {k}, where={where})"

    def _chain(self, st: Stmt, body, v: int, i: int, last: dict) -> bool:
        """A statement of several passes over arrays of its full shape worked out in one buffer by
        in-place ufuncs (`codegen.numpy_in_place`): the buffer of an operand that dies here and that
        the expression reads only where it is worked out first, or a new array, whichever leaves the
        fewest of NumPy's temporaries (`cheapest`); a factor common to the terms of a sum taken out
        first (`pull_common_factors`)."""
        val = self.value[v]
        if len(st.code) != 1 or not st.code[0].startswith(f"v{v} = ") or is_boolean(body) \
                or all(sp.sympify(d).is_Integer for d in val.shape) \
                or math.prod(int(d) for d in val.shape if sp.sympify(d).is_Integer) < CHAIN_MIN_ENTRIES:
            return False    # (only arrays with a batch size, of many entries per example: see CHAIN_MIN_ENTRIES)
        arrays = {s for s in body.free_symbols if s in self._leaf_of
                  and tuple(self.g.producer[self._leaf_of[s]].out.shape) != ()}
        if passes(body, arrays) < MIN_PASSES or unmasked(body).atoms(*REFUSED):
            return False    # (a mask or relation: neither an operand's buffer nor `fresh_chain` takes it)
        body = pull_common_factors(body, arrays)        # S⊙ḡ + S⊙r → S⊙(ḡ + r): then in ḡ's buffer
        bufs = {}
        for u in sorted(st.reads):
            sym = sp.Symbol(self.names[u], real=True)
            if self._dies_here(u, v, i, last) and sym in body.free_symbols and scratch_ok(body, sym) \
                    and not read_through_another_name(body, sym):
                bufs.setdefault(sym, u)
        fresh = (f"v{v}", self.shape_code(self.g.producer[v].out.shape))
        full = {s for s in arrays if self.value[self._leaf_of[s]] == val}
        best = cheapest(body, list(bufs), arrays, self.printer, fresh, full)
        if best is None:
            return False
        sym, st.code[0:1] = best
        if sym is not None:
            st.comment.append(f"(computed in the buffer named {sym}: v{bufs[sym]} is not needed after this)")
            self.names[v] = str(sym)
        return True

    def _split_sum(self, st: Stmt, body, v: int, i: int = -1, last: dict | None = None):
        """``a + c⊙u`` (u of the full shape, a broadcast or another full term) as ``t = c⊙u;
        t += a``: NumPy would make a temporary for c⊙u and another for the sum; here the first
        term's array is the result, each further term added into it in place. The first term is a
        product or a function of a full array (never a bare name: that would alias it). When u is a
        temporary that dies here (and the other terms do not read it), u's own buffer is the
        result: ``u *= c; u += a``, no new array at all."""
        val = self.value[v]
        if not body.is_Add or is_boolean(body) or all(sp.sympify(d).is_Integer for d in val.shape):
            return          # (only arrays with a batch size: for a (D,) vector it changes nothing)
        masks = (sp.Heaviside, sp.KroneckerDelta)

        def full(t):        # of the full shape, and not of masks alone (a 0/1 count: integers)
            t = t.replace(lambda x: isinstance(x, masks), lambda x: sp.S.One)
            return any(self.value.get(u) == val and self._floats(u) for u in map(self._leaf_of.get, t.free_symbols))
        first = next((t for t in body.args if not t.is_Symbol and full(t)), None)
        rest = body - first if first is not None else None
        if first is None or rest.is_number:
            return          # t + c: NumPy adds the number into the temporary t by itself
        name = f"v{v}"
        p = self.printer.doprint

        def dying(u):
            return self._dies_here(u, v, i, last)
        for u in sorted(st.reads):
            if first.is_Mul and dying(u):
                sym = sp.Symbol(self.names[u], real=True)
                if sym in first.args and sym not in rest.free_symbols:
                    n = self.names[u]
                    st.code[0:1] = [f"{n} *= {p(first / sym)}"] + self._add_into(n, rest, st, dying, {n})
                    st.comment.append(f"(computed in the buffer named {n}: v{u} is not needed after this)")
                    self.names[v] = n
                    return
        st.code[0:1] = [f"{name} = {p(first)}"] + self._add_into(name, rest, st, dying, {name})

    def _add_into(self, n: str, rest, st: Stmt, dying, taken: set) -> list:
        """``n += rest`` (``-=``), and when ``rest`` is a product c⊙w with w a temporary of the full
        shape that dies here (`_split_sum`'s ``dying``), ``w *= c; n += w``: the product in w's
        buffer, not in a new array (the batch norm's backward, z̄ = (z − μ)·s + γ'·ḡ with ḡ's
        last read). ``taken``: names not to use as w (the result's own buffer)."""
        p = self.printer.doprint
        neg = rest.could_extract_minus_sign()
        r, op = (-rest, "-=") if neg else (rest, "+=")
        if r.is_Mul:
            for u in sorted(st.reads):
                if not dying(u) or self.names[u] in taken:
                    continue
                w = sp.Symbol(self.names[u], real=True)
                if w in r.args and not read_through_another_name(r, w):
                    return [f"{w} *= {p(r / w)}", f"{n} {op} {w}"]
        return [f"{n} {op} {p(r)}"]

    def _dies_here(self, u: int, v: int, i: int, last: dict | None) -> bool:
        """Whether var ``u`` is a temporary of var ``v``'s full shape, of floats, that nothing reads
        after statement ``i`` (its buffer free for ``v``'s result)."""
        return last is not None and u in self.fresh and last.get(u) == i and self.value[u] == self.value[v] \
            and self._floats(u)

    def _floats(self, u) -> bool:
        """Whether var ``u``'s array holds the program's floats (an arg-max holds integers)."""
        return self.g.producer[u].prim.name != "argmax"

    def _emit(self, keep, grads, fused, last) -> list:
        self._last = last                   # (each statement's last readers, for `_statement`)
        self._grad_buffers = set()          # each pass of `schedule` hands the buffers out afresh
        self._built: dict = {}              # and the buffers the forms leave for later statements
        self._leaf_of: dict = {}
        self.uniform: set = set()           # the vars printed as one number (`_one_number_statement`)
        return super()._emit(keep, grads, fused, last)


# -------------------------------------------------------------------------------------------------
# The functions of the module


def _shape(sym) -> tuple:
    """A parameter's or input's declared shape: () for a scalar Symbol (a whole-batch declaration may
    mix scalars with its tensors)."""
    return tuple(getattr(sym, "shape", ()))


def dims_of(spec) -> dict:
    """Symbolic size → generated name (d0, d1, ...), in order of first appearance in the inputs."""
    dims: dict = {}
    for x in spec.inputs:
        for d in _shape(x):
            d = sp.sympify(d)
            for s in sorted(d.free_symbols, key=lambda s: s.name):
                dims.setdefault(s, f"d{len(dims)}")
    return dims


def function(kind: str, lw, spec, printer: NumpyPrinter, consts, scheduled: dict) -> list:
    """One function (loss, grad, step or forward) of a whole-batch module, as lines."""
    from symgrad.errors import UnsupportedError

    from .numpy_backend import (_INDENT, SIGNATURES, T_CHECK, TRAINING, argument_names, input_gradient_names,
                                mask_units, tail_lines, unpack_arguments)
    train = kind in TRAINING
    key = "train" if train else kind
    lw = share_erf(lw)              # GELU's erf once for its forward and backward
    dims = dims_of(spec)
    if key not in scheduled:
        names = argument_names(lw)
        if lw.scale is not None:
            names[lw.scale] = "scale"
        for vid in _dim_leaves(lw, dims):
            names[vid] = dims[lw.graph.producer[vid].params[0]]
        for k, (vid, _, _) in enumerate(lw.masks):
            names[vid] = f"m{k}"
        sch = WholeBatchScheduler(lw.graph, names, lw.notes, printer, consts, dims)
        keep = {o: f"o{i}" for i, o in enumerate(lw.outputs)} if kind == "forward" else {lw.loss: "L"}
        for v, name in input_gradient_names(kind, lw).items():
            keep.setdefault(v, name)
        grads = [(f"g{i}", g, _shape(p)) for i, (g, p) in enumerate(zip(lw.grads, spec.params))] \
            if train else []
        scheduled[key] = (sch, keep, sch.schedule(keep, grads))
    sch, keep, block = scheduled[key]
    used = sch.value

    params = [f"p{i}" for i in range(len(spec.params))]
    # the symbolic sizes the code reads: bound from the inputs it reads, and else from one it does
    # not (a straight-through x + sg(W − x) reads no x once the stop-gradient is gone, yet N sizes it)
    needed = set()
    for val in used.values():
        for d in val.shape:
            needed |= sp.sympify(d).free_symbols
    for e in sch.eqns:
        if e.prim is R.ewise_p:
            needed |= {s for s in e.params[0].free_symbols if s in dims}
    # the symbolic sizes, bound from the first input that has each: the read inputs first, then an
    # input not read only when it has a size needed and not bound yet (it is then an argument too)
    bound: dict = {}
    size_lines, sizing = [], set()
    for i, x in sorted(enumerate(spec.inputs), key=lambda ix: lw.inputs[ix[0]] not in used):
        shape = [sp.sympify(d) for d in _shape(x)]
        if lw.inputs[i] not in used:
            if not any(d in needed and d in dims and d not in bound for d in shape):
                continue
            sizing.add(i)
        for k, d in enumerate(shape):
            if d.is_Symbol and d not in bound:
                bound[d] = dims[d]
                size_lines.append(f"{dims[d]} = x{i}.shape[{k}]")
    xs = [f"x{i}" if vid in used or i in sizing else "_" for i, vid in enumerate(lw.inputs)]
    sig = SIGNATURES[kind]
    each = per_example(spec)
    over = f"the {spec.reduction} over the B examples of the per-example loss" if each else \
        "as declared (its mean over N is in the declaration)"
    doc = {"loss": f"The loss of the batch, {over}.",
           "grad": "(loss, [∂loss/∂p0, ...]) for the batch; each gradient is shaped like its parameter.",
           "grad_inputs": "(loss, [∂loss/∂p0, ...], [∂loss/∂x0, ...]) for the batch; None: an input without one.",
           "step": "One training step, in place (parameters and optimizer slots); returns the loss before it.",
           "forward": "The requested outputs for the batch, " + ("each with the batch axis first." if each
                                                                  else "as declared.")}[kind]
    L = [f"def {kind}({sig}):", f'    """{doc}"""']
    body = unpack_arguments(spec, kind, params, xs)
    if kind == "step":
        body[:0] = T_CHECK

    body.append("# sizes, from the inputs")
    body += size_lines
    missing = sorted((s.name for s in needed if s in dims and s not in bound))
    if missing:
        raise UnsupportedError(f"the size(s) {', '.join(missing)} are not the size of an axis of any input "
                               f"the {kind} reads; a whole-batch program binds its sizes from its inputs")
    body.append("# shapes at entry")
    for i, p in enumerate(spec.params):
        if train or lw.params[i] in used:
            s = tuple(int(d) for d in _shape(p))
            body.append(f"assert p{i}.shape == {s!r}, 'parameter p{i} must have shape {s!r}'")
    for i, x in enumerate(spec.inputs):
        if lw.inputs[i] in used:
            want = sch.shape_code(_shape(x))
            body.append(f"assert x{i}.shape == {want}, 'input x{i} must have shape {want}'")
    from symgrad.compiling.batch_kind import ignored_label_values, label_bounds
    ignored = ignored_label_values(spec)        # torch's ignore_index of a loss: one more value allowed
    for i, n in label_bounds(spec).items():
        if lw.inputs[i] not in used:
            continue
        n = sch.dim_code(n)
        ok = f"(x{i} >= 0) & (x{i} < {n}) & (x{i} == numpy.floor(x{i}))"
        also = ""
        if i in ignored:
            ok, also = f"({ok}) | (x{i} == {ignored[i]})", f" or {ignored[i]} (the ignore_index)"
        body.append(f"assert ({ok}).all(), 'input x{i} holds labels or indices: integers 0 ... {n} - 1{also}'")
    if kind == "step":
        body += entry_dtypes.call_lines(spec)
    from .numpy_backend import _num, folded_lr
    lr = folded_lr(spec.optimizer) if kind == "step" else None
    if lr is not None:
        body.append(f"scale = {_num(lr) if lr.is_Number else printer.doprint(lr)}  # the seed of reverse mode: "
                    f"the step's gradients come out times the learning rate, ready for the update")
    elif kind != "forward" and lw.scale in used:        # (the loss alone has no reverse mode, no seed)
        body.append("scale = 1.0  # the seed of reverse mode: " + (f"the {spec.reduction} over B is in the batched graph"
                    if each else "the loss is as declared (its mean over N included)"))
    body.append("")
    # the statements, then the loss, the gradients or the updates: arranged as the per-example
    # writer's (codegen.lifetimes: each update as soon as nothing reads the old parameter or a view
    # of it, each temporary deleted after its last use, a dropout mask too)
    if kind == "step":
        block = kept_buffers(block, sch._built.get("kept", ()))
    body += tail_lines(kind, block, lw, spec, printer, keep, "loss = float(L)",
                       first=mask_units(lw, used, sch.shape_code))
    if kind == "step":      # the step's large arrays kept between calls (codegen.numpy_workspace)
        shapes = {f"v{st.defines}": sch.shape_code(sch.g.producer[st.defines].out.shape) for st in block.stmts
                  if st.defines is not None and sch.names.get(st.defines) == f"v{st.defines}"
                  and st.defines not in sch.uniform}     # (one number is no array of that shape)
        body = use_workspace(body, shapes, set(dims.values()), sch._built.get("copies"))
        if any("(ws, " in b for b in body):
            printer.use_helper("workspace", WORKSPACE_HELPERS)
    body, phi = fuse_phi(body)      # GELU's Φ in one helper call (codegen.numpy_gelu_phi)
    if phi:
        printer.use_helper("gelu_phi", PHI_HELPER)
    return L + [_INDENT + b if b else "" for b in body]


def counted(out: str) -> str:
    """The sum ``out`` (code: ``a.sum(…)``, or einsum's ``numpy.einsum(…)[..., None]`` over the last
    axes) of a 0/1 mask alone, a count, in the program's floats: not NumPy's integers, nor einsum's
    logical or of booleans.

    >>> counted("numpy.einsum('ijkl->ij', v3_ge0)[..., None, None]")
    "numpy.einsum('ijkl->ij', v3_ge0, dtype=DTYPE)[..., None, None]"
    >>> counted("(v3_ge0).sum((0,), keepdims=True)")
    '(v3_ge0).sum((0,), keepdims=True, dtype=DTYPE)'
    """
    lone = re.fullmatch(r"(numpy\.einsum\(.*)\)(\[\.\.\.(?:, None)+\])", out)
    return f"{lone.group(1)}, dtype=DTYPE){lone.group(2)}" if lone else out[:-1] + ", dtype=DTYPE)"


def kept_buffers(block: Block, names) -> Block:
    """``block`` with each of ``names`` (``v = numpy.zeros(shape, dtype=DTYPE)``, or ``numpy.empty``:
    a buffer the forms of `codegen.printers.numpy_conv` mark as never leaving the function) taken
    from the step's workspace instead (``kept(ws, …)``, `codegen.numpy_workspace`), kept between
    steps: a large array made afresh each step costs page faults as much as the copies into it. The
    block itself is left as it is (grad shares it); `function` adds the workspace's helpers."""
    if not names:
        return block
    made = re.compile(r"(\w+) = numpy\.(?:zeros|empty)\((.*), dtype=DTYPE\)")
    stmts = []
    for st in block.stmts:
        code = []
        for line in st.code:
            m = made.fullmatch(line)
            code.append(f"{m.group(1)} = kept(ws, '{m.group(1)}', {m.group(2)})" if m and m.group(1) in names else line)
        stmts.append(Stmt(code, list(st.comment), set(st.reads), st.defines))
    return Block(stmts, block.roots)


def per_example(spec) -> bool:
    """A per-example declaration of tensors, batched (`symgrad.compiling.batching`): its inputs have
    a leading batch axis B that symgrad added, and the mean (or sum) over B is symgrad's."""
    return getattr(spec, "declared_inputs", None) is not None


def _dim_leaves(lw, dims) -> list:
    """Leaves of the graph that are a symbolic size itself (``Σ … / N`` written by hand)."""
    return [e.out.id for e in lw.graph.eqns
            if e.prim is R.input_p and isinstance(e.params[0], sp.Symbol) and e.params[0] in dims]


def legend(spec) -> list:
    """The module's comment lines naming the parameters and inputs (whole-batch shapes)."""
    from symgrad.compiling.compiler import safe_text
    dims = dims_of(spec)
    code = lambda s: "(" + ", ".join(dims.get(sp.sympify(d), str(d)) for d in s) + ("," if len(s) == 1 else "") + ")"  # noqa: E731
    if per_example(spec):
        # batched by symgrad.compiling.batching: its one size is the batch size B, a name of
        # symgrad's (never the user's), which the comments below print as B
        b = ", ".join(dims.values()) or "B"
        how = "mean" if spec.reduction == "mean" else "sum"
        lines = ["# Declared per example (tensors of fixed shapes), batched: every input has a leading batch",
                 f"# axis of size B, the number of examples ({b} in the code, from the inputs; B in the shapes",
                 f"# of the comments), and the loss is the {how} over B of the per-example loss."]
    else:
        lines = ["# Declared over the batch: arrays have their declared shapes; sizes " +
                 ", ".join(f"{n} ({safe_text(repr(s.name))})" for s, n in dims.items()) + " come from the inputs."]
    lines.append("# Parameters:")
    for i, p in enumerate(spec.params):
        lines.append(f"#   p{i}  {safe_text(repr(p.name))}  {code(_shape(p))}")
    lines.append("# Inputs:")
    declared = spec.declared_inputs if per_example(spec) else [None] * len(spec.inputs)
    for i, (x, one) in enumerate(zip(spec.inputs, declared)):
        each = f"  (one example: {code(_shape(one))})" if one is not None else ""
        lines.append(f"#   x{i}  {safe_text(repr(x.name))}  {code(_shape(x))}{each}")
    from symgrad.compiling.optim import describe
    lines.append(f"# Optimizer: {safe_text(describe(spec.optimizer))}")
    return lines
