"""A convolution of the input image on the Triton target (`symgrad.compiling.kernel_conv`): the
output kept as its rows (one per output position, each the product of the kernel's matrix with a
window of the image loaded by its index table), then a bias per filter, relu, max or average
pooling, and a flattened dense layer, as the digits CNN's first layer is written.

Each network is compared with the NumPy target compiled from the same declaration (loss, every
gradient, 3 Adam steps, at float32 tolerance), and its gradients with torch.autograd on the same
network written with torch.nn.functional (conv2d, max_pool2d, avg_pool2d) in float32. What the
kernels do not run is refused in the declaration's words, pointing to target='numpy'.

Tiny images and batches: the kernels run under Triton's interpreter on the CPU.
"""
import re

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from tests.codegen.aot import compile_sm90
from tests.codegen.refusals import assert_refused_for_triton
from tests.codegen.test_triton_tensors import _same_as_numpy, _values

torch = pytest.importorskip("torch")
pytest.importorskip("triton")
F = torch.nn.functional

N = sp.Symbol("N", integer=True, positive=True)
C_OUT = 3                                       # classes


def _cnn(image, filters, kernel, stride=1, padding=0, pool=None, dilation=1):
    """x (N, C, H, W) → conv2d (bias) → relu → [pool 2] → flatten → dense → cross-entropy."""
    x, y = sg.tensor("x", (N,) + image), sg.tensor("y", (N,), integer=True)
    w, b = sg.tensor("w", (filters, image[0]) + kernel), sg.tensor("b", (filters,))
    h = sg.relu(sg.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation))
    if pool == "max":
        h = sg.max_pool2d(h, 2)
    elif pool == "avg":
        h = sg.avg_pool2d(h, 2)
    V, c = sg.tensor("V", (int(np.prod(h.shape[1:])), C_OUT)), sg.tensor("c", (C_OUT,))
    loss = sg.cross_entropy(h.reshape(N, -1) @ V + c, y)
    return loss, [w, b, V, c], [x, y], dict(stride=stride, padding=padding, dilation=dilation, pool=pool)


def _torch_grads(values, batch, how):
    t = {k: torch.tensor(v, requires_grad=True) for k, v in values.items()}
    h = F.relu(F.conv2d(torch.tensor(batch["x"]), t["w"], t["b"], stride=how["stride"], padding=how["padding"],
                        dilation=how["dilation"]))
    if how["pool"] == "max":
        h = F.max_pool2d(h, 2)
    elif how["pool"] == "avg":
        h = F.avg_pool2d(h, 2)
    loss = F.cross_entropy(h.reshape(h.shape[0], -1) @ t["V"] + t["c"], torch.tensor(batch["y"], dtype=torch.int64))
    loss.backward()
    return loss.item(), {k: v.grad.numpy() for k, v in t.items()}


def _check(net, batch, rng, values=None):
    loss, params, inputs, how = net
    tri, ref = [sg.compile(loss, params, inputs, target=t, optimizer=sg.optim.Adam(lr=0.05))
                for t in ("triton", "numpy")]
    values = values or _values(params, rng)
    _same_as_numpy(tri, ref, values, batch)
    want_loss, want = _torch_grads(values, batch, how)
    got = tri.grad(values, batch)
    np.testing.assert_allclose(float(tri.loss(values, batch)), want_loss, rtol=1e-5)
    for k in want:
        np.testing.assert_allclose(got[k].cpu().numpy(), want[k], rtol=1e-4, atol=1e-5, err_msg=k)
    return tri


def _images(rng, B, image):
    return {"x": rng.normal(size=(B,) + image).astype(np.float32), "y": rng.integers(0, C_OUT, B)}


def test_a_conv_relu_dense_equals_numpy_and_torch(rng):
    _check(_cnn((1, 4, 4), 3, (3, 3)), _images(rng, 5, (1, 4, 4)), rng)


def test_a_strided_padded_conv_of_two_channels_equals_numpy_and_torch(rng):
    # stride 2, padding 1 on (2, 3, 3): 2×2 positions, every window partly in the padding
    _check(_cnn((2, 3, 3), 2, (3, 3), stride=2, padding=1), _images(rng, 4, (2, 3, 3)), rng)


