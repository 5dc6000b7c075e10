"""CheckResult.to_dict() and GradcheckResult.to_dict(): plain data an autograder reads. The fields
must agree with the result's attributes and with independent oracles (sympy.diff at the
counterexample's point), and survive strict JSON."""
import json

import numpy as np
import sympy as sp

import symgrad as sg
from verdicts import N
from symgrad.checking.hint_kind import Hint
from symgrad.checking.report_dict import hint, value
from symgrad.checking.verdict import EQUAL, EQUAL_EXCEPT_KINKS, NOT_EQUAL

w, x, y = sp.symbols("w x y", real=True)
SQ = (y - w * x) ** 2 / 2


def strict_round_trip(d):
    text = json.dumps(d, allow_nan=False)          # raises on NaN/inf or a non-JSON type
    back = json.loads(text)
    assert back == d
    return back


def test_wrong_scalar_claim_fields_and_oracle():
    r = sg.check(SQ, w, (y - w * x) * x)
    d = strict_round_trip(r.to_dict())
    assert d["verdict"] == NOT_EQUAL == r.verdict and d["ok"] is False
    c = d["counterexample"]
    assert c["variable"] == "w" and c["index"] is None and c["entry"] is None
    assert c["point"] == {k: float(v) for k, v in r.counterexample.point.items()}
    assert c["claimed"] == float(r.counterexample.claimed) and c["true"] == float(r.counterexample.true)
    pt = {s: c["point"][s.name] for s in (w, x, y)}
    assert np.isclose(c["true"], float(sp.diff(SQ, w).subs(pt)), rtol=1e-12)      # oracle
    assert np.isclose(c["claimed"], float(((y - w * x) * x).subs(pt)), rtol=1e-12)
    assert np.isclose(c["relative_error"], abs(c["claimed"] - c["true"]) / max(abs(c["claimed"]), abs(c["true"])))
    assert d["hint"] == {"kind": "flipped sign", "text": r.hint}
    assert d["method"] == r.method and d["layout"] == r.layout and d["kink"] is None
    assert d["errors"] == {"w": r.errors["w"]}
    assert r.counterexample.to_dict() == c


def test_right_claim_has_no_counterexample_or_hint():
    d = strict_round_trip(sg.check(SQ, w, -(y - w * x) * x).to_dict())
    assert d["verdict"] == EQUAL and d["ok"] is True
    assert d["counterexample"] is None and d["hint"] is None and d["wrong"] == []


def test_the_wrong_one_of_several_variables_is_named():
    r = sg.check(SQ, [w, x], [-(y - w * x) * x, (y - w * x) * w])        # ∂/∂x has its sign flipped
    d = strict_round_trip(r.to_dict())
    assert d["counterexample"]["variable"] == "x" and d["wrong"] == ["x"]
    assert d["errors"]["w"] < 1e-9 <= d["errors"]["x"]
    pt = {s: d["counterexample"]["point"][s.name] for s in (w, x, y)}
    assert np.isclose(d["counterexample"]["true"], float(sp.diff(SQ, x).subs(pt)), rtol=1e-12)


def _matrix_oracle(point):
    """∂/∂W of sum((W x)²) by sympy.diff of the entries written out."""
    Ws = sp.Matrix(3, 2, lambda i, j: sp.Symbol(f"W{i}{j}"))
    xs = sp.Matrix(2, 1, lambda i, j: sp.Symbol(f"x{i}"))
    f = sum(e ** 2 for e in Ws * xs)
    subs = {Ws[i, j]: point["W"][i][j] for i in range(3) for j in range(2)}
    subs.update({xs[i]: point["x"][i][0] for i in range(2)})
    return np.array([[float(sp.diff(f, Ws[i, j]).subs(subs)) for j in range(2)] for i in range(3)])


