"""Text where symgrad's functions expect an expression or a function: parsed by the whitelisting
parser into scalar symbols (never sympified), and a SymgradError naming the argument and its shape
where that cannot fit — not a raw TypeError ('str' object is not callable, Mix of Matrix and Scalar
symbols) or AttributeError, nor a str repeated (dense('x', 3) was 'xxx')."""
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import ArgumentError, ShapeError, SymgradError

X, Y = sp.MatrixSymbol("X", 3, 1), sp.MatrixSymbol("Y", 2, 1)


@pytest.mark.parametrize("f", ["sin", "lambda t: t", b"sin", 3])
def test_elementwise_takes_a_function_never_text(f):
    with pytest.raises(ArgumentError, match="the function f must be") as e:
        sg.elementwise(f, X)
    assert "never turned into a function" in str(e.value)


def test_elementwise_reads_text_for_its_matrix_argument():
    assert sg.elementwise(sp.sin, "t + 1") == sp.sin(sp.Symbol("t") + 1)


@pytest.mark.parametrize("fn", [sg.softmax, sg.log_softmax, sg.logsumexp, lambda M: sg.gather(M, 0),
                                lambda M: sg.cross_entropy(M, X)])
def test_text_where_a_matrix_is_needed_says_text_is_scalar(fn):
    with pytest.raises(ArgumentError, match="takes a matrix expression") as e:
        fn("X")
    assert "text is parsed into scalar symbols" in str(e.value) and "MatrixSymbol itself" in str(e.value)


@pytest.mark.parametrize("fn, names", [(sg.mse, ("yhat", "y")), (sg.l1, ("yhat", "y")),
                                       (sg.hinge, ("score", "y")), (sg.bce, ("p", "y")),
                                       (sg.kl_div, ("p", "q"))])
def test_a_loss_of_a_matrix_and_text_names_both(fn, names):
    with pytest.raises(ArgumentError) as e:
        fn(X, "y")
    msg = str(e.value)
    assert f"{names[0]} 'X' is a 3x1 matrix and {names[1]} 'y' is a scalar" in msg, msg
    assert "text is parsed into scalar symbols" in msg
    with pytest.raises(ShapeError, match=r"'X' is a 3x1 matrix and .* 'Y' is a 2x1 matrix"):
        fn(X, Y)
    a, b = sp.symbols("a b")
    assert fn("a", "b") == fn(a, b)                  # two scalars as text: parsed, no error


def test_cross_entropy_reads_a_text_label():
    k = sp.Symbol("k")
    assert sg.cross_entropy(X, "k") == sg.cross_entropy(X, k)


def test_dense_parses_text_instead_of_repeating_it():
    assert sg.dense("w", 3) == 3 * sp.Symbol("w")
    with pytest.raises(SymgradError):
        sg.dense(X, "__import__('os')")
