"""precision, recall, f1 and auc by name (`metrics=["f1", "auc"]`), against scikit-learn's
precision_score, recall_score, f1_score (binary; average="macro" over several classes) and
roc_auc_score, on the predictions of compiled programs."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.compiling.training import TrainingArgumentError, train
from symgrad.compiling.training_metrics import class_metric

skm = pytest.importorskip("sklearn.metrics")
N = sp.Symbol("N", integer=True, positive=True)
rng = np.random.default_rng(0)
X = rng.normal(size=(60, 3))


def _binary_logit():
    x, y = sg.tensor("x", (N, 3)), sg.tensor("y", (N,))
    w, b = sg.tensor("w", (3,)), sg.tensor("b", ())
    logit = x @ w + b
    return sg.compile(sg.bce_with_logits(logit, y, pos_weight=4.0), [w, b], [x, y], outputs=[logit])


def _classes(c):
    x, y = sg.tensor("x", (N, 3)), sg.tensor("y", (N,), integer=True)
    W, b = sg.tensor("W", (3, c)), sg.tensor("b", (c,))
    return sg.compile(sg.cross_entropy(x @ W + b, y), [W, b], [x, y], outputs=[x @ W + b])


def _oracle(name, labels, pred, score, average="binary"):
    if name == "auc":
        return skm.roc_auc_score(labels, score)
    f = {"precision": skm.precision_score, "recall": skm.recall_score, "f1": skm.f1_score}[name]
    return f(labels, pred, average=average, zero_division=0)


@pytest.mark.parametrize("name", ["precision", "recall", "f1", "auc"])
def test_one_logit(name):
    prog = _binary_logit()
    values = {"w": np.array([1.0, -0.5, 0.2]), "b": np.array(-0.8)}
    labels = (X[:, 0] + 0.7 * rng.normal(size=60) > 0.9).astype(float)      # imbalanced: about 1 in 5
    (score,) = prog.forward(values, {"x": X})
    got = class_metric("y", name)(prog, values, {"x": X, "y": labels})
    assert got == pytest.approx(_oracle(name, labels, score > 0, score), abs=1e-12)


@pytest.mark.parametrize("name", ["precision", "recall", "f1", "auc"])
def test_two_scores(name):
    prog = _classes(2)
    values = {"W": rng.normal(size=(3, 2)), "b": np.zeros(2)}
    labels = rng.integers(0, 2, 60)
    (scores,) = prog.forward(values, {"x": X})
    got = class_metric("y", name)(prog, values, {"x": X, "y": labels})
    want = _oracle(name, labels, scores.argmax(1), scores[:, 1] - scores[:, 0])
    assert got == pytest.approx(want, abs=1e-12)


@pytest.mark.parametrize("name", ["precision", "recall", "f1"])
def test_three_classes_macro(name):
    prog = _classes(3)
    values = {"W": rng.normal(size=(3, 3)), "b": np.zeros(3)}
    labels = rng.integers(0, 3, 60)
    (scores,) = prog.forward(values, {"x": X})
    got = class_metric("y", name)(prog, values, {"x": X, "y": labels})
    assert got == pytest.approx(_oracle(name, labels, scores.argmax(1), None, "macro"), abs=1e-12)


def test_ties_in_the_scores_count_half():
    from symgrad.compiling.training_class_metrics import binary_scores
    labels, score = np.array([0, 1, 0, 1, 1, 0]), np.array([0.3, 0.3, 0.1, 0.9, 0.3, 0.3])
    assert binary_scores(labels, score > 0.5, score)["auc"] == pytest.approx(skm.roc_auc_score(labels, score))


def test_by_name_in_train_and_the_refusals():
    x, y = sg.tensor("x", (N, 3)), sg.tensor("y", (N,))
    w, b = sg.tensor("w", (3,)), sg.tensor("b", ())
    trained = sg.compile(sg.bce_with_logits(x @ w + b, y), [w, b], [x, y], outputs=[x @ w + b], optimizer="adam")
    labels = (X[:, 0] > 0.5).astype(float)
    h = train(trained, {"x": X, "y": labels}, epochs=2, batch_size=20, progress=False,
              validation={"x": X, "y": labels}, metrics=["loss", "f1_score", "roc_auc", "recall"])
    assert set(h.epochs[-1]) >= {"val_f1", "val_auc", "val_recall"}
    assert 0 <= h.metric("val_auc")[-1] <= 1
    with pytest.raises(TrainingArgumentError, match="auc needs samples of both classes"):
        train(trained, {"x": X, "y": np.zeros(60)}, progress=False, metrics=["auc"])
    with pytest.raises(TrainingArgumentError, match="auc is the area under the ROC curve of two classes"):
        train(_classes(3), {"x": X, "y": rng.integers(0, 3, 60)}, progress=False, metrics=["auc"])


def test_probabilities_are_the_sigmoid_or_softmax_of_the_scores():
    special = pytest.importorskip("scipy.special")
    from symgrad.compiling.training import probabilities
    prog = _binary_logit()
    values = {"w": np.array([1.0, -0.5, 0.2]), "b": np.array(-0.8)}
    (score,) = prog.forward(values, {"x": X})
    np.testing.assert_allclose(probabilities(prog, values, {"x": X})[:, 0], special.expit(score), rtol=1e-6)
    prog3 = _classes(3)
    values3 = {"W": rng.normal(size=(3, 3)), "b": np.zeros(3)}
    (scores,) = prog3.forward(values3, {"x": X})
    np.testing.assert_allclose(probabilities(prog3, values3, {"x": X}), special.softmax(scores, axis=1), rtol=1e-6)
    x = sg.tensor("x", (N, 3))
    w = sg.tensor("w", (3,))
    p = sg.sigmoid(x @ w)                                   # a probability already: as it is
    prob_prog = sg.compile(sg.mean((p - 0.5) ** 2), [w], [x], outputs=[p])
    (want,) = prob_prog.forward({"w": np.ones(3)}, {"x": X})
    np.testing.assert_allclose(probabilities(prob_prog, {"w": np.ones(3)}, {"x": X})[:, 0], want, rtol=1e-12)
