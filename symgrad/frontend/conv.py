"""Convolution and pooling layers on N-d tensors, in cs231n's and PyTorch's layout.

``sg.conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1)`` on x (N, C, H, W) and
w (F, C, HH, WW) gives (N, F, H', W') with H' = ⌊(H + 2·pad − dil·(HH − 1) − 1) / stride⌋ + 1, as
``torch.nn.functional.conv2d`` (a cross-correlation: the kernel is not flipped in the forward);
``sg.conv1d`` likewise on (N, C, L). ``sg.max_pool2d(x, kernel, stride=None, padding=0)`` and
``sg.avg_pool2d`` as torch's (stride defaults to the kernel, padding at most half the kernel, the
average counts the padded zeros). Integers or pairs, as torch takes them. torch's other keywords
are accepted where they change nothing (``ceil_mode=True`` when the windows tile the input exactly,
``count_include_pad=False`` without padding, ``dilation=1``, ``return_indices=False``); ``groups``
(w then (F, C / groups, HH, WW)) and ``divisor_override`` are torch's; other values are refused.

>>> import sympy as sp, symgrad as sg
>>> N = sp.Symbol("N", integer=True, positive=True)
>>> x, w = sg.tensor("x", (N, 3, 8, 8)), sg.tensor("w", (4, 3, 3, 3))
>>> out = sg.conv2d(x, w, stride=2, padding=1)
>>> out, out.shape
(conv2d(x, w, stride=2, padding=1), (N, 4, 4, 4))
>>> sg.max_pool2d(out, 2).shape
(N, 4, 2, 2)

The gradients are again convolutions (see `symgrad.core.conv_rules`): ∂L/∂w is the correlation of
the input with δ = ∂L/∂out, ∂L/∂x the full convolution of δ (spread out by the stride) with the
flipped kernel. To write them, the node `Conv` also takes an asymmetric padding (negative: a crop)
and an input dilation (zeros between the input's entries); `flip` reverses axes.

>>> sg.grad(sg.sum(sg.conv2d(x, w) * sg.tensor("dout", (N, 4, 6, 6))), x)
conv2d(dout, flip(w, (2, 3)).transpose(1, 0, 2, 3), padding=2)

Max pooling routes δ to the first arg-max of each window, in row-major order of the window (the
subgradient policy of ``max``; the same entry torch picks on ties); average pooling spreads δ / k
over the window. Pooling is built from `Windows` (each window as trailing axes, im2col as a view)
and an axis reduction; the adjoint of `Windows` is `Fold` (col2im: the windows added back).
"""
from __future__ import annotations

import numbers

import sympy as sp
from sympy import Tuple

from . import tensor as T
from .parse import register_tensor_function as _register_text
from ..errors import ArgumentError, ShapeError

__all__ = ["Conv", "Flip", "Windows", "Fold", "MaxPool", "AvgPool", "conv2d", "conv1d", "conv",
           "max_pool2d", "avg_pool2d", "max_pool1d", "avg_pool1d", "flip", "dilated", "conv_out_size"]


def dilated(n: int, d: int) -> int:
    """The extent of n entries with d − 1 zeros between neighbours: 1 + d·(n − 1) (0 stays 0)."""
    return 0 if n == 0 else 1 + d * (n - 1)


def conv_out_size(size, kernel, stride, lo, hi, lhs_dilation=1, dilation=1) -> int:
    """⌊(dilated input + lo + hi − dilated kernel) / stride⌋ + 1: the number of window positions."""
    return (dilated(size, lhs_dilation) + lo + hi - dilated(kernel, dilation)) // stride + 1


def _ints(v) -> tuple:
    return tuple(int(a) for a in v)


def _fmt_uniform(v):
    """(2, 2) prints 2; (1, 2) prints (1, 2)."""
    v = _ints(v)
    return str(v[0]) if len(set(v)) == 1 else str(v)


# ===================================================================================================
# The nodes


class _Spatial(T.TensorExpr):
    """A node over the trailing spatial axes of (N, C, *spatial)."""

    _data = (0, 1)

    @property
    def nd(self) -> int:
        return len(self.args[2])


