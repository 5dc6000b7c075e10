"""The convolution as the notes write it, a sum over shifted products, recognised as `conv2d`.

The lecture writes (f ∗ g)(x, y) = Σᵢ Σⱼ f(x − i, y − j)·g(i, j), cs231n writes
out[n, f, i, j] = Σ_c Σ_k Σ_l x[n, c, s·i + k, s·j + l]·w[f, c, k, l]. Two spellings of that sum
lower here to the one primitive (`Conv`), so that both give the gradient of ``sg.conv2d``, in its
vocabulary (correlation with δ, full convolution with the flipped kernel):

- `from_indexed`: an ``sp.Sum`` over a product of two ``sp.Indexed``, with the tensors they stand
  for and the output indices (n, f, i, j), or (x, y) for the notes' one-image formula;
- `as_conv`: a tensor expression that adds up shifted slices times kernel entries,
  ``Σ_{k,l} (x[:, None, :, k:k+H', l:l+W'] * w[None, :, :, k, l, None, None]).sum(axis=2)``, or the
  single-image ``Σ_{k,l} g[k, l] * x[k:k+H', l:l+W']``.

Zero padding (reads outside x are 0, as the notes pad) is an index offset in the ``Indexed`` form:
x[n, c, i + k − 1, ...] is padding 1. A minus sign on the kernel index (x[n, c, i − k + 2]) is the
true convolution of the notes: the kernel flipped. The slicing form has no padding (slices cannot
read outside x): pad x first and call ``sg.conv2d`` with ``padding=``.

>>> import sympy as sp, symgrad as sg
>>> n, f, i, j, c, k, l = sp.symbols("n f i j c k l", integer=True)
>>> X, W = sp.IndexedBase("X"), sp.IndexedBase("W")
>>> s = sp.Sum(X[n, c, 2*i + k - 1, 2*j + l - 1] * W[f, c, k, l], (c, 0, 2), (k, 0, 2), (l, 0, 2))
>>> x, w = sg.tensor("x", (5, 3, 8, 8)), sg.tensor("w", (4, 3, 3, 3))
>>> sg.from_indexed(s, {X: x, W: w}, out_indices=(n, f, i, j))
conv2d(x, w, stride=2, padding=1)
"""
from __future__ import annotations

import itertools

import sympy as sp

from . import tensor as T
from .conv import conv, conv_out_size, flip
from ..errors import ArgumentError, UnsupportedError

__all__ = ["from_indexed", "as_conv", "NotAConvolution"]

_EXPECT_INDEXED = ("sp.Sum(x[n, c, s*i + d*k - p, s*j + d*l - p] * w[f, c, k, l], (c, 0, C-1), "
                   "(k, 0, KH-1), (l, 0, KW-1)) with out_indices (n, f, i, j) (conv1d: x[n, c, s*i + k - p] "
                   "* w[f, c, k]; one image: x[i + k, j + l] * g[k, l] with out_indices (i, j)); "
                   "−k instead of +k flips the kernel (the true convolution)")
_EXPECT_SLICES = ("a sum over every kernel offset (k, l) of (x[:, None, :, k:k+H':s, l:l+W':s] * "
                  "w[None, :, :, k, l, None, None]).sum(axis=2), or of g[k, l] * x[k:k+H':s, l:l+W':s] "
                  "for one image, each offset once, every slice the full output size")


class NotAConvolution(UnsupportedError):
    """A sum over shifted products that is not a convolution `conv2d` can state; the message names
    the part that does not match and the pattern expected."""


def _fail(what, expect):
    raise NotAConvolution(f"not a convolution: {what}. Expected {expect}")


# ===================================================================================================
# The sp.Sum over sp.Indexed spelling


def _linear(e, out_sym, sum_sym, who):
    """e = s·out_sym + a·sum_sym + o with integers s, a, o: (s, a, o), or a NotAConvolution."""
    e = sp.expand(e)
    extra = e.free_symbols - {out_sym, sum_sym}
    if extra:
        _fail(f"the index {e} of {who} has {', '.join(sorted(map(str, extra)))}, which is neither the "
              f"output index {out_sym} nor the kernel index {sum_sym}", _EXPECT_INDEXED)
    poly = sp.Poly(e, out_sym, sum_sym)
    if poly.total_degree() > 1:
        _fail(f"the index {e} of {who} is not linear in {out_sym} and {sum_sym}", _EXPECT_INDEXED)
    s, a, o = (poly.coeff_monomial(m) for m in (out_sym, sum_sym, 1))
    if not all(v.is_Integer for v in (s, a, o)):
        _fail(f"the index {e} of {who} has a coefficient that is not an integer", _EXPECT_INDEXED)
    if s <= 0:
        _fail(f"the index {e} of {who}: the output index {out_sym} must come with a stride ≥ 1, "
              f"got {s}", _EXPECT_INDEXED)
    if a == 0:
        _fail(f"the index {e} of {who} does not move with the kernel index {sum_sym}", _EXPECT_INDEXED)
    return int(s), int(a), int(o)


