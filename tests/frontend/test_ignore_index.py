"""torch's ``ignore_index=`` of cross_entropy and nll_loss, compiled to the NumPy target in float64
against torch.autograd (the loss and every gradient) and central differences: the ignored entries
add nothing and the mean divides by the count (or the class weights) of the others; the label
check accepts exactly that one extra value; a batch whose every label is ignored is refused."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import ArgumentError, LabelRangeError, UnsupportedError
from tests.frontend.torch_port import compare_with_torch

torch = pytest.importorskip("torch")
F = torch.nn.functional
N = sp.Symbol("N", integer=True, positive=True)


def _labels(rng, shape, C, ignore, share=0.4):
    y = rng.integers(0, C, shape)
    y[rng.random(shape) < share] = ignore
    y.flat[0] = ignore                           # at least one ignored,
    y.flat[-1] = 1                               # and one kept
    return y


@pytest.mark.parametrize("ignore", [-100, 2])
def test_cross_entropy_whole_batch_equals_torch(ignore):
    rng = np.random.default_rng(abs(ignore))
    x, W, y = sg.tensor("x", (N, 3)), sg.tensor("W", (3, 4)), sg.tensor("y", (N,), integer=True)
    wt = sg.tensor("wt", (4,))
    s = x @ W
    loss = (sg.cross_entropy(s, y, ignore_index=ignore)
            + 0.5 * sg.cross_entropy(s, y, ignore_index=ignore, reduction="sum")
            + 0.25 * sg.cross_entropy(s, y, ignore_index=ignore, weight=wt)
            + 0.125 * sg.nll_loss(sg.log_softmax(s, axis=1), y, ignore_index=ignore, reduction="none").sum())
    data = {"x": rng.normal(size=(7, 3)), "y": _labels(rng, 7, 4, ignore), "wt": rng.random(4) + 0.2}

    def twin(t, d):
        s = d["x"] @ t["W"]
        return (F.cross_entropy(s, d["y"], ignore_index=ignore)
                + 0.5 * F.cross_entropy(s, d["y"], ignore_index=ignore, reduction="sum")
                + 0.25 * F.cross_entropy(s, d["y"], ignore_index=ignore, weight=d["wt"])
                + 0.125 * F.nll_loss(F.log_softmax(s, 1), d["y"], ignore_index=ignore, reduction="none").sum())
    compare_with_torch(torch, (loss, [W], [x, y, wt], {"W": rng.normal(size=(3, 4))}, data, twin), rng)


def test_sequence_labels_classes_on_axis_1_with_weights():
    rng = np.random.default_rng(3)
    x, W, y = sg.tensor("x", (N, 3, 5)), sg.tensor("W", (4, 3)), sg.tensor("y", (N, 5), integer=True)
    s = sg.einsum("ck,nkt->nct", W, x)
    loss = sg.nll_loss(sg.log_softmax(s, axis=1), y, weight=[0.5, 2.0, 1.0, 3.0], ignore_index=-100) \
        + sg.cross_entropy(s, y, axis=1, ignore_index=-100)
    data = {"x": rng.normal(size=(3, 3, 5)), "y": _labels(rng, (3, 5), 4, -100)}
    w = torch.tensor([0.5, 2.0, 1.0, 3.0], dtype=torch.float64)

    def twin(t, d):
        s = torch.einsum("ck,nkt->nct", t["W"], d["x"])
        return F.nll_loss(F.log_softmax(s, 1), d["y"], weight=w) + F.cross_entropy(s, d["y"])     # -100: torch's default
    compare_with_torch(torch, (loss, [W], [x, y], {"W": rng.normal(size=(4, 3))}, data, twin), rng)


def test_per_example_declaration_is_the_mean_of_each_examples_loss():
    """Per example (a sequence of 5 labels each), the declared mean is over that example's kept
    labels, and the program averages the examples: torch's loss per example, then the mean."""
    rng = np.random.default_rng(11)
    x, W, y = sg.tensor("x", (5, 3)), sg.tensor("W", (3, 4)), sg.tensor("y", (5,), integer=True)
    prog = sg.compile(sg.cross_entropy(x @ W, y, ignore_index=-100), [W], [x, y], dtype="float64")
    xs, ys, w = rng.normal(size=(3, 5, 3)), _labels(rng, (3, 5), 4, -100), rng.normal(size=(3, 4))
    ys[:, 0] = 0                                    # every example keeps a label
    tw = torch.tensor(w, requires_grad=True)
    want = torch.stack([F.cross_entropy(torch.tensor(xs[b]) @ tw, torch.tensor(ys[b]), ignore_index=-100)
                        for b in range(3)]).mean()
    want.backward()
    assert abs(prog.loss({"W": w}, {"x": xs, "y": ys}) - want.item()) < 1e-12
    np.testing.assert_allclose(prog.grad({"W": w}, {"x": xs, "y": ys})["W"], tw.grad.numpy(), rtol=1e-10, atol=1e-12)


