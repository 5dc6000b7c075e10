"""Name a resampling layer's backward that puts the upstream gradient in the wrong places: 11-785's
Downsample1d/2d (Z = A[:, :, ::k]) and Upsample1d/2d (k − 1 zeros between the entries) written as
layers of their own, each with its backward:

    Downsample   dLdA = np.zeros of A's own width (stored in the forward), dLdA[:, :, ::k] = dLdZ
    Upsample     dLdA = dLdZ[:, :, ::k]

The slips named, each read off the point's values (dout and the true gradient), never off f:

    downsample, wrong width      the zeros k·(W_out − 1) or k·W_out wide, not W_in: the last column
                                 dropped (an odd W_in), or one column too many
    downsample, wrong entries    dLdZ written at offset o ≠ 0 (dLdA[:, :, 1::k] = dLdZ), or every k'th
                                 entry for another k
    downsample, repeated         np.repeat(dLdZ, k): every entry of a block given the gradient, the
                                 backward of a nearest-neighbour upsampling's forward
    upsample, another step       dLdZ[:, :, ::k'] with k' = k ± 1: the dilation off by one
    upsample, another offset     dLdZ[:, :, o::k], the inserted zeros' gradients

The layer is recognised from the true gradient itself: T[..., ::k] = dout and T zero elsewhere is a
downsampling's backward, T = dout[..., ::k] an upsampling's, along the axes where w and dout differ
in size. (An upsampling that a convolution consumes, 11-785's ConvTranspose1d, is upsample_hints.py's:
there the gradient is not dout's.) `hints.find_hint` and `hints.shape_hint` ask it.
"""
from __future__ import annotations

import re

import numpy as np

from .hint_kind import Hint
from .hint_case import Case, same


def _douts(case: Case):
    """Per dout of the point with w's number of axes: its values at each point."""
    example = case.points[0].example()
    nd = len(case.T()[0].shape)
    for d in (n for n in example if re.fullmatch(r"dout\d*", str(n))):
        vals = [np.asarray(p.example()[d], float) for p in case.points]
        if vals[0].ndim == nd:
            yield vals


def _index(axes, ks, offs=None, nd=None) -> tuple:
    offs = offs or [0] * len(axes)
    return tuple(slice(offs[axes.index(a)], None, ks[axes.index(a)]) if a in axes else slice(None)
                 for a in range(nd))


def _put(shape, axes, ks, D, offs=None):
    """zeros of ``shape`` with D written at offs::ks along ``axes`` (D cut to fit, or the zeros'
    remaining entries left 0 where D is shorter)."""
    out = np.zeros(shape)
    idx = _index(axes, ks, offs, len(shape))
    room = out[idx].shape
    cut = tuple(slice(0, min(a, b)) for a, b in zip(room, D.shape))
    sub = out[idx]
    sub[cut] = D[cut]
    out[idx] = sub
    return out


def _fit(a, shape):
    """a cut, or padded with zeros, to ``shape``."""
    out = np.zeros(shape)
    cut = tuple(slice(0, min(x, y)) for x, y in zip(a.shape, shape))
    out[cut] = a[cut]
    return out


