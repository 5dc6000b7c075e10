"""Selections of a transposed product, as products with slices of the parameter: a rewrite of the
gradients of the Triton backend's graph, applied before its kernels are scheduled.

A second convolution reads its window at p from the map's rows, patch_p = Σ_k E_k·row_k with
constant 0/1 matrices E_k (`symgrad.compiling.kernel_conv._grid_patch`), and multiplies it by the
weight: W·patch_p. Reverse mode gives the map's rows their gradient in two products,

    ∂L/∂row_k ∋ E_kᵀ·(Wᵀ·δ_p)          Wᵀ·δ_p: the window's gradient, C·KH·KW entries (36 for 4
                                        channels of a 3×3 window, a tile of 64), then E_kᵀ picks
                                        the C entries of offset k out of it

— a product whose operand is the wide window's gradient: on a GPU without tensor cores each thread
holds a K-long row of it (docs/triton.md, "Its register pressure"). Since E_k only picks columns
of W, the same numbers come from one product with the slice it picks,

    E_kᵀ·(Wᵀ·δ_p) = (W·E_k)ᵀ·δ_p = W[:, k::KH·KW]ᵀ·δ_p      (w[:, :, i, j]ᵀ·δ_p, K = F)

a view of the parameter (no copy, as a dense layer's ``V[p::P]``) that the kernels read with its
strides. The window's gradient is never made. The same holds for any constant S whose columns
each pick one row (a selection: a slice or a concatenation of an example's vector, `kernel_form`)
applied to Mᵀ·δ with M a parameter: Sᵀ·(Mᵀ·δ) → (M·S)ᵀ·δ when M·S is a strided view of M (the
picked rows evenly spaced, more than one apart); a concatenation's block (contiguous columns of M)
is left as it was, since the kernels would read it from a copy the host makes on every call.

Exact up to the order of a sum: each entry is Σ_f M[f, r]·δ_f either way (the 0/1 selection adds
zeros). Rewritten only when every reader of Mᵀ·δ is such a selection, so no product is added.

Off by default (`triton_settings.SELECTION_SLICES`, SYMGRAD_TRITON_SELECTION_SLICES=1 turns it on):
it does fewer multiply-adds (n·F·C for a window's n offsets inside the map, instead of F·C·KH·KW +
n·C·KH·KW·C; in the kernels each product is a tile of at least 16×16 either way), but compiled for
sm_90 the upsampling CNN's rows kernel spilled more with it, 752 → 960 bytes a thread, and its
small twin 176 → 408 (docs/triton.md, "Its register pressure"). Whether it is faster on a GPU
anyway is for a device run to say.

>>> import sympy as sp
>>> from symgrad.core import rules as R
>>> from symgrad.core.ir import Graph
>>> g = Graph()
>>> W = g.bind(R.param_p, (), (sp.Symbol("W"), (2, 6)))
>>> d = g.bind(R.input_p, (), (sp.Symbol("d"), (2, 1)))
>>> S = R.const(g, sp.ImmutableMatrix(6, 2, lambda r, c: 1 if r == 3 * c + 1 else 0), (6, 2))
>>> out = R.matmul(g, R.transpose(g, S), R.matmul(g, R.transpose(g, W), d))
>>> [new] = selections_as_slices(g, [out])
>>> print(g.producer[g.producer[g.producer[new.id].inputs[0].id].inputs[0].id])
v7 = slice[[0:2:1, 1:6:3]](v0) : (2, 2)
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from symgrad.core import array_rules as A
from symgrad.core import rules as R
from symgrad.core.ir import Graph, Var


def selections_as_slices(g: Graph, outs: Sequence[Var | None], notes: dict | None = None) -> list:
    """``outs`` (None entries kept) with every Sᵀ·(Mᵀ·δ) among their ancestors rewritten to
    (M·S)ᵀ·δ (see the module's docstring), bound in the same hash-consed graph (what is unchanged
    is shared). ``notes`` (var id → comment), when given, gets the rewritten values' notes."""
    live = [o for o in outs if o is not None]
    p = _Pass(g, live, notes)
    for e in p.eqns:
        if e.prim.leaf:
            continue
        ins = [p.new.get(u.id, u) for u in e.inputs]
        r = p.as_slice_product(e, ins)
        if r is None and any(a is not b for a, b in zip(ins, e.inputs)):
            r = g.bind(e.prim, ins, e.params)
        if r is not None and r is not e.out:
            p.new[e.out.id] = r
            if notes is not None and e.out.id in notes:
                notes.setdefault(r.id, notes[e.out.id])
    return [None if o is None else p.new.get(o.id, o) for o in outs]


