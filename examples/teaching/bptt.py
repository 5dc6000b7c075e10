"""Backprop through time: a vanilla RNN h_t = tanh(W_hh·h_{t−1} + W_xh·x_t + b) unrolled 3 steps,
L = ½‖h₃ − t‖² (`--every-step`: a loss at every step). δ flows back through the steps,
∂L/∂h₂ = W_hhᵀ·δ⁽³⁾, and W_hh, used at every step, gets the sum over its uses,
∂L/∂W_hh = δ⁽¹⁾·h₀ᵀ + δ⁽²⁾·h₁ᵀ + δ⁽³⁾·h₂ᵀ. The picture draws W_hh's three uses with their shares.

    PYTHONPATH=. python examples/teaching/bptt.py [--every-step]
"""
import sys

import numpy as np
import sympy as sp

import symgrad as sg

try:
    from _common import arguments, publish
except ImportError:  # imported as a module of the package examples.teaching
    from ._common import arguments, publish

H, D = 2, 2
W_hh, W_xh, b = sp.MatrixSymbol("W_hh", H, H), sp.MatrixSymbol("W_xh", H, D), sp.MatrixSymbol("b", H, 1)
h0 = sp.MatrixSymbol("h0", H, 1)
xs = [sp.MatrixSymbol(f"x{t}", D, 1) for t in (1, 2, 3)]
ts = [sp.MatrixSymbol(f"t{t}", H, 1) for t in (1, 2, 3)]
rng = np.random.default_rng(0)
AT = {s: rng.normal(size=s.shape).round(2) for s in [W_hh, W_xh, b, h0, *xs, *ts]}


def build(every_step=False):
    h, hs = h0, []
    for x in xs:                                   # unrolled: the same W_hh, W_xh, b at every step
        h = sg.tanh(W_hh * h + W_xh * x + b)
        hs.append(h)
    loss = sum(sg.mse(a, t) for a, t in zip(hs, ts)) if every_step else sg.mse(hs[-1], ts[-1])
    names = {sp.MatrixSymbol(f"h{k}", H, 1): hs[k - 1] for k in (1, 2, 3)}
    return sg.derive(loss, [W_hh, W_xh, b], names=names, output_name="L")


def main(argv=None):
    argv = list(argv or [])
    every = "--every-step" in argv
    args = arguments([a for a in argv if a != "--every-step"], __doc__)
    d = build(every)
    publish("bptt_every_step" if every else "bptt", d, args)
    print("At a point:" + d.render(args.format, at=AT, number_format=".3g").split("Gradient:")[-1])


if __name__ == "__main__":
    main(sys.argv[1:])
