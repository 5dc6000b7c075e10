"""One table of tensor expressions, one row per primitive and per NumPy idiom; each row's gradient by
`sg.grad` (evaluated by `sg.numeric`, and so through the IR again) equals torch.autograd in float64
to 1e-9. The loss of a row is Σ out ⊙ D with a fixed random D of out's shape (a cotangent that is
not all ones, so a transpose or a wrong axis shows). Every gradient is also checked to be a tensor
expression of the symbol's shape, in NumPy's vocabulary (no matrix-calculus node, no KroneckerDelta).

Points are random normals (no ties for max, no kinks at 0 with probability one).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)
NV = 4                                   # the value N takes in the tests
rng = np.random.default_rng(20261129)
T = torch


@dataclass
class Row:
    name: str
    decl: dict                            # name -> shape (N allowed); names starting "i_" are integer
    f: Callable                           # symbols -> tensor expression (any shape)
    torch_f: Callable                     # torch tensors -> tensor
    values: dict = field(default_factory=dict)   # explicit values (integer tensors)


def _shape(s):
    return tuple(NV if d == N else d for d in s)     # == : an equal N may be another object (SymPy's cache evicts)


ROWS = [
    # ---- elementwise with NumPy broadcasting, in every direction
    Row("add-broadcast-both", {"x": (4, 1, 3), "y": (5, 1)}, lambda x, y: x + y, lambda x, y: x + y),
    Row("mul-broadcast-row", {"x": (N, 3), "b": (3,)}, lambda x, b: x * b - b, lambda x, b: x * b - b),
    Row("div-broadcast-column", {"x": (N, 3), "c": (N, 1)}, lambda x, c: x / (c ** 2 + 1),
        lambda x, c: x / (c ** 2 + 1)),
    Row("pow-scalar-symbol", {"x": (2, 3)}, lambda x: (x ** 2 + 1) ** sp.Rational(3, 2) * 2,
        lambda x: (x ** 2 + 1) ** 1.5 * 2),
    Row("rsub-rdiv", {"x": (3,)}, lambda x: 1 - 2 / (x ** 2 + 1), lambda x: 1 - 2 / (x ** 2 + 1)),
    Row("functions", {"x": (2, 3)}, lambda x: sp.tanh(x) + sp.exp(x) * sp.sin(x) + sp.log(x ** 2 + 1)
        + sp.sqrt(x ** 2 + 2) + sp.Abs(x) + sp.erf(x),
        lambda x: T.tanh(x) + T.exp(x) * T.sin(x) + T.log(x ** 2 + 1) + T.sqrt(x ** 2 + 2) + x.abs()
        + T.erf(x)),
    Row("activations", {"x": (N, 3)}, lambda x: sg.sigmoid(x) + sg.relu(x) * 3 + sg.softplus(x),
        lambda x: T.sigmoid(x) + T.relu(x) * 3 + T.nn.functional.softplus(x)),
    Row("Max-of-tensors", {"x": (N, 3), "y": (3,)}, lambda x, y: sp.Max(x, y) + sp.Min(x, 0),
        lambda x, y: T.maximum(x, y) + T.clamp(x, max=0)),
    Row("elementwise-map", {"x": (2, 3)}, lambda x: sg.elementwise(lambda t: t ** 3 - t, x).sum(axis=0),
        lambda x: (x ** 3 - x).sum(0)),
    # ---- reductions: axes, negative axes, keepdims
    Row("sum-all", {"x": (N, 3)}, lambda x: sg.sum(x ** 2) * x, lambda x: (x ** 2).sum() * x),
    Row("sum-axis0", {"x": (N, 3)}, lambda x: x.sum(axis=0), lambda x: x.sum(0)),
    Row("sum-negative-keepdims", {"x": (2, 3, 4)}, lambda x: x * x.sum(axis=-1, keepdims=True),
        lambda x: x * x.sum(-1, keepdim=True)),
    Row("sum-two-axes", {"x": (2, 3, 4)}, lambda x: sg.sum(x ** 2, axis=(0, 2)),
        lambda x: (x ** 2).sum((0, 2))),
    Row("mean", {"x": (N, 3, 2)}, lambda x: x.mean(axis=(0, 2), keepdims=True) * x,
        lambda x: x.mean((0, 2), keepdim=True) * x),
    Row("mean-all", {"x": (N, 3)}, lambda x: x.mean() * sp.tanh(x), lambda x: x.mean() * T.tanh(x)),
    Row("var-batch-norm", {"x": (N, 3)}, lambda x: (x - x.mean(axis=0)) / sp.sqrt(x.var(axis=0) + 1e-5),
        lambda x: (x - x.mean(0)) / T.sqrt(x.var(0, unbiased=False) + 1e-5)),
    Row("var-correction", {"x": (N, 3)}, lambda x: sg.var(x, axis=-1, keepdims=True, correction=1) * x,
        lambda x: x.var(-1, keepdim=True, correction=1) * x),
    Row("max-axis", {"x": (N, 5)}, lambda x: x.max(axis=1), lambda x: x.max(1).values),
    Row("max-keepdims", {"x": (N, 5)}, lambda x: x - x.max(axis=-1, keepdims=True),
        lambda x: x - x.max(-1, keepdim=True).values),
    Row("max-all", {"x": (3, 4)}, lambda x: sg.max(x) * x, lambda x: x.max() * x),
    Row("max-two-axes", {"x": (2, 3, 4)}, lambda x: x.max(axis=(0, 2)), lambda x: x.amax((0, 2))),
    Row("min-axis", {"x": (3, 4)}, lambda x: sg.min(x, axis=0), lambda x: x.min(0).values),
    # ---- movement: reshape, transpose, broadcast
    Row("reshape-minus-one", {"x": (N, 3, 2), "w": (6, 5), "b": (5,)},
        lambda x, w, b: x.reshape(N, -1) @ w + b, lambda x, w, b: x.reshape(NV, -1) @ w + b),
    Row("reshape-flat", {"x": (2, 3, 4)}, lambda x: sp.tanh(x.reshape(-1)) * 2,
        lambda x: T.tanh(x.reshape(-1)) * 2),
    Row("transpose-axes", {"x": (2, 3, 4)}, lambda x: x.transpose(1, 0, 2) * 3,
        lambda x: x.permute(1, 0, 2) * 3),
    Row("T-3d", {"x": (2, 3, 4)}, lambda x: x.T, lambda x: x.permute(2, 1, 0)),
    Row("T-2d", {"x": (N, 3), "w": (N, 2)}, lambda x, w: x.T @ w, lambda x, w: x.T @ w),
    Row("broadcast-to", {"x": (3, 1)}, lambda x: sg.broadcast(x, (2, 3, 4)) * 1,
        lambda x: T.broadcast_to(x, (2, 3, 4)) * 1),
    # ---- indexing and slicing
    Row("slice-strided", {"x": (N, 6)}, lambda x: x[:, 1::2] * x[:, 0:5:2],
        lambda x: x[:, 1::2] * x[:, 0:5:2]),
    Row("slice-int-and-step", {"x": (5, 3)}, lambda x: x[::2, 0] + x[-1, 1], lambda x: x[::2, 0] + x[-1, 1]),
    Row("slice-ellipsis-newaxis", {"x": (2, 3, 4)}, lambda x: x[..., 1:3] * x[:, None, 0, 1:3],
        lambda x: x[..., 1:3] * x[:, None, 0, 1:3]),
    Row("lstm-gates", {"h": (N, 8)}, lambda h: sg.sigmoid(h[:, :2]) * sp.tanh(h[:, 2:4]) + h[:, 6:],
        lambda h: T.sigmoid(h[:, :2]) * T.tanh(h[:, 2:4]) + h[:, 6:]),
    # ---- joining, selecting
    Row("concat", {"x": (N, 2), "y": (N, 3)}, lambda x, y: sg.concat([x, y ** 2, x], axis=1),
        lambda x, y: T.cat([x, y ** 2, x], 1)),
    Row("concat-negative-axis", {"x": (2, 3), "y": (1, 3)}, lambda x, y: sg.concat([x, y], axis=-2),
        lambda x, y: T.cat([x, y], -2)),
    Row("stack", {"x": (2, 3), "y": (2, 3)}, lambda x, y: sg.stack([x, y * x], axis=-1),
        lambda x, y: T.stack([x, y * x], -1)),
    Row("where", {"x": (N, 3), "y": (3,)}, lambda x, y: sg.where(x > 0, x * y, y ** 2),
        lambda x, y: T.where(x > 0, x * y, (y ** 2).expand(NV, 3))),
    # ---- matrix products
    Row("matmul-2d", {"a": (N, 3), "b": (3, 2)}, lambda a, b: a @ b, lambda a, b: a @ b),
    Row("matmul-batched", {"a": (2, 3, 4), "b": (2, 4, 5)}, lambda a, b: a @ b, lambda a, b: a @ b),
    Row("matmul-batched-broadcast", {"a": (1, 3, 4), "b": (2, 4, 5)}, lambda a, b: a @ b,
        lambda a, b: a @ b),
    Row("matmul-sequence-by-matrix", {"x": (N, 3, 4), "w": (4, 5)}, lambda x, w: x @ w,
        lambda x, w: x @ w),
    Row("matmul-vector", {"a": (3, 4), "v": (4,), "u": (3,)}, lambda a, v, u: (a @ v) * (u @ a).sum(),
        lambda a, v, u: (a @ v) * (u @ a).sum()),
    Row("matmul-vectors", {"u": (3,), "v": (3,)}, lambda u, v: (u @ v) * u, lambda u, v: (u @ v) * u),
    # ---- integer indices: take, embedding, take_along_axis, one_hot (repeated indices)
    Row("embedding-repeats", {"W": (5, 3), "i_idx": (6,)}, lambda W, idx: sg.embedding(W, idx) * 2,
        lambda W, idx: W[idx] * 2, {"i_idx": np.array([1, 1, 3, 0, 1, 3])}),
    Row("W-of-idx-2d", {"W": (5, 3), "i_idx": (2, 3)}, lambda W, idx: sp.tanh(W[idx]),
        lambda W, idx: T.tanh(W[idx]), {"i_idx": np.array([[4, 0, 4], [2, 4, 0]])}),
    Row("take-axis1", {"x": (3, 4), "i_idx": (5,)}, lambda x, idx: sg.take(x, idx, axis=1) ** 2,
        lambda x, idx: x[:, idx] ** 2, {"i_idx": np.array([3, 0, 3, 3, 1])}),
    Row("take-along-axis", {"x": (N, 5), "i_y": (N,)}, lambda x, y: sg.take_along_axis(x, y[:, None], 1),
        lambda x, y: T.take_along_dim(x, y[:, None], 1), {"i_y": np.array([4, 0, 4, 2])}),
    Row("take-along-axis-k", {"x": (3, 5), "i_y": (3, 2)}, lambda x, y: sg.take_along_axis(x, y, axis=-1),
        lambda x, y: T.take_along_dim(x, y, -1), {"i_y": np.array([[0, 0], [4, 1], [2, 2]])}),
    Row("one-hot", {"x": (N, 3), "i_y": (N,)}, lambda x, y: x * sg.one_hot(y, 3),
        lambda x, y: x * T.nn.functional.one_hot(y, 3), {"i_y": np.array([2, 0, 2, 1])}),
    # ---- small layers (cs231n-style declarations)
    Row("affine-relu", {"x": (N, 3, 2), "w": (6, 5), "b": (5,)},
        lambda x, w, b: sg.relu(x.reshape(N, -1) @ w + b), lambda x, w, b: T.relu(x.reshape(NV, -1) @ w + b)),
    Row("rnn-step", {"x": (N, 3), "h": (N, 4), "Wx": (3, 4), "Wh": (4, 4), "b": (4,)},
        lambda x, h, Wx, Wh, b: sp.tanh(x @ Wx + h @ Wh + b),
        lambda x, h, Wx, Wh, b: T.tanh(x @ Wx + h @ Wh + b)),
    # ---- the softmax family over an axis, cross-entropy with labels or probabilities
    Row("softmax-last", {"s": (N, 3)}, lambda s: sg.softmax(s, axis=-1), lambda s: T.softmax(s, -1)),
    Row("softmax-axis0", {"s": (3, 4)}, lambda s: sg.softmax(s * 2, axis=0), lambda s: T.softmax(s * 2, 0)),
    Row("log-softmax-3d", {"s": (2, 3, 4)}, lambda s: sg.log_softmax(s, axis=1),
        lambda s: T.log_softmax(s, 1)),
    Row("logsumexp-keepdims", {"s": (N, 3)}, lambda s: s - sg.logsumexp(s, axis=1, keepdims=True),
        lambda s: s - T.logsumexp(s, 1, keepdim=True)),
    Row("cross-entropy-labels", {"s": (N, 3), "i_y": (N,)}, lambda s, y: sg.cross_entropy(s, y),
        lambda s, y: T.nn.functional.cross_entropy(s, y), {"i_y": np.array([2, 0, 2, 1])}),
    Row("cross-entropy-labels-sum", {"x": (N, 5), "W": (5, 3), "i_y": (N,)},
        lambda x, W, y: sg.cross_entropy(x @ W, y, reduction="sum"),
        lambda x, W, y: T.nn.functional.cross_entropy(x @ W, y, reduction="sum"),
        {"i_y": np.array([1, 1, 0, 2])}),
    Row("cross-entropy-none-axis1", {"s": (2, 3, 4), "i_y": (2, 4)},
        lambda s, y: sg.cross_entropy(s, y, axis=1, reduction="none"),
        lambda s, y: T.nn.functional.cross_entropy(s, y, reduction="none"),
        {"i_y": np.array([[0, 2, 2, 1], [1, 1, 0, 2]])}),
    Row("cross-entropy-probabilities", {"s": (N, 3), "t": (N, 3)},
        lambda s, t: sg.cross_entropy(s, sg.softmax(t, axis=1)),
        lambda s, t: T.nn.functional.cross_entropy(s, T.softmax(t, 1))),
    Row("svm-loss", {"s": (N, 4), "i_y": (N,)}, lambda s, y: (sg.sum(sp.Max(
        s - sg.take_along_axis(s, y[:, None], axis=1) + 1, 0), axis=1) - 1).mean(),
        lambda s, y: (T.clamp(s - s.gather(1, y[:, None]) + 1, min=0).sum(1) - 1).mean(),
        {"i_y": np.array([3, 0, 3, 1])}),
    Row("attention", {"q": (2, 3, 4), "k": (2, 3, 4), "v": (2, 3, 4)},
        lambda q, k, v: _softmax_last(q @ k.transpose(0, 2, 1) / 2) @ v,
        lambda q, k, v: T.softmax(q @ k.transpose(1, 2) / 2, -1) @ v),
]


def _softmax_last(s):
    e = sp.exp(s - s.max(axis=-1, keepdims=True))
    return sg.as_tensor(e) / sg.sum(e, axis=-1, keepdims=True)


def _symbols(row):
    return {k: sg.tensor(k[2:] if k.startswith("i_") else k, s, integer=k.startswith("i_"))
            for k, s in row.decl.items()}


def _values(row):
    vals = {}
    for k, s in row.decl.items():
        vals[k] = row.values[k] if k in row.values else rng.normal(size=_shape(s))
    return vals


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_gradient_equals_torch(row):
    syms = _symbols(row)
    vals = _values(row)
    out = sg.as_tensor(row.f(*syms.values()))
    D = sg.tensor("D", out.shape)
    Dv = rng.normal(size=_shape(out.shape))
    loss = sg.sum(out * D)
    real = [k for k in syms if not k.startswith("i_")]
    grads = sg.grad(loss, [syms[k] for k in real])

    point = {syms[k].name: v for k, v in vals.items()}
    point["D"] = Dv
    point[N] = NV                          # N may appear only in a shape of the gradient
    ts = {k: T.tensor(v, dtype=T.long) if k.startswith("i_") else
          T.tensor(v, dtype=T.float64, requires_grad=True) for k, v in vals.items()}
    tout = row.torch_f(*ts.values())
    (tout * T.tensor(Dv)).sum().backward()

    for k, g in zip(real, grads):
        assert sg.tensor("_", (1,)).__class__ is type(syms[k])
        assert isinstance(g, sg.frontend.tensor.TensorExpr) or sp.sympify(g).is_number, (k, g)
        assert tuple(g.shape) == tuple(syms[k].shape), f"∂/∂{k} has shape {g.shape}"
        assert not g.has(sp.KroneckerDelta, sp.MatrixExpr), f"∂/∂{k} = {g}"
        got = np.asarray(sg.numeric(g, point), dtype=float)
        np.testing.assert_allclose(got, ts[k].grad.numpy(), rtol=1e-9, atol=1e-11, err_msg=f"∂/∂{k}: {g}")


def test_forward_values_equal_torch():
    """The forward value of every row, by the reference evaluator, equals torch's."""
    for row in ROWS:
        syms = _symbols(row)
        vals = _values(row)
        out = sg.as_tensor(row.f(*syms.values()))
        got = np.asarray(sg.numeric(sg.sum(out * out), {N: NV, **{syms[k].name: v for k, v in vals.items()}}))
        ts = [T.tensor(v, dtype=T.long) if k.startswith("i_") else T.tensor(v, dtype=T.float64)
              for k, v in vals.items()]
        want = (row.torch_f(*ts).double() ** 2).sum().item()
        np.testing.assert_allclose(got, want, rtol=1e-10, err_msg=row.name)


def test_the_steps_of_a_constant_matrix_applied_to_a_batch_print():
    """tril(ones((2, 2))) @ h with h (N, C, 2, 2): the constant's broadcast copy reads as the 2-D
    constant in the steps, and the transpose of the batched product's backward is then one of its
    own axes (it raised 'tuple index out of range', and the steps were unavailable). sg.interpolate's
    bilinear map is such a product."""
    import symgrad as sg
    x, w = sg.tensor("x", (2, 1, 2, 2)), sg.tensor("w", (1, 2, 2))
    for loss in (sg.sum((sg.tril(sg.ones((2, 2))) @ (w * x)) ** 2),
                 sg.sum(sg.interpolate(x * w, scale_factor=2, mode="bilinear") ** 2)):
        text = str(sg.derive(loss, w))
        assert "steps unavailable" not in text and "Backward pass" in text, text[-300:]
