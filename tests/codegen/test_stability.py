"""Numerical stability: the rewrite table's rows against mpmath, and whole programs at extreme
inputs against float64 references computed in high precision."""
import mpmath
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from codegen.printers.numpy_printer import NumpyPrinter
from symgrad.compiling.rewrite import TABLE, rewrite

mpmath.mp.dps = 60
x = sp.Symbol("x", real=True)


def _numpy_fn(expr):
    printer = NumpyPrinter()
    src = printer.doprint(expr.xreplace({x: sp.Symbol("xs", real=True)}))
    ns = {"numpy": np, "DTYPE": np.float64}
    exec("\n".join(printer.helper_source()), ns)       # the module's helpers it calls (sigmoid, erf)
    return eval(f"lambda xs: {src}", ns)


def _mp(expr, v):
    f = sp.lambdify(x, expr.rewrite(sp.exp).xreplace({}), modules="mpmath")
    return f(mpmath.mpf(v))


POINTS = {
    "1/(1 + exp(-x)) -> sigmoid(x)": [-1000.0, -40.0, -3.0, 0.0, 2.5, 40.0, 1000.0],
    "log(1 + exp(x)) -> softplus(x)": [-1000.0, -40.0, -3.0, 0.0, 2.5, 40.0, 1000.0],
    "log(sigmoid(x)) -> -softplus(-x)": [-1000.0, -40.0, -3.0, 0.0, 2.5, 40.0, 1000.0],
    "log(1 - sigmoid(x)) -> -softplus(x)": [-1000.0, -40.0, -3.0, 0.0, 2.5, 40.0, 1000.0],
    "log(1 + x) -> log1p(x)": [-0.5, -1e-12, 1e-17, 1e-9, 3.0, 1e10],
}


@pytest.mark.parametrize("row", TABLE, ids=[r.name for r in TABLE])
def test_rewrite_row_matches_mpmath(row):
    naive = row.naive(x)
    assert rewrite(naive) == row.stable(x), "the row must fire on its own naive form"
    f = _numpy_fn(row.stable(x))
    for v in POINTS[row.name]:
        ref = _mp(_elementary(naive), v)
        got = f(np.float64(v))
        assert np.isfinite(got), (row.name, v)
        assert abs(got - float(ref)) <= 1e-14 * max(1.0, abs(float(ref))), (row.name, v, got, ref)


def test_naive_forms_do_fail_where_the_rows_matter():
    """The table is not decoration: the naive forms break at these points in float64."""
    from symgrad.frontend.functions import sigmoid
    with np.errstate(all="ignore"):
        assert not np.isfinite(_numpy_fn(sp.log(sigmoid(x)).replace(sigmoid, lambda a: 1 / (1 + sp.exp(-a))))(-1000.0))
        assert _numpy_fn(sp.log(1 + x))(1e-17) == 0.0        # log1p(1e-17) = 1e-17


def _elementary(e):
    from symgrad.frontend.functions import sigmoid, softplus
    return e.replace(sigmoid, lambda a: 1 / (1 + sp.exp(-a))).replace(softplus, lambda a: sp.log(1 + sp.exp(a)))


def test_printer_sigmoid_and_softplus_are_stable():
    from symgrad.frontend.functions import sigmoid, softplus
    s, sp_ = _numpy_fn(sigmoid(x)), _numpy_fn(softplus(x))
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        for v in (-1000.0, -50.0, -1.0, 0.0, 1.0, 50.0, 1000.0):
            rs = 1 / (1 + mpmath.exp(-mpmath.mpf(v)))
            rp = mpmath.log(1 + mpmath.exp(mpmath.mpf(v)))
            assert abs(s(v) - float(rs)) <= 1e-13 * float(rs) + 1e-300
            assert abs(sp_(v) - float(rp)) <= 1e-14 * float(rp)


# -- whole programs ---------------------------------------------------------------------------------


