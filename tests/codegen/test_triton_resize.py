"""`sg.interpolate` (bilinear and nearest) on the Triton target: a resize of a convolution's map or
of the input image, kept as rows (`symgrad/compiling/kernel_resize.py`).

Until 2026-11-30 (eighth session) every resize was refused on Triton: a bilinear one naming its
internal weight formula (``relu(1 - Abs(-(tril(ones((3, 3)))...``) as "a batched matrix product", a
nearest one as "broadcasting" with the words for a convolution's output.
Oracles: the NumPy target (loss, every gradient, 2 Adam steps) and torch.autograd with
``F.interpolate`` / ``F.conv2d`` in float64. The kernels run under Triton's interpreter: tiny sizes.
"""
import re

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import UnsupportedError

torch = pytest.importorskip("torch")
pytest.importorskip("triton")

F = torch.nn.functional
N = sp.Symbol("N", integer=True, positive=True)
B = 3


def _values(params, seed):
    rng = np.random.default_rng(seed)
    return {p.name: (0.4 * rng.standard_normal(tuple(int(d) for d in p.shape))).astype(np.float32) for p in params}


def _check(loss, params, inputs, batch, torch_loss, seed=0):
    """Triton equals the NumPy target (loss, gradients, 2 Adam steps) and torch.autograd (float64)."""
    opt = sg.optim.Adam(lr=0.01)
    pn = sg.compile(loss, params, inputs, target="numpy", optimizer=opt)
    pt = sg.compile(loss, params, inputs, target="triton", optimizer=opt)
    vals = _values(params, seed)
    tv = {k: torch.tensor(v) for k, v in vals.items()}
    tb = {k: torch.tensor(v) for k, v in batch.items()}
    gt = pt.grad(tv, tb)
    gn = pn.grad({k: v.copy() for k, v in vals.items()}, batch)
    np.testing.assert_allclose(float(pt.loss(tv, tb)), float(pn.loss(vals, batch)), rtol=1e-5)
    for k in gn:
        np.testing.assert_allclose(gt[k].numpy(), np.asarray(gn[k]), rtol=1e-4, atol=1e-6, err_msg=k)
    want = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in vals.items()}
    tb64 = {k: torch.tensor(v) if v.dtype.kind in "iu" else torch.tensor(v, dtype=torch.float64)
            for k, v in batch.items()}
    ref = torch_loss(want, tb64)
    ref.backward()
    np.testing.assert_allclose(float(pt.loss(tv, tb)), ref.item(), rtol=1e-5)
    for k in want:
        np.testing.assert_allclose(gt[k].numpy(), want[k].grad.numpy(), rtol=1e-4, atol=1e-6, err_msg=f"torch {k}")
    vn, sn, st = {k: v.copy() for k, v in vals.items()}, None, None
    for _ in range(2):
        vn, sn = pn.step(vn, sn, batch)
        tv, st = pt.step(tv, st, tb)
    for k in vn:
        np.testing.assert_allclose(tv[k].numpy(), np.asarray(vn[k]), rtol=1e-5, atol=1e-6, err_msg=f"step {k}")


def _batch(C, H, W, seed=1):
    rng = np.random.default_rng(seed)
    return {"x": rng.standard_normal((B, C, H, W)).astype(np.float32), "y": rng.integers(0, 3, B)}


def test_a_convolutions_map_resized_then_a_dense_layer():
    """conv (2 filters, 3×3 map) → relu → bilinear to 4×5 → flatten → dense: each resized row a
    weighted sum of at most four of the map's rows."""
    x, y = sg.tensor("x", (N, 1, 3, 3)), sg.tensor("y", (N,), integer=True)
    w, b, V, c = sg.tensor("w", (2, 1, 3, 3)), sg.tensor("b", (2,)), sg.tensor("V", (40, 3)), sg.tensor("c", (3,))
    h = sg.interpolate(sg.relu(sg.conv2d(x, w, b, padding=1)), size=(4, 5), mode="bilinear")

    def torch_loss(p, bb):
        t = F.interpolate(F.relu(F.conv2d(bb["x"], p["w"], p["b"], padding=1)), size=(4, 5), mode="bilinear")
        return F.cross_entropy(t.reshape(B, -1) @ p["V"] + p["c"], bb["y"])
    _check(sg.cross_entropy(h.reshape(N, -1) @ V + c, y), [w, b, V, c], [x, y], _batch(1, 3, 3), torch_loss)


