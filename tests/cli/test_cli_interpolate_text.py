"""symgrad check reads interpolate(x, size=, scale_factor=, mode=, align_corners=) in its text
(symgrad/frontend/resize.py registers it; the keywords are read from the syntax tree by
symgrad/frontend/parse_tensor_calls.py, never evaluated). What the text builds equals what the same
Python builds; a nearest upsampling's gradient checked against a claim written without interpolate
(each 2×2 block of the incoming gradient summed); a bad value exits 2 naming what is allowed."""
import pytest
import sympy as sp

import symgrad as sg
from cli_check import run
from symgrad.frontend.parse import parse_expr

N = sp.Symbol("N", integer=True, positive=True)
X, S, V = sg.tensor("X", (N, 2, 2, 3)), sg.tensor("S", (N, 2, 5)), sg.tensor("V", (N, 1, 2, 2, 3))
DECL = ["--tensor", "X:N,2,2,3", "--tensor", "D:N,2,4,6", "--wrt", "X"]


@pytest.mark.parametrize("text, expected", [
    ("interpolate(X, scale_factor=2)", sg.interpolate(X, scale_factor=2)),
    ("interpolate(X, scale_factor=(2, 3))", sg.interpolate(X, scale_factor=(2, 3))),
    ("interpolate(X, (4, 9))", sg.interpolate(X, size=(4, 9))),
    ("interpolate(X, size=(4, 6), mode='nearest')", sg.interpolate(X, size=(4, 6))),
    ("interpolate(X, size=(3, 5), mode='bilinear')", sg.interpolate(X, size=(3, 5), mode="bilinear")),
    ('interpolate(X, size=(3, 5), mode="bilinear", align_corners=True)',
     sg.interpolate(X, size=(3, 5), mode="bilinear", align_corners=True)),
    ("interpolate(X, scale_factor=1.5, mode='bilinear')", sg.interpolate(X, scale_factor=1.5, mode="bilinear")),
    ("interpolate(X, scale_factor=3/2, mode='bilinear', recompute_scale_factor=True)",
     sg.interpolate(X, scale_factor=1.5, mode="bilinear", recompute_scale_factor=True)),
    ("interpolate(S, size=7, mode='linear', align_corners=False)", sg.interpolate(S, size=7, mode="linear")),
    ("interpolate(V, scale_factor=2, mode='trilinear', align_corners=None)",
     sg.interpolate(V, scale_factor=2, mode="trilinear")),
])
def test_the_text_builds_what_python_builds(text, expected):
    got = parse_expr(text, symbols=[X, S, V])
    assert got.shape == expected.shape and got == expected, (got, expected)


def test_a_nearest_upsampling_checked_against_the_block_sums(capsys):
    f = "sum(interpolate(X, scale_factor=2) * D)"
    right = "D.reshape(N, 2, 2, 2, 3, 2).sum(axis=(3, 5))"
    code, out, err = run(capsys, f, *DECL, "--claimed", right)
    assert (code, err) == (0, "") and out.startswith("equal."), out + err
    code, out, err = run(capsys, f, *DECL, "--claimed", "D.reshape(N, 2, 2, 2, 3, 2).mean(axis=(3, 5))")
    assert code == 1 and out.startswith("not equal."), out + err


@pytest.mark.parametrize("call, words", [
    ("interpolate(X, size=(4, 6), mode='bicubic')",
     "mode= takes one of 'nearest', 'linear', 'bilinear', 'trilinear', not"),
    ("interpolate(X, size=(4, 6), mode=X)", "mode= takes one of the strings 'nearest'"),
    ("interpolate(X, size=(4, 0))", "size= takes integers 1 ... 1000"),
    ("interpolate(X, size=(4, N))", "size= takes integer constants (size=8, size=(8, 6))"),
    ("interpolate(X, size=(4, 6), mode='bilinear', align_corners=1)", "align_corners= takes True, False or None"),
    ("interpolate(X, scale_factor='2')", "scale_factor= takes a number constant"),
    ("interpolate(X, scale_factor=(2, 2, 2, 2))", "scale_factor= takes a number constant or a tuple of 1 to 3"),
    ("interpolate(X, size=(4, 6), antialias=None)", "antialias= takes True or False"),
    ("interpolate(X, size=(4, 6), scale_factor=2)", "give exactly one of size= and scale_factor="),
    ("interpolate(X, scale_factor=1.5)", "scale_factor must be a positive whole number"),
])
def test_bad_values_exit_2_naming_what_is_allowed(capsys, call, words):
    code, _, err = run(capsys, f"sum({call})", *DECL, "--claimed", "X")
    assert code == 2 and words in err and "Traceback" not in err, err
