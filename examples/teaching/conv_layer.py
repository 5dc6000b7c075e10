"""A convolution layer and a max pool, backward, as the notes derive them: δ, ∂L/∂b = Σ δ, ∂L/∂w the
correlation of the input with δ, ∂L/∂x the full convolution of δ with the flipped kernel, and the
pooling switch.

    PYTHONPATH=. python examples/teaching/conv_layer.py [--out out/teaching] [--format latex]
"""
import sys

import numpy as np
import sympy as sp

import symgrad as sg
from symgrad.teaching.conv_notes import layer_notes

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
    (args.out / "conv_layer.tex").write_text("\n\n".join(n.latex() for n in notes) + "\n")


if __name__ == "__main__":
    main()