def _lookup(tensors, base):
    for key in (base, base.label, str(base.label)):
        if key in tensors:
            t = tensors[key]
            if not isinstance(t, T.Tensor):
                raise ArgumentError(f"from_indexed: {base} must map to a tensor (sg.tensor), got {t!r}")
            return t
    raise ArgumentError(f"from_indexed: {base} is not in the tensors given "
                        f"({', '.join(map(str, tensors)) or 'none'}); map it to an sg.tensor")


def from_indexed(expr, tensors, out_indices):
    """The `conv2d` (or `conv1d`) tensor expression that the sum ``expr`` over ``sp.Indexed``
    states, its entries indexed by ``out_indices`` = (n, f, i, j) (conv1d: (n, f, i)); for one
    image, (i, j) or (i,) with x (H, W) and the kernel g (KH, KW), the result (H', W').

    ``tensors`` maps each ``IndexedBase`` (or its name) to the `sg.tensor` it stands for: x of
    shape (N, C, H, W), w of shape (F, C, KH, KW). The summation runs over c, k, l, each over the
    whole axis; the index of x on a spatial axis is s·i + d·k − p: stride s, dilation d, zero padding
    p (a read outside x is 0). −d·k flips the kernel, the true convolution
    Σᵢ Σⱼ f(x − i, y − j)·g(i, j) of the notes. The output has conv2d's size for that padding. A
    sum of another shape is a `NotAConvolution` naming what does not match.

    >>> import sympy as sp, symgrad as sg
    >>> n, f, i, c, k = sp.symbols("n f i c k", integer=True)
    >>> X, W = sp.IndexedBase("X"), sp.IndexedBase("W")
    >>> x, w = sg.tensor("x", (2, 3, 10)), sg.tensor("w", (4, 3, 3))
    >>> sg.from_indexed(sp.Sum(X[n, c, i - k + 2] * W[f, c, k], (c, 0, 2), (k, 0, 2)),
    ...                 {"X": x, "W": w}, (n, f, i))
    conv1d(x, flip(w, (2,)))
    """
    out = tuple(out_indices)
    if not 1 <= len(out) <= 4 or not all(isinstance(o, sp.Symbol) for o in out) or len(set(out)) != len(out):
        raise ArgumentError(f"from_indexed: out_indices must be distinct symbols, (n, f, i, j) or (n, f, i) "
                            f"for a batch, (i, j) or (i,) for one image, got {out_indices!r}")
    batched = len(out) >= 3                  # (n, f, *spatial); one image: (*spatial)
    lead = 2 if batched else 0
    nd = len(out) - lead
    body, limits = sp.sympify(expr), []
    while isinstance(body, sp.Sum):
        limits = list(body.limits) + limits
        body = body.function
    if not limits:
        _fail(f"{expr} is not an sp.Sum", _EXPECT_INDEXED)
    factors = body.args if isinstance(body, sp.Mul) else (body,)
    idx = [a for a in factors if isinstance(a, sp.Indexed)]
    if len(idx) != 2 or len(factors) != 2:
        _fail(f"the summand {body} is not a product of two sp.Indexed", _EXPECT_INDEXED)
    ranges = {}
    for lim in limits:
        if len(lim) != 3:
            _fail(f"the summation {lim} has no range", _EXPECT_INDEXED)
        v, lo, hi = lim
        if v in ranges:
            _fail(f"{v} is summed twice", _EXPECT_INDEXED)
        ranges[v] = (lo, hi)
    spatial = out[lead:]
    if batched:
        # x is the factor indexed by the batch index n first, w the one indexed by the filter index f
        n, fo = out[0], out[1]
        by_first = {a.indices[0]: a for a in idx}
        if n not in by_first or fo not in by_first:
            _fail(f"in {body}, one factor must be indexed by the batch index {n} first (x) and the other "
                  f"by the filter index {fo} first (w)", _EXPECT_INDEXED)
        xi, wi = by_first[n], by_first[fo]
    else:
        # one image, f(x − i, y − j)·g(i, j): g is the factor indexed by summation indices alone
        plain = [a for a in idx if all(v in ranges for v in a.indices)]
        if len(plain) != 1:
            _fail(f"in {body}, exactly one factor (the kernel) must be indexed by the summation indices "
                  f"alone", _EXPECT_INDEXED)
        wi = plain[0]
        xi = idx[1] if idx[0] is wi else idx[0]
    x, w = _lookup(tensors, xi.base), _lookup(tensors, wi.base)
    for a, t, name in ((xi, x, "x"), (wi, w, "w")):
        if len(a.indices) != len(out) or t.ndim != len(out):
            _fail(f"{a} ({name}, the tensor {t} of shape {T.fmt(t.shape)}) must have {len(out)} indices and "
                  f"axes for {len(out)} output indices", _EXPECT_INDEXED)
    kern = wi.indices[lead:]
    summed = set(kern)
    if batched:
        c = wi.indices[1]
        if xi.indices[1] != c or c not in ranges:
            _fail(f"the channel index of {xi} and {wi} (their second index) must be the same summation "
                  f"index, got {xi.indices[1]} and {wi.indices[1]}", _EXPECT_INDEXED)
        if x.shape[1] != w.shape[1]:
            _fail(f"x {x} has {x.shape[1]} channels, w {w} expects {w.shape[1]}", _EXPECT_INDEXED)
        summed.add(c)
    if len(set(kern)) != nd or any(kk not in ranges for kk in kern) or (batched and c in kern):
        _fail(f"the kernel indices of {wi} must be distinct summation indices", _EXPECT_INDEXED)
    if set(ranges) != summed:
        extra = set(ranges) - summed
        _fail(f"{', '.join(map(str, extra))} is summed but indexes no kernel axis", _EXPECT_INDEXED)
    full = {kk: w.shape[lead + d] for d, kk in enumerate(kern)}
    if batched:
        full[c] = w.shape[1]
    for v, size in full.items():
        lo, hi = ranges[v]
        if not (sp.sympify(lo) == 0 and sp.sympify(hi) == size - 1):
            _fail(f"{v} runs over ({lo}, {hi}), but the axis it indexes has {size} entries: it must run "
                  f"over (0, {size - 1})", _EXPECT_INDEXED)
    stride, dil, pad, flips = [], [], [], []
    for d, (i_d, k_d) in enumerate(zip(spatial, kern)):
        s, a, o = _linear(xi.indices[lead + d], i_d, k_d, f"x ({xi})")
        K = w.shape[lead + d]
        lowest = o + min(0, a * (K - 1))            # the first position the window at i = 0 reads
        if lowest > 0:
            _fail(f"the window at {i_d} = 0 starts at {lowest} on spatial axis {d}, not at 0 or before "
                  f"(padding): a cropped input is not a convolution layer", _EXPECT_INDEXED)
        stride.append(s)
        dil.append(abs(a))
        pad.append(-lowest)
        if a < 0:
            flips.append(2 + d)
    xx, ww = (x, w) if batched else (x.reshape((1, 1) + x.shape), w.reshape((1, 1) + w.shape))
    kernel = flip(ww, tuple(flips)) if flips else ww
    res = conv(xx, kernel, None, tuple(stride), tuple(pad), tuple(dil), nd=nd)
    return res if batched else res.reshape(res.shape[2:])