def test_the_image_resized_then_a_convolution():
    """The 1-channel image upsampled by 2 (align_corners=True) is read as rows (slices of its row),
    then a convolution of the resized map (the second convolution's machinery)."""
    x, y = sg.tensor("x", (N, 1, 3, 3)), sg.tensor("y", (N,), integer=True)
    w, b, V, c = sg.tensor("w", (2, 1, 3, 3)), sg.tensor("b", (2,)), sg.tensor("V", (72, 3)), sg.tensor("c", (3,))
    u = sg.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)
    h = sg.relu(sg.conv2d(u, w, b, padding=1))

    def torch_loss(p, bb):
        t = F.interpolate(bb["x"], scale_factor=2, mode="bilinear", align_corners=True)
        return F.cross_entropy(F.relu(F.conv2d(t, p["w"], p["b"], padding=1)).reshape(B, -1) @ p["V"] + p["c"],
                               bb["y"])
    _check(sg.cross_entropy(h.reshape(N, -1) @ V + c, y), [w, b, V, c], [x, y], _batch(1, 3, 3), torch_loss)


def test_a_two_channel_image_resized_along_its_width_per_example():
    """A per-example declaration (1, 2, 3, 2) resized to (3, 5): along W only (the image's lines)."""
    x, y = sg.tensor("x", (1, 2, 3, 2)), sg.tensor("y", (), integer=True)
    V, c = sg.tensor("V", (30, 3)), sg.tensor("c", (3,))
    u = sg.interpolate(x, size=(3, 5), mode="bilinear")
    rng = np.random.default_rng(2)
    batch = {"x": rng.standard_normal((B, 1, 2, 3, 2)).astype(np.float32), "y": rng.integers(0, 3, B)}

    def torch_loss(p, bb):
        t = F.interpolate(bb["x"][:, 0], size=(3, 5), mode="bilinear")
        return F.cross_entropy(torch.tanh(t).reshape(B, -1) @ p["V"] + p["c"], bb["y"])
    _check(sg.cross_entropy(sg.tanh(u).reshape(-1) @ V + c, y), [V, c], [x, y], batch, torch_loss)


def test_the_image_upsampled_nearest_then_a_convolution():
    """torch's default mode (nearest, by 2) of a 1-channel image: each position's row is the image
    entry it repeats (a slice of the example's row), then a convolution of that map."""
    x, y = sg.tensor("x", (N, 1, 2, 3)), sg.tensor("y", (N,), integer=True)
    w, b, V, c = sg.tensor("w", (2, 1, 3, 3)), sg.tensor("b", (2,)), sg.tensor("V", (48, 3)), sg.tensor("c", (3,))
    h = sg.relu(sg.conv2d(sg.interpolate(x, scale_factor=2), w, b, padding=1))

    def torch_loss(p, bb):
        t = F.relu(F.conv2d(F.interpolate(bb["x"], scale_factor=2), p["w"], p["b"], padding=1))
        return F.cross_entropy(t.reshape(B, -1) @ p["V"] + p["c"], bb["y"])
    _check(sg.cross_entropy(h.reshape(N, -1) @ V + c, y), [w, b, V, c], [x, y], _batch(1, 2, 3), torch_loss)


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_a_pooled_map_upsampled_then_convolved_again(mode):
    """A U-Net's way up, small: conv → relu → max-pool (2×2) → upsample by 2 → conv → dense; the
    second convolution's windows assembled from the upsampled map's rows."""
    x, y = sg.tensor("x", (N, 1, 4, 4)), sg.tensor("y", (N,), integer=True)
    w1, b1, w2, b2 = sg.tensor("w1", (2, 1, 3, 3)), sg.tensor("b1", (2,)), sg.tensor("w2", (2, 2, 3, 3)), \
        sg.tensor("b2", (2,))
    V, c = sg.tensor("V", (32, 3)), sg.tensor("c", (3,))
    h = sg.max_pool2d(sg.relu(sg.conv2d(x, w1, b1, padding=1)), 2)
    z = sg.relu(sg.conv2d(sg.interpolate(h, scale_factor=2, mode=mode), w2, b2, padding=1))

    def torch_loss(p, bb):
        t = F.max_pool2d(F.relu(F.conv2d(bb["x"], p["w1"], p["b1"], padding=1)), 2)
        t = F.relu(F.conv2d(F.interpolate(t, scale_factor=2, mode=mode), p["w2"], p["b2"], padding=1))
        return F.cross_entropy(t.reshape(B, -1) @ p["V"] + p["c"], bb["y"])
    _check(sg.cross_entropy(z.reshape(N, -1) @ V + c, y), [w1, b1, w2, b2, V, c], [x, y], _batch(1, 4, 4),
           torch_loss)


