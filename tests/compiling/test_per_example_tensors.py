"""Per-example declarations of tensors (fixed shapes, no symbolic N): `sg.compile` batches the graph
(`symgrad.compiling.batching`) and the program takes arrays with a leading batch axis. Each network's
loss and gradients are compared with two oracles that know nothing of the batching: a loop over the
examples through symgrad's reference interpreter (the per-example loss and ``sg.grad``, evaluated
one example at a time, then averaged), and torch.autograd on the network written over the batch."""
import re

import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg
from symgrad.core.evaluate import evaluate
from symgrad.core.lower import lower

F = torch.nn.functional
TOL = dict(rtol=1e-9, atol=1e-9)


def _loop(loss, params, values, batch, reduction="mean"):
    """The per-example loss and gradients, one example at a time (reference interpreter, float64)."""
    grads = sg.grad(loss, list(params))
    graph, _, outs = lower([loss] + list(grads))
    B = len(next(iter(batch.values())))
    total = [0.0] + [np.zeros(tuple(p.shape)) for p in params]
    for b in range(B):
        one = {**values, **{k: v[b] for k, v in batch.items()}}
        for i, v in enumerate(evaluate(graph, outs, one)):
            total[i] = total[i] + np.asarray(v, dtype=float).reshape(np.shape(total[i]))
    if reduction == "mean":
        total = [t / B for t in total]
    return total[0], dict(zip([p.name for p in params], total[1:]))


def _torch(per_batch, values, batch, reduction="mean"):
    """torch.autograd of ``per_batch(params, batch)``: the per-example losses (B,), reduced."""
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in values.items()}
    xs = {k: torch.tensor(v) for k, v in batch.items()}
    per = per_batch(t, xs)
    loss = per.mean() if reduction == "mean" else per.sum()
    loss.backward()
    return loss.item(), {k: np.zeros(v.shape) if v.grad is None else v.grad.numpy() for k, v in t.items()}


def _agree(loss, params, inputs, values, batch, per_batch, reduction="mean", **kw):
    prog = sg.compile(loss, params, inputs, dtype="float64", reduction=reduction, **kw)
    got_loss, got = prog.loss(values, batch), prog.grad(values, batch)
    for want_loss, want in (_loop(loss, params, values, batch, reduction),
                            _torch(per_batch, values, batch, reduction)):
        assert got_loss == pytest.approx(want_loss, rel=1e-9, abs=1e-9)
        for name in want:
            np.testing.assert_allclose(got[name], want[name], err_msg=name, **TOL)
    return prog


def _values(rng, params, scale=0.5):
    return {p.name: rng.standard_normal(tuple(p.shape)) * scale for p in params}


# ---------------------------------------------------------------------------------------------------
# an MLP with class labels: W @ x + b on one example's x (D,), cross-entropy against a label y ()

D, H, C = 6, 5, 4
x, y = sg.tensor("x", (D,)), sg.tensor("y", (), integer=True)
W1, b1, W2, b2 = sg.tensor("W1", (H, D)), sg.tensor("b1", (H,)), sg.tensor("W2", (C, H)), sg.tensor("b2", (C,))
MLP = [W1, b1, W2, b2]
logits = W2 @ sg.tanh(W1 @ x + b1) + b2


def _torch_mlp(t, xs):
    z = torch.tanh(xs["x"] @ t["W1"].T + t["b1"]) @ t["W2"].T + t["b2"]
    return F.cross_entropy(z, xs["y"].long(), reduction="none")


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_mlp_with_labels_equals_the_loop_and_torch(reduction):
    rng = np.random.default_rng(0)
    batch = {"x": rng.standard_normal((7, D)), "y": rng.integers(0, C, 7)}
    _agree(sg.cross_entropy(logits, y), MLP, [x, y], _values(rng, MLP), batch, _torch_mlp, reduction)


