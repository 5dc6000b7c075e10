"""Numbers as the steps print them: a float, a small vector or matrix as NumPy writes it, a larger
array as its shape with min, mean and max, a 3-d or 4-d array by its first plane; float noise
(below `NOISE` × the largest entry) printed as 0, in the text as in the picture.

>>> number([[1.0, 2.5e-17], [-0.5, 0.25]], "unicode")
'[[1, 0], [−0.5, 0.25]]'
"""
from __future__ import annotations

import numpy as np
import sympy as sp

# ---------------------------------------------------------------------------------------------------
# Numbers

NOISE = 1e-9          # |entry| below this times the largest entry of its matrix (or 1) prints as 0


def clean(a) -> np.ndarray:
    """The array without float noise: entries below `NOISE` × its largest entry (or × 1) are 0.

    >>> clean([[1.0, 2.109e-17], [-0.5, 0.25]]).tolist()
    [[1.0, 0.0], [-0.5, 0.25]]
    """
    a = np.array(a, dtype=float)
    finite = np.abs(a[np.isfinite(a)])
    scale = max(1.0, float(finite.max()) if finite.size else 1.0)
    a[np.abs(a) < NOISE * scale] = 0.0
    return a


def number(v, fmt: str, spec: str = ".4g") -> str:
    """A value (float or small array) in the format ``fmt``, cleaned of float noise as the picture
    is (`clean`): a batch norm's ∂L/∂b₁ is [0, 0, 0], not [1.735e−17, −6.939e−18, 1.735e−18].

    >>> number(-0.19661, "unicode", ".2f"), number([[1.0, 2.0]], "text"), number([1.7e-17, -7e-18], "text")
    ('−0.20', '[[1, 2]]', '[0, 0]')
    """
    a = clean(v)
    one = lambda x: _num(x, spec, fmt)  # noqa: E731
    if a.ndim == 0:
        return one(float(a))
    if a.ndim > 2:
        return _n_d(a, fmt, spec)
    vector = a.ndim == 1                 # a tensor's vector (γ of shape (D,)): [a, b, c], as NumPy
    if vector:
        a = a[None, :]
    if a.size > 16:
        return _summary(a, fmt, spec)
    if fmt in ("latex", "markdown"):
        rows = r" \\ ".join(" & ".join(one(x) for x in row) for row in a)
        return r"\begin{bmatrix} %s \end{bmatrix}" % rows
    if vector:
        return "[" + ", ".join(one(x) for x in a[0]) + "]"
    return "[" + ", ".join("[" + ", ".join(one(x) for x in row) + "]" for row in a) + "]"


def _dims(shape, fmt: str) -> str:
    times = {"unicode": "×", "text": "x"}.get(fmt, r"$\times$")
    return times.join(str(n) for n in shape)


def _words(s: str, fmt: str) -> str:
    return r"\text{%s}" % s if fmt in ("latex", "markdown") else s


def _summary(a, fmt: str, spec: str) -> str:
    """Too many entries to print: the shape and what the entries span; a mean that is float noise
    next to the entries (a centred batch's, 1.4e−16) is 0, as an entry would be.

    >>> _summary(np.arange(20.0).reshape(4, 5), "unicode", ".4g")
    '(4×5 values: min 0, mean 9.5, max 19)'
    >>> _summary(np.array([[-2.0, 1.0, 1.0 + 1e-15]] * 6), "text", ".4g")
    '(6x3 values: min -2, mean 0, max 1)'
    """
    finite = a[np.isfinite(a)]
    if not finite.size:
        return _words(f"({_dims(a.shape, fmt)} values, none finite)", fmt)
    span = clean([finite.min(), finite.mean(), finite.max()])
    if fmt in ("latex", "markdown"):
        stats = [r"\text{%s } %s" % (k, _num(float(v), spec, fmt)) for k, v in zip(("min", "mean", "max"), span)]
        return r"\text{(%s values: }%s\text{)}" % (_dims(a.shape, fmt), r"\text{, }".join(stats))
    stats = ", ".join(f"{k} {_num(float(v), spec, fmt)}" for k, v in zip(("min", "mean", "max"), span))
    return f"({_dims(a.shape, fmt)} values: {stats})"


def _n_d(a, fmt: str, spec: str) -> str:
    """A 3-d or 4-d array as the picture draws it: its first plane (image 0, channel 0 of a batch),
    said to be one; all of it, nested as NumPy lists, when its planes are single numbers (a bias of
    shape (1, C, 1, 1)) and it has at most 16 (in LaTeX its entries in a row, and its shape); else
    its shape and what its entries span.

    >>> _n_d(np.arange(8.0).reshape(2, 2, 2), "text", ".4g")
    '[[0, 1], [2, 3]] at [0, :, :] of 2x2x2'
    >>> _n_d(np.array([0.5, -1.0]).reshape(1, 2, 1, 1), "unicode", ".4g")
    '[[[[0.5]], [[−1]]]]'
    """
    plane = a.reshape((-1,) + a.shape[-2:])[0]
    if plane.size < 2 and a.size <= 16 and fmt not in ("latex", "markdown"):   # b of shape (1, C, 1, 1)
        def nest(x):
            return _num(float(x), spec, fmt) if x.ndim == 0 else "[" + ", ".join(nest(y) for y in x) + "]"
        return nest(a)
    if plane.size < 2 and a.size <= 16:      # LaTeX has no nested lists: the entries, then the shape
        return number(a.reshape(-1), fmt, spec) + _words(f" of shape {_dims(a.shape, fmt)}", fmt)
    if plane.size > 16 or plane.size < 2:
        return _summary(a, fmt, spec)
    index = ", ".join(["0"] * (a.ndim - 2) + [":", ":"])
    return number(plane, fmt, spec) + _words(f" at [{index}] of {_dims(a.shape, fmt)}", fmt)


def _num(x: float, spec: str, fmt: str) -> str:
    if x == 0:
        x = 0.0                         # no "-0"
    s = format(x, spec)
    if "e" in s and fmt in ("latex", "markdown"):
        m, e = s.split("e")
        s = r"%s \times 10^{%d}" % (m, int(e))
    return s.replace("-", "−") if fmt == "unicode" else s


def tiny(c) -> str | None:
    """A small constant (0 < |c| < 10⁻³: a batch norm's ε, an Adam ε) as a float literal, the way
    code writes it — 1e-5, 2.5e-8 — when its decimal form is short; None otherwise. SymPy keeps
    a Rational(1, 100000) (and the Float 1e-5 once made exact) as 1/100000, which no slide writes.

    >>> tiny(sp.Rational(1, 10**5)), tiny(sp.Float(1e-8)), tiny(sp.Rational(1, 3)), tiny(sp.Rational(1, 3000))
    ('1e-5', '1e-8', None, None)
    """
    c = sp.sympify(c)
    if not (c.is_Rational or c.is_Float) or c == 0 or abs(c) >= sp.Rational(1, 1000):
        return None
    text = f"{float(c):.6g}"
    if "e" not in text or sp.nsimplify(sp.Float(text, 30), rational=True) != sp.nsimplify(c, rational=True):
        return None                 # 1/3000 is no short decimal: left as SymPy writes it
    mant, exp = text.split("e")
    return f"{mant}e{int(exp)}"
