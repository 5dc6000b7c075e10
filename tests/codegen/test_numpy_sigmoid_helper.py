"""σ in the generated NumPy module is one helper, ``sigmoid(x)``: SciPy's ``expit`` (one C loop)
when SciPy is installed, else exp(−logaddexp(0, −x)) — the form every σ was printed as before, two
ufuncs and a temporary per call (bench/port_step.py: an LSTM's gates, a sigmoid autoencoder). Both
paths give torch's values and gradients (float64), never overflow, and the module still needs only
NumPy."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from tests.codegen.generated_module import load_generated

torch = pytest.importorskip("torch")
N = sp.Symbol("N", integer=True, positive=True)


def _program():
    x, W, b = sg.tensor("x", (N, 5)), sg.tensor("W", (3, 5)), sg.tensor("b", (3,))
    out = sg.sigmoid(sg.linear(x, W, b))
    return sg.compile(sg.mse(out, sg.sigmoid(x[:, :3])), [W, b], [x], dtype="float64", outputs=[out])


def _load(source, scipy):
    return load_generated(source, scipy, "from scipy.special import expit as _expit_vectorized", "_expit_vectorized")


@pytest.mark.parametrize("scipy", [True, False], ids=["scipy", "numpy_only"])
def test_the_helper_gives_torchs_values_and_gradients(scipy):
    prog = _program()
    body = prog.source.split("def sigmoid", 1)[1]
    assert "logaddexp" not in body.split("\ndef ", 1)[1]          # the functions call the helper
    ns = _load(prog.source, scipy)
    rng = np.random.default_rng(0)
    W, b = rng.normal(size=(3, 5)) * 30, rng.normal(size=3)         # |z| up to hundreds: σ saturates
    X = rng.normal(size=(6, 5))
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss, (gW, gb) = ns["grad"]([W, b], [X])
    t = {k: torch.tensor(v, requires_grad=True) for k, v in (("W", W), ("b", b))}
    Xt = torch.tensor(X)
    lt = torch.nn.functional.mse_loss(torch.sigmoid(Xt @ t["W"].T + t["b"]), torch.sigmoid(Xt[:, :3]))
    lt.backward()
    assert abs(loss - lt.item()) < 1e-14
    np.testing.assert_allclose(gW, t["W"].grad.numpy(), rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(gb, t["b"].grad.numpy(), rtol=1e-10, atol=1e-15)


def test_float32_stays_float32_through_the_helper():
    x, W = sg.tensor("x", (N, 4)), sg.tensor("W", (4, 4))
    prog = sg.compile(sg.sum(sg.sigmoid(x @ W)), [W], [x], dtype="float32", outputs=[sg.sigmoid(x @ W)])
    (out,) = prog.forward({"W": np.eye(4, dtype=np.float32)}, {"x": np.ones((2, 4), np.float32)})
    assert out.dtype == np.float32
