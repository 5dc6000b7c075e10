"""A compiled NumPy program's logsumexp of a row that is −inf throughout (2026-12-01): the
generated code shifted by the row max, −inf − (−inf) = NaN, so the loss was NaN where torch's is
−inf (or finite: exp(logsumexp) of that row is 0). The generated code now shifts by 0 where the max
is not finite (`codegen/printers/numpy_tensor.py`, both the lse alone and the lse that keeps its
softmax). Compared with torch.autograd, loss and gradient, in float64 and float32; the gradient is
NaN in both (torch's softmax of that row is)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")
N = sp.Symbol("N", integer=True, positive=True)
C = 3
Z = np.array([[-np.inf] * C, [1.0, 2.0, -np.inf], [0.0, 1.0, 2.0], [-3.0, 0.5, 80.0]])
W = np.array([0.5, -1.0, 0.25])
LOSSES = {"mean lse": (lambda l: l.mean(), lambda t: t.mean()),
          "mean exp(lse)": (lambda l: sp.exp(l).mean(), lambda t: torch.exp(t).mean())}


def _torch(loss, dtype, rows=Z):
    w = torch.tensor(W, dtype=dtype, requires_grad=True)
    out = loss(torch.logsumexp(torch.tensor(rows, dtype=dtype) + w, 1))
    out.backward()
    return out.item(), w.grad.numpy()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("which", list(LOSSES))
@pytest.mark.parametrize("declared", ["whole batch", "per example"])
def test_compiled_logsumexp_of_a_row_of_minus_inf_is_torch_s(declared, which, dtype):
    ours, theirs = LOSSES[which]
    w = sg.tensor("w", (C,))
    if declared == "whole batch":
        z = sg.tensor("z", (N, C))
        loss = ours(sg.logsumexp(z + w, axis=1))
    else:
        z = sg.tensor("z", (C,))
        loss = sg.logsumexp(z + w) if which == "mean lse" else sp.exp(sg.logsumexp(z + w))
    prog = sg.compile(loss, [w], [z], dtype=dtype)
    want, want_grad = _torch(theirs, getattr(torch, dtype))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)        # log 0, 0/0 of the masked row, as torch's
        got = prog.loss({"w": W}, {"z": Z})
        grad = prog.grad({"w": W}, {"z": Z})["w"]
    assert not np.isnan(got)
    assert got == pytest.approx(want, rel=1e-13 if dtype == "float64" else 1e-6)
    assert np.isnan(grad).all() and np.isnan(want_grad).all()
    # the rows that are not masked: torch's gradient, the common case unchanged
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        g = prog.grad({"w": W}, {"z": Z[2:]})["w"]
    _, want_rest = _torch(theirs, getattr(torch, dtype), Z[2:])
    np.testing.assert_allclose(g, want_rest, rtol=1e-12 if dtype == "float64" else 1e-5)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("which", list(LOSSES))
def test_matrix_column_logsumexp_of_minus_inf_is_torch_s(which, dtype):
    """A column declared as a MatrixSymbol (per example, `codegen/schedule.py`'s writer)."""
    z, b = sp.MatrixSymbol("z", C, 1), sp.MatrixSymbol("b", C, 1)
    loss = sg.logsumexp(z + b) if which == "mean lse" else sp.exp(sg.logsumexp(z + b))
    prog = sg.compile(loss, [b], [z], dtype=dtype)
    want, want_grad = _torch(LOSSES[which][1], getattr(torch, dtype))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        got = prog.loss({"b": W[:, None]}, {"z": Z})
        grad = prog.grad({"b": W[:, None]}, {"z": Z})["b"]
    assert got == pytest.approx(want, rel=1e-13 if dtype == "float64" else 1e-6)
    assert np.isnan(grad).all() and np.isnan(want_grad).all()
    g = prog.grad({"b": W[:, None]}, {"z": Z[2:]})["b"]
    np.testing.assert_allclose(np.ravel(g), _torch(LOSSES[which][1], getattr(torch, dtype), Z[2:])[1],
                               rtol=1e-12 if dtype == "float64" else 1e-5)


@pytest.mark.parametrize("keep_softmax", [False, True])
def test_logsumexp_of_a_parameter_of_minus_inf_is_minus_inf(keep_softmax):
    """One z shared by the batch (a parameter's logsumexp, a 0-d max): −inf, as torch's."""
    b, x = sp.MatrixSymbol("b", C, 1), sp.MatrixSymbol("x", C, 1)
    lse = sg.logsumexp(b)
    loss = (sp.exp(lse) if keep_softmax else lse) + sg.sum(x)
    prog = sg.compile(loss, [b], [x], dtype="float64")
    assert "_max = p0.max()" in prog.source           # the 0-d max this test is about
    B = np.full((C, 1), -np.inf)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        got = prog.loss({"b": B}, {"x": np.ones((2, C))})
    t = torch.logsumexp(torch.tensor(B[:, 0]), 0)
    want = (torch.exp(t) if keep_softmax else t).item() + C
    assert want == (C if keep_softmax else -np.inf)
    assert got == want
