"""Text claims of tensor expressions (symgrad/frontend/parse.py): NumPy's keywords (axis=,
keepdims=) and a tensor's methods (.sum, .mean, .max, .min, .reshape, .transpose, .dot, .T), each
read from the syntax tree and built with the tensor API; what the text builds is compared with what
the same NumPy-style Python builds. The injection corpus is tests/cli/test_injection.py."""
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import ParseError, UnsafeInputError
from symgrad.frontend.parse import parse_expr

N = sp.Symbol("N", integer=True, positive=True)
X, W, D = sg.tensor("X", (N, 3)), sg.tensor("W", (3, 4)), sg.tensor("D", (N, 4))
I4 = sg.tensor("I", (N, 2, 2, 3))
y = sg.tensor("y", (N,), integer=True)
DECL = [X, W, D, I4, y]


@pytest.mark.parametrize("text, expected", [
    ("X.T @ D", X.T @ D),
    ("X.T.dot(D)", X.T @ D),
    ("X @ W - D", X @ W - D),
    ("D.sum(axis=0)", D.sum(axis=0)),
    ("D.sum(0)", D.sum(axis=0)),
    ("D.sum(axis=(0, 1), keepdims=True)", D.sum(axis=(0, 1), keepdims=True)),
    ("D.mean()", D.mean()),
    ("D.max(axis=-1, keepdims=True)", D.max(axis=1, keepdims=True)),
    ("D.min(1)", D.min(axis=1)),
    ("I.reshape(N, -1)", I4.reshape(N, 12)),
    ("I.reshape((N, 12))", I4.reshape(N, 12)),
    ("I.transpose(0, 2, 3, 1)", I4.transpose(0, 2, 3, 1)),
    ("I.transpose((0, 2, 3, 1)).reshape(-1, 3)", I4.transpose(0, 2, 3, 1).reshape(4 * N, 3)),
    ("sum(D, axis=1)", sg.sum(D, axis=1)),
    ("sum(D)", sg.sum(D)),
    ("mean(D, 0)", sg.mean(D, axis=0)),
    ("max(X, axis=0)", sg.max(X, axis=0)),
    ("softmax(D, axis=1)", sg.softmax(D, axis=1)),
    ("logsumexp(D, axis=1, keepdims=True)", sg.logsumexp(D, axis=1, keepdims=True)),
    ("cross_entropy(D, y)", sg.cross_entropy(D, y)),
    ("softmax(D, axis=1) - one_hot(y, 4)", sg.softmax(D, axis=1) - sg.one_hot(y, 4)),
    ("2 * X.T @ (X @ W - D) / N", 2 * X.T @ (X @ W - D) / N),
    # clip, maximum, minimum, std: bounds and ddof number constants of the text
    ("clip(D, -1, 1)", sg.clip(D, -1, 1)),
    ("clip(D, 0, None)", sg.clip(D, 0, None)),
    ("D.clip(-1/2, pi)", D.clip(sp.Rational(-1, 2), sp.pi)),
    ("maximum(D, 0)", sg.maximum(D, 0)),
    ("maximum(0, D)", sg.maximum(0, D)),
    ("minimum(X @ W, D)", sg.minimum(X @ W, D)),
    ("std(D, axis=0, ddof=1)", sg.std(D, axis=0, ddof=1)),
    ("D.std(axis=1, keepdims=True)", D.std(axis=1, keepdims=True)),
    ("D.std(0, correction=1).sum()", D.std(axis=0, correction=1).sum()),
    ("var(D, axis=0, ddof=1)", sg.var(D, axis=0, correction=1)),
    ("D.var(1, keepdims=True)", D.var(axis=1, keepdims=True)),
])
def test_tensor_text_builds_what_numpy_style_python_builds(text, expected):
    assert parse_expr(text, symbols=DECL) == expected


