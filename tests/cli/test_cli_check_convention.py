"""symgrad check --convention row: a claim written in the numerator layout (a gradient as a row, as
CMU 11-785 writes it) is transposed first, as sg.check(..., convention="row") does; the hints of the
command line name the flag, not the Python keyword."""
import json

from cli_check import run

QUAD = ["x.T*A*x", "--matrix", "A:3x3", "--matrix", "x:3x1", "--wrt", "x"]
ROW = "x.T*(A+A.T)"                  # ∂(xᵀAx)/∂x as a row, 1×3
COLUMN = "(A+A.T)*x"                 # symgrad's own layout, x's shape 3×1


def test_a_row_claim_is_right_with_convention_row(capsys):
    code, out, err = run(capsys, *QUAD, "--claimed", ROW, "--convention", "row")
    assert code == 0 and out.startswith("equal.") and err == ""
    assert "--convention row" in out and "convention='row'" not in out   # the Layout line says so


def test_without_the_flag_the_hint_names_the_flag(capsys):
    code, out, _ = run(capsys, *QUAD, "--claimed", ROW)
    assert code == 1 and "Hint: transpose" in out
    assert "--convention row" in out and "convention='row'" not in out


def test_a_column_claim_with_convention_row_is_told_to_drop_the_flag(capsys):
    assert run(capsys, *QUAD, "--claimed", COLUMN)[0] == 0
    code, out, _ = run(capsys, *QUAD, "--claimed", COLUMN, "--convention", "row")
    assert code == 1 and "without --convention row" in out and "convention='row'" not in out


def test_column_is_the_default(capsys):
    code, out, _ = run(capsys, *QUAD, "--claimed", COLUMN, "--convention", "column")
    assert code == 0 and "row convention" not in out


def test_json_hint_names_the_flag(capsys):
    code, out, _ = run(capsys, *QUAD, "--claimed", ROW, "--json")
    d = json.loads(out)
    assert code == 1 and d["hint"]["kind"] == "transpose"
    assert "--convention row" in d["hint"]["text"] and "convention='row'" not in d["hint"]["text"]


def test_an_unknown_convention_is_bad_input(capsys):
    code, out, err = run(capsys, *QUAD, "--claimed", ROW, "--convention", "numerator")
    assert code == 2 and "--convention" in err and "column" in err and "row" in err
