"""Text that is within the grammar but asks for too much: each gets a one-line error at once, naming
what is too large (an attacker's, or a slip's, huge constant must not hang a course's autograder).
The injection corpus is tests/cli/test_injection.py; this file holds the cases it cannot say (values
of --at, the size of --tensor, a claim starting with '-')."""
import pytest
from time_limit import time_limit

from symgrad.cli import main
from symgrad.errors import ParseError
from symgrad.frontend import parse as P
from symgrad.frontend.parse import parse_number


def run(argv, capsys, seconds=60):
    with time_limit(seconds):
        code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("text", ["exp(exp(exp(exp(10))))", "Max(1e308, exp(1e308))"])
def test_a_number_too_large_to_evaluate_is_a_parse_error(text):
    """SymPy's evalf raised OverflowError, and the message's format of a Float of 10**434 digits
    decimal.InvalidOperation, out of parse_number."""
    with pytest.raises(ParseError, match="not a finite real number"):
        parse_number(text)


def test_cli_at_a_number_too_large_is_bad_input_not_a_bug(capsys):
    """--at x=exp(exp(exp(exp(10)))) ended in 'internal error: OverflowError ... a bug in symgrad'."""
    code, out, err = run(["check", "x**2", "--wrt", "x", "--claimed", "2*x",
                          "--at", "x=exp(exp(exp(exp(10))))"], capsys)
    assert code == 2 and "internal error" not in err and "not a finite real number" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize("spec, entries", [("X:10000,10000", 10 ** 8), ("X:N,1000,1001", 1001000),
                                           ("X:100,100,100,100", 10 ** 8)])
def test_cli_tensor_too_large_to_draw_is_refused(spec, entries, capsys):
    """--tensor X:10000,10000 was drawn as 800 MB arrays three times over (the check ran past a
    minute); each --tensor, like each --matrix, has at most MAX_ENTRIES entries."""
    code, out, err = run(["check", "sum(X*X)", "--tensor", spec, "--wrt", "X", "--claimed", "2*X"],
                         capsys, seconds=20)
    assert code == 2 and f"{entries} entries" in err and str(P.MAX_ENTRIES) in err


@pytest.mark.parametrize("declare, at, entries", [
    (["--tensor", "X:N,N"], "N=5000", 25 * 10 ** 6),
    (["--matrix", "X:nxn"], "n=10000", 10 ** 8),
    (["--tensor", "X:N,N,N"], "N=10000", 10 ** 12),
    (["--tensor", "X:N,3", "--labels", "y:N,N"], "N=2000", 4 * 10 ** 6),
])
def test_cli_at_cannot_size_an_input_past_the_limit(declare, at, entries, capsys):
    """The limit counted a named size as 1, and --at fixed it afterwards: X:N,N --at N=5000 drew 25
    million entries (31 s, 2.8 GB) where X:5000,5000 was refused at once; X:N,N,N --at N=10000 ended
    in "MemoryError: Unable to allocate 7.28 TiB"."""
    code, out, err = run(["check", "sum(X**2)", *declare, "--at", at, "--wrt", "X", "--claimed", "2*X"],
                         capsys, seconds=20)
    assert code == 2, err
    assert f"--at {at}:" in err and f"{entries} entries" in err and str(P.MAX_ENTRIES) in err, err
    assert "MemoryError" not in err and err.count("\n") == 1


def test_cli_at_within_the_limit_still_checks(capsys):
    code, out, err = run(["check", "sum(X**2)", "--tensor", "X:N,N", "--at", "N=30", "--wrt", "X",
                          "--claimed", "2*X"], capsys)
    assert code == 0 and out.startswith("equal.") and "N = 30" in out, out + err


def test_cli_identity_is_checked_without_writing_it_out(capsys):
    """trace(Identity(1000)) is within the bounds; its value was built as 10**6 SymPy objects (the
    check of x*trace(Identity(300)) ran past 25 s): it is np.eye now."""
    code, out, err = run(["check", "x*trace(Identity(1000))", "--wrt", "x", "--claimed", "1000"],
                         capsys, seconds=30)
    assert code == 0 and out.startswith("equal."), err


@pytest.mark.parametrize("argv, verdict", [
    (["check", "x**2", "--wrt", "x", "--claimed", "-2*x"], 1),
    (["check", "-x**2", "--wrt", "x", "--claimed", "-2*x"], 0),
    (["check", "-w*x", "--wrt", "w", "--claimed", "-x"], 0),
    (["derive", "-x*y", "--wrt", "x"], 0),
])
def test_cli_text_starting_with_a_minus_is_an_expression(argv, verdict, capsys):
    """argparse took '-2*x' for an unknown option ('argument --claimed: expected one argument'):
    only negative numbers and text with a space were values."""
    code, out, err = run(argv, capsys)
    assert code == verdict, err
    assert "expected one argument" not in err and "unrecognized" not in err


def test_cli_options_are_still_options(capsys):
    """The registered options (-h, -o) and unknown --words stay what argparse made them."""
    code, out, err = run(["check", "x", "--wrt", "x", "--claimed", "1", "--nonsense"], capsys)
    assert code == 2 and "--nonsense" in err
    code, out, err = run(["check", "-h"], capsys)
    assert code == 0 and out.startswith("usage: symgrad check")


@pytest.mark.parametrize("graph", ["model.py", "out", "g.jpeg"])
def test_derive_graph_of_an_unknown_kind_is_refused_before_the_steps(graph, tmp_path, capsys):
    """--graph model.py printed the whole derivation, then refused the picture's format."""
    code, out, err = run(["derive", "(x+y)*z", "--graph", str(tmp_path / graph)], capsys)
    assert code == 2 and out == "" and ".svg, .png, .pdf or .dot" in err
    assert not (tmp_path / graph).exists()


def test_cli_f_past_float64_is_checked_where_it_is_finite(capsys):
    """check "((x+1)**100+1)**100" --claimed 0 ended in "error: OverflowError: (34, 'Numerical result
    out of range')": the points where f overflows are skipped, and a given one is named."""
    code, out, err = run(["check", "((x+1)**100+1)**100", "--wrt", "x", "--claimed", "0"], capsys)
    assert code == 1 and out.startswith("not equal."), out + err
    code, out, err = run(["check", "((x+1)**100+1)**100", "--wrt", "x", "--claimed", "0", "--at", "x=2"], capsys)
    assert code == 2 and "overflows float64 at x = 2" in err, err
