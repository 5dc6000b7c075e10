"""symgrad/frontend/parse.py: the grammar user text is read with (what it accepts, what it builds,
where its bounds are). The injection corpus, through every entry point, is tests/cli/test_injection.py."""
import re

import pytest
import sympy as sp

import symgrad as sg
from check_corpus import matrix_entries, scalar_entries
from symgrad.errors import ParseError, SymgradError, UnsafeInputError
from symgrad.frontend import parse as P
from symgrad.frontend.parse import as_expr, parse_expr, parse_name, parse_names, parse_number

x, y, z, w, b, t = sp.symbols("x y z w b t")
W, X = sp.MatrixSymbol("W", 3, 2), sp.MatrixSymbol("x", 2, 1)
Z, T = sp.MatrixSymbol("z", 4, 1), sp.MatrixSymbol("t", 4, 1)
MATS = {"W": W, "x": X, "z": Z, "t": T, "S": sp.MatrixSymbol("S", 2, 2)}


# What the README, the docs and the CLI tests write, and what SymPy itself builds for it.
@pytest.mark.parametrize("text, expected", [
    ("0.5*(y - w*x)**2", sp.Float(0.5) * (y - w * x) ** 2),
    ("-(y - w*x)*x", -(y - w * x) * x),
    ("sin(x**2)", sp.sin(x ** 2)),
    ("(x+y)*z", (x + y) * z),
    ("x*exp(y)", x * sp.exp(y)),
    ("relu(z)", sg.relu(z)),
    ("relu(w*x + b)", sg.relu(w * x + b)),
    ("leaky_relu(x, alpha=0.2)", sg.leaky_relu(x, sp.Float(0.2))),
    ("leaky_relu(x, 0.2)", sg.leaky_relu(x, sp.Float(0.2))),
    ("Piecewise((1, z > 0), (0, True))", sp.Piecewise((1, z > 0), (0, True))),
    ("Piecewise((1, (0 < z) & (z < 1)), (0, True))", sp.Piecewise((1, (z > 0) & (z < 1)), (0, True))),
    ("beta*gamma*w**2", sp.Symbol("beta") * sp.Symbol("gamma") * w ** 2),
    ("1/2*x", x / 2),
    ("x**-1 + x**(1/2)", 1 / x + sp.sqrt(x)),
    ("2**10*x", 1024 * x),
    ("pi/4 + E**x", sp.pi / 4 + sp.exp(x)),
    ("Max(x, 0) + max(x, y) + Min(x, y) + abs(x)", sp.Max(x, 0) + sp.Max(x, y) + sp.Min(x, y) + sp.Abs(x)),
    ("Heaviside(z, 1) + sign(z)", sp.Heaviside(z, 1) + sp.sign(z)),
    ("log(x, 2) + sqrt(y) + tanh(z)", sp.log(x, 2) + sp.sqrt(y) + sp.tanh(z)),
    ("sigmoid(x)*(1 - sigmoid(x)) + softplus(y)", sg.sigmoid(x) * (1 - sg.sigmoid(x)) + sg.softplus(y)),
    ("-+x", -x),
    ("α*θ", sp.Symbol("α") * sp.Symbol("θ")),
])
def test_scalar_texts_build_what_sympy_builds(text, expected):
    assert parse_expr(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("sum(HadamardPower(W*x, 2))", sg.sum(sp.HadamardPower(W * X, 2))),
    ("2*W*x*x.T", 2 * W * X * X.T),
    ("2*x*x.T*W.T", 2 * X * X.T * W.T),
    ("transpose(x)*W.T + T(W*x)", X.T * W.T + (W * X).T),
    ("W @ x", W * X),
    ("cross_entropy(z, t)", sg.cross_entropy(Z, T)),
    ("softmax(z) - t", sg.softmax(Z) - T),
    ("W[2, 1] + x[1] + x[1, 0]", W[2, 1] + 2 * X[1, 0]),
    ("Trace(W.T*W) + trace(Identity(2))", sp.Trace(W.T * W) + sp.Trace(sp.Identity(2))),
    ("HadamardProduct(W*x, W*x) + OneMatrix(3, 1)", sp.HadamardProduct(W * X, W * X) + sp.OneMatrix(3, 1)),
])
def test_matrix_texts(text, expected):
    assert parse_expr(text, symbols=MATS) == expected


