"""Gradients have the shape of their variable, or symgrad refuses clearly (issue 13, point 3).

Each case once failed: a scalar times a matrix lost the matrix shape on the way back to SymPy (a
scalar gradient for B, then ``'Total' object has no attribute 'T'`` and a ``TypeError`` from
``sum`` of a scalar), ``sigmoid(sigmoid(X))`` of a 1×1 X recursed forever, and ``Trace(A*A)``
was refused because SymPy writes A*A as ``MatPow``. Every gradient is compared with central finite
differences in float64, by evaluating the returned SymPy expression with SymPy alone
(`oracle.substitute`), with torch.autograd where the function is easy to write there, and through
``sg.check`` and ``sg.compile`` (NumPy, float64)."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from oracle import central_differences, substitute, torch_grads
from symgrad.errors import SymgradError, UnsupportedError

torch = pytest.importorskip("torch")

A, B = sp.MatrixSymbol("A", 2, 3), sp.MatrixSymbol("B", 2, 3)
z = sp.MatrixSymbol("z", 3, 1)
S, T = sp.MatrixSymbol("S", 3, 3), sp.MatrixSymbol("T", 3, 3)
X, x = sp.MatrixSymbol("X", 1, 1), sp.MatrixSymbol("x", 3, 1)
s = sp.Symbol("s")


def _point(syms, seed=0):
    rng = np.random.default_rng(seed)
    return {v: (rng.normal(size=tuple(int(d) for d in v.shape)) if isinstance(v, sp.MatrixSymbol)
                else float(rng.normal())) for v in syms}


def _shape(v):
    return tuple(int(d) for d in v.shape) if isinstance(v, sp.MatrixSymbol) else ()


def _check_against_differences(f, wrt, at):
    """sg.grad's answer: shaped like each variable, and equal to central differences."""
    grads = sg.grad(f, wrt)
    fd = central_differences(f, wrt, at)
    for v, g, g_fd in zip(wrt, grads, fd):
        if isinstance(v, sp.MatrixSymbol):
            assert isinstance(g, (sp.MatrixExpr, sp.MatrixBase)), f"∂f/∂{v} = {g} is not a matrix"
            assert tuple(g.shape) == _shape(v), f"∂f/∂{v}: shape {g.shape}, expected {v.shape}"
        np.testing.assert_allclose(substitute(g, at), g_fd, rtol=1e-6, atol=1e-7)
    return grads, fd


def _compiled(f, wrt, at, fd):
    """sg.compile (NumPy, float64) of f with every symbol a parameter: its loss and gradients."""
    prog = sg.compile(f, params=list(wrt), inputs=[], dtype="float64")
    values = {v.name: at[v] for v in wrt}
    np.testing.assert_allclose(prog.loss(values, {}), substitute(f, at), rtol=1e-12)
    got = prog.grad(values, {})
    for v, g_fd in zip(wrt, fd):
        assert got[v.name].shape == _shape(v)
        np.testing.assert_allclose(got[v.name], g_fd, rtol=1e-6, atol=1e-7)


# --- a scalar times a matrix -------------------------------------------------------------------------


def test_scalar_times_matrix_gradient_has_the_matrix_shape():
    f = sg.sum(sg.sum(A) * B)                         # Σ(A)·Σ(B): ∂/∂B = Σ(A)·𝟙, ∂/∂A = Σ(B)·𝟙
    at = _point([A, B])
    (gA, gB), fd = _check_against_differences(f, [A, B], at)
    np.testing.assert_allclose(substitute(gB, at), np.full((2, 3), at[A].sum()), rtol=1e-12)
    tg = torch_grads(lambda a, b: (a.sum() * b).sum(), [A, B], at)
    for g, t in zip((gA, gB), tg):
        np.testing.assert_allclose(substitute(g, at), t, rtol=1e-12)
    assert sg.check(f, B, sg.sum(A) * sp.OneMatrix(2, 3))
    _compiled(f, [A, B], at, fd)


