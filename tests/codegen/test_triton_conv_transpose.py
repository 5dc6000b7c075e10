"""A transposed convolution of a convolution's map on the Triton target (an upsampling decoder, a
U-Net's up-convolution): ``sg.conv_transpose2d(h, w, b, stride, padding, output_padding)``, refused
until 2026-12-01 (eleventh session). It is a convolution of h spread out by the stride with the
kernel flipped and its channel axes swapped: the kernel's matrix is a value of the parameter alone
(`kernel_conv.transposed_kernel`: reshapes and products with constant permutations, on the host),
and each window of the spread map reads only the map's rows at positions the stride divides
(`kernel_conv._grid_patch`). Each case equals the NumPy target (loss, every gradient, 2 Adam steps)
and torch.autograd with ``F.conv_transpose2d`` (float64). Small shapes: the interpreter."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import UnsupportedError
from tests.codegen.test_triton_tensors import _same_as_numpy

torch = pytest.importorskip("torch")
pytest.importorskip("triton")
F = torch.nn.functional

N = sp.Symbol("N", integer=True, positive=True)
B = 3


def _decoder(k, s, p, op, cin=3, cout=2):
    """image 6×6 → conv3x3 (cin filters, stride 2) → relu (cin, 3, 3) → conv_transpose2d (cout channels,
    kernel k, stride s, padding p, output_padding op) with its bias → relu → dense 3, cross-entropy."""
    x, y = sg.tensor("x", (N, 1, 6, 6)), sg.tensor("y", (N,), integer=True)
    w1, b1 = sg.tensor("w1", (cin, 1, 3, 3)), sg.tensor("b1", (cin,))
    wt, bt = sg.tensor("wt", (cin, cout, k, k)), sg.tensor("bt", (cout,))
    h = sg.relu(sg.conv2d(x, w1, b1, stride=2, padding=1))
    u = sg.relu(sg.conv_transpose2d(h, wt, bt, stride=s, padding=p, output_padding=op))
    D = int(np.prod([int(d) for d in u.shape[1:]]))
    V, c = sg.tensor("V", (D, 3)), sg.tensor("c", (3,))

    def torch_loss(t):
        hh = F.relu(F.conv2d(t["x"], t["w1"], t["b1"], stride=2, padding=1))
        uu = F.relu(F.conv_transpose2d(hh, t["wt"], t["bt"], stride=s, padding=p, output_padding=op))
        return F.cross_entropy(uu.reshape(B, -1) @ t["V"] + t["c"], t["y"])
    return sg.cross_entropy(u.reshape(N, -1) @ V + c, y), [w1, b1, wt, bt, V, c], [x, y], torch_loss


@pytest.mark.parametrize("k, s, p, op", [
    pytest.param(2, 2, 0, 0, id="up-conv 2x2 stride 2"),
    pytest.param(3, 2, 1, 1, id="3x3 stride 2 output_padding 1", marks=pytest.mark.slow),
    pytest.param(4, 2, 1, 0, id="4x4 stride 2 padding 1", marks=pytest.mark.slow),
    pytest.param(3, 1, 1, 0, id="3x3 stride 1"),
])
def test_a_transposed_convolution_of_a_map_equals_numpy_and_torch(k, s, p, op):
    loss, params, inputs, torch_loss = _decoder(k, s, p, op)
    tri, ref = [sg.compile(loss, params, inputs, target=t, optimizer=sg.optim.Adam(lr=0.01)) for t in ("triton", "numpy")]
    rng = np.random.default_rng(k * 10 + s + p + op)
    values = {q.name: (0.4 * rng.normal(size=tuple(int(d) for d in q.shape))).astype(np.float32) for q in params}
    batch = {"x": rng.normal(size=(B, 1, 6, 6)).astype(np.float32), "y": rng.integers(0, 3, B)}
    _same_as_numpy(tri, ref, values, batch, steps=2)

    t = {n: torch.tensor(v, dtype=torch.float64 if v.dtype.kind == "f" else None, requires_grad=n in values)
         for n, v in {**values, **batch}.items()}
    want = torch_loss(t)
    want.backward()
    assert float(tri.loss(values, batch)) == pytest.approx(want.item(), rel=1e-5, abs=1e-6)
    got = tri.grad(values, batch)
    for q in params:
        np.testing.assert_allclose(got[q.name].cpu().numpy(), t[q.name].grad.numpy(), rtol=1e-4, atol=1e-6,
                                   err_msg=q.name)


def test_the_kernel_matrix_is_the_hosts_and_its_gradient_reaches_the_declared_kernel():
    """The source computes the flipped kernel's matrix on the host (the permutation Q, the reversal J)
    and keeps the parameter in its declared shape (C_in, C_out, KH, KW) at the API."""
    loss, params, inputs, _ = _decoder(2, 2, 0, 0)
    prog = sg.compile(loss, params, inputs, target="triton")
    assert "'parameter p2 must be a contiguous (3, 2, 2, 2) tensor'" in prog.source
    assert "p2 = p2.view(3, 8)" in prog.source
    g = prog.grad({q.name: np.ones(tuple(int(d) for d in q.shape), np.float32) for q in params},
                  {"x": np.ones((2, 1, 6, 6), np.float32), "y": np.array([0, 1])})
    assert tuple(g["wt"].shape) == (3, 2, 2, 2)


def test_a_transposed_convolution_of_the_image_is_refused_with_the_way_out():
    x, y = sg.tensor("x", (N, 1, 4, 4)), sg.tensor("y", (N,), integer=True)
    wt, V = sg.tensor("wt", (1, 2, 2, 2)), sg.tensor("V", (128, 3))
    u = sg.conv_transpose2d(x, wt, stride=2)
    with pytest.raises(UnsupportedError, match=r"transposed convolution of the input image .*sg\.interpolate"):
        sg.compile(sg.cross_entropy(u.reshape(N, -1) @ V, y), [wt, V], [x, y], target="triton")


def test_a_grouped_transposed_convolution_is_still_refused():
    x, y = sg.tensor("x", (N, 1, 8, 8)), sg.tensor("y", (N,), integer=True)
    w1, wt, V = sg.tensor("w1", (2, 1, 3, 3)), sg.tensor("wt", (2, 1, 2, 2)), sg.tensor("V", (128, 3))
    u = sg.conv_transpose2d(sg.relu(sg.conv2d(x, w1, stride=2, padding=1)), wt, stride=2, groups=2)
    with pytest.raises(UnsupportedError, match=r"'wt' \(2, 1, 2, 2\)"):
        sg.compile(sg.cross_entropy(u.reshape(N, -1) @ V, y), [w1, wt, V], [x, y], target="triton")


def test_a_kernel_tied_to_a_convolution_is_refused_saying_what_is_taken():
    """An autoencoder whose up-convolution shares its kernel with a convolution: the refusal said
    transposed convolutions are not taken at all (stale since 2026-12-01, eleventh session)."""
    x, y = sg.tensor("x", (N, 1, 6, 6)), sg.tensor("y", (N,), integer=True)
    w0, w, V = sg.tensor("w0", (3, 1, 3, 3)), sg.tensor("w", (3, 4, 2, 2)), sg.tensor("V", (27, 3))
    u = sg.relu(sg.conv_transpose2d(sg.relu(sg.conv2d(x, w0, stride=2, padding=1)), w, stride=2))
    z = sg.relu(sg.conv2d(u, w, stride=2))                  # the same w: tied
    with pytest.raises(UnsupportedError, match=r"'w' \(3, 4, 2, 2\)") as err:
        sg.compile(sg.cross_entropy(z.reshape(N, -1) @ V, y), [w0, w, V], [x, y], target="triton")
    msg = str(err.value)
    assert "which they do not take" not in msg, msg
    assert "tied" in msg and "kernel of its own" in msg and "target='numpy'" in msg, msg


def test_a_unet_level_with_an_up_convolution_equals_numpy_and_torch():
    """docs/layers.md's U-Net level, small: conv → relu (the skip e) → max-pool → conv_transpose2d
    (2×2, stride 2) → concat with e → 1×1 conv → per-pixel cross-entropy."""
    x, y = sg.tensor("x", (N, 1, 4, 4)), sg.tensor("y", (N, 4, 4), integer=True)
    we, be = sg.tensor("we", (2, 1, 3, 3)), sg.tensor("be", (2,))
    wu, bu = sg.tensor("wu", (2, 2, 2, 2)), sg.tensor("bu", (2,))
    wc, bc = sg.tensor("wc", (3, 4, 1, 1)), sg.tensor("bc", (3,))
    e = sg.relu(sg.conv2d(x, we, be, padding=1))
    u = sg.conv_transpose2d(sg.max_pool2d(e, 2), wu, bu, stride=2)
    loss = sg.cross_entropy(sg.conv2d(sg.concat([u, e], axis=1), wc, bc), y, axis=1)
    params = [we, be, wu, bu, wc, bc]
    tri, ref = [sg.compile(loss, params, [x, y], target=t, optimizer=sg.optim.Adam(lr=0.01)) for t in ("triton", "numpy")]
    rng = np.random.default_rng(5)
    values = {q.name: (0.4 * rng.normal(size=tuple(int(d) for d in q.shape))).astype(np.float32) for q in params}
    batch = {"x": rng.normal(size=(2, 1, 4, 4)).astype(np.float32), "y": rng.integers(0, 3, (2, 4, 4))}
    _same_as_numpy(tri, ref, values, batch, steps=2)

    t = {n: torch.tensor(v, dtype=torch.float64, requires_grad=True) for n, v in values.items()}
    tx = torch.tensor(batch["x"], dtype=torch.float64)
    te = F.relu(F.conv2d(tx, t["we"], t["be"], padding=1))
    tu = F.conv_transpose2d(F.max_pool2d(te, 2), t["wu"], t["bu"], stride=2)
    want = F.cross_entropy(F.conv2d(torch.cat([tu, te], dim=1), t["wc"], t["bc"]), torch.tensor(batch["y"]))
    want.backward()
    assert float(tri.loss(values, batch)) == pytest.approx(want.item(), rel=1e-5)
    got = tri.grad(values, batch)
    for q in params:
        np.testing.assert_allclose(got[q.name].cpu().numpy(), t[q.name].grad.numpy(), rtol=1e-4, atol=1e-6,
                                   err_msg=q.name)
    # every weight gradient one stacked product, the up-convolution's too (twelfth session): 3 launches
    from tests.codegen.test_triton_conv import _launches
    launched = _launches(tri, values, batch)
    assert launched == ["train_kernel1", "train_weight_grads_kernel", "update_kernel"], launched


@pytest.mark.parametrize("k, s, p, op, cin, cout", [
    pytest.param(2, 2, 0, 0, 3, 2, id="up-conv 2x2 stride 2"),
    pytest.param(4, 2, 1, 0, 3, 2, id="4x4 stride 2 padding 1"),
    # one channel in and out: the bias's terms are one number per δ_p (`_scalar_bias`)
    pytest.param(2, 2, 0, 0, 1, 1, id="one channel in and out"),
])
def test_a_decoder_step_is_three_launches_the_kernels_gradient_one_stacked_product(k, s, p, op, cin, cout):
    """The transposed convolution's weight gradient Σ_p L(δ_p·patch_pᵀ) — every term behind the same
    host adjoints L of its kernel matrix — is L(Σ_p δ_p·patch_pᵀ): one product over the stacked δs
    and windows, its bias riding along, the chain applied once to the sums. (Until 2026-12-01,
    twelfth session, a term per position, 3 a launch: 12 weight-gradient launches here and a
    batch_sum for the bias, 16 a step; 22 weight-gradient launches for an 8×8 map.)"""
    from tests.codegen.test_triton_conv import _launches
    loss, params, inputs, _ = _decoder(k, s, p, op, cin, cout)
    tri, ref = [sg.compile(loss, params, inputs, target=t, optimizer=sg.optim.Adam(lr=0.01))
                for t in ("triton", "numpy")]
    rng = np.random.default_rng(7)
    values = {q.name: (0.4 * rng.normal(size=tuple(int(d) for d in q.shape))).astype(np.float32) for q in params}
    batch = {"x": rng.normal(size=(B, 1, 6, 6)).astype(np.float32), "y": rng.integers(0, 3, B)}
    assert "∂L/∂p2 = Σ_b Σ_p" in tri.source and "∂L/∂p3 = Σ_b Σ_p" in tri.source
    # the host lines that carry the sums back to the declared kernel say what their constants are
    assert f"# (J: the {k}×{k} window's entries reversed" in tri.source, tri.source
    if cin * cout > 1:                              # (one channel: no permutation to apply)
        assert f"# (Q: the rows (c, f) of the kernel's {cin}×{cout} windows" in tri.source, tri.source
    got, want = tri.grad(values, batch), ref.grad(values, batch)
    for q in params:
        np.testing.assert_allclose(got[q.name].cpu().numpy(), want[q.name], rtol=1e-4, atol=1e-6, err_msg=q.name)
    launched = _launches(tri, values, batch)
    assert launched == ["train_kernel1", "train_weight_grads_kernel", "update_kernel"], launched
