"""symgrad check on the command line: exit 0 right, 1 wrong, 2 bad input — never a traceback."""
import subprocess
import sys

import pytest

from cli_check import run

SQ = "0.5*(y - w*x)**2"


def test_right(capsys):
    code, out, err = run(capsys, SQ, "--wrt", "w", "--claimed", "-(y - w*x)*x")
    assert code == 0 and out.startswith("equal.") and err == ""


def test_wrong_prints_verdict_and_hint(capsys):
    code, out, _ = run(capsys, SQ, "--wrt", "w", "--claimed", "(y - w*x)*x")
    assert code == 1
    assert out.startswith("not equal.") and "Hint: flipped sign" in out and "Counterexample" in out


def test_matrix_symbols(capsys):
    f = "sum(HadamardPower(W*x, 2))"
    decl = ["--matrix", "W:3x2", "--matrix", "x:2x1", "--wrt", "W"]
    assert run(capsys, f, *decl, "--claimed", "2*W*x*x.T")[0] == 0
    code, out, _ = run(capsys, f, *decl, "--claimed", "2*x*x.T*W.T")
    assert code == 1 and "Hint: transpose" in out and "(2, 3)" in out and "(3, 2)" in out


def test_several_wrt(capsys):
    code, out, _ = run(capsys, SQ, "--wrt", "w", "--wrt", "x", "--claimed", "-(y - w*x)*x",
                       "--claimed", "-(y - w*x)*w")
    assert code == 0


def test_relu_kink(capsys):
    code, out, _ = run(capsys, "relu(z)", "--wrt", "z", "--claimed", "Piecewise((1, z > 0), (0, True))")
    assert code == 0 and out.startswith("equal except at points where f is not differentiable")
    assert "relu'(0) = 1" in out


def test_at_fixes_a_one_hot_target(capsys):
    argv = ["cross_entropy(z, t)", "--matrix", "z:4x1", "--matrix", "t:4x1", "--wrt", "z",
            "--claimed", "softmax(z) - t"]
    code, out, _ = run(capsys, *argv, "--at", "t=0,1,0,0")
    assert code == 0 and out.startswith("equal.")
    code, out, _ = run(capsys, *argv)                       # t drawn on the simplex by default
    assert code == 0 and out.startswith("equal.")
    code, out, _ = run(capsys, *argv, "--targets", "free")  # a free t does not sum to 1
    assert code == 1 and "Hint: targets" in out


def test_greek_names_are_symbols(capsys):
    # beta and gamma are SymPy functions; here they are variables.
    assert run(capsys, "beta*gamma*w**2", "--wrt", "w", "--claimed", "2*beta*gamma*w")[0] == 0


