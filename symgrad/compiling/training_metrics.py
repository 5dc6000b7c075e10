"""Metrics for `train`: callables ``metric(program, values, data) -> float``, evaluated after each
epoch on the validation data (or the training data). `mean_loss` and `accuracy` are the two named
ones (``metrics=["loss", "accuracy"]``); `batches` and `predict` run a program over all of ``data``.

>>> import numpy as np
>>> class Twice:                      # a stand-in program: its one output is 2x
...     def forward(self, values, batch): return [2 * batch["x"]]
>>> predict(Twice(), {}, {"x": np.array([[1.0], [3.0]])}).tolist()
[[2.0], [6.0]]
"""
from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from typing import Callable

import numpy as np

from ..core.values import key_name, lookup
from .training_arrays import num_samples, to_numpy
from .training_class_metrics import CLASS_METRICS, class_score
from .training_results import TrainingArgumentError


def batches(data: Mapping, batch_size: int, order=None):
    """Yield the minibatches of ``data`` (dicts of arrays) in ``order`` (default: as stored; it may
    hold part of the samples: the rest of an epoch resumed part-way through); the last one may be
    smaller.

    >>> import numpy as np
    >>> [b["x"].tolist() for b in batches({"x": np.arange(5)}, 2)]
    [[0, 1], [2, 3], [4]]
    """
    order = np.arange(num_samples(data)) if order is None else order
    for i in range(0, len(order), batch_size):
        idx = order[i:i + batch_size]
        yield {k: v[idx] for k, v in data.items()}


class BatchReductionWarning(UserWarning):
    """`mean_loss` could not tell whether a whole-batch declaration's loss is a mean or a sum over
    the batch (a loss normalised over the batch is neither), and averaged the minibatch losses."""


def mean_loss(program, values, data, batch_size: int = 1024) -> float:
    """The loss over all of ``data``, as the program would give it for one batch of all of it: the
    mean of the minibatch losses weighted by their sizes — or, for a loss that is a sum over the
    batch, their sum (weighting sums by sizes gave neither: 1001 for a sum of 3000 over three
    minibatches). A program compiled with ``reduction="sum"`` sums; a whole-batch declaration
    (tensors of a symbolic size N) says how it reduces N in its loss, which `loss_over_batch` reads
    from the first minibatch. One minibatch (at most ``batch_size`` samples) is the loss itself."""
    total, n, summed = 0.0, 0, None
    for batch in batches(data, batch_size):
        b = num_samples(batch)
        loss = float(program.loss(values, batch))
        if summed is None:
            summed = b < num_samples(data) and loss_over_batch(program, values, batch, loss) == "sum"
        total += loss * (1 if summed else b)
        n += b
    return total if summed else total / n


def loss_over_batch(program, values, batch, loss=None) -> str:
    """How ``program``'s loss reduces the batch: ``"sum"`` or ``"mean"``. A per-example program
    says so (``reduction=``); a whole-batch declaration's loss is written by hand (``sg.sum(...)``,
    ``sg.mean``, ``sg.cross_entropy``), so it is read off ``batch``: the loss of the batch twice over
    is the same for a mean and twice as much for a sum (batch statistics such as batch norm's
    keep their values). Neither (a loss normalised over the batch) is a `BatchReductionWarning`,
    and ``"mean"``. The answer is kept on the program."""
    spec = getattr(program, "spec", None)
    if getattr(spec, "reduction", "mean") == "sum":
        return "sum"
    if not getattr(spec, "whole_batch", False) or getattr(spec, "declared_inputs", None) is not None:
        return "mean"                       # declared per example: the mean over B (reduction="mean")
    known = getattr(program, "_loss_over_batch", None)
    if known is not None:
        return known
    loss = float(program.loss(values, batch)) if loss is None else loss
    if not math.isfinite(loss) or loss == 0.0:
        return "mean"                       # nothing to read here; the next call tries again
    twice = {k: np.concatenate([v, v]) for k, v in ((k, to_numpy(v)) for k, v in batch.items())}
    ratio = float(program.loss(values, twice)) / loss
    found = "sum" if abs(ratio - 2) < 0.05 else "mean" if abs(ratio - 1) < 0.05 else None
    if found is None:
        import warnings
        warnings.warn(f"mean_loss: this whole-batch loss is neither a mean nor a sum over the batch (the "
                      f"batch twice over gives {ratio:.4g} times its loss), so the loss of all the data is "
                      f"not one of its minibatches' losses; they are averaged, weighted by size. Give a "
                      f"metric of your own, or a batch_size that holds all the data",
                      BatchReductionWarning, stacklevel=3)
        found = "mean"
    try:
        program._loss_over_batch = found
    except AttributeError:                  # a program that takes no attributes: read again next time
        pass
    return found