def test_mlp_program_speaks_per_example():
    """Inputs as declared for one example; arrays keyed by name or by the declared tensor; outputs
    with the batch axis first; a wrong shape and a label out of range named per example."""
    rng = np.random.default_rng(1)
    prog = sg.compile(sg.cross_entropy(logits, y), MLP, [x, y], outputs=[logits, sg.sum(W2 ** 2)],
                      dtype="float64")
    assert prog.inputs == [x, y] and "per example" in repr(prog)
    values = _values(rng, MLP)
    xb, yb = rng.standard_normal((3, D)), np.array([0, 3, 1])
    assert prog.loss(values, {x: xb, y: yb}) == prog.loss(values, {"x": xb, "y": yb})
    out, same = prog.forward(values, {"x": xb})
    want = np.tanh(xb @ values["W1"].T + values["b1"]) @ values["W2"].T + values["b2"]
    np.testing.assert_allclose(out, want, **TOL)
    np.testing.assert_allclose(same, [np.sum(values["W2"] ** 2)] * 3, **TOL)   # reads no input: repeated
    with pytest.raises(sg.ShapeError, match=r"'x'.*\(B, 6\)"):
        prog.loss(values, {"x": rng.standard_normal((3, D + 1)), "y": yb})
    with pytest.raises(sg.ShapeError, match="'y'.*examples"):
        prog.loss(values, {"x": xb, "y": np.array([0, 1])})
    with pytest.raises(sg.LabelRangeError, match="'y'"):
        prog.loss(values, {"x": xb, "y": np.array([0, 4, 1])})


def test_mlp_as_a_torch_layer():
    rng = np.random.default_rng(9)
    prog = sg.compile(sg.cross_entropy(logits, y), MLP, [x, y], outputs=[logits], dtype="float64")
    values = _values(rng, MLP)
    xb, yb = rng.standard_normal((5, D)), rng.integers(0, C, 5)
    layer = prog.as_torch(values)
    assert tuple(layer(torch.tensor(xb)).shape) == (5, C)          # the outputs, batch axis first
    loss = layer.loss(torch.tensor(xb), torch.tensor(yb))
    loss.backward()
    assert loss.item() == pytest.approx(prog.loss(values, {"x": xb, "y": yb}), rel=1e-6)
    want = prog.grad(values, {"x": xb, "y": yb})
    for name, p in layer.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), want[name], rtol=1e-5, atol=1e-6)


def test_mlp_trains_with_sg_train():
    rng = np.random.default_rng(2)
    prog = sg.compile(sg.cross_entropy(logits, y), MLP, [x, y], optimizer=sg.optim.Adam(lr=0.05),
                      dtype="float64")
    xs = rng.standard_normal((64, D))
    ys = (xs[:, 0] > 0).astype(int) + 2 * (xs[:, 1] > 0)            # 4 separable classes
    values = _values(rng, MLP)
    before = prog.loss(values, {"x": xs, "y": ys})
    hist = sg.train(prog, {"x": xs, "y": ys}, values=values, epochs=30, batch_size=16, progress=False)
    assert prog.loss(hist.values, {"x": xs, "y": ys}) < 0.5 * before


# ---------------------------------------------------------------------------------------------------
# a small conv layer: one image (3, 8, 8), a batch of one made with x[None]


def test_conv_layer_equals_the_loop_and_torch():
    rng = np.random.default_rng(3)
    img, w, bias = sg.tensor("img", (3, 8, 8)), sg.tensor("w", (4, 3, 3, 3)), sg.tensor("bias", (4,))
    h = sg.relu(sg.conv2d(img[None], w, bias, padding=1))
    loss = sg.sum(sg.max_pool2d(h, 2) ** 2) / 10

    def torch_conv(t, xs):
        z = F.max_pool2d(torch.relu(F.conv2d(xs["img"], t["w"], t["bias"], padding=1)), 2)
        return (z ** 2).sum((1, 2, 3)) / 10

    batch = {"img": rng.standard_normal((3, 3, 8, 8))}
    _agree(loss, [w, bias], [img], _values(rng, [w, bias]), batch, torch_conv)


