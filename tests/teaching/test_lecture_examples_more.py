"""examples/teaching/logistic_regression.py and two_layer_batch.py against their slides (twelfth
session). The expected lines are written by hand; the numbers are σ's and torch.autograd's."""
import math
import re

import numpy as np
import pytest

from picture_parse import edges
from test_teaching_examples import lines_in, load, run


def _num(s):
    return float(s.replace("−", "-"))


def test_logistic_regression_reads_y_hat_minus_y(capsys, tmp_path):
    out = run("logistic_regression", capsys, tmp_path)
    lines_in(out, ["ŷ = σ(z) = 0.6225", "∂L/∂w = x·(ŷ − y) = −0.7551", "∂L/∂b = ŷ − y = −0.3775"])
    yhat = 1 / (1 + math.exp(-(0.5 * 2 - 0.5)))               # σ(w·x + b) at the example's point
    delta = re.search(r"∂L/∂z = .* = ŷ − y = (\S+)", out).group(1)
    assert abs(_num(delta) - (yhat - 1)) < 1e-3, out


def test_logistic_regression_picture_carries_delta():
    d = load("logistic_regression").build()
    z = [e for e in edges(d.graph(at=load("logistic_regression").AT).source) if e[0] == "z"]
    assert z and abs(_num(z[0][1]) - 0.5) < 1e-9 and abs(_num(z[0][2]) - (1 / (1 + math.exp(-0.5)) - 1)) < 1e-3, z


def test_two_layer_batch_reads_h_and_torchs_numbers(capsys, tmp_path):
    torch = pytest.importorskip("torch")
    out = run("two_layer_batch", capsys, tmp_path)
    lines_in(out, ["  h⁽¹⁾ = relu(z⁽¹⁾) = ", "  z⁽²⁾ = h⁽¹⁾ @ W₂ + b₂ = ", "  L = cross_entropy(z⁽²⁾, y) = ",
                   "∂L/∂W₂ = δ⁽²⁾ · ∂z⁽²⁾/∂W₂ = h⁽¹⁾.T @ δ⁽²⁾"])
    assert "y⁽" not in out
    mod = load("two_layer_batch")
    at = {str(k): v for k, v in mod.point().items()}
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in at.items() if k != "y"}
    s = torch.relu(t["X"] @ t["W1"] + t["b1"]) @ t["W2"] + t["b2"]
    torch.nn.functional.cross_entropy(s, torch.tensor(at["y"])).backward()
    b2 = re.search(r"^  ∂L/∂b₂ = .* = \[([^\]]*)\]$", out.split("Gradient:")[1], re.M).group(1)
    np.testing.assert_allclose([_num(v) for v in b2.split(", ")], t["b2"].grad.numpy(), rtol=1e-3, atol=1e-6)