@pytest.mark.parametrize("text, kind, words", [
    ("w.sum()", ParseError, "is a method of tensors (sg.tensor); 'w' is not one"),
    ("sum(w, axis=0)", ParseError, "with axis= is for tensors"),
    ("mean(w)", ParseError, "mean(...) in 'mean(w)' is for tensors"),
    ("X.sum", ParseError, "must be called"),
    ("X.sum(axis=0, axis=1)", ParseError, "given twice"),
    ("X.sum(0, axis=1)", ParseError, "the axis is given twice"),
    ("X.reshape(w)", ParseError, "a shape is integers and the declaration's integer sizes"),
    ("X.dot(w)", ParseError, "takes a tensor; 'w' is not one"),
    ("X.sum(axis=1.5)", UnsafeInputError, "an axis is an integer constant"),
    ("X.sum(keepdims=1)", UnsafeInputError, "keepdims= takes True or False, not '1'"),
    ("X.sum(where=0)", UnsafeInputError, "the keyword 'where'"),
    ("X.cumsum()", UnsafeInputError, "the attribute '.cumsum' is not allowed"),
    ("X.shape", UnsafeInputError, "the attribute '.shape' is not allowed"),
    ("X @ w", ParseError, "'w' is not a tensor"),
    ("one_hot(w, 4)", ParseError, "one_hot(...) in 'one_hot(w, 4)' is for tensors"),
    ("one_hot(y, 2.5)", ParseError, "a shape is integers and the declaration's integer sizes"),
    # NumPy's module prefix, as a student copies it from a backward: named, with what to write
    # (np.sum(D, axis=0) was refused as "an axis is an integer constant … not 'D'", np.dot(X.T, D) as
    # ".dot(...) takes 1 positional argument(s), got 2")
    ("np.sum(D, axis=0)", UnsafeInputError, "'np.' in 'np.sum(D, axis=0)': no module is read; a function "
                                            "is called by its bare name: write sum(...)"),
    ("np.dot(X.T, D)", UnsafeInputError, "'np.' in 'np.dot(X.T, D)': no module is read; a function is "
                                         "called by its bare name: write A @ B (or A.dot(B))"),
    ("numpy.exp(D)", UnsafeInputError, "write exp(...)"),
    ("np.maximum(D, 0)", UnsafeInputError, "write maximum(...)"),
    ("np.clip(D, 0, 1)", UnsafeInputError, "write clip(...)"),
    # clip's bounds and std's ddof are number constants, read from the tree, never evaluated
    ("clip(D, __import__('os'), 1)", UnsafeInputError,
     "a bound is a number constant or None (clip(x, -1, 1), clip(x, 0, None)), a scalar's name "
     "(clip(x, -c, c)) or a tensor (clip(x, lo, hi)), not \"__import__('os')\""),
    ("D.std(ddof=D.__class__)", UnsafeInputError, "ddof= takes a number constant, not 'D.__class__'"),
    ("std(D, ddof=exp(1))", UnsafeInputError, "ddof= takes a number constant, not 'exp(1)'"),
    ("D.clip(sqrt(-1), 1)", UnsafeInputError, "a bound is a number constant or None"),  # D.clip(D, 1) is one
    ("D.clip(True)", UnsafeInputError, "a bound is a number constant or None"),
    ("D.clip(0, 'x')", UnsafeInputError, "a bound is a number constant or None"),
    ("clip(D, 1/0, 1)", ParseError, "a bound is a number constant or None"),
    ("clip(D, 2, 1)", ParseError, "the lower bound 2 is above the upper bound 1"),
    ("clip(w, 0, 1)", ParseError, "clip(...) in 'clip(w, 0, 1)' is for tensors"),
    ("maximum(w, 0)", ParseError, "none of its arguments is one (of scalars write Max(a, b))"),
    ("maximum(D, *w)", UnsafeInputError, "'*' unpacking"),
    ("D.std(where=0)", UnsafeInputError, "the keyword 'where'"),
])
def test_what_the_tensor_grammar_refuses_is_named(text, kind, words):
    with pytest.raises(kind) as e:
        parse_expr(text, symbols=DECL)
    assert words in str(e.value), str(e.value)


def test_a_tensor_text_claim_is_checked():
    """cs231n's least-squares layer, its gradients claimed as text (names mean f's tensors; N the
    declared batch size): right, a factor off, and a bias gradient not summed over the batch."""
    Y, b = sg.tensor("Y", (N, 4)), sg.tensor("b", (4,))
    loss = sg.mean(sg.sum((X @ W + b - Y) ** 2, axis=1))
    assert sg.check(loss, [W, b], ["2 * X.T @ (X @ W + b - Y) / N", "2 * (X.dot(W) + b - Y).sum(axis=0) / N"])
    r = sg.check(loss, W, "X.T @ (X @ W + b - Y) / N")
    assert r.verdict == "not equal" and r.hint.startswith("constant factor"), r.hint
    r = sg.check(loss, b, "2 * (X @ W + b - Y) / N")
    assert r.verdict == "not equal" and r.hint.startswith("missing sum"), r.hint


