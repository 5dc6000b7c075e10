"""The text grammar's norm and where (2026-12-01, eleventh session): d2l students write
``norm(x)`` and ``x/norm(x)``, and cs231n's relu backward as ``where(X > 0, D, 0)``; both were
"unknown function", and with --tensor the list of known names left out the tensor functions the
grammar takes (maximum, one_hot, clip, ...). The gradients are checked against torch.autograd."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import ParseError
from symgrad.frontend.parse import parse_expr

torch = pytest.importorskip("torch")
N = sp.Symbol("N", integer=True, positive=True)


def _parse(text, **symbols):
    return parse_expr(text, symbols=symbols)


def test_norm_of_a_column_and_its_gradient_claimed_as_x_over_its_norm():
    x = sp.MatrixSymbol("x", 3, 1)
    f = _parse("norm(x)", x=x)
    assert sg.check(f, x, _parse("x/norm(x)", x=x))
    assert not sg.check(f, x, _parse("x", x=x))
    v = np.array([1.5, -0.5, 2.0])
    want = torch.tensor(v, requires_grad=True)
    torch.linalg.vector_norm(want).backward()
    got = np.asarray(sg.grad(f, x).subs(x, sp.Matrix(v)).doit(), dtype=float).ravel()
    np.testing.assert_allclose(got, want.grad.numpy(), rtol=1e-12)
    assert float(f.subs(x, sp.Matrix(v)).doit()) == pytest.approx(np.linalg.norm(v))


def test_norm_of_a_scalar_is_its_absolute_value():
    a = sp.Symbol("a", real=True)
    assert _parse("norm(a)", a=a) == sp.Abs(a)


@pytest.mark.parametrize("text, build", [
    ("norm(X)", lambda X: sg.norm(X)),
    ("norm(X, axis=1)", lambda X: sg.norm(X, axis=1)),
    ("norm(X, 1, 0)", lambda X: sg.norm(X, 1, 0)),
    ("norm(X, p=3, dim=1, keepdim=True)", lambda X: sg.norm(X, p=3, axis=1, keepdims=True)),
    ("norm(X, axis=1)**2", lambda X: sg.norm(X, axis=1) ** 2),
])
def test_norm_of_a_tensor_is_sg_norm(text, build):
    X = sg.tensor("X", (N, 3))
    assert _parse(text, X=X) == build(X)


def test_where_in_the_tensor_grammar_checks_relus_backward():
    X, D = sg.tensor("X", (N, 3)), sg.tensor("D", (N, 3))
    f = (sg.relu(X) * D).sum()
    claimed = _parse("where(X > 0, D, 0)", X=X, D=D)
    assert claimed == sg.where(X > 0, D, 0)
    assert sg.check(f, X, claimed)
    assert not sg.check(f, X, _parse("where(X > 0, 1, 0)", X=X))
    vals = {"X": np.random.default_rng(0).normal(size=(4, 3)), "D": np.random.default_rng(1).normal(size=(4, 3))}
    t = torch.tensor(vals["X"], requires_grad=True)
    (torch.relu(t) * torch.tensor(vals["D"])).sum().backward()
    np.testing.assert_allclose(np.asarray(sg.numeric(claimed, vals), dtype=float), t.grad.numpy())


@pytest.mark.parametrize("text, message", [
    ("np.where(X > 0, D, 0)", r"write where\(\.\.\.\)"),
    ("where(X > 0, D)", r"takes three arguments"),
    ("where(a > 0, 1, 0)", r"is for tensors .* Piecewise"),
    ("where(X > 0, D, 0, axis=1)", r"keyword 'axis'"),
])
def test_where_refusals_say_what_to_write(text, message):
    X, D, a = sg.tensor("X", (N, 3)), sg.tensor("D", (N, 3)), sp.Symbol("a")
    with pytest.raises(ParseError, match=message):
        _parse(text, X=X, D=D, a=a)


def test_unknown_function_with_tensors_lists_the_tensor_functions():
    X = sg.tensor("X", (N, 3))
    with pytest.raises(ParseError) as e:
        _parse("frobnicate(X)", X=X)
    known = str(e.value).split("only these are known: ")[1]
    for name in ("maximum", "minimum", "clip", "one_hot", "mean", "where", "norm", "ones"):
        assert f" {name}," in known or f" {name})" in known, name


def test_norm_of_inf_names_p_and_suggests_the_max_of_abs():
    """norm(x, inf): the refusal named "the argument=", a keyword nobody wrote; it names p= now,
    and the ∞-norm's spelling the grammar takes."""
    x = sg.tensor("x", (3,))
    with pytest.raises(ParseError) as err:
        _parse("norm(x, inf)", x=x)
    msg = str(err.value)
    assert "p= takes a number constant, not 'inf'" in msg and "the argument=" not in msg
    assert "max(abs(x))" in msg
    v = np.array([1.5, -2.5, 2.0])          # the suggested spelling is the ∞-norm, as torch's
    got = sg.numeric(_parse("max(abs(x))", x=x), {"x": v})
    assert float(got) == pytest.approx(float(torch.linalg.vector_norm(torch.tensor(v), ord=float("inf"))))


@pytest.mark.parametrize("text", ["sum(where(x > 0, x, 0.1*x))", "Piecewise((1, x > 0), (0, True))"])
def test_a_comparison_of_a_matrix_names_tensors(text):
    # `symgrad check "sum(where(x > 0, ...))" --matrix x:3x1` was SymPy's "TypeError: Invalid
    # comparison of non-real x": a comparison is of scalars or of tensors, never of a matrix
    x = sp.MatrixSymbol("x", 3, 1)
    with pytest.raises(ParseError, match=r"'x > 0' compares the 3×1 matrix x.*--tensor x:3"):
        _parse(text, x=x)