class Conv(_Spatial):
    """conv(x, w): x (N, C, *S) correlated with w (F, C, *K), giving (N, F, *O). Args: x, w, stride,
    padding ((lo, hi) per spatial axis; negative crops), input dilation, kernel dilation."""

    @property
    def stride(self):
        return _ints(self.args[2])

    @property
    def padding(self):
        return tuple(_ints(p) for p in self.args[3])

    @property
    def input_dilation(self):
        return _ints(self.args[4])

    @property
    def dilation(self):
        return _ints(self.args[5])

    @property
    def shape(self):
        x, w = self.args[0].shape, self.args[1].shape
        O = tuple(conv_out_size(s, k, st, lo, hi, ld, d) for s, k, st, (lo, hi), ld, d in
                  zip(x[2:], w[2:], self.stride, self.padding, self.input_dilation, self.dilation))
        return (x[0], w[0]) + O

    def _sympystr(self, printer):
        parts = [printer._print(self.args[0]), printer._print(self.args[1])] + self._options()
        return f"conv{self.nd}d({', '.join(parts)})"

    def _options(self) -> list:
        """stride=2, padding=1, ...: the arguments that are not the default, as the text writes them."""
        parts = []
        if set(self.stride) != {1}:
            parts.append(f"stride={_fmt_uniform(self.stride)}")
        pads = self.padding
        if any(lo or hi for lo, hi in pads):
            if all(lo == hi for lo, hi in pads):
                parts.append(f"padding={_fmt_uniform([lo for lo, _ in pads])}")
            else:
                parts.append(f"padding={pads}")
        if set(self.dilation) != {1}:
            parts.append(f"dilation={_fmt_uniform(self.dilation)}")
        if set(self.input_dilation) != {1}:
            parts.append(f"input_dilation={_fmt_uniform(self.input_dilation)}")
        return parts

    def _latex(self, printer):      # with its stride, padding and dilations: the gradient's need them
        opts = [r"\operatorname{%s}=%s" % (o.split("=")[0].replace("_", r"\_"), o.split("=", 1)[1])
                for o in self._options()]
        return r"\operatorname{conv%dd}\left(%s\right)" % (
            self.nd, ", ".join([printer._print(self.args[0]), printer._print(self.args[1])] + opts))


class Flip(T.TensorExpr):
    """flip(x, axes): x with the order of its entries reversed along ``axes`` (np.flip)."""

    _data = (0,)

    @property
    def axes(self):
        return _ints(self.args[1])

    @property
    def shape(self):
        return self.args[0].shape

    @property
    def is_integer_tensor(self):        # labels reversed are labels: sg.arange(N).flip(0)
        return bool(getattr(self.args[0], "is_integer_tensor", False))

    def _sympystr(self, printer):
        return f"flip({printer._print(self.args[0])}, {self.axes})"

    def _latex(self, printer):
        return r"\operatorname{flip}\left(%s, %s\right)" % (printer._print(self.args[0]), self.axes)


class Windows(_Spatial):
    """windows(x): every window of x (N, C, *S) as trailing axes, (N, C, *O, *K) — im2col as a view.
    Args: x, kernel, stride, padding ((lo, hi) per axis), dilation, fill (the padding's value)."""

    _data = (0,)
    _fill_arg = 5       # the padding's value (−∞ for a max pool): no infinity of the text's (parse.py)

    @property
    def nd(self):
        return len(self.args[1])

    @property
    def shape(self):
        x = self.args[0].shape
        K, st, pads, d = _ints(self.args[1]), _ints(self.args[2]), self.args[3], _ints(self.args[4])
        O = tuple(conv_out_size(s, k, a, int(lo), int(hi), 1, dd) for s, k, a, (lo, hi), dd in
                  zip(x[2:], K, st, pads, d))
        return tuple(x[:2]) + O + K

    def _sympystr(self, printer):
        pads = [int(lo) for lo, _ in self.args[3]]
        extra = "" if set(pads) == {0} else f", padding={_fmt_uniform(pads)}"
        if set(_ints(self.args[4])) != {1}:
            extra += f", dilation={_fmt_uniform(self.args[4])}"
        return (f"windows({printer._print(self.args[0])}, {_fmt_uniform(self.args[1])}, "
                f"stride={_fmt_uniform(self.args[2])}{extra})")