def test_a_1x1_conv_of_one_channel_equals_numpy_and_torch(rng):
    """Each window is one entry, a number per example: loaded as a column (BLOCK_M,) — it was loaded as
    a (BLOCK_M, BLOCK_N) tile and read as a column, and the interpreter failed (until 2026-11-30, eighth
    session). Padding 1 puts the border windows in the padding (zeros)."""
    _check(_cnn((1, 3, 3), 2, (1, 1), padding=1), _images(rng, 4, (1, 3, 3)), rng)


def test_a_conv_with_one_filter_equals_numpy_and_torch(rng):
    """w (1, C, KH, KW): each position's row is one number, the product W_mat (1, K) · patch a tile of one
    column read as that number (refused until 2026-11-30, ninth session: "each position's row would be a
    single number"). Then relu, a max pool and the dense layer."""
    _check(_cnn((2, 4, 4), 1, (3, 3), padding=1, pool="max"), _images(rng, 4, (2, 4, 4)), rng)


def _launches(prog, values, batch) -> list:
    """The kernels one training step of ``prog`` launches, by name, in order (each launch counted on
    its way to the kernel, which runs)."""
    module, launched = prog.compiled.step.__globals__, []

    class Counted:
        def __init__(self, name, kernel):
            self.name, self.kernel = name, kernel

        def __getitem__(self, grid):
            launched.append(self.name)
            return self.kernel[grid]
    saved = {n: k for n, k in module.items() if re.search(r"_kernel\d*$", n) and not n.startswith("launch_")}
    module.update({n: Counted(n, k) for n, k in saved.items()})
    try:
        prog.step(values, None, batch)
    finally:
        module.update(saved)
    return launched


def test_a_step_is_three_launches_each_weight_gradient_one_product_over_the_positions(rng):
    """w's gradient Σ_b Σ_p δ_bp·patch_bpᵀ is one product over the B·P rows of the δs and windows the
    rows kernel stores side by side (b's, Σ_b Σ_p δ_bp, rides along), and V's one product with the
    flattened map's rows side by side: the rows kernel, one weight-gradient launch, the update —
    at any number of positions (one term per position until the fifth session of 2026-11-30: here
    6 launches, 30 for the 8×8 digits CNN with pooling)."""
    net = _cnn((2, 3, 3), 2, (3, 3), stride=2, padding=1)
    batch = _images(rng, 4, (2, 3, 3))
    tri = _check(net, batch, rng)
    launched = _launches(tri, _values(net[1], rng), batch)
    assert launched == ["train_kernel1", "train_weight_grads_kernel", "update_kernel"], launched
    assert "batch_sum(" not in tri.source and "stack" in tri.source


@pytest.mark.parametrize("kernel, pool", [((3, 3), None), ((1, 1), "max")])
def test_a_one_filter_step_is_three_launches_as_two_filters(rng, kernel, pool):
    """One filter: δ_p is a number per example, stored side by side in a (B, P, 1) stack, so w's
    gradient is one product over the B·P rows as with two filters, b's Σ_b Σ_p δ_bp rides along, and
    V's is one product of the P numbers side by side (until 2026-11-30, ninth session: a term per
    position: 9 launches for the digits CNN with one filter, here 9 and 25)."""
    net = _cnn((2, 3, 3), 1, kernel, stride=2 if pool is None else 1, padding=1, pool=pool)
    batch = _images(rng, 4, (2, 3, 3))
    tri = _check(net, batch, rng)
    launched = _launches(tri, _values(net[1], rng), batch)
    assert launched == ["train_kernel1", "train_weight_grads_kernel", "update_kernel"], launched
    assert "batch_sum(" not in tri.source and "stack" in tri.source


def test_with_a_kernel_per_product_the_terms_stay_one_per_position_and_equal_numpy(rng, monkeypatch):
    """FUSE_ROWS = 0: each position's product a rows kernel of its own, so the δs and windows are
    stored by different launches and not side by side: the weight gradient keeps a term per position
    (and the bias its batch sum), and still equals the NumPy target and torch."""
    from codegen import triton_backend
    monkeypatch.setattr(triton_backend, "FUSE_ROWS", 0)
    tri = _check(_cnn((1, 3, 3), 2, (2, 2)), _images(rng, 3, (1, 3, 3)), rng)
    assert "stack" not in tri.source and "batch_sum(" in tri.source