# ===================================================================================================
# The tensor API's slicing spelling


def _factor_axes(e):
    """For a factor Index(t, items), Reshape(Index(t, items)) adding 1-axes, or a tensor t: (t, per
    axis of the factor the (axis of t, start, stop, step) or None for an inserted 1, {axis of t:
    integer index})."""
    e = T._unwrap(e)
    shape = None
    if isinstance(e, T.Reshape):
        shape, e = tuple(e.shape), e.args[0]
    if isinstance(e, T.Tensor):
        e = T.Index(e, sp.Tuple(*[sp.Tuple(0, d, 1) for d in e.shape]))
    if not (isinstance(e, T.Index) and isinstance(e.args[0], T.Tensor)):
        return None
    t, axes, fixed = e.args[0], [], {}
    for ax, it in enumerate(e.items):
        if isinstance(it, sp.Tuple):
            start, stop, step = it
            axes.append((ax, int(start), int(stop) if stop.is_Integer else stop, int(step)))
        else:
            fixed[ax] = int(it)
    if shape is not None:                   # only 1-axes inserted: place the sliced axes in order
        inner, placed, q = tuple(e.shape), [], 0
        for d in shape:
            if q < len(inner) and T.dims_equal(d, inner[q]):
                placed.append(axes[q])
                q += 1
            elif d == 1:
                placed.append(None)
            else:
                return None
        if q != len(inner):
            return None
        axes = placed
    return t, axes, fixed


