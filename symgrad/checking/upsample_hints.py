"""Name an upsampling layer's backward that reads the wrong entries: 11-785's ConvTranspose1d is
Upsample1d (k − 1 zeros between the entries) then Conv1d_stride1, and Upsample1d's backward is
dLdA = dLdZ[:, :, ::k] — the entries the forward wrote A into. Two slips of it:

    odd entries    dLdZ[:, :, 1::k] (another offset): the zeros' gradients, one entry short
    pairs summed   each entry given the sum of its k neighbours: the backward of a nearest-neighbour
                   upsampling (np.repeat), where the forward inserted zeros

The same in 2-D and 3-D (sg.conv_transpose2d: Upsample2d, a zero between the entries along each
spatial axis; the slips read dLdZ[:, :, 1::2, ::2] or sum each 2 × 2 block). Each convolution of f
whose input is the wrt tensor upsampled — sg.conv_transpose1d/2d (an input dilation k per axis) or
the course's declaration (a stack with zeros, reshaped and cut to k·(W − 1) + 1, along each spatial
axis in 2-D) — is
replaced by the same convolution of a fresh tensor U at the upsampled value; the gradient G with
respect to U is what Conv1d_stride1's backward gives, and the claim is compared with the slips' reads
of G (after checking that G[..., ::k] is the gradient, so that U is the upsampled input).
`hints.find_hint` and `hints.shape_hint` ask it.
"""
from __future__ import annotations

from itertools import product

import numpy as np
import sympy as sp

from .hint_kind import Hint
from .hint_case import Case, same


def _upsampled_convs(case):
    """[(conv node, ks, dilated)]: each convolution of f whose input is the wrt tensor upsampled by
    ks (one factor per spatial axis; dilated: through the convolution's input dilation — 1-D, 2-D
    or 3-D, sg.conv_transpose2d's —, else the course's expression of the tensor, in 1-D or 2-D)."""
    from ..frontend import conv as C
    w = case.w
    shape = tuple(getattr(w, "shape", ()))
    if len(shape) < 3 or any(not isinstance(d, (int, sp.Integer)) or int(d) < 2 for d in shape[2:]):
        return []
    out = []
    for n in dict.fromkeys(sp.preorder_traversal(case.f)):
        if type(n) is not C.Conv or n.nd != len(shape) - 2:
            continue
        x, lds = n.args[0], tuple(int(d) for d in n.input_dilation)
        if x == w and max(lds) > 1:
            out.append((n, lds, True))
            continue
        if set(lds) == {1} and x != w and x.has(w) and tuple(x.shape[:2]) == shape[:2]:
            ks = _factors(x.shape[2:], shape[2:])
            if ks is not None:
                out.append((n, ks, False))
    return out


def _factors(widths, Ws):
    """The k per spatial axis with width = k·(W − 1) + 1 (one at least > 1); None when none fits."""
    ks = []
    for width, W in zip(widths, Ws):
        if not isinstance(width, (int, sp.Integer)) or (int(width) - 1) % (int(W) - 1):
            return None
        ks.append((int(width) - 1) // (int(W) - 1))
    return tuple(ks) if min(ks) >= 1 and max(ks) > 1 else None


def _every(ks, offsets=None) -> tuple:
    """The index of the entries ``offsets`` (0 by default) :: ks along the spatial axes."""
    offsets = offsets or (0,) * len(ks)
    return (Ellipsis,) + tuple(slice(o, None, k) for o, k in zip(offsets, ks))


def _zeros_between(a, ks):
    up = np.zeros(a.shape[:-len(ks)] + tuple(k * (d - 1) + 1 for k, d in zip(ks, a.shape[-len(ks):])))
    up[_every(ks)] = a
    return up


def _gradient_of_upsampled(case, n, ks, dilated):
    """Per point, ∂f/∂U with U the convolution's (upsampled) input, or None."""
    from ..core.evaluate import numeric
    from ..frontend import conv as C
    from ..frontend import tensor as T
    from .hint_case import gradient_at_fresh
    x = n.args[0]
    widths = tuple(k * (int(d) - 1) + 1 for k, d in zip(ks, case.w.shape[2:]))
    U = T.tensor("_U_up", tuple(x.shape[:2]) + widths)
    fresh = C.Conv(U, n.args[1], n.args[2], n.args[3], sp.Tuple(*[1] * n.nd), n.args[5])

    def value(vals):
        v = np.asarray(numeric(x, vals), float)
        return _zeros_between(v, ks) if dilated else v
    return gradient_at_fresh(case, case.f.xreplace({n: fresh}), U, value)


def _pair_sums(G, ks, Ws):
    """Each entry given the sum of its block of ks neighbours (G padded with zeros to ks·W)."""
    nd = len(ks)
    lead = G.shape[:-nd]
    padded = np.zeros(lead + tuple(k * W for k, W in zip(ks, Ws)))
    padded[(Ellipsis,) + tuple(slice(0, d) for d in G.shape[-nd:])] = G
    blocks = padded.reshape(lead + tuple(d for k, W in zip(ks, Ws) for d in (W, k)))
    return blocks.sum(axis=tuple(len(lead) + 2 * i + 1 for i in range(nd)))


def upsample_backward_hint(case: Case, want: str | None = None) -> str | None:
    convs = _upsampled_convs(case)
    if len(convs) != 1:
        return None
    n, ks, dilated = convs[0]
    Cs, Ts = case.C(), case.T()
    try:
        Gs = _gradient_of_upsampled(case, n, ks, dilated)
    except Exception:                     # a declaration this recogniser does not follow: no hint
        return None
    if Gs is None or not all(same(G[_every(ks)], t) for G, t in zip(Gs, Ts)):
        return None
    nd, name = len(ks), case.w.name
    Ws = Ts[0].shape[-nd:]
    read = lambda offs: ", ".join([":", ":"] + [f"{o}::{k}" if o else f"::{k}" for o, k in zip(offs, ks)])  # noqa: E731
    right = (f"dLd{name} = dLdZ[{read((0,) * nd)}], the entries the forward wrote {name} into (dLdZ: the "
             f"upsampled input's gradient, Conv{nd}d_stride1's dLdA)")
    k_text = str(ks[0]) if nd == 1 else " × ".join(map(str, ks))
    zeros = (("1 zero" if ks[0] == 2 else f"{ks[0] - 1} zeros") + " between the entries" if nd == 1 else
             f"zeros between the entries along each spatial axis ({k_text})")
    for offs in product(*[range(k) for k in ks]):
        if any(offs) and all(same(c, G[_every(ks, offs)]) for c, G in zip(Cs, Gs)):
            shape = f"the claim has shape {Cs[0].shape}, but {want}; " if want else ""
            return Hint("upsample backward reads the wrong entries",
                        f"{shape}the claim is dLdZ[{read(offs)}] "
                        f"(the inserted zeros' gradients) where {right} — the upsampling's backward "
                        f"(11-785's Upsample{nd}d) downsamples from offset 0.")
    if all(same(c, _pair_sums(G, ks, Ws)) for c, G in zip(Cs, Gs)):
        many = f"{ks[0]} neighbouring entries" if nd == 1 else f"its {k_text} block of neighbouring entries"
        return Hint("upsample backward sums neighbours",
                    f"the claim gives each entry of d{name} the sum of "
                    f"{many} of dLdZ — the backward of repeating each entry "
                    f"(np.repeat, nearest-neighbour upsampling); this forward put {zeros}, "
                    f"and the zeros take no gradient back: {right}.")
    return None


__all__ = ["upsample_backward_hint"]
