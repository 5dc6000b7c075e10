"""Compiled gradients against torch.autograd in float64 (relative 1e-10).

Each case declares a network and loss with symgrad for ONE example, writes the same computation in
torch for a whole batch, and compares the mean loss and every parameter gradient. torch is only the
oracle here.
"""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")
F = torch.nn.functional

ACTS = {"relu": (sg.relu, torch.relu), "tanh": (sp.tanh, torch.tanh), "sigmoid": (sg.sigmoid, torch.sigmoid)}
WIDTHS = [4, 6, 3]
B = 9


def _targets(kind, rng, n):
    if kind in ("cross_entropy", "kl_div"):
        p = rng.random((B, n)) + 0.1
        return p / p.sum(1, keepdims=True) if kind == "kl_div" else np.eye(n)[rng.integers(0, n, B)]
    if kind == "hinge":
        return rng.choice([-1.0, 1.0], size=(B, n))
    if kind == "bce":
        return rng.random((B, n))
    return rng.normal(size=(B, n))


def _declared_loss(kind, out, t):
    if kind == "cross_entropy":
        return sg.cross_entropy(out, t)
    if kind == "kl_div":
        return sg.kl_div(t, sg.softmax(out))
    return {"mse": sg.mse, "l1": sg.l1, "hinge": sg.hinge, "bce": sg.bce}[kind](out, t)


def _torch_loss(kind, out, t):
    """The same per-example losses, averaged over the batch, written with torch's own functions."""
    if kind == "cross_entropy":
        return F.cross_entropy(out, t)
    if kind == "kl_div":
        return F.kl_div(F.log_softmax(out, dim=1), t, reduction="batchmean")
    if kind == "mse":
        return 0.5 * F.mse_loss(out, t, reduction="sum") / B
    if kind == "l1":
        return F.l1_loss(out, t, reduction="sum") / B
    if kind == "hinge":
        return torch.clamp(1 - t * out, min=0).sum() / B
    if kind == "bce":
        return F.binary_cross_entropy(out, t, reduction="sum") / B
    raise KeyError(kind)


def _assert_close(got, want, what):
    scale = max(np.max(np.abs(want)), 1e-300)
    err = np.max(np.abs(np.asarray(got) - want)) / scale
    assert err <= 1e-10, f"{what}: relative error {err:.3g}"


@pytest.mark.parametrize("act", sorted(ACTS))
@pytest.mark.parametrize("kind", ["cross_entropy", "mse", "l1", "hinge", "bce", "kl_div"])
def test_mlp_gradients_equal_torch(kind, act, rng):
    f, tf = ACTS[act]
    out_act = sg.sigmoid if kind == "bce" else None
    net = sg.mlp(WIDTHS, act=f, out_act=out_act)
    t = sp.MatrixSymbol("t", WIDTHS[-1], 1)
    prog = sg.compile(_declared_loss(kind, net.output, t), net.params, [net.input, t], dtype="float64")

    values = {p.name: rng.normal(size=p.shape) for p in net.params}
    X = rng.normal(size=(B, WIDTHS[0]))
    T = _targets(kind, rng, WIDTHS[-1])
    batch = {"x": X, "t": T}
    loss = prog.loss(values, batch)
    grads = prog.grad(values, batch)

    tv = {k: torch.tensor(v, requires_grad=True) for k, v in values.items()}
    h = tf(torch.tensor(X) @ tv["W1"].T + tv["b1"].T)
    z = h @ tv["W2"].T + tv["b2"].T
    if out_act is not None:
        z = torch.sigmoid(z)
    tl = _torch_loss(kind, z, torch.tensor(T))
    tl.backward()

    _assert_close(loss, tl.item(), "loss")
    assert set(grads) == set(values)
    for k in values:
        assert grads[k].shape == values[k].shape
        _assert_close(grads[k], tv[k].grad.numpy(), f"d loss / d {k}")