def test_matrix_claim_arrays_with_their_shape_and_the_worst_entry():
    W, X = sp.MatrixSymbol("W", 3, 2), sp.MatrixSymbol("x", 2, 1)
    f = sg.sum(sp.HadamardPower(W * X, 2))
    r = sg.check(f, W, 4 * W * X * X.T)                  # twice the gradient
    d = strict_round_trip(r.to_dict())
    c = d["counterexample"]
    assert c["variable"] == "W" and c["index"] == list(r.counterexample.index)
    assert c["point"]["W"]["shape"] == [3, 2] and c["point"]["x"]["shape"] == [2, 1]
    point = {k: v["values"] for k, v in c["point"].items()}
    truth = _matrix_oracle(point)
    assert c["true"]["shape"] == [3, 2] and np.allclose(c["true"]["values"], truth, rtol=1e-12)
    assert np.allclose(c["claimed"]["values"], 2 * truth, rtol=1e-12)
    i, j = c["index"]
    assert c["entry"] == {"claimed": c["claimed"]["values"][i][j], "true": c["true"]["values"][i][j]}
    assert d["hint"]["kind"] == "constant factor" and d["hint"]["text"] == r.hint


def test_wrong_shape_relative_error_is_the_string_inf():
    W, X = sp.MatrixSymbol("W", 3, 2), sp.MatrixSymbol("x", 2, 1)
    r = sg.check(sg.sum(sp.HadamardPower(W * X, 2)), W, 2 * X * X.T * W.T)
    d = strict_round_trip(r.to_dict())
    assert r.counterexample.rel_error == np.inf and d["counterexample"]["relative_error"] == "inf"
    assert d["errors"]["W"] == "inf"
    assert d["counterexample"]["claimed"]["shape"] == [2, 3] and d["counterexample"]["true"]["shape"] == [3, 2]
    assert d["counterexample"]["entry"] is None and d["hint"]["kind"] == "transpose"


def test_kink_verdict_is_truthy_with_the_kink_sentence():
    z = sp.Symbol("z", real=True)
    r = sg.check(sg.relu(z), z, sp.Piecewise((1, z > 0), (0, True)))
    d = strict_round_trip(r.to_dict())
    assert d["verdict"] == EQUAL_EXCEPT_KINKS and d["ok"] is True and d["kink"] == r.kink


def test_check_backward_result_names_the_wrong_gradient():
    N = sp.Symbol("N", integer=True, positive=True)
    xs, ws, bs = sg.tensor("x", (N, 3)), sg.tensor("w", (3, 2)), sg.tensor("b", (2,))

    def affine_backward(dout, x, w, b):
        return dout @ w.T, x.T @ dout, dout            # db not summed over the batch

    r = sg.check_backward(xs @ ws + bs, [xs, ws, bs], affine_backward)
    d = strict_round_trip(r.to_dict())
    c = d["counterexample"]
    assert c["variable"] == "b" and d["hint"]["kind"] == "missing sum" and d["wrong"] == ["b"]
    assert set(c["point"]) >= {"x", "w", "b", "dout"}
    dout = np.array(c["point"]["dout"]["values"])
    assert np.allclose(c["true"]["values"], dout.sum(axis=0))      # db = Σ_n dout: the oracle
    assert c["claimed"]["shape"] == list(dout.shape)


def test_every_wrong_variable_is_listed_not_only_the_counterexamples():
    N = sp.Symbol("N", integer=True, positive=True)
    xs, ws, bs = sg.tensor("x", (N, 3)), sg.tensor("w", (3, 2)), sg.tensor("b", (2,))

    def no_relu_mask(dout, x, w, b):                   # relu' left out: all three gradients wrong
        return dout @ w.T, x.T @ dout, dout.sum(axis=0)

    def wrong_dw_only(dout, x, w, b):                  # the mask kept except in dw
        da = dout * (x @ w + b > 0)
        return da @ w.T, x.T @ dout, da.sum(axis=0)

    out = sg.relu(xs @ ws + bs)
    d = sg.check_backward(out, [xs, ws, bs], no_relu_mask).to_dict()
    assert d["wrong"] == ["x", "w", "b"] and d["counterexample"]["variable"] in d["wrong"]
    d = sg.check_backward(out, [xs, ws, bs], wrong_dw_only).to_dict()
    assert d["wrong"] == ["w"] and d["counterexample"]["variable"] == "w"


