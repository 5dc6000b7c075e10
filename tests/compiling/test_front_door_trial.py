"""A new user's trial of the tensors-and-batches front door (cs231n / PyTorch habits): real layers
over a batch compiled to NumPy, each compared with torch.autograd in float64, and the mistakes such a
user makes, each refused with a message that names the problem and the fix."""
import numpy as np
import pytest
import sympy as sp
import torch
import torch.nn.functional as F

import symgrad as sg
from symgrad import optim as O
from symgrad.compiling.training import TrainingArgumentError
from symgrad.errors import ShapeError

N = sp.Symbol("N", integer=True, positive=True)
rng = np.random.default_rng(0)


def _layers():
    """(name, loss, params, inputs, values, data, the same loss in torch)."""
    out = []
    # an embedding bag: E[ids].mean(axis=1) @ W, a repeated index in a bag
    ids, y = sg.tensor("ids", (N, 4), integer=True), sg.tensor("y", (N,), integer=True)
    E, W = sg.tensor("E", (20, 5)), sg.tensor("W", (5, 3))
    data = {"ids": rng.integers(0, 20, (9, 4)), "y": rng.integers(0, 3, 9)}
    data["ids"][0, :2] = 3
    out.append(("embedding bag", sg.cross_entropy(E[ids].mean(axis=1) @ W, y), [E, W], [ids, y],
                {"E": rng.normal(size=(20, 5)), "W": rng.normal(size=(5, 3))}, data,
                lambda v, d: F.cross_entropy(v["E"][d["ids"]].mean(1) @ v["W"], d["y"])))
    # slicing and concatenation of features
    x, t = sg.tensor("x", (N, 6)), sg.tensor("t", (N, 2))
    W1, W2 = sg.tensor("W1", (6, 8)), sg.tensor("W2", (11, 2))
    h = x @ W1
    feat = sg.concat([sg.relu(h[:, :4]), sg.tanh(h[:, 4:]), x[:, ::2]], axis=1)

    def sliced(v, d):
        hh = d["x"] @ v["W1"]
        return F.mse_loss(torch.cat([torch.relu(hh[:, :4]), torch.tanh(hh[:, 4:]), d["x"][:, ::2]], 1) @ v["W2"], d["t"])
    out.append(("slice and concat", sg.mse(feat @ W2, t), [W1, W2], [x, t],
                {"W1": rng.normal(size=(6, 8)), "W2": rng.normal(size=(11, 2))},
                {"x": rng.normal(size=(7, 6)), "t": rng.normal(size=(7, 2))}, sliced))
    # a layer norm over the last axis
    Wl, g, b, tl = sg.tensor("Wl", (6, 5)), sg.tensor("g", (5,)), sg.tensor("b", (5,)), sg.tensor("t", (N, 5))
    z = x @ Wl
    ln = g * (z - z.mean(axis=-1, keepdims=True)) / sp.sqrt(sg.var(z, axis=-1, keepdims=True) + 1e-5) + b
    out.append(("layer norm", sg.mse(ln, tl), [Wl, g, b], [x, tl],
                {"Wl": rng.normal(size=(6, 5)), "g": rng.normal(size=5), "b": rng.normal(size=5)},
                {"x": rng.normal(size=(7, 6)), "t": rng.normal(size=(7, 5))},
                lambda v, d: F.mse_loss(F.layer_norm(d["x"] @ v["Wl"], (5,), v["g"], v["b"], 1e-5), d["t"])))
    # conv → relu → max pool on 8×8 images, then a linear layer
    img, k, kb = sg.tensor("img", (N, 1, 8, 8)), sg.tensor("k", (4, 1, 3, 3)), sg.tensor("kb", (4,))
    Wc = sg.tensor("Wc", (64, 3))
    pooled = sg.max_pool2d(sg.relu(sg.conv2d(img, k, kb, padding=1)), 2)

    def conv(v, d):
        p = F.max_pool2d(torch.relu(F.conv2d(d["img"], v["k"], v["kb"], padding=1)), 2)
        return F.cross_entropy(p.reshape(len(p), -1) @ v["Wc"], d["y"])
    out.append(("conv relu pool", sg.cross_entropy(pooled.reshape(-1, 64) @ Wc, y), [k, kb, Wc], [img, y],
                {"k": rng.normal(size=(4, 1, 3, 3)), "kb": rng.normal(size=4), "Wc": rng.normal(size=(64, 3)) * 0.1},
                {"img": rng.normal(size=(5, 1, 8, 8)), "y": rng.integers(0, 3, 5)}, conv))
    # the multiclass SVM loss, as cs231n writes it and as torch's multi_margin_loss
    Ws = sg.tensor("Ws", (6, 3))
    s = x @ Ws
    margins = sg.relu(s - sg.take_along_axis(s, y[:, None], axis=1) + 1) * (1 - sg.one_hot(y, 3))
    svm_data = {"x": rng.normal(size=(8, 6)), "y": rng.integers(0, 3, 8)}

    def svm(v, d):
        sc = d["x"] @ v["Ws"]
        m = torch.clamp(sc - sc.gather(1, d["y"][:, None]) + 1, min=0) * (1 - F.one_hot(d["y"], 3))
        return m.sum() / len(sc)
    out.append(("svm, cs231n", margins.sum() / N, [Ws], [x, y], {"Ws": rng.normal(size=(6, 3))}, svm_data, svm))
    out.append(("svm, multi_margin", sg.multi_margin(s, y), [Ws], [x, y], {"Ws": rng.normal(size=(6, 3))}, svm_data,
                lambda v, d: F.multi_margin_loss(d["x"] @ v["Ws"], d["y"])))
    # L2 in the loss, as cs231n adds it
    W3, b3 = sg.tensor("W3", (6, 3)), sg.tensor("b3", (3,))
    out.append(("l2 in the loss", sg.cross_entropy(sg.relu(x @ W3 + b3), y) + 0.5 * 0.1 * sg.sum(W3 * W3), [W3, b3],
                [x, y], {"W3": rng.normal(size=(6, 3)), "b3": rng.normal(size=3)}, svm_data,
                lambda v, d: F.cross_entropy(torch.relu(d["x"] @ v["W3"] + v["b3"]), d["y"]) + 0.05 * (v["W3"] ** 2).sum()))
    return out


