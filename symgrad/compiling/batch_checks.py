"""A batch's arrays, checked before a program runs on them — the same checks for every backend's
program (NumPy arrays or torch tensors):

- the declared shape of a parameter or input (`_shape`);
- the batch convention (`fit_batch_input`, `same_batch_size`, `_batched_shape`): an input declared
  of shape s for one example comes as (B, *s) — or, for a column (n, 1) or a row (1, n) of a
  per-example Program, as (B, n) — with one B for all the inputs, and at least one example
  (`empty_batch`);
- numbers (`as_numbers`): no None, text or complex numbers;
- class labels and embedding row indices (`label_inputs`, `row_index_inputs`, `check_labels`):
  integers 0 … n − 1;
- the optimizer state (`check_state`).

>>> fit_batch_input("x", (8, 3, 1), (3, 1), (3,))      # (B, n, 1) for a (3, 1) column: reshaped to
(8, 3)
>>> fit_batch_input("x", (8, 3), (3, 1), (3,)) is None  # (B, n): as it is
True
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import sympy as sp

from ..core import rules as R
from ..core.ir import format_shape
from ..core.values import key_name
from ..errors import ArgumentError, DataError, LabelRangeError, ShapeError, UnsupportedError
from ..frontend.tensor import Tensor
from ..errors import show_value          # a NumPy scalar in a message as its number

_MISSING = object()


def _shape(sym) -> tuple:
    """The declared shape of a parameter or input: () for a Symbol, a MatrixSymbol's (in numbers), a
    tensor's (its sizes may be symbolic, N, bound from the arrays)."""
    if isinstance(sym, Tensor):
        return tuple(sym.shape)         # sizes may be symbolic (N): bound from the arrays
    if isinstance(sym, sp.MatrixSymbol):
        dims = tuple(sym.shape)
        if not all(getattr(d, "is_Integer", False) for d in dims):
            raise UnsupportedError(f"{sym.name!r} has a symbolic shape {format_shape(dims)}; compile needs "
                                   f"numbers (the batch axis is added at run time)")
        return tuple(int(d) for d in dims)
    if isinstance(sym, sp.Symbol):
        return ()
    raise ArgumentError(f"parameters and inputs must be Symbols, MatrixSymbols or tensors (sg.tensor), "
                        f"got {sym!r} ({type(sym).__name__})")


def _batched_shape(shape) -> tuple:
    """Per-example shape → the array shape after the batch axis."""
    if len(shape) != 2:                 # a scalar; a tensor's shape (whole-batch: no batch axis)
        return tuple(shape)
    m, n = shape
    if n == 1:
        return (m,)
    if m == 1:
        return (n,)
    return (m, n)


def label_inputs(spec) -> dict:
    """Input name -> number of classes n, for every input of the compiled `Spec` ``spec`` that is the
    class label k of a ``z[k]`` (``sg.gather``, ``sg.cross_entropy(z, k)``), or the index of an
    embedding's row E[k] in the kernels' form (``take_row``): its values must be integers 0 … n − 1."""
    return _index_inputs(spec)[0]


def row_index_inputs(spec) -> set:
    """The names among `label_inputs` that index an embedding's rows (E[k]), not classes: their
    errors say rows."""
    return _index_inputs(spec)[1]


def _index_inputs(spec) -> tuple[dict, set]:
    labels: dict = {}
    rows: set = set()
    for lw in (spec.train, spec.eval):
        ids = {vid: i for i, vid in enumerate(lw.inputs) if vid is not None}
        for e in lw.graph.eqns:
            k = e.inputs[1].id if e.prim is R.gather_p or e.prim is R.take_row_p else None
            if k is not None and k not in ids:      # a bag E[ids], a pixel's label: Σ of a 1×1 slice of the input
                s = lw.graph.producer[k]
                s = lw.graph.producer[s.inputs[0].id] if s.prim is R.sum_p and s.inputs else s
                k = s.inputs[0].id if s.prim.name == "slice" else k
            if k in ids:                                    # z[k], E[k] (embedding)
                name, n = spec.inputs[ids[k]].name, int(e.inputs[0].shape[0])
                labels[name] = min(n, labels.get(name, n))
                if e.prim is R.take_row_p:
                    rows.add(name)
    return labels, rows


def _off_torch(a):
    """A torch tensor's numbers (a torch model's parameter requires grad, or is on a GPU: NumPy
    fails on both) as a detached CPU tensor; anything else as it is."""
    if type(a).__module__.startswith("torch") and callable(getattr(a, "detach", None)):
        return a.detach().cpu()
    return a