def _term(term):
    """One shifted product: (x, w, {result axis: (x axis, start, stop, step)}, w's integer indices,
    w's sliced axes by result axis, channel result axis or None, rank)."""
    term = T._unwrap(term)
    chan = None
    if isinstance(term, T.Reduce):
        if term.op != "sum" or len(term.axes) != 1 or term.keepdims:
            _fail(f"the term {term} reduces otherwise than a sum over one (channel) axis", _EXPECT_SLICES)
        chan, term = term.axes[0], T._unwrap(term.x)
    factors = term.args if isinstance(term, sp.Mul) else (term,)
    if len(factors) != 2:
        _fail(f"the term {term} is not a product of two tensor slices", _EXPECT_SLICES)
    got = [_factor_axes(a) for a in factors]
    if any(g is None for g in got):
        _fail(f"a factor of {term} is not a slice of a tensor (x[...], with None axes)", _EXPECT_SLICES)
    # w is the factor indexed by integers on its kernel axes; x the one sliced at shifted offsets
    if bool(got[0][2]) == bool(got[1][2]):
        _fail(f"in {term}, exactly one factor (the kernel w) must be indexed by integers", _EXPECT_SLICES)
    (x, xa, xf), (w, wa, wf) = got if got[1][2] else got[::-1]
    if xf:
        _fail(f"the input {x} is indexed by an integer in {term}", _EXPECT_SLICES)
    rank = max(len(xa), len(wa))
    xa = [None] * (rank - len(xa)) + list(xa)      # broadcasting aligns on the right
    wa = [None] * (rank - len(wa)) + list(wa)
    return x, w, xa, wf, wa, chan, rank