def test_a_claim_differing_only_on_a_given_kink_lists_nothing_wrong():
    z, u = sp.symbols("z u")
    f = sp.Max(z, u) ** 2
    claim = [2 * sp.Max(z, u) * sp.Heaviside(z - u, 1), 2 * sp.Max(z, u) * sp.Heaviside(u - z, 0)]  # tie to z
    r = sg.check(f, [z, u], claim, at={z: 1, u: 1})
    d = strict_round_trip(r.to_dict())
    assert max(r.errors.values()) > 1e-6               # it does differ from symgrad's routing there
    assert d["verdict"] == EQUAL_EXCEPT_KINKS and d["ok"] is True and d["wrong"] == []


def test_gradcheck_result_to_dict():
    class Wrong:
        def loss(self, v, b):
            return float(np.mean((v["w"] * b["x"]) ** 2) + np.sum(v["u"] ** 2))

        def grad(self, v, b):
            return {"w": np.mean(v["w"] * b["x"] ** 2), "u": 2 * v["u"]}     # w's 2 is missing

    r = sg.gradcheck(Wrong(), {"w": np.array(0.7), "u": np.array([1.0, -2.0])}, {"x": np.array([1.0, -2.0])})
    d = strict_round_trip(r.to_dict())
    assert d["ok"] is False and d["wrong"] == ["w"] and d["tol"] == r.tol
    pw, pu = d["params"]["w"], d["params"]["u"]
    assert pw["ok"] is False and pu["ok"] is True
    assert pw["max_relative_error"] == r.params["w"].max_rel_error and pw["band"] == r.params["w"].band
    # the true ∂/∂w of mean((w x)²) is 2 w mean(x²) = 2 · 0.7 · 2.5; the program says half of it
    assert np.isclose(pw["numeric"], 3.5, rtol=1e-6) and np.isclose(pw["analytic"], 1.75)


def test_encoding_rules():
    assert value(np.array([[1, 2]])) == {"shape": [1, 2], "values": [[1, 2]]}
    assert value(np.array([np.nan, -np.inf])) == {"shape": [2], "values": ["nan", "-inf"]}
    assert value(np.float64(2.5)) == 2.5 and value(None) is None
    assert hint(Hint("transpose", "the claim is …")) == {"kind": "transpose", "text": "transpose: the claim is …"}
    assert hint(Hint.sentence("claim right at one size only", "the claim holds at N = 5 only: a literal 5")) == {
        "kind": "claim right at one size only", "text": "the claim holds at N = 5 only: a literal 5"}


def test_a_hint_kind_is_never_parsed_from_its_text():
    # the kind comes with the hint from its recogniser; text alone has none, whatever its words
    assert hint("transpose: the claim is …") == {"text": "transpose: the claim is …"}
    assert hint("a sentence. Then: no kind") == {"text": "a sentence. Then: no kind"}
    # a kind whose words hold an '=' (which the parsing refused) is reported as given
    x, w = sg.tensor("x", (N, 1, 4, 4)), sg.tensor("w", (2, 1, 3, 3))

    def dw_assigned(dout, x, w):
        xp, dw = x, np.zeros_like(w)
        for n in range(x.shape[0]):
            for i in range(2):
                for j in range(2):
                    for f in range(2):
                        dw[f] = xp[n, :, i:i + 3, j:j + 3] * dout[n, f, i, j]      # = where += belongs
        return dw
    r = sg.check_backward(sg.conv2d(x, w), w, dw_assigned)
    assert r.to_dict()["hint"]["kind"] == "= instead of += in the weight gradient", r.hint


def test_a_renamed_mask_keeps_the_hint_kind():
    x = sg.tensor("x", (N, 6))
    r = sg.check_backward(sg.dropout(x, 0.3), [x], lambda dout, x, mask: dout)
    # the mask's own name (mask_1, ...) is rewritten to the backward's parameter in the text; the kind stays
    assert "mask_" not in r.hint and r.to_dict()["hint"]["kind"] == r.hint.kind == "dropout mask left out", r.hint