def test_worlds_smallest_perceptron(rng):
    """y = w·x with scalar symbols (the seeds' example), squared error, the seeds' data."""
    w, x, y = sp.symbols("w x y")
    prog = sg.compile((y - w * x) ** 2 / 2, params=[w], inputs=[x, y], dtype="float64")
    X = np.array([10, 2, 3.5, 1])
    Y = np.array([10.1, 1.9, 3.4, 1.1])
    wt = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    tl = ((torch.tensor(Y) - wt * torch.tensor(X)) ** 2 / 2).mean()
    tl.backward()
    g = prog.grad({w: 0.7}, {x: X, y: Y})["w"]
    assert np.shape(g) == ()
    _assert_close(prog.loss({w: 0.7}, {x: X, y: Y}), tl.item(), "loss")
    _assert_close(g, wt.grad.item(), "d loss / d w")


def test_deeper_mlp_and_sum_reduction(rng):
    net = sg.mlp([3, 5, 4, 2], act=sp.tanh)
    t = sp.MatrixSymbol("t", 2, 1)
    prog = sg.compile(sg.mse(net.output, t), net.params, [net.input, t], dtype="float64",
                      reduction="sum")
    values = {p.name: rng.normal(size=p.shape) for p in net.params}
    X, T = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    tv = {k: torch.tensor(v, requires_grad=True) for k, v in values.items()}
    h = torch.tensor(X)
    for k in (1, 2, 3):
        h = h @ tv[f"W{k}"].T + tv[f"b{k}"].T
        h = torch.tanh(h) if k < 3 else h
    tl = 0.5 * ((h - torch.tensor(T)) ** 2).sum()
    tl.backward()
    grads = prog.grad(values, {"x": X, "t": T})
    _assert_close(prog.loss(values, {"x": X, "t": T}), tl.item(), "loss")
    for k in values:
        _assert_close(grads[k], tv[k].grad.numpy(), k)


def test_float32_program_computes_in_float32(rng):
    net = sg.mlp([4, 6, 3], act=sg.relu)
    t = sp.MatrixSymbol("t", 3, 1)
    L = sg.cross_entropy(net.output, t)
    p32 = sg.compile(L, net.params, [net.input, t])
    p64 = sg.compile(L, net.params, [net.input, t], dtype="float64")
    values = {p.name: rng.normal(size=p.shape) for p in net.params}
    batch = {"x": rng.normal(size=(5, 4)), "t": np.eye(3)[[0, 1, 2, 0, 1]]}
    g32, g64 = p32.grad(values, batch), p64.grad(values, batch)
    for k in values:
        assert g32[k].dtype == np.float32
        np.testing.assert_allclose(g32[k], g64[k], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("act", sorted(ACTS))
def test_cross_entropy_with_integer_labels_equals_torch(act, rng):
    """cross_entropy(logits, k) with a scalar label k (the gather primitive) against torch's
    class-index cross-entropy."""
    f, tf = ACTS[act]
    net = sg.mlp(WIDTHS, act=f)
    k = sp.Symbol("k")
    prog = sg.compile(sg.cross_entropy(net.output, k), net.params, [net.input, k], dtype="float64")
    values = {p.name: rng.normal(size=p.shape) for p in net.params}
    X, labels = rng.normal(size=(B, WIDTHS[0])), rng.integers(0, WIDTHS[-1], B)
    batch = {"x": X, "k": labels}
    tv = {kk: torch.tensor(v, requires_grad=True) for kk, v in values.items()}
    z = tf(torch.tensor(X) @ tv["W1"].T + tv["b1"].T) @ tv["W2"].T + tv["b2"].T
    tl = F.cross_entropy(z, torch.tensor(labels))
    tl.backward()
    _assert_close(prog.loss(values, batch), tl.item(), "loss")
    g = prog.grad(values, batch)
    for kk in values:
        _assert_close(g[kk], tv[kk].grad.numpy(), kk)
    # the same as one-hot targets
    t = sp.MatrixSymbol("t", WIDTHS[-1], 1)
    onehot = sg.compile(sg.cross_entropy(net.output, t), net.params, [net.input, t], dtype="float64")
    g1 = onehot.grad(values, {"x": X, "t": np.eye(WIDTHS[-1])[labels]})
    for kk in values:
        _assert_close(g[kk], g1[kk], kk)
