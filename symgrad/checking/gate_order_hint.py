"""Name an LSTM backward that stacks its gates' gradients in another order than the forward slices
them: the forward takes i, f, o, g = a[:, :H], a[:, H:2H], a[:, 2H:3H], a[:, 3H:] of one product a,
and the backward's ``da = np.hstack([df, di, do, dg])`` puts two of them in each other's place.

Two blocks p, q of a are swapped in the derivative only: a[:, p] becomes C + a[:, q] (and a[:, q]
becomes C' + a[:, p]), C and C' holding the value difference at the point, so every value is kept
and the gradient arriving at block p leaves through q. The claim is compared with f so derived, for
each pair of equal blocks that slice one tensor's last axis.
"""
from __future__ import annotations

from itertools import combinations

import numpy as np
import sympy as sp

from .hint_kind import Hint
from .hint_case import Case, _claim_is_gradient_of, _fitted, differs, value_at

MAX_BLOCKS = 6


def _blocks(f):
    """{base: [(lo, hi, node)]}: equal-width slices of a base's last axis, all other axes whole."""
    from ..frontend import tensor as T
    found: dict = {}
    for n in dict.fromkeys(sp.preorder_traversal(f)):
        if not isinstance(n, T.Index):
            continue
        base, spec = n.args[0], n.args[1]
        shape = tuple(T.shape_of(base))
        if len(spec) != len(shape):
            continue
        whole = all((int(a), int(b), int(s)) == (0, int(d), 1) for (a, b, s), d in zip(spec[:-1], shape[:-1]))
        lo, hi, step = (int(v) for v in spec[-1])
        if whole and step == 1:
            found.setdefault(base, []).append((lo, hi, n))
    return {b: sorted(v, key=lambda t: t[0]) for b, v in found.items()
            if 2 <= len(v) <= MAX_BLOCKS and len({hi - lo for lo, hi, _ in v}) == 1}


def gate_order_hint(case: Case):
    from ..frontend import tensor as T
    from .layer_hints import _rebuilt
    Cs, Ts = _fitted(case)
    if not differs(Cs, Ts):
        return None
    for base, blocks in _blocks(case.f).items():
        for (lp, hp, p), (lq, hq, q) in combinations(blocks, 2):
            shape = tuple(T.shape_of(p))
            Cp, Cq = T.tensor("_Cp", shape), T.tensor("_Cq", shape)

            def extra(vals, p=p, q=q, Cp=Cp, Cq=Cq):
                vp = value_at(p, vals)
                vq = value_at(q, vals)
                return {Cp.name: vp - vq, Cq.name: vq - vp}
            if _claim_is_gradient_of(case, _rebuilt(case.f, {p: Cp + q, q: Cq + p}), extra):
                cut = lambda lo, hi: f"a[:, {lo or ''}:{hi}]"          # noqa: E731
                text = str(base) if len(str(base)) <= 60 else str(base)[:59] + "…"
                return Hint("slices' gradients in another order",
                            f"the claim is the gradient with the "
                            f"gradients of {cut(lp, hp)} and {cut(lq, hq)} swapped (a = {text}) — the backward "
                            f"stacks the gradients of the slices of one product (an LSTM's gates: da = "
                            f"np.hstack([...])) in another order than the forward slices them; keep the "
                            f"forward's order (cs231n's LSTM: i, f, o, g).")
    return None
