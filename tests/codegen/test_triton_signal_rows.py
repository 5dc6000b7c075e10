"""A signal (C, L) per example kept as its C rows on the Triton target, when it is made by a layer or
scaled per channel (`kernel_form.AsColumns._vector_as_rows`, `_numbers_per_row`).

Until 2026-12-01 (thirteenth session) these were refused: a layer's output reshaped to a signal and
resized with ``sg.interpolate(mode="linear")`` as "a reshape of (N, 8) to (2*N, 4) that moves or
merges the batch axis N", quoting the resize's weight formula (``relu(1 - Abs(-(tril(ones(...``);
a parameter column (C, 1) broadcast over the signal's rows (a per-channel scale or shift) as "an
elementwise operation ... on a matrix per example".
Oracles: the NumPy target (loss, every gradient, 2 Adam steps) and torch.autograd in float64
(`test_triton_resize._check`). Tiny sizes: Triton's interpreter.
"""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from tests.codegen.test_triton_resize import B, _check

torch = pytest.importorskip("torch")
F = torch.nn.functional
N = sp.Symbol("N", integer=True, positive=True)
y = sg.tensor("y", (N,), integer=True)


def _batch(shape, seed=3):
    rng = np.random.default_rng(seed)
    return {"x": rng.standard_normal((B,) + shape).astype(np.float32), "y": rng.integers(0, 3, B)}


@pytest.mark.parametrize("how", [dict(scale_factor=2), dict(size=5, align_corners=True)], ids=["x2", "size 5 corners"])
def test_a_linear_resize_of_a_layers_output_equals_numpy_and_torch(how):
    """dense → reshape to a signal (N, 2, 4) → linear resize → flatten → dense."""
    x, W, b = sg.tensor("x", (N, 6)), sg.tensor("W", (6, 8)), sg.tensor("b", (8,))
    u = sg.interpolate(sg.relu(x @ W + b).reshape(N, 2, 4), mode="linear", **how)
    V, c = sg.tensor("V", (2 * int(u.shape[2]), 3)), sg.tensor("c", (3,))

    def torch_loss(p, bb):
        t = F.interpolate(torch.relu(bb["x"] @ p["W"] + p["b"]).reshape(B, 2, 4), mode="linear", **how)
        return F.cross_entropy(t.reshape(B, -1) @ p["V"] + p["c"], bb["y"])
    _check(sg.cross_entropy(u.reshape(N, -1) @ V + c, y), [W, b, V, c], [x, y], _batch((6,)), torch_loss)


def test_a_per_channel_scale_and_shift_of_a_signal_equals_numpy_and_torch():
    """exp(g) (2, 1) * x + s (2, 1) over a signal x (N, 2, 4): a number per channel row (the entry i of
    exp(g) is exp of the entry i of g), then tanh, flatten, dense."""
    x, g, s, V = sg.tensor("x", (N, 2, 4)), sg.tensor("g", (2, 1)), sg.tensor("s", (2, 1)), sg.tensor("V", (8, 3))

    def torch_loss(p, bb):
        return F.cross_entropy(torch.tanh(bb["x"] * torch.exp(p["g"]) + p["s"]).reshape(B, -1) @ p["V"], bb["y"])
    _check(sg.cross_entropy(sg.tanh(x * sg.exp(g) + s).reshape(N, -1) @ V, y), [g, s, V], [x, y], _batch((2, 4)), torch_loss)


def test_each_channel_centred_on_its_mean_then_pooled_equals_numpy_and_torch():
    """A number per row computed per example: x − x.mean(axis=2, keepdims=True) (each channel of a
    layer's signal centred), then the max over each channel and a dense layer."""
    x, W, V = sg.tensor("x", (N, 6)), sg.tensor("W", (6, 8)), sg.tensor("V", (2, 3))
    h = sg.tanh(x @ W).reshape(N, 2, 4)
    z = (h - h.mean(axis=2, keepdims=True)) * 2

    def torch_loss(p, bb):
        t = torch.tanh(bb["x"] @ p["W"]).reshape(B, 2, 4)
        return F.cross_entropy(((t - t.mean(dim=2, keepdim=True)) * 2).amax(dim=2) @ p["V"], bb["y"])
    _check(sg.cross_entropy(z.max(axis=2) @ V, y), [W, V], [x, y], _batch((6,)), torch_loss)


