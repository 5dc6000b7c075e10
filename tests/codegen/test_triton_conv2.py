"""A second convolution layer on the Triton target (`symgrad.compiling.kernel_conv._grid_patch`): the
classic CNN conv → relu → pool → conv → relu → pool → dense. The second convolution's windows are
selections of the first map's rows (products with constant 0/1 matrices), so reverse mode gives the
first map's gradient as the transposed gather, and each convolution's weight gradient stays one
product over the B·P rows of its stacked δs and windows: a step is still 3 launches.

Each network is compared with the NumPy target compiled from the same declaration (loss, every
gradient, 3 Adam steps, at float32 tolerance), and its loss and gradients with torch.autograd on the
same network written with torch.nn.functional (conv2d, max_pool2d) in float32.

Tiny images and batches: the kernels run under Triton's interpreter on the CPU.
"""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from tests.codegen.aot import compile_sm90
from tests.codegen.refusals import assert_refused_for_triton
from tests.codegen.test_triton_conv import _launches
from tests.codegen.test_triton_tensors import _same_as_numpy, _values

torch = pytest.importorskip("torch")
pytest.importorskip("triton")
F = torch.nn.functional

N = sp.Symbol("N", integer=True, positive=True)
CLASSES = 3


def _two_convs(image, layers, act="relu"):
    """x (N, C, H, W) → for each layer (filters, kernel, stride, padding, pool): conv2d with a bias →
    act → [max_pool2d 2] → flatten → dense with a bias → cross-entropy. Also the same in torch."""
    x, y = sg.tensor("x", (N,) + image), sg.tensor("y", (N,), integer=True)
    h, params, C = x, [], image[0]
    for i, (filters, k, stride, padding, pool) in enumerate(layers, 1):
        w, b = sg.tensor(f"w{i}", (filters, C, k, k)), sg.tensor(f"b{i}", (filters,))
        h = sg.conv2d(h, w, b, stride=stride, padding=padding)
        h = sg.relu(h) if act == "relu" else sg.tanh(h)
        if pool:
            h = sg.max_pool2d(h, 2)
        params += [w, b]
        C = filters
    V, c = sg.tensor("V", (int(np.prod(h.shape[1:])), CLASSES)), sg.tensor("c", (CLASSES,))
    params += [V, c]

    def in_torch(t, X):
        h = X
        for i, (_, _, stride, padding, pool) in enumerate(layers, 1):
            h = F.conv2d(h, t[f"w{i}"], t[f"b{i}"], stride=stride, padding=padding)
            h = F.relu(h) if act == "relu" else torch.tanh(h)
            if pool:
                h = F.max_pool2d(h, 2)
        return h.reshape(h.shape[0], -1) @ t["V"] + t["c"]
    return sg.cross_entropy(h.reshape(N, -1) @ V + c, y), params, [x, y], in_torch


def _batch(rng, B, image):
    return {"x": rng.normal(size=(B,) + image).astype(np.float32), "y": rng.integers(0, CLASSES, B)}


def _check(net, batch, rng):
    loss, params, inputs, in_torch = net
    tri, ref = [sg.compile(loss, params, inputs, target=t, optimizer=sg.optim.Adam(lr=0.05))
                for t in ("triton", "numpy")]
    values = _values(params, rng)
    _same_as_numpy(tri, ref, values, batch)
    t = {k: torch.tensor(v, requires_grad=True) for k, v in values.items()}
    want = F.cross_entropy(in_torch(t, torch.tensor(batch["x"])), torch.tensor(batch["y"], dtype=torch.int64))
    want.backward()
    np.testing.assert_allclose(float(tri.loss(values, batch)), want.item(), rtol=1e-5)
    got = tri.grad(values, batch)
    for k in values:
        assert np.abs(t[k].grad.numpy()).max() > 1e-4, k      # every layer gets a gradient
        np.testing.assert_allclose(got[k].cpu().numpy(), t[k].grad.numpy(), rtol=1e-4, atol=1e-5, err_msg=k)
    return tri, values


def test_a_lenet_conv_relu_pool_conv_relu_pool_dense_equals_numpy_and_torch_in_three_launches(rng):
    """6×6 image: conv 3×3 (2 filters) → 4×4, pool → 2×2, conv 2×2 with padding 1 (3 filters) → 3×3,
    pool → 1×1, dense. Both weight gradients (and their biases) are one product each over the stacked
    rows: the rows kernel, one weight-gradient launch, the update."""
    net = _two_convs((1, 6, 6), [(2, 3, 1, 0, True), (3, 2, 1, 1, True)])
    batch = _batch(rng, 4, (1, 6, 6))
    tri, values = _check(net, batch, rng)
    assert _launches(tri, values, batch) == ["train_kernel1", "train_weight_grads_kernel", "update_kernel"]
    assert "batch_sum(" not in tri.source
    step = tri.source[tri.source.index("def step("):]
    assert "Σ_b Σ_p" in step and step.count("launch_train_weight_grads_kernel(") == 1


