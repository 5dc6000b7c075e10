"""``as_torch()`` of ``target="numpy"`` programs declared with ``sg.tensor``, per example and over the
batch (a symbolic N), against torch.autograd on the same network written in torch (float64).

For each layer kind (dense, axis sums, row-wise softmax, class labels and cross-entropy, embeddings,
slices, an example's own entries at its indices and a concatenation, convolution and pooling): the
outputs ``module(x)``, their backward under random cotangents (the parameters' gradients and the
float inputs'), the fused ``module.loss`` and its backward, and both under ``torch.no_grad()`` and
in eval mode. Until 2026-11-30 (fourth session)
the outputs' backward failed with "the NumPy backend has no rule for the primitive 'reshape'" (its
VJP went through the matrix writer) and input gradients were an error.
"""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")
F = torch.nn.functional

N = sp.Symbol("N", integer=True, positive=True)
B, D, H, C, L = 5, 4, 6, 3, 3


def _x(each, name, shape, integer=False):
    """One example's tensor (``each``), or the batch's: N first."""
    return sg.tensor(name, tuple(shape) if each else (N,) + tuple(shape), integer=integer)


def _reduce(each, rows):
    """The loss: one example's, or the mean of the per-row losses over the batch."""
    return rows if each else sg.mean(rows)


# Each case: (declaration(each) -> (loss, params, inputs, outputs),
#             {input name: (per-example shape, "float" | number of classes)},
#             torch(P, X) -> (outputs, loss)), P and X dicts of float64 tensors (labels: int64).
def dense(each):
    x, t = _x(each, "x", (D,)), _x(each, "t", (C,))
    W1, b1, W2 = sg.tensor("W1", (D, H)), sg.tensor("b1", (H,)), sg.tensor("W2", (H, C))
    out = sg.relu(x @ W1 + b1) @ W2
    return _reduce(each, sg.sum((out - t) ** 2, axis=-1)), [W1, b1, W2], [x, t], [out]


def dense_torch(P, X):
    out = torch.relu(X["x"] @ P["W1"] + P["b1"]) @ P["W2"]
    return [out], ((out - X["t"]) ** 2).sum(-1).mean()


def axis_sums(each):
    x = _x(each, "x", (L, D))
    W = sg.tensor("W", (D, H))
    h = sp.tanh(x @ W)                                  # (…, L, H)
    pooled = sg.sum(h, axis=-2)                         # Σ over the L rows
    return _reduce(each, sg.sum(pooled ** 2, axis=-1) + sg.mean(h, axis=(-2, -1))), [W], [x], [pooled]


def axis_sums_torch(P, X):
    h = torch.tanh(X["x"] @ P["W"])
    pooled = h.sum(-2)
    return [pooled], ((pooled ** 2).sum(-1) + h.mean((-2, -1))).mean()


def softmax_rows(each):
    x, t = _x(each, "x", (D,)), _x(each, "t", (C,))
    W, b = sg.tensor("W", (D, C)), sg.tensor("b", (C,))
    p = sg.softmax(x @ W + b, axis=-1)
    return _reduce(each, sg.sum((p - t) ** 2, axis=-1)), [W, b], [x, t], [p]


def softmax_rows_torch(P, X):
    p = torch.softmax(X["x"] @ P["W"] + P["b"], -1)
    return [p], ((p - X["t"]) ** 2).sum(-1).mean()


def labels(each):
    x, y = _x(each, "x", (D,)), _x(each, "y", (), integer=True)
    W1, W2, b2 = sg.tensor("W1", (D, H)), sg.tensor("W2", (H, C)), sg.tensor("b2", (C,))
    z = sp.tanh(x @ W1) @ W2 + b2
    return sg.cross_entropy(z, y), [W1, W2, b2], [x, y], [z]


def labels_torch(P, X):
    z = torch.tanh(X["x"] @ P["W1"]) @ P["W2"] + P["b2"]
    return [z], F.cross_entropy(z, X["y"])


def embedding(each):
    ids, t = _x(each, "ids", (L,), integer=True), _x(each, "t", (C,))
    E, W = sg.tensor("E", (7, D)), sg.tensor("W", (D, C))
    bag = sg.mean(sg.embedding(E, ids), axis=-2)        # (…, D): the mean of the L rows
    out = bag @ W
    return _reduce(each, sg.sum((out - t) ** 2, axis=-1)), [E, W], [ids, t], [out]