def test_a_linear_resize_of_a_layers_output_in_as_torch_after_an_encoder_equals_torch():
    """The module's outputs (the VJP kernels) and its fused loss send the gradient through the
    signal's rows back to an nn.Linear encoder, as torch.autograd does."""
    x, W, b = sg.tensor("x", (N, 6)), sg.tensor("W", (6, 8)), sg.tensor("b", (8,))
    V, c = sg.tensor("V", (16, 3)), sg.tensor("c", (3,))
    logits = sg.interpolate(sg.tanh(x @ W + b).reshape(N, 2, 4), scale_factor=2, mode="linear").reshape(N, -1) @ V + c
    mod = sg.compile(sg.cross_entropy(logits, y), [W, b, V, c], [x, y], target="triton", outputs=[logits]).as_torch()
    torch.manual_seed(0)
    enc = torch.nn.Linear(5, 6)
    X, Y = torch.randn(4, 5), torch.randint(0, 3, (4,))
    p = {k: v.detach().clone().requires_grad_() for k, v in mod.named_parameters()}
    e = {k: v.detach().clone().requires_grad_() for k, v in enc.named_parameters()}
    t = F.interpolate(torch.tanh((X @ e["weight"].T + e["bias"]) @ p["W"] + p["b"]).reshape(4, 2, 4),
                      scale_factor=2, mode="linear")
    ref = t.reshape(4, -1) @ p["V"] + p["c"]
    F.cross_entropy(ref, Y).backward()
    for call in (lambda: F.cross_entropy(mod(enc(X)), Y), lambda: mod.loss(enc(X), Y)):
        mod.zero_grad()
        enc.zero_grad()
        call().backward()
        for k, v in list(mod.named_parameters()) + list(enc.named_parameters()):
            want = (p.get(k) if k in p else e[k]).grad
            np.testing.assert_allclose(v.grad.numpy(), want.numpy(), rtol=1e-4, atol=1e-6, err_msg=k)
    np.testing.assert_allclose(mod(enc(X)).detach().numpy(), ref.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("pool", ["max_pool1d", "avg_pool1d"])
def test_a_1d_pooling_of_a_signal_is_refused_naming_it_and_the_height_1_way_equals_torch(pool):
    """sg.max_pool1d / avg_pool1d of a layer's signal was refused as "pooling of the input image"; now
    named, with the map of height 1 as the way, whose numbers equal torch's F.max_pool1d / avg_pool1d."""
    x, W, b = sg.tensor("x", (N, 6)), sg.tensor("W", (6, 8)), sg.tensor("b", (8,))
    V = sg.tensor("V", (4, 3))
    h = sg.relu(x @ W + b)
    with pytest.raises(sg.UnsupportedError, match=rf"pooling of a signal \(N, 2, 4\).*`{pool}\(.*"
                                                   rf"h\.reshape\(N, C, 1, L\).*\(1, 2\).*target='numpy'") as err:
        sg.compile(sg.cross_entropy(getattr(sg, pool)(h.reshape(N, 2, 4), 2).reshape(N, -1) @ V, y), [W, b, V], [x, y],
                   target="triton")
    assert "input image" not in str(err.value)
    pool2d = sg.max_pool2d if pool == "max_pool1d" else sg.avg_pool2d

    def torch_loss(p, bb):
        t = getattr(F, pool)(torch.relu(bb["x"] @ p["W"] + p["b"]).reshape(B, 2, 4), 2)
        return F.cross_entropy(t.reshape(B, -1) @ p["V"], bb["y"])
    _check(sg.cross_entropy(pool2d(h.reshape(N, 2, 1, 4), (1, 2)).reshape(N, -1) @ V, y), [W, b, V], [x, y],
           _batch((6,)), torch_loss)
