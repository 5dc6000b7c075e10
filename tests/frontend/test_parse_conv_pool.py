"""conv1d / conv2d / max_pool2d / avg_pool2d in the text grammar (symgrad/frontend/parse.py, what
``symgrad check`` / ``derive --tensor`` read): the keywords stride=, padding=, dilation=, groups= and
a pool's kernel are integer constants or tuples of them, read from the syntax tree (never
evaluated); what the text builds equals what the same Python builds, and hostile sizes are refused
at once with the limit named."""
import time

import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import ParseError, ShapeError, SymgradError, UnsafeInputError
from symgrad.frontend.parse import MAX_WINDOW, parse_expr

N = sp.Symbol("N", integer=True, positive=True)
x, w, b = sg.tensor("x", (N, 3, 8, 8)), sg.tensor("w", (4, 3, 3, 3)), sg.tensor("b", (4,))
s, k = sg.tensor("s", (N, 3, 10)), sg.tensor("k", (2, 3, 3))
DECL = [x, w, b, s, k]


@pytest.mark.parametrize("text, expected", [
    ("conv2d(x, w)", sg.conv2d(x, w)),
    ("conv2d(x, w, b, stride=2, padding=1)", sg.conv2d(x, w, b, stride=2, padding=1)),
    ("conv2d(x, w, stride=(1, 2), padding=(0, 1), dilation=2)", sg.conv2d(x, w, stride=(1, 2), padding=(0, 1), dilation=2)),
    ("conv1d(s, k, stride=2, padding=1)", sg.conv1d(s, k, stride=2, padding=1)),
    ("max_pool2d(x, 2)", sg.max_pool2d(x, 2)),
    ("max_pool2d(x, kernel_size=(2, 2), stride=1)", sg.max_pool2d(x, (2, 2), stride=1)),
    ("avg_pool2d(x, 3, stride=2, padding=1)", sg.avg_pool2d(x, 3, stride=2, padding=1)),
    # padding="same" / "valid" (string literals, compared, never evaluated) and the pools' flags
    ("conv2d(x, w, b, padding='same')", sg.conv2d(x, w, b, padding="same")),
    ('conv2d(x, w, padding="same", dilation=2)', sg.conv2d(x, w, padding="same", dilation=2)),
    ("conv1d(s, k, padding='same')", sg.conv1d(s, k, padding="same")),
    ("conv2d(x, w, padding='valid', stride=2)", sg.conv2d(x, w, padding="valid", stride=2)),
    ("max_pool2d(x, 3, stride=2, ceil_mode=True)", sg.max_pool2d(x, 3, stride=2, ceil_mode=True)),
    ("max_pool2d(x, 2, dilation=1, return_indices=False)", sg.max_pool2d(x, 2)),
    ("avg_pool2d(x, 3, padding=1, count_include_pad=False)", sg.avg_pool2d(x, 3, padding=1, count_include_pad=False)),
    ("avg_pool2d(x, 2, divisor_override=3)", sg.avg_pool2d(x, 2, divisor_override=3)),
    ("avg_pool2d(x, 2, divisor_override=None)", sg.avg_pool2d(x, 2)),
    ("max_pool1d(s, 2)", sg.max_pool1d(s, 2)),
    ("avg_pool1d(s, 3, stride=1, padding=1)", sg.avg_pool1d(s, 3, stride=1, padding=1)),
    ("max_pool2d(relu(conv2d(x, w, b, padding=1)), 2).sum()", sg.max_pool2d(sg.relu(sg.conv2d(x, w, b, padding=1)), 2).sum()),
])
def test_the_text_builds_what_python_builds(text, expected):
    assert parse_expr(text, symbols=DECL) == expected


@pytest.mark.parametrize("text, kind, words", [
    ("conv2d(x, w, stride=-1)", UnsafeInputError, f"integers 0 ... {MAX_WINDOW}"),
    ("max_pool2d(x, 10**9)", UnsafeInputError, "integer constants"),
    ("max_pool2d(x, 99999999999999999999)", UnsafeInputError, f"integers 0 ... {MAX_WINDOW}"),
    ("avg_pool2d(x, (2, 2, 2, 2))", UnsafeInputError, "a tuple of 1 to 3"),
    ("conv2d(x, w, stride=2.5)", UnsafeInputError, "integer constants"),
    ("conv2d(x, w, stride=N)", UnsafeInputError, "integer constants"),
    ("conv2d(x, w, padding='full')", UnsafeInputError, "padding= takes one of 'same', 'valid', not"),
    ("conv2d(x, w, padding=same)", UnsafeInputError, "integer constants (stride=2, padding=(1, 0)) or one of 'same'"),
    ("conv2d(x, w, padding=b'same')", UnsafeInputError, "integer constants"),
    ("conv2d(x, w, padding=f'same')", UnsafeInputError, "integer constants"),
    ("conv2d(x, w, padding='same', stride=2)", SymgradError, "padding='same' needs stride=1"),
    ("max_pool2d(x, 2, ceil_mode=1)", UnsafeInputError, "ceil_mode= takes True or False"),
    ("avg_pool2d(x, 2, divisor_override=-1)", UnsafeInputError, f"integers 0 ... {MAX_WINDOW}"),
    ("max_pool2d(x, 2, return_indices=True)", SymgradError, "return_indices"),
    ("conv2d(x, w, stride=__import__('os'))", UnsafeInputError, "integer constants"),
    ("conv2d(x, w, bias=b)", UnsafeInputError, "the keyword 'bias'"),
    ("max_pool2d(x, 2, kernel_size=2)", SymgradError, "give the kernel size once"),
    ("max_pool2d(x, 900)", SymgradError, "900"),
    ("conv2d(x, w, stride=0)", SymgradError, "stride"),
])
def test_hostile_or_wrong_sizes_are_refused_fast_and_clearly(text, kind, words):
    t = time.perf_counter()
    with pytest.raises(kind) as e:
        parse_expr(text, symbols=DECL)
    assert time.perf_counter() - t < 5
    assert words in str(e.value), str(e.value)
