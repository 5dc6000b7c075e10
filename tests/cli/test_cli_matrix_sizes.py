"""`--matrix NAME:RxC` with a size's name for R or C (X:nx3, A:nxn), as sg.check and sg.derive take a
MatrixSymbol of symbolic size: it was refused ("expected NAME:RxC, e.g. W:3x2"). `--at n=3` chooses
the size, and then a matrix of that size takes its entries."""
import json

import pytest

from symgrad import cli

F = "sum(HadamardPower(X*w, 2))"


def _check(capsys, *argv):
    code = cli.main(["check", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_named_size_is_drawn_and_a_wrong_claim_is_caught(capsys):
    code, out, err = _check(capsys, F, "--matrix", "X:nx3", "--matrix", "w:3x1", "--wrt", "w",
                            "--claimed", "2*X.T*X*w")
    assert code == 0 and out.startswith("equal.") and err == ""
    assert "(choose them with --at n=3)" in out and "at={" not in out      # the command's flag, not Python's
    code, out, _ = _check(capsys, F, "--matrix", "X:nx3", "--matrix", "w:3x1", "--wrt", "w",
                          "--claimed", "X.T*X*w")
    assert code == 1 and out.startswith("not equal.") and "the claim is 1/2 times the gradient" in out


def test_at_chooses_the_size_and_then_the_entries(capsys):
    # n in f is the size (the mean over X's n rows), fixed at 2 with X's entries
    code, out, _ = _check(capsys, F + "/n", "--matrix", "X:nx3", "--matrix", "w:3x1", "--wrt", "w",
                          "--claimed", "2*X.T*X*w", "--at", "X=1,2,3,4,5,6", "--at", "n=2")
    assert code == 1 and "X = [[1, 2, 3], [4, 5, 6]]" in out and "the claim is 2 times the gradient" in out
    assert "the symbolic sizes at n = 2, as --at gave them" in out
    code, out, _ = _check(capsys, "trace(A*A)", "--matrix", "A:nxn", "--wrt", "A", "--claimed", "2*A.T",
                          "--at", "n=3", "--json")
    r = json.loads(out)
    assert code == 0 and r["verdict"] == "equal" and "(3, 3) like A" in r["layout"]


def test_square_and_comma_forms(capsys):
    code, out, _ = _check(capsys, "trace(A*A)", "--matrix", "A:n,n", "--wrt", "A", "--claimed", "2*A")
    assert code == 1 and "transpose" in out
    code, out, _ = _check(capsys, F, "--matrix", "X:4X3", "--matrix", "w:3×1", "--wrt", "w", "--claimed", "2*X.T*X*w")
    assert code == 0 and out.startswith("equal.")


@pytest.mark.parametrize("argv, said", [
    (["--matrix", "X:nxxn"], "'nxxn' splits into rows and columns at more than one 'x' (n by xn or nx by n): "
                             "write R,C instead, e.g. X:n,xn"),
    (["--matrix", "X:n-1x3"], "expected NAME:RxC with R and C each a number or a size's name, e.g. W:3x2 or X:nx3"),
    (["--matrix", "X:Xx3"], "X is both a size and a declared name"),
    (["--matrix", "X:nx3", "--at", "X=1,2,3"], "X is nx3, and its size n is drawn for the check unless given: "
                                               "add --at n=<number> to fix X's entries"),
    (["--matrix", "X:nx3", "--at", "n=2.5"], "n is a size, so it takes a whole number from 1 to"),
    (["--matrix", "X:nx3", "--at", "n=2", "--at", "X=1,2,3"], "X is 2x3, so it needs 6 values, got 3"),
])
def test_mistakes_with_named_sizes(capsys, argv, said):
    code, _, err = _check(capsys, F, "--matrix", "w:3x1", "--wrt", "w", "--claimed", "2*X.T*X*w", *argv)
    assert code == 2 and said in err and len(err.splitlines()) == 1, err


def test_derive_takes_a_named_size(capsys):
    assert cli.main(["derive", F, "--matrix", "X:nxn", "--matrix", "w:nx1", "--wrt", "w"]) == 0
    out = capsys.readouterr().out
    assert "∂L/∂w = 2·Xᵀ·X·w" in out
    assert cli.main(["derive", F, "--matrix", "X:nxn", "--matrix", "w:nx1", "--wrt", "w", "--at", "w=1,2"]) == 2
    assert "w is nx1, of a named size" in capsys.readouterr().err


def test_derive_reads_a_named_size_in_the_expression_as_that_size(capsys):
    # n of X:nx3 in "/n" is the size: no ∂L/∂n among the gradients (it was a new scalar variable)
    assert cli.main(["derive", F + "/n", "--matrix", "X:nx3", "--matrix", "w:3x1"]) == 0
    out = capsys.readouterr().out
    assert "∂L/∂w = (2/n)·Xᵀ·X·w" in out and "∂L/∂X" in out and "∂L/∂n" not in out, out
    assert cli.main(["derive", F + "/n", "--matrix", "X:nx3", "--matrix", "w:3x1", "--wrt", "n"]) == 2
    assert "'n' is a size of a --matrix, not a variable" in capsys.readouterr().err
