"""A matrix product only a number scales is one node with its scale (symgrad/teaching/scaled_product.py):
attention's scores without a name read u₁ = (Q @ K.T)/√2, not u₁ = Q @ K.T then u₂ = u₁/√2, and a
scale that is no reciprocal goes before the rule's formula (∇Q = 3·δ @ K); a negation stays a node of
its own (−(x @ w₁): the closed forms let its sign meet another). The steps' numbers are torch.autograd's."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.teaching.scaled_product import scaled_rule

torch = pytest.importorskip("torch")


def _scores(scale):
    X, Wq, Wk = sg.tensor("X", (3, 4)), sg.tensor("W_q", (4, 2)), sg.tensor("W_k", (4, 2))
    Q, K = X @ Wq, X @ Wk
    names = {sg.tensor("Q", (3, 2)): Q, sg.tensor("K", (3, 2)): K}
    f = sg.sum(sg.softmax(Q @ K.T * scale, axis=1) * sg.tensor("G", (3, 3)))
    return sg.derive(f, [Wq, Wk], names=names, output_name="L"), (X, Wq, Wk)


@pytest.mark.parametrize("scale, fwd, rule_q", [
    (1 / sp.sqrt(2), "u₁ = (Q @ K.T)/√2", "[matrix product scaled by 1/√2: ∇Q = δ @ K/√2]"),
    (3, "u₁ = 3·(Q @ K.T)", "[matrix product scaled by 3: ∇Q = 3·δ @ K]"),
])
def test_an_unnamed_scaled_product_is_one_step(scale, fwd, rule_q):
    d, _ = _scores(scale)
    text = d.render("unicode")
    lines = [li.strip() for li in text.splitlines()]
    assert fwd in lines, text
    assert not any(li.endswith("= Q @ K.T") for li in lines), text
    q = next(li for li in lines if li.startswith("∂L/∂Q = "))
    assert q.startswith("∂L/∂Q = ∂L/∂u₁ · ∂u₁/∂Q = ") and q.endswith(rule_q), q


@pytest.mark.parametrize("scale", [1 / sp.sqrt(2), 3])
def test_the_numbers_are_torchs(scale):
    d, (X, Wq, Wk) = _scores(scale)
    rng = np.random.default_rng(3)
    G = next(s for s in d.f.free_symbols if str(s) == "G")
    v = {s: rng.normal(size=tuple(int(n) for n in s.shape)) for s in (X, Wq, Wk, G)}
    steps = d.explain(at=v)
    t = {str(s): torch.tensor(a, requires_grad=True) for s, a in v.items()}
    Q, K = t["X"] @ t["W_q"], t["X"] @ t["W_k"]
    Q.retain_grad()
    K.retain_grad()
    (torch.softmax(Q @ K.T * float(scale), dim=1) * t["G"]).sum().backward()
    np.testing.assert_allclose(steps.find("Q").value, Q.grad.numpy(), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(steps.find("K").value, K.grad.numpy(), rtol=1e-10, atol=1e-13)
    for name, _, val in steps.gradients:
        np.testing.assert_allclose(val, t[str(name)].grad.numpy(), rtol=1e-10, atol=1e-13)


def test_a_negated_product_stays_apart():
    x, w = sg.tensor("x", (4, 3)), sg.tensor("w", (3, 5))
    text = sg.derive(sg.sum(sg.exp(-(x @ w))), [w]).render("unicode")
    assert "  u₁ = x @ w\n" in text and "  u₂ = −u₁\n" in text, text


def test_the_rule_of_a_scale():
    assert scaled_rule("matrix product: ∇Q = δ @ K", sp.Rational(1, 8)) == "matrix product scaled by 1/8: ∇Q = δ @ K/8"
    assert scaled_rule("matrix product, K transposed: ∇K = δᵀ @ Q", 2) == \
        "matrix product scaled by 2, K transposed: ∇K = 2·δᵀ @ Q"
    assert scaled_rule("matrix product: ∇Q = δ @ K", sp.Rational(2, 3)) == "matrix product scaled by 2/3: ∇Q = (2/3)·δ @ K"