def test_a_gradient_penalty_through_conv_pool_and_slice_equals_the_loop_and_torch():
    """sg.grad of a per-example expression inside the loss (double backprop): the batched graph then
    holds the adjoints — the flipped-kernel convolution, fold (max-pool's, with its argmax), pad."""
    img, w = sg.tensor("img", (2, 7, 7)), sg.tensor("w", (3, 2, 3, 3))
    f = sg.sum(sg.max_pool2d(sg.tanh(sg.conv2d(img[None], w, stride=2)), 2)[:, :2] ** 2)
    loss = f + sg.sum(sg.grad(f, img) ** 2)

    def torch_penalty(t, xs):
        xi = xs["img"].requires_grad_(True)
        ft = F.max_pool2d(torch.tanh(F.conv2d(xi, t["w"], stride=2)), 2)[:, :2] ** 2
        (gx,) = torch.autograd.grad(ft.sum(), xi, create_graph=True)
        return ft.sum((1, 2, 3)) + (gx ** 2).sum((1, 2, 3))

    rng = np.random.default_rng(6)
    _agree(loss, [w], [img], _values(rng, [w], 1.0), {"img": rng.standard_normal((4, 2, 7, 7))}, torch_penalty)


def test_batched_products_permutes_flips_and_broadcasts_equal_the_loop_and_torch():
    x3, P = sg.tensor("x3", (2, 3, 4)), sg.tensor("P", (2, 4, 5))
    s, c = sg.tensor("s", ()), sg.tensor("c", (3,))
    z = sg.flip((x3 @ P).transpose(2, 0, 1), (0,))                  # (5, 2, 3)
    loss = sg.sum(sg.tanh(z) * (sg.broadcast(s, (3,)) * c))

    def torch_3d(t, xs):
        zz = (xs["x3"] @ t["P"]).permute(0, 3, 1, 2).flip(1)
        return (torch.tanh(zz) * (xs["s"][:, None, None, None] * t["c"])).sum((1, 2, 3))

    rng = np.random.default_rng(7)
    batch = {"x3": rng.standard_normal((4, 2, 3, 4)), "s": rng.standard_normal(4)}
    _agree(loss, [P, c], [x3, s], _values(rng, [P, c]), batch, torch_3d)


def test_a_kernel_that_depends_on_the_example_is_refused_in_the_declarations_words():
    img, w, s = sg.tensor("img", (1, 5, 5)), sg.tensor("w", (2, 1, 3, 3)), sg.tensor("s", ())
    with pytest.raises(sg.UnsupportedError, match=r"conv2d.*no batch rule.*kernel depends on the example.*"
                                                   r"over the batch.*sp.Symbol\('N'"):
        sg.compile(sg.sum(sg.conv2d(img[None], w * s)), [w], [img, s])


# ---------------------------------------------------------------------------------------------------
# axis sums, layer norm, softmax, a batched product of two per-example values, max over an axis

T_, E = 5, 4
seq, Wq, v = sg.tensor("seq", (T_, E)), sg.tensor("Wq", (E, E)), sg.tensor("v", (E,))


def test_attention_layer_with_axis_reductions_equals_the_loop_and_torch():
    h = seq @ Wq                                                                    # (T, E)
    ln = (h - sg.mean(h, axis=1, keepdims=True)) / sp.sqrt(sg.var(h, axis=1, keepdims=True) + 1e-5)
    att = sg.softmax(ln @ ln.T / 2, axis=-1)                                        # (T, T)
    loss = sg.sum(sg.max(att @ ln, axis=0) * v) + sg.logsumexp(sg.sum(ln, axis=0))

    def torch_att(t, xs):
        hh = xs["seq"] @ t["Wq"]
        l_ = (hh - hh.mean(2, keepdim=True)) / torch.sqrt(hh.var(2, unbiased=False, keepdim=True) + 1e-5)
        a = torch.softmax(l_ @ l_.transpose(1, 2) / 2, dim=-1)
        return ((a @ l_).max(1).values * t["v"]).sum(1) + torch.logsumexp(l_.sum(1), dim=1)

    rng = np.random.default_rng(4)
    batch = {"seq": rng.standard_normal((4, T_, E))}
    _agree(loss, [Wq, v], [seq], _values(rng, [Wq, v]), batch, torch_att)


