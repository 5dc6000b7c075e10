"""Metrics of a classifier on imbalanced classes, where accuracy says little (9 samples in 10 of
class 0: always answering 0 scores 0.9): ``precision``, ``recall`` and ``f1`` of class 1 (of one
output, or of two scores; over several classes the mean of each class's, scikit-learn's
``average="macro"``), and ``auc``, the area under the ROC curve of two classes (the chance that a
sample of class 1 scores above one of class 0, ties counting half). By name in ``metrics=[...]`` and
``symgrad train --metrics``, as Keras's ``Precision()``, ``Recall()``, ``F1Score()`` and ``AUC()``.

The predicted class is read as `accuracy` reads it: the arg-max of several scores, or one output
above 0 for a logit (0.5 for a probability); the labels as `accuracy` takes them. Here the scoring
(`class_score`, of the outputs and labels as arrays); `training_metrics.class_metric` is the metric.

>>> import numpy as np
>>> binary_scores(np.array([1, 0, 1, 1]), np.array([1, 0, 0, 0]), np.array([0.9, 0.1, 0.4, 0.2]))["recall"]
0.3333333333333333
"""
from __future__ import annotations

import numpy as np

from .training_results import TrainingArgumentError

CLASS_METRICS = ("precision", "recall", "f1", "auc")


def _ratio(a: float, b: float) -> float:
    """a / b, 0 where b is 0 (scikit-learn's zero_division=0: no predicted positives, no precision)."""
    return float(a / b) if b else 0.0


def _auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """The area under the ROC curve: the Mann-Whitney statistic, mean ranks with ties averaged."""
    pos, neg = int(labels.sum()), int(len(labels) - labels.sum())
    if not pos or not neg:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    i = 0
    while i < len(scores):                      # tied scores share the mean of their ranks
        j = i
        while j + 1 < len(scores) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return float((ranks[labels == 1].sum() - pos * (pos + 1) / 2) / (pos * neg))


def binary_scores(labels, pred, scores) -> dict:
    """precision, recall, f1 of class 1 and the ROC AUC of ``scores``, for 0/1 ``labels`` and ``pred``."""
    labels, pred = np.asarray(labels).astype(int), np.asarray(pred).astype(int)
    tp = int(np.sum((pred == 1) & (labels == 1)))
    precision, recall = _ratio(tp, int(np.sum(pred == 1))), _ratio(tp, int(np.sum(labels == 1)))
    return {"precision": precision, "recall": recall, "f1": _ratio(2 * precision * recall, precision + recall),
            "auc": _auc(labels, np.asarray(scores, dtype=float))}


def _macro(labels, pred, classes: int, kind: str) -> float:
    """The mean over the classes of each one's precision, recall or f1 (one class against the rest)."""
    return float(np.mean([binary_scores(labels == c, pred == c, pred == c)[kind] for c in range(classes)]))


def class_score(kind: str, out: np.ndarray, y: np.ndarray, logit: bool, target: str) -> float:
    """``kind`` (one of `CLASS_METRICS`) of the outputs ``out`` (one row per sample) against the labels
    ``y`` (one row per sample: a class index, a 0/1 label or a one-hot row); ``logit``: whether one
    output is read at 0 (else 0.5); ``target``: the labels' name, for the messages."""
    if out.shape[1] == 1:
        score = out[:, 0]
        pred = (score > (0.0 if logit else 0.5)).astype(int)
        labels = (y[:, 0] > 0.5).astype(int) if y.shape[1] == 1 else y.argmax(1)
        classes = 2
    else:
        classes = out.shape[1]
        pred = out.argmax(1)
        labels = y.argmax(1) if y.shape[1] > 1 else y[:, 0].astype(int)
        score = out[:, 1] - out[:, 0] if classes == 2 else None     # monotone in class 1's probability
    if kind == "auc":
        if classes != 2:
            raise TrainingArgumentError(f"auc is the area under the ROC curve of two classes, and the output has "
                                        f"{classes} scores per sample: give f1, precision or recall (the mean "
                                        f"over the classes)")
        got = binary_scores(labels, pred, score)["auc"]
        if got != got:
            raise TrainingArgumentError(f"auc needs samples of both classes, and {target!r} holds only class "
                                        f"{int(labels[0])} here")
        return got
    return binary_scores(labels, pred, score)[kind] if classes == 2 else _macro(labels, pred, classes, kind)