@pytest.mark.parametrize("form", ["sum(A)*B.T", "B.T*sum(A)", "(sum(A)*B).T"])
def test_transpose_of_a_scalar_times_matrix(form):
    prod = {"sum(A)*B.T": lambda: sg.sum(A) * B.T, "B.T*sum(A)": lambda: B.T * sg.sum(A),
            "(sum(A)*B).T": lambda: (sg.sum(A) * B).T}[form]()
    assert prod.shape == (3, 2)
    C = sp.MatrixSymbol("C", 3, 2)
    f = sg.sum(sp.HadamardProduct(prod, C))           # weights, so that the transpose matters
    at = _point([A, B, C], seed=1)
    _, fd = _check_against_differences(f, [A, B, C], at)
    tg = torch_grads(lambda a, b, c: (a.sum() * b.T * c).sum(), [A, B, C], at)
    for g_fd, t in zip(fd, tg):
        np.testing.assert_allclose(g_fd, t, rtol=1e-6, atol=1e-7)
    _compiled(f, [A, B, C], at, fd)


def test_product_of_a_log_softmax_total_and_a_total():
    f = sg.sum(sg.log_softmax(z)) * sg.sum(B)         # ∂/∂z = Σ(B)·(𝟙 − 3·softmax(z))
    at = _point([z, B], seed=2)
    (gz, gB), fd = _check_against_differences(f, [z, B], at)
    p = np.exp(at[z]) / np.exp(at[z]).sum()
    np.testing.assert_allclose(substitute(gz, at), at[B].sum() * (1 - 3 * p), rtol=1e-12)
    tg = torch_grads(lambda zz, b: torch.log_softmax(zz, 0).sum() * b.sum(), [z, B], at)
    for g, t in zip((gz, gB), tg):
        np.testing.assert_allclose(substitute(g, at), t, rtol=1e-12)
    assert sg.check(f, z, sg.sum(B) * (sp.OneMatrix(3, 1) - 3 * sg.softmax(z)))
    _compiled(f, [z, B], at, fd)


# --- 1×1 matrices ------------------------------------------------------------------------------------


def test_nested_activation_of_a_1x1_matrix_terminates():
    inner = sg.sigmoid(sg.sigmoid(X))
    assert inner.doit() == inner                      # SymPy's doit composed the two and looped
    assert inner.xreplace({X: sp.ImmutableMatrix([[0]])}).doit() == sp.ImmutableMatrix(
        [[sg.sigmoid(sp.S.Half)]])
    f = sg.sum(inner)
    at = _point([X], seed=3)
    _, fd = _check_against_differences(f, [X], at)
    tg = torch_grads(lambda a: torch.sigmoid(torch.sigmoid(a)).sum(), [X], at)
    np.testing.assert_allclose(fd[0], tg[0], rtol=1e-6)
    assert sg.check(f, X, sg.grad(f, X))
    _compiled(f, [X], at, fd)


@pytest.mark.parametrize("case", ["s*X", "sum(X)*x", "x.T*x", "sigmoid(x.T*x)", "x*(x.T*x)"])
def test_one_by_one_gradients_are_shaped_like_the_variable(case):
    f, wrt = {
        "s*X": (sg.sum(s * X), [X, s]),
        "sum(X)*x": (sg.sum(sg.sum(X) * x), [X, x]),
        "x.T*x": (x.T * x, [x]),                                  # a 1×1 f counts as a scalar
        "sigmoid(x.T*x)": (sg.sum(sg.sigmoid(x.T * x)), [x]),
        "x*(x.T*x)": (sg.sum(x * (x.T * x)), [x]),
    }[case]
    at = _point(wrt, seed=4)
    _check_against_differences(f, wrt, at)


# --- matrix powers ---------------------------------------------------------------------------------


