"""The checks `train` runs on its data before the first step, each naming the array and what to do:
a dict of arrays with one sample count and finite entries (`_check_data`), keys that are the
program's inputs (`_check_keys`), shapes per sample as declared (`_check_declared_shapes`, with
hints for integer labels given for one-hot rows, images in another layout), class labels in range
over the whole array (`_check_data_labels`), a validation set like the data (`_check_validation`).
Found at a step instead, each was reported with a shuffled minibatch's shape or entry.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import sympy as sp

from ..core.values import key_name
from ..errors import ShapeError
from .closest import closest_name
from .training_arrays import to_numpy
from .training_missing import FILL_OR_DROP, missing_message
from .training_results import TrainingArgumentError, TrainingDataError, about_array


def same_sample_counts(sizes: Mapping) -> bool:
    """Whether every array (its first axis's length in ``sizes``, None for a scalar) holds the same
    positive number of samples: what a training set must be, from Python or from a .npz file."""
    return None not in sizes.values() and len(set(sizes.values())) == 1 and 0 not in sizes.values()


def nonfinite_entries(a: np.ndarray):
    """None when the floating array ``a`` is finite (or not floating); otherwise (how many entries are
    NaN or inf, the index of the first, in how many samples — rows of the first axis — they lie)."""
    if a.dtype.kind not in "fc" or np.isfinite(a).all():
        return None
    bad = ~np.isfinite(a)
    first = tuple(int(i) for i in np.argwhere(bad)[0])
    return int(bad.sum()), first, int(bad.reshape(len(a), -1).any(axis=1).sum()) if a.ndim else 1


def _named_data(program, data, what="data"):
    """``data`` as a dict by input name when it comes as torch scripts hold it: a tuple or list of
    arrays (``(X, y)``), or a ``torch.utils.data.TensorDataset``, each in the order of the program's
    inputs. A ``DataLoader`` is refused, saying why: its batches, shuffling and sampler would be
    ignored (`train` makes the minibatches). Anything else is left to `_check_data`."""
    if isinstance(data, Mapping):
        return data
    names = [key_name(x) for x in getattr(program, "inputs", None) or ()]
    order = f"in the order of the program's inputs {', '.join(map(repr, names))}" if names else ""
    if hasattr(data, "dataset") and hasattr(data, "batch_size"):
        raise TrainingArgumentError(
            f"{what} is a {type(data).__name__}: sg.train makes the minibatches itself (batch_size=, shuffle=, "
            f"seed=), so a loader's batching and sampling would be ignored; pass its arrays — a TensorDataset, "
            f"a tuple {order}, or a dict by input name "
            + ("{" + ", ".join(f"{n!r}: ..." for n in names) + "}" if names else "{'x': X, 'y': y}")
            + f" (a loader's own arrays: {what}.dataset)")
    if type(data).__name__ == "Subset":
        data = _subset_arrays(data, what)
    if type(data).__name__ == "TensorDataset" and isinstance(getattr(data, "tensors", None), tuple):
        data = data.tensors
    if (type(data).__name__ != "TensorDataset" and not isinstance(data, (tuple, list, np.ndarray))
            and hasattr(data, "__getitem__") and hasattr(data, "__len__")
            and any(c.__name__ == "Dataset" for c in type(data).__mro__)):     # torch's map-style Dataset
        raise _dataset_refused(what, f"a {type(data).__name__} (a torch Dataset)")
    if isinstance(data, tuple) and data and names and all(isinstance(a, (list, tuple)) or hasattr(a, "shape")
                                                          for a in data):
        # (X.tolist(), y.tolist()): Python lists as a dict of them is taken (it was "got tuple", the
        # tuple it had just named as taken); a list of lists stays refused: one per sample or per input?
        try:
            data = tuple(a if hasattr(a, "shape") else np.asarray(a) for a in data)
        except ValueError as e:                 # ragged: rows of different lengths
            raise TrainingArgumentError(f"{what}: a tuple item is a list that is no rectangular array ({e})") from None
    if isinstance(data, (tuple, list)) and data and names and all(hasattr(a, "shape") for a in data):
        if len(data) != len(names):
            raise TrainingArgumentError(
                f"{what} holds {len(data)} arrays; a tuple or dataset gives one per input, {order} "
                f"({len(names)}); or pass a dict by input name")
        return dict(zip(names, data))
    return data


def _subset_arrays(data, what):
    """A torch ``Subset`` — each half of ``random_split(dataset, [0.8, 0.2])``, a Subset of a Subset
    too — of a ``TensorDataset``: the dataset's arrays at the subset's indices, as a tuple (they were
    refused as no dict of arrays). A Subset of another kind of dataset is refused, saying why."""
    index, inner = None, data
    while type(inner).__name__ == "Subset" and hasattr(inner, "dataset") and hasattr(inner, "indices"):
        here = np.asarray(to_numpy(inner.indices) if hasattr(inner.indices, "detach") else list(inner.indices),
                          dtype=np.int64)
        index = here if index is None else here[index]     # the outer subset picks among the inner's
        inner = inner.dataset
    if type(inner).__name__ != "TensorDataset" or not isinstance(getattr(inner, "tensors", None), tuple):
        raise _dataset_refused(what, f"a Subset of a {type(inner).__name__}")
    return tuple(to_numpy(t)[index] for t in inner.tensors)


def _dataset_refused(what: str, kind: str) -> TrainingArgumentError:
    """The refusal of a dataset that makes its samples in ``__getitem__``: sg.train takes arrays (it
    would read each sample once, so a random transform there would be drawn once, not each epoch),
    and the two lines that read them."""
    return TrainingArgumentError(
        f"{what} is {kind}: sg.train takes arrays — a TensorDataset or a Subset of one (as random_split "
        f"makes), a tuple of arrays or a dict by input name — and does not call a dataset's __getitem__ "
        f"(it would call it once per sample, not once per epoch, so a random transform there would be drawn "
        f"once). To train on what it holds, read it once yourself: samples = [ds[i] for i in "
        f"range(len(ds))]; data = tuple(np.stack([np.asarray(s[k]) for s in samples]) for k in "
        f"range(len(samples[0])))")


def transposed_key(data: dict):
    """For arrays of different sample counts: the key of the 2-D array that would agree with all the
    others transposed — samples in columns, as MATLAB and the slides' X (features × samples) hold
    them — or None."""
    for k, v in data.items():
        others = {u.shape[0] if np.ndim(u) else None for j, u in data.items() if j is not k}
        if np.ndim(v) == 2 and v.shape[0] != v.shape[1] and others == {v.shape[1]}:
            return k
    return None


def _transposed_hint(data: dict, what: str) -> str:
    k = transposed_key(data)
    return "" if k is None else (f"; {what}[{key_name(k)!r}] looks transposed, its samples in columns: pass "
                                 f"{what}[{key_name(k)!r}].T, of shape {data[k].shape[::-1]}")


def _check_data(data, what="data") -> dict:
    if what == "validation" and isinstance(data, float) and 0 < data < 1:
        # Keras's validation_split, given as validation=0.2: "got float" did not say what to do
        raise TrainingArgumentError(
            f"validation={data:g}: validation takes the held-out arrays themselves, not a fraction (Keras's "
            f"validation_split): split them first, k = int({1 - data:g} * len(X)); train(program, {{'x': X[:k], "
            f"...}}, validation={{'x': X[k:], ...}}) (shuffle X first when it is sorted by class)")
    if not isinstance(data, Mapping) or not data:
        raise TrainingArgumentError(f"{what} must be a non-empty dict of arrays (input name -> array with a "
                         f"leading sample axis; or a tuple of arrays, or a torch TensorDataset, in the order "
                         f"of the program's inputs), got {type(data).__name__}")
    # a torch tensor through to_numpy: np.asarray fails on one that requires grad (or on a GPU)
    data = {k: to_numpy(v) for k, v in data.items()}
    sizes = {key_name(k): (v.shape[0] if v.ndim else None) for k, v in data.items()}
    if not same_sample_counts(sizes):
        shapes = ", ".join(f"{key_name(k)!r} {v.shape}" for k, v in data.items())
        raise TrainingArgumentError(f"{what}: every array needs the same positive number of samples on its "
                                    f"first axis; got {sizes} (the shapes: {shapes})"
                                    + _transposed_hint(data, what))
    for k, v in data.items():
        missing = missing_message(v)
        if missing and not np.isinf(v).any():
            # NaN alone: missing values, by column and sample, not only the first (a NaN loss at a step)
            raise about_array(TrainingDataError, what, key_name(k), f"{missing}; {FILL_OR_DROP} before training")
        found = nonfinite_entries(v)
        if found:
            count, first, _ = found
            raise about_array(TrainingDataError, what, key_name(k),
                              f" has non-finite entries (NaN or inf): {count} of {v.size}, the first at index "
                              f"{first[0] if len(first) == 1 else first} (value {v[first].item()!r}); drop or "
                              f"fix those samples before training")
    return data


def _check_keys(program, data: dict, evaluations=None) -> None:
    """Every input the training step reads has an array in ``data``, and every key of ``data`` is an
    input of ``program`` or is read by a metric: a metric that reads a
    column which is no input says so in its ``reads`` (`accuracy` does, for its target). An array
    under any other key would be ignored, silently — a typo ("lables" next to "labels") or an input
    the program was not compiled with — so it is refused, naming the closest input."""
    inputs = getattr(program, "inputs", None)
    if inputs is None:                      # a stand-in program that does not list its inputs
        return
    names = [key_name(x) for x in inputs]
    read = {key_name(r) for m in (evaluations or {}).values() for r in getattr(m, "reads", ())}
    for k in data:
        name = key_name(k)
        if name in names or name in read:
            continue
        close = closest_name(name, names)
        why = (f" (did you mean {close!r}?)" if close else
               f"; train refuses an array it would ignore (a metric that reads a column that is no input "
               f"names it: metric.reads = ({name!r},))")
        raise about_array(TrainingArgumentError, "data", name, f" is not an input of this program{why}; its "
                                                               f"inputs are {', '.join(map(repr, names)) or 'none'}")
    given = {key_name(k) for k in data}
    needs = getattr(program, "_needs", {}).get("train") or [True] * len(names)
    lacking = [n for n, needed in zip(names, needs) if needed and n not in given]
    if lacking:
        # (found at the first step, it was "no value given for the input 'y'; values are keyed ...")
        raise TrainingArgumentError(
            f"data has no array for the input{'s' if len(lacking) > 1 else ''} {', '.join(map(repr, lacking))} "
            f"that the training step reads; give data={{{', '.join(f'{n!r}: array' for n in names)}}}, each "
            f"with a leading sample axis")


def _check_declared_shapes(program, data: dict, what: str = "data") -> None:
    """Each array of a whole-batch program's data against its input's declaration, before the first
    step: the sample axis is the declaration's N, the other axes as declared. (Found at the first
    step, the mismatch was reported with the minibatch's shape, (32,), not the data's.)"""
    spec = getattr(program, "spec", None)
    if spec is None:
        return
    by_name = {key_name(k): v for k, v in data.items()}
    if not getattr(spec, "whole_batch", False):
        _check_per_example_shapes(spec, by_name, what)
        return
    from .whole_batch import dim_forms, fits
    sizes: dict = {}
    for sym in spec.inputs:
        a = by_name.get(sym.name)
        shape = tuple(sp.sympify(d) for d in getattr(sym, "shape", ()))
        if a is None or not shape or fits(dim_forms(shape), a.shape, sizes):
            continue
        decl = "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"
        msg = f" has shape {a.shape}, but the input {sym.name!r} is declared {decl}"
        if a.ndim == 1 and len(shape) == 2 and shape[1].is_Integer and np.all(np.mod(a, 1) == 0):
            c = int(shape[1])
            msg += (f": these look like integer labels, one per sample, where one-hot rows of {c} are "
                    f"declared — pass np.eye({c})[labels], or declare {sym.name!r} as labels, "
                    f"sg.tensor({sym.name!r}, ({shape[0]},), integer=True) (sg.cross_entropy takes either)")
        elif len(shape) == 1 and getattr(sym, "is_integer_tensor", False) and a.ndim == 2 \
                and np.isin(a, (0, 1)).all() and (a.sum(axis=1) == 1).all():
            msg += (f": these look like one-hot rows, where class labels (one integer per sample) are "
                    f"declared — pass {what}[{sym.name!r}].argmax(axis=1)")
        elif _sample_hint(a.shape[1:], shape[1:], f"{what}[{sym.name!r}]"):
            msg += f" (the first axis is the samples){_sample_hint(a.shape[1:], shape[1:], f'{what}[{sym.name!r}]')}"
        elif a.shape == (len(a), 1) and len(shape) == 1:
            msg += (f": a column where one value per sample is declared — pass {what}[{sym.name!r}].reshape(-1) "
                    f"(or declare {sym.name!r} of shape ({shape[0]}, 1))")
        else:
            msg += " (the first axis is the samples; the others as declared)"
        msg += _batch_of_one_hint(spec, sym, a)
        raise about_array(TrainingArgumentError, what, sym.name, msg)


def _batch_of_one_hint(spec, sym, a) -> str:
    """For a per-example declaration whose leading axis is 1 — ``sg.tensor("x", (1, 1, 8, 8))``, one
    image as torch holds it, a batch of one — and data whose samples are the rest, (n, 1, 8, 8): that
    the declaration is one sample, and how to declare the input over the batch instead."""
    declared = getattr(spec, "declared_inputs", None)
    if not declared:
        return ""
    d = next((tuple(getattr(t, "shape", ())) for s, t in zip(spec.inputs, declared) if s.name == sym.name), ())
    if len(d) < 2 or d[0] != 1 or not all(sp.sympify(k).is_Integer for k in d) \
            or tuple(a.shape[1:]) != tuple(int(k) for k in d[1:]):
        return ""
    rest = ", ".join(str(int(k)) for k in d[1:])
    return (f"; declared per example, {sym.name!r} of shape {tuple(int(k) for k in d)} is one sample, its first "
            f"axis 1 a batch of one (as torch holds one image), and the data's first axis the samples before "
            f"it: to take samples of shape ({rest}), declare {sym.name!r} over the batch, "
            f"sg.tensor({sym.name!r}, (N, {rest})) with N = sp.Symbol('N', integer=True, positive=True), the "
            f"loss over N (as sg.cross_entropy of (N, C) logits takes it)")


def _check_data_labels(program, data: dict, what: str = "data") -> None:
    """The labels and indices of all the data, before the first step: an input read by one_hot,
    cross_entropy, take or an embedding holds integers 0 … n − 1 (a negative one too is refused,
    as torch refuses it; NumPy would read it from the end). Found at a step, the error named the
    entry of a shuffled minibatch; here it names the sample of ``data``."""
    from ..errors import LabelRangeError
    from .batch_checks import check_labels
    from .whole_batch import _check_labels
    if getattr(program, "_device_labels", False):
        return      # the Triton target checks them on the device, at the step (docs/triton.md), by design
    by_name = {key_name(k): v for k, v in data.items()}
    skip = getattr(program, "_ignored", {})      # torch's ignore_index of a loss
    bounds = [(name, n, lambda nm, a, n: _check_labels(nm, a, n, {}, skip.get(nm)))
              for name, n in getattr(program, "_bounds", {}).items() if sp.sympify(n).is_Integer]
    bounds += [(name, n, check_labels) for name, n in (getattr(program, "_labels", None) or {}).items()]
    for name, n, check in bounds:
        if name not in by_name:
            continue
        try:
            check(name, by_name[name], int(n))
        except LabelRangeError as e:
            told = about_array(LabelRangeError, what, name, f": {e} (entry counted over the whole array)")
            told.sample = getattr(e, "sample", None)
            raise told from None


def _sample_hint(got: tuple, declared: tuple, array: str) -> str:
    """What to do with ``array``, whose sample of shape ``got`` holds what ``declared`` says in another
    layout: the same sizes in another order (images with their channels last: transpose it), or as
    many entries shaped otherwise (flat images, a missing channel axis: reshape it). "" otherwise."""
    if not declared or not all(sp.sympify(d).is_Integer for d in declared):
        return ""
    want = tuple(int(d) for d in declared)
    if got == want:
        return ""
    if len(got) == len(want) and sorted(got) == sorted(want):
        order = (0, *(1 + i for i in _axes_order(got, want)))
        return (f": the same sizes in another order — pass {array}.transpose{order}"
                + (" (images are declared channels first, (N, C, H, W))" if len(want) == 3 else ""))
    if math.prod(got) == math.prod(want):
        sizes = ", ".join(map(str, want))
        return f": as many entries per sample, shaped otherwise — pass {array}.reshape(-1, {sizes})"
    return ""


def _axes_order(got: tuple, want: tuple) -> list:
    """For each axis of ``want``, an axis of ``got`` of its size (each used once)."""
    free, out = list(range(len(got))), []
    for n in want:
        i = next(k for k in free if got[k] == n)
        free.remove(i)
        out.append(i)
    return out


def _check_per_example_shapes(spec, by_name: dict, what: str) -> None:
    """The same for a per-example program (Symbols, MatrixSymbols): each array is (samples, *the
    batch shape of one example), as Program takes a batch (an (n, 1) column as (B, n) or (B, n, 1))."""
    from .batch_checks import _batched_shape, _shape, fit_batch_input
    for sym in spec.inputs:
        a = by_name.get(sym.name)
        if a is None:
            continue
        shape = _shape(sym)
        want = _batched_shape(shape)
        try:
            fit_batch_input(sym.name, a.shape, shape, want)
        except ShapeError as e:
            msg = f": {e}"
            if a.ndim == 1 and len(want) == 1 and want[0] > 1 and np.all(np.mod(a, 1) == 0):
                c = want[0]
                msg += (f"; these look like integer labels, one per sample, where one-hot rows of {c} "
                        f"are declared — pass np.eye({c})[labels], or declare the label a scalar "
                        f"Symbol (sp.Symbol({sym.name!r}, integer=True); sg.cross_entropy takes either)")
            elif _sample_hint(a.shape[1:], want, f"{what}[{sym.name!r}]"):
                # 8×8 images where 64 pixels are declared, one value per sample where a (1, 1) is
                msg += _sample_hint(a.shape[1:], want, f"{what}[{sym.name!r}]").replace(": ", "; ", 1)
            raise about_array(TrainingArgumentError, what, sym.name, msg) from None


def _check_validation(validation: dict, data: dict) -> None:
    """The validation set must hold the inputs of the training data, each with the same shape per
    sample (the sample counts may differ)."""
    want = {key_name(k): v.shape[1:] for k, v in data.items()}
    got = {key_name(k): v.shape[1:] for k, v in validation.items()}
    if set(got) != set(want):
        raise TrainingArgumentError(
            f"validation has the inputs {sorted(got)}, but the training data has {sorted(want)}; "
            f"give the validation set the same inputs")
    for name, shape in want.items():
        if got[name] != shape:
            raise about_array(TrainingArgumentError, "validation", name, f" has samples of shape {got[name]}, but "
                                                                         f"data[{name!r}] has samples of shape {shape}")
