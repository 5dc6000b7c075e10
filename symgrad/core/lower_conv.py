"""Lowering of the convolution and pooling nodes (`symgrad.frontend.conv`) to the windowed primitives
of `symgrad.core.conv_rules`, registered into `symgrad.core.lower`'s registry as `lower_tensor` does.

    Conv       one ``conv`` equation
    Flip       one ``flip``
    Windows    one ``windows``;  Fold one ``fold``
    MaxPool    windows (padding −∞) → flattened → ``rmax`` over the window → the window axis dropped:
               the gradient goes to the first arg-max of the window, in row-major order (the
               subgradient policy of max, the entry torch's max_pool2d picks on ties)
    AvgPool    windows (padding 0) → Σ over the window axes / k (torch's count_include_pad=True)
"""
from __future__ import annotations

import sympy as sp

from . import array_rules as A
from . import conv_rules as CR
from . import lower as L
from . import rules as R
from ..frontend import conv as C

_on, _Handler = L._on, L._Handler


def _conv(low, e, args):
    return CR.conv(low.graph, args[0], args[1], e.stride, e.padding, e.input_dilation, e.dilation)


_on(C.Conv)(_Handler(lambda low, e: e.args[:2], _conv))
_on(C.Flip)(_Handler(lambda low, e: (e.args[0],), lambda low, e, a: CR.flip(low.graph, a[0], e.axes)))
_on(C.Windows)(_Handler(lambda low, e: (e.args[0],), lambda low, e, a: CR.windows(
    low.graph, a[0], e.args[1], e.args[2], e.args[3], e.args[4], e.args[5])))
_on(C.Fold)(_Handler(lambda low, e: (e.args[0],), lambda low, e, a: CR.fold(
    low.graph, a[0], e.shape, e.args[2], e.args[3], e.args[4], e.args[5])))


def _pool_windows(g, x, e, fill):
    nd = e.nd
    return CR.windows(g, x, e.kernel, e.stride, [(p, p) for p in e.padding], (1,) * nd, fill)


def _max_pool(low, e, args):
    g, nd = low.graph, e.nd
    win = _pool_windows(g, args[0], e, -sp.oo)                     # (N, C, *O, *K)
    lead = tuple(win.shape[:2 + nd])
    k = sp.Mul(*e.kernel)
    flat = A.reshape(g, win, lead + (k,))
    return A.reshape(g, A.rmax(g, flat, len(lead)), e.shape)


def _avg_pool(low, e, args):
    g, nd = low.graph, e.nd
    win = _pool_windows(g, args[0], e, 0)
    s = A.sum_axes(g, win, tuple(range(2 + nd, 2 + 2 * nd)), False)
    return R.ewise(g, R.ph(0) / sp.Mul(*e.kernel), s, shape=s.shape)


_on(C.MaxPool)(_Handler(lambda low, e: (e.args[0],), _max_pool))
_on(C.AvgPool)(_Handler(lambda low, e: (e.args[0],), _avg_pool))

__all__: list = []