class Fold(T.TensorExpr):
    """fold(g, shape): the adjoint of `Windows` (col2im): each window of g (N, C, *O, *K) added back
    at its place in zeros of ``shape``. Args: g, shape, kernel, stride, padding, dilation."""

    _data = (0,)

    @property
    def shape(self):
        return tuple(int(d) if d.is_Integer else d for d in self.args[1])

    def _sympystr(self, printer):
        return (f"fold({printer._print(self.args[0])}, {T.fmt(self.shape)}, "
                f"{_fmt_uniform(self.args[2])}, stride={_fmt_uniform(self.args[3])})")


class _Pool(_Spatial):
    """A pooling node: x, kernel, stride, padding (symmetric, per axis)."""

    op = ""

    @property
    def nd(self):
        return len(self.args[1])

    @property
    def kernel(self):
        return _ints(self.args[1])

    @property
    def stride(self):
        return _ints(self.args[2])

    @property
    def padding(self):
        return _ints(self.args[3])

    @property
    def shape(self):
        x = self.args[0].shape
        O = tuple(conv_out_size(s, k, a, p, p) for s, k, a, p in
                  zip(x[2:], self.kernel, self.stride, self.padding))
        return tuple(x[:2]) + O

    def _sympystr(self, printer):
        parts = [printer._print(self.args[0]), _fmt_uniform(self.kernel)]
        if self.stride != self.kernel:
            parts.append(f"stride={_fmt_uniform(self.stride)}")
        if set(self.padding) != {0}:
            parts.append(f"padding={_fmt_uniform(self.padding)}")
        return f"{self.op}_pool{self.nd}d({', '.join(parts)})"


class MaxPool(_Pool):
    op = "max"


class AvgPool(_Pool):
    op = "avg"


# ===================================================================================================
# The public functions: checked arguments, errors naming the layer and the shapes


def _tuple_arg(v, nd, name, layer, least):
    """An int or an nd-tuple of ints, each ≥ least; an ArgumentError otherwise."""
    vals = (v,) * nd if isinstance(v, numbers.Integral) or isinstance(v, sp.Integer) else v
    if isinstance(v, bool) or not isinstance(vals, (tuple, list, Tuple)) or len(vals) != nd or \
            any(isinstance(a, bool) or not isinstance(a, (numbers.Integral, sp.Integer)) for a in vals):
        raise ArgumentError(f"{layer}: {name} must be an integer or {nd} integers "
                            f"({'a pair' if nd == 2 else 'a tuple'}), got {v!r}")
    vals = tuple(int(a) for a in vals)
    if any(a < least for a in vals):
        raise ArgumentError(f"{layer}: {name} must be ≥ {least}, got {v!r}")
    return vals


def _layer_input(x, nd, layer, what="x"):
    x = T._tensor_arg(x, layer)
    if x.ndim != nd + 2:
        names = "(N, C, L)" if nd == 1 else "(N, C, H, W)" if nd == 2 else f"(N, C, {nd} spatial axes)"
        raise ShapeError(f"{layer}: {what} {x} has shape {T.fmt(x.shape)}; {layer} takes {names}")
    for d in x.shape[1:]:
        if not isinstance(d, int):
            raise ShapeError(f"{layer}: {what} {x} has shape {T.fmt(x.shape)}; the channel and spatial "
                             f"sizes must be integers (only the batch size N may be a symbol)")
    return x


