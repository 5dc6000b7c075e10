"""A ResNet basic block, out = relu(F(x) + x), backward: the identity path passes δ_s on unchanged
(the gradient highway, one line), the branch F adds its convolutions' term.

    PYTHONPATH=. python examples/teaching/resnet_block.py [--out out/teaching] [--format latex]
"""
import sys

import sympy as sp

import symgrad as sg
from symgrad.teaching.conv_notes import residual_notes

try:
    from _common import arguments
except ImportError:  # imported as a module of the package examples.teaching
    from ._common import arguments

N = sp.Symbol("N", integer=True, positive=True)
x = sg.tensor("x", (N, 8, 6, 6))
w1, w2 = sg.tensor("w1", (8, 8, 3, 3)), sg.tensor("w2", (8, 8, 3, 3))


def build():
    """F(x) = conv(relu(conv(x))) (batch norms left out so the lines stay short)."""
    branch = sg.conv2d(sg.relu(sg.conv2d(x, w1, padding=1)), w2, padding=1)
    return residual_notes(branch, x, [w2])


def main(argv=None):
    args = arguments(argv if argv is not None else sys.argv[1:], __doc__)
    notes = build()
    print(notes.latex() if args.format == "latex" else notes)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "resnet_block.tex").write_text(notes.latex(document=True))     # compiles with pdflatex


if __name__ == "__main__":
    main()