def embedding_torch(P, X):
    out = P["E"][X["ids"]].mean(-2) @ P["W"]
    return [out], ((out - X["t"]) ** 2).sum(-1).mean()


def slices(each):
    x = _x(each, "x", (2 * D,))
    W = sg.tensor("W", (D, C))
    head, odd = (x[:D], x[1::2]) if each else (x[:, :D], x[:, 1::2])
    out = sp.sin(head @ W) * (odd @ W)
    return _reduce(each, sg.sum(out ** 2, axis=-1)), [W], [x], [out]


def slices_torch(P, X):
    x = X["x"]
    out = torch.sin(x[:, :D] @ P["W"]) * (x[:, 1::2] @ P["W"])
    return [out], (out ** 2).sum(-1).mean()


def cnn(each):
    img, y = _x(each, "img", (1, 6, 6)), _x(each, "y", (), integer=True)
    w, b = sg.tensor("w", (2, 1, 3, 3)), sg.tensor("b", (2,))
    W2 = sg.tensor("W2", (2 * 2 * 2, C))
    h = sg.max_pool2d(sg.relu(sg.conv2d(img[None] if each else img, w, b)), 2)     # (…, 2, 2, 2)
    pooled = sg.avg_pool2d(h, 2)                                                   # (…, 2, 1, 1)
    z = (h.reshape(1, 8) if each else h.reshape(N, 8)) @ W2
    z = z[0] if each else z
    return sg.cross_entropy(z, y), [w, b, W2], [img, y], [z, pooled[0] if each else pooled]


def cnn_torch(P, X):
    h = F.max_pool2d(torch.relu(F.conv2d(X["img"], P["w"], P["b"])), 2)
    z = h.reshape(-1, 8) @ P["W2"]
    return [z, F.avg_pool2d(h, 2)], F.cross_entropy(z, X["y"])


def take_concat(each):
    x, k = _x(each, "x", (D,)), _x(each, "k", (2,), integer=True)
    W, V = sg.tensor("W", (D, H)), sg.tensor("V", (H + 2, C))
    h = sp.tanh(x @ W)                                              # (…, H)
    picked = sg.take_along_axis(h, k, axis=-1)                      # (…, 2): each example's own entries
    out = sg.concat([h, picked], axis=-1) @ V
    return _reduce(each, sg.sum(out ** 2, axis=-1)), [W, V], [x, k], [out, picked]


def take_concat_torch(P, X):
    h = torch.tanh(X["x"] @ P["W"])
    picked = torch.gather(h, 1, X["k"])
    out = torch.cat([h, picked], -1) @ P["V"]
    return [out, picked], (out ** 2).sum(-1).mean()


CASES = {
    "dense": (dense, {"x": (D,), "t": (C,)}, dense_torch),
    "axis_sums": (axis_sums, {"x": (L, D)}, axis_sums_torch),
    "softmax_rows": (softmax_rows, {"x": (D,), "t": (C,)}, softmax_rows_torch),
    "labels_cross_entropy": (labels, {"x": (D,), "y": C}, labels_torch),
    "embedding": (embedding, {"ids": 7, "t": (C,)}, embedding_torch),
    "slices": (slices, {"x": (2 * D,)}, slices_torch),
    "take_concat": (take_concat, {"x": (D,), "k": H}, take_concat_torch),
    "conv_pool": (cnn, {"img": (1, 6, 6), "y": C}, cnn_torch),
}
LABEL_SHAPES = {"y": (), "ids": (L,), "k": (2,)}


def _build(case, each):
    decl, inputs, twin = CASES[case]
    loss, params, xs, outs = decl(each)
    prog = sg.compile(loss, params, xs, outputs=outs, target="numpy", dtype="float64")
    g = torch.Generator().manual_seed(11)
    module = prog.as_torch()
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.5)
    batch = {}
    for name, what in inputs.items():
        if isinstance(what, int):       # class labels or ids: 0 … what − 1
            batch[name] = torch.randint(0, what, (B,) + LABEL_SHAPES[name], generator=g)
        else:
            batch[name] = torch.randn((B,) + what, generator=g)
    return module, [x.name for x in xs], batch, twin


