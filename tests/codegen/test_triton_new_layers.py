"""The front end's layers of 2026-11-30 on the Triton target: each compiles and equals the NumPy
target (loss, gradients, Adam steps), or is refused naming what the user wrote (never an IR name, a
crash in code generation, or another layer's name) with the way out. Compiles are cheap; the two
that run are tiny (the kernels run under Triton's interpreter on the CPU)."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from tests.codegen.refusals import assert_refused_for_triton
from tests.codegen.test_triton_tensors import _same_as_numpy, _values

pytest.importorskip("torch")
pytest.importorskip("triton")

N = sp.Symbol("N", integer=True, positive=True)
D = 4


def _both(loss, params, inputs):
    return [sg.compile(loss, params, inputs, target=t, optimizer=sg.optim.Adam(lr=0.05)) for t in ("triton", "numpy")]


def test_zeros_like_added_to_a_layer_equals_numpy(rng):
    W, x = sg.tensor("W", (D, 3)), sg.tensor("x", (N, D))
    h = x @ W + sg.zeros_like(x @ W)
    tri, ref = _both(sg.mean(h * h), [W], [x])
    _same_as_numpy(tri, ref, _values([W], rng), {"x": rng.normal(size=(5, D)).astype(np.float32)}, steps=1)


def test_log_of_a_softmax_equals_numpy(rng):
    W, x, t = sg.tensor("W", (D, 3)), sg.tensor("x", (N, D)), sg.tensor("t", (N, 3))
    loss = -sg.mean((t * sp.log(sg.softmax(x @ W, axis=1))).sum(axis=1))
    tri, ref = _both(loss, [W], [x, t])
    batch = {"x": rng.normal(size=(5, D)).astype(np.float32), "t": np.eye(3, dtype=np.float32)[rng.integers(0, 3, 5)]}
    _same_as_numpy(tri, ref, _values([W], rng), batch, steps=1)


@pytest.mark.parametrize("who", ["dropout1d", "dropout2d"])
def test_channel_dropout_not_of_a_convolution_is_refused_by_name_with_the_way_out(who):
    # (dropout2d of a convolution's maps compiles: the test below)
    W = sg.tensor("W", (3, 4))
    x = sg.tensor("x", (N, 3, 5)) if who == "dropout1d" else sg.tensor("x", (N, 3, 2, 2))
    h = getattr(sg, who)(x, 0.3)
    loss = sg.mean(sp.tanh(h.sum(axis=tuple(range(2, h.ndim))) @ W))
    msg = assert_refused_for_triton(loss, [W], [x], [r"sg\.dropout1d / dropout2d / dropout3d", r"one draw per example and channel",
                                                     r"conv2d's maps", r"sg\.dropout\(h\.reshape\(N, -1\), p\)"])
    assert "dropout_mask" not in msg and "MatrixSymbol" not in msg, msg


def test_entry_dropout_of_a_column_per_example_still_compiles():
    # its mask has its value's shape (3, 1): not read broadcast, so not taken for channel dropout
    x, V = sg.tensor("x", (3,)), sg.tensor("V", (3, 1))
    sg.compile(sg.mean(sg.dropout(x[:, None] * V, 0.3)), [V], [x], target="triton")


def test_index_add_is_refused_naming_index_add():
    W, x, dst = sg.tensor("W", (D, D)), sg.tensor("x", (N, D)), sg.tensor("dst", (N,), integer=True)
    agg = x.new_zeros((N, D)).index_add(0, dst, sp.tanh(x @ W))
    assert_refused_for_triton(sg.mean(agg * x), [W], [x, dst], [r"sg\.index_add / x\.scatter_add", r"messages"])


def test_grid_sample_of_an_affine_grid_is_refused_naming_them():
    th, img, t = sg.tensor("th", (2, 3)), sg.tensor("img", (N, 1, 4, 4)), sg.tensor("t", (N, 1, 4, 4))
    grid = sg.affine_grid(th[None] * sg.ones((N, 1, 1)), (N, 1, 4, 4), align_corners=False)
    msg = assert_refused_for_triton(sg.mse(sg.grid_sample(img, grid, align_corners=False), t), [th], [img, t],
                                    [r"sg\.grid_sample / sg\.affine_grid", r"\(4, 4, 1\)"])
    assert "arange" not in msg, msg


def test_contrastive_labels_arange_are_refused_as_a_product_mixing_the_examples():
    W, za, zb = sg.tensor("W", (D, D)), sg.tensor("za", (N, D)), sg.tensor("zb", (N, D))
    loss = sg.cross_entropy((za @ W) @ zb.T / 0.5, sg.arange(N))
    assert_refused_for_triton(loss, [W], [za, zb], [r"`za @ W @ zb\.T`", r"mixes the examples"])


def test_position_embeddings_added_to_token_embeddings_equal_numpy(rng):
    # nanoGPT's tok_emb(idx) + pos_emb(arange(T)), one sequence of 3 tokens per example, then a mean
    # over the positions; P has more rows than positions (P[sg.arange(3)] is P[:3])
    E, P, W = sg.tensor("E", (10, D)), sg.tensor("P", (5, D)), sg.tensor("W", (D, 3))
    ids, y = sg.tensor("ids", (3,), integer=True), sg.tensor("y", (), integer=True)
    h = sg.tanh(E[ids] + P[sg.arange(3)]).mean(axis=0)
    tri, ref = _both(sg.cross_entropy(h @ W, y), [E, P, W], [ids, y])
    batch = {"ids": np.array([[1, 4, 1], [0, 9, 2], [3, 3, 3], [7, 1, 5]]), "y": rng.integers(0, 3, 4)}
    values = _values([E, P, W], rng)
    _same_as_numpy(tri, ref, values, batch, steps=1)
    g = ref.grad(values, batch)["P"]
    assert np.all(g[3:] == 0) and np.all(np.abs(g[:3]).sum(axis=1) > 0)   # rows past the sequence get nothing


@pytest.mark.parametrize("shape", [(2, D), (D,)])
def test_the_rows_of_an_input_matrix_with_a_parameter_added_then_times_a_vector_equal_numpy(rng, shape):
    # P (2, D) added row by row (as positions are), or a bias (D,) added to every row; then each row
    # times a vector w: one number per row (a generated-code crash, 'an entry M[i, j]', before)
    P, w, x = sg.tensor("P", shape), sg.tensor("w", (D,)), sg.tensor("x", (2, D))
    tri, ref = _both(sg.mean(sg.tanh((x + P) @ w)), [P, w], [x])
    _same_as_numpy(tri, ref, _values([P, w], rng), {"x": rng.normal(size=(3, 2, D)).astype(np.float32)}, steps=1)


def test_a_mean_over_rows_then_a_layer_then_a_mean_equals_numpy(rng):
    # the δ of the last mean is one number repeated, made on the host: a float has no .expand (it crashed)
    b, W, x = sg.tensor("b", (D,)), sg.tensor("W", (D, 3)), sg.tensor("x", (2, D))
    tri, ref = _both(sg.mean(sg.tanh(x + b).mean(axis=0) @ W), [b, W], [x])
    _same_as_numpy(tri, ref, _values([b, W], rng), {"x": rng.normal(size=(3, 2, D)).astype(np.float32)}, steps=1)


def test_a_number_per_row_of_a_parameter_column_equals_numpy_not_read_as_a_bias(rng):
    # M[:, :1] is (L, 1): row i scaled by M[i, 0]. With L == D it was read as a bias (D,) — a wrong
    # loss — then refused (until 2026-12-01, thirteenth session); now each row reads its number M[i, 0]
    E, M, ids = sg.tensor("E", (10, 3)), sg.tensor("M", (3, 3)), sg.tensor("ids", (3,), integer=True)
    tri, ref = _both(sg.sum(sg.tanh(E[ids] * M[:, :1])), [E, M], [ids])
    values = _values([E, M], rng)
    _same_as_numpy(tri, ref, values, {"ids": np.array([[1, 4, 1], [0, 9, 2], [3, 3, 3]])}, steps=1)
    g = ref.grad(values, {"ids": np.array([[1, 4, 1], [0, 9, 2], [3, 3, 3]])})["M"]
    assert np.all(g[:, 1:] == 0) and np.all(g[:, 0] != 0)      # only the column read gets a gradient


def test_labels_broadcast_over_the_rows_of_an_example_are_refused_as_labels_per_row():
    # y.expand(T): the same label at each of T steps — one label per row of a (T, C) matrix per example
    s, W, y = sg.tensor("s", (2, 3)), sg.tensor("W", (3,)), sg.tensor("y", (), integer=True)
    msg = assert_refused_for_triton(sg.cross_entropy(s * W, y.expand(2)), [W], [s, y],
                                    [r"one class label per example", r"are \(2,\) per example", r"y\.expand\(T\)"])
    assert "they take dense layers" not in msg, msg       # (it listed 'integer class labels' as taken)


def test_position_embeddings_as_a_torch_layer_equal_torch_autograd(rng):
    torch = pytest.importorskip("torch")
    E, P, W = sg.tensor("E", (10, D)), sg.tensor("P", (5, D)), sg.tensor("W", (D, 3))
    ids, y = sg.tensor("ids", (3,), integer=True), sg.tensor("y", (), integer=True)
    h = sg.tanh(E[ids] + P[sg.arange(3)]).mean(axis=0)
    mod = sg.compile(sg.cross_entropy(h @ W, y), [E, P, W], [ids, y], target="triton").as_torch()
    I, Y = torch.tensor([[1, 4, 1], [0, 9, 2], [3, 3, 3]]), torch.tensor([2, 0, 1])
    mod.loss(I, Y).backward()
    ps = {n: p.detach().clone().requires_grad_(True) for n, p in mod.named_parameters()}
    want = torch.nn.functional.cross_entropy(torch.tanh(ps["E"][I] + ps["P"][torch.arange(3)]).mean(1) @ ps["W"], Y)
    want.backward()
    for n, p in mod.named_parameters():
        assert p.grad.abs().sum() > 0, n
        np.testing.assert_allclose(p.grad.numpy(), ps[n].grad.numpy(), rtol=1e-4, atol=1e-6, err_msg=n)


def test_position_embeddings_over_the_batch_equal_numpy(rng):
    # ids (N, 3): the same layer written over the batch, unbatched to one sequence per example
    E, P, W = sg.tensor("E", (10, D)), sg.tensor("P", (5, D)), sg.tensor("W", (D, 3))
    ids, y = sg.tensor("ids", (N, 3), integer=True), sg.tensor("y", (N,), integer=True)
    tri, ref = _both(sg.cross_entropy(sg.tanh(E[ids] + P[sg.arange(3)]).mean(axis=1) @ W, y), [E, P, W], [ids, y])
    batch = {"ids": rng.integers(0, 10, (4, 3)), "y": rng.integers(0, 3, 4)}
    _same_as_numpy(tri, ref, _values([E, P, W], rng), batch, steps=1)


def test_dropout2d_of_a_convolutions_maps_equals_numpy_under_the_same_channel_masks():
    # the mask (F, 1, 1) of an example is drawn as its column (F, 1): entry b·F + f of the seed's
    # stream, as a dropout of B·F entries of one example draws them (read back from that program)
    from tests.codegen.test_triton_dropout import _mask, _mask_program
    from tests.dropout_stand_in import GivenUniforms
    B, F, p = 3, 4, 0.5
    K, W = sg.tensor("K", (F, 1, 2, 2)), sg.tensor("W", (F * 4, 2))
    x, y = sg.tensor("x", (N, 1, 3, 3)), sg.tensor("y", (N,), integer=True)
    loss = sg.cross_entropy(sg.dropout2d(sg.relu(sg.conv2d(x, K)), p).reshape(N, -1) @ W, y)
    tri, num = sg.compile(loss, [K, W], [x, y], target="triton"), sg.compile(loss, [K, W], [x, y])
    rng = np.random.default_rng(3)
    values = {"K": rng.normal(0, 0.5, (F, 1, 2, 2)), "W": rng.normal(0, 0.5, (F * 4, 2))}
    batch = {"x": rng.normal(0, 1, (B, 1, 3, 3)), "y": rng.integers(0, 2, B)}
    g = tri.grad(values, batch, dropout_seed=4)
    m = _mask(_mask_program(B * F, p), B * F, dropout_seed=4).reshape(B, F, 1, 1)
    assert 0 < np.count_nonzero(m) < m.size                # some channels dropped, some kept
    num.rng = GivenUniforms((m != 0).astype(np.float64))
    want = num.grad(values, batch)
    assert num.rng.shapes == [(B, F, 1, 1)]
    for k in want:
        np.testing.assert_allclose(np.asarray(g[k].cpu()).reshape(want[k].shape), want[k], rtol=1e-4, atol=1e-6, err_msg=k)
    assert tri.loss(values, batch) == pytest.approx(num.loss(values, batch), rel=1e-5)     # dropout off
    stepped, _ = tri.step({k: v.astype(np.float32) for k, v in values.items()}, None, batch)   # draws its own
    assert np.isfinite(float(tri.last_loss)) and not np.allclose(np.asarray(stepped["K"].cpu()), values["K"])


def test_conv1d_is_refused_by_name_with_the_height_one_image_that_runs():
    """sg.conv1d lowers through reshapes of the signal, whose refusal spoke of bags (E[ids]); it is
    named, with the image of height 1 that compiles (the test below checks its numbers)."""
    x, y = sg.tensor("x", (N, 2, 8)), sg.tensor("y", (N,), integer=True)
    w, V = sg.tensor("w", (3, 2, 3)), sg.tensor("V", (18, 3))
    h = sg.dropout1d(sg.relu(sg.conv1d(x, w)), 0.5)
    msg = assert_refused_for_triton(sg.cross_entropy(h.reshape(N, -1) @ V, y), [w, V], [x, y],
                                    [r"sg\.conv1d of a signal \(N, 2, 8\)", r"sg\.tensor\('x', \(N, 2, 1, 8\)\)",
                                     r"\(3, 2, 1, 3\)", r"sg\.dropout2d", r"target='numpy'"])
    assert "E[ids]" not in msg, msg


def test_the_height_one_image_for_conv1d_equals_numpys_conv1d(rng):
    """The way out the refusal above names: conv2d of (N, C, 1, L) with a kernel (F, C, 1, K) on the
    Triton target has the loss and gradients of conv1d on the NumPy target."""
    x1, y = sg.tensor("x", (N, 2, 8)), sg.tensor("y", (N,), integer=True)
    w1, b, V = sg.tensor("w", (3, 2, 3)), sg.tensor("b", (3,)), sg.tensor("V", (24, 3))
    ref = sg.compile(sg.cross_entropy(sg.relu(sg.conv1d(x1, w1, b, padding=1)).reshape(N, -1) @ V, y),
                     [w1, b, V], [x1, y], target="numpy")
    x2, w2 = sg.tensor("x", (N, 2, 1, 8)), sg.tensor("w", (3, 2, 1, 3))
    tri = sg.compile(sg.cross_entropy(sg.relu(sg.conv2d(x2, w2, b, padding=(0, 1))).reshape(N, -1) @ V, y),
                     [w2, b, V], [x2, y], target="triton")
    vals = {"w": rng.normal(size=(3, 2, 3)).astype(np.float32), "b": rng.normal(size=3).astype(np.float32),
            "V": rng.normal(size=(24, 3)).astype(np.float32)}
    batch = {"x": rng.normal(size=(3, 2, 8)).astype(np.float32), "y": rng.integers(0, 3, 3)}
    got = tri.grad({**vals, "w": vals["w"][:, :, None, :]}, {**batch, "x": batch["x"][:, :, None, :]})
    want = ref.grad(vals, batch)
    assert float(tri.loss({**vals, "w": vals["w"][:, :, None, :]}, {**batch, "x": batch["x"][:, :, None, :]})) == \
        pytest.approx(float(ref.loss(vals, batch)), rel=1e-5)
    np.testing.assert_allclose(got["w"].cpu().numpy()[:, :, 0, :], want["w"], rtol=1e-4, atol=1e-6)
    for n in ("b", "V"):
        np.testing.assert_allclose(got[n].cpu().numpy(), want[n], rtol=1e-4, atol=1e-6, err_msg=n)
