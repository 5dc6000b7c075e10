"""The picture's fan-out sum at a penalised weight reads as the text's ∂L/∂W: the data term first,
Σ = x.T @ δ + 0.1·W (δ⁽¹⁾·xᵀ + (1/10)·W₁ for a MatrixSymbol network), as cs231n adds dW += reg·W.
Until 2026-11-30, ninth session, the text had the data term first but the picture the penalty's,
Σ = 0.1·W + x.T @ δ. The penalty's share is 2λ·W (sympy.diff of λ·w²)."""
import re

import sympy as sp

import symgrad as sg


def _fan(d):
    return re.findall(r"fan-out: [^<\"]*", d.graph().source)


def test_the_tensor_pictures_fanout_takes_the_data_term_first():
    x, W, b = sg.tensor("x", (4, 5)), sg.tensor("W", (5, 3)), sg.tensor("b", (3,))
    y = sg.tensor("y", (4,), integer=True)
    lam = 0.05
    d = sg.derive(sg.cross_entropy(x @ W + b, y) + lam * sg.sum(W * W), [W, b], output_name="L")
    w = sp.Symbol("w")
    reg = sp.diff(lam * w ** 2, w) / w                      # 0.1
    assert _fan(d) == [f"fan-out: ∂L/∂W = Σ = x.T @ δ + {float(reg):g}·W"], _fan(d)


def test_the_matrix_pictures_fanout_takes_the_data_term_first():
    net, t = sg.mlp([4, 5, 3]), sp.MatrixSymbol("t", 3, 1)
    W1 = net.params[0]
    d = sg.derive(sg.cross_entropy(net.output, t) + sp.Rational(1, 20) * sg.sum(sp.HadamardPower(W1, 2)),
                  net.params, given={sg.sum(t): 1})
    assert _fan(d) == ["fan-out: ∂L/∂W₁ = Σ = δ⁽¹⁾·xᵀ + (1/10)·W₁"], _fan(d)


def test_a_fanout_without_a_penalty_is_unchanged():
    x, y = sp.symbols("x y")
    d = sg.derive(x * y + sp.sin(x), [x, y])
    assert _fan(d) == ["fan-out: ∂f/∂x = Σ = y + cos(x)"], _fan(d)