@pytest.mark.parametrize("f, right, wrong, hint", [
    # the clipped square: the gradient is 0 outside [-1, 1]
    (lambda x: (sg.clip(x, -1, 1) ** 2).sum(),
     "2 * clip(x, -1, 1) * Heaviside(x + 1, 1) * Heaviside(1 - x, 1)", "2 * clip(x, -1, 1)", None),
    # x·clip(x): the product rule, clip(x) + x·clip'(x)
    (lambda x: (x * sg.clip(x, -1, 1)).sum(), "x.clip(-1, 1) + x * Heaviside(1 - x**2, 1)",
     "x.clip(-1, 1)", None),
    (lambda x: (sg.maximum(x, 0) ** 2).sum(), "2 * maximum(x, 0)", "2 * x", None),
    (lambda x: (sg.minimum(0, x) ** 3).sum(), "3 * minimum(0, x) ** 2", "3 * x ** 2", None),
    # std over the batch: (x − mean) / (n·std), n = N, or N − 1 with ddof=1
    (lambda x: x.std(axis=0).sum(), "(x - x.mean(axis=0)) / (N * x.std(axis=0))",
     "(x - x.mean(axis=0)) / (N * std(x, axis=0, ddof=1))", None),
    (lambda x: sg.std(x, axis=0, ddof=1).sum(), "(x - mean(x, axis=0)) / ((N - 1) * x.std(0, ddof=1))",
     "(x - mean(x, axis=0)) / (N * x.std(0, ddof=1))", None),
])
def test_clip_maximum_minimum_std_claims_read_as_text(f, right, wrong, hint):
    """A hand-derived gradient written with clip, maximum, minimum and std as text (sg.check reads it
    through the whitelisting parser): the right one equal, a wrong one not, sampled against
    symgrad's own derivative of the tensor expression."""
    x = sg.tensor("x", (N, 3))
    loss = f(x)
    r = sg.check(loss, x, right)
    assert r.verdict == "equal", (r.verdict, r.hint)
    r = sg.check(loss, x, wrong)
    assert r.verdict == "not equal", r.verdict
    if hint:
        assert r.hint.startswith(hint), r.hint


def test_nested_calls_are_built_once_each():
    """sum(...) reads its first argument to learn whether it is a tensor; that argument was built
    again for the scalar sum, so sum(sum(...sum(x)...)) took time doubling with each level (a text
    of 300 characters would never finish). A hang guard, not a timing test."""
    from time_limit import time_limit
    x = sp.Symbol("x")
    with time_limit(20):
        assert parse_expr("sum(" * 60 + "x" + ")" * 60, symbols=[x]) == x
        assert parse_expr("sum(" * 40 + "X" + ")" * 40, symbols=DECL) is not None


def test_the_tensor_functions_come_by_registration_not_by_a_hidden_import():
    """parse.py reached sum/softmax/... through importlib.import_module by a module's name, an import
    tests/test_layout.py could not see; the tensor modules now register them at their import. parse.py
    and its parts (parse_*.py) import no symgrad module but errors and each other, and call no importer."""
    import ast
    import pathlib

    from symgrad.frontend import parse
    files = sorted(pathlib.Path(parse.__file__).parent.glob("parse*.py"))
    assert len(files) >= 4, files
    for path in files:
        tree = ast.parse(path.read_text())
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level}
        assert imported <= {"errors"} | {f.stem for f in files}, (path.name, imported)
        names = {n.attr if isinstance(n, ast.Attribute) else n.id for n in ast.walk(tree)
                 if isinstance(n, (ast.Attribute, ast.Name))}
        assert not names & {"importlib", "import_module", "__import__"}, (path.name, names & {"importlib", "__import__"})
    assert {"sum", "mean", "max", "min", "one_hot", "softmax", "log_softmax", "logsumexp",
            "cross_entropy", "clip", "maximum", "minimum", "std"} <= set(parse._TENSOR_CALLS)
    assert parse._TENSOR_CALLS["softmax"].build is sg.softmax
