"""f(x, W) = ‖Wx‖² = Σᵢ (Wx)ᵢ² with q = Wx: ∇_q f = 2q, ∇_W f = 2q·xᵀ, ∇_x f = 2Wᵀq.
At W = [[0.1, 0.5], [−0.3, 0.8]], x = (0.2, 0.4): q = (0.22, 0.26), f = 0.116,
∇_W f = [[0.088, 0.176], [−0.104, 0.208]], ∇_x f = (−0.112, 0.636).

    PYTHONPATH=. python examples/teaching/norm_wx.py
"""
import sys

import sympy as sp

import symgrad as sg

try:
    from _common import arguments, publish
except ImportError:  # imported as a module of the package examples.teaching
    from ._common import arguments, publish

W = sp.MatrixSymbol("W", 2, 2)
x = sp.MatrixSymbol("x", 2, 1)
q = sp.MatrixSymbol("q", 2, 1)
AT = {W: [[0.1, 0.5], [-0.3, 0.8]], x: [0.2, 0.4]}


def build():
    f = sg.sum(sp.HadamardPower(W * x, 2))
    return sg.derive(f, [W, x], names={q: W * x}, output_name="f", at=AT, number_format=".3g")


def main(argv=None):
    publish("norm_wx", build(), arguments(argv, __doc__))


if __name__ == "__main__":
    main(sys.argv[1:])
