"""A hyperparameter multiplying a sum is written first, as a lecture writes it: cs231n's
0.5·reg·(Σ W₁² + Σ W₂²) reads u₆ = 0.5·reg·u₅ (until 2026-12-01, eleventh session, 0.5·u₅·reg: a
product holding a sum kept the names' order). A differentiated factor keeps the slide's f = q·z.
Values: numpy's."""
import numpy as np
import sympy as sp

import symgrad as sg


def _line(text, name):
    return next(l for l in text.splitlines() if l.startswith(f"  {name} = "))


def test_a_weight_decay_factor_reads_hyperparameter_first():
    W1, W2 = sg.tensor("W1", (2, 3)), sg.tensor("W2", (3, 2))
    reg = sp.Symbol("reg", positive=True)
    w1 = np.array([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]])
    w2 = np.array([[1.0, -1.0], [0.5, 0.2], [-0.3, 0.7]])
    d = sg.derive(0.5 * reg * (sg.sum(W1 * W1) + sg.sum(W2 * W2)), [W1, W2], at={W1: w1, W2: w2, reg: 0.1})
    text = d.render("unicode")
    want = 0.5 * 0.1 * ((w1 ** 2).sum() + (w2 ** 2).sum())
    line = _line(text, "f")
    lhs, rhs = line.split(" = ")[1], float(line.split(" = ")[2])
    assert lhs == "0.5·reg·u₅" and abs(rhs - want) < 1e-3, text
    assert r"f &= 0.5 \cdot \mathit{reg} \cdot u_{5}" in d.render("latex")


def test_a_lambda_times_a_sum_of_scalars_reads_lambda_first():
    a, b, lam = sp.symbols("a b lambda")
    text = sg.derive(lam * (a ** 2 + b ** 2), [a, b], at={a: 1, b: 2, lam: 3}).render("unicode")
    assert _line(text, "f") == "  f = λ·u₃ = 15", text


def test_a_differentiated_factor_keeps_the_slide_order():
    x, y, z, q = sp.symbols("x y z q")
    text = sg.derive((x + y) * z, [x, y, z], names={q: x + y}, at={x: -2, y: 5, z: -4}).render("unicode")
    assert _line(text, "f") == "  f = q·z = −12", text
