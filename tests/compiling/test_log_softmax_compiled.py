"""A compiled program reads log(softmax(z)) as log_softmax(z), as sg.grad and sg.numeric do
(symgrad/core/stable_logs.py): with logits a thousand apart torch's log_softmax is finite, and so must
the compiled loss and gradients be (the softmax's exp underflows to 0, and log 0 gave -inf and NaN)."""
import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)


def _case():
    x = sg.tensor("x", (N, 3))
    W = sg.tensor("W", (3, 4))
    y = sg.tensor("y", (N,), integer=True)
    Wv = np.array([[100.0, 0, 0, -900], [0, 1, 0, 0], [0, 0, -1, 0]])
    xv = np.array([[1.0, 0, 0], [-1.0, 0.5, 0], [0.3, 0, 2]])
    yv = np.array([3, 0, 1])
    return x, W, y, Wv, xv, yv


def _torch(Wv, xv, yv):
    Wt = torch.tensor(Wv, requires_grad=True)
    loss = torch.nn.functional.nll_loss(torch.log_softmax(torch.tensor(xv) @ Wt, dim=1), torch.tensor(yv))
    loss.backward()
    return loss.item(), Wt.grad.numpy()


@pytest.mark.parametrize("spelling", ["nll_of_log", "sum_of_log"])
def test_log_of_softmax_compiled_is_finite_and_equals_torch(spelling):
    x, W, y, Wv, xv, yv = _case()
    if spelling == "nll_of_log":
        L = sg.nll_loss(sg.log(sg.softmax(x @ W, axis=1)), y)
    else:       # the one-hot spelling: -mean(sum(t * log softmax))
        t = sg.one_hot(y, 4)
        L = -sg.sum(t * sg.log(sg.softmax(x @ W, axis=1))) / N
    prog = sg.compile(L, [W], [x, y], dtype="float64")
    batch = {"x": xv, "y": yv}
    loss = prog.loss({"W": Wv}, batch)
    grad = prog.grad({"W": Wv}, batch)["W"]
    want_loss, want_grad = _torch(Wv, xv, yv)
    assert np.isfinite(loss) and np.all(np.isfinite(grad))
    np.testing.assert_allclose(loss, want_loss, rtol=1e-12)
    np.testing.assert_allclose(grad, want_grad, rtol=1e-9, atol=1e-12)
