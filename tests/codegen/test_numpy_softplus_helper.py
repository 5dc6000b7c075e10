"""softplus in the generated NumPy module is one helper, ``softplus(x)``: max(x, 0) + log1p(exp(−|x|))
in NumPy's vectorized loops over one temporary, not ``numpy.logaddexp(0, x)`` (the same formula run
entry by entry through the C library: about 7 times the helper's time over float32,
bench/softplus_helper.py; a VAE's reconstruction loss was a third of its step). Its values: within 3
float32 ulp of log(1 + eˣ) worked out in float64, the infinities and NaN as logaddexp gives them, numbers and integers through logaddexp; the compiled
binary cross-entropy of logits and its gradients equal torch's."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")
N = sp.Symbol("N", integer=True, positive=True)


def _helper():
    x, W = sg.tensor("x", (N, 3)), sg.tensor("W", (3, 3))
    prog = sg.compile(sg.sum(sg.softplus(x @ W)) / N, [W], [x], dtype="float32")
    ns: dict = {}
    exec(compile(prog.source, "<generated>", "exec"), ns)
    return prog, ns["softplus"]


def test_the_module_calls_the_helper_not_logaddexp():
    prog, _ = _helper()
    assert "\ndef softplus(x):" in prog.source
    for fn in ("loss", "grad", "step"):                         # the functions (σ's helper, softplus's
        body = prog.source.split(f"\ndef {fn}(", 1)[1].split("\ndef ", 1)[0]    # derivative, has its own)
        assert "logaddexp" not in body and "softplus(" in body, fn


def test_float32_values_within_three_ulp_of_float64():
    _, softplus = _helper()
    x = np.concatenate([np.linspace(-120, 120, 200001), np.geomspace(1e-30, 1e-3, 1000),
                        -np.geomspace(1e-30, 1e-3, 1000), [0.0, -0.0]]).astype(np.float32)
    y = softplus(x)
    assert y.dtype == np.float32 and y.shape == x.shape
    ref = np.logaddexp(0, x.astype(np.float64))
    ulp = np.spacing(np.abs(ref).astype(np.float32)).astype(np.float64)
    assert np.max(np.abs(y - ref) / ulp) <= 3.0            # (logaddexp: 1.4; the erf helper: 2.5)
    assert softplus(x[None, :5]).shape == (1, 5)                # any shape, views included
    assert np.array_equal(softplus(x[::7]), softplus(x.copy()[::7]))


def test_infinities_nan_numbers_and_integers_as_logaddexp():
    _, softplus = _helper()
    for dtype in (np.float32, np.float64):
        x = np.array([np.inf, -np.inf, np.nan, 1e30, -1e30, 88.8, -104.0], dtype=dtype)
        with np.errstate(over="raise", invalid="raise", divide="raise"):   # (exp underflows in the tail: 0)
            y = softplus(x)
        with np.errstate(invalid="ignore"):
            want = np.logaddexp(0, x)
        assert y.dtype == dtype
        np.testing.assert_array_equal(np.isnan(y), np.isnan(want))
        np.testing.assert_allclose(y[~np.isnan(y)], want[~np.isnan(want)], rtol=2 * np.finfo(dtype).eps)
    assert softplus(2.0) == np.logaddexp(0, 2.0)
    np.testing.assert_array_equal(softplus(np.array([-3, 0, 5])), np.logaddexp(0, np.array([-3, 0, 5])))
    x = np.linspace(-40, 40, 1001)
    np.testing.assert_allclose(softplus(x), np.logaddexp(0, x), rtol=4e-16, atol=0)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_bce_with_logits_step_equals_torch(dtype):
    """The VAE's reconstruction term: Σ BCE(logits, x) / N, its gradients against torch.autograd."""
    x, W, b = sg.tensor("x", (N, 6)), sg.tensor("W", (6, 6)), sg.tensor("b", (6,))
    loss = sg.bce_with_logits(sg.linear(x, W, b), x, reduction="sum") / N
    prog = sg.compile(loss, [W, b], [x], dtype=dtype)
    assert "softplus(" in prog.source and "logaddexp(0, v" not in prog.source
    rng = np.random.default_rng(3)
    Wa, ba = rng.normal(size=(6, 6)) * 8, rng.normal(size=6)          # logits up to ±50: both tails
    xa = (rng.random((5, 6)) < 0.4).astype(float)
    t = {k: torch.tensor(v, requires_grad=True) for k, v in (("W", Wa), ("b", ba))}
    xt = torch.tensor(xa)
    lt = torch.nn.functional.binary_cross_entropy_with_logits(xt @ t["W"].T + t["b"], xt, reduction="sum") / 5
    lt.backward()
    tol = 1e-12 if dtype == "float64" else 2e-5
    vals = {"W": Wa, "b": ba}
    assert abs(float(prog.loss(vals, {"x": xa})) - lt.item()) <= tol * abs(lt.item())
    g = prog.grad(vals, {"x": xa})
    np.testing.assert_allclose(g["W"], t["W"].grad.numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(g["b"], t["b"].grad.numpy(), rtol=tol, atol=tol)
