"""Constant tensors in text claims (symgrad/frontend/parse.py): ones, zeros and full with a shape of
integers and declared sizes (NumPy's ones((N, 2)), torch's ones(N, 2)), and tril/triu of a
tensor; what the text builds is compared with what the same Python builds with sg.ones, ..."""
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import ParseError, UnsafeInputError
from symgrad.frontend.parse import parse_expr

N = sp.Symbol("N", integer=True, positive=True)
c = sp.Symbol("c", real=True)
X, S = sg.tensor("X", (N, 2)), sg.tensor("S", (N, 4, 4))
DECL = {"X": X, "S": S, "c": c}


@pytest.mark.parametrize("text, expected", [
    ("ones((N, 2))", sg.ones((N, 2))),
    ("ones([N, 2])", sg.ones((N, 2))),
    ("ones(N, 2)", sg.ones((N, 2))),                  # torch.ones(N, 2)
    ("ones(shape=(N, 2))", sg.ones((N, 2))),
    ("ones(3)", sg.ones((3,))),
    ("zeros((N, 2*N))", sg.zeros((N, 2 * N))),
    ("full((N, 2), 0.5)", sg.full((N, 2), sp.Float(0.5))),
    ("full((N, 2), -1/3)", sg.full((N, 2), sp.Rational(-1, 3))),
    ("full((N, 2), fill_value=c)", sg.full((N, 2), c)),
    ("full(c, shape=(N, 2))", sg.full((N, 2), c)),
    ("full(shape=(N, 2), fill_value=c)", sg.full((N, 2), c)),
    ("ones((N, N, 2))", sg.ones((N, N, 2))),           # two symbolic sizes' product: allowed
    ("full((N, 2), -c/2)", sg.full((N, 2), -c / 2)),
    ("X - ones((N, 2))", X - sg.ones((N, 2))),
    ("2*X*ones((N, 2))", 2 * X * sg.ones((N, 2))),
    ("tril(ones((4, 4)))", sg.tril(sg.ones((4, 4)))),
    ("triu(S, 1)", sg.triu(S, 1)),
    ("tril(S, -1) * S", sg.tril(S, -1) * S),
])
def test_constructor_text_builds_what_python_builds(text, expected):
    assert parse_expr(text, symbols=DECL) == expected


@pytest.mark.parametrize("text, kind, words", [
    ("ones((M, 2))", ParseError, "a shape is integers and the declaration's integer sizes"),
    ("ones((N - 1, 2))", ParseError, "'N - 1' of ones(...) in 'ones((N - 1, 2))' must be positive"),
    ("zeros((0, 2))", ParseError, "'0' of zeros(...)"),
    ("ones(2.5)", ParseError, "not '2.5'"),
    ("ones()", ParseError, "ones(...) takes a shape"),
    ("full((N, 2))", ParseError, "full(...) takes a shape and a value"),
    ("full((N, 2), X)", UnsafeInputError, "the value of full(...) is a number constant or a scalar's name"),
    ("full((N, 2), exp(1))", UnsafeInputError, "not 'exp(1)'"),
    ("ones((N, 2), dtype=float)", UnsafeInputError, "the keyword 'dtype'"),
    ("ones(*N)", UnsafeInputError, "'*' unpacking"),
    ("ones((N, 1000, 1001))", UnsafeInputError, "1001000 entries"),
    ("zeros((10**12,))", UnsafeInputError, "the size '10**12' is too large"),
    ("ones((N, 10**9))", UnsafeInputError, "the size '10**9' is too large"),
    ("ones((2,) * 3)", UnsafeInputError, "a shape is integers"),
    ("ones(('2', 2))", UnsafeInputError, "string literal"),
    ("np.ones((N, 2))", UnsafeInputError, "write ones(...)"),
    ("tril(S, k)", UnsafeInputError, "the diagonal is an integer constant"),
    ("eye(N, 3, 2)", ParseError, "eye takes one or two sizes"),     # eye(N), eye(n, m) read (ninth session)
    ("arange(N, 4)", ParseError, "arange takes one size"),
    # a symbolic size counted as 1 let gigabytes through at the sizes a check draws (a review found)
    ("ones((N*10**8, 1000))", UnsafeInputError, "100000000000 entries (for each unit"),
    ("ones((N*1000, 1001))", UnsafeInputError, "1001000 entries"),
    ("ones((N*N*N*N*N*N*N*N*N*N, 1000))", UnsafeInputError, "at most two symbolic sizes' product"),
    ("X.reshape(N*10**9)", UnsafeInputError, "the size 'N*10**9' is too large"),
    # NumPy and torch refuse a shape or a value given twice; it was joined into shape (4, 3)
    ("ones(3, shape=4)", ParseError, "the shape of ones(...) is given twice"),
    ("full((N, 2), 1, fill_value=2)", ParseError, "the value of full(...) is given twice"),
])
def test_constructor_refusals_name_the_problem(text, kind, words):
    with pytest.raises(kind) as e:
        parse_expr(text, symbols=DECL)
    assert words in str(e.value)


def test_a_claim_with_ones_is_checked():
    """The gap: sg.check(sum(X), X, "ones((N, 2))") could not be said in text."""
    assert sg.check(sg.sum(X), X, "ones((N, 2))")
    assert not sg.check(sg.sum(X), X, "2*ones((N, 2))")
    assert sg.check(sg.sum(c * X), X, "full((N, 2), c)")


def test_eye_of_a_text_of_matrices_is_still_told_identity():
    """eye(N) / arange(N) are tensors' constructors; among MatrixSymbols eye(3) keeps its hint."""
    W = sp.MatrixSymbol("W", 3, 3)
    with pytest.raises(UnsafeInputError, match="did you mean 'Identity'"):
        parse_expr("W*eye(3)", symbols={"W": W})