def test_softmax_cross_entropy_with_logits_of_magnitude_1e4():
    z = sp.MatrixSymbol("z", 4, 1)          # the logits are the parameter
    t = sp.MatrixSymbol("t", 4, 1)
    prog = sg.compile(sg.cross_entropy(z, t), [z], [t], dtype="float64")
    Z = np.array([[1e4], [-1e4], [9999.0], [-3e3]])
    T = np.array([[0.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 0.0]])
    loss = prog.loss({"z": Z}, {"t": T})
    g = prog.grad({"z": Z}, {"t": T})["z"]
    # references in 60-digit arithmetic
    zs = [mpmath.mpf(float(v)) for v in Z[:, 0]]
    lse = mpmath.log(sum(mpmath.exp(v) for v in zs))
    sm = [mpmath.exp(v - lse) for v in zs]
    ref_loss = sum(-sum(T[b, i] * (zs[i] - lse) for i in range(4)) for b in range(2)) / 2
    ref_g = [sum(sm[i] - T[b, i] for b in range(2)) / 2 for i in range(4)]
    assert np.isfinite(loss) and np.all(np.isfinite(g))
    # float64 logits of size 1e4 carry an absolute rounding of ~1e4·ε ≈ 1e-12 into z − lse: that is
    # the conditioning of the input, so the bound is relative 1e-10 (the test suite's level)
    assert abs(loss - float(ref_loss)) <= 1e-10 * abs(float(ref_loss))
    np.testing.assert_allclose(g[:, 0], [float(r) for r in ref_g], rtol=1e-10, atol=1e-300)


@pytest.mark.parametrize("zval", [1000.0, -1000.0, 30.0, -30.0])
def test_bce_of_sigmoid_at_extreme_logits(zval):
    z = sp.MatrixSymbol("z", 2, 1)
    y = sp.MatrixSymbol("y", 2, 1)
    prog = sg.compile(sg.bce(sg.sigmoid(z), y), [z], [y], dtype="float64")
    Z = np.array([[zval], [-zval]])
    Y = np.array([[1.0, 0.0], [0.0, 1.0], [0.3, 0.7]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss = prog.loss({"z": Z}, {"y": Y})
        g = prog.grad({"z": Z}, {"y": Y})["z"]
    with mpmath.workdps(1000):      # enough digits that 1 − σ(1000) ≈ e^−1000 is not lost
        zs = [mpmath.mpf(v) for v in Z[:, 0]]
        sig = [1 / (1 + mpmath.exp(-v)) for v in zs]
        ref_loss = -sum(Y[b, i] * mpmath.log(sig[i]) + (1 - Y[b, i]) * mpmath.log(1 - sig[i])
                        for b in range(3) for i in range(2)) / 3
        ref_g = [sum(sig[i] - Y[b, i] for b in range(3)) / 3 for i in range(2)]
    assert abs(loss - float(ref_loss)) <= 1e-12 * abs(float(ref_loss))
    np.testing.assert_allclose(g[:, 0], [float(r) for r in ref_g], rtol=1e-12)


@pytest.mark.parametrize("zval", [1000.0, -1000.0])
def test_sigmoid_output_under_mse_at_extreme_logits(zval):
    w, x, y = sp.symbols("w x y")
    prog = sg.compile(sg.mse(sg.sigmoid(w * x), y), [w], [x, y], dtype="float64")
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss = prog.loss({"w": zval}, {"x": np.array([1.0]), "y": np.array([0.5])})
        g = prog.grad({"w": zval}, {"x": np.array([1.0]), "y": np.array([0.5])})["w"]
    s = 1 / (1 + mpmath.exp(-mpmath.mpf(zval)))
    assert abs(loss - float((s - 0.5) ** 2 / 2)) <= 1e-15
    assert np.isfinite(g) and abs(g - float((s - 0.5) * s * (1 - s))) <= 1e-300