def conv(x, w, b=None, stride=1, padding=0, dilation=1, nd=2, layer=None, groups=1):
    """conv1d / conv2d / conv3d (``nd`` spatial axes): see `conv2d`."""
    layer = layer or f"conv{nd}d"
    x = _layer_input(x, nd, layer)
    w = T._tensor_arg(w, layer)
    kn = "(F, C, K)" if nd == 1 else "(F, C, HH, WW)" if nd == 2 else f"(F, C, {nd} kernel axes)"
    if w.ndim != nd + 2 or any(not isinstance(d, int) for d in w.shape):
        raise ShapeError(f"{layer}: the kernel w {w} has shape {T.fmt(w.shape)}; {layer} takes {kn} "
                         f"with integer sizes")
    stride = _tuple_arg(stride, nd, "stride", layer, 1)
    dil = _tuple_arg(dilation, nd, "dilation", layer, 1)
    pads = _padding_arg(padding, stride, dil, w.shape[2:], layer)
    g = _groups(groups, x, w, layer)
    if x.shape[1] != w.shape[1] * g:
        grouped = f" × groups={g}" if g != 1 else ""
        raise ShapeError(f"{layer}: channel mismatch: x {x} of shape {T.fmt(x.shape)} has {x.shape[1]} "
                         f"channels but the kernel w {w} of shape {T.fmt(w.shape)} expects "
                         f"{w.shape[1]}{grouped} (w is (F, C/groups, ...), x is (N, C, ...))")
    for i, (s, k, (lo, hi), d) in enumerate(zip(x.shape[2:], w.shape[2:], pads, dil)):
        if dilated(k, d) > s + lo + hi:
            p = lo if lo == hi else (lo, hi)
            raise ShapeError(f"{layer}: the kernel w {T.fmt(w.shape)} (dilation {d}) spans {dilated(k, d)} "
                             f"on spatial axis {i}, larger than the padded input x {T.fmt(x.shape)} with "
                             f"padding {p} ({s + lo + hi})")
    def one(x, w):
        return Conv(x, w, Tuple(*stride), Tuple(*[Tuple(lo, hi) for lo, hi in pads]), Tuple(*[1] * nd),
                    Tuple(*dil))
    if g == 1:
        out = one(x, w)
    else:
        # grouped (depthwise when groups = C): group i correlates input channels i·C/g … and filters
        # i·F/g …, as torch's; a concatenation of g plain convolutions, so every gradient is theirs
        cg, fg = x.shape[1] // g, w.shape[0] // g
        out = T.concat([one(x[:, i * cg:(i + 1) * cg], w[i * fg:(i + 1) * fg]) for i in range(g)], axis=1)
    if b is None:
        return out
    b = T._tensor_arg(b, layer)
    if b.shape != (w.shape[0],):
        raise ShapeError(f"{layer}: the bias b {b} has shape {T.fmt(b.shape)}; it must be ({w.shape[0]},), "
                         f"one per filter of w {T.fmt(w.shape)}")
    return out + T.reshape(b, (w.shape[0],) + (1,) * nd)


