"""Layers, in lecture notation: z = W·y + b, y = f(z).

>>> import symgrad as sg
>>> net = sg.mlp([3, 4, 2])
>>> sum(p.shape[0] * p.shape[1] for p in net.params)     # the 3-4-2 MLP of the notes
26
"""
from __future__ import annotations

import numbers
from typing import Callable, NamedTuple, Sequence

import sympy as sp

from ..errors import ArgumentError, ShapeError
from .functions import elementwise, relu
from .parse import as_expr


def dense(W, x, b=None, act: Callable | None = None):
    """act(W·x + b): one layer. ``act`` is any scalar function (sg.sigmoid, sp.tanh, a lambda);
    it applies elementwise. ``b=None`` means no bias."""
    if act is not None and not callable(act):
        raise ArgumentError(f"act must be a function (sg.sigmoid, sp.tanh, a lambda) or None, got {act!r}")
    # text is parsed like any expression (a str times 3 would be the str repeated)
    W, x, b = (None if v is None else as_expr(v, name) for v, name in ((W, "W"), (x, "x"), (b, "b")))
    try:
        z = W * x if b is None else W * x + b
    except (sp.ShapeError, TypeError, ValueError) as e:
        shapes = ", ".join(f"{n} = {v} {getattr(v, 'shape', '(scalar)')}" for n, v in (("W", W), ("x", x), ("b", b))
                           if v is not None)
        raise ShapeError(f"dense computes W*x + b, which these shapes do not allow: {shapes} ({e})") from None
    return z if act is None else elementwise(act, z)


class MLP(NamedTuple):
    """What `mlp` returns: the output expression, the parameters [W1, b1, W2, b2, ...], the input."""
    output: object
    params: list
    input: object


def mlp(widths: Sequence[int], act: Callable = relu, out_act: Callable | None = None, *,
        scalar: bool = False, prefix: str = "") -> MLP:
    """A multi-layer perceptron with layer widths ``widths`` (input first, output last).

    Matrix form (default): input ``x`` (n₀, 1), parameters ``W1`` (n₁, n₀), ``b1`` (n₁, 1), ...
    Scalar form (``scalar=True``): every weight a Symbol ``W1_i_j`` and the output a list of scalar
    expressions — the "scalarized" network that plain ``sympy.diff`` is benchmarked on.
    """
    if (not isinstance(widths, (list, tuple, range)) or len(widths) < 2
            or any(isinstance(w, bool) or not isinstance(w, numbers.Integral) or w < 1 for w in widths)):
        raise ArgumentError(f"mlp needs widths=[n_input, ..., n_output]: at least two integers >= 1, "
                            f"got {widths!r}")
    for name, f in (("act", act), ("out_act", out_act)):
        if f is not None and not callable(f):
            raise ArgumentError(f"{name} must be a function (sg.relu, sp.tanh, a lambda) or None, got {f!r}")
    widths = [int(w) for w in widths]
    L = len(widths) - 1
    if not scalar:
        x = sp.MatrixSymbol(f"{prefix}x", widths[0], 1)
        y, params = x, []
        for k in range(1, L + 1):
            W = sp.MatrixSymbol(f"{prefix}W{k}", widths[k], widths[k - 1])
            b = sp.MatrixSymbol(f"{prefix}b{k}", widths[k], 1)
            params += [W, b]
            y = dense(W, y, b, act if k < L else out_act)
        return MLP(y, params, x)
    xs = list(sp.symbols(f"{prefix}x0:{widths[0]}", real=True))
    ys, params = xs, []
    for k in range(1, L + 1):
        f = act if k < L else out_act
        W = [[sp.Symbol(f"{prefix}W{k}_{i}_{j}", real=True) for j in range(widths[k - 1])]
             for i in range(widths[k])]
        b = [sp.Symbol(f"{prefix}b{k}_{i}", real=True) for i in range(widths[k])]
        params += [w for row in W for w in row] + b
        zs = [sp.Add(*[W[i][j] * ys[j] for j in range(len(ys))], b[i]) for i in range(widths[k])]
        ys = [f(z) if f is not None else z for z in zs]
    return MLP(ys, params, xs)
