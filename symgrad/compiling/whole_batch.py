"""Whole-batch declarations: a network written over the batch, as cs231n and PyTorch code write it.

``x`` has shape (N, D) with a symbolic N (``N = sp.Symbol("N", integer=True, positive=True)``) and
the loss says how the batch is reduced (``sg.cross_entropy`` takes the mean over N; batch norm's
statistics are ``sg.mean(z, axis=0)``, ``sg.var(z, axis=0)``). `compile` tells the two kinds apart
by that symbolic size (``shared/DESIGN.md``): with one, the declaration is whole-batch and the
program runs it as declared — arrays in their declared shapes, N bound from the arrays, no batch
axis added and no mean taken; without one, it is per-example (the batch axis is added at run time).

>>> import numpy as np, sympy as sp, symgrad as sg
>>> N = sp.Symbol("N", integer=True, positive=True)
>>> x, y, w = sg.tensor("x", (N, 2)), sg.tensor("y", (N,)), sg.tensor("w", (2,))
>>> prog = sg.compile(sg.mean((x @ w - y) ** 2), [w], [x, y], dtype="float64")
>>> batch = {"x": np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]]), "y": np.array([1.0, 2.0, 3.0])}
>>> prog.grad({"w": np.zeros(2)}, batch)["w"]           # 2/N · xᵀ(xw − y), N = 3 from the arrays
array([-2.66666667, -4.66666667])
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from ..errors import DataError, LabelRangeError, ShapeError
from .batch_checks import label_array
from .batch_kind import ignored_label_values, label_bounds
from .compiler import Program


class WholeBatchProgram(Program):
    """A `Program` of a whole-batch declaration: inputs in their declared shapes, any N (bound from
    the arrays, the same for every input that has it); the loss as declared. ``step`` and
    `symgrad.compiling.training.train` work as for a per-example program: a minibatch is passed
    through as it is."""

    def __init__(self, spec, compiled, seed: int = 0):
        super().__init__(spec, compiled, seed)
        self._bounds = {spec.inputs[i].name: b for i, b in label_bounds(spec).items()}
        self._ignored = {spec.inputs[i].name: v for i, v in ignored_label_values(spec).items()}
        # Each declared size, read once here so that a call compares plain integers: an int, a
        # batch symbol (bound by the first input that has it), or an expression of those symbols.
        self._dims = [dim_forms(shape) for (_, _, shape, _) in self._ispec]

    def _batch_arrays(self, batch, kind: str) -> list:
        out, sizes, indices = [], {}, []
        for (name, sym, shape, _), dims, needed in zip(self._ispec, self._dims, self._needs[kind]):
            if not needed:
                out.append(None)
                continue
            a = self._input_array(batch, name, sym)
            before = dict(sizes)
            if not fits(dims, a.shape, sizes):
                bound = ", ".join(f"{k} = {v}" for k, v in before.items())
                raise ShapeError(f"the input {name!r} has shape {a.shape}; it is declared {_text(shape)}"
                                 + (f" with {bound} (from the inputs before it)" if bound and a.ndim == len(shape)
                                    else ""))
            if name in self._bounds:
                indices.append((name, a))
            out.append(a)
        for name, a in indices:         # once every size is bound: an input after idx may bind its range
            _check_labels(name, a, self._bounds[name], sizes, self._ignored.get(name))
        empty = [k.name for k, v in sizes.items() if v == 0]
        if empty and kind != "forward":
            raise DataError(f"the batch is empty ({empty[0]} = 0); the loss needs at least one example")
        return out


def fits(dims, got: tuple, sizes: dict) -> bool:
    """Whether an array of shape ``got`` fits the declared sizes ``dims`` (`dim_forms`): a number
    exactly, a symbol (N) as bound in ``sizes`` by an earlier array — or bound here, into ``sizes``
    — and an expression of symbols (2·N) as they make it. The one matching of a whole-batch input's
    shape, for a call (`WholeBatchProgram`) and for all the data before training
    (`symgrad.compiling.training`)."""
    if len(got) != len(dims):
        return False
    for (form, d), n in zip(dims, got):
        if form == "sym":
            want = sizes.setdefault(d, n)
        elif form == "int":
            want = d
        else:
            want = d.xreplace({k: sp.Integer(v) for k, v in sizes.items()})
            want = int(want) if want.is_Integer else n
        if want != n:
            return False
    return True


def dim_forms(shape) -> tuple:
    """Each declared size of ``shape`` as ("int", n), ("sym", N) or ("expr", 2·N), for `fits`."""
    return tuple(_dim_form(d) for d in shape)


def _dim_form(d) -> tuple:
    d = sp.sympify(d)
    if d.is_Integer:
        return ("int", int(d))
    if d.is_Symbol:
        return ("sym", d)
    return ("expr", d)


def _text(shape) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _check_labels(name: str, a, n, sizes: dict, ignored=None) -> None:
    """Labels and indices are whole numbers 0 … n − 1 (``n`` may be a size bound in ``sizes``), or
    ``ignored`` (torch's ignore_index of the loss that reads them). NumPy would read −1 as the last
    class or row (torch raises: ``nn.Embedding``, ``cross_entropy``), 1.7 as class 1, and fail on n
    with an IndexError from inside the generated code."""
    n = sp.sympify(n)
    n = int(n) if n.is_Integer else int(n.xreplace({k: sp.Integer(v) for k, v in sizes.items()}))
    a = label_array(name, a)
    ok = (a >= 0) & (a < n) & (a == np.floor(a))           # NaN fails every comparison
    if ignored is not None:
        ok |= a == ignored
        if a.size and (a == ignored).all():
            raise LabelRangeError(f"the input {name!r}: every label is the ignore_index {ignored}, so the loss's "
                                  f"mean is over no labels, 0/0 (torch gives a NaN loss and zero gradients; "
                                  f"here the gradients would be NaN too): leave this batch out")
    if not ok.all():
        raise label_error(name, n, a, ok, ignored)


def label_error(name: str, n: int, a, ok, ignored=None) -> LabelRangeError:
    """The error for the first entry of ``a`` (the input ``name``) where ``ok`` is False."""
    i = int(np.flatnonzero(~np.asarray(ok).reshape(-1))[0])
    v = float(np.asarray(a).reshape(-1)[i])
    where = f"entry {i}" if a.ndim == 1 else f"entry {np.unravel_index(i, a.shape)}"
    why = ("a negative index (NumPy would read it from the end, silently); -100 is torch's default "
           "ignore_index, the label of padding its cross_entropy leaves out: symgrad leaves it out where "
           "told, sg.cross_entropy(logits, y, ignore_index=-100), in every loss that reads these labels"
           if v == -100 and ignored is None else
           "a negative index (NumPy would read it from the end, silently; torch refuses it)" if v < 0
           else f"past the last one, {n - 1}" if v >= n else "not a whole number" if v == v else "NaN")
    also = "" if ignored is None else f" or {ignored} (the ignore_index)"
    e = LabelRangeError(f"the input {name!r} holds labels or indices, integers 0 ... {n - 1} (an axis of "
                        f"{n}){also}; {where} is {v:g}: {why}")
    e.sample = int(np.unravel_index(i, np.shape(a))[0]) if np.ndim(a) else None   # its row of the data
    return e
