"""stop_gradient in the command line's text: derived with its zero step, checked, and refused with a
wrong number of arguments (exit 2)."""
from symgrad.cli import main


def test_derive_and_check_a_straight_through_estimator(capsys):
    f = "(w*x + stop_gradient(sign(w*x) - w*x) - y)**2"
    assert main(["derive", f, "--wrt", "w", "--at", "w=0.5,x=2,y=3", "--format", "text"]) == 0
    out = capsys.readouterr().out
    assert "stop-gradient: the value passes forward, no gradient passes back" in out
    assert "df/dw = " in out and out.rstrip().endswith("= -8")    # 2·(sign(1) − 3)·2
    assert main(["check", f, "--wrt", "w", "--claim", "2*x*(sign(w*x) - y)"]) == 0
    assert main(["check", f, "--wrt", "w", "--claim", "2*x*(w*x - y)"]) == 1


def test_wrong_number_of_arguments_is_exit_2(capsys):
    assert main(["derive", "stop_gradient(x, y)", "--wrt", "x"]) == 2
    assert "stop_gradient(...) takes 1 argument(s), got 2" in capsys.readouterr().err