def test_equal_to_sympys_own_reader():
    """For trusted text, SymPy's reader (which evaluates) is an independent oracle of the meaning."""
    texts = ["0.5*(y - w*x)**2", "x**3 - 2*x*y + 1/3", "exp(-x)/(1 + exp(-x))", "log(1 + x**2)*cos(y)",
             "(x - y)**2/(2*z)", "-x**-2", "2**-3*x", "Abs(x - 1) + Max(x, y, 0)", "1e-3*x + 2.5e2"]
    for text in texts:
        assert parse_expr(text) == sp.sympify(text), text


def reason(message, text) -> str:
    """The message after its echo of the text: where the offending token must be named."""
    return message.split(P._show(text), 1)[1]


def _exprs(entry):
    c = entry.claimed
    claims = list(c.values()) if isinstance(c, dict) else list(c) if isinstance(c, (list, tuple)) else [c]
    return [e for e in [entry.f] + claims if isinstance(e, sp.Basic)]


def test_the_check_corpus_reads_back_from_its_printed_form():
    """Every expression of the sg.check corpus that SymPy prints in the grammar reads back equal
    (left out: a symbol called ``lambda``, a Python keyword; OneMatrix printed as ``1``; maps)."""
    read = 0
    for entry in scalar_entries() + matrix_entries():
        for e in _exprs(entry):
            names = {s.name for s in e.free_symbols}
            if "lambda" in names or e.atoms(sp.OneMatrix) or e.has(sp.Lambda):
                continue
            assert parse_expr(sp.sstr(e), symbols=e.free_symbols) == e, sp.sstr(e)
            read += 1
    assert read >= 140


def test_symbols_are_declared_or_made():
    xr = sp.Symbol("x", real=True)
    assert parse_expr("2*x", symbols=[xr]) == 2 * xr
    assert parse_expr("x", real=True).is_real
    assert parse_expr("x").is_real is None
    assert parse_expr("W", symbols={"W": W}) is W


@pytest.mark.parametrize("text, token", [
    ("__import__('os')", "'__import__'"),
    ("x.subs(x, 1)", "'.subs'"),
    ("exp('x')", "\"'x'\""),
    ("eval(x)", "'eval'"),
    ("exp", "'exp' is a function"),
    ("leaky_relu(x, beta=1)", "'beta'"),
    ("leaky_relu(x, alpha=y)", "alpha= "),
    ("x == y", "'=='"),
    ("x % 2", "'%'"),
    ("x ^ 2", "write ** for a power"),
    ("1j*x", "'1j'"),
    ("[x]", "a list '[x]'"),
    ("(x, y)", "a tuple"),
    ("lambda: x", "a lambda 'lambda: x'"),
    ("ｅｘｐ(x)", "'ｅ' (U+FF45) is a look-alike of 'e'"),
    ("x²", "'²'"),
    ("x\u200by", "U+200B"),
    ("x # note", "'#'"),
    ("x[0:1]", "the index '0:1'"),
])
def test_refusals_name_the_token(text, token):
    with pytest.raises(UnsafeInputError) as e:
        parse_expr(text, symbols=MATS)
    assert token in reason(str(e.value), text), str(e.value)


