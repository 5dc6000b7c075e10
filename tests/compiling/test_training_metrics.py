"""`mean_loss`, the loss metric of `train`: the loss over a whole dataset, as the program gives it
for one batch of all of it, whatever the minibatches it is evaluated in."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.compiling.training import BatchReductionWarning, accuracy, mean_loss


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_mean_loss_over_minibatches_is_the_loss_of_one_batch_of_everything(reduction):
    """Before: a reduction="sum" program's batch sums were weighted by their sizes, as means are:
    (w·x − 1)² with w = 0 over 3000 samples in batches of 1024 gave 1001.2, not 3000."""
    w, x = sp.symbols("w x")
    prog = sg.compile((w * x - 1) ** 2, [w], [x], reduction=reduction, dtype="float64")
    X = np.random.default_rng(0).normal(size=3000)
    per_sample = (0.5 * X - 1) ** 2                                 # by hand
    want = per_sample.sum() if reduction == "sum" else per_sample.mean()
    assert mean_loss(prog, {"w": 0.5}, {"x": X}) == pytest.approx(want, rel=1e-12)
    assert mean_loss(prog, {"w": 0.5}, {"x": X}, batch_size=7) == pytest.approx(want, rel=1e-12)
    assert prog.loss({"w": 0.5}, {"x": X}) == pytest.approx(want, rel=1e-12)


def _whole_batch(reduce):
    N = sp.Symbol("N", integer=True, positive=True)
    x, y, w = sg.tensor("x", (N, 3)), sg.tensor("y", (N,)), sg.tensor("w", (3,))
    return sg.compile(reduce((x @ w - y) ** 2, N), [w], [x, y], dtype="float64")


@pytest.mark.parametrize("how", ["sum", "sum/N", "mean", "batch norm"])
def test_a_whole_batch_loss_summed_over_n_is_summed_over_the_minibatches(how):
    """Before: a whole-batch declaration's loss was always read as a mean over N: sg.sum(...) over
    3000 samples in minibatches of 1024 came out about a third of the loss of all of them."""
    rng = np.random.default_rng(0)
    X, Y, W = rng.normal(size=(3000, 3)), rng.normal(size=3000), np.array([1.0, -0.5, 2.0])
    r = X @ W - Y
    if how == "batch norm":                             # batch statistics: the batch twice over keeps them
        N = sp.Symbol("N", integer=True, positive=True)
        x, y, w = sg.tensor("x", (N, 3)), sg.tensor("y", (N,)), sg.tensor("w", (3,))
        z = x @ w
        prog = sg.compile(sg.mean(((z - sg.mean(z)) / sp.sqrt(sg.var(z) + 1e-5) - y) ** 2), [w], [x, y],
                          dtype="float64")
        z = X @ W
        per_batch = lambda rows: np.mean(((z[rows] - z[rows].mean()) / np.sqrt(z[rows].var() + 1e-5) - Y[rows]) ** 2)
        chunks = [slice(0, 1024), slice(1024, 2048), slice(2048, 3000)]
        want = sum(per_batch(c) * (c.stop - c.start) for c in chunks) / 3000     # weighted as means
    else:
        reduce = {"sum": lambda e, N: sg.sum(e), "sum/N": lambda e, N: sg.sum(e) / N,
                  "mean": lambda e, N: sg.mean(e)}[how]
        prog = _whole_batch(reduce)
        want = (r ** 2).sum() if how == "sum" else (r ** 2).mean()      # by hand
    got = mean_loss(prog, {"w": W}, {"x": X, "y": Y})
    assert got == pytest.approx(want, rel=1e-10)


def test_a_whole_batch_loss_neither_a_mean_nor_a_sum_is_warned_about():
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(3000, 3)), rng.normal(size=3000)
    prog = _whole_batch(lambda e, N: sg.sum(e) / sp.sqrt(N))          # the batch twice over: √2 times
    with pytest.warns(BatchReductionWarning, match="neither a mean nor a sum"):
        mean_loss(prog, {"w": np.ones(3)}, {"x": X, "y": Y})


def _logistic(probability: bool):
    N = sp.Symbol("N", integer=True, positive=True)
    x, y = sg.tensor("x", (N, 2)), sg.tensor("y", (N,))
    w, b = sg.tensor("w", (2,)), sg.tensor("b", ())
    logit = x @ w + b
    out, loss = (sg.sigmoid(logit), sg.bce(sg.sigmoid(logit), y)) if probability else (logit, sg.bce_with_logits(logit, y))
    return sg.compile(loss, [w, b], [x, y], outputs=[out], dtype="float64", optimizer=sg.optim.SGD(lr=0.0))


@pytest.mark.parametrize("probability", [False, True])
def test_accuracy_by_name_reads_a_logit_at_0_and_a_probability_at_0_5(probability):
    """Before: "accuracy" thresholded every single output at 0.5, logits too: a logit of 0.3 (a
    probability of 0.57) was read as class 0."""
    prog = _logistic(probability)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 2))
    y = (X[:, 0] + 0.3 * rng.normal(size=400) > 0).astype(float)
    values = {"w": np.array([1.5, 0.0]), "b": np.array(0.4)}
    z = X @ values["w"] + values["b"]                               # the logits, by hand
    want = np.mean((z > 0) == (y > 0.5))
    assert 0.6 < want < 0.95 and np.mean((z > 0.5) == (y > 0.5)) != want   # the two readings differ here
    h = sg.train(prog, {"x": X, "y": y}, epochs=1, progress=False, metrics=["accuracy"], values=values)  # lr 0
    assert h.epochs[0]["train_accuracy"] == pytest.approx(want)
    from symgrad.compiling.training import accuracy
    assert accuracy("y")(prog, values, {"x": X, "y": y}) == pytest.approx(want)
    # an explicit threshold is the user's: 0.5 on a logit reads it as before
    assert accuracy("y", threshold=0.5)(prog, values, {"x": X, "y": y}) == pytest.approx(
        np.mean(((z if not probability else 1 / (1 + np.exp(-z))) > 0.5) == (y > 0.5)))


def test_metrics_of_the_same_name_are_all_kept():
    """Before: two lambdas were both "<lambda>", and the second replaced the first silently; a
    function named loss replaced the "loss" given beside it."""
    w, x = sp.symbols("w x")
    prog = sg.compile((w * x - 1) ** 2, [w], [x], dtype="float64")

    def loss(program, values, data):
        return 7.0
    h = sg.train(prog, {"x": np.ones(8)}, epochs=1, batch_size=4, progress=False, values={"w": 0.0},
                 metrics=["loss", lambda p, v, d: 1.0, lambda p, v, d: 2.0, loss])
    rec = h.epochs[0]
    assert (rec["train_lambda"], rec["train_lambda_1"], rec["train_loss_1"]) == (1.0, 2.0, 7.0)
    assert rec["train_loss"] == pytest.approx((float(h.values["w"]) - 1) ** 2)     # mean_loss, by hand


def _regression(outputs: int):
    W, x, y = sp.MatrixSymbol("W", outputs, 3), sp.MatrixSymbol("x", 3, 1), sp.MatrixSymbol("y", outputs, 1)
    return sg.compile(sg.mse(W * x, y), [W], [x, y], outputs=[W * x], dtype="float64")


@pytest.mark.parametrize("outputs", [1, 2])
def test_accuracy_of_a_regression_is_refused_naming_what_the_labels_must_be(outputs):
    """Before: metrics=["accuracy"] on a linear regression counted y > 0.5 (one output) or the arg-max
    of real targets (two) as classes: "train_accuracy 0.6133" for a model with no classes."""
    prog = _regression(outputs)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3))
    Y = X @ rng.normal(size=(3, outputs)) * 3
    with pytest.raises(sg.SymgradError, match="a regression's targets have no accuracy") as e:
        sg.train(prog, {"x": X, "y": Y}, epochs=1, progress=False, metrics=["accuracy"])
    assert "the input 'y' must hold" in str(e.value)


@pytest.mark.parametrize("labels", ["one-hot", "smoothed", "indices", "0/1", "±1"])
def test_accuracy_still_takes_every_kind_of_class_label(labels):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 3))
    k = (X[:, 0] > 0).astype(int)
    if labels in ("0/1", "±1"):
        N = sp.Symbol("N", integer=True, positive=True)
        x, y, w = sg.tensor("x", (N, 3)), sg.tensor("y", (N,)), sg.tensor("w", (3,))
        prog = sg.compile(sg.mse(x @ w, y), [w], [x, y], outputs=[x @ w], dtype="float64")
        Y = k if labels == "0/1" else 2 * k - 1
        want = 1.0                                     # x @ w is a logit, read at 0: x0 > 0
        values = {"w": np.array([1.0, 0, 0])}
    else:
        N = sp.Symbol("N", integer=True, positive=True)
        x, w = sg.tensor("x", (N, 3)), sg.tensor("w", (3, 2))
        y = sg.tensor("y", (N,), integer=True) if labels == "indices" else sg.tensor("y", (N, 2))
        prog = sg.compile(sg.cross_entropy(x @ w, y), [w], [x, y], outputs=[x @ w], dtype="float64")
        Y = k if labels == "indices" else np.eye(2)[k] * (0.9 if labels == "smoothed" else 1) + (
            0.05 if labels == "smoothed" else 0)
        values = {"w": np.array([[-1.0, 1.0], [0, 0], [0, 0]])}
        want = 1.0                                     # the arg-max of (−x0, x0) is x0 > 0
    got = accuracy("y")(prog, values, {"x": X, "y": Y})
    assert got == pytest.approx(want)