def _padding_arg(padding, stride, dil, kernel, layer) -> list:
    """(lo, hi) per spatial axis: an integer or a tuple (the same on both sides), or torch's strings
    'valid' (no padding) and 'same' (stride 1 only: the output has the input's size; the total
    dil·(k − 1) split as torch splits it, the smaller half before: (t // 2, t − t // 2))."""
    if isinstance(padding, str):
        if padding == "valid":
            return [(0, 0)] * len(stride)
        if padding == "same":
            if set(stride) != {1}:
                raise ArgumentError(f"{layer}: padding='same' needs stride=1 (as torch's), got stride="
                                    f"{stride}; give the padding as integers instead")
            return [(t // 2, t - t // 2) for t in (d * (k - 1) for d, k in zip(dil, kernel))]
        raise ArgumentError(f"{layer}: padding must be an integer, {len(stride)} integers, 'same' or "
                            f"'valid' (torch's), got {padding!r}")
    return [(p, p) for p in _tuple_arg(padding, len(stride), "padding", layer, 0)]


def _groups(groups, x, w, layer) -> int:
    """torch's ``groups``: an integer ≥ 1 dividing both C (x's channels) and F (w's filters)."""
    if isinstance(groups, bool) or not isinstance(groups, (numbers.Integral, sp.Integer)) or groups < 1:
        raise ArgumentError(f"{layer}: groups must be a positive integer (1: a plain convolution; C: "
                            f"depthwise), got {groups!r}")
    g = int(groups)
    if g != 1 and (x.shape[1] % g or w.shape[0] % g):
        raise ShapeError(f"{layer}: groups={g} must divide both the channels of x {T.fmt(x.shape)} "
                         f"({x.shape[1]}) and the filters of w {T.fmt(w.shape)} ({w.shape[0]})")
    return g


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """The 2-D convolution layer (a cross-correlation, as PyTorch's and cs231n's): x (N, C, H, W),
    w (F, C / groups, HH, WW), b (F,) or None; stride, padding, dilation integers or pairs; groups as
    torch's (groups = C: depthwise), written as a concatenation of per-group convolutions.

    >>> import symgrad as sg
    >>> x, w, b = sg.tensor("x", (2, 3, 5, 7)), sg.tensor("w", (4, 3, 3, 2)), sg.tensor("b", (4,))
    >>> sg.conv2d(x, w, b, stride=(1, 2), padding=1).shape
    (2, 4, 5, 4)
    """
    return conv(x, w, b, stride, padding, dilation, nd=2, groups=groups)


def conv1d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """The 1-D convolution layer: x (N, C, L), w (F, C / groups, K), b (F,) or None.

    >>> import symgrad as sg
    >>> sg.conv1d(sg.tensor("x", (2, 3, 10)), sg.tensor("w", (4, 3, 3)), dilation=2).shape
    (2, 4, 6)
    """
    return conv(x, w, b, stride, padding, dilation, nd=1, groups=groups)


def _pool(cls, x, kernel, stride, padding, nd, layer, ceil_mode=False):
    x = _layer_input(x, nd, layer)
    k = _tuple_arg(kernel, nd, "kernel", layer, 1)
    s = k if stride is None else _tuple_arg(stride, nd, "stride", layer, 1)
    p = _tuple_arg(padding, nd, "padding", layer, 0)
    if any(2 * pp > kk for pp, kk in zip(p, k)):
        raise ArgumentError(f"{layer}: padding {p} must be at most half the kernel {k} (as torch's; a "
                            f"window of padding alone has no entry to pool)")
    for i, (n, kk, pp) in enumerate(zip(x.shape[2:], k, p)):
        if kk > n + 2 * pp:
            raise ShapeError(f"{layer}: the pool window {k} does not fit the input x {T.fmt(x.shape)} "
                             f"with padding {p}: {kk} > {n + 2 * pp} on spatial axis {i}")
    _flag(ceil_mode, "ceil_mode", layer)
    if ceil_mode and cls is MaxPool and any((n + 2 * pp - kk) % ss for n, kk, ss, pp in zip(x.shape[2:], k, s, p)):
        return _max_pool_ceil(x, k, s, p)
    if ceil_mode:
        for i, (n, kk, ss, pp) in enumerate(zip(x.shape[2:], k, s, p)):
            if (n + 2 * pp - kk) % ss:
                raise ArgumentError(
                    f"{layer}: ceil_mode=True adds a partial window at the end of spatial axis {i} "
                    f"(size {n}, padding {pp}, kernel {kk}, stride {ss}), which is not supported; "
                    f"supported: ceil_mode=False (the default), or ceil_mode=True where the windows tile "
                    f"the padded input exactly ((size + 2·padding − kernel) divisible by the stride)")
    return cls(x, Tuple(*k), Tuple(*s), Tuple(*p))


def _max_pool_ceil(x, k, s, p):
    """torch's max pooling with ceil_mode=True: one more window at the end of an axis when the last
    one would start inside the input or its left padding, padded past the end with −∞ (it takes the
    max of the entries it covers). The windows (`Windows`, −∞ fill, asymmetric padding), flattened,
    then the max over the window: the gradient goes to its first arg-max."""
    nd = len(k)
    pads, out = [], []
    for n, kk, ss, pp in zip(x.shape[2:], k, s, p):
        o = -(-(n + 2 * pp - kk) // ss) + 1                 # ⌈(n + 2p − k) / s⌉ + 1
        if (o - 1) * ss >= n + pp:                          # a window starting in the right padding: dropped
            o -= 1
        pads.append(Tuple(pp, (o - 1) * ss + kk - n - pp))
        out.append(o)
    win = Windows(x, Tuple(*k), Tuple(*s), Tuple(*pads), Tuple(*[1] * nd), -sp.oo)
    lead = tuple(x.shape[:2]) + tuple(out)
    size = 1
    for kk in k:
        size *= kk
    return T.max(T.reshape(win, lead + (size,)), axis=-1)


def _flag(v, name, layer):
    if not isinstance(v, bool):
        raise ArgumentError(f"{layer}: {name} must be True or False, got {v!r}")


def _max_pool_options(layer, dilation, return_indices, nd):
    """torch's max-pool keywords beyond kernel/stride/padding: their default values are accepted."""
    if _tuple_arg(dilation, nd, "dilation", layer, 1) != (1,) * nd:
        raise ArgumentError(f"{layer}: dilation={dilation!r} is not supported; pooling windows are "
                            f"contiguous (dilation=1, the default)")
    _flag(return_indices, "return_indices", layer)
    if return_indices:
        raise ArgumentError(f"{layer}: return_indices=True is not supported; {layer} returns the pooled "
                            f"values only (return_indices=False, the default). The gradient needs no "
                            f"indices: it goes to the first arg-max of each window")


def _avg_pool(x, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override, nd, layer):
    """torch's average pooling keywords: count_include_pad=False only where there is no padding
    (then it changes nothing); divisor_override d divides the window's sum by d instead of its size."""
    _flag(count_include_pad, "count_include_pad", layer)
    pooled = _pool(AvgPool, x, kernel, stride, padding, nd, layer, ceil_mode)
    if not count_include_pad and set(pooled.padding) != {0}:
        if divisor_override is not None:
            raise ArgumentError(f"{layer}: divisor_override sets the divisor; count_include_pad=False "
                                f"changes it too: give one of them")
        # the window's sum over the entries inside x alone: the average of x over the average of ones,
        # the same pool of a constant (1, 1, *S) tensor of ones (a fraction per position, no gradient)
        from .tensor_tri import ones
        inside = AvgPool(ones((1, 1) + tuple(pooled.args[0].shape[2:])), *pooled.args[1:])
        return pooled / inside
    if divisor_override is None:
        return pooled
    if isinstance(divisor_override, bool) or not isinstance(divisor_override, (numbers.Integral, sp.Integer)) \
            or divisor_override < 1:
        raise ArgumentError(f"{layer}: divisor_override must be None or a positive integer, "
                            f"got {divisor_override!r}")
    size = 1
    for kk in pooled.kernel:
        size *= kk
    return pooled * sp.Rational(size, int(divisor_override))       # the window's sum / divisor_override


def max_pool2d(x, kernel=None, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False, *,
               kernel_size=None):
    """Max pooling over (N, C, H, W), as ``torch.nn.functional.max_pool2d``; stride defaults to the
    kernel. Its gradient goes to the first arg-max of each window (row-major order in the window).
    torch's other keywords are accepted at their defaults (dilation=1, return_indices=False), and
    ceil_mode=True where the windows tile the input exactly; other values are a clear error.

    >>> import symgrad as sg
    >>> sg.max_pool2d(sg.tensor("x", (2, 3, 8, 6)), 2, stride=(2, 1))
    max_pool2d(x, 2, stride=(2, 1))
    """
    _max_pool_options("max_pool2d", dilation, return_indices, 2)
    kernel = _kernel_arg(kernel, kernel_size, "max_pool2d")
    return _pool(MaxPool, x, kernel, stride, padding, 2, "max_pool2d", ceil_mode)


def avg_pool2d(x, kernel=None, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None, *, kernel_size=None):
    """Average pooling over (N, C, H, W), as ``torch.nn.functional.avg_pool2d`` (the padded zeros
    count in the average). count_include_pad=False is accepted without padding, ceil_mode=True where
    the windows tile the input exactly, and divisor_override as torch's.

    >>> import symgrad as sg
    >>> sg.avg_pool2d(sg.tensor("x", (2, 3, 8, 6)), 2).shape
    (2, 3, 4, 3)
    """
    return _avg_pool(x, _kernel_arg(kernel, kernel_size, "avg_pool2d"), stride, padding, ceil_mode,
                     count_include_pad, divisor_override, 2, "avg_pool2d")


def max_pool1d(x, kernel=None, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False, *,
               kernel_size=None):
    """Max pooling over (N, C, L): see `max_pool2d`."""
    _max_pool_options("max_pool1d", dilation, return_indices, 1)
    kernel = _kernel_arg(kernel, kernel_size, "max_pool1d")
    return _pool(MaxPool, x, kernel, stride, padding, 1, "max_pool1d", ceil_mode)


def avg_pool1d(x, kernel=None, stride=None, padding=0, ceil_mode=False, count_include_pad=True, *,
               kernel_size=None):
    """Average pooling over (N, C, L): see `avg_pool2d`."""
    return _avg_pool(x, _kernel_arg(kernel, kernel_size, "avg_pool1d"), stride, padding, ceil_mode,
                     count_include_pad, None, 1, "avg_pool1d")


def _kernel_arg(kernel, kernel_size, who):
    """The pool's kernel, positionally or as torch's keyword ``kernel_size=`` (F.max_pool2d(x,
    kernel_size=2)), once."""
    if (kernel is None) == (kernel_size is None):
        raise ArgumentError(f"{who}: give the kernel size once, positionally or as kernel_size= "
                            f"({who}(x, 2) or {who}(x, kernel_size=2))")
    return kernel if kernel is not None else kernel_size


def flip(x, axes=None, *, axis=None, dims=None):
    """np.flip(x, axis): the entries in reverse order along ``axes`` (an int or a tuple; NumPy's
    keyword ``axis=`` and torch's ``dims=`` name the same; none of them: every axis, as np.flip).

    >>> import symgrad as sg
    >>> sg.flip(sg.tensor("w", (4, 3, 3, 3)), (2, 3))
    flip(w, (2, 3))
    >>> sg.flip(sg.tensor("w", (4, 3, 3)), axis=2)
    flip(w, (2,))
    """
    given = [a for a in (axes, axis, dims) if a is not None]
    if len(given) > 1:
        raise ArgumentError("flip: give the axes once (positionally, as axis= or as torch's dims=)")
    x = T._tensor_arg(x, "flip")
    axes = T._axes(given[0] if given else tuple(range(x.ndim)), x.ndim, "flip", x)
    return Flip(x, Tuple(*axes)) if axes else x


T.BY_LATER_MODULES["flip"] = flip          # torch's x.flip(dims)


# The text reads these of a tensor (symgrad/frontend/parse.py): conv2d(x, w, b, stride=2, padding=1),
# conv2d(x, w, padding="same"), max_pool2d(x, 2), avg_pool2d(x, kernel_size=(2, 2), stride=1,
# ceil_mode=True); sizes integer constants ("window"), torch's keywords as the Python API takes them.
_CONV_KEYWORDS = {"stride": "window", "padding": "padding", "dilation": "window", "groups": "window"}
_register_text("conv2d", conv2d, (2, 3), rest=("operand", "operand"), keywords=_CONV_KEYWORDS)
_register_text("conv1d", conv1d, (2, 3), rest=("operand", "operand"), keywords=_CONV_KEYWORDS)


def _pool_text(pool):
    """A pool as the text calls it: the kernel positionally or as torch's kernel_size=."""
    def build(x, kernel=None, kernel_size=None, **kw):
        if (kernel is None) == (kernel_size is None):
            raise ArgumentError(f"{pool.__name__}: give the kernel size once, positionally or as kernel_size=")
        return pool(x, kernel if kernel is not None else kernel_size, **kw)
    return build


_POOL_KEYWORDS = {"kernel_size": "window", "stride": "window", "padding": "window", "ceil_mode": "bool"}
_MAX_POOL_KEYWORDS = {**_POOL_KEYWORDS, "dilation": "window", "return_indices": "bool"}
_AVG_POOL_KEYWORDS = {**_POOL_KEYWORDS, "count_include_pad": "bool"}
for _layer, _keywords in ((max_pool2d, _MAX_POOL_KEYWORDS), (max_pool1d, _MAX_POOL_KEYWORDS),
                         (avg_pool2d, {**_AVG_POOL_KEYWORDS, "divisor_override": "optional_window"}),
                         (avg_pool1d, _AVG_POOL_KEYWORDS)):
    _register_text(_layer.__name__, _pool_text(_layer), (1, 2), rest=("window",), keywords=_keywords)
del _layer, _keywords