def test_trace_of_a_square_is_supported():
    f = sp.Trace(S * S)                               # SymPy writes S*S as MatPow(S, 2)
    assert isinstance(f.arg, sp.MatPow)
    at = _point([S], seed=5)
    (g,), fd = _check_against_differences(f, [S], at)
    np.testing.assert_allclose(substitute(g, at), 2 * at[S].T, rtol=1e-12)    # ∂Tr(S²)/∂S = 2Sᵀ
    assert sg.check(f, S, 2 * S.T)
    assert not sg.check(f, S, 2 * S)
    _compiled(f, [S], at, fd)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8])
def test_integer_matrix_powers(n):
    f = sg.sum(sp.HadamardProduct(sp.MatPow(S, n), T))     # Σ (Sⁿ ∘ T): every entry weighted
    at = _point([S, T], seed=n)
    _, fd = _check_against_differences(f, [S, T], at)
    tg = torch_grads(lambda a, b: (torch.linalg.matrix_power(a, n) * b).sum(), [S, T], at)
    for g_fd, t in zip(fd, tg):
        np.testing.assert_allclose(g_fd, t, rtol=1e-6, atol=1e-6)
    if n in (3, 5):
        _compiled(f, [S, T], at, fd)


def test_gradients_holding_a_matrix_power_lower_again():
    """∂Tr(S³)/∂S = 3(Sᵀ)², which SymPy writes with MatPow: a claim or a second derivative that
    contains it is lowered like any product."""
    g = sg.grad(sp.Trace(S ** 3), S)
    assert g.has(sp.MatPow)
    assert sg.check(sp.Trace(S ** 3), S, g)
    at = _point([S, T], seed=9)
    f2 = sg.sum(sp.HadamardProduct(g, T))             # d/dS Σ (3(Sᵀ)² ∘ T)
    _check_against_differences(f2, [S], at)


# S**-1 and Inverse(S) are supported now (tests/core/test_matrix_inverse.py)
@pytest.mark.parametrize("power", [lambda: S ** sp.Rational(1, 2),
                                   lambda: S ** sp.Symbol("k"), lambda: sp.MatPow(S, 2.5)],
                         ids=["half", "symbolic", "two-and-a-half"])
def test_other_matrix_powers_are_refused_by_name(power):
    e = power()
    with pytest.raises(UnsupportedError) as info:
        sg.grad(sg.sum(e), S)
    msg = str(info.value)
    assert "matrix power" in msg and str(e.exp) in msg and "nonzero integer" in msg
    assert isinstance(info.value, SymgradError)


def test_float_exponent_with_an_integer_value_counts_as_the_integer():
    at = _point([S], seed=10)
    g2, g2f = sg.grad(sg.sum(sp.MatPow(S, 2)), S), sg.grad(sg.sum(sp.MatPow(S, 2.0)), S)
    np.testing.assert_allclose(substitute(g2f, at), substitute(g2, at), rtol=1e-12)


# --- explicit entries --------------------------------------------------------------------------------


def test_hessian_of_logsumexp_is_the_softmax_jacobian():
    """sg.hessian needs the entries of softmax(z) for a MatrixSymbol z (it raised a raw
    NotImplementedError): diag(p) − p·pᵀ with p = softmax(z)."""
    H = sg.hessian(sg.logsumexp(z), z)
    assert H.shape == (3, 3)
    at = _point([z], seed=11)
    p = np.exp(at[z][:, 0]) / np.exp(at[z][:, 0]).sum()
    np.testing.assert_allclose(substitute(H, at), np.diag(p) - np.outer(p, p), atol=1e-14)


def test_softmax_of_symbolic_shape_has_no_entries_and_says_so():
    n = sp.Symbol("n", integer=True, positive=True)
    with pytest.raises(UnsupportedError, match="symbolic shape"):
        sg.softmax(sp.MatrixSymbol("v", n, 1))[0, 0]


def test_huge_matrix_powers_are_refused_at_once():
    """A**(2**30) would write back a gradient of 2**30 terms: refused by name, with the bound."""
    from symgrad.core.lower import MAX_MATRIX_POWER
    with pytest.raises(UnsupportedError, match=str(MAX_MATRIX_POWER)):
        sg.grad(sg.sum(sp.MatPow(S, 2 ** 30)), S)