def test_a_conv_with_a_dilated_kernel_equals_numpy_and_torch(rng):
    # a 2×2 kernel dilated by 2 (a 3×3 span) on a 4×4 image: 2×2 positions
    _check(_cnn((1, 4, 4), 2, (2, 2), dilation=2), _images(rng, 4, (1, 4, 4)), rng)


def _ties(rng, image, kernel, padding, B=4):
    """Images and kernels of small integers, so that many pooling windows hold equal maxima; the
    biases are odd halves, so that no relu input is exactly 0 (where torch's relu′ is 0, symgrad's 1)."""
    net = _cnn(image, 2, kernel, padding=padding, pool="max")
    values = {"w": rng.integers(-1, 2, (2, 1) + kernel).astype(np.float32),
              "b": np.array([0.5, -0.5], np.float32), **_values(net[1][2:], rng)}
    batch = {"x": rng.integers(0, 3, (B,) + image).astype(np.float32), "y": rng.integers(0, C_OUT, B)}
    a = F.relu(F.conv2d(torch.tensor(batch["x"]), torch.tensor(values["w"]), torch.tensor(values["b"]),
                        padding=padding))
    win = a.unfold(2, 2, 2).unfold(3, 2, 2).flatten(-2)
    assert ((win == win.amax(-1, keepdim=True)).sum(-1) > 1).float().mean() > 0.2     # ties there are
    return net, batch, values


def test_conv_relu_max_pool_gives_ties_to_the_first_as_numpy_and_torch(rng):
    """One 2×2 pooling window per filter (a 2×2 kernel on a 3×3 image), with tied maxima: δ goes to
    the first arg-max of the window (row-major), as in the NumPy target and torch."""
    net, batch, values = _ties(rng, (1, 3, 3), (2, 2), 0, B=6)
    _check(net, batch, rng, values)


@pytest.mark.slow
def test_a_same_padded_conv_relu_max_pool_equals_numpy_and_torch(rng):
    """The digits CNN's first layer in small: padding 1 keeps the 4×4 image's size (16 positions),
    pooled to 2×2, with ties."""
    net, batch, values = _ties(rng, (1, 4, 4), (3, 3), 1)
    _check(net, batch, rng, values)


def test_conv_relu_average_pool_equals_numpy_and_torch(rng):
    _check(_cnn((1, 3, 3), 2, (2, 2), pool="avg"), _images(rng, 3, (1, 3, 3)), rng)


def test_a_global_max_and_mean_over_the_positions_equal_numpy_and_torch(rng):
    """h.max(axis=(2, 3)) and h.mean(axis=(2, 3)) (global pooling: one number per filter) of a
    conv's 2×2 positions, each through a dense layer."""
    x, y = sg.tensor("x", (N, 1, 3, 3)), sg.tensor("y", (N,), integer=True)
    w, b = sg.tensor("w", (3, 1, 2, 2)), sg.tensor("b", (3,))
    U1, U2 = sg.tensor("U1", (3, C_OUT)), sg.tensor("U2", (3, C_OUT))
    h = sg.tanh(sg.conv2d(x, w, b))
    loss = sg.cross_entropy(h.max(axis=(2, 3)) @ U1 + h.mean(axis=(2, 3)) @ U2, y)
    tri, ref = [sg.compile(loss, [w, b, U1, U2], [x, y], target=t, optimizer=sg.optim.Adam(lr=0.05))
                for t in ("triton", "numpy")]
    values, batch = _values([w, b, U1, U2], rng), _images(rng, 4, (1, 3, 3))
    _same_as_numpy(tri, ref, values, batch)
    t = {k: torch.tensor(v, requires_grad=True) for k, v in values.items()}
    th = torch.tanh(F.conv2d(torch.tensor(batch["x"]), t["w"], t["b"]))
    F.cross_entropy(th.amax((2, 3)) @ t["U1"] + th.mean((2, 3)) @ t["U2"],
                    torch.tensor(batch["y"], dtype=torch.int64)).backward()
    got = tri.grad(values, batch)
    for k in values:
        np.testing.assert_allclose(got[k].cpu().numpy(), t[k].grad.numpy(), rtol=1e-4, atol=1e-5, err_msg=k)


