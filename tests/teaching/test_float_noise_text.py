"""The steps' numbers are cleaned of float noise as the picture's are: a bias followed by a batch
norm has gradient exactly 0 (the normalisation subtracts the batch mean, bias included), and the
text says [0, 0, 0], not [1.7e−17, −6.9e−18, 1.7e−18]. torch.autograd is the oracle."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")
N = sp.Symbol("N", integer=True, positive=True)


def test_a_bias_before_batch_norm_prints_zero():
    x, y = sg.tensor("x", (N, 4)), sg.tensor("y", (N,), integer=True)
    w1, b1, w2 = sg.tensor("W1", (4, 3)), sg.tensor("b1", (3,)), sg.tensor("W2", (3, 2))
    z1 = x @ w1 + b1
    xhat = (z1 - z1.mean(axis=0)) / sp.sqrt(z1.var(axis=0) + 1e-5)
    d = sg.derive(sg.cross_entropy(sg.relu(xhat) @ w2, y), [w1, b1, w2], output_name="L")
    rng = np.random.default_rng(0)
    xv, w1v, b1v, w2v = rng.normal(size=(5, 4)), rng.normal(size=(4, 3)), rng.normal(size=3), rng.normal(size=(3, 2))
    yv = np.array([0, 1, 1, 0, 1])
    text = d.render("unicode", at={x: xv, y: yv, w1: w1v, b1: b1v, w2: w2v})
    (line,) = [li.strip() for li in text.split("Gradient:")[1].splitlines() if li.strip().startswith("∂L/∂b₁")]
    # the oracle: torch's gradient for the bias is zero to rounding
    tb = torch.tensor(b1v, requires_grad=True)
    tz = torch.tensor(xv) @ torch.tensor(w1v) + tb
    th = (tz - tz.mean(0)) / torch.sqrt(tz.var(0, unbiased=False) + 1e-5)
    torch.nn.functional.cross_entropy(torch.relu(th) @ torch.tensor(w2v), torch.tensor(yv)).backward()
    assert np.abs(tb.grad.numpy()).max() < 1e-12
    assert line.endswith("= [0, 0, 0]"), line
    assert "e−1" not in text.split("Gradient:")[1], text