def predict(program, values, data, batch_size: int = 1024, output=0, flat: bool = True) -> np.ndarray:
    """``program.forward`` over all of ``data``, one row per sample. ``output`` picks one output
    (an index, or a key when forward returns a dict) when there are several. ``flat=False`` keeps
    each sample's shape ((n, 1, 8, 8) for images) rather than one row of its entries."""
    rows = []
    for batch in batches(data, batch_size):
        out = program.forward(values, batch)
        if isinstance(out, Mapping):
            out = lookup(out, output)
        elif isinstance(out, (list, tuple)):
            out = out[output]
        out = to_numpy(out)
        rows.append(out.reshape(out.shape[0], -1) if flat else out)
    return np.concatenate(rows)


def probabilities(program, values, data, batch_size: int = 1024, output=0) -> np.ndarray:
    """A classifier's class probabilities for each sample of ``data`` (scikit-learn's
    ``predict_proba``): the sigmoid of one logit (one column, class 1's), the softmax of several
    scores; an output that is no logit (``sg.sigmoid(...)``, ``sg.softmax(...)``) is returned as it
    is. ``symgrad predict --probabilities`` writes them.

    >>> p = probabilities          # then: p(program, history.values, {"x": X_new})
    """
    return probabilities_of(program, predict(program, values, data, batch_size, output=output), output)


