"""A sum standing in front of a tensor factor keeps its brackets in every view: batch norm's ∂L/∂x
closed form has (μ − x)·Σₙ (xₙ − μ)·(doutₙ·γ), which was printed μ − x·Σₙ xₙ − μ·(doutₙ·γ), a
different formula (μ − (x·Σₙ xₙ) − …)."""
import sympy as sp

import symgrad as sg
from symgrad.teaching.notation import BatchSum
from symgrad.teaching.render import show


def _batch_norm():
    N, D = sp.Symbol("N", integer=True, positive=True), 3
    x, gamma, beta = sg.tensor("x", (N, D)), sg.tensor("gamma", (D,)), sg.tensor("beta", (D,))
    dout = sg.tensor("dout", (N, D))
    xhat = (x - x.mean(axis=0)) / sp.sqrt(x.var(axis=0) + sp.Rational(1, 100000))
    return sg.derive(sg.sum((gamma * xhat + beta) * dout), [x, gamma, beta], output_name="L")


def test_batch_norm_closed_form_brackets_its_sums():
    text = _batch_norm().render("unicode").split("Gradient:")[1]
    assert "(xₙ − μ)·(doutₙ·γ)" in text
    assert "(μ − x)·Σₙ" in text
    assert "xₙ − μ·" not in text and "μ − x·" not in text


def test_sum_times_tensor_in_text_and_latex():
    xn, mu, x = sp.symbols("x_n mu x")
    g = sg.tensor("g", (4, 3))
    e = sp.Mul(sp.Add(xn, -mu), g, BatchSum(g, sp.Symbol("n")), evaluate=False)
    assert show(e, "unicode").startswith("(xₙ − μ)·")
    assert show(e, "text").startswith("(x_n - mu)*")
    assert show(e, "latex").startswith(r"\left(x_{n} - \mu\right)")


def test_a_product_of_two_batch_sums_brackets_each():
    # Σₙ a·Σₙ b reads as one sum over n of a·Σₙ b; the slide writes (Σₙ a)·(Σₙ b)
    a, b, n = sp.Symbol("a_n"), sp.Symbol("b_n"), sp.Symbol("n")
    e = sp.Mul(BatchSum(a, n), BatchSum(b, n), 1 / sp.Symbol("N"))
    u = show(e, "unicode")
    assert "(Σₙ aₙ)" in u and "(Σₙ bₙ)" in u
    tex = show(e, "latex")
    assert r"\left(\sum_{n} a_{n}\right)" in tex and r"\left(\sum_{n} b_{n}\right)" in tex
    # one sum in a product, or a sum inside a bracketed sum's body, takes no extra brackets
    assert show(BatchSum(a, n) / sp.Symbol("N"), "unicode") == "Σₙ aₙ/N"
    assert show(BatchSum(BatchSum(a, n) * BatchSum(b, n), n), "unicode").startswith("Σₙ (Σₙ aₙ)")


def test_layer_norm_closed_form_brackets_its_product_of_sums():
    x, g, b, dout = (sg.tensor("x", (4, 3)), sg.tensor("gamma", (3,)), sg.tensor("beta", (3,)),
                     sg.tensor("dout", (4, 3)))
    xhat = (x - x.mean(axis=1, keepdims=True)) / sp.sqrt(x.var(axis=1, keepdims=True) + sp.Rational(1, 100000))
    d = sg.derive(sg.sum((g * xhat + b) * dout), [x, g, b], output_name="L")
    text = d.render("unicode").split("Gradient:")[1]
    assert "(Σᵢ (xᵢ − μ)·(doutᵢ·γᵢ))·(Σᵢ (xᵢ − μ))" in text
