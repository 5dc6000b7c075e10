"""metrics=["mae"], ["mse"] (and Keras's long names) for a regression, as Keras takes them: the
mean absolute / squared error of the output against the one input the outputs do not read. Before:
"unknown metric 'mae'", and a regression's only metric was its loss."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.compiling.training import TrainingArgumentError, regression_error

N = sp.Symbol("N", integer=True, positive=True)
x, t = sg.tensor("x", (N, 4)), sg.tensor("t", (N,))
W1, b1, w2 = sg.tensor("W1", (4, 8)), sg.tensor("b1", (8,)), sg.tensor("w2", (8,))
pred = sg.tanh(x @ W1 + b1) @ w2
rng = np.random.default_rng(3)
X = rng.normal(size=(120, 4))
T = np.sin(X[:, 0]) + X[:, 1] * X[:, 2]


def _numpy_prediction(v, X):
    """The model written again in NumPy, from the trained values: the oracle."""
    return np.tanh(X @ v["W1"] + v["b1"]) @ v["w2"]


@pytest.mark.parametrize("loss", ["squared", "absolute"])
def test_mae_and_mse_are_those_of_the_predictions(loss):
    err = pred - t
    prog = sg.compile(sg.mean(err ** 2) if loss == "squared" else sg.mean(sg.sqrt(err ** 2 + 1e-6)),
                      [W1, b1, w2], [x, t], outputs=[pred], optimizer=sg.optim.Adam(lr=1e-2), dtype="float64")
    h = sg.train(prog, {"x": X[:90], "t": T[:90]}, epochs=3, batch_size=16, progress=False,
                 validation={"x": X[90:], "t": T[90:]}, metrics=["loss", "mae", "mean_squared_error"])
    assert list(h.epochs[-1]) == ["epoch", "loss", "val_loss", "val_mae", "val_mse", "seconds"]
    d = _numpy_prediction(h.values, X[90:]) - T[90:]
    assert h.metric("val_mae")[-1] == pytest.approx(np.mean(np.abs(d)), rel=1e-9)
    assert h.metric("val_mse")[-1] == pytest.approx(np.mean(d ** 2), rel=1e-9)
    if loss == "squared":                       # the loss is the mse
        assert h.metric("val_loss")[-1] == pytest.approx(h.metric("val_mse")[-1], rel=1e-9)


def test_an_output_and_target_of_other_sizes_are_refused_and_named():
    T2 = np.stack([T, T], axis=1)
    t2 = sg.tensor("t", (N, 2))
    prog = sg.compile(sg.mean((pred.reshape(N, 1) - t2) ** 2), [W1, b1, w2], [x, t2], outputs=[pred])
    with pytest.raises(TrainingArgumentError, match="output holds 1 entries per sample and 't' 2"):
        sg.train(prog, {"x": X, "t": T2}, epochs=1, progress=False, metrics=["mae"])
    no_outputs = sg.compile(sg.mean((pred - t) ** 2), [W1, b1, w2], [x, t])
    with pytest.raises(TrainingArgumentError, match=r"metrics 'mse' compares .* compile with outputs="):
        sg.train(no_outputs, {"x": X, "t": T}, epochs=1, progress=False, metrics=["mse"])
    with pytest.raises(TrainingArgumentError, match="kind is 'mae' or 'mse'"):
        regression_error("t", "rmse")


def test_keras_acc_is_accuracy():
    y = sg.tensor("y", (N,), integer=True)
    W = sg.tensor("W", (4, 2))
    prog = sg.compile(sg.cross_entropy(x @ W, y), [W], [x, y], outputs=[x @ W], optimizer="adam")
    labels = (X[:, 0] > 0).astype(int)
    h = sg.train(prog, {"x": X, "y": labels}, epochs=2, progress=False, metrics=["acc"])
    right = np.mean((X @ h.values["W"]).argmax(1) == labels)
    assert h.metric("train_accuracy")[-1] == pytest.approx(right)


def test_a_fraction_for_validation_and_one_metric_name_are_told_what_to_give():
    """Before: "validation must be a non-empty dict of arrays ..., got float" for Keras's
    validation_split given as validation=0.2, and no list of one for metrics="mae"."""
    prog = sg.compile(sg.mean((pred - t) ** 2), [W1, b1, w2], [x, t], outputs=[pred])
    with pytest.raises(TrainingArgumentError, match=r"validation=0.2: .* not a fraction .* k = int\(0.8 \* len\(X\)\)"):
        sg.train(prog, {"x": X, "t": T}, progress=False, validation=0.2)
    with pytest.raises(TrainingArgumentError, match=r"\(a list of one: metrics=\['mae'\]\)"):
        sg.train(prog, {"x": X, "t": T}, progress=False, metrics="mae")