def _oracle(module, names, batch, twin, cotangents=None):
    """torch.autograd in float64 of the same network: (outputs, loss, {name: gradient}) — of
    Σ⟨cotangent, output⟩ when ``cotangents`` are given, else of the loss."""
    P = {n: module.parameter(n).detach().double().requires_grad_(True) for n in module.names}
    X = {n: (batch[n].double().requires_grad_(True) if batch[n].is_floating_point() else batch[n]) for n in names}
    outs, loss = twin(P, X)
    root = loss if cotangents is None else sum((o * c.double()).sum() for o, c in zip(outs, cotangents))
    root.backward()
    grads = {n: t.grad for n, t in list(P.items()) + list(X.items()) if t.is_floating_point()}
    return [o.detach() for o in outs], loss.detach(), grads


def _module_grads(module, names, batch):
    got = {n: module.parameter(n).grad for n in module.names}
    got.update({n: batch[n].grad for n in names if batch[n].is_floating_point()})
    return got


def _close(got, want, what):
    if want is None:            # an input the result does not read: no gradient either way
        assert got is None, what
        return
    assert got is not None, what
    torch.testing.assert_close(got.double(), want.double(), rtol=2e-5, atol=2e-6, msg=lambda m: f"{what}: {m}")


def _leaf_batch(batch):
    return {n: (v.clone().requires_grad_(True) if v.is_floating_point() else v) for n, v in batch.items()}


@pytest.mark.parametrize("each", [True, False], ids=["per_example", "over_the_batch"])
@pytest.mark.parametrize("case", list(CASES))
def test_outputs_loss_and_their_backward_equal_torch(case, each):
    module, names, batch, twin = _build(case, each)
    # the outputs and their backward under random cotangents: parameters and float inputs
    xb = _leaf_batch(batch)
    outs = module(*[xb[n] for n in names])
    outs = list(outs) if isinstance(outs, tuple) else [outs]
    g = torch.Generator().manual_seed(5)
    cots = [torch.randn(o.shape, generator=g) for o in outs]
    sum((o * c).sum() for o, c in zip(outs, cots)).backward()
    want_outs, want_loss, want = _oracle(module, names, batch, twin, cots)
    for k, (o, w) in enumerate(zip(outs, want_outs)):
        _close(o.detach(), w, f"output {k}")
    for n, gr in _module_grads(module, names, xb).items():
        _close(gr, want[n], f"d<cotangent, outputs>/d{n}")
    # the fused loss and its backward
    module.zero_grad()
    xb = _leaf_batch(batch)
    loss = module.loss(*[xb[n] for n in names])
    loss.backward()
    _, want_loss, want = _oracle(module, names, batch, twin)
    _close(loss.detach(), want_loss, "loss")
    for n, gr in _module_grads(module, names, xb).items():
        _close(gr, want[n], f"dloss/d{n}")
    # without a gradient, and in eval mode (no dropout here: the same values)
    for mode in ("no_grad", "eval"):
        module.train(mode != "eval")
        with torch.no_grad() if mode == "no_grad" else torch.enable_grad():
            outs = module(*[batch[n] for n in names])
            loss = module.loss(*[batch[n] for n in names])
        outs = list(outs) if isinstance(outs, tuple) else [outs]
        for k, (o, w) in enumerate(zip(outs, want_outs)):
            _close(o.detach(), w, f"output {k} ({mode})")
        _close(loss.detach(), want_loss, f"loss ({mode})")


def test_labels_may_be_given_by_name_and_as_arrays():
    """Inputs by name; labels as an int64 tensor or a NumPy array: the same loss."""
    module, names, batch, _ = _build("labels_cross_entropy", True)
    a = module.loss(x=batch["x"], y=batch["y"])
    b = module.loss(batch["x"], batch["y"].numpy())
    assert a.item() == b.item()


