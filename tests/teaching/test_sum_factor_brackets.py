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