def probabilities_of(program, out: np.ndarray, output=0) -> np.ndarray:
    """`probabilities` of the outputs ``out`` (one row per sample) that ``program`` gave."""
    out = np.asarray(out, dtype=np.float64)
    if not output_is_logit(program, output):
        return out
    if out.shape[1] == 1:
        e = np.exp(-np.abs(out))               # the sigmoid without overflow: exp of a number <= 0 only
        return np.where(out >= 0, 1 / (1 + e), e / (1 + e))
    z = np.exp(out - out.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def accuracy(target, output=0, threshold: float | None = None) -> Callable:
    """A metric: the fraction of samples whose predicted class is right. ``target`` names the
    input that holds the labels: one-hot rows (the class is the arg-max) or class indices. With
    several outputs per sample the predicted class is the arg-max of ``forward``; with one, it is
    ``output > threshold``, the labels ``> 0.5`` (0/1, or ±1). ``threshold=None`` (the default)
    reads the program: 0 for a logit — an output that is an affine function of a product, such as
    ``x @ w + b`` before ``sg.bce_with_logits`` — and 0.5 for any other output (a probability:
    ``sg.sigmoid(...)``). (Until 2026-11-30, eighth session, it was 0.5 always, also for logits:
    0.9675 for a logistic regression whose logits were right on 0.9925 of the samples.) Labels
    that are no classes (a regression's real targets) are a `TrainingArgumentError`.

    >>> metric = accuracy("t")      # then: train(..., metrics={"accuracy": metric})
    """
    def metric(program, values, data):
        out = predict(program, values, data, output=output)
        y = np.asarray(lookup(data, target))
        y = y.reshape(y.shape[0], -1)
        _check_classes(y, out.shape[1], key_name(target), threshold)
        if out.shape[1] == 1:
            cut = threshold if threshold is not None else (0.0 if output_is_logit(program, output) else 0.5)
            pred = (out[:, 0] > cut).astype(int)
            labels = (y[:, 0] > (0.5 if threshold is None else threshold)).astype(int) if y.shape[1] == 1 \
                else y.argmax(1)
        else:
            pred = out.argmax(1)
            labels = y.argmax(1) if y.shape[1] > 1 else y[:, 0].astype(int)
        return float(np.mean(pred == labels))
    metric.__name__ = f"accuracy({key_name(target)})"
    metric.reads = (key_name(target),)      # data it reads that may be no input (train's key check)
    return metric


def _check_classes(y, classes: int, name: str, threshold) -> None:
    """``y`` (one row per sample) must hold classes for ``classes`` outputs per sample: whole numbers
    0 … classes − 1 or one-hot (or probability) rows for several, 0/1 (probabilities) or ±1 for one.
    Anything else — a regression's targets — has no accuracy: the arg-max of real targets, or
    ``y > 0.5``, counted right 0.61 of a linear regression's samples and 1.0 of another's."""
    if not np.issubdtype(y.dtype, np.number) or y.size == 0:
        return
    y = y.astype(float)
    if classes > 1 and y.shape[1] == 1:
        ok, want = (np.all(y == np.round(y)) and y.min() >= 0 and y.max() < classes), \
            f"class indices 0 … {classes - 1}"
    elif classes > 1:
        ok, want = (y.min() >= 0 and np.allclose(y.sum(1), 1, atol=1e-3)), \
            "one-hot rows (or class probabilities: rows of entries >= 0 that add up to 1)"
    elif threshold is None and y.shape[1] == 1:
        ok, want = (y.min() >= 0 and y.max() <= 1) or bool(np.all(np.abs(y) == 1)), \
            "labels 0/1 (or probabilities in [0, 1]), or ±1"
    else:
        return
    if not ok:
        lo, hi = float(y.min()), float(y.max())
        said = (f"accuracy counts the samples whose predicted class is right, so the input {name!r} must hold "
                f"{want}; it holds values from {lo:.4g} to {hi:.4g}"
                f"{', not whole numbers' if classes > 1 and y.shape[1] == 1 and not np.all(y == np.round(y)) else ''}"
                f" — a regression's targets have no accuracy")
        fix = "use metrics=['loss', 'mae'] (or a metric of your own)"
        raise TrainingArgumentError(f"{said}: {fix}", argument="metrics", key="accuracy", said=said, fix=fix)


_AFFINE_MOVES = ("reshape", "broadcast", "expand", "transpose", "permute")
_PRODUCTS = ("matmul", "conv", "einsum")


def output_is_logit(program, output=0) -> bool:
    """Whether ``program``'s output ``output`` (an index) is a logit: an affine function of a
    product (a layer's ``x @ w + b``, ``W·h + b``, ``sg.linear``) — unbounded, so a class is read
    at 0 — rather than a probability (``sg.sigmoid(...)``, read at 0.5). False when the program
    does not say (no lowering, an output given by key)."""
    import sympy as sp

    from ..core.placeholders import ph
    ev = getattr(getattr(program, "spec", None), "eval", None)
    outs = getattr(ev, "outputs", None)
    if not outs or not isinstance(output, int) or not -len(outs) <= output < len(outs):
        return False
    made = {e.out.id: e for e in ev.graph.eqns}
    eqn = made.get(outs[output].id)
    for _ in range(16):                      # through bias additions and reshapes to the product
        if eqn is None:
            return False
        name = eqn.prim.name
        if name in _PRODUCTS:
            return True
        if name in _AFFINE_MOVES:
            eqn = made.get(eqn.inputs[0].id)
            continue
        if name != "ewise":
            return False
        body, args = eqn.params[0], [ph(k) for k in range(len(eqn.inputs))]
        slopes = [sp.diff(body, a) for a in args]
        if any(d.free_symbols & set(args) for d in slopes):
            return False                     # not affine: a sigmoid, a relu, a product of inputs
        fed = [made.get(v.id) for v, d in zip(eqn.inputs, slopes) if d != 0]
        fed = [e for e in fed if e is not None and e.prim.name in _PRODUCTS + _AFFINE_MOVES + ("ewise",)]
        if not fed:
            return False
        eqn = next((e for e in fed if e.prim.name in _PRODUCTS), fed[0])
    return False


def regression_error(target, kind: str = "mae", output=0) -> Callable:
    """A metric of a regression (Keras's ``"mae"``, ``"mse"``): the mean absolute (``kind="mae"``)
    or squared (``"mse"``) difference between ``program.forward``'s output ``output`` and the input
    ``target``, over every sample and entry. The two must hold as many entries per sample (a column
    (n, 1) and a vector (n,) are one entry each); anything else is a `TrainingArgumentError`.

    >>> metric = regression_error("y", "mae")      # then: train(..., metrics={"mae": metric})
    """
    if kind not in ("mae", "mse"):
        raise TrainingArgumentError(f"regression_error: kind is 'mae' or 'mse', got {kind!r}")

    def metric(program, values, data):
        out = predict(program, values, data, output=output)
        y = np.asarray(lookup(data, target))
        y = y.reshape(y.shape[0], -1)
        if y.shape[1] != out.shape[1]:
            raise TrainingArgumentError(
                f"{kind} compares the output with the input {key_name(target)!r}, entry by entry, but the output "
                f"holds {out.shape[1]} entries per sample and {key_name(target)!r} {y.shape[1]}: "
                f"{'accuracy is the metric of class labels' if y.shape[1] == 1 else 'give a metric of your own'}")
        d = out.astype(float) - y.astype(float)
        return float(np.mean(np.abs(d)) if kind == "mae" else np.mean(d * d))
    metric.__name__ = f"{kind}({key_name(target)})"
    metric.reads = (key_name(target),)
    return metric


def class_metric(target, kind: str, output=0) -> Callable:
    """A metric of a classifier on imbalanced classes (``kind``: ``"precision"``, ``"recall"``,
    ``"f1"`` or ``"auc"``; `training_class_metrics`): the predicted class, read as `accuracy` reads
    it, against the labels in the input ``target``. ``auc`` takes two classes; over more it is a
    `TrainingArgumentError`, and so is data holding one class only (no curve to draw).

    >>> metric = class_metric("y", "f1")      # then: train(..., metrics={"f1": metric})
    """
    if kind not in CLASS_METRICS:
        raise TrainingArgumentError(f"class_metric: kind is one of {', '.join(CLASS_METRICS)}, got {kind!r}")

    def metric(program, values, data):
        out = predict(program, values, data, output=output)
        y = np.asarray(lookup(data, target))
        y = y.reshape(y.shape[0], -1)
        _check_classes(y, out.shape[1], key_name(target), None)
        logit = out.shape[1] == 1 and output_is_logit(program, output)
        return class_score(kind, out, y, logit, key_name(target))
    metric.__name__ = f"{kind}({key_name(target)})"
    metric.reads = (key_name(target),)
    return metric


_METRICS_HELP = ("give 'loss', 'accuracy', 'precision', 'recall', 'f1', 'auc', 'mae', 'mse', a callable metric(program, values, data) -> float, or a "
                 "dict name -> callable (see symgrad.compiling.training.accuracy)")
# precision, recall, f1 and auc: a classifier's on imbalanced classes (training_class_metrics)
METRIC_NAMES = ("loss", "accuracy", "precision", "recall", "f1", "auc", "mae", "mse")
# Keras's (and scikit-learn's) long names for the same metrics, recorded under the short ones
_LONG_NAMES = {"mean_absolute_error": "mae", "mean_squared_error": "mse", "acc": "accuracy", "f1_score": "f1",
               "roc_auc": "auc"}
_LABELLED = ("accuracy", "precision", "recall", "f1", "auc")       # compared with class labels


def _metrics_dict(metrics, program=None) -> dict:
    if metrics is None:
        return {"loss": mean_loss}
    if isinstance(metrics, Mapping):
        for name, m in metrics.items():
            if not callable(m):
                raise TrainingArgumentError(f"metrics[{name!r}] is not callable "
                                            f"({type(m).__name__}): {_METRICS_HELP}")
        return {key_name(name): m for name, m in metrics.items()}
    if isinstance(metrics, str) or not isinstance(metrics, Sequence):
        one = f" (a list of one: metrics=[{metrics!r}])" if isinstance(metrics, str) else ""
        raise TrainingArgumentError(f"metrics must be a list or a dict, got {metrics!r}{one}: {_METRICS_HELP}")
    out = {}
    for m in metrics:
        if isinstance(m, str) and m.lower() in _LONG_NAMES:
            m = _LONG_NAMES[m.lower()]
        if isinstance(m, str) and m in METRIC_NAMES:
            out[m] = named_metric(m, None if m == "loss" else _label_input(program, m))
        elif callable(m):
            # by its name, as Keras names them ("<lambda>" read as "lambda"); a name taken already
            # (two lambdas) gets a suffix, _1, _2: the second silently replaced the first
            name = str(getattr(m, "__name__", f"metric{len(out)}")).strip("<>")
            base, k = name, 0
            while name in out or name in METRIC_NAMES and name in metrics:
                k += 1
                name = f"{base}_{k}"
            out[name] = m
        else:
            close = ([n for n in METRIC_NAMES if n.startswith(m.lower())] or difflib.get_close_matches(
                m, METRIC_NAMES, n=1)) if isinstance(m, str) and m else []
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise TrainingArgumentError(f"unknown metric {m!r} in metrics{hint}: {_METRICS_HELP}")
    return out


def named_metric(name: str, target):
    """The metric of one of `METRIC_NAMES` (``"loss"`` needs no ``target``), comparing the output with
    the input ``target``."""
    if name == "loss":
        return mean_loss
    if name == "accuracy":
        return accuracy(target)
    if name in ("mae", "mse"):
        return regression_error(target, name)
    return class_metric(target, name)


def _label_input(program, name="accuracy"):
    """The input holding the labels (or a regression's targets), for ``metrics=["accuracy"]`` (or
    ``"mae"``, ``"mse"``: ``name``): the one input the program's outputs do not read (Keras's
    "accuracy" knows it from the model's targets)."""
    spec = getattr(program, "spec", None)
    if spec is None or not getattr(spec.eval, "outputs", None):
        raise TrainingArgumentError(
            f"metrics {name!r} compares the program's prediction with the {'labels' if name in _LABELLED else 'targets'}: "
            f"compile with outputs=[...] (the {'scores or probabilities' if name in _LABELLED else 'predictions'}), "
            f"then give metrics=[{name!r}]")
    needs = getattr(program, "_needs", {}).get("forward")
    unread = [x for x, read in zip(program.inputs, needs or ()) if not read]
    if len(unread) != 1:
        names = ", ".join(repr(key_name(x)) for x in (unread or program.inputs))
        raise TrainingArgumentError(
            f"metrics {name!r} cannot tell which input holds the {'labels' if name in _LABELLED else 'targets'} "
            f"({names}); name it: "
            + (f"metrics={{'accuracy': accuracy('<input>')}} (symgrad.compiling.training.accuracy)" if name == "accuracy"
               else f"metrics={{{name!r}: regression_error('<input>', {name!r})}} "
                    f"(symgrad.compiling.training.regression_error)"))
    return unread[0]


def _probe_metrics(evaluations: dict, program, values, where, prefix: str) -> None:
    """Evaluate every metric once at the initial values, so that a metric that fails (or a
    validation set the program cannot take) is reported now, not at the end of the first epoch."""
    on = "validation" if prefix == "val_" else "training data"
    for name, metric in evaluations.items():
        try:
            got = metric(program, values, where)
            value = float(got)
        except Exception as e:  # noqa: BLE001 - any failure of the user's metric is reported as its own
            said = f"failed on a first probe (at the initial values, on the {on}): {type(e).__name__}: {e}"
            raise TrainingArgumentError(f"metrics[{name!r}] {said}", argument="metrics", key=name, said=said,
                                        dataset="validation" if prefix == "val_" else "data") from e
        if not math.isfinite(value):
            raise TrainingArgumentError(
                f"metrics[{name!r}] returned {value} on a first probe (at the initial values, on the "
                f"{on}); a metric must return a finite number")