def test_a_per_example_declaration_equals_numpy(rng):
    """x declared for one example as (1, C, H, W) (the batch of one conv2d takes): arrays (B, 1, C, H, W)."""
    x, y = sg.tensor("x", (1, 1, 4, 4)), sg.tensor("y", (), integer=True)
    w, b, V = sg.tensor("w", (2, 1, 2, 2)), sg.tensor("b", (2,)), sg.tensor("V", (18, C_OUT))
    loss = sg.cross_entropy(sg.tanh(sg.conv2d(x, w, b)).reshape(-1) @ V, y)
    tri, ref = [sg.compile(loss, [w, b, V], [x, y], target=t, optimizer=sg.optim.Adam(lr=0.05))
                for t in ("triton", "numpy")]
    batch = {"x": rng.normal(size=(3, 1, 1, 4, 4)).astype(np.float32), "y": rng.integers(0, C_OUT, 3)}
    _same_as_numpy(tri, ref, _values([w, b, V], rng), batch)


# -- what is refused -------------------------------------------------------------------------------


def test_what_the_kernels_do_not_run_on_a_convolution_is_named():
    x, w, y = sg.tensor("x", (N, 2, 6, 6)), sg.tensor("w", (2, 1, 3, 3)), sg.tensor("y", (N,), integer=True)
    V = sg.tensor("V", (32, C_OUT))
    # groups=2: a convolution of a slice of the image's channels
    assert_refused_for_triton(sg.cross_entropy(sg.conv2d(x, w, groups=2).reshape(N, -1) @ V, y), [w, V], [x, y],
                              [r"image", r"x\[:, 0:1\]|slice"])
    # a second convolution whose kernel is also read otherwise (tests/codegen/test_triton_conv2.py runs them)
    w1, w2 = sg.tensor("w1", (2, 2, 3, 3)), sg.tensor("w2", (2, 2, 3, 3))
    h = sg.conv2d(sg.relu(sg.conv2d(x, w1)), w2)
    U = sg.tensor("U", (8, C_OUT))
    assert_refused_for_triton(sg.cross_entropy(h.reshape(N, -1) @ U, y) + sg.sum(w2 * w2), [w1, w2, U], [x, y],
                              [r"'w2' \(2, 2, 3, 3\)", r"kernel of a convolution", r"w2\*\*2"])
    # more than 64 output positions per example
    big = sg.tensor("big", (N, 1, 11, 11))
    w3 = sg.tensor("w3", (2, 1, 3, 3))
    U = sg.tensor("U", (162, C_OUT))
    assert_refused_for_triton(sg.cross_entropy(sg.conv2d(big, w3).reshape(N, -1) @ U, y), [w3, U], [big, y],
                              [r"9×9 = 81 positions", r"more than 64", r"stride"])
    # a dropout of the convolution's output (a map per example)
    U = sg.tensor("U", (32, C_OUT))
    assert_refused_for_triton(sg.cross_entropy(sg.dropout(sg.conv2d(x, w1), 0.5).reshape(N, -1) @ U, y), [w1, U],
                              [x, y], [r"dropout", r"convolution's output", r"after the flatten"])
    # (a sum over the filters' axis, refused here until 2026-11-30, tenth session: test_triton_pixels.py)