# ---------------------------------------------------------------------------------------------------
# movement: reshape, slices with steps, a transpose of axes, concat, an embedding at per-example
# indices, a take of the example's own values at its indices; and a scalar Symbol input


def test_slicing_reshape_and_indices_equal_the_loop_and_torch():
    V = 7
    flat, idx = sg.tensor("flat", (12,)), sg.tensor("idx", (2,), integer=True)
    Emb, U = sg.tensor("Emb", (V, 3)), sg.tensor("U", (4, 3))
    weight = sp.Symbol("weight")                                 # a plain Symbol: one number per example
    m = flat.reshape(3, 4)                                       # (3, 4)
    parts = sg.concat([m[:, 1:3], m[:, ::2]], axis=0)            # (6, 2)
    rows = sg.embedding(Emb, idx)                                # (2, 3)
    picked = sg.take(m, idx, axis=1)                             # the example's own columns: (3, 2)
    mixed = (m.transpose(1, 0) @ U[:3, :]) * sg.sum(rows, axis=0)   # (4, 3)
    loss = weight * (sg.sum(sg.tanh(parts) ** 2) + sg.sum(mixed ** 2) / 10 + sg.sum(picked @ rows))

    def torch_move(t, xs):
        mm = xs["flat"].reshape(-1, 3, 4)
        i = xs["idx"].long()
        pr = torch.cat([mm[:, :, 1:3], mm[:, :, ::2]], dim=1)
        r = t["Emb"][i]                                                       # (B, 2, 3)
        pk = torch.gather(mm, 2, i[:, None, :].expand(-1, 3, -1))             # (B, 3, 2)
        mx = (mm.transpose(1, 2) @ t["U"][:3, :]) * r.sum(1)[:, None, :]
        return xs["weight"] * ((torch.tanh(pr) ** 2).sum((1, 2)) + (mx ** 2).sum((1, 2)) / 10
                               + (pk @ r).sum((1, 2)))

    rng = np.random.default_rng(5)
    batch = {"flat": rng.standard_normal((5, 12)), "idx": rng.integers(0, 4, (5, 2)),
             "weight": rng.random(5) + 0.5}
    values = _values(rng, [Emb, U])
    prog = _agree(loss, [Emb, U], [flat, idx, weight], values, batch, torch_move)
    # the take of the example's own values is a one-hot product: indices 0 ... 3, checked first
    with pytest.raises(sg.LabelRangeError, match="'idx'.*0 ... 3"):
        prog.loss(values, {**batch, "idx": np.array([[0, 1]] * 4 + [[0, -1]])})


def test_a_scatter_add_at_per_example_indices_is_refused_in_the_declarations_words():
    E, idx = sg.tensor("E", (6, 3)), sg.tensor("idx", (2,), integer=True)
    penalty = sg.sum(sg.grad(sg.sum(sg.tanh(sg.embedding(E, idx))), E) ** 2)   # holds scatter_add(·, idx)
    with pytest.raises(sg.UnsupportedError, match=r"gradient of take / embedding.*indices that differ from "
                                                   r"example to example.*over the batch"):
        sg.compile(penalty, [E], [idx])


def test_indices_shared_by_every_example_equal_the_loop_and_torch():
    """Indices computed from a parameter (an argmax) are the same for every example: take reads the
    batched values at them, and the gradient of that take (in the penalty) is a scatter-add."""
    from symgrad.frontend.tensor import argmax
    xs, v, u = sg.tensor("xs", (3, 4)), sg.tensor("v", (2, 3)), sg.tensor("u", (4,))
    i = argmax(v, axis=1)                                                 # (2,)
    loss = sg.sum(sg.tanh(sg.take(xs, i, axis=0)) * u) \
        + sg.sum(sg.grad(sg.sum(sg.take(xs * xs, i, axis=0) * u), xs) ** 2)

    def torch_shared(t, b):
        xi = b["xs"].requires_grad_(True)
        k = t["v"].argmax(1)
        (g,) = torch.autograd.grad(((xi * xi)[:, k] * t["u"]).sum(), xi, create_graph=True)
        return (torch.tanh(xi[:, k]) * t["u"]).sum((1, 2)) + (g ** 2).sum((1, 2))

    rng = np.random.default_rng(8)
    values = {"v": np.array([[0.0, 2, 1], [3, 0, 0]]), "u": rng.standard_normal(4)}
    _agree(loss, [u, v], [xs], values, {"xs": rng.standard_normal((5, 3, 4))}, torch_shared)


