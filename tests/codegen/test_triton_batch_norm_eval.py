"""Batch norm in evaluation mode on the Triton target: ``sg.batch_norm(z, sg.stop_gradient(rm),
sg.stop_gradient(rv), gamma, beta, training=False)`` after a convolution or a dense layer, the running
statistics parameters that the step leaves unchanged (they get no gradient: skipped as torch skips
a parameter whose .grad is None).

Until 2026-12-01 (thirteenth session) the convolution's case was refused as "an elementwise
operation with a value of shape (4, 6, 6) that is not one number per filter": its per-channel
column was a function of the statistics, (b − rm) / sqrt(rv + eps), which `kernel_conv._channel_column`
did not read through. Oracles: the NumPy target (loss, gradients, 2 Adam steps) and torch.autograd
with ``F.batch_norm(training=False)`` (float64). Tiny sizes: Triton's interpreter.
"""
import warnings

import numpy as np
import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")
pytest.importorskip("triton")
F = torch.nn.functional
N = sp.Symbol("N", integer=True, positive=True)
B = 3
y = sg.tensor("y", (N,), integer=True)
gam, bet, rm, rv = (sg.tensor(k, (4,)) for k in ("gamma", "beta", "rm", "rv"))


def _values(params, rng):
    out = {p.name: (0.4 * rng.standard_normal(tuple(int(d) for d in p.shape))).astype(np.float32) for p in params}
    out["rv"] = (0.5 + rng.random(4)).astype(np.float32)        # a variance: positive
    return out


def _check(loss, params, inputs, batch, torch_loss, rng):
    opt = sg.optim.Adam(lr=0.01)
    with warnings.catch_warnings():         # (rm and rv get no gradient: said, and expected)
        warnings.simplefilter("ignore", sg.optim.NoGradientWarning)
        pn, pt = (sg.compile(loss, params, inputs, target=t, optimizer=opt) for t in ("numpy", "triton"))
    vals = _values(params, rng)
    tv = {k: torch.tensor(v) for k, v in vals.items()}
    tb = {k: torch.tensor(v) for k, v in batch.items()}
    gt, gn = pt.grad(tv, tb), pn.grad({k: v.copy() for k, v in vals.items()}, batch)
    want = {k: torch.tensor(v, dtype=torch.float64, requires_grad=k not in ("rm", "rv")) for k, v in vals.items()}
    tb64 = {k: torch.tensor(v) if v.dtype.kind in "iu" else torch.tensor(v, dtype=torch.float64) for k, v in batch.items()}
    ref = torch_loss(want, tb64)
    ref.backward()
    np.testing.assert_allclose(float(pt.loss(tv, tb)), float(pn.loss(vals, batch)), rtol=1e-5)
    np.testing.assert_allclose(float(pt.loss(tv, tb)), ref.item(), rtol=1e-5)
    for k in want:
        if k in ("rm", "rv"):
            assert k not in gt or not np.any(gt[k].numpy()), k
            continue
        np.testing.assert_allclose(gt[k].numpy(), np.asarray(gn[k]), rtol=1e-4, atol=1e-6, err_msg=k)
        np.testing.assert_allclose(gt[k].numpy(), want[k].grad.numpy(), rtol=1e-4, atol=1e-6, err_msg=f"torch {k}")
    vn, sn, st = {k: v.copy() for k, v in vals.items()}, None, None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sg.optim.NoGradientWarning)
        for _ in range(2):
            vn, sn = pn.step(vn, sn, batch)
            tv, st = pt.step(tv, st, tb)
    for k in vn:
        np.testing.assert_allclose(tv[k].numpy(), np.asarray(vn[k]), rtol=1e-4, atol=1e-6, err_msg=f"step {k}")
    for k in ("rm", "rv"):
        np.testing.assert_array_equal(tv[k].numpy(), vals[k])       # the statistics are left as they were


def test_a_cnn_with_batch_norm_in_eval_mode_equals_numpy_and_torch():
    """conv 3×3 (4 filters, padding 1) → batch norm (eval) → relu → max-pool 2 → flatten → dense."""
    rng = np.random.default_rng(7)
    x, w, b = sg.tensor("x", (N, 1, 4, 4)), sg.tensor("w", (4, 1, 3, 3)), sg.tensor("b", (4,))
    V, c = sg.tensor("V", (16, 3)), sg.tensor("c", (3,))
    z = sg.batch_norm(sg.conv2d(x, w, b, padding=1), sg.stop_gradient(rm), sg.stop_gradient(rv), gam, bet)
    loss = sg.cross_entropy(sg.max_pool2d(sg.relu(z), 2).reshape(N, -1) @ V + c, y)
    batch = {"x": rng.standard_normal((B, 1, 4, 4)).astype(np.float32), "y": rng.integers(0, 3, B)}

    def torch_loss(p, bb):
        t = F.batch_norm(F.conv2d(bb["x"], p["w"], p["b"], padding=1), p["rm"], p["rv"], p["gamma"], p["beta"])
        return F.cross_entropy(F.max_pool2d(F.relu(t), 2).reshape(B, -1) @ p["V"] + p["c"], bb["y"])
    _check(loss, [w, b, gam, bet, V, c, rm, rv], [x, y], batch, torch_loss, rng)


def test_an_mlp_with_batch_norm_in_eval_mode_equals_numpy_and_torch():
    """dense 5 → 4 → batch norm (eval) → relu → dense 4 → 3."""
    rng = np.random.default_rng(8)
    x, W, b, V = sg.tensor("x", (N, 5)), sg.tensor("W", (5, 4)), sg.tensor("b", (4,)), sg.tensor("V", (4, 3))
    z = sg.batch_norm(x @ W + b, sg.stop_gradient(rm), sg.stop_gradient(rv), gam, bet)
    loss = sg.cross_entropy(sg.relu(z) @ V, y)
    batch = {"x": rng.standard_normal((B, 5)).astype(np.float32), "y": rng.integers(0, 3, B)}

    def torch_loss(p, bb):
        t = F.batch_norm(bb["x"] @ p["W"] + p["b"], p["rm"], p["rv"], p["gamma"], p["beta"])
        return F.cross_entropy(F.relu(t) @ p["V"], bb["y"])
    _check(loss, [W, b, gam, bet, V, rm, rv], [x, y], batch, torch_loss, rng)


def test_running_statistics_as_inputs_are_refused_naming_the_parameter_way():
    """The NumPy target takes rm and rv as inputs (C,); the Triton target takes inputs with N first,
    and the refusal says what to write (it said only 'every input has the batch size N first')."""
    x, W = sg.tensor("x", (N, 5)), sg.tensor("W", (5, 4))
    loss = sg.cross_entropy(sg.batch_norm(x @ W, rm, rv, gam, bet), y)
    with pytest.raises(sg.UnsupportedError, match=r"'rm' is declared \(4\).*running statistics.*"
                                                   r"sg\.stop_gradient\(rm\).*with the parameters"):
        sg.compile(loss, [W, gam, bet], [x, y, rm, rv], target="triton")


def test_batch_norm_in_training_mode_is_refused_naming_evaluation_mode_and_layer_norm():
    x, W = sg.tensor("x", (N, 5)), sg.tensor("W", (5, 4))
    loss = sg.cross_entropy(sg.batch_norm(x @ W, None, None, gam, bet, training=True), y)
    with pytest.raises(sg.UnsupportedError, match=r"batch statistics.*training=False.*sg\.layer_norm"):
        sg.compile(loss, [W, gam, bet], [x, y], target="triton")
