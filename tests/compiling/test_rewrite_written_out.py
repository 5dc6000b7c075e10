"""A sigmoid or softplus written out by hand (1/(1 + exp(−z)), exp(z)/(1 + exp(z)), log(1 + exp(z)))
is rewritten to the stable function before differentiation (symgrad/compiling/rewrite.py), so that
its bce or log stays finite where exp overflows. The oracle: bce on logits in closed form, its
gradient σ(z) − y, both in float64 NumPy with logaddexp."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)


def _bce_by_hand(form):
    x, y, w = sg.tensor("x", (N,)), sg.tensor("y", (N,)), sg.tensor("w", ())
    z = w * x
    p = {"1/(1+exp(-z))": 1 / (1 + sp.exp(-z)), "exp(z)/(1+exp(z))": sp.exp(z) / (1 + sp.exp(z))}[form]
    loss = -sg.mean(y * sp.log(p) + (1 - y) * sp.log(1 - p))
    return sg.compile(loss, [w], [x, y], dtype="float64")


@pytest.mark.parametrize("form", ["1/(1+exp(-z))", "exp(z)/(1+exp(z))"])
def test_bce_of_a_sigmoid_written_out_is_finite_at_large_logits(form):
    """Before: loss inf and gradient nan once a logit passed about ±710 (exp overflows)."""
    prog = _bce_by_hand(form)
    X = np.array([-2000.0, -800.0, -30.0, -1.0, 0.0, 2.0, 40.0, 900.0, 5000.0])
    Y = np.array([1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0])
    w = 1.0
    z = w * X
    want_loss = np.mean(np.logaddexp(0, -z) * Y + np.logaddexp(0, z) * (1 - Y))
    sig = np.exp(-np.logaddexp(0, -z))
    want_grad = np.mean((sig - Y) * X)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        got_loss = prog.loss({"w": w}, {"x": X, "y": Y})
        got_grad = prog.grad({"w": w}, {"x": X, "y": Y})["w"]
    assert got_loss == pytest.approx(want_loss, rel=1e-12)
    assert float(got_grad) == pytest.approx(want_grad, rel=1e-12)


def test_softplus_written_out_is_finite_at_large_inputs():
    x, w = sg.tensor("x", (N,)), sg.tensor("w", ())
    prog = sg.compile(sg.mean(sp.log(1 + sp.exp(w * x))), [w], [x], dtype="float64")
    X = np.array([-1000.0, -5.0, 0.0, 3.0, 800.0])
    want = np.mean(np.logaddexp(0, X))
    want_grad = np.mean(np.exp(-np.logaddexp(0, -X)) * X)
    assert prog.loss({"w": 1.0}, {"x": X}) == pytest.approx(want, rel=1e-12)
    assert float(prog.grad({"w": 1.0}, {"x": X})["w"]) == pytest.approx(want_grad, rel=1e-12)
