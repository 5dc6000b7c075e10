"""sg.compile (NumPy) of the matrix inverse and the determinant (`codegen.printers.numpy_linalg`):
the program's loss and gradients equal the reference evaluator's per example (averaged) and
torch.autograd's, for a parameter matrix, a batch of input matrices, and a batch of 1×1 matrices;
the Triton target refuses them by name."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import UnsupportedError

torch = pytest.importorskip("torch")

X, W = sp.MatrixSymbol("X", 3, 3), sp.MatrixSymbol("W", 3, 3)


def _well_conditioned(rng, *lead):
    return 2.0 * np.eye(3) + 0.3 * rng.normal(size=(*lead, 3, 3))


def test_parameter_matrix_against_torch():
    """f = tr(W X⁻¹) + log det X + det X, X the parameter, W a batch of inputs."""
    rng = np.random.default_rng(0)
    f = sp.Trace(W * X.inv()) + sp.log(sp.det(X)) + sp.det(X)
    prog = sg.compile(f, params=[X], inputs=[W], dtype="float64")
    assert "numpy.linalg.inv(" in prog.source and "numpy.linalg.slogdet(" in prog.source
    Xv, Wv = _well_conditioned(rng), rng.normal(size=(5, 3, 3))
    xt = torch.tensor(Xv, requires_grad=True)
    wt = torch.tensor(Wv)
    lt = ((wt @ torch.linalg.inv(xt)).diagonal(dim1=1, dim2=2).sum(1)
          + torch.linalg.slogdet(xt)[1] + torch.linalg.det(xt)).mean()
    (gt,) = torch.autograd.grad(lt, [xt])
    assert prog.loss({"X": Xv}, {"W": Wv}) == pytest.approx(float(lt.detach()), rel=1e-12)
    np.testing.assert_allclose(prog.grad({"X": Xv}, {"W": Wv})["X"], gt.numpy(), rtol=1e-10, atol=1e-12)


def test_batch_of_input_matrices_against_the_reference():
    rng = np.random.default_rng(1)
    f = sp.Trace(W * X.inv()) + sp.log(sp.det(X)) * sp.det(X * W)
    prog = sg.compile(f, params=[W], inputs=[X], dtype="float64")
    Wv, Xv = rng.normal(size=(3, 3)), _well_conditioned(rng, 6)
    assert prog.loss({"W": Wv}, {"X": Xv}) == pytest.approx(
        np.mean([float(sg.numeric(f, {W: Wv, X: x})) for x in Xv]), rel=1e-12)
    g = sg.grad(f, W)
    np.testing.assert_allclose(prog.grad({"W": Wv}, {"X": Xv})["W"],
                               np.mean([sg.numeric(g, {W: Wv, X: x}) for x in Xv], axis=0), rtol=1e-10)


def test_batch_of_one_by_one_matrices():
    """A 1×1 matrix per example is laid out as (B, 1): its determinants must come out one per example."""
    s, w = sp.MatrixSymbol("s", 1, 1), sp.Symbol("w")
    f = sp.log(sp.det(s * w)) + sg.sum(s.inv()) * w
    prog = sg.compile(f, params=[w], inputs=[s], dtype="float64")
    sv = np.array([[0.5], [1.0], [2.0], [4.0]])
    want = np.mean([np.log(1.3 * v) + 1.3 / v for v in sv[:, 0]])
    assert prog.loss({"w": 1.3}, {"s": sv}) == pytest.approx(want, rel=1e-12)
    dwant = np.mean([1 / 1.3 + 1 / v for v in sv[:, 0]])
    assert float(prog.grad({"w": 1.3}, {"s": sv})["w"]) == pytest.approx(dwant, rel=1e-12)


def test_log_det_of_a_negative_determinant_is_nan_as_in_the_reference():
    f = sp.log(sp.det(X))
    prog = sg.compile(f, params=[], inputs=[X], dtype="float64")
    assert np.isnan(prog.loss({}, {"X": np.diag([-1.0, 1.0, 1.0])[None]}))


def test_triton_target_refuses_by_name():
    with pytest.raises(UnsupportedError, match="inverse"):
        sg.compile(sp.Trace(W * X.inv()), params=[W], inputs=[X], target="triton")


def test_float32_program_keeps_float32_and_agrees_with_float64():
    rng = np.random.default_rng(2)
    f = sp.Trace(W * X.inv()) + sp.log(sp.det(X)) + sp.det(X)
    p32 = sg.compile(f, params=[X], inputs=[W], dtype="float32")
    p64 = sg.compile(f, params=[X], inputs=[W], dtype="float64")
    Xv, Wv = _well_conditioned(rng), rng.normal(size=(4, 3, 3))
    g32 = p32.grad({"X": Xv.astype(np.float32)}, {"W": Wv.astype(np.float32)})["X"]
    assert g32.dtype == np.float32
    np.testing.assert_allclose(g32, p64.grad({"X": Xv}, {"W": Wv})["X"], rtol=1e-4, atol=1e-5)
    assert p32.loss({"X": Xv.astype(np.float32)}, {"W": Wv.astype(np.float32)}) == pytest.approx(
        p64.loss({"X": Xv}, {"W": Wv}), rel=1e-5)
