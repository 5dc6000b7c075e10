"""norm(v)**k with k a multiple of 2 is Σ v² to the power k/2 (2026-12-01, eleventh session): a
researcher's sg.grad(sg.norm(W @ x + b)**2, W) printed the safe-at-zero root's where/Piecewise,
though the plain polynomial is equal everywhere, the zero vector included. Values are checked against
torch.autograd in float64, at a random point and at the zero vector."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.frontend.tensor_index import Where

torch = pytest.importorskip("torch")


def _has_guard(e):
    return bool(e.atoms(Where)) or e.has(sp.Piecewise)


def _torch_grad(f, **arrays):
    ts = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in arrays.items()}
    f(**ts).backward()
    return {k: t.grad.numpy() for k, t in ts.items()}


@pytest.mark.parametrize("zero", [False, True])
def test_squared_norm_of_an_affine_map_reads_as_a_polynomial(zero):
    W, x, b = sg.tensor("W", (2, 3)), sg.tensor("x", (3,)), sg.tensor("b", (2,))
    g = sg.grad(sg.norm(W @ x + b) ** 2, W)
    assert not _has_guard(g), g
    rng = np.random.default_rng(0)
    vals = {"W": rng.normal(size=(2, 3)), "x": rng.normal(size=3), "b": rng.normal(size=2)}
    if zero:
        vals["W"], vals["b"] = np.zeros((2, 3)), np.zeros(2)
    want = _torch_grad(lambda W, x, b: torch.linalg.vector_norm(W @ x + b) ** 2, **vals)["W"]
    got = np.asarray(sg.numeric(g, vals), dtype=float).reshape(2, 3)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_fourth_power_of_row_norms_and_the_value_itself():
    X = sg.tensor("X", (3, 4))
    f = (sg.norm(X, axis=1) ** 4).sum()
    g = sg.grad(f, X)
    assert not _has_guard(g), g
    vals = {"X": np.random.default_rng(1).normal(size=(3, 4))}
    vals["X"][1] = 0.0
    want = _torch_grad(lambda X: (torch.linalg.vector_norm(X, dim=1) ** 4).sum(), **vals)["X"]
    np.testing.assert_allclose(np.asarray(sg.numeric(g, vals), dtype=float), want, rtol=1e-12, atol=1e-12)
    assert float(sg.numeric(f, vals)) == pytest.approx(float((np.linalg.norm(vals["X"], axis=1) ** 4).sum()))


@pytest.mark.parametrize("k", [1, 3, -2])
def test_other_powers_keep_the_root_safe_at_zero(k):
    """‖x‖³ and 1/‖x‖² are not polynomials in Σ x²: the root stays, and ‖x‖³'s gradient is 0 (not NaN)
    at the zero vector, as torch's."""
    x = sg.tensor("x", (3,))
    f = sg.norm(x) ** k
    assert _has_guard(sp.sympify(f)), f
    if k > 0:
        g = np.asarray(sg.numeric(sg.grad(f, x), {"x": np.zeros(3)}), dtype=float)
        want = _torch_grad(lambda x: torch.linalg.vector_norm(x) ** k, x=np.zeros(3))["x"]
        np.testing.assert_array_equal(g, want)


@pytest.mark.parametrize("zero", [False, True])
def test_gradient_of_the_norm_reads_in_numpys_where(zero):
    """sg.grad(sg.norm(x), x) is x/‖x‖, 0 at the zero vector: printed with NumPy's where like the root
    beside it, not SymPy's Piecewise((1, …), (0, True)); its values are torch's."""
    x = sg.tensor("x", (3,))
    g = sg.grad(sg.norm(x), x)
    assert not g.has(sp.Piecewise) and g.atoms(Where), g
    vals = {"x": np.zeros(3) if zero else np.random.default_rng(2).normal(size=3)}
    want = _torch_grad(lambda x: torch.linalg.vector_norm(x), **vals)["x"]
    np.testing.assert_allclose(np.asarray(sg.numeric(g, vals), dtype=float), want, rtol=1e-12, atol=0)


def _matrix_lsq():
    W, x, t = sp.MatrixSymbol("W", 2, 3), sp.MatrixSymbol("x", 3, 1), sp.MatrixSymbol("t", 2, 1)
    return W, x, t, W * x - t


@pytest.mark.parametrize("spelling", ["norm_squared", "product", "trace"])
def test_matrix_language_squared_length_keeps_its_structure(spelling):
    """sg.norm(z)**2, z.T*z and Trace(z.T*z) of a MatrixSymbol residual: the gradient is the matrix
    formula 2·(W·x − t)·xᵀ (sg.norm(z) was a MixedArrayError), with torch's values."""
    W, x, t, z = _matrix_lsq()
    f = {"norm_squared": sg.norm(z) ** 2, "product": z.T * z, "trace": sp.Trace(z.T * z)}[spelling]
    g = sg.grad(f, W)
    assert not isinstance(g, sp.MatrixBase), g          # not an explicit matrix of entries
    assert isinstance(g, sp.MatMul) and g.has(x.T), g
    rng = np.random.default_rng(3)
    vals = {"W": rng.normal(size=(2, 3)), "x": rng.normal(size=(3, 1)), "t": rng.normal(size=(2, 1))}
    want = _torch_grad(lambda W, x, t: ((W @ x - t) ** 2).sum(), **vals)["W"]
    got = np.asarray(g.subs({W: sp.Matrix(vals["W"]), x: sp.Matrix(vals["x"]), t: sp.Matrix(vals["t"])}).doit(),
                     dtype=float)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_matrix_norm_reads_as_a_length_and_other_p_say_to_use_tensors():
    W, x, t, z = _matrix_lsq()
    assert sg.norm(z) == sp.sqrt(sp.Trace(z.T * z))
    with pytest.raises(sg.MixedArrayError, match="sg.tensor"):
        sg.norm(z, p=1)


@pytest.mark.parametrize("k", [2, 4, 3])
def test_pow_built_directly_is_the_operators_power(k):
    """sp.Pow(sg.norm(v), k), as SymPy code builds it (twelfth session): the same expression as
    sg.norm(v)**k — for k = 2, 4 the polynomial in Σ v² (it kept the safe-at-zero root, and its
    gradient a where over the zero vector); for k = 3 the root — with torch's gradient at 0."""
    W, x, b = sg.tensor("W", (2, 3)), sg.tensor("x", (3,)), sg.tensor("b", (2,))
    v = W @ x + b
    built = sp.Pow(sg.norm(v), k)
    if k % 2 == 0:
        assert built == sg.norm(v) ** k
    g = sg.grad(built, W)
    assert _has_guard(g) == (k == 3), g
    vals = {"W": np.zeros((2, 3)), "x": np.random.default_rng(4).normal(size=3), "b": np.zeros(2)}
    want = _torch_grad(lambda W, x, b: torch.linalg.vector_norm(W @ x + b) ** k, **vals)["W"]
    np.testing.assert_allclose(np.asarray(sg.numeric(g, vals), dtype=float).reshape(2, 3), want, atol=1e-12)