def test_a_product_of_the_map_with_a_parameter_is_refused_naming_it():
    x, y = sg.tensor("x", (N, 1, 3, 3)), sg.tensor("y", (N,), integer=True)
    w, b, M, V = sg.tensor("w", (2, 1, 3, 3)), sg.tensor("b", (2,)), sg.tensor("M", (4, 3)), sg.tensor("V", (24, 3))
    h = M @ sg.relu(sg.conv2d(x, w, b, padding=1))
    with pytest.raises(UnsupportedError, match=r"not a constant matrix .*sg\.interpolate.*target='numpy'") as err:
        sg.compile(sg.cross_entropy(h.reshape(N, -1) @ V, y), [w, b, M, V], [x, y], target="triton")
    assert "`M @ relu(" in str(err.value) and not re.search(r"\bv\d+\b", str(err.value))


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_a_resize_to_more_than_64_positions_is_refused_naming_the_count(mode):
    x, y = sg.tensor("x", (N, 1, 3, 3)), sg.tensor("y", (N,), integer=True)
    w, b, V = sg.tensor("w", (2, 1, 3, 3)), sg.tensor("b", (2,)), sg.tensor("V", (162, 3))
    h = sg.interpolate(sg.relu(sg.conv2d(x, w, b, padding=1)), scale_factor=3, mode=mode)      # 9 × 9
    with pytest.raises(UnsupportedError, match=r"81 positions per example, more than 64.*smaller size"):
        sg.compile(sg.cross_entropy(h.reshape(N, -1) @ V, y), [w, b, V], [x, y], target="triton")


def test_the_generated_source_names_the_resized_rows():
    """Each resized row is one weighted sum of at most four of the map's rows (the resizes along H and
    W composed: no intermediate rows), its weights numbers, and says what it is."""
    x, y = sg.tensor("x", (N, 1, 3, 3)), sg.tensor("y", (N,), integer=True)
    w, b, V = sg.tensor("w", (2, 1, 3, 3)), sg.tensor("b", (2,)), sg.tensor("V", (32, 3))
    h = sg.interpolate(sg.relu(sg.conv2d(x, w, b, padding=1)), size=(4, 4), mode="bilinear")
    src = sg.compile(sg.cross_entropy(h.reshape(N, -1) @ V, y), [w, b, V], [x, y], target="triton").source
    assert "= the resized map at position (1, 1) (sg.interpolate)" in src
    # (1, 1) of 4 from 3: 3/8 of row 0 and 5/8 of row 1 along each axis
    assert re.search(r"v\d+ = 0\.140625\*v\d+ \+ 0\.234375\*v\d+ \+ 0\.234375\*v\d+ \+ 0\.390625\*v\d+", src)
    assert "resized along" not in src    # (no intermediate rows, resized along one axis only)
    assert "tril(" not in src


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_as_torch_gives_the_images_gradient_through_the_resize(mode):
    """The image read as rows by 1×1 windows (patches), whose VJP is a constant 0/1 product: an
    encoder before the module gets its gradient through the resize (torch.autograd's)."""
    x, y = sg.tensor("x", (N, 2, 2, 3)), sg.tensor("y", (N,), integer=True)
    w, b, V, c = sg.tensor("w", (2, 2, 3, 3)), sg.tensor("b", (2,)), sg.tensor("V", (48, 3)), sg.tensor("c", (3,))
    z = sg.relu(sg.conv2d(sg.interpolate(x, scale_factor=2, mode=mode), w, b, padding=1)).reshape(N, -1) @ V + c
    mod = sg.compile(sg.cross_entropy(z, y), [w, b, V, c], [x, y], target="triton", outputs=[z]).as_torch()
    twin = {n: p.detach().clone().requires_grad_() for n, p in mod.named_parameters()}
    g = torch.Generator().manual_seed(3)
    X, Y = torch.randn(B, 2, 2, 3, generator=g), torch.randint(0, 3, (B,), generator=g)
    Xa, Xb = X.clone().requires_grad_(), X.clone().requires_grad_()
    F.cross_entropy(mod(Xa), Y).backward()
    t = F.relu(F.conv2d(F.interpolate(Xb, scale_factor=2, mode=mode), twin["w"], twin["b"], padding=1))
    F.cross_entropy(t.reshape(B, -1) @ twin["V"] + twin["c"], Y).backward()
    np.testing.assert_allclose(Xa.grad.numpy(), Xb.grad.numpy(), rtol=1e-4, atol=1e-6)
    for n, p in mod.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), twin[n].grad.numpy(), rtol=1e-4, atol=1e-6, err_msg=n)


