"""cross_entropy and nll_loss in the text grammar with torch's keywords (ignore_index=, reduction=,
label_smoothing=, weight=): what the text builds equals what the same Python builds; a keyword's
value is a constant of the syntax tree (reduction one of three string literals, compared, never
evaluated), and a bad one is refused naming what is allowed."""
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import SymgradError, UnsafeInputError
from symgrad.frontend.parse import parse_expr

N = sp.Symbol("N", integer=True, positive=True)
S, y, w = sg.tensor("S", (N, 3)), sg.tensor("y", (N,), integer=True), sg.tensor("w", (3,))
S3, y3 = sg.tensor("S3", (N, 3, 5)), sg.tensor("y3", (N, 5), integer=True)
DECL = [S, y, w, S3, y3]


@pytest.mark.parametrize("text, expected", [
    ("cross_entropy(S, y, ignore_index=0)", sg.cross_entropy(S, y, ignore_index=0)),
    ("cross_entropy(S, y, ignore_index=-100)", sg.cross_entropy(S, y, ignore_index=-100)),
    ("cross_entropy(S, y, reduction='sum', ignore_index=2)", sg.cross_entropy(S, y, reduction="sum", ignore_index=2)),
    ('cross_entropy(S, y, reduction="none")', sg.cross_entropy(S, y, reduction="none")),
    ("cross_entropy(S, y, weight=w, ignore_index=1)", sg.cross_entropy(S, y, weight=w, ignore_index=1)),
    ("cross_entropy(S, y, label_smoothing=0.1)", sg.cross_entropy(S, y, label_smoothing=0.1)),
    ("cross_entropy(S, y, weight=w, label_smoothing=0.1, ignore_index=-100)",
     sg.cross_entropy(S, y, weight=w, label_smoothing=0.1, ignore_index=-100)),
    ("cross_entropy(S3, y3, axis=1, ignore_index=0)", sg.cross_entropy(S3, y3, axis=1, ignore_index=0)),
    ("cross_entropy(S, y, 1, weight=2*w)", sg.cross_entropy(S, y, 1, weight=2 * w)),
    ("nll_loss(log_softmax(S, axis=1), y)", sg.nll_loss(sg.log_softmax(S, axis=1), y)),
    ("nll_loss(log_softmax(S, axis=1), y, ignore_index=0, reduction='sum')",
     sg.nll_loss(sg.log_softmax(S, axis=1), y, ignore_index=0, reduction="sum")),
    ("nll_loss(log_softmax(S3, axis=1), y3, weight=w, reduction='none')",
     sg.nll_loss(sg.log_softmax(S3, axis=1), y3, weight=w, reduction="none")),
])
def test_the_text_builds_what_python_builds(text, expected):
    assert parse_expr(text, symbols=DECL) == expected


@pytest.mark.parametrize("text, kind, words", [
    ("cross_entropy(S, y, reduction='avg')", UnsafeInputError, "reduction= takes one of 'mean', 'sum', 'none', not"),
    ("cross_entropy(S, y, reduction=mean)", UnsafeInputError, "reduction= takes one of the strings 'mean'"),
    ("cross_entropy(S, y, reduction='__import__(\"os\")')", UnsafeInputError, "reduction= takes one of"),
    ("cross_entropy(S, y, reduction=f'sum')", UnsafeInputError, "reduction= takes one of the strings"),
    ("cross_entropy(S, y, ignore_index=0.5)", UnsafeInputError, "ignore_index= takes an integer constant"),
    ("cross_entropy(S, y, ignore_index=N)", UnsafeInputError, "ignore_index= takes an integer constant"),
    ("cross_entropy(S, y, ignore_index=10**100)", UnsafeInputError, "ignore_index= takes an integer constant"),
    ("cross_entropy(S, y, label_smoothing=2)", SymgradError, "label_smoothing must be a number in [0, 1]"),
    ("cross_entropy(S, y, weight='w')", UnsafeInputError, "the string literal"),
    ("nll_loss(S, y, 0)", SymgradError, "takes 2 argument(s)"),
    ("nll_loss(S, y, size_average=True)", UnsafeInputError, "the keyword 'size_average'"),
])
def test_bad_keywords_are_refused_naming_what_is_allowed(text, kind, words):
    with pytest.raises(kind) as e:
        parse_expr(text, symbols=DECL)
    assert words in str(e.value), str(e.value)