def test_a_matrix_symbol_among_tensors_is_refused_clearly():
    M = sp.MatrixSymbol("M", 3, 1)
    with pytest.raises(sg.UnsupportedError, match=r"'M' is a MatrixSymbol.*sg.tensor\('M', \(3, 1\)\)"):
        sg.compile(sg.sum(x), [W1], [x, M])


def test_what_either_kind_refuses_of_its_parameters():
    k = sg.tensor("k", (2,), integer=True)
    with pytest.raises(sg.ArgumentError, match="'k' is an integer tensor"):
        sg.compile(sg.sum(sg.embedding(W1, k)), [k], [x])                     # per example
    N = sp.Symbol("N", integer=True, positive=True)
    with pytest.raises(sg.UnsupportedError, match=r"parameter 'wN'.*shape must be numbers"):
        sg.compile(sg.sum(sg.tensor("xN", (N,)) * sg.tensor("wN", (N,))), [sg.tensor("wN", (N,))],
                   [sg.tensor("xN", (N,))])                                    # over the batch


def test_the_kernel_backends_name_what_they_cannot_run_per_example():
    # per-example tensors compile for target='triton' (tests/codegen/test_triton_tensors.py; a max
    # over an axis too, test_triton_max.py; slices, test_triton_value_slices.py); an outer product of
    # an example's vectors (a matrix per example) has no kernel form yet, and is named in the
    # declaration's words
    with pytest.raises(sg.UnsupportedError, match=r"target='triton'.*`tanh\(W1 @ x\)\.reshape\(5, 1\)\*x\.reshape"
                                                  r"\(1, 6\)`.*matrix per example.*target='numpy'"):
        sg.compile(sg.sum(sg.tanh(W1 @ x)[:, None] * x[None, :]), [W1], [x], target="triton")


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_the_generated_module_says_it_is_per_example_and_prints_B(reduction):
    prog = sg.compile(sg.cross_entropy(logits, y), MLP, [x, y], dtype="float64", reduction=reduction)
    src = prog.source
    assert "Declared per example" in src and "Declared over the batch" not in src
    assert f"the loss is the {reduction} over B of the per-example loss" in src
    assert f"'x'  (d0, {D})  (one example: ({D},))" in src                 # the input, with and without B
    assert "_B" not in src                                                   # the Dummy's own printing
    assert re.search(rf": \(B, {H}\)\n", src)                                # shapes in the comments
    assert ("/B]" in src) == (reduction == "mean")                           # the mean's 1/B in a formula
    assert "mean over N" not in src                                          # no whole-batch wording
    # the whole-batch declaration keeps its header
    Nb = sp.Symbol("N", integer=True, positive=True)
    xb, wb = sg.tensor("xb", (Nb, 3)), sg.tensor("wb", (3,))
    whole = sg.compile(sg.mean((xb @ wb) ** 2), [wb], [xb]).source
    assert "Declared over the batch" in whole and "Declared per example" not in whole


def test_a_scalar_input_called_B_is_not_the_batch_size():
    Bs, v = sp.Symbol("B"), sg.tensor("v", (3,))
    prog = sg.compile(sg.sum(v * x[:3]) * Bs, [v], [x, Bs], dtype="float64", reduction="sum")
    xs, bs = np.arange(2 * D, dtype=float).reshape(2, D), np.array([10.0, -1.0])
    assert prog.loss({"v": np.ones(3)}, {"x": xs, "B": bs}) == pytest.approx(3 * 10 - 21)