class _Pass:
    def __init__(self, g: Graph, live: list, notes: dict | None):
        self.g, self.notes = g, notes
        self.eqns = g.ancestors(live)
        self.readers: dict[int, list] = {}
        for e in self.eqns:
            for u in e.inputs:
                self.readers.setdefault(u.id, []).append(e)
        self.outputs = {o.id for o in live}
        self.new: dict[int, Var] = {}
        self._spacing: dict[int, tuple | None] = {}
        self._slices: dict[tuple, Var] = {}

    def as_slice_product(self, e, ins) -> Var | None:
        """(M·S)ᵀ·δ for the equation ``e`` = Sᵀ·B (inputs ``ins``, already rewritten) when S is a
        constant selection of evenly spaced rows (`spacing`), B = Mᵀ·δ with M a parameter matrix, and
        B is read by nothing but such selections; None otherwise."""
        g = self.g
        if e.prim is not R.matmul_p:
            return None
        st, b = ins
        picks = self.spacing(st)
        be = g.producer[b.id]
        if picks is None or be.prim is not R.matmul_p or g.producer[be.inputs[0].id].prim is not R.transpose_p:
            return None
        m, d = g.producer[be.inputs[0].id].inputs[0], be.inputs[1]
        if g.producer[m.id].prim is not R.param_p or len(m.shape) != 2:
            return None
        old_b = e.inputs[1]                 # its readers in the graph before the rewrite
        if old_b.id in self.outputs or not all(r.prim is R.matmul_p and r.inputs[1].id == old_b.id
                                               and self.spacing(r.inputs[0]) is not None
                                               for r in self.readers.get(old_b.id, [])):
            return None
        out = R.matmul(g, R.transpose(g, self.columns(m, picks, g.producer[st.id].inputs[0])), d)
        return out if tuple(out.shape) == tuple(e.out.shape) else None

    def spacing(self, st: Var) -> tuple | None:
        """(first, step, count) of the rows S picks, for ``st`` = Sᵀ with S a constant whose every
        column holds one 1 (and zeros), picking count ≥ 2 rows evenly spaced step > 1 apart (a second
        convolution's offset: KH·KW apart); None for anything else (a concatenation's block, whose
        columns of M would be a copy the host makes on every call)."""
        if st.id not in self._spacing:
            self._spacing[st.id] = _spacing(self.g, st)
        return self._spacing[st.id]

    def columns(self, m: Var, picks: tuple, s: Var) -> Var:
        """M·S: the slice M[:, k::c] of the parameter, a view the host passes as it is and the kernels
        read with its strides (`triton_launch._strided_view`)."""
        key = (m.id, picks)
        if key not in self._slices:
            (first, step, count), n = picks, int(m.shape[1])
            stop = n if -(-(n - first) // step) == count else first + step * (count - 1) + 1   # k::c if all
            v = A.slice_(self.g, m, ((0, int(m.shape[0]), 1), (first, stop, step)))
            self._slices[key] = v
            if self.notes is not None:
                what = self.notes.get(s.id, "")
                what = what[2:].split(":")[0] if what.startswith("= ") else f"v{s.id}"
                self.notes.setdefault(v.id, f"= the columns of v{m.id} that {what} picks (its ᵀ·(v{m.id}ᵀ·δ) as one "
                                            f"product)")
        return self._slices[key]


def _spacing(g, st: Var) -> tuple | None:
    te = g.producer[st.id]
    if te.prim is not R.transpose_p:
        return None
    se = g.producer[te.inputs[0].id]
    if se.prim is not R.const_p or len(se.out.shape) != 2 or R.uniform_value(g, se.out) is not None:
        return None
    try:
        s = np.asarray(R._const_impl((), se.params), dtype=float)
    except (TypeError, ValueError):
        return None
    if s.ndim != 2 or s.shape[1] < 2 or not np.all((s == 0) | (s == 1)) or not np.all(s.sum(axis=0) == 1):
        return None
    rows = [int(r) for r in s.argmax(axis=0)]
    step = rows[1] - rows[0]
    if step <= 1 or rows != list(range(rows[0], rows[0] + step * len(rows), step)):
        return None
    return rows[0], step, len(rows)


def spec_with_slices(spec, input_grads: list | None = None) -> tuple:
    """(``spec`` with its training lowering's gradients and outputs rewritten, ``input_grads``
    likewise): the Triton backend's graphs, before its kernels are scheduled; unchanged when
    `triton_settings.SELECTION_SLICES` is 0."""
    import dataclasses

    from . import triton_settings as settings
    if not settings.SELECTION_SLICES:
        return spec, input_grads
    lw = spec.train
    n, k = len(lw.outputs), len(lw.grads)
    done = selections_as_slices(lw.graph, [lw.loss] + list(lw.outputs) + list(lw.grads) + list(input_grads or []),
                                lw.notes)
    lw = dataclasses.replace(lw, loss=done[0], outputs=done[1:1 + n], grads=done[1 + n:1 + n + k])
    return dataclasses.replace(spec, train=lw), (None if input_grads is None else done[1 + n + k:])
