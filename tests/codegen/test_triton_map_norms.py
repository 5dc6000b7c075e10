"""Layer norm of a convolution's map on the Triton target: ``sg.layer_norm(z, (C, H, W))`` of a
map z (N, C, H, W), its mean and variance over the whole map one number per example, spread back
over the map's rows (`kernel_conv._channel_column`).

Until 2026-12-01 (thirteenth session) refused as "a value has 3 axes (1, 1, 1) per example; ...
take per-example vectors and parameter matrices" — the mean with keepdims, in no words of the
user's. Oracles: the NumPy target (loss, gradients, 2 Adam steps) and torch.autograd with
``F.layer_norm`` (float64). Tiny sizes: Triton's interpreter.
"""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from tests.codegen.test_triton_resize import B, _check

torch = pytest.importorskip("torch")
F = torch.nn.functional
N = sp.Symbol("N", integer=True, positive=True)


@pytest.mark.parametrize("affine", [False, True], ids=["plain", "per-channel weights (group_norm with G = 1)"])
def test_layer_norm_of_a_convolutions_map_equals_numpy_and_torch(affine):
    """conv 3×3 (3 filters, padding 1) on 4×4 → layer norm over (3, 4, 4) [× g + s per channel: torch's
    GroupNorm(1, C)] → relu → max-pool 2 → dense."""
    x, y = sg.tensor("x", (N, 1, 4, 4)), sg.tensor("y", (N,), integer=True)
    w, b, V, c = sg.tensor("w", (3, 1, 3, 3)), sg.tensor("b", (3,)), sg.tensor("V", (12, 3)), sg.tensor("c", (3,))
    g, s = sg.tensor("g", (3,)), sg.tensor("s", (3,))
    z = sg.layer_norm(sg.conv2d(x, w, b, padding=1), (3, 4, 4))
    if affine:
        z = z * g.reshape(3, 1, 1) + s.reshape(3, 1, 1)
    loss = sg.cross_entropy(sg.max_pool2d(sg.relu(z), 2).reshape(N, -1) @ V + c, y)
    rng = np.random.default_rng(2)
    batch = {"x": rng.standard_normal((B, 1, 4, 4)).astype(np.float32), "y": rng.integers(0, 3, B)}

    def torch_loss(p, bb):
        t = F.conv2d(bb["x"], p["w"], p["b"], padding=1)
        t = F.group_norm(t, 1, p["g"], p["s"]) if affine else F.layer_norm(t, (3, 4, 4))
        return F.cross_entropy(F.max_pool2d(F.relu(t), 2).reshape(B, -1) @ p["V"] + p["c"], bb["y"])
    _check(loss, [w, b, V, c] + ([g, s] if affine else []), [x, y], batch, torch_loss)


@pytest.mark.parametrize("groups", [1, 2])
def test_group_norm_of_a_map_is_refused_naming_it_and_the_ways_out(groups):
    """sg.group_norm(z, G) groups the channels by a reshape (C, H, W) → (G, C/G·H·W); G = 1 was refused as
    "a sum of the input image" (a map is not the input image)."""
    x, y = sg.tensor("x", (N, 1, 4, 4)), sg.tensor("y", (N,), integer=True)
    w, V = sg.tensor("w", (4, 1, 3, 3)), sg.tensor("V", (64, 3))
    z = sg.group_norm(sg.conv2d(x, w, padding=1), groups)
    with pytest.raises(sg.UnsupportedError, match=r"sg\.group_norm.*sg\.instance_norm.*sg\.layer_norm\(z, \(C, H, W\)\)"
                                                   r".*target='numpy'") as err:
        sg.compile(sg.cross_entropy(z.reshape(N, -1) @ V, y), [w, V], [x, y], target="triton")
    assert "input image" not in str(err.value)


def test_a_number_per_example_spread_over_a_map_read_otherwise_is_refused_by_name():
    """The spread mean is read by the map's elementwise operations only; returned as a map of its own
    (its flatten), it is refused naming the subexpression, not an internal shape."""
    x, y = sg.tensor("x", (N, 1, 4, 4)), sg.tensor("y", (N,), integer=True)
    w, V = sg.tensor("w", (3, 1, 3, 3)), sg.tensor("V", (48, 3))
    z = sg.conv2d(x, w, padding=1)
    m = sg.broadcast_to(z.mean(axis=(1, 2, 3), keepdims=True), (N, 3, 4, 4))
    with pytest.raises(sg.UnsupportedError, match=r"target='numpy'") as err:
        sg.compile(sg.cross_entropy(m.reshape(N, -1) @ V, y), [w, V], [x, y], target="triton")
    assert "(1, 1, 1)" not in str(err.value) and "mean" in str(err.value), str(err.value)


def test_instance_norm_of_a_convolutions_map_equals_numpy_and_torch():
    """conv 3×3 (2 filters, padding 1) on 3×3 → instance norm (each channel over its positions) →
    tanh → flatten → dense."""
    x, y = sg.tensor("x", (N, 1, 3, 3)), sg.tensor("y", (N,), integer=True)
    w, V = sg.tensor("w", (2, 1, 3, 3)), sg.tensor("V", (18, 3))      # (no bias: the norm cancels it,
    z = sg.instance_norm(sg.conv2d(x, w, padding=1))                    # its gradient 0 but for rounding)
    loss = sg.cross_entropy(sg.tanh(z).reshape(N, -1) @ V, y)
    rng = np.random.default_rng(5)
    batch = {"x": rng.standard_normal((B, 1, 3, 3)).astype(np.float32), "y": rng.integers(0, 3, B)}

    def torch_loss(p, bb):
        t = F.instance_norm(F.conv2d(bb["x"], p["w"], padding=1))
        return F.cross_entropy(torch.tanh(t).reshape(B, -1) @ p["V"], bb["y"])
    _check(loss, [w, V], [x, y], batch, torch_loss)
