"""The probability targets of a softmax cross-entropy over tensors, drawn as distributions.

11-785's `CrossEntropyLoss` takes one-hot rows Y of the logits' shape (N, C) and writes
L = Σ −Y ⊙ log softmax(A) / N, whose gradient (softmax(A) − Y)/N holds only where each row of Y sums
to 1; torch's `F.cross_entropy(A, Y)` with probabilities is the same. Such a Y drawn from N(0, 1)
made that right backward read "not equal". A real tensor that multiplies a `log_softmax` (or the
log of a `softmax`) of its own shape, and is not differentiated, is a target: each of its slices
along the softmax's axis is drawn on the simplex (`targets=` as for a column target).

>>> import sympy as sp, symgrad as sg
>>> N = sp.Symbol("N", integer=True, positive=True)
>>> A, Y = sg.tensor("A", (N, 4)), sg.tensor("Y", (N, 4))
>>> {t.name: axis for t, axis in tensor_targets(sg.sum(-Y * sg.log_softmax(A, axis=1)) / N, [A]).items()}
{'Y': 1}
>>> tensor_targets(sg.sum((sg.softmax(A, axis=1) - Y) ** 2), [A])
{}
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from ..frontend import tensor as T


def _softmax_axis(e):
    """The axis of the log-softmax that ``e`` is (log_softmax(z, k), log(softmax(z, k))), or None."""
    from ..frontend.tensor_softmax import LogSoftmaxT, SoftmaxT
    e = e.expr if isinstance(e, T.Ewise) else e
    if isinstance(e, LogSoftmaxT):
        return e.axis, tuple(e.shape)
    if isinstance(e, sp.log) and isinstance(e.args[0], SoftmaxT):
        return e.args[0].axis, tuple(e.args[0].shape)
    return None


def tensor_targets(f, params) -> dict:
    """{target tensor: the axis its entries sum to 1 along}: the real tensors of ``f`` that are not in
    ``params`` and are a factor of a product with a log-softmax of the same shape."""
    pnames = {getattr(w, "name", None) for w in params}
    found = {}
    for node in sp.preorder_traversal(sp.sympify(f)):
        if not isinstance(node, sp.Mul):
            continue
        logs = [a for a in map(_softmax_axis, node.args) if a is not None]
        for a in node.args:
            if (isinstance(a, T.Tensor) and not a.is_integer_tensor and a.name not in pnames
                    and len(a.shape) >= 1):
                for axis, shape in logs:
                    if tuple(a.shape) == shape:
                        found[a] = axis
    return found


def draw_tensor_target(shape, axis: int, rng: np.random.Generator, kind: str) -> np.ndarray:
    """An array of ``shape`` whose slices along ``axis`` are each uniform on the simplex
    (Dirichlet(1, …, 1)) or, for ``kind="one-hot"``, each a random one-hot vector."""
    shape = tuple(int(d) for d in shape)
    n = shape[axis]
    rest = shape[:axis] + shape[axis + 1:]
    m = int(np.prod(rest, dtype=int))
    if kind == "one-hot":
        v = np.eye(n)[rng.integers(n, size=m)]
    else:
        v = rng.dirichlet(np.ones(n), size=m)
    return np.moveaxis(v.reshape(rest + (n,)), -1, axis)