def _program():
    s, y = sg.tensor("s", (N, 3)), sg.tensor("y", (N,), integer=True)
    W = sg.tensor("W", (3, 3))
    return sg.compile(sg.cross_entropy(s @ W, y, ignore_index=-100), [W], [s, y], dtype="float64")


def test_label_check_accepts_only_the_ignore_index():
    prog, w, s = _program(), {"W": np.eye(3)}, np.ones((2, 3))
    for bad in (-1, 3, -99):
        with pytest.raises(LabelRangeError, match=r"0 \.\.\. 2 \(an axis of 3\) or -100 \(the ignore_index\)"):
            prog.loss(w, {"s": s, "y": np.array([0, bad])})
    assert np.isfinite(prog.loss(w, {"s": s, "y": np.array([-100, 2])}))


def test_another_use_of_the_labels_accepts_no_extra_value():
    s, y, W = sg.tensor("s", (N, 3)), sg.tensor("y", (N,), integer=True), sg.tensor("W", (3, 3))
    loss = sg.cross_entropy(s @ W, y, ignore_index=-100) + sg.cross_entropy(s @ W, y)
    prog = sg.compile(loss, [W], [s, y], dtype="float64")
    with pytest.raises(LabelRangeError, match="is -100: a negative index"):
        prog.loss({"W": np.eye(3)}, {"s": np.ones((2, 3)), "y": np.array([0, -100])})


def test_every_label_ignored_is_refused_clearly():
    with pytest.raises(LabelRangeError, match="every label is the ignore_index -100"):
        _program().grad({"W": np.eye(3)}, {"s": np.ones((2, 3)), "y": np.array([-100, -100])})


def test_bad_ignore_index_and_probabilities_are_refused():
    s, y = sg.tensor("s", (4, 3)), sg.tensor("y", (4,), integer=True)
    with pytest.raises(ArgumentError, match="ignore_index must be a Python integer"):
        sg.cross_entropy(s, y, ignore_index=1.5)
    with pytest.raises(ArgumentError, match="applies to integer labels"):
        sg.cross_entropy(s, sg.tensor("t", (4, 3)), ignore_index=-100)


@pytest.mark.parametrize("whole", [True, False])
def test_the_triton_target_refuses_it_by_name(whole):
    n = N if whole else 5
    s, y, W = sg.tensor("s", (n, 3)), sg.tensor("y", (n,), integer=True), sg.tensor("W", (3, 3))
    with pytest.raises(UnsupportedError,
                       match=r"ignore_index=-100 of sg.cross_entropy / sg.nll_loss is not supported by the kernel "
                             r"backends \(target='triton'\); compile it with target='numpy'"):
        sg.compile(sg.cross_entropy(s @ W, y, ignore_index=-100), [W], [s, y], target="triton")


def test_training_accepts_the_ignored_labels_and_refuses_others():
    """sg.train checks the whole data's labels before the first step: -100 passes, -1 is named."""
    s, y, W = sg.tensor("s", (N, 3)), sg.tensor("y", (N,), integer=True), sg.tensor("W", (3, 3))
    prog = sg.compile(sg.cross_entropy(s @ W, y, ignore_index=-100), [W], [s, y], dtype="float64",
                      optimizer=sg.optim.SGD(lr=0.1))
    rng = np.random.default_rng(0)
    data = {"s": rng.normal(size=(8, 3)), "y": np.array([0, 1, 2, -100, 1, -100, 2, 0])}
    w0 = {"W": rng.normal(size=(3, 3))}
    hist = sg.train(prog, data, epochs=2, batch_size=4, shuffle=False, progress=False, values=dict(w0))
    assert len(hist.loss) == 4 and np.isfinite(hist.loss).all()
    bad = dict(data, y=np.array([0, 1, 2, -1, 1, -100, 2, 0]))
    with pytest.raises(LabelRangeError, match=r"or -100 \(the ignore_index\); entry 3 is -1"):
        sg.train(prog, bad, epochs=1, batch_size=4, progress=False, values=dict(w0))