LAYERS = _layers()


@pytest.mark.parametrize("case", LAYERS, ids=[c[0] for c in LAYERS])
def test_loss_and_gradients_equal_torch_autograd_and_training_runs(case):
    name, loss, params, inputs, values, data, torch_loss = case
    prog = sg.compile(loss, params, inputs, target="numpy", dtype="float64", optimizer=O.SGD(lr=0.01))
    tv = {k: torch.tensor(v, requires_grad=True) for k, v in values.items()}
    want = torch_loss(tv, {k: torch.tensor(v) for k, v in data.items()})
    want.backward()
    assert prog.loss(values, data) == pytest.approx(want.item(), rel=1e-12, abs=1e-12)
    got = prog.grad(values, data)
    for k in values:
        np.testing.assert_allclose(got[k], tv[k].grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=f"{name}: {k}")
    h = sg.train(prog, data, epochs=2, batch_size=4, values={k: v.copy() for k, v in values.items()}, progress=False)
    assert h.step == 2 * -(-len(next(iter(data.values()))) // 4) and all(np.isfinite(h.loss))


def _mlp():
    x, y = sg.tensor("x", (N, 6)), sg.tensor("y", (N,), integer=True)
    W1, b1, W2 = sg.tensor("W1", (6, 8)), sg.tensor("b1", (8,)), sg.tensor("W2", (8, 4))
    prog = sg.compile(sg.cross_entropy(sg.relu(x @ W1 + b1) @ W2, y), [W1, b1, W2], [x, y], dtype="float64")
    data = {"x": rng.normal(size=(16, 6)), "y": rng.integers(0, 4, 16)}
    return prog, data


def _conv():
    img, y = sg.tensor("img", (N, 1, 8, 8)), sg.tensor("y", (N,), integer=True)
    k, W = sg.tensor("k", (2, 1, 3, 3)), sg.tensor("W", (32, 3))
    h = sg.max_pool2d(sg.relu(sg.conv2d(img, k, padding=1)), 2)
    return sg.compile(sg.cross_entropy(h.reshape(N, -1) @ W, y), [k, W], [img, y], dtype="float64")


def test_a_missing_input_is_named_before_the_first_step():
    """Was "no value given for the input 'y'; values are keyed by the SymPy symbol or its name",
    raised inside the first step."""
    prog, data = _mlp()
    with pytest.raises(TrainingArgumentError, match=r"data has no array for the input 'y'.*data=\{'x': array, 'y': array\}"):
        sg.train(prog, {"x": data["x"]}, progress=False)


def test_one_hot_rows_for_declared_class_labels_name_argmax():
    prog, data = _mlp()
    with pytest.raises(TrainingArgumentError, match=r"one-hot rows.*data\['y'\]\.argmax\(axis=1\)"):
        sg.train(prog, {"x": data["x"], "y": np.eye(4)[data["y"]]}, progress=False)


def test_labels_in_a_column_name_the_reshape():
    prog, data = _mlp()
    with pytest.raises(TrainingArgumentError, match=r"a column.*data\['y'\]\.reshape\(-1\)"):
        sg.train(prog, {"x": data["x"], "y": data["y"][:, None]}, progress=False)


def test_a_transposed_input_shows_the_shapes():
    prog, data = _mlp()
    with pytest.raises(TrainingArgumentError, match=r"the shapes: 'x' \(6, 16\), 'y' \(16,\)"):
        sg.train(prog, {"x": data["x"].T.copy(), "y": data["y"]}, progress=False)


@pytest.mark.parametrize("layout,fix", [((0, 2, 3, 1), r"transpose\(0, 3, 1, 2\).*channels first"),
                                        ("no channel", r"reshape\(-1, 1, 8, 8\)"), ("flat", r"reshape\(-1, 1, 8, 8\)")])
def test_images_in_another_layout_name_the_transpose_or_reshape(layout, fix):
    images = rng.normal(size=(6, 1, 8, 8))
    bad = {"no channel": images[:, 0], "flat": images.reshape(6, 64)}.get(layout) if isinstance(layout, str) \
        else images.transpose(layout)
    with pytest.raises(TrainingArgumentError, match=rf"data\['img'\] has shape.*{fix}"):
        sg.train(_conv(), {"img": bad, "y": rng.integers(0, 3, 6)}, progress=False)
    h = sg.train(_conv(), {"img": images, "y": rng.integers(0, 3, 6)}, progress=False)    # the right layout trains
    assert h.step == 1


@pytest.mark.parametrize("reduction", ["none", "unreduced scores"])
def test_a_whole_batch_loss_that_is_not_reduced_says_reduce_it_over_the_batch(reduction):
    """Was "the loss must be a scalar per example": a whole-batch declaration has no per example."""
    x, y, W = sg.tensor("x", (N, 6)), sg.tensor("y", (N,), integer=True), sg.tensor("W", (6, 4))
    loss = sg.cross_entropy(x @ W, y, reduction="none") if reduction == "none" else x @ W
    with pytest.raises(ShapeError) as e:
        sg.compile(loss, [W], [x, y] if reduction == "none" else [x])
    assert "per example" not in str(e.value) and "sg.mean" in str(e.value), str(e.value)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adamw_equals_torch(amsgrad):
    """A PyTorch user reaches for AdamW (decoupled weight decay): it was an unknown optimizer."""
    x, y = sg.tensor("x", (N, 6)), sg.tensor("y", (N,), integer=True)
    W, b = sg.tensor("W", (6, 3)), sg.tensor("b", (3,))
    opt = O.AdamW(lr=0.05, weight_decay=0.1, amsgrad=amsgrad)
    prog = sg.compile(sg.cross_entropy(sg.tanh(x @ W + b), y), [W, b], [x, y], dtype="float64", optimizer=opt)
    start = {"W": rng.normal(size=(6, 3)), "b": rng.normal(size=3)}
    tv = {k: torch.tensor(v, requires_grad=True) for k, v in start.items()}
    topt = torch.optim.AdamW(list(tv.values()), lr=0.05, weight_decay=0.1, amsgrad=amsgrad)
    values, state = {k: v.copy() for k, v in start.items()}, None
    for _ in range(6):
        d = {"x": rng.normal(size=(5, 6)), "y": rng.integers(0, 3, 5)}
        values, state = prog.step(values, state, d)
        topt.zero_grad()
        F.cross_entropy(torch.tanh(torch.tensor(d["x"]) @ tv["W"] + tv["b"]), torch.tensor(d["y"])).backward()
        topt.step()
    for k in start:
        np.testing.assert_allclose(values[k], tv[k].detach().numpy(), rtol=1e-10, atol=1e-12, err_msg=k)
    assert O.make("adamw") == O.AdamW() and O.AdamW().weight_decay == 0.01      # torch's default


# (sum and mean take torch's dim= / keepdim= since the eighth session: tests/frontend/test_torch_reduce_keywords.py)
@pytest.mark.parametrize("call", [lambda x: sg.std(x, dim=1), lambda x: x.var(dim=0)])   # (softmax takes dim= now)
def test_torch_keyword_dim_names_numpys_axis(call):
    """x.sum(dim=1), as torch writes it, was a bare TypeError ("unexpected keyword argument 'dim'")."""
    from symgrad.errors import ArgumentError
    with pytest.raises(ArgumentError, match=r"'dim'; did you mean 'axis'\? \(NumPy's name for torch's 'dim'\)"):
        call(sg.tensor("x", (N, 3)))


def test_python_abs_of_a_tensor_is_a_tensor_with_torchs_gradient():
    """abs(b).sum() (an L1 penalty as NumPy code writes it) was AttributeError: 'Abs' object has no
    attribute 'sum'."""
    x, y = sg.tensor("x", (N, 5)), sg.tensor("y", (N,), integer=True)
    W, b = sg.tensor("W", (5, 4)), sg.tensor("b", (4,))
    prog = sg.compile(sg.cross_entropy(x @ W + b, y) + 0.01 * abs(b).sum(), [W, b], [x, y], dtype="float64")
    v = {"W": rng.normal(size=(5, 4)), "b": rng.normal(size=4)}
    d = {"x": rng.normal(size=(6, 5)), "y": rng.integers(0, 4, 6)}
    tv = {k: torch.tensor(a, requires_grad=True) for k, a in v.items()}
    (F.cross_entropy(torch.tensor(d["x"]) @ tv["W"] + tv["b"], torch.tensor(d["y"])) + 0.01 * tv["b"].abs().sum()).backward()
    g = prog.grad(v, d)
    for k in v:
        np.testing.assert_allclose(g[k], tv[k].grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=k)


def test_an_abbreviated_metric_names_the_metric_meant():
    """An abbreviation symgrad does not take names the metric meant; Keras's own 'acc' is read as
    'accuracy' (since the twelfth session), so its error is accuracy's own: this program has no outputs."""
    prog, data = _mlp()
    with pytest.raises(TrainingArgumentError, match=r"unknown metric 'accu' in metrics \(did you mean 'accuracy'\?\)"):
        sg.train(prog, data, metrics=["accu"], progress=False)
    with pytest.raises(TrainingArgumentError, match=r"metrics 'accuracy' compares the program's prediction"):
        sg.train(prog, data, metrics=["acc"], progress=False)
