"""The backward pass of a convolution layer, a pooling layer and a residual block, as lecture notes
write it: δ = ∂L/∂out, the sums over indices, and the same gradient in the array vocabulary that
`sg.grad` returns (so the two lines of each gradient are the same thing, checked by the core).

>>> import sympy as sp, symgrad as sg
>>> from symgrad.teaching.conv_notes import layer_notes
>>> N = sp.Symbol("N", integer=True, positive=True)
>>> x, w = sg.tensor("x", (N, 3, 8, 8)), sg.tensor("w", (4, 3, 3, 3))
>>> print(layer_notes(sg.conv2d(x, w, stride=2, padding=1), [w]))   # doctest: +NORMALIZE_WHITESPACE
out = conv2d(x, w, stride=2, padding=1)
  out[n, f, i, j] = Σ_c Σ_k Σ_l x_pad[n, c, 2i + k, 2j + l] · w[f, c, k, l]    (x_pad: x with 1 zero(s) around)
δ = ∂L/∂out, of out's shape (N, 4, 4, 4)
∂L/∂w[f, c, k, l] = Σ_n Σ_i Σ_j δ[n, f, i, j] · x_pad[n, c, 2i + k, 2j + l]
  = conv2d(x.transpose(1, 0, 2, 3), δ.transpose(1, 0, 2, 3), padding=((1, 0), (1, 0)), dilation=2).transpose(1, 0, 2, 3)
  (the correlation of the input with δ)
"""
from __future__ import annotations

import sympy as sp

from ..core.differentiate import grad
from ..errors import ArgumentError
from ..frontend import conv as C
from ..frontend import tensor as T
from .render import show


def _pos(s, d, o, k):
    """s·o + d·k as the notes write it (no 1·)."""
    a = o if s == 1 else f"{s}{o}"
    b = k if d == 1 else f"{d}{k}"
    return f"{a} + {b}"


def _idx(nd):
    return ["i", "j"][:nd] if nd <= 2 else [f"o{a}" for a in range(nd)]


def _kidx(nd):
    return ["k", "l"][:nd] if nd <= 2 else [f"k{a}" for a in range(nd)]


class Notes:
    """Lines of notes: ``str()`` for text; ``latex()`` for a LaTeX ``align*`` body."""

    def __init__(self, lines, latex_lines):
        self.lines, self.latex_lines = lines, latex_lines

    def __str__(self):
        return "\n".join(self.lines)

    def latex(self, document: bool = False) -> str:
        """An ``align*`` block; ``document=True``: a whole document for pdflatex (as `Derivation.latex`)."""
        body = "\\begin{align*}\n" + " \\\\\n".join(self.latex_lines) + "\n\\end{align*}"
        if not document:
            return body
        from .render import latex_document
        return latex_document(body)


def _split_bias(out):
    """(Conv node, bias tensor or None) of conv(x, w) or conv(x, w) + b.reshape(F, 1, 1)."""
    e = T._unwrap(out) if isinstance(out, T.Ewise) else out
    if isinstance(e, C.Conv):
        return e, None
    if isinstance(e, sp.Add) and len(e.args) == 2:
        a, b = e.args
        if isinstance(b, C.Conv):
            a, b = b, a
        if isinstance(a, C.Conv) and isinstance(b, T.Reshape) and isinstance(b.args[0], T.Tensor):
            return a, b.args[0]
    return None, None


def layer_notes(out, wrt=None, delta: str = "δ") -> Notes:
    """The notes of one layer: a convolution (``sg.conv2d``/``conv1d``, with or without bias) or a
    pooling (``sg.max_pool2d``/``avg_pool2d``); ``wrt`` the tensors whose gradients to write
    (default: every tensor the layer reads)."""
    conv, b = _split_bias(out)
    if conv is not None:
        return _conv_notes(out, conv, b, wrt, delta)
    e = T._unwrap(out) if isinstance(out, T.Ewise) else out
    if isinstance(e, C.MaxPool | C.AvgPool):
        return _pool_notes(e, delta)
    raise ArgumentError(f"layer_notes takes a conv2d / conv1d layer (with or without bias) or a "
                        f"max_pool2d / avg_pool2d; got {out}")


def _grad_text(out, d, w):
    g = grad(T.sum(T.as_tensor(out) * d), w)
    return show(g, "unicode"), show(g, "latex")


