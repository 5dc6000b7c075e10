"""Batch norm backward as cs231n's batchnorm_backward and the slides write it: the layer over a batch
of N examples, out = γ ⊙ x̂ + β with x̂ = (x − μ)/√(σ² + ε), and the gradients of its statistics,

    ∂L/∂σ² = Σₙ ∂L/∂x̂ₙ·(xₙ − μ) · (−1/2)·(σ² + ε)^(−3/2)
    ∂L/∂μ  = −Σₙ ∂L/∂x̂ₙ/√(σ² + ε) + ∂L/∂σ² · (−2/N)·Σₙ (xₙ − μ)
    ∂L/∂x  = ∂L/∂x̂/√(σ² + ε) + ∂L/∂σ² · 2·(x − μ)/N + ∂L/∂μ/N

with their numbers at a batch of 4, checked against torch.autograd when torch is installed.

    PYTHONPATH=. python examples/teaching/batch_norm.py [--out out/teaching] [--format latex]
"""
import sys

import numpy as np
import sympy as sp

import symgrad as sg

try:
    from _common import arguments, publish
except ImportError:  # imported as a module of the package examples.teaching
    from ._common import arguments, publish

N, D = sp.Symbol("N", integer=True, positive=True), 3
x, gamma, beta = sg.tensor("x", (N, D)), sg.tensor("gamma", (D,)), sg.tensor("beta", (D,))
dout = sg.tensor("dout", (N, D))             # the upstream gradient ∂L/∂out, as cs231n passes it


def build(at=None):
    """The layer as a student writes it in NumPy; L = Σ out ⊙ dout, so ∂L/∂out = dout."""
    mu = x.mean(axis=0)
    var = x.var(axis=0)
    xhat = (x - mu) / sp.sqrt(var + sp.Rational(1, 100000))
    out = gamma * xhat + beta
    return sg.derive(sg.sum(out * dout), [x, gamma, beta], output_name="L", at=at)


def point(seed=0):
    rng = np.random.default_rng(seed)
    return {x: rng.normal(size=(4, D)) * 2 + 1, gamma: rng.normal(size=D), beta: rng.normal(size=D),
            dout: rng.normal(size=(4, D))}


def main(argv=None):
    args = arguments(argv if argv is not None else sys.argv[1:], __doc__)
    publish("batch_norm", build(at=point()), args)


if __name__ == "__main__":
    main()
