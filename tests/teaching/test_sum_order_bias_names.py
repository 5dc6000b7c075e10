"""The bias goes last only where it is a bias (symgrad/teaching/sum_order.py): a symbol named as
one (b, b₁, c, β, bias) or the next of the weights' letter (the sigmoid neuron's w₂ after w₀·x₀ +
w₁·x₁). Until 2026-11-30, ninth session, any lone symbol went last: x + y·z printed y·z + x (in the
header, exp(y·z + x), (y·z + x)² above a gradient 2·x + 2·y·z), and the regression's θ₀ + θ₁·x,
written intercept first, θ₁·x + θ₀. The value is unchanged (read back with SymPy's parser)."""
import pytest
import sympy as sp

import symgrad as sg

x, y, z, a, b, c, m = sp.symbols("x y z a b c m")
t0, t1, w0, w1, w2, x0, x1, b1, beta = sp.symbols("theta0 theta1 w0 w1 w2 x0 x1 b1 beta")

CASES = [
    (x + y * z, "f = x + y·z"),                    # no bias: SymPy's order, as typed
    (sp.exp(x + y * z), "f = exp(x + y·z)"),
    ((x + y * z) ** 2, "f = (x + y·z)²"),
    (z + x * y, "f = z + x·y"),
    (t0 + t1 * x, "f = θ₀ + θ₁·x"),                # the intercept written first
    (w0 + w1 * x, "f = w₀ + w₁·x"),
    (a * x + b, "f = a·x + b"),                    # biases
    (m * x + c, "f = m·x + c"),
    (sp.tanh(w1 * x + b1), "f = tanh(w₁·x + b₁)"),
    (y * z + beta, "f = y·z + β"),
    (sg.sigmoid(w0 * x0 + w1 * x1 + w2), "f = σ(w₀·x₀ + w₁·x₁ + w₂)"),
]


@pytest.mark.parametrize("expr, header", CASES)
def test_only_a_bias_goes_last(expr, header):
    d = sg.derive(expr, sorted(expr.free_symbols, key=str))
    assert d.render("unicode").splitlines()[0] == header
    text = d.render("text").splitlines()[0].split(" = ", 1)[1]
    back = sp.parse_expr(text, local_dict={"sigmoid": lambda u: 1 / (1 + sp.exp(-u)),
                                           **{str(s): s for s in expr.free_symbols}})
    plain = expr.replace(lambda e: type(e).__name__ == "sigmoid", lambda e: 1 / (1 + sp.exp(-e.args[0])))
    assert sp.simplify(back - plain) == 0


def test_the_forward_line_follows_the_header():
    d = sg.derive(x + y * z, [x, y, z])
    lines = d.render("unicode").splitlines()
    assert "  u₁ = y·z" in lines and "  f = x + u₁" in lines, lines


def test_a_penalised_bias_keeps_the_affine_order_in_the_gradient():
    # ∂/∂b of ‖W @ x + b‖² + λ‖b‖² printed 2·(b + W @ x + lam·b): the scaled b (the penalty's) held
    # the affine form back, and SymPy's order put b first
    W, x, b = sg.tensor("W", (3, 4)), sg.tensor("x", (4,)), sg.tensor("b", (3,))
    lam = sp.Symbol("lam")
    d = sg.derive(sg.norm(W @ x + b) ** 2 + lam * sg.norm(b) ** 2, [W, b])
    grads = dict(line.strip().split(" = ", 1) for line in str(d).split("Gradient:")[1].strip().splitlines())
    assert grads["∂f/∂b"] == "2·(W @ x + b + lam·b)"
    assert grads["∂f/∂W"] == "2·(W @ x + b) @ x.T"