def as_conv(expr):
    """The `conv2d` (or `conv1d`) that the tensor expression ``expr`` spells as a sum over kernel
    offsets of shifted slices times kernel entries (cs231n's naive loop, vectorized over positions),
    so that its gradient is conv2d's; a `NotAConvolution` naming what does not match otherwise.

    Batched: Σ_{k,l} (x[:, None, :, k:k+H':s, l:l+W':s] * w[None, :, :, k, l, None, None]).sum(axis=2)
    with x (N, C, H, W), w (F, C, KH, KW), H' the output height; one image:
    Σ_{k,l} g[k, l] * x[k:k+H':s, l:l+W':s] with x (H, W), g (KH, KW), the result (H', W'). Offsets
    spaced d apart (x[d·k: ...]) are a dilation; g[KH−1−k, ...] the flipped kernel. No padding.

    >>> import symgrad as sg
    >>> x, g = sg.tensor("x", (6, 7)), sg.tensor("g", (3, 2))
    >>> sg.as_conv(sum(g[k, l] * x[k:k + 4, l:l + 6] for k in range(3) for l in range(2)))
    conv2d(x.reshape(1, 1, 6, 7), g.reshape(1, 1, 3, 2)).reshape(4, 6)
    """
    e = T._unwrap(T.as_tensor(expr)) if T.is_tensor_expr(expr) else expr
    terms = e.args if isinstance(e, sp.Add) else (e,)
    parsed = [_term(t) for t in terms]
    x, w, _, _, _, chan, rank = parsed[0]
    batched = x.ndim == w.ndim and chan is not None
    nd = x.ndim - 2 if batched else x.ndim
    if nd not in (1, 2) or w.ndim != x.ndim:
        _fail(f"x {x} of shape {T.fmt(x.shape)} and w {w} of shape {T.fmt(w.shape)}: the batched form takes "
              f"x (N, C, H, W) and w (F, C, KH, KW), the one-image form x (H, W) and g (KH, KW)",
              _EXPECT_SLICES)
    K = w.shape[-nd:]
    starts, steps, sizes = {}, None, None
    for t in parsed:
        tx, tw, xa, wf, wa, tchan, trank = t
        if (tx, tw, tchan, trank) != (x, w, chan, rank):
            _fail(f"the terms differ in their tensors or layout ({tx} * {tw} against {x} * {w})",
                  _EXPECT_SLICES)
        if batched:
            # result axes: (N, F, C, *spatial) with C summed: x (N, -, C, S...), w (-, F, C, -...)
            want_x = [(0, 0, x.shape[0], 1), None, (1, 0, x.shape[1], 1)]
            want_w = [None, (0, 0, w.shape[0], 1), (1, 0, w.shape[1], 1)]
            if rank != nd + 3 or chan != 2 or xa[:3] != want_x or \
                    wa[:3] != want_w or any(a is not None for a in wa[3:]):
                _fail(f"the term {x} * {w} does not put N, F, C on axes 0, 1, 2 (C summed by .sum(axis=2)) "
                      f"and the positions after them", _EXPECT_SLICES)
            sp_axes = xa[3:]
        else:
            if rank != nd or any(a is not None for a in wa):
                _fail(f"the kernel {w} must be indexed by integers on every axis in the one-image form",
                      _EXPECT_SLICES)
            sp_axes = xa
        koff = tuple(wf.get(a) for a in range(w.ndim - nd, w.ndim))
        if None in koff or (batched and set(wf) != set(range(2, w.ndim))):
            _fail(f"the kernel {w} must be indexed by integers on its {nd} kernel axes", _EXPECT_SLICES)
        if [a[0] if a else None for a in sp_axes] != list(range(x.ndim - nd, x.ndim)):
            _fail(f"the slices of x {x} must run along its spatial axes in order", _EXPECT_SLICES)
        st = tuple(a[3] for a in sp_axes)
        sz = tuple(-(-(a[2] - a[1]) // a[3]) for a in sp_axes)
        if steps is not None and (st, sz) != (steps, sizes):
            _fail(f"the slices of x differ in step or length between terms ({st}, {sz} against "
                  f"{steps}, {sizes})",
                  _EXPECT_SLICES)
        steps, sizes = st, sz
        if koff in starts:
            _fail(f"the kernel entry {koff} appears twice", _EXPECT_SLICES)
        starts[koff] = tuple(a[1] for a in sp_axes)
    missing = set(itertools.product(*[range(k) for k in K])) - set(starts)
    if missing:
        _fail(f"the kernel entries {sorted(missing)} are missing: the sum must run over every offset",
              _EXPECT_SLICES)
    dil, flips = [], []
    for d in range(nd):
        # start of the slice for kernel entry k on axis d: dil·k (correlation) or dil·(K−1−k) (flipped)
        ones = [v for kk, v in starts.items()
                if kk[d] == 1 and all(q == 0 for j, q in enumerate(kk) if j != d)]
        zero = starts[(0,) * nd][d]
        flipped = K[d] > 1 and zero > 0
        step_d = (zero - ones[0][d]) if flipped else (ones[0][d] - zero if K[d] > 1 else 1)
        if step_d < 1:
            _fail(f"the slices on spatial axis {d} do not move forward with the kernel offset",
                  _EXPECT_SLICES)
        for kk, v in starts.items():
            want = step_d * ((K[d] - 1 - kk[d]) if flipped else kk[d])
            if v[d] != want:
                _fail(f"the slice for kernel entry {kk} starts at {v[d]} on spatial axis {d}, not at {want} "
                      f"(the slices must shift with the kernel offset)", _EXPECT_SLICES)
        full = conv_out_size(x.shape[x.ndim - nd + d], K[d], steps[d], 0, 0, 1, step_d)
        if sizes[d] != full:
            _fail(f"the slices on spatial axis {d} have {sizes[d]} entries, but the convolution has {full} "
                  f"positions there (a cropped output is not a convolution layer)", _EXPECT_SLICES)
        dil.append(step_d)
        if flipped:
            flips.append(x.ndim - nd + d if batched else 2 + d)
    xx, ww = (x, w) if batched else (x.reshape((1, 1) + x.shape), w.reshape((1, 1) + w.shape))
    kernel = flip(ww, tuple(flips)) if flips else ww
    out = conv(xx, kernel, None, steps, 0, tuple(dil), nd=nd)
    return out if batched else out.reshape(out.shape[2:])