def test_the_first_maps_values_read_far_later_are_stored_and_loaded_again(rng, monkeypatch):
    """In the LeNet's rows kernel, what the first map's backward reads of its forward (relu′'s inputs,
    the pooling's comparisons) is read many stages after it was made: it is stored in its stage and
    loaded again after a barrier (`triton_backend._far_reads`), not held in registers across the second
    convolution. With RELOAD_GAP = 0 nothing is; both give the same loss and gradients (and the test
    above checks the default against NumPy and torch)."""
    import re

    from codegen import triton_backend
    loss, params, inputs, _ = _two_convs((1, 6, 6), [(2, 3, 1, 0, True), (3, 2, 1, 1, True)])
    tri = sg.compile(loss, params, inputs, target="triton")
    src = tri.source[:tri.source.index("def train_weight_grads_kernel(")]
    again = [n for line in re.findall(r"# -- (.*): stored by an earlier stage, loaded again here", src)
             for n in line.split(", ")]
    assert again, "nothing loaded again"
    for nm in again:
        stored = src.index(f"tl.store({nm}_ptr + ")
        loaded = src.index(f"{nm} = tl.load({nm}_ptr + ")
        assert stored < src.rindex("tl.debug_barrier()", 0, loaded) < loaded, nm
    # one convolution (no selections): its rows kernel keeps every value in registers
    one, ps, xs, _ = _two_convs((1, 6, 6), [(2, 3, 1, 0, True)])
    assert "loaded again" not in sg.compile(one, ps, xs, target="triton").source
    monkeypatch.setattr(triton_backend, "RELOAD_GAP", 0)
    kept = sg.compile(loss, params, inputs, target="triton")
    assert "loaded again" not in kept.source and "tl.debug_barrier()" not in kept.source
    values, batch = _values(params, rng), _batch(rng, 4, (1, 6, 6))
    np.testing.assert_allclose(float(tri.loss(values, batch)), float(kept.loss(values, batch)), rtol=1e-6)
    g, h = tri.grad(values, batch), kept.grad(values, batch)
    for k in values:
        np.testing.assert_allclose(g[k].cpu().numpy(), h[k].cpu().numpy(), rtol=1e-5, atol=1e-7, err_msg=k)


def test_wide_stored_windows_are_read_back_in_k_steps_and_equal_numpy_and_torch(rng, monkeypatch):
    """In a rows kernel of many stages, a product's operand wider than REGISTER_K that an earlier stage
    stored (a convolution's window, stacked for its weight's gradient) is read back from memory in
    BLOCK_K steps after a barrier, not held whole in registers (for sm_90: an upsampling CNN's rows
    kernel spilled 1,088 bytes a thread, docs/triton.md). Lowered to 4 here so that this small LeNet's
    windows (9 and 8 entries) take that path; the same loss and gradients as NumPy and torch."""
    from codegen import triton_backend
    monkeypatch.setattr(triton_backend, "REGISTER_K", 4)
    net = _two_convs((1, 6, 6), [(2, 3, 1, 0, True), (3, 2, 1, 1, True)])
    tri, _ = _check(net, _batch(rng, 4, (1, 6, 6)), rng)
    src = tri.source[tri.source.index("def train_kernel1("):tri.source.index("def train_weight_grads_kernel(")]
    assert src.count("is read back in K-steps") >= 9, src.count("is read back in K-steps")     # (19 of 25 windows)
    monkeypatch.setattr(triton_backend, "REGISTER_K", 0)
    loss, params, inputs, _ = net
    assert "read back in K-steps" not in sg.compile(loss, params, inputs, target="triton").source