@pytest.mark.parametrize("matrix", [False, True], ids=["tensor", "MatrixSymbol"])
def test_per_example_output_that_reads_no_input_is_repeated_over_the_batch(matrix):
    """An output of the parameters alone (Σ over W's rows) is one value per example, repeated as
    `PerExampleProgram.forward` repeats it (a MatrixSymbol column as rows, as the batched outputs
    are; its backward was a ShapeError); its backward sums the B cotangents (torch's expand)."""
    if matrix:
        x, Wm = sp.MatrixSymbol("x", D, 1), sp.MatrixSymbol("W", C, D)
        outs, loss, params = [Wm * x, Wm * sp.ones(D, 1)], sg.mse(Wm * x, sp.zeros(C, 1)), [Wm]
    else:
        x, W = sg.tensor("x", (D,)), sg.tensor("W", (D, C))
        outs, loss, params = [x @ W, sg.sum(W, axis=0)], sg.sum((x @ W) ** 2), [W]
    prog = sg.compile(loss, params, [x], outputs=outs, dtype="float64")
    module = prog.as_torch()
    g = torch.Generator().manual_seed(2)
    with torch.no_grad():
        module.W.copy_(torch.randn(module.W.shape, generator=g))      # (C, D) for the MatrixSymbol
    X = torch.randn(B, D, generator=g)
    xw, colsum = module(X)
    assert colsum.shape == (B, C)
    G1, G2 = torch.randn(B, C, generator=g), torch.randn(B, C, generator=g)
    ((xw * G1).sum() + (colsum * G2).sum()).backward()
    Wd = module.W.detach().double().requires_grad_(True)
    Wt = Wd.T if matrix else Wd                      # (D, C) in both: x @ Wt
    want = Wt.sum(0).expand(B, C)
    _close(colsum.detach(), want.detach(), "the repeated output")
    _close(xw.detach(), X.double() @ Wt.detach(), "the batched output")
    ((X.double() @ Wt * G1.double()).sum() + (want * G2.double()).sum()).backward()
    _close(module.W.grad, Wd.grad, "dV/dW")


@pytest.mark.parametrize("each", [True, False], ids=["per_example", "over_the_batch"])
def test_dropout_after_a_convolution_in_training_mode_backward_equals_central_differences(each):
    """Training mode: the outputs drop (masks from a seed the call draws, the VJP draws the same);
    their backward — the images' gradient and the kernel's — equals central differences of the
    outputs computed again under the same masks (the generated forward with dropout on, given a
    generator seeded with that seed)."""
    img = _x(each, "img", (1, 6, 6))
    y = _x(each, "y", (), integer=True)
    w, W2 = sg.tensor("w", (2, 1, 3, 3)), sg.tensor("W2", (8, C))
    h = sg.max_pool2d(sg.dropout(sg.relu(sg.conv2d(img[None] if each else img, w)), 0.4), 2)
    z = (h.reshape(1, 8) @ W2)[0] if each else h.reshape(N, 8) @ W2
    prog = sg.compile(sg.cross_entropy(z, y), [w, W2], [img, y], outputs=[z], dtype="float64")
    module = prog.as_torch().double().train()
    g = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float64))
    X = torch.randn(4, 1, 6, 6, generator=g, dtype=torch.float64, requires_grad=True)
    at = prog.rng.bit_generator.state
    out = module(X)
    G = torch.randn(out.shape, generator=g, dtype=torch.float64)
    (out * G).sum().backward()
    prog.rng.bit_generator.state = at
    seed = int(prog.rng.integers(2 ** 31))          # the seed the call drew
    forward = module._kernel("forward_dropout")

    def V(x, w_):
        (o,) = forward([w_, module.W2.detach().numpy()], [x], np.random.default_rng(seed))
        return float((o * G.numpy()).sum())

    x0, w0 = X.detach().numpy(), module.w.detach().numpy()
    assert np.allclose(forward([w0, module.W2.detach().numpy()], [x0], np.random.default_rng(seed))[0],
                       out.detach().numpy())
    plain = module.eval()(X).detach()
    assert not torch.allclose(plain, out.detach())            # dropout was on
    eps = 1e-6
    for arr, grad, which in ((x0, X.grad, "x"), (w0, module.w.grad, "w")):
        for idx in [(0, 0, 1, 1), (1, 0, 2, 2), (arr.shape[0] - 1, 0, arr.shape[2] - 1, arr.shape[3] - 1)]:
            up, down = arr.copy(), arr.copy()
            up[idx] += eps
            down[idx] -= eps
            fd = (V(up, w0) - V(down, w0)) if which == "x" else (V(x0, up) - V(x0, down))
            assert abs(fd / (2 * eps) - float(grad[idx])) < 1e-6, (which, idx)
