"""Name the usual slips of a hand-written convolution or pooling backward (cs231n's
``conv_backward_naive``, ``max_pool_backward_naive``).

Each row derives f again with the slip built into the backward of every convolution (or max pool)
of f — the forward unchanged — and asks whether the claim equals that gradient at every point, as
`symgrad.checking.hints` does for σ'(z) written wrong:

    kernel not flipped   ∂L/∂x as the full convolution of δ with w itself, not with w rotated 180°
    stride ignored       the backward's windows at i, i+1, … instead of i·stride (both ∂L/∂x, ∂L/∂w)
    padding cropped      ∂L/∂x_pad cut at another offset than pad (a shift by ±1 … ±pad)
    max-pool spread      δ sent to every entry of the window (or δ/k to each), not to its arg-max
    = instead of +=      overlapping windows' shares overwritten, not summed (`overwrite_hints`)

The slipped backward is a variant primitive (same shape, forward and SymPy form as ``conv`` or
``rmax``, another VJP), reached through a subclass of the front-end node, so the rule table itself
is never changed.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from ..core import array_rules as A
from ..core import conv_rules as CR
from ..core import lower as L
from ..core import rules as R
from ..core.ir import Primitive
from ..frontend import conv as C
from .hint_kind import Hint
from .claims import _shape, fit_shape, rel_errors

TOL = 1e-6          # as hints.py: a slip fits when it reproduces the claim to 1e-6 at every point


def _variant(base: Primitive, name: str, vjp, n_params: int) -> Primitive:
    """``base`` with another VJP; its own params are base's first ``n_params`` and the slip's."""
    p = Primitive(name)
    p.rule = base.rule
    p.shape = lambda shapes, params: base.shape(shapes, params[:n_params])
    p.impl = lambda args, params: base.impl(args, params[:n_params])
    p.to_sympy = lambda args, params, shape: base.to_sympy(args, params[:n_params], shape)
    p.vjp = vjp
    return p


# -- the slipped convolution backwards ---------------------------------------------------------------


def _conv_slip_vjp(slip):
    def vjp(g, eqn, ct, want):
        x, w = eqn.inputs
        stride, pads, ld, rd, shift = eqn.params
        if slip == "stride":                       # the windows of the backward at stride 1
            stride = (1,) * len(stride)
        if slip == "crop":                         # ∂L/∂x_pad read from offset pad + shift
            pads = tuple((lo + s, hi - s) for (lo, hi), s in zip(pads, shift))
        fake = eqn._replace(prim=CR.conv_p, params=(stride, pads, ld, rd))
        dx, dw = CR.conv_p.vjp(g, fake, ct, want)
        if slip == "noflip" and dx is not None:    # the kernel as it is, only transposed to (C, F, *K)
            dx = g.bind(CR.conv_p, (ct, CR._swap01(g, w)), g.producer[dx.id].params)
        if slip.startswith("flip") and dx is not None:   # reversed along one spatial axis only
            dx = g.bind(CR.conv_p, (ct, CR._swap01(g, CR.flip(g, w, (int(slip[4:]),)))),
                        g.producer[dx.id].params)
        if slip == "crop" and want[1]:             # the shift is ∂L/∂x's alone
            dw = CR.conv_p.vjp(g, eqn._replace(prim=CR.conv_p, params=eqn.params[:4]), ct, [False, True])[1]
        return [dx, dw]
    return vjp


_CONV_SLIPS = {slip: _variant(CR.conv_p, f"conv_slip_{slip}", _conv_slip_vjp(slip), 4)
               for slip in ("noflip", "stride", "crop", "flip2", "flip3", "flip4")}


class _SlipConv(C.Conv):
    """A Conv whose backward has a slip: args + (slip name, shift per spatial axis)."""


def _lower_slip_conv(low, e, args):
    slip, shift = str(e.args[6]), tuple(int(s) for s in e.args[7])
    params = (e.stride, e.padding, e.input_dilation, e.dilation, shift)
    return low.graph.bind(_CONV_SLIPS[slip], tuple(args), params)


L._on(_SlipConv)(L._Handler(lambda low, e: e.args[:2], _lower_slip_conv))


def _slip_conv(n, slip, shift=None):
    shift = shift if shift is not None else (0,) * n.nd
    return _SlipConv(*n.args, sp.Symbol(slip), sp.Tuple(*shift))


# -- the max pool that spreads δ over the window --------------------------------------------------------


def _spread_vjp(even):
    def vjp(g, eqn, ct, want):
        x = eqn.inputs[0]
        spread = A.expand(g, ct, x.shape)
        k = x.shape[eqn.params[0]]
        return [R.ewise(g, R.ph(0) / k, spread, shape=x.shape) if even else spread]
    return vjp


_SPREAD = {even: _variant(A.rmax_p, f"rmax_spread{'_even' if even else ''}", _spread_vjp(even), 1)
           for even in (False, True)}


class _SpreadMaxPool(C.MaxPool):
    """A MaxPool whose backward spreads δ over the window: args + (even: δ/k per entry)."""


def pool_windows(low, e, args) -> tuple:
    """(graph, the windows of max pool ``e`` flattened to their last axis, the axes before it): what
    a variant of max pooling takes its max over (here, and `ties`)."""
    g, nd = low.graph, e.nd
    win = CR.windows(g, args[0], e.kernel, e.stride, [(p, p) for p in e.padding], (1,) * nd, -sp.oo)
    lead = tuple(win.shape[:2 + nd])
    return g, A.reshape(g, win, lead + (sp.Mul(*e.kernel),)), lead


def _lower_spread_pool(low, e, args):
    g, flat, lead = pool_windows(low, e, args)
    m = g.bind(_SPREAD[bool(e.args[4])], (flat,), (len(lead),))
    return A.reshape(g, m, e.shape)


L._on(_SpreadMaxPool)(L._Handler(lambda low, e: (e.args[0],), _lower_spread_pool))


# -- the rows ---------------------------------------------------------------------------------------


def _rows(f):
    """(message, substitution) for each slip that can apply to f's convolutions and max pools."""
    convs = list(dict.fromkeys(n for n in sp.preorder_traversal(f) if type(n) is C.Conv))
    pools = list(dict.fromkeys(n for n in sp.preorder_traversal(f) if type(n) is C.MaxPool))
    if convs:
        if any(set(n.args[1].shape[2:]) != {1} for n in convs):
            nd = convs[0].nd
            flipped = ("w reversed along its last axis, w[..., ::-1]" if nd == 1 else
                       f"w rotated 180° in its spatial axes, w[..., {', '.join(['::-1'] * nd)}]")
            yield Hint("kernel not flipped",
                       "the claim's ∂L/∂x is the full convolution of δ with the kernel as it is; it must be "
                       f"with the flipped kernel ({flipped}), since out[i] = Σₖ x[i + k]·w[k] meets x[j] with "
                       "w[j − i]. In cs231n's loop over the windows it is the other way round: there "
                       "dx[window] += w[f]·δ uses w as it is, and a kernel flipped in that loop is this same "
                       "slip."), \
                {n: _slip_conv(n, "noflip") for n in convs}
            if nd >= 2:
                for ax in range(2, 2 + nd):
                    cut = ", ".join("::-1" if a == ax else ":" for a in range(2, 2 + nd))
                    yield Hint("kernel flipped along one axis only",
                               f"the claim's ∂L/∂x is the full convolution of δ with w reversed along axis {ax} alone (w[..., {cut}]); "
                               f"the flipped kernel is reversed along every spatial axis, "
                               f"{flipped}."), \
                        {n: _slip_conv(n, f"flip{ax}") for n in convs if n.nd == nd}
        if any(set(n.stride) != {1} for n in convs):
            yield Hint("stride ignored in the backward", "the claim is what the backward gives with the "
                       "windows at i, i + 1, … instead of i·stride; the window of output i starts at "
                       "i·stride in the forward, so δ[i] goes back there (∂L/∂x is the full convolution "
                       "of δ spread out by the stride, ∂L/∂w correlates x with δ at those positions)."), \
                {n: _slip_conv(n, "stride") for n in convs}
        pad = max(max(lo for lo, _ in n.padding) for n in convs)
        for s in [s for k in range(1, pad + 1) for s in (k, -k)]:
            first = convs[0].padding[0][0]
            yield Hint("padding cropped wrongly", f"the claim is ∂L/∂x_pad cut from offset {first + s} "
                       f"instead of {first}; ∂L/∂x = ∂L/∂x_pad[:, :, pad:pad + H, pad:pad + W] drops "
                       f"the padding on both sides (pad entries each, pad = {first} here)."), \
                {n: _slip_conv(n, "crop", tuple(s if lo else 0 for lo, _ in n.padding)) for n in convs}
        # one spatial axis cropped at another offset, the others right (dx_pad[:, :, pad:pad + H, :W])
        padded = [a for a, (lo, _) in enumerate(convs[0].padding) if lo]
        if len(padded) > 1 and all(n.padding == convs[0].padding for n in convs):
            names = "HW" if len(convs[0].padding) == 2 else "DHW"
            right = ", ".join(f"pad:pad + {d}" for d in names)
            for a in padded:
                lo = convs[0].padding[a][0]
                for s in [s for k in range(1, lo + 1) for s in (-k, k)]:
                    cut = f":{names[a]}" if lo + s == 0 else f"{lo + s}:{lo + s} + {names[a]}"
                    at = ", ".join(cut if b == a else f"pad:pad + {d}" for b, d in enumerate(names))
                    yield Hint("padding cropped wrongly", f"the claim is ∂L/∂x_pad cut from offset {lo + s} "
                               f"instead of {lo} along axis {a + 2} ({names[a]}) only, dx_pad[:, :, {at}]; the "
                               f"padding is cropped alike on every padded axis, dx = dx_pad[:, :, {right}] "
                               f"(pad = {lo} here)."), \
                        {n: _slip_conv(n, "crop", tuple(s if b == a else 0 for b in range(len(n.padding))))
                         for n in convs}
    if pools:
        for even, how in ((False, "δ to every entry of the window"), (True, "δ/k to each of the k entries")):
            yield Hint("max-pool gradient spread to the whole window", f"the claim sends {how}; max pooling "
                       f"routes δ only to the window's arg-max (the first one on ties) — the other entries "
                       f"did not influence the output, their gradient is 0."), \
                {n: _SpreadMaxPool(*n.args, sp.true if even else sp.false) for n in pools}


def conv_hint(case):
    """The first convolution or pooling slip that explains the claim, as a sentence; else None."""
    from ..core.differentiate import differentiate
    if not case.f.has(C.Conv, C.MaxPool, C.AvgPool):
        return None
    Cs, Ts = [fit_shape(c, _shape(case.w)) for c in case.C()], case.T()
    for message, sub in _rows(case.f):
        Dv = differentiate(case.f.xreplace(sub), case.params, policy=case.derivation.ir.policy)
        gv = Dv.gradient_vars[case.k]
        if gv is None:
            continue
        vals = case.eval_vars(Dv.ir, [gv])
        if all(c is not None and c.shape == t.shape and np.all(rel_errors(c, np.broadcast_to(v[0], t.shape)) <= TOL)
               for c, v, t in zip(Cs, vals, Ts)):
            return message
    from .overwrite_hints import overwrite_hint    # = instead of += in the loops: redone in NumPy
    return overwrite_hint(case)


__all__ = ["conv_hint"]
