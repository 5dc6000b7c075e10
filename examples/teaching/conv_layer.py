"""A convolution layer and a max pool, backward, as the notes derive them: δ, ∂L/∂b = Σ δ, ∂L/∂w the
correlation of the input with δ, ∂L/∂x the full convolution of δ with the flipped kernel, and the
pooling switch.

It also draws the layer as a slide does (out/teaching/cnn.png): conv 3×3 → relu → max pool 2×2, one
operation each, with the forward values above each edge and ∂L/∂· below.

    PYTHONPATH=. python examples/teaching/conv_layer.py [--out out/teaching] [--format latex]
"""
import shutil
import sys

import numpy as np
import sympy as sp

import symgrad as sg
from symgrad.teaching.conv_notes import layer_notes
from symgrad.teaching.render import latex_document

try:
    from _common import arguments
except ImportError:  # imported as a module of the package examples.teaching
    from ._common import arguments

N = sp.Symbol("N", integer=True, positive=True)
x, w, b = sg.tensor("x", (N, 3, 7, 7)), sg.tensor("w", (4, 3, 3, 3)), sg.tensor("b", (4,))


def build():
    """The notes of conv2d(x, w, b, stride=2, padding=1), and of a 2×2 max pool after it."""
    conv = sg.conv2d(x, w, b, stride=2, padding=1)                  # (N, 4, 4, 4)
    h = sg.tensor("h", (N, 4, 4, 4))
    return layer_notes(conv), layer_notes(sg.max_pool2d(h, 2))


def cnn(seed=0):
    """(derivation, point) of a small CNN layer with a squared-error loss, for its picture."""
    xs, ws, bs, ts = (sg.tensor("x", (1, 1, 6, 6)), sg.tensor("w", (2, 1, 3, 3)), sg.tensor("b", (2,)),
                      sg.tensor("t", (1, 2, 2, 2)))
    p = sg.max_pool2d(sg.relu(sg.conv2d(xs, ws, bs)), 2)
    rng = np.random.default_rng(seed)
    at = {xs: rng.normal(size=(1, 1, 6, 6)).round(2), ws: rng.normal(size=(2, 1, 3, 3)).round(2),
          bs: np.array([0.1, -0.1]), ts: rng.normal(size=(1, 2, 2, 2)).round(2)}
    return sg.derive(sg.sum((p - ts) ** 2) / 2, [ws, bs]), at


def check_numbers(seed=0):
    """The notes' ∂L/∂w, evaluated, against the cs231n loop it stands for."""
    rng = np.random.default_rng(seed)
    xv, wv, dv = rng.normal(size=(2, 3, 7, 7)), rng.normal(size=(4, 3, 3, 3)), rng.normal(size=(2, 4, 4, 4))
    d = sg.tensor("δ", (N, 4, 4, 4))
    dw = sg.numeric(sg.grad(sg.sum(sg.conv2d(x, w, stride=2, padding=1) * d), w), {"x": xv, "w": wv, "δ": dv})
    xp = np.pad(xv, ((0, 0), (0, 0), (1, 1), (1, 1)))
    loop = np.zeros_like(wv)
    for i in range(4):
        for j in range(4):
            loop += np.einsum("nf,nckl->fckl", dv[:, :, i, j], xp[:, :, 2 * i:2 * i + 3, 2 * j:2 * j + 3])
    return float(np.abs(dw - loop).max())


def main(argv=None):
    args = arguments(argv if argv is not None else sys.argv[1:], __doc__)
    notes = build()
    for n in notes:
        print(n.latex() if args.format == "latex" else n)
        print()
    print(f"∂L/∂w against the loop: largest difference {check_numbers():.1e}")
    args.out.mkdir(parents=True, exist_ok=True)
    # a whole document, as the other examples write: pdflatex conv_layer.tex makes the page
    (args.out / "conv_layer.tex").write_text(latex_document("\n\n".join(n.latex() for n in notes)))
    if shutil.which("dot") is not None:
        from symgrad.teaching.graph_picture import save
        d, at = cnn()
        print(f"picture: {save(d.graph(at=at), args.out / 'cnn.png')}")


if __name__ == "__main__":
    main()