def test_the_outputs_equal_numpy_and_the_image_gradient_equals_torch(rng, monkeypatch):
    """as_torch() with an image that requires grad, the weight's gradient one product over the stacked
    windows: ∂L/∂x is Σ_p S_pᵀ·(W_matᵀ·δ_p), each window's adjoint a product with its constant 0/1
    selection S_p transposed (refused until 2026-11-30, sixth session)."""
    x, y = sg.tensor("x", (N, 1, 4, 4)), sg.tensor("y", (N,), integer=True)
    w, V = sg.tensor("w", (2, 1, 3, 3)), sg.tensor("V", (8, C_OUT))
    out = sg.relu(sg.conv2d(x, w, padding=1, stride=2)).reshape(N, -1) @ V
    prog, ref = [sg.compile(sg.cross_entropy(out, y), [w, V], [x, y], target=t, outputs=[out])
                 for t in ("triton", "numpy")]
    import inspect
    from codegen import triton_backend
    built, build = [], triton_backend.build_grad_inputs

    def spied(*args):
        f = build(*args)
        built.append(inspect.getsource(f))
        return f
    monkeypatch.setattr(triton_backend, "build_grad_inputs", spied)
    module = prog.as_torch()
    with torch.no_grad():
        module.w.copy_(torch.tensor(rng.normal(size=(2, 1, 3, 3)), dtype=torch.float32))
        module.V.copy_(torch.tensor(rng.normal(size=(8, C_OUT)), dtype=torch.float32))
    X = torch.randn(3, 1, 4, 4)
    values = {n: getattr(module, n).detach().numpy() for n in ("w", "V")}
    want = ref.forward(values, {"x": X.numpy(), "y": np.zeros(3, dtype=np.int64)})[0]
    np.testing.assert_allclose(module(X).detach().numpy(), want, rtol=1e-5, atol=2e-6)
    X.requires_grad_(True)
    Y = torch.tensor([0, 2, 1])
    module.loss(X, Y).backward()
    X2, w2, V2 = (t.detach().clone().requires_grad_(True) for t in (X, module.w, module.V))
    F.cross_entropy(F.relu(F.conv2d(X2, w2, padding=1, stride=2)).reshape(3, -1) @ V2, Y).backward()
    assert X2.grad.abs().max() > 1e-3
    np.testing.assert_allclose(X.grad.numpy(), X2.grad.numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(module.w.grad.numpy(), w2.grad.numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(module.V.grad.numpy(), V2.grad.numpy(), rtol=1e-4, atol=1e-6)
    # the weight's gradient in grad_inputs: one product over the stacked δs and windows, one launch
    (source,) = built
    assert "Σ_b Σ_p" in source and source.count("= launch_xgrad_weight_grads_kernel(") == 1, source[-2000:]
    assert "batch_sum(" not in source


AOT = """
import json
from symgrad.compiling.compiler import specify
from codegen.triton_aot import compile_step, digits_cnn
import symgrad as sg

loss, params, inputs = digits_cnn(filters=4, stride=2, padding=1, size=6)
spec = specify(loss, params, inputs, optimizer=sg.optim.Adam(lr=1e-3), target="triton")
print(json.dumps([[r.kernel, r.registers, r.spill_bytes, r.shared_bytes] for r in compile_step(spec, 4096)]))
"""


@pytest.mark.slow
def test_the_digits_cnn_step_compiles_for_sm90(tmp_path):
    """The interpreter forgives what the GPU compiler does not: the step of a small CNN (a 6×6
    image, a 3×3 convolution with 4 filters, stride 2 and padding 1: 9 positions, relu, dense → 10)
    compiles for cuda sm_90, every kernel without spills and within the H200's 227 KiB of shared
    memory a block (untuned configuration: the weight-gradient terms in launches of 3). (`python -m
    codegen.triton_aot --only cnn` compiles the 8×8 ones; their weight-gradient kernel takes minutes.)"""
    kernels = compile_sm90(AOT, tmp_path)
    names = [k[0] for k in kernels]
    assert names[0] == "train_kernel1" and "train_weight_grads_kernel" in names and names[-1] == "update_kernel", kernels
    assert all(spill == 0 and shared <= 227 * 1024 for _, _, spill, shared in kernels), kernels


def test_a_per_pixel_cross_entropy_on_numpy_equals_torch(rng):
    """A segmentation loss, torch's F.cross_entropy(logits (N, C, H, W), labels (N, H, W)), on the NumPy
    target: equal to torch (the Triton target's is compared with both in test_triton_pixels.py; it was
    refused there until 2026-11-30, tenth session)."""
    x, t = sg.tensor("x", (N, 1, 3, 3)), sg.tensor("t", (N, 3, 3), integer=True)
    w, b = sg.tensor("w", (3, 1, 3, 3)), sg.tensor("b", (3,))
    loss = sg.cross_entropy(sg.conv2d(x, w, b, padding=1), t, axis=1)
    values = {"w": rng.normal(size=(3, 1, 3, 3)), "b": rng.normal(size=3)}
    batch = {"x": rng.normal(size=(2, 1, 3, 3)), "t": rng.integers(0, 3, (2, 3, 3))}
    tw, tb = (torch.tensor(values[k], requires_grad=True) for k in ("w", "b"))
    want = F.cross_entropy(F.conv2d(torch.tensor(batch["x"]), tw, tb, padding=1), torch.tensor(batch["t"]))
    want.backward()
    prog = sg.compile(loss, [w, b], [x, t], target="numpy")
    got = prog.grad(values, batch)
    np.testing.assert_allclose(float(prog.loss(values, batch)), want.item(), rtol=1e-6)      # (float32)
    np.testing.assert_allclose(got["w"], tw.grad.numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(got["b"], tb.grad.numpy(), rtol=1e-4, atol=1e-6)