def as_numbers(what: str, a, dtype, copy: bool = False) -> np.ndarray:
    """``a`` as an array of ``dtype``, or a DataError naming ``what``: NumPy would turn None into NaN
    and fail on text with its own message; neither is a number a program can use."""
    a = _off_torch(a)
    try:
        raw = np.asarray(a)
    except (ValueError, TypeError, RuntimeError) as e:      # ragged nested lists
        raise DataError(f"the {what} cannot be read as a rectangular array of numbers ({e})") from None
    if raw.dtype.kind not in "biuf":
        flat = raw.reshape(-1)
        number = (int, float, np.integer, np.floating)
        bad = next((v for v in flat if not isinstance(v, number)), _MISSING)
        if bad is _MISSING and flat.size:           # numbers NumPy kept as objects (a huge int)
            return np.array(raw, dtype=dtype)
        bad = bad.item() if isinstance(bad, np.generic) else bad
        raise DataError(f"the {what} holds {bad!r} ({type(bad).__name__}); values must be real numbers "
                        f"(no None, text or complex numbers)")
    return np.array(raw, dtype=dtype) if copy else raw.astype(dtype, copy=False)


def check_labels(name: str, a, n: int, rows: bool = False) -> None:
    """Class labels (``rows``: an embedding's row indices) are integers 0 … n − 1: NumPy would read
    −1 as the last class, 1.7 as class 1, and fail on n with an IndexError from inside the generated
    code."""
    a = label_array(name, a)
    ok = (a >= 0) & (a < n) & (a == np.floor(a))      # NaN fails every comparison
    if not ok.all():
        i = int(np.flatnonzero(~ok.reshape(-1))[0])
        per = int(np.prod(a.shape[1:])) if a.ndim > 1 else 1      # (B, L): a bag's indices, L per example
        raise label_range_error(name, n, i // max(per, 1), float(a.reshape(-1)[i]), rows=rows)


def label_array(name: str, a) -> np.ndarray:
    """The labels or indices of the input ``name`` as an array of numbers; text (labels read from a
    CSV file, class names) or objects are a LabelRangeError saying how to make them integers (NumPy
    failed on them with a UFuncTypeError about 'greater_equal')."""
    a = np.asarray(_off_torch(a))
    if a.dtype.kind in "biuf":
        return a
    first = a.reshape(-1)[0] if a.size else None
    shown = f"; the first is {first.item() if isinstance(first, np.generic) else first!r}" if a.size else ""
    raise LabelRangeError(
        f"the input {name!r} holds class labels or indices, integers 0 ... n - 1, but its array is of "
        f"{a.dtype} ({'text' if a.dtype.kind in 'US' else 'objects'}){shown}: numbers as text become "
        f"integers with .astype(int); class names become 0 ... n - 1 with "
        f"classes, labels = numpy.unique(names, return_inverse=True)")


def label_range_error(name: str, n: int, i: int, v: float, more: str = "",
                      rows: bool = False) -> LabelRangeError:
    """The error for the class label ``v`` of example ``i`` of the input ``name`` (n classes), or
    for its index of an embedding's rows (``rows``: n rows)."""
    what = (f"indices of an embedding's rows, integers 0 ... {n - 1} ({n} rows)" if rows
            else f"class labels, integers 0 ... {n - 1} ({n} classes)")
    shown = str(v) if isinstance(v, (int, str)) else f"{v:g}"      # an integer label (int64 on the device) as one
    e = LabelRangeError(f"the input {name!r} holds {what}; example {i} has {shown}{more}")
    e.sample = int(i)               # the example (row of the data), for a caller naming it its own way
    return e


def empty_batch(ispec) -> str:
    names = ", ".join(repr(spec[0]) for spec in ispec)
    return (f"the batch is empty (the inputs {names} have 0 examples); the loss is a mean over the "
            f"batch, so it needs at least one example")


def _looks_like_state(d, slots) -> bool:
    """A dict with an integer step count ``t`` and otherwise only the optimizer's slots (and the
    Triton program's device copy of the count, ``t_device``)."""
    t = d.get("t") if isinstance(d, Mapping) else None
    return (isinstance(t, (int, np.integer)) and not isinstance(t, bool)
            and all(key_name(k) in ("t", "t_device") or key_name(k) in slots for k in d))


def check_state_not_batch(state, batch, inputs, slots) -> None:
    """``step(values, batch, state)``: a batch where the state goes and a state where the batch goes
    is said so. (It was "the optimizer state's step count 't' must be an integer >= 0, got array(...)"
    when an input is named t, as the docs' one-hot target is, or a missing input otherwise.)"""
    if (isinstance(state, Mapping) and state and not _looks_like_state(state, slots)
            and all(key_name(k) in inputs for k in state) and (batch is None or _looks_like_state(batch, slots))):
        raise DataError(f"step(values, state, batch) takes the optimizer state second and the batch third; "
                        f"these look swapped: the second holds the inputs "
                        f"{', '.join(repr(key_name(k)) for k in state)} and the third "
                        f"{'is None' if batch is None else 'the step count t'} "
                        f"(write values, state = program.step(values, state, batch)). Nothing was changed.")


def check_state(state) -> None:
    """The optimizer state: a dict with the step count ``t`` (an integer >= 0) and one dict per slot."""
    if not isinstance(state, Mapping):
        raise DataError(f"the optimizer state must be the dict program.init_state(values) returns, got a "
                        f"{type(state).__name__}")
    t = state.get("t", 0)
    if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or t < 0:
        raise DataError(f"the optimizer state's step count 't' must be an integer >= 0, got {show_value(t)}")


def fit_batch_input(name: str, got: tuple, shape: tuple, want: tuple) -> tuple | None:
    """The batch convention for one input, whatever the array type: an input declared ``shape`` per
    example comes as (B, *want) — None, it fits as it is — or as (B, *shape), e.g. (B, n, 1) for an
    (n, 1) input — the shape to reshape it to. Anything else is a ShapeError naming the input."""
    got = tuple(got)
    if got and got[1:] == want:
        return None
    if got and shape != () and got[1:] == tuple(shape):
        return (got[0],) + tuple(want)
    raise ShapeError(f"the input {name!r} has shape {got}; declared {format_shape(shape)} per "
                     f"example, so a batch of B examples is {_batch_text(want)}")


def same_batch_size(name: str, n: int, B: int | None) -> int:
    """Every input of a batch has the same leading size: B from the first, checked on the rest."""
    if B is not None and n != B:
        raise ShapeError(f"the input {name!r} has {n} examples but an earlier input has {B}; every "
                         f"input of a batch needs the same leading size")
    return n


def _batch_text(want) -> str:
    return "(B" + "".join(f", {d}" for d in want) + ("," if not want else "") + ")"     # (B,) for a scalar


def transpose_hint(got, want, layout: str = "in_out") -> str:
    """For a parameter given with the transpose of its declared 2-D shape, the usual cause. With
    ``layout="in_out"`` (a weight the program reads as ``x @ W``): a torch ``nn.Linear`` weight,
    stored (out, in). With ``layout="out_in"`` (read as ``W·x`` or by ``sg.linear``, torch's own
    layout): a weight stored (in, out), as ``x @ W`` code and Keras keep theirs."""
    got, want = tuple(got), tuple(want)
    if len(got) != 2 or len(want) != 2 or got != want[::-1] or got == want:
        return ""
    if layout == "out_in":
        return (f"; that is the transpose of the declared shape: the program reads this weight as W·x "
                f"(out, in) = {want}, the layout torch's nn.Linear stores — a weight kept (in, out) = {got} "
                f"for x @ W (a Keras Dense kernel, NumPy code) goes in as its transpose, weight.T")
    return (f"; that is the transpose of the declared shape: torch's nn.Linear stores its weight (out, in) "
            f"= {got}, for x @ W.T — pass weight.T, or declare the layer as torch does, "
            f"sg.linear(x, W, b) with W of shape {got}")


def weight_layout(program, name) -> str:
    """How ``program`` reads its 2-D parameter ``name`` in a product: "out_in" (W·x, ``sg.linear``:
    the fan-in is the last axis) or "in_out" (``x @ W``: the fan-in is the first); "in_out" when it
    is not read as a product's weight. For `transpose_hint`, when a shape error is raised."""
    from .training_init import param_roles
    try:
        role = param_roles(program).get(name)
    except Exception:                   # noqa: BLE001 - only the wording of an error depends on it
        return "in_out"
    shape = next((tuple(int(d) for d in p.shape) for p in program.params if p.name == name), None)
    if role and role[0] == "weight" and shape and len(shape) == 2 and shape[0] != shape[1] \
            and role[1] == shape[1]:
        return "out_in"
    return "in_out"
