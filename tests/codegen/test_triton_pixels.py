"""Per-pixel losses on the Triton target (`symgrad.compiling.kernel_pixels`): a segmentation head's
softmax cross-entropy at every position with integer labels (N, H, W), a binary mask's BCE on logits
against a target image (N, 1, H, W), and a denoiser's MSE, each averaged over N·H·W as torch does.
They were refused until 2026-11-30 (tenth session) as "a softmax over the channels at every
position of a map" and "a convolution's map combined entry by entry with the input 't'".

Each network is compared with the NumPy target compiled from the same declaration (loss, every
gradient, 3 Adam steps) and with torch.autograd on the same network written with
torch.nn.functional, in float32. Tiny images: the kernels run under Triton's interpreter.
"""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from tests.codegen.aot import compile_sm90
from tests.codegen.test_triton_conv import _launches
from tests.codegen.test_triton_tensors import _same_as_numpy, _values

torch = pytest.importorskip("torch")
pytest.importorskip("triton")
F = torch.nn.functional

N = sp.Symbol("N", integer=True, positive=True)
H = W = 3
CLASSES = 3


def _head(classes):
    """x (N, 1, 3, 3) → conv 3×3-2 (padding 1) → relu → 1×1 conv to ``classes`` maps: the logits."""
    x = sg.tensor("x", (N, 1, H, W))
    w1, b1 = sg.tensor("w1", (2, 1, 3, 3)), sg.tensor("b1", (2,))
    w2, b2 = sg.tensor("w2", (classes, 2, 1, 1)), sg.tensor("b2", (classes,))
    z = sg.conv2d(sg.relu(sg.conv2d(x, w1, b1, padding=1)), w2, b2)
    return x, z, [w1, b1, w2, b2]


def _torch_logits(t, x):
    return F.conv2d(F.relu(F.conv2d(x, t["w1"], t["b1"], padding=1)), t["w2"], t["b2"])


def _check(loss, params, inputs, batch, torch_loss, rng):
    tri, ref = [sg.compile(loss, params, inputs, target=t, optimizer=sg.optim.Adam(lr=0.05))
                for t in ("triton", "numpy")]
    values = _values(params, rng)
    _same_as_numpy(tri, ref, values, batch)
    t = {k: torch.tensor(v, requires_grad=True) for k, v in values.items()}
    want = torch_loss(t, {k: torch.tensor(v) for k, v in batch.items()})
    want.backward()
    got = tri.grad(values, batch)
    np.testing.assert_allclose(float(tri.loss(values, batch)), want.item(), rtol=1e-5)
    for k in t:
        np.testing.assert_allclose(got[k].cpu().numpy(), t[k].grad.numpy(), rtol=1e-4, atol=1e-5, err_msg=k)
    return tri


def test_a_per_pixel_cross_entropy_with_integer_labels_equals_numpy_and_torch(rng):
    """torch's F.cross_entropy(logits (N, C, H, W), labels (N, H, W)): at each position logsumexp of the
    row minus the row's entry at the position's label, averaged over N·H·W."""
    x, z, params = _head(CLASSES)
    y = sg.tensor("y", (N, H, W), integer=True)
    batch = {"x": rng.normal(size=(4, 1, H, W)).astype(np.float32), "y": rng.integers(0, CLASSES, (4, H, W))}
    tri = _check(sg.cross_entropy(z, y, axis=1), params, [x, y], batch,
                 lambda t, b: F.cross_entropy(_torch_logits(t, b["x"]), b["y"]), rng)
    launched = _launches(tri, _values(params, rng), batch)      # the rows kernel, weight gradients, update
    assert len(launched) == 3, launched


def test_a_per_pixel_label_out_of_range_is_caught(rng):
    """A label ≥ C at one pixel: caught as class labels are (the gather checks it on the device)."""
    x, z, params = _head(CLASSES)
    y = sg.tensor("y", (N, H, W), integer=True)
    prog = sg.compile(sg.cross_entropy(z, y, axis=1), params, [x, y], target="triton")
    labels = rng.integers(0, CLASSES, (2, H, W))
    labels[1, 2, 1] = CLASSES
    with pytest.raises(sg.errors.LabelRangeError, match=r"'y' holds class labels, integers 0 \.\.\. 2 .*example 1 has 3"):
        prog.loss(_values(params, rng), {"x": rng.normal(size=(2, 1, H, W)).astype(np.float32), "y": labels})


def test_a_binary_mask_bce_with_logits_equals_numpy_and_torch(rng):
    """One logit map against a 0/1 mask t (N, 1, H, W), torch's F.binary_cross_entropy_with_logits: the
    target is read as rows (1×1 windows of its image), the loss a sum of the P numbers."""
    x, z, params = _head(1)
    t = sg.tensor("t", (N, 1, H, W))
    batch = {"x": rng.normal(size=(3, 1, H, W)).astype(np.float32),
             "t": rng.integers(0, 2, (3, 1, H, W)).astype(np.float32)}
    _check(sg.bce_with_logits(z, t), params, [x, t], batch,
           lambda v, b: F.binary_cross_entropy_with_logits(_torch_logits(v, b["x"]), b["t"]), rng)


