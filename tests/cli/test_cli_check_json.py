"""symgrad check --json: one strict JSON object (CheckResult.to_dict()) on stdout, the same exit
status as the text output (0 right, 1 wrong, 2 bad input with the message on stderr)."""
import json

import numpy as np
import sympy as sp

from cli_check import run

SQ = "0.5*(y - w*x)**2"


def test_wrong_claim_json(capsys):
    code, out, err = run(capsys, SQ, "--wrt", "w", "--claimed", "(y - w*x)*x", "--json")
    assert code == 1 and err == ""
    d = json.loads(out)
    assert json.loads(json.dumps(d, allow_nan=False)) == d
    assert d["verdict"] == "not equal" and d["ok"] is False
    assert d["hint"]["kind"] == "flipped sign" and d["hint"]["text"].startswith("flipped sign: ")
    c = d["counterexample"]
    w, x, y = sp.symbols("w x y")
    pt = {s: c["point"][s.name] for s in (w, x, y)}
    assert np.isclose(c["true"], float(sp.diff(sp.Rational(1, 2) * (y - w * x) ** 2, w).subs(pt)), rtol=1e-12)
    assert np.isclose(c["claimed"], -c["true"], rtol=1e-12)
    # the text output says the same verdict, with the same exit status
    code_text, text, _ = run(capsys, SQ, "--wrt", "w", "--claimed", "(y - w*x)*x")
    assert code_text == code and text.startswith("not equal.") and "Hint: flipped sign" in text


def test_right_claim_json(capsys):
    code, out, _ = run(capsys, SQ, "--wrt", "w", "--claimed", "-(y - w*x)*x", "--json")
    d = json.loads(out)
    assert code == 0 and d["verdict"] == "equal" and d["ok"] is True
    assert d["counterexample"] is None and d["hint"] is None
    assert out.count("\n") == 1                      # one object, one line


def test_the_wrong_variable_is_named(capsys):
    code, out, _ = run(capsys, SQ, "--wrt", "w", "--wrt", "x", "--claimed", "-(y - w*x)*x",
                       "--claimed", "-(y - w*x)*x", "--json")       # ∂/∂x copied from ∂/∂w
    d = json.loads(out)
    assert code == 1 and d["counterexample"]["variable"] == "x" and d["wrong"] == ["x"]
    assert d["errors"]["w"] < 1e-9 and d["errors"]["x"] > 1e-6


def test_matrix_wrong_shape_is_strict_json(capsys):
    code, out, _ = run(capsys, "sum(HadamardPower(W*x, 2))", "--matrix", "W:3x2", "--matrix", "x:2x1",
                       "--wrt", "W", "--claimed", "2*x*x.T*W.T", "--json")
    assert code == 1 and "Infinity" not in out and "NaN" not in out
    d = json.loads(out)
    c = d["counterexample"]
    assert c["relative_error"] == "inf" and c["claimed"]["shape"] == [2, 3] and c["true"]["shape"] == [3, 2]
    assert c["point"]["W"]["shape"] == [3, 2] and d["hint"]["kind"] == "transpose"


def test_kink_json_exit_zero(capsys):
    code, out, _ = run(capsys, "relu(z)", "--wrt", "z", "--claimed", "Piecewise((1, z > 0), (0, True))", "--json")
    d = json.loads(out)
    assert code == 0 and d["verdict"] == "equal except at points where f is not differentiable"
    assert "relu'(0) = 1" in d["kink"]


def test_bad_input_exit_two_and_the_error_as_json(capsys):
    code, out, err = run(capsys, SQ, "--wrt", "v", "--claimed", "x", "--json")
    assert code == 2 and "unknown symbol 'v'" in err
    d = json.loads(out)
    assert d["verdict"] is None and d["ok"] is False
    assert d["error"]["type"] == "SymgradError" and "unknown symbol 'v'" in d["error"]["text"]


def test_unparsable_claim_is_a_parse_error_record(capsys):
    code, out, err = run(capsys, SQ, "--wrt", "w", "--claimed", "-(y - w*x)*x)", "--json")
    d = json.loads(out)
    assert code == 2 and d["error"]["type"] == "ParseError" and "--claimed" in d["error"]["text"]
    assert err.startswith("symgrad check: error:")
    code, out, _ = run(capsys, SQ, "--wrt", "w", "--claimed", "-(y - w*x)*x)")     # without --json: as before
    assert code == 2 and out == ""
