"""The Jacobian view (issue 14, point 4): steps with diag f′(z) and the softmax Jacobian
diag(y) − y·yᵀ, the row convention of 11-785 for derive and check, sg.jacobian of softmax and of
vector functions of a MatrixSymbol, and the seeds' softmax + log cross-entropy."""
import subprocess

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from teachtools import need

W = sp.MatrixSymbol("W", 3, 2)
x = sp.MatrixSymbol("x", 2, 1)
b = sp.MatrixSymbol("b", 3, 1)
t = sp.MatrixSymbol("t", 3, 1)
z = sp.MatrixSymbol("z", 3, 1)


def _softmax(v):
    e = np.exp(v - v.max())
    return e / e.sum()


def test_steps_show_diag_of_the_derivative_and_the_softmax_jacobian():
    f = sg.sum(sp.HadamardPower(sg.softmax(sg.relu(W * x + b)) - t, 2))
    row = sg.derive(f, [W], convention="row").render("unicode")
    assert "Jacobian form (row convention" in row
    assert "∂L/∂y⁽²⁾ · (diag(y⁽²⁾) − y⁽²⁾·y⁽²⁾ᵀ)" in row        # softmax: diag(y) − y·yᵀ
    assert "δ⁽¹⁾ = ∂L/∂y⁽¹⁾ · diag(H(z⁽¹⁾))" in row               # relu: diag f′(z) = diag H(z)
    assert "∂L/∂W = x · δ⁽¹⁾" in row                            # shaped like Wᵀ
    col = sg.derive(f, [W], convention="column").render("text")
    assert "(diag(y^(2)) - y^(2) * y^(2)^T) * dL/dy^(2)" in col
    assert "delta^(1) = diag(H(z^(1))) * dL/dy^(1)" in col
    assert "Jacobian form" not in sg.derive(f, [W]).render("text")    # only when asked for


def test_the_jacobian_form_is_right_numerically():
    # the row-convention chain the view prints, multiplied out with NumPy, is sg.grad's gradient
    rng = np.random.default_rng(0)
    Wv, xv, bv, tv = rng.normal(size=(3, 2)), rng.normal(size=(2, 1)), rng.normal(size=(3, 1)), rng.normal(size=(3, 1))
    zv = Wv @ xv + bv
    y1 = np.maximum(zv, 0)
    y2 = _softmax(y1)
    dy2 = 2 * (y2 - tv).T                                        # ∂L/∂y⁽²⁾ as a row
    dy1 = dy2 @ (np.diag(y2[:, 0]) - y2 @ y2.T)                  # · (diag(y) − y·yᵀ)
    d1 = dy1 @ np.diag((zv[:, 0] >= 0).astype(float))           # · diag H(z)
    dW_row = xv @ d1                                             # x · δ⁽¹⁾, shaped like Wᵀ
    f = sg.sum(sp.HadamardPower(sg.softmax(sg.relu(W * x + b)) - t, 2))
    truth = sg.numeric(sg.grad(f, W), {W: Wv, x: xv, b: bv, t: tv})
    np.testing.assert_allclose(dW_row.T, truth, rtol=1e-10)


def test_check_takes_the_row_convention():
    f = sg.sum(sp.HadamardPower(W * x, 2))
    assert sg.check(f, W, (2 * W * x * x.T).T, convention="row")      # ∂L/∂W shaped like Wᵀ
    assert sg.check(f, x, (2 * W.T * W * x).T, convention="row")      # ∂L/∂x a row
    assert not sg.check(f, x, 2 * W.T * W * x, convention="row")      # a column is not a row
    with pytest.raises(sg.SymgradError, match="convention"):
        sg.check(f, x, 2 * W.T * W * x, convention="rows")


def test_the_row_convention_compiles_in_latex(tmp_path):
    f = sg.sum(sp.HadamardPower(sg.softmax(sg.relu(W * x + b)) - t, 2))
    d = sg.derive(f, [W], convention="row")
    tex = d.latex(document=True)
    assert r"\operatorname{diag}" in tex and r"\textbf{Jacobian form}" in tex
    (tmp_path / "j.tex").write_text(tex)
    r = subprocess.run([need("pdflatex"), "-interaction=nonstopmode", "-halt-on-error", "j.tex"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout[-1500:]


def test_softmax_cross_entropy_as_the_seeds_write_it():
    # −Σ t ⊙ log(exp(z)/Σ exp(z)) with a one-hot t: ∂L/∂z = softmax(z) − t
    ez = sg.elementwise(sp.exp, z)
    f = -sg.sum(sp.HadamardProduct(t, sg.elementwise(sp.log, ez / sg.sum(ez))))
    d = sg.derive(f, z, given={sg.sum(t): 1})
    assert d.steps.find("z").expr == sg.softmax(z) - t
    assert "∂L/∂z = softmax(z) − t" in d.render("unicode")
    # the same number as sg.grad (no recognition, no assumption) at a one-hot t
    zv, tv = np.array([[0.3], [-1.2], [2.0]]), np.array([[0.0], [1.0], [0.0]])
    np.testing.assert_allclose(sg.numeric(sg.grad(f, z), {z: zv, t: tv}), _softmax(zv) - tv, rtol=1e-12)


@pytest.mark.slow
def test_jacobian_of_softmax_is_diag_minus_outer():
    J = sg.jacobian(sg.softmax(z), z)
    zs = sp.Matrix(3, 1, lambda i, j: sp.Symbol(f"z{i}"))
    e = [sp.exp(v) for v in zs]
    s = sp.Matrix([v / sum(e) for v in e])
    assert sp.simplify(J.xreplace({z[i, 0]: zs[i] for i in range(3)}) - (sp.diag(*s) - s * s.T)) == sp.zeros(3, 3)


@pytest.mark.slow
def test_jacobian_of_a_vector_function_of_a_matrix_symbol():
    # softmax(W·x) w.r.t. x: (diag(s) − s·sᵀ)·W, checked against central differences
    Wv, xv = np.array([[0.2, -0.4], [0.7, 0.1], [-0.3, 0.5]]), np.array([[0.6], [-0.8]])
    J = sg.jacobian(sg.softmax(W * x), x)
    Jv = np.array(J.xreplace({**{W[i, j]: Wv[i, j] for i in range(3) for j in range(2)},
                               **{x[i, 0]: xv[i, 0] for i in range(2)}}).evalf(), dtype=float)
    s = _softmax(Wv @ xv)
    np.testing.assert_allclose(Jv, (np.diag(s[:, 0]) - s @ s.T) @ Wv, rtol=1e-10)
    Js = sg.jacobian(sg.sigmoid(W * x), x)                                  # diag σ′(Wx)·W
    Jsv = np.array(Js.xreplace({**{W[i, j]: Wv[i, j] for i in range(3) for j in range(2)},
                                 **{x[i, 0]: xv[i, 0] for i in range(2)}}).evalf(), dtype=float)
    sg_ = 1 / (1 + np.exp(-(Wv @ xv)))
    np.testing.assert_allclose(Jsv, np.diag((sg_ * (1 - sg_))[:, 0]) @ Wv, rtol=1e-10)