def test_a_unet_skip_connection_concatenates_the_channels():
    """A U-Net, small: conv → relu (h1) → max-pool → nearest upsampling (u) → sg.concat([u, h1], axis=1)
    → conv → dense; at each position the column of u's channels then h1's (constant 0/1 products)."""
    x, y = sg.tensor("x", (N, 1, 4, 4)), sg.tensor("y", (N,), integer=True)
    w1, b1, w2, b2 = sg.tensor("w1", (2, 1, 3, 3)), sg.tensor("b1", (2,)), sg.tensor("w2", (2, 4, 3, 3)), \
        sg.tensor("b2", (2,))
    V, c = sg.tensor("V", (32, 3)), sg.tensor("c", (3,))
    h1 = sg.relu(sg.conv2d(x, w1, b1, padding=1))
    u = sg.interpolate(sg.max_pool2d(h1, 2), scale_factor=2)
    z = sg.relu(sg.conv2d(sg.concat([u, h1], axis=1), w2, b2, padding=1))

    def torch_loss(p, bb):
        t1 = F.relu(F.conv2d(bb["x"], p["w1"], p["b1"], padding=1))
        t = F.interpolate(F.max_pool2d(t1, 2), scale_factor=2)
        t = F.relu(F.conv2d(torch.cat([t, t1], dim=1), p["w2"], p["b2"], padding=1))
        return F.cross_entropy(t.reshape(B, -1) @ p["V"] + p["c"], bb["y"])
    _check(sg.cross_entropy(z.reshape(N, -1) @ V + c, y), [w1, b1, w2, b2, V, c], [x, y], _batch(1, 4, 4),
           torch_loss)


def test_a_transposed_convolution_of_a_pooled_map_compiles():
    """conv → relu → max-pool → conv_transpose2d(stride=2) → relu → dense: refused until 2026-12-01
    (eleventh session), pointing to this file's upsampling (tests/codegen/test_triton_conv_transpose.py)."""
    x, y = sg.tensor("x", (N, 1, 4, 4)), sg.tensor("y", (N,), integer=True)
    w, b, wt, V = sg.tensor("w", (2, 1, 3, 3)), sg.tensor("b", (2,)), sg.tensor("wt", (2, 2, 2, 2)), \
        sg.tensor("V", (32, 3))
    h = sg.relu(sg.conv_transpose2d(sg.max_pool2d(sg.relu(sg.conv2d(x, w, b, padding=1)), 2), wt, stride=2))

    def torch_loss(p, bb):
        t = F.max_pool2d(F.relu(F.conv2d(bb["x"], p["w"], p["b"], padding=1)), 2)
        t = F.relu(F.conv_transpose2d(t, p["wt"], stride=2))
        return F.cross_entropy(t.reshape(B, -1) @ p["V"], bb["y"])
    _check(sg.cross_entropy(h.reshape(N, -1) @ V, y), [w, b, wt, V], [x, y], _batch(1, 4, 4), torch_loss)


