"""sg.diagonal, sg.diag, sg.trace and x.diagonal(), x.diag(), x.trace() as torch's (2026-12-01,
twelfth session: each was an AttributeError — CLIP's loss reads -logits.diag().mean()), and torch's
x.logsumexp(dim=(1, 2)) over several axes (an AxisError that said a tuple was allowed). Values and
gradients against torch.autograd in float64."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.frontend.matrix_diagonal import DiagonalOf

torch = pytest.importorskip("torch")
rng = np.random.default_rng(5)


def _compare(f_sg, f_torch, shape):
    x = sg.tensor("x", shape)
    xv = rng.normal(size=shape)
    f = f_sg(x)
    t = torch.tensor(xv, requires_grad=True)
    want = f_torch(t)
    assert tuple(f.shape) == tuple(want.shape)
    np.testing.assert_allclose(np.asarray(sg.numeric(f, {x: xv}), float), want.detach().numpy(), rtol=1e-12)
    (want ** 2).sum().backward()
    g = sg.grad(sg.sum(f ** 2), x)
    np.testing.assert_allclose(np.asarray(sg.numeric(g, {x: xv}), float), t.grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("shape,kw", [
    ((4, 4), {}), ((3, 5), {}), ((5, 3), {"offset": 1}), ((4, 4), {"offset": -2}),
    ((2, 3, 3), {"dim1": 1, "dim2": 2}), ((3, 2, 4), {"dim1": 0, "dim2": -1, "offset": 1}),
])
def test_diagonal_as_torchs(shape, kw):
    _compare(lambda x: x.diagonal(**kw), lambda t: t.diagonal(**kw), shape)
    _compare(lambda x: sg.diagonal(x, **kw), lambda t: torch.diagonal(t, **kw), shape)


@pytest.mark.parametrize("shape,k", [((3,), 0), ((4, 4), 0), ((3, 4), 1)])
def test_diag_and_trace_as_torchs(shape, k):
    _compare(lambda x: sg.diag(x, k), lambda t: torch.diag(t, k), shape)
    if len(shape) == 2:
        _compare(lambda x: x.trace(), lambda t: t.trace(), shape)


def test_clip_loss_with_a_symbolic_batch_compiles():
    N = sp.Symbol("N", integer=True, positive=True)
    x, y, W = sg.tensor("x", (N, 4)), sg.tensor("y", (N, 3)), sg.tensor("W", (4, 3))
    s = (x @ W) @ y.T
    loss = -s.diag().mean() + s.logsumexp(1).mean()
    xv, yv, Wv = rng.normal(size=(5, 4)), rng.normal(size=(5, 3)), rng.normal(size=(4, 3))
    tW = torch.tensor(Wv, requires_grad=True)
    ts = (torch.tensor(xv) @ tW) @ torch.tensor(yv).T
    (-ts.diag().mean() + ts.logsumexp(1).mean()).backward()
    prog = sg.compile(loss, params=[W], inputs=[x, y], dtype="float64")
    np.testing.assert_allclose(prog.grad({"W": Wv}, {"x": xv, "y": yv})["W"], tW.grad.numpy(), rtol=1e-12)


def test_matrix_expressions_take_sympys_diag_and_trace():
    v, M = sp.MatrixSymbol("v", 3, 1), sp.MatrixSymbol("M", 3, 3)
    assert sg.diag(v) == sp.DiagMatrix(v) and sg.diag(v.T) == sp.DiagMatrix(v.T)
    assert sg.diag(M) == DiagonalOf(M) and sg.trace(M) == sp.Trace(M)
    # symgrad's DiagonalOf (SymPy's own has no .shape of an explicit matrix): numbers give the column
    Mv = sp.Matrix(3, 3, lambda i, j: 10 * i + j)
    assert sg.diag(M).subs(M, Mv).doit() == sp.Matrix([0, 11, 22])
    with pytest.raises(sg.ShapeError, match=r"a column, a row or a square matrix"):
        sg.diag(sp.MatrixSymbol("R", 2, 3))
    with pytest.raises(sg.ArgumentError, match=r"main diagonal only \(diagonal=0\)"):
        sg.diag(M, 1)


@pytest.mark.parametrize("call,err,match", [
    (lambda: sg.diagonal(sg.tensor("v", (3,))), sg.ShapeError, "takes two axes or more"),
    (lambda: sg.diagonal(sg.tensor("m", (3, 3)), 3), sg.ShapeError, "leaves no entry"),
    (lambda: sg.tensor("c", (2, 3, 4)).trace(), sg.ShapeError, "torch's trace takes a matrix"),
    (lambda: sg.diag(sg.tensor("v", (3,)), 1), sg.ArgumentError, "main diagonal only"),
    (lambda: sg.diagonal(sg.tensor("m", (3, 3)), 0, 1, -1), sg.ArgumentError, "the same axis"),
])
def test_refusals_name_the_problem(call, err, match):
    with pytest.raises(err, match=match):
        call()


@pytest.mark.parametrize("dim,keepdim", [((1, 2), False), ((0, 2), True), ((0, 1, 2), False), ((-1,), True)])
def test_logsumexp_over_several_axes(dim, keepdim):
    _compare(lambda x: x.logsumexp(dim=dim, keepdim=keepdim), lambda t: t.logsumexp(dim=dim, keepdim=keepdim),
             (2, 3, 4))
