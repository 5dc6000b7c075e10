"""Long chains a + b - c + ... and a * b / c ... (symgrad/frontend/parse.py): the tree nests them as
deep as they are long, but they are read without recursion, as one sp.Add (sp.Mul) of scalars. A
sum of 400 terms was refused as 'nested more than 200 deep, at 'Load''; one of 190 took seconds,
SymPy re-sorting the sum at each term. Nesting that is nesting (parentheses, calls, powers) is
still bounded."""
import pytest
import sympy as sp
from time_limit import time_limit

from symgrad.errors import ParseError, UnsafeInputError
from symgrad.frontend.parse import MAX_DEPTH, parse_expr

xs = sp.symbols("x0:402")


def test_a_sum_of_400_terms_is_the_sum_sympy_builds():
    text = "".join(("+" if i % 3 else "-") + f"sin(x{i}*x{i + 1})" for i in range(400)).lstrip("+")
    expected = sp.Add(*[(1 if i % 3 else -1) * sp.sin(xs[i] * xs[i + 1]) for i in range(400)])
    with time_limit(20):
        assert parse_expr(text) == expected


def test_a_product_and_quotient_chain_is_the_one_sympy_builds():
    text = "x0" + "".join(("*" if i % 2 else "/") + f"x{i}" for i in range(1, 400))
    expected = sp.Mul(xs[0], *[xs[i] if i % 2 else 1 / xs[i] for i in range(1, 400)])
    with time_limit(20):
        assert parse_expr(text) == expected


a, b, c, d, e, f = sp.symbols("a b c d e f")


@pytest.mark.parametrize("text, expected", [
    ("a - b + c - d", a - b + c - d),
    ("a/b*c/d", a * c / (b * d)),
    ("1/2/3", sp.Rational(1, 6)),
    ("a*b + c*d - e/f", a * b + c * d - e / f),
])
def test_short_chains_keep_their_meaning(text, expected):
    assert parse_expr(text) == expected


def test_a_chain_of_matrices_is_still_checked_link_by_link():
    W = sp.MatrixSymbol("W", 2, 2)
    assert parse_expr(" + ".join(["W"] * 300), symbols=[W]) == 300 * W
    assert parse_expr("W*W + W - W*2*W", symbols=[W]) == W * W + W - 2 * W * W
    with pytest.raises(ParseError, match="a scalar is not added to a matrix"):
        parse_expr("W*W + W + 1 + W", symbols=[W])


def test_the_result_is_still_checked_after_a_chain():
    with pytest.raises(ParseError, match="not finite"):
        parse_expr("x/0 + 1 + 2")
    with pytest.raises(UnsafeInputError, match="x\\*\\*120"):
        parse_expr("x**60*x**60*y")


@pytest.mark.parametrize("text", ["(" * (MAX_DEPTH + 5) + "x" + ")" * (MAX_DEPTH + 5),
                                  "x" + "**x" * (MAX_DEPTH + 5),
                                  "sin(" * (MAX_DEPTH + 5) + "x" + ")" * (MAX_DEPTH + 5)])
def test_real_nesting_is_still_bounded(text):
    with pytest.raises((UnsafeInputError, ParseError)):
        parse_expr(text)


def test_a_long_chain_of_tensors_is_refused_at_once():
    """A chain of tensor terms is built link by link, each rebuilding a growing elementwise node: a
    450-term one took 36 s to read (a review found); past MAX_DEPTH it is refused, as any nesting."""
    import symgrad as sg
    N = sp.Symbol("N", integer=True, positive=True)
    X = sg.tensor("X", (N, 2))
    text = "X*0 + " + " - ".join(f"exp(X/{i})" for i in range(1, MAX_DEPTH + 50))
    with time_limit(20), pytest.raises(UnsafeInputError, match="a chain of .* terms with tensors"):
        parse_expr(text, symbols={"X": X})
    short = "X + " + " - ".join(f"exp(X/{i})" for i in range(1, 6))
    assert parse_expr(short, symbols={"X": X}).shape == X.shape