@pytest.mark.parametrize("channels", [2, 1])
def test_a_decoder_reshapes_a_dense_layer_to_a_map_then_upsamples_and_convolves(channels):
    """A VAE's or a GAN's decoder, small: dense → relu → .reshape(N, C, 3, 3) → nearest upsampling →
    conv → dense. The vector's entries c·9 + p are the map's rows (constant 0/1 products; one entry
    each for one channel). It was refused as "a value has 5 axes (2, 3, 1, 3, 1) per example"."""
    x, y = sg.tensor("x", (N, 5)), sg.tensor("y", (N,), integer=True)
    W, b0 = sg.tensor("W", (5, channels * 9)), sg.tensor("b0", (channels * 9,))
    w, b, V, c = sg.tensor("w", (2, channels, 3, 3)), sg.tensor("b", (2,)), sg.tensor("V", (72, 3)), sg.tensor("c", (3,))
    h = sg.relu(x @ W + b0).reshape(N, channels, 3, 3)
    z = sg.relu(sg.conv2d(sg.interpolate(h, scale_factor=2), w, b, padding=1))
    rng = np.random.default_rng(6)
    batch = {"x": rng.standard_normal((B, 5)).astype(np.float32), "y": rng.integers(0, 3, B)}

    def torch_loss(p, bb):
        t = torch.relu(bb["x"] @ p["W"] + p["b0"]).reshape(B, channels, 3, 3)
        t = F.relu(F.conv2d(F.interpolate(t, scale_factor=2), p["w"], p["b"], padding=1))
        return F.cross_entropy(t.reshape(B, -1) @ p["V"] + p["c"], bb["y"])
    _check(sg.cross_entropy(z.reshape(N, -1) @ V + c, y), [W, b0, w, b, V, c], [x, y], batch, torch_loss)


@pytest.mark.parametrize("how", [dict(scale_factor=2), dict(size=5), dict(scale_factor=2, align_corners=True)],
                         ids=["x2", "size 5", "x2 align_corners"])
def test_a_linear_resize_of_a_signal_over_the_batch_equals_numpy_and_torch(how):
    """mode='linear' of a signal (N, C, L): each channel's row times the resize's weights (L, L_out),
    a constant evaluated once (`AsColumns._rows_times_constant`), then a bias per resized position,
    tanh and a dense layer. Refused until 2026-12-01 (twelfth session), naming an image of height
    1 as the way out; until 2026-11-30 (ninth session) quoting its weights' formula."""
    x, y = sg.tensor("x", (N, 2, 4)), sg.tensor("y", (N,), integer=True)
    u = sg.interpolate(sp.tanh(x), mode="linear", **how)
    L = int(u.shape[2])
    c, V = sg.tensor("c", (L,)), sg.tensor("V", (2 * L, 3))
    rng = np.random.default_rng(4)
    batch = {"x": rng.standard_normal((B, 2, 4)).astype(np.float32), "y": rng.integers(0, 3, B)}

    def torch_loss(p, bb):
        t = F.interpolate(torch.tanh(bb["x"]), mode="linear", **how) + p["c"]
        return F.cross_entropy(torch.tanh(t.reshape(B, -1)) @ p["V"], bb["y"])
    _check(sg.cross_entropy(sp.tanh((u + c).reshape(N, -1)) @ V, y), [c, V], [x, y], batch, torch_loss)


def test_a_trilinear_resize_is_refused_naming_the_mode():
    x, y, V = sg.tensor("x", (N, 1, 2, 2, 2)), sg.tensor("y", (N,), integer=True), sg.tensor("V", (64, 3))
    u = sg.interpolate(x, scale_factor=2, mode="trilinear")
    with pytest.raises(UnsupportedError, match=r"mode='trilinear'.*volume.*mode='bilinear'.*target='numpy'") as err:
        sg.compile(sg.cross_entropy(u.reshape(N, -1) @ V, y), [V], [x, y], target="triton")
    assert "transpose" not in str(err.value) and "tril(" not in str(err.value)