def _conv_notes(out, conv, b, wrt, delta):
    x, w = conv.args[0], conv.args[1]
    nd = conv.nd
    O, K = _idx(nd), _kidx(nd)
    s, dil, pads = conv.stride, conv.dilation, conv.padding
    pos = [_pos(a, dd, o, k) for a, dd, o, k in zip(s, dil, O, K)]
    xp = "x_pad" if any(lo for lo, _ in pads) else x.name
    sums = " ".join(f"Σ_{v}" for v in ["c"] + K)
    bias = f"{b.name}[f] + " if b is not None else ""
    lines = [f"out = {show(out, 'unicode')}",
             f"  out[n, f, {', '.join(O)}] = {bias}{sums} {xp}[n, c, {', '.join(pos)}] · {w.name}[f, c, {', '.join(K)}]"
             + (f"    (x_pad: {x.name} with {pads[0][0]} zero(s) around)" if xp == "x_pad" else ""),
             f"{delta} = ∂L/∂out, of out's shape {T.fmt(conv.shape)}"]
    lat = [r"\mathrm{out}_{n f %s} &= %s\sum_{c %s} x_{n, c, %s}\, w_{f c %s}" % (
        " ".join(O), (r"b_f + " if b is not None else ""), " ".join(K), ", ".join(pos), " ".join(K))]
    d = T.tensor(delta, conv.shape)
    wrt = list(wrt) if wrt is not None else [t for t in (x, w, b) if isinstance(t, T.Tensor)]
    for t in wrt:
        text, ltx = _grad_text(out, d, t)
        if t == b:
            lines += [f"∂L/∂{t.name}[f] = Σ_n {' '.join(f'Σ_{o}' for o in O)} {delta}[n, f, {', '.join(O)}]",
                      f"  = {text}", "  (the sum of δ over the batch and the positions)"]
        elif t == w:
            lines += [f"∂L/∂{t.name}[f, c, {', '.join(K)}] = Σ_n {' '.join(f'Σ_{o}' for o in O)} "
                      f"{delta}[n, f, {', '.join(O)}] · {xp}[n, c, {', '.join(pos)}]",
                      f"  = {text}", "  (the correlation of the input with δ)"]
        elif t == x:
            P = ["p", "q"][:nd] if nd <= 2 else [f"p{a}" for a in range(nd)]
            spread = f"{delta} spread out by the stride (zeros between its entries)" if set(s) != {1} else delta
            lines += [f"∂L/∂{xp}[n, c, {', '.join(P)}] = Σ_f {' '.join(f'Σ_{k}' for k in K)} "
                      f"{delta}[n, f, {', '.join(O)}] · {w.name}[f, c, {', '.join(K)}]   over "
                      f"{', '.join(f'{a} = {p}' for a, p in zip(pos, P))}",
                      f"  = {text}",
                      f"  (the full convolution of {spread} with the flipped kernel"
                      + (", the padding cropped off)" if xp == "x_pad" else ")")]
        lat.append(r"\frac{\partial L}{\partial %s} &= %s" % (t.name, ltx))
    return Notes(lines, lat)


def _pool_notes(e, delta):
    x = e.args[0]
    O = _idx(e.nd)
    d = T.tensor(delta, e.shape)
    text, ltx = _grad_text(e, d, x)
    if isinstance(e, C.MaxPool):
        lines = [f"out = {show(e, 'unicode')}",
                 f"  out[n, c, {', '.join(O)}] = max over the window ({', '.join(O)}) of {x.name}",
                 f"{delta} = ∂L/∂out, of out's shape {T.fmt(e.shape)}",
                 f"∂L/∂{x.name} = {delta}[n, c, {', '.join(O)}] at the first arg-max of window "
                 f"({', '.join(O)}), 0 elsewhere   (the pooling switch)",
                 f"  = {text}"]
    else:
        k = sp.Mul(*e.kernel)
        lines = [f"out = {show(e, 'unicode')}",
                 f"  out[n, c, {', '.join(O)}] = (1/{k}) Σ over the window ({', '.join(O)}) of {x.name}",
                 f"{delta} = ∂L/∂out, of out's shape {T.fmt(e.shape)}",
                 f"∂L/∂{x.name} = {delta}/{k} spread over each window (added where windows overlap)",
                 f"  = {text}"]
    # LaTeX: the switch / the spread as the notes write it (the array form, a fold over windows, is
    # a page wide; the text keeps it as the check that both say the same)
    P, dx = ", ".join(["p", "q"][:len(O)]), show(x, "latex")
    dl = show(d, "latex")
    if isinstance(e, C.MaxPool):
        rhs = (r"\sum_{%s} %s_{n c %s}\,\left[(%s) = \operatorname{argmax}_{\text{window}(%s)} %s_{n c}\right]"
               % (" ".join(O), dl, " ".join(O), P, ", ".join(O), dx))
    else:
        rhs = r"\frac{1}{%s} \sum_{(%s) \ni (%s)} %s_{n c %s}" % (k, ", ".join(O), P, dl, " ".join(O))
    return Notes(lines, [r"\frac{\partial L}{\partial %s_{n c %s}} &= %s" % (dx, " ".join(P.split(", ")), rhs)])


def residual_notes(branch, x, wrt, delta: str = "δ") -> Notes:
    """out = relu(branch + x), a residual block: the identity path's term of ∂L/∂x is one line (the
    gradient highway), the branch's term another; ``wrt``: the branch's parameters to write too."""
    s = T.tensor("s", T.shape_of(branch))
    d = T.tensor(delta, T.shape_of(branch))
    ds = T.tensor(f"{delta}_s", T.shape_of(branch))
    through = grad(T.sum(T.as_tensor(branch) * ds), [x] + list(wrt))
    lines = [f"out = relu(F(x) + {x.name}),  F(x) = {show(branch, 'unicode')}",
             f"s = F(x) + {x.name};  {delta} = ∂L/∂out",
             f"{delta}_s = ∂L/∂s = {delta} ⊙ [s ≥ 0]        (relu'(0) = 1)",
             f"∂L/∂{x.name} = {delta}_s        ← the identity path: the gradient highway, δ_s unchanged",
             f"      + {show(through[0], 'unicode')}        ← through the branch F"]
    for t, g in zip(wrt, through[1:]):
        lines.append(f"∂L/∂{show(t, 'unicode')} = {show(g, 'unicode')}")
    del s, d
    # two rows, as the text's two lines: the identity path, then the branch (one row overflowed the page)
    lat = [r"\frac{\partial L}{\partial %s} &= \delta_s \\ &\quad + %s" % (x.name, show(through[0], "latex"))]
    lat += [r"\frac{\partial L}{\partial %s} &= %s" % (show(t, "latex"), show(g, "latex"))
            for t, g in zip(wrt, through[1:])]        # as the text: every parameter asked for
    return Notes(lines, lat)


__all__ = ["layer_notes", "residual_notes", "Notes"]
