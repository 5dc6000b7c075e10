"""Name a nearest-neighbour upsampling's backward that reads instead of sums. ``sg.interpolate(x,
scale_factor=s)`` (torch's ``F.interpolate``, mode="nearest", 1-D, 2-D or 3-D) repeats each entry of
x s times along each spatial axis, so the gradient of an entry is the sum of its block of the
upsampled tensor's gradient G:

    dx = G.reshape(N, C, H, s, W, s).sum(axis=(3, 5))

Two slips of it:

    one entry     G[:, :, ::s, ::s] (any offset): one entry of each block, the backward of an
                  upsampling that puts zeros between the entries (11-785's Upsample2d, the other
                  half of a transposed convolution)
    one axis      the block summed along some spatial axes and read at one entry along the others

The upsampling node of f (``Reshape(BroadcastTo(Reshape(x, (…, H, 1, W, 1)), (…, H, s, W, s)))``,
as `symgrad.frontend.resize.interpolate` builds it, of the wrt tensor itself) is replaced by a fresh
tensor U at its value; ∂f/∂U is G, and the claim is compared with the slips' reads of G after
checking that G's block sums are the gradient. (upsample_hints.py is the zero-insertion upsampling's
mirror image: there the sum of neighbours is the slip.) `hints.find_hint` asks it.
"""
from __future__ import annotations

from itertools import combinations, product

import numpy as np
import sympy as sp

from .hint_kind import Hint
from .hint_case import Case, all_same, gradient_at_fresh


def _nearest_upsamplings(case: Case) -> list:
    """[(node, factors)]: each nearest upsampling of the wrt tensor in f, with its whole factors."""
    from ..frontend import tensor as T
    w = case.w
    shape = tuple(getattr(w, "shape", ()))
    nd = len(shape) - 2
    if nd < 1:
        return []
    out = []
    for n in dict.fromkeys(sp.preorder_traversal(case.f)):
        if not (isinstance(n, T.Reshape) and isinstance(n.args[0], T.BroadcastTo)
                and isinstance(n.args[0].args[0], T.Reshape) and n.args[0].args[0].args[0] == w):
            continue
        split, wide = tuple(n.args[0].args[0].shape), tuple(n.args[0].shape)
        if len(split) != 2 + 2 * nd or split[:2] != shape[:2] or split[2::2] != shape[2:] \
                or any(d != 1 for d in split[3::2]) or wide[2::2] != shape[2:]:
            continue
        factors = tuple(int(f) for f in wide[3::2])
        if any(f > 1 for f in factors):
            out.append((n, factors))
    return out


def _upstream(case: Case, node) -> list:
    """Per point, G = ∂f/∂U with U the upsampled tensor (a fresh tensor at the node's value)."""
    from ..core.evaluate import numeric
    from ..frontend import tensor as T
    U = T.tensor("_U_nearest", tuple(node.shape))
    return gradient_at_fresh(case, case.f.xreplace({node: U}), U,
                             lambda vals: np.asarray(numeric(node, vals), float))


def _blocks(G, factors):
    """G (N, C, s₁H, s₂W, …) as (N, C, H, s₁, W, s₂, …): block axes at 3, 5, …"""
    lead = G.shape[:2]
    return G.reshape(lead + tuple(d for S, f in zip(G.shape[2:], factors) for d in (S // f, f)))


def _read(G, factors, summed, offsets):
    """Each block of G summed along the spatial axes in ``summed`` and read at ``offsets`` along the others."""
    B = _blocks(G, factors)
    index = tuple([slice(None)] * 2 + [a for i in range(len(factors))
                                       for a in (slice(None), slice(None) if i in summed else offsets[i])])
    B = B[index]
    keep = [k for k in range(len(factors)) if k in summed]   # the block axes left, in order
    axes = tuple(3 + 2 * j for j in range(len(keep)))
    return B.sum(axis=axes) if axes else B


def nearest_upsample_hint(case: Case) -> str | None:
    sites = _nearest_upsamplings(case)
    if len(sites) != 1:
        return None
    node, factors = sites[0]
    nd = len(factors)
    Cs, Ts = case.C(), case.T()
    if any(c.shape != t.shape for c, t in zip(Cs, Ts)):
        return None
    Gs = _upstream(case, node)
    if Gs is None:                        # f does not depend on the upsampled tensor
        return None
    every = tuple(range(nd))
    if not all_same([_read(G, factors, every, ()) for G in Gs], Ts):
        return None                       # the gradient reaches x another way too: not this recogniser's
    name = case.w.name
    lead = ", ".join(["N", "C"] + [d for k, f in enumerate(factors) for d in (f"S{k + 1}", str(f))])
    block = " × ".join(map(str, factors))
    right = (f"sg.interpolate (F.interpolate, mode='nearest') repeats each entry of {name} {block} times, so "
             f"its gradient is the sum over its block: d{name} = G.reshape({lead}).sum(axis="
             f"{tuple(3 + 2 * k for k in range(nd)) if nd > 1 else 3}) (G: the gradient at the upsampled "
             f"tensor; S1, S2, …: {name}'s spatial sizes)")
    for offsets in product(*[range(f) for f in factors]):
        if all(all_same([c], [_read(G, factors, (), offsets)]) for c, G in zip(Cs, Gs)):
            read = ", ".join([":", ":"] + [f"{a}::{f}" for a, f in zip(offsets, factors)])
            return Hint("nearest upsampling's backward reads one entry of each block",
                        f"the claim is "
                        f"G[{read}], the backward of an upsampling that puts zeros between the entries "
                        f"(11-785's Upsample{nd}d); {right}.")
    for k in range(1, nd):
        for summed in (set(s) for s in combinations(range(nd), k)):
            for offsets in product(*[range(f) for f in factors]):
                if all(all_same([c], [_read(G, factors, summed, offsets)]) for c, G in zip(Cs, Gs)):
                    axes = ", ".join(f"spatial axis {j + 1}" for j in sorted(summed))
                    return Hint.sentence("nearest upsampling's backward sums along some axes only",
                                         f"nearest upsampling's backward sums each block along {axes} only, "
                                         f"reading one entry along the others; {right}.")
    return None


__all__ = ["nearest_upsample_hint"]