@pytest.mark.parametrize("per_example", [False, True])
def test_the_linear_workaround_equals_torch_linear(per_example):
    """What the refusal above suggests: the signal declared as an image of height 1 and resized with
    mode='bilinear' to (1, 2L) is torch's mode='linear' (the resize along H, 1 to 1, the identity);
    a per-example declaration (1, C, L) takes mode='linear' itself."""
    if per_example:
        x, y = sg.tensor("x", (1, 2, 4)), sg.tensor("y", (), integer=True)
        u = sg.interpolate(x, scale_factor=2, mode="linear").reshape(-1)
    else:
        x, y = sg.tensor("x", (N, 2, 1, 4)), sg.tensor("y", (N,), integer=True)
        u = sg.interpolate(x, size=(1, 8), mode="bilinear").reshape(N, -1)
    V, c = sg.tensor("V", (16, 3)), sg.tensor("c", (3,))
    rng = np.random.default_rng(4)
    sig = rng.standard_normal((B, 2, 4)).astype(np.float32)
    batch = {"x": sig[:, None] if per_example else sig[:, :, None, :], "y": rng.integers(0, 3, B)}

    def torch_loss(p, bb):
        s = bb["x"].reshape(B, 2, 4)
        return F.cross_entropy(torch.tanh(F.interpolate(s, scale_factor=2, mode="linear")).reshape(B, -1) @ p["V"]
                               + p["c"], bb["y"])
    _check(sg.cross_entropy(sg.tanh(u) @ V + c, y), [V, c], [x, y], batch, torch_loss)


def test_a_decoders_flattened_image_is_an_output_of_as_torch_equal_to_torch():
    """A decoder (dense → reshape (N, 2, 3, 3) → nearest upsampling → conv → sigmoid) returning its
    image flattened, h.reshape(N, -1), as the output of an as_torch() module (the map gathered into
    one column, NumPy's order): refused until 2026-11-30 (ninth session) as "a convolution's output
    ... as an output". Its values and every gradient through it equal torch.autograd's."""
    z, t = sg.tensor("z", (N, 4)), sg.tensor("t", (N, 36))
    W, b, w, c = sg.tensor("W", (4, 18)), sg.tensor("b", (18,)), sg.tensor("w", (1, 2, 3, 3)), sg.tensor("c", (1,))
    m = sg.relu(z @ W + b).reshape(N, 2, 3, 3)
    out = sg.sigmoid(sg.conv2d(sg.interpolate(m, scale_factor=2), w, c, padding=1)).reshape(N, -1)
    mod = sg.compile(sg.mse(out, t), [W, b, w, c], [z, t], target="triton", outputs=[out]).as_torch()
    p = {k: v.detach().clone().requires_grad_() for k, v in mod.named_parameters()}
    g = torch.Generator().manual_seed(5)
    Z, T = torch.randn(B, 4, generator=g), torch.rand(B, 36, generator=g)
    Za, Zb = Z.clone().requires_grad_(), Z.clone().requires_grad_()
    got = mod(Za)
    F.mse_loss(got, T).backward()
    m2 = F.relu(Zb @ p["W"] + p["b"]).reshape(B, 2, 3, 3)
    want = torch.sigmoid(F.conv2d(F.interpolate(m2, scale_factor=2), p["w"], p["c"], padding=1)).reshape(B, -1)
    F.mse_loss(want, T).backward()
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(Za.grad.numpy(), Zb.grad.numpy(), rtol=1e-4, atol=1e-7)
    for k in p:
        np.testing.assert_allclose(getattr(mod, k).grad.numpy(), p[k].grad.numpy(), rtol=1e-4, atol=1e-7, err_msg=k)
    with pytest.raises(UnsupportedError, match=r"as an output; return a vector of it: its flattened form "
                                                r"h\.reshape\(N, -1\)"):
        sg.compile(sg.mse(out, t), [W, b, w, c], [z, t], target="triton", outputs=[sg.interpolate(m, scale_factor=2)])