def test_sigmoid_derivative_slip_has_its_kind():
    z, t = sp.symbols("z t", real=True)
    s = sg.sigmoid(z)
    r = sg.check((s - t) ** 2 / 2, z, (s - t) * s)          # σ'(z) written σ(z)
    d = r.to_dict()
    assert d["hint"] == {"kind": "σ'(z) written wrong", "text": r.hint}
    assert hint(None) is None


def test_method_of_a_claim_equal_to_the_convention_on_a_given_kink_says_on_a_kink():
    # sympy.diff of each piece at z = u = 1 (Max(z, u) is z, or u): (2, 0) and (0, 2); symgrad's
    # convention routes a tie to SymPy's first argument of Max(z, u) == Max(u, z), u
    z, u = sp.symbols("z u")
    assert sp.Max(z, u).args[0] == u and float(sp.diff(u ** 2, u).subs(u, 1)) == 2.0
    r = sg.check(sp.Max(z, u) ** 2, [z, u], [sp.Integer(0), 2 * sp.Max(z, u)], at={z: 1, u: 1})
    assert r.verdict == EQUAL
    assert "away from its kinks" not in r.method and "on a kink of f" in r.method


def test_method_on_a_given_kink_where_the_difference_quotient_agrees():
    # |z| at 0: the central difference is 0 = symgrad's |x|'(0), so the cross-check agrees; the
    # point is on the kink all the same
    z = sp.Symbol("z")
    r = sg.check(sp.Abs(z), z, 2, at={z: 0})
    assert r.verdict == NOT_EQUAL and "away from its kinks" not in r.method and "on a kink of f" in r.method
    r = sg.check(sp.Abs(z), z, sp.sign(z), at={z: 0.5})       # off the kink: as before
    assert r.verdict == EQUAL and "away from its kinks" in r.method


def test_a_claim_not_finite_is_the_string_nan_with_why():
    z = sp.Symbol("z", real=True)
    r = sg.check(z ** 2, z, sp.sqrt(z), at={z: -2})         # √z of a negative z is not real
    d = strict_round_trip(r.to_dict())
    c = d["counterexample"]
    assert c["claimed"] == "nan" and c["relative_error"] == "inf" and c["why"] == r.counterexample.why
    assert c["true"] == float(sp.diff(z ** 2, z).subs(z, -2)) and c["point"] == {"z": -2}
    assert d["wrong"] == ["z"]


def test_gradcheck_entries_at_a_kink_as_data():
    bw, bb, bx, by = sp.symbols("w b x y", real=True)
    prog = sg.compile((sg.relu(bw * bx + bb) - by) ** 2, [bw, bb], [bx, by], dtype="float64")
    batch = {"x": np.array([1.0, 2.0]), "y": np.array([0.5, 1.0])}
    r = sg.gradcheck(prog, {"w": 0.0, "b": 0.0}, batch)          # relu's argument 0 for every example
    d = strict_round_trip(r.to_dict())
    k = d["params"]["w"]["kinks"][0]
    # one-sided slopes by hand: from the right, mean(2 (w x + b − y) x) at 0 = mean(−y x) · 2 = −2.5;
    # from the left relu is 0, a constant loss: 0
    assert np.isclose(k["right"], -2.5, rtol=1e-6) and k["left"] == 0.0
    assert d["params"]["w"]["numeric"] == "nan" and d["params"]["w"]["compared"] == 0
    assert d["ok"] is bool(r)


def test_wrong_without_a_variable_singled_out_is_none():
    N = sp.Symbol("N", integer=True, positive=True)
    xs, ws = sg.tensor("x", (N, 3)), sg.tensor("w", (3, 2))

    def literal_batch(dout, x, w):                       # 4 written for N: raises at N = 5
        return (dout @ w.T).reshape(4, 3), x.T @ dout

    r = sg.check_backward(xs @ ws, [xs, ws], literal_batch)
    d = strict_round_trip(r.to_dict())
    assert d["ok"] is False and d["wrong"] is None and d["counterexample"] is None
    assert d["hint"]["text"] == r.hint and "N = 5" in r.hint
