"""The matrix inverse and the determinant (`symgrad.core.matrix_inverse`): lowering, values, and
gradients against independent oracles — torch.autograd (torch.linalg.inv / det / slogdet) and
central finite differences in float64 — at a well-conditioned point (c·I + small noise)."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from oracle import central_differences, substitute, torch_grads
from symgrad.core.lower import lower
from symgrad.core import matrix_inverse as MI
from symgrad.errors import ShapeError, UnsupportedError

torch = pytest.importorskip("torch")

X, A, B = (sp.MatrixSymbol(n, 3, 3) for n in "XAB")
a, b = sp.MatrixSymbol("a", 3, 1), sp.MatrixSymbol("b", 3, 1)
R23 = sp.MatrixSymbol("R", 2, 3)


def _point(seed=0):
    rng = np.random.default_rng(seed)
    at = {s: rng.normal(size=(3, 3)) for s in (A, B)}
    at[X] = 2.0 * np.eye(3) + 0.3 * rng.normal(size=(3, 3))        # well conditioned, det > 0
    at[a], at[b] = rng.normal(size=(3, 1)), rng.normal(size=(3, 1))
    return at


# (f, torch f of the same symbols, symbols)
CASES = {
    "logdet": (sp.log(sp.det(X)), lambda x: torch.logdet(x), [X]),
    "det": (sp.det(X), lambda x: torch.linalg.det(x), [X]),
    "aT Xinv b": (sp.Trace(a.T * X.inv() * b), lambda x, a_, b_: a_.T @ torch.linalg.inv(x) @ b_, [X, a, b]),
    "tr(A Xinv B)": (sp.Trace(A * X ** -1 * B), lambda x, A_, B_: torch.trace(A_ @ torch.linalg.inv(x) @ B_),
                     [X, A, B]),
    "sum Xinv^2": (sg.sum(sp.HadamardProduct(X ** -2, A)),
                   lambda x, A_: (torch.linalg.matrix_power(torch.linalg.inv(x), 2) * A_).sum(), [X, A]),
    "det(A X) inv": (sp.det(A * X) * sg.sum(X.inv()),
                     lambda x, A_: torch.linalg.det(A_ @ x) * torch.linalg.inv(x).sum(), [X, A]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_gradients_agree_with_torch_and_differences(name):
    f, tf, syms = CASES[name]
    at = _point(seed=len(name))
    grads = sg.grad(f, syms)
    fd = central_differences(f, syms, at)
    tg = torch_grads(tf, syms, at)
    for s, g, g_fd, g_t in zip(syms, grads, fd, tg):
        assert tuple(g.shape) == tuple(s.shape)
        np.testing.assert_allclose(g_t, g_fd, rtol=1e-5, atol=1e-6)     # the oracles agree
        np.testing.assert_allclose(substitute(g, at), g_t, rtol=1e-9, atol=1e-10)
    assert float(sg.numeric(f, at)) == pytest.approx(float(tf(*[torch.tensor(at[s]) for s in syms])), rel=1e-12)


def test_numeric_values():
    at = _point(1)
    np.testing.assert_allclose(sg.numeric(X.inv(), at), np.linalg.inv(at[X]), rtol=1e-13)
    np.testing.assert_allclose(sg.numeric(X ** -1, at), np.linalg.inv(at[X]), rtol=1e-13)
    assert sg.numeric(sp.det(X), at) == pytest.approx(np.linalg.det(at[X]), rel=1e-13)
    assert sg.numeric(sp.log(sp.det(X)), at) == pytest.approx(np.log(np.linalg.det(at[X])), rel=1e-13)


def test_log_det_is_slogdet_and_stays_finite():
    """log det of 1e-3·I (60×60) is 60·log(1e-3); det itself underflows to 0, so log(det) computed
    naively would be −inf."""
    Y = sp.MatrixSymbol("Y", 60, 60)
    graph, _, out = lower(sp.log(sp.det(Y)))
    assert graph.producer[out.id].prim is MI.logdet_p
    v = sg.numeric(sp.log(sp.det(Y)), {Y: 1e-3 * np.eye(60)})
    assert np.isfinite(v) and v == pytest.approx(60 * np.log(1e-3), rel=1e-12)
    # log of a negative determinant is not real: NaN, like log(-1)
    assert np.isnan(sg.numeric(sp.log(sp.det(X)), {X: np.diag([-1.0, 1.0, 1.0])}))


def test_inverse_of_inverse_is_the_matrix_and_shared():
    graph, _, x = lower(X)
    y = MI.inverse(graph, x)
    assert MI.inverse(graph, y) is x                      # (X⁻¹)⁻¹ = X
    assert MI.inverse(graph, x) is y                      # X⁻¹ once (hash-consed)
    g2, _, out = lower(sp.det(X) * sg.sum(X.inv()) + sp.Trace(X ** -2))
    assert sum(e.prim is MI.inverse_p for e in g2.ancestors([out])) == 1


def test_gradients_read_in_cookbook_form():
    assert sg.grad(sp.log(sp.det(X)), X) == X.inv().T
    assert sg.grad(sp.det(X), X) == sp.det(X) * X.inv().T


def test_primitives_refuse_non_square_by_name():
    """SymPy refuses Inverse and Determinant of a non-square MatrixSymbol itself; the primitives
    refuse one too (a gradient or a tensor path could reach them)."""
    graph, _, r = lower(R23)
    with pytest.raises(ShapeError, match="non-square"):
        MI.inverse(graph, r)
    with pytest.raises(ShapeError, match="non-square"):
        MI.det(graph, r)


def test_zero_power_is_refused_by_name():
    with pytest.raises(UnsupportedError, match="nonzero integer"):
        sg.grad(sg.sum(sp.MatPow(X, 0, evaluate=False)), X)


@pytest.mark.parametrize("name", ["logdet", "det", "tr(A Xinv B)", "sum Xinv^2"])
def test_forward_mode_agrees_with_torch(name):
    """The JVP rules (Ẏ = −YẊY, ḋ = d·tr(X⁻¹Ẋ), tr(X⁻¹Ẋ)): the directional derivative along V by
    one forward sweep equals Σ (∂f/∂X ∘ V) by torch.autograd."""
    from symgrad.core import rules as R
    from symgrad.core.evaluate import evaluate
    from symgrad.core.forward import forward
    f, tf, syms = CASES[name]
    at = _point(seed=7)
    V = np.random.default_rng(8).normal(size=(3, 3))
    graph, low, out = lower(f)
    x = low.leaf(X)
    (t,) = forward(graph, [out], {x.id: R.const(graph, sp.ImmutableMatrix(V), (3, 3))})
    (g_t,) = torch_grads(lambda x_: tf(x_, *[torch.tensor(at[s]) for s in syms[1:]]), [X], at)
    assert float(evaluate(graph, [t], at)[0]) == pytest.approx(float((g_t * V).sum()), rel=1e-9)


def test_singular_matrix_gives_nan_not_a_linalg_error():
    """The inverse of a singular matrix is not finite (NaN), as 1/0 is: a check then draws another
    point, instead of stopping on NumPy's LinAlgError."""
    v = sg.numeric(X.inv(), {X: np.ones((3, 3))})
    assert v.shape == (3, 3) and np.isnan(v).all()


def test_gradient_and_hessian_of_an_explicit_matrix_equal_sympy_diff():
    """log det M + Σ M⁻¹ for M = [[x, 1], [1, y]] is log(xy − 1) + Σ M⁻¹ written out: sympy.diff of
    that is the oracle, to first and (through the VJPs' own inverses) second order."""
    x, y = sp.symbols("x y", real=True)
    M = sp.ImmutableMatrix([[x, 1], [1, y]])
    f = sp.log(sp.Determinant(M)) + sg.sum(sp.Inverse(M))
    ref = sp.log(x * y - 1) + sum(M.inv())
    pt = {x: sp.Rational(3, 2), y: sp.Rational(5, 3)}
    got = [float(sp.N(sp.sympify(e).doit().subs(pt))) for e in sg.grad(f, [x, y])]
    np.testing.assert_allclose(got, [float(ref.diff(v).subs(pt)) for v in (x, y)], rtol=1e-12)
    H = np.array(sp.N(sg.hessian(f, [x, y]).subs(pt).doit()), dtype=float)
    np.testing.assert_allclose(H, np.array(sp.hessian(ref, [x, y]).subs(pt), dtype=float), rtol=1e-12)