def test_a_rows_kernel_predicted_slow_to_compile_for_a_gpu_is_announced(monkeypatch):
    """sg.compile warns before a GPU would compile a LeNet's rows kernel of more than HEAVY_STAGES
    stages, naming the alternatives; not under the interpreter, and not for one convolution."""
    from codegen import triton_backend
    loss, params, inputs, _ = _two_convs((1, 6, 6), [(2, 3, 1, 0, True), (3, 2, 1, 1, True)])
    monkeypatch.setattr(triton_backend, "HEAVY_STAGES", 20)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sg.compile(loss, params, inputs, target="triton")        # interpreted: nothing to wait for
        one, ps, xs, _ = _two_convs((1, 6, 6), [(2, 3, 1, 0, True)])
        monkeypatch.setattr(triton_backend, "_interpreted", lambda: False)
        sg.compile(one, ps, xs, target="triton")                 # one convolution: no selections
    with pytest.warns(UserWarning, match=r"train_kernel1: a rows kernel of \d+ stages \(\d+ of them products "
                                         r"selecting.*target='numpy'"):
        sg.compile(loss, params, inputs, target="triton", optimizer=sg.optim.Adam(lr=0.01))
    monkeypatch.setattr(triton_backend, "HEAVY_STAGES", 10_000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sg.compile(loss, params, inputs, target="triton", optimizer=sg.optim.SGD(lr=0.01))


def test_a_strided_padded_second_conv_of_a_map_of_two_channels_without_pooling_equals_numpy_and_torch(rng):
    """Two channels in, stride 2 and padding 1 in both layers, tanh, no pooling between: the second
    convolution's windows lie partly in the padding (entries that add nothing)."""
    net = _two_convs((2, 5, 5), [(2, 3, 2, 1, False), (3, 2, 2, 1, False)], act="tanh")
    _check(net, _batch(rng, 3, (2, 5, 5)), rng)


def test_the_image_gradient_through_two_convolutions_equals_torch(rng):
    """as_torch() with an input that requires grad: ∂L/∂x, each window's adjoint a product with its
    constant 0/1 selection transposed, summed over the positions (and the first map's through the
    second convolution's windows), equals torch.autograd's, as do the weights' gradients."""
    loss, params, inputs, in_torch = _two_convs((1, 5, 5), [(2, 2, 1, 0, False), (2, 2, 2, 0, False)])
    module = sg.compile(loss, params, inputs, target="triton").as_torch()
    values = _values(params, rng)
    with torch.no_grad():
        for k, v in values.items():
            getattr(module, k).copy_(torch.tensor(v))
    X = torch.tensor(rng.normal(size=(3, 1, 5, 5)).astype(np.float32), requires_grad=True)
    Y = torch.tensor(rng.integers(0, CLASSES, 3), dtype=torch.int64)
    module.loss(X, Y).backward()
    t = {k: torch.tensor(v, requires_grad=True) for k, v in values.items()}
    X2 = X.detach().clone().requires_grad_(True)
    F.cross_entropy(in_torch(t, X2), Y).backward()
    assert X.grad.shape == X2.shape and X2.grad.abs().max() > 1e-3
    np.testing.assert_allclose(X.grad.numpy(), X2.grad.numpy(), rtol=1e-4, atol=1e-6)
    for k in values:
        np.testing.assert_allclose(getattr(module, k).grad.numpy(), t[k].grad.numpy(), rtol=1e-4, atol=1e-5,
                                   err_msg=k)


def test_a_one_filter_head_on_a_map_and_a_conv_of_a_one_filter_map_equal_numpy_and_torch(rng):
    """A 1×1 convolution to one filter on a map (a segmentation head: (N, 1, H, W)), and a convolution of
    a map of one filter (refused until 2026-11-30, ninth session, as "one filter")."""
    for image, layers in (((2, 4, 4), [(2, 3, 1, 1, False), (1, 1, 1, 0, False)]),
                          ((1, 4, 4), [(1, 3, 1, 1, False), (2, 3, 2, 1, False)])):
        batch = _batch(rng, 3, image)
        tri, values = _check(_two_convs(image, layers), batch, rng)
        # each weight's gradient one product over its stacked δs (a (B, P, 1) stack for one filter) and
        # windows: 3 launches as with two filters (until 2026-11-30, ninth session: 29 and 11)
        assert _launches(tri, values, batch) == ["train_kernel1", "train_weight_grads_kernel", "update_kernel"]


def test_what_a_second_convolution_does_not_run_is_named():
    x, y = sg.tensor("x", (N, 2, 6, 6)), sg.tensor("y", (N,), integer=True)
    w1 = sg.tensor("w1", (2, 2, 3, 3))
    # more than 64 positions in the second layer (padding 4 on a 4×4 map: 10×10)
    w2, U2 = sg.tensor("w2", (2, 2, 3, 3)), sg.tensor("U2", (200, CLASSES))
    h = sg.conv2d(sg.relu(sg.conv2d(x, w1)), w2, padding=4)
    assert_refused_for_triton(sg.cross_entropy(h.reshape(N, -1) @ U2, y), [w1, w2, U2], [x, y],
                              [r"10×10 = 100 positions", r"more than 64"])


@pytest.mark.slow
def test_the_same_padded_lenet_of_the_docs_equals_numpy_and_torch(rng):
    """codegen.triton_aot's LeNet in small filters: 8×8, conv 3×3 same (2 filters), pool → 4×4, conv
    3×3 same (3 filters: 16 positions, windows of up to 9 rows), pool → 2×2, dense."""
    net = _two_convs((1, 8, 8), [(2, 3, 1, 1, True), (3, 3, 1, 1, True)])
    batch = _batch(rng, 3, (1, 8, 8))
    tri, values = _check(net, batch, rng)
    assert _launches(tri, values, batch) == ["train_kernel1", "train_weight_grads_kernel", "update_kernel"]


AOT = """
import json
from symgrad.compiling.compiler import specify
from codegen.triton_aot import compile_step, digits_lenet
import symgrad as sg

loss, params, inputs = digits_lenet(filters=(2, 4), padding=0, size=8, kernels=(3, 2))
spec = specify(loss, params, inputs, optimizer=sg.optim.Adam(lr=1e-3), target="triton")
print(json.dumps([[r.kernel, r.registers, r.spill_bytes, r.shared_bytes] for r in compile_step(spec, 4096)]))
"""


@pytest.mark.slow
def test_a_small_lenet_step_compiles_for_sm90_in_three_launches(tmp_path):
    """The interpreter forgives what the GPU compiler does not: the step of an 8×8 LeNet without
    padding (conv 3×3-2 → 6×6, pool → 3×3, conv 2×2-4 → 2×2, pool → 1×1, dense → 10) compiles for
    cuda sm_90, three kernels, within the H200's 227 KiB of shared memory a block, and without spills:
    the first map's values its backward reads are stored and loaded again (`_far_reads`; kept in
    registers, the rows kernel spilled 256 bytes a thread: docs/triton.md, "Sixth session")."""
    kernels = compile_sm90(AOT, tmp_path)
    assert [k[0] for k in kernels] == ["train_kernel1", "train_weight_grads_kernel", "update_kernel"], kernels
    assert all(shared <= 227 * 1024 for *_, shared in kernels), kernels
    assert all(spilled == 0 for _, _, spilled, _ in kernels), kernels


def _declared(second, pool=None):
    """x (N, 1, 5, 5) → conv 2×2-2 (bias) → relu → [pool 2] → ``second`` (conv 2×2-3 with a bias) → relu
    → dense: the declaration and the same in torch; ``second``: conv2d's keywords."""
    x, y = sg.tensor("x", (N, 1, 5, 5)), sg.tensor("y", (N,), integer=True)
    w1, b1 = sg.tensor("w1", (2, 1, 2, 2)), sg.tensor("b1", (2,))
    w2, b2 = sg.tensor("w2", (3, 2, 2, 2)), sg.tensor("b2", (3,))
    h = sg.relu(sg.conv2d(x, w1, b1))
    if pool == "avg":
        h = sg.avg_pool2d(h, 2)
    h = sg.relu(sg.conv2d(h, w2, b2, **second))
    V, c = sg.tensor("V", (int(np.prod(h.shape[1:])), CLASSES)), sg.tensor("c", (CLASSES,))

    def in_torch(t, X):
        h = F.relu(F.conv2d(X, t["w1"], t["b1"]))
        if pool == "avg":
            h = F.avg_pool2d(h, 2)
        h = F.relu(F.conv2d(h, t["w2"], t["b2"], **second))
        return h.reshape(h.shape[0], -1) @ t["V"] + t["c"]
    return sg.cross_entropy(h.reshape(N, -1) @ V + c, y), [w1, b1, w2, b2, V, c], [x, y], in_torch


@pytest.mark.slow
@pytest.mark.parametrize("how", ["avg pool between", "dilated", "a kernel per product"])
def test_more_second_convolutions_equal_numpy_and_torch(rng, monkeypatch, how):
    """Average pooling between the layers (then padding 1); a second kernel dilated by 2 with padding
    1; FUSE_ROWS = 0 (each product a rows kernel of its own: the windows are not stacked, the weight
    gradients keep a term per position, and still equal the NumPy target and torch)."""
    from codegen import triton_backend
    if how == "a kernel per product":
        monkeypatch.setattr(triton_backend, "FUSE_ROWS", 0)
    net = _declared({"padding": 1}, pool="avg") if how == "avg pool between" else \
        _declared({"padding": 1, "dilation": 2}) if how == "dilated" else _declared({})
    tri, _ = _check(net, _batch(rng, 3, (1, 5, 5)), rng)
    assert ("stack" in tri.source) == (how != "a kernel per product")