def test_a_denoisers_mse_against_a_target_image_equals_numpy_and_torch(rng):
    """sg.mean((h − t) ** 2) of two maps against a target image of two channels."""
    x, z, params = _head(2)
    t = sg.tensor("t", (N, 2, H, W))
    batch = {"x": rng.normal(size=(3, 1, H, W)).astype(np.float32),
             "t": rng.normal(size=(3, 2, H, W)).astype(np.float32)}
    _check(sg.mean((z - t) ** 2), params, [x, t], batch,
           lambda v, b: F.mse_loss(_torch_logits(v, b["x"]), b["t"]), rng)


def test_a_sum_over_the_channels_then_a_dense_layer_equals_numpy_and_torch(rng):
    """h.sum(axis=1) of a two-filter map: 1ᵀ·row_p at each position (refused as "a sum over the filters'
    axis" until 2026-11-30, tenth session), then the flatten and a dense layer."""
    x, y = sg.tensor("x", (N, 1, H, W)), sg.tensor("y", (N,), integer=True)
    w, U = sg.tensor("w", (2, 1, 3, 3)), sg.tensor("U", (H * W, CLASSES))
    loss = sg.cross_entropy(sg.conv2d(x, w, padding=1).sum(axis=1).reshape(N, -1) @ U, y)
    batch = {"x": rng.normal(size=(3, 1, H, W)).astype(np.float32), "y": rng.integers(0, CLASSES, 3)}
    _check(loss, [w, U], [x, y], batch, lambda t, b: F.cross_entropy(
        F.conv2d(b["x"], t["w"], padding=1).sum(1).reshape(3, -1) @ t["U"], b["y"]), rng)


def test_a_unet_level_upsampled_concatenated_with_the_skip_then_a_per_pixel_loss_equals_numpy(rng):
    """A U-Net's top: conv stride 2 down, bilinear upsampling by 2, concatenated with a same-size
    convolution of the image (the skip), a 1×1 head to 3 classes and the per-pixel cross-entropy."""
    x, y = sg.tensor("x", (N, 1, 4, 4)), sg.tensor("y", (N, 4, 4), integer=True)
    w1, b1, w0 = sg.tensor("w1", (2, 1, 3, 3)), sg.tensor("b1", (2,)), sg.tensor("w0", (2, 1, 3, 3))
    w2, b2 = sg.tensor("w2", (CLASSES, 4, 1, 1)), sg.tensor("b2", (CLASSES,))
    up = sg.interpolate(sg.relu(sg.conv2d(x, w1, b1, stride=2, padding=1)), scale_factor=2, mode="bilinear")
    z = sg.conv2d(sg.concat([up, sg.relu(sg.conv2d(x, w0, padding=1))], axis=1), w2, b2)
    params = [w1, b1, w0, w2, b2]
    tri, ref = [sg.compile(sg.cross_entropy(z, y, axis=1), params, [x, y], target=t,
                           optimizer=sg.optim.Adam(lr=0.05)) for t in ("triton", "numpy")]
    batch = {"x": rng.normal(size=(3, 1, 4, 4)).astype(np.float32), "y": rng.integers(0, CLASSES, (3, 4, 4))}
    _same_as_numpy(tri, ref, _values(params, rng), batch, steps=2)


def test_a_per_example_declaration_of_the_per_pixel_loss_equals_numpy_and_torch(rng):
    """One example's image (1, 3, 3) and labels (3, 3), reshaped to a batch of one as torch's functions
    take them: the labels' reshape keeps their row (it was refused as a reshape of a matrix per example)."""
    x, y = sg.tensor("x", (1, H, W)), sg.tensor("y", (H, W), integer=True)
    w, b = sg.tensor("w", (CLASSES, 1, 3, 3)), sg.tensor("b", (CLASSES,))
    loss = sg.cross_entropy(sg.conv2d(x.reshape(1, 1, H, W), w, b, padding=1), y.reshape(1, H, W), axis=1)
    batch = {"x": rng.normal(size=(2, 1, H, W)).astype(np.float32), "y": rng.integers(0, CLASSES, (2, H, W))}
    _check(loss, [w, b], [x, y], batch,      # (per example: the mean over the batch of each one's mean)
           lambda t, bt: F.cross_entropy(F.conv2d(bt["x"], t["w"], t["b"], padding=1), bt["y"]), rng)


AOT = """
import json
from symgrad.compiling.compiler import specify
from codegen.triton_aot import compile_step, digits_segmentation
import symgrad as sg

loss, params, inputs = digits_segmentation(size=4)
spec = specify(loss, params, inputs, optimizer=sg.optim.Adam(lr=1e-3), target="triton")
print(json.dumps([[r.kernel, r.registers, r.spill_bytes, r.shared_bytes] for r in compile_step(spec, 4096)]))
"""


@pytest.mark.slow
def test_a_segmentation_step_compiles_for_sm90_in_three_kernels_without_spills(tmp_path):
    """A 4×4 image, conv 3×3-4, relu, 1×1 conv to 3 classes, the per-pixel cross-entropy: its rows kernel
    spilled 40 bytes a thread while the 16 labels' range checks came after the loss's compute (the raw
    int64 labels held through it); checked right after their loads, none (2026-11-30, tenth session)."""
    kernels = compile_sm90(AOT, tmp_path)
    assert [k[0] for k in kernels] == ["train_kernel1", "train_weight_grads_kernel", "update_kernel"], kernels
    assert all(spill == 0 and shared <= 227 * 1024 for _, _, spill, shared in kernels), kernels