@pytest.mark.parametrize("argv, message", [
    ([SQ + ")", "--wrt", "w", "--claimed", "x"], "cannot parse f"),
    (["0.5*(y - w*x", "--wrt", "w", "--claimed", "x"], "cannot parse f"),
    ([SQ, "--wrt", "w", "--claimed", "-(y - w*x)*x +"], "cannot parse --claimed"),
    ([SQ, "--wrt", "q", "--claimed", "x"], "unknown symbol 'q'"),
    ([SQ, "--wrt", "w", "--claimed", "k*x"], "unknown symbol(s) ['k']"),
    (["sum(HadamardPower(W*x, 2))", "--matrix", "W:3x2", "--matrix", "x:3x1", "--wrt", "W",
      "--claimed", "W"], "shapes do not match"),
    (["sum(HadamardPower(W*x, 2))", "--matrix", "W:3x2", "--matrix", "x:2x1", "--wrt", "W",
      "--claimed", "W*W"], "shapes do not match"),
    ([SQ, "--matrix", "W:3by2", "--wrt", "w", "--claimed", "x"], "expected NAME:RxC"),
    (["W*x", "--matrix", "W:3x2", "--matrix", "x:2x1", "--wrt", "W", "--claimed", "W"], "must be a scalar"),
    ([SQ, "--wrt", "w", "--claimed", "x", "--claimed", "y"], "2 --claimed for 1 --wrt"),
    ([SQ, "--wrt", "w", "--claimed", "x", "--at", "x=1,2"], "needs one value"),
    ([SQ, "--wrt", "w", "--claimed", "x", "--at", "q=1"], "expected NAME=VALUE"),
    ([SQ, "--wrt", "w", "--claimed", "x", "--at", "x=one"], "must be numbers"),
    (["__import__('os')", "--wrt", "w", "--claimed", "x"], "not allowed"),
])
def test_bad_input_exits_2_with_a_message(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert message in err, err
    assert "Traceback" not in err + out


def test_console_script_no_traceback():
    """Through a real process: the exit code and stderr as a shell sees them."""
    p = subprocess.run([sys.executable, "-m", "symgrad", "check", "0.5*(y - w*x", "--wrt", "w",
                        "--claimed", "x"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and "Traceback" not in p.stderr and "cannot parse" in p.stderr


# A claim or an expression whose operands' shapes do not fit: the message names both operands with
# their shapes and what would fit, instead of SymPy's 'Mix of Matrix and Scalar symbols' (no shape at
# all), 'Matrices have mismatching shape: (3, 2)' (one) or 'Power of non-square matrix x'.
WX = ["sum(HadamardPower(W*x, 2))", "--matrix", "W:3x2", "--matrix", "x:2x1", "--wrt", "W"]


@pytest.mark.parametrize("claim, words", [
    ("W + x", ["'W' (3x2)", "'x' (2x1)", "same shape"]),
    ("W + 1", ["'W' (3x2)", "'1' (a scalar)", "OneMatrix(3, 2)"]),
    ("2*W - y", ["subtracts 'y' (a scalar) from '2*W' (3x2)"]),
    ("x.T*x + 1", ["'x.T*x' (1x1)", "sum(x.T*x)"]),
    ("W * W", ["'W' (3x2) and 'W' (3x2)", "columns (2)", "rows (3)"]),
    ("W / x", ["divides by 'x' (2x1)", "HadamardPower(B, -1)"]),
    ("x**2", ["'x' (2x1)", "square", "HadamardPower(x, 2)"]),
])
def test_a_claim_whose_operands_do_not_fit_names_both_shapes(capsys, claim, words):
    code, out, err = run(capsys, *WX[:-2], "--wrt", "W", "--claimed", claim)
    assert code == 2 and out == ""
    assert "shapes do not match" in err and "Mix of Matrix" not in err, err
    for w in words:
        assert w in err, (w, err)


def test_a_scalar_claim_for_a_matrix_says_both_shapes_in_words(capsys):
    code, out, _ = run(capsys, *WX, "--claimed", "2")
    assert code == 1
    assert "the claimed ∂f/∂W is a scalar where W's shape (3, 2) is needed" in out, out
    assert "Hint: shape: the claim is a scalar" in out and "has shape a scalar" not in out, out


def test_a_zero_claim_is_not_called_an_extra_sum(capsys):
    # softmax(z) − t sums to 0, so a claim of 0 equals the sum of the gradient's entries: no slip
    code, out, _ = run(capsys, "cross_entropy(z, t)", "--matrix", "z:4x1", "--matrix", "t:4x1",
                       "--wrt", "z", "--claimed", "0")
    assert code == 1 and "extra sum" not in out and "Hint: shape: the claim is a scalar" in out, out


def test_a_scalar_class_label_is_drawn_as_a_class(capsys):
    # cross_entropy(z, y) with a scalar y: y is a class label in 0 … 3. Drawn as a real number it
    # made z[y] no function of z's entries, and the claim softmax(z) (−e_y left out) was 'equal'.
    code, out, _ = run(capsys, "cross_entropy(z, y)", "--matrix", "z:4x1", "--wrt", "z",
                       "--claimed", "softmax(z)")
    assert code == 1 and out.startswith("not equal."), out
    assert "DISAGREEMENT" not in out
    assert any(f"y = {k}" in out for k in range(4)), out


def test_a_scalar_counterexample_has_no_note_on_arrays(capsys):
    """Scalars print their numbers: neither the --seed note nor Python's attribute follows them."""
    code, out, _ = run(capsys, "x**2", "--wrt", "x", "--claimed", "3*x")
    assert code == 1 and out.startswith("not equal.\nCounterexample at x = "), out
    assert "--seed" not in out and "counterexample.point" not in out, out