@pytest.mark.parametrize("text, token", [
    ("x*10**10**8", "'10**10**8'"),
    ("2**2**2**30", "'2**2**30'"),
    ("x**10**10", "'x**10**10'"),
    ("x**1000", "'x**1000'"),
    ("x**-1e300", "'x**-1e300'"),
    ("(10**1000)**1000", "'(10**1000)**1000'"),
    ("HadamardPower(W, 10**6)", "HadamardPower(W, 10**6)"),
    ("Identity(10**9)", "'10**9'"),
    ("1e400*x", "'1e400'"),
    ("9" * 700 + "*x", "'99999999"),
    ("sqrt(" + "9" * 700 + ")", "'99999999"),
    ("(a + b)**60*(a + b)**60", "'(a + b)**120'"),
    ("S**60*S**60", "'S**120'"),
    ("Max(" + ", ".join(f"x{i}" for i in range(P.MAX_BRANCHES + 1)) + ")", "takes 1 to 16"),
])
def test_sizes_are_bounded_before_sympy_builds_them(text, token):
    with pytest.raises(ParseError) as e:
        parse_expr(text, symbols=MATS)
    assert token in str(e.value)


def test_length_nodes_and_depth_are_bounded():
    with pytest.raises(UnsafeInputError, match="characters long"):
        parse_expr("x" * (P.MAX_CHARS + 1))
    with pytest.raises(UnsafeInputError, match="deep"):
        parse_expr("-" * (P.MAX_DEPTH + 5) + "x")
    with pytest.raises(UnsafeInputError, match="syntax nodes"):
        parse_expr("Max(" + ",".join(["x"] * (P.MAX_NODES // 2 + 1)) + ")")
    assert parse_expr("-" * (P.MAX_DEPTH - 5) + "x") in (x, -x)          # up to the bound: read


def test_syntax_errors_and_bad_values():
    with pytest.raises(ParseError, match="cannot parse"):
        parse_expr("sin(x**2")
    with pytest.raises(ParseError, match="is empty"):
        parse_expr("   ")
    with pytest.raises(ParseError, match="not finite"):
        parse_expr("x/0")
    with pytest.raises(ParseError, match="shapes do not match"):
        parse_expr("W*W", symbols=MATS)
    with pytest.raises(ParseError, match="outside the shape"):
        parse_expr("W[3, 0]", symbols=MATS)
    with pytest.raises(ParseError, match="takes 2 argument"):
        parse_expr("mse(x)")


def test_names_and_numbers():
    assert parse_name(" W1 ") == "W1" and parse_names("x, y,") == ["x", "y"]
    for bad, token in [("x(1)", "'('"), ("_x", "'_'"), ("lambda", "keyword"), ("ｘ", "U+FF58")]:
        with pytest.raises(UnsafeInputError, match=re.escape(token)):
            parse_name(bad)
    assert parse_number("-1/4") == -0.25 and parse_number("pi") == pytest.approx(3.141592653589793)
    assert parse_number("1e-3") == 0.001
    for bad in ["x", "1/0", "__import__('os')", "sqrt(-1)"]:
        with pytest.raises(SymgradError):
            parse_number(bad)


def test_as_expr_reads_text_and_refuses_text_in_containers():
    xr = sp.Symbol("x", real=True)
    assert as_expr("x**2", symbols=[xr]) == xr ** 2
    assert as_expr(xr + 1) == xr + 1 and as_expr(2) == 2
    with pytest.raises(UnsafeInputError):
        as_expr(["x"])
    with pytest.raises(UnsafeInputError):
        as_expr(b"x")


def test_every_function_of_the_grammar_is_known_and_nothing_else():
    names = P.function_names()
    for n in ["sigmoid", "relu", "leaky_relu", "softplus", "softmax", "log_softmax", "logsumexp", "sum",
              "mse", "cross_entropy", "exp", "log", "Abs", "abs", "Max", "max", "Heaviside", "transpose"]:
        assert n in names
    for n in ["eval", "exec", "getattr", "sympify", "S", "Symbol", "Function", "Lambda", "open"]:
        assert n not in names


def test_a_keyword_given_twice_is_refused():
    # ast.parse keeps both keywords (only compile() refuses them): the second silently won
    with pytest.raises(ParseError, match="alpha= is given twice"):
        parse_expr("leaky_relu(x, alpha=0.1, alpha=0.2)")