def _layer(Ts, Ds):
    """("down" | "up", axes, ks) when the gradient is dout resampled by ks along ``axes``, else None."""
    ts, ds = Ts[0].shape, Ds[0].shape
    axes = [a for a in range(len(ts)) if ts[a] != ds[a]]
    if not axes or len(axes) > 3:
        return None
    down = all(ts[a] > ds[a] for a in axes)
    big, small = (ts, ds) if down else (ds, ts)
    if not down and not all(ts[a] < ds[a] for a in axes):
        return None
    ks = [-(-big[a] // small[a]) for a in axes]           # the k with ceil(big / k) = small
    if any(k < 2 or -(-big[a] // k) != small[a] for k, a in zip(ks, axes)):
        return None
    idx = _index(axes, ks, nd=len(ts))
    for t, d in zip(Ts, Ds):
        if down:
            if not same(t, _put(t.shape, axes, ks, d)):
                return None
        elif not same(t, d[idx]):
            return None
    return ("down" if down else "up"), axes, ks


def _read(axes, ks, offs, nd) -> str:
    return ", ".join(f"{o if o else ''}::{k}" if a in axes else ":"
                     for a in range(nd) for k, o in [(dict(zip(axes, ks)).get(a), dict(zip(axes, offs)).get(a, 0))])


def resample_hint(case: Case, want: str | None = None) -> str | None:
    try:
        return _resample_hint(case, want)
    except Exception:   # noqa: BLE001 - asked by shape_hint too: a case it cannot read gets no hint
        return None


def _resample_hint(case: Case, want: str | None) -> str | None:
    Cs, Ts = case.C(), case.T()
    if any(c is None for c in Cs) or not Ts[0].ndim:
        return None
    for Ds in _douts(case):
        layer = _layer(Ts, Ds)
        if layer is not None:
            kind, axes, ks = layer
            said = (_downsample_slip if kind == "down" else _upsample_slip)(case, Cs, Ts, Ds, axes, ks, want)
            if said:
                return said
    return None


def _all(Cs, cands) -> bool:
    return all(c.shape == k.shape and same(c, k) for c, k in zip(Cs, cands))


def _downsample_slip(case, Cs, Ts, Ds, axes, ks, want):
    name, nd, cs, ts = case.w.name, Ts[0].ndim, Cs[0].shape, Ts[0].shape
    layer = f"Downsample{len(axes)}d" if len(axes) < 3 else "a downsampling"
    right = (f"d{name} = np.zeros of {name}'s own shape {tuple(ts)} (stored in the forward), then "
             f"d{name}[{_read(axes, ks, [0] * len(axes), nd)}] = dLdZ")
    shape = f"the claim has shape {tuple(cs)}, but {want}; " if want else ""
    if len(cs) == nd and cs != ts and all(cs[a] == ts[a] for a in range(nd) if a not in axes):
        if _all(Cs, [_put(cs, axes, ks, d) for d in Ds]):
            widths = ", ".join(f"{cs[a]} where {name} has {ts[a]} along axis {a}" for a in axes if cs[a] != ts[a])
            lost = any(cs[a] < ts[a] and (ts[a] - 1) % k == 0 and cs[a] <= ts[a] - 1
                       for a, k in zip(axes, ks))
            what = (f"the last entry the forward reads ({name}[{_read(axes, ks, [0] * len(axes), nd)}] reaches "
                    f"index {', '.join(str(ts[a] - 1) for a in axes)}) is dropped, and its gradient with it"
                    if lost else "the extra entries are zeros the input does not have")
            return Hint("downsample backward with the wrong width",
                        f"{shape}the claim is dLdZ put at every "
                        f"{_nth(ks)} entry, as it belongs, but in zeros {widths} — {what}. "
                        f"The width of the input cannot be computed back from dLdZ's "
                        f"(k·(W_out − 1) + 1 and k·W_out differ from W_in when (W_in − 1) is not a multiple of "
                        f"k): {right} ({layer}'s backward).")
    if cs != ts:
        return None
    for offs in _offsets(ks):
        if _all(Cs, [_put(ts, axes, ks, d, offs) for d in Ds]):
            return Hint("downsample backward writes the wrong entries",
                        f"the claim is d{name}[{_read(axes, ks, offs, nd)}] "
                        f"= dLdZ where the forward read {name}[{_read(axes, ks, [0] * len(axes), nd)}]; only the "
                        f"entries the forward read take a gradient: {right} ({layer}'s backward).")
    for k2 in _other_steps(ks, ts, axes):
        if _all(Cs, [_put(ts, axes, k2, d) for d in Ds]):
            return Hint("downsample backward with another step",
                        f"the claim writes dLdZ at every "
                        f"{_nth(k2)} entry, d{name}[{_read(axes, k2, [0] * len(axes), nd)}] = dLdZ, where "
                        f"the forward's is {_factor(ks)}: {right} ({layer}'s backward).")
    rep = []
    for d in Ds:
        r = d
        for a, k in zip(axes, ks):
            r = np.repeat(r, k, axis=a)
        rep.append(_fit(r, ts))
    if _all(Cs, rep):
        return Hint("downsample backward repeats dLdZ",
                    f"the claim gives every entry of each block of "
                    f"{' × '.join(map(str, ks))} the block's entry of dLdZ (np.repeat: the backward of a nearest "
                    f"upsampling's forward, or of an average without its 1/k), but the forward read one entry "
                    f"of each block, and only it takes the gradient; the others get 0: {right} "
                    f"({layer}'s backward).")
    return None


def _upsample_slip(case, Cs, Ts, Ds, axes, ks, want):
    name, nd, cs = case.w.name, Ts[0].ndim, Cs[0].shape
    layer = f"Upsample{len(axes)}d" if len(axes) < 3 else "an upsampling"
    right = (f"d{name} = dLdZ[{_read(axes, ks, [0] * len(axes), nd)}], the entries the forward wrote {name} "
             f"into ({layer}'s backward)")
    shape = f"the claim has shape {tuple(cs)}, but {want}; " if want else ""
    for k2 in _other_steps(ks, Ds[0].shape, axes, least=1):
        idx = _index(axes, k2, nd=nd)
        cands = [d[idx] for d in Ds]
        if cands[0].shape != cs:
            cands = [d[tuple(slice(0, n) for n in cs)] for d in cands] if all(
                x >= y for x, y in zip(cands[0].shape, cs)) else cands
        if _all(Cs, cands):
            off = " — the dilation off by one" if all(abs(a - b) <= 1 for a, b in zip(k2, ks)) else ""
            return Hint("upsample backward with another step",
                        f"{shape}the claim is dLdZ[{_read(axes, k2, [0] * len(axes), nd)}]"
                        f"{' (cut to the input size)' if cands[0].shape != Ds[0][_index(axes, k2, nd=nd)].shape else ''}"
                        f" where the forward put {_zeros(ks).replace(' along', ' between the entries along') if len(ks) > 1 else _zeros(ks) + ' between the entries'}, "
                        f"{_factor(ks)}{off}: {right}.")
    for offs in _offsets(ks):
        cands = [d[_index(axes, ks, offs, nd)] for d in Ds]
        if _all(Cs, cands):
            return Hint("upsample backward reads the wrong entries",
                        f"{shape}the claim is "
                        f"dLdZ[{_read(axes, ks, offs, nd)}], the inserted zeros' gradients, where {right}.")
    return None


def _nth(ks) -> str:
    """'2nd', '3rd', '2nd × 2nd' ..."""
    suf = lambda k: "nd" if k % 10 == 2 and k != 12 else "rd" if k % 10 == 3 and k != 13 else "th"  # noqa: E731
    return " × ".join(f"{k}{suf(k)}" for k in ks)


def _zeros(ks) -> str:
    one = lambda k: "1 zero" if k == 2 else f"{k - 1} zeros"      # noqa: E731
    if len(set(ks)) == 1:
        return one(ks[0]) + (" along each spatial axis" if len(ks) > 1 else "")
    return " × ".join(one(k) for k in ks)


def _factor(ks) -> str:
    return f"a factor {ks[0]}" if len(set(ks)) == 1 else "factors " + " × ".join(map(str, ks))


def _offsets(ks):
    from itertools import product
    return [list(o) for o in product(*[range(k) for k in ks]) if any(o)]


def _other_steps(ks, shape, axes, least=2):
    """The same step for every axis, k ± 1 and 2…4 first, other than ks, each < the axis's size."""
    seen, out = {tuple(ks)}, []
    for k in [ks[0] - 1, ks[0] + 1, 2, 3, 4]:
        k2 = tuple(k for _ in axes)
        if k >= least and k2 not in seen and all(k < shape[a] for a in axes):
            seen.add(k2)
            out.append(list(k2))
    return out


__all__ = ["resample_hint"]
