"""``gates="binary"``: a sum or product of three or more operands drawn and printed as a chain of
two-input gates, in the order the user wrote it, as cs231n's circuit pictures draw x + y + z and
the sigmoid neuron's w₀x₀ + w₁x₁ + w₂ (until 2026-11-30, tenth session, there was no such
option: a typed sum was one n-ary gate, and only a tree built with evaluate=False had two). Every
intermediate gate's value and gradient, in the text and on the picture's edges, is checked against
sympy.diff of f written in that gate's value and against central finite differences."""
import math
import re

import pytest
import sympy as sp

import symgrad as sg
from picture_parse import edges, node_names
from symgrad.errors import ArgumentError

x, y, z, w, s = sp.symbols("x y z w s")
w0, x0, w1, x1, w2 = sp.symbols("w0 x0 w1 x1 w2")
NEURON_AT = {w0: 2, x0: -1, w1: -3, x1: -2, w2: -3}


def _num(text: str) -> float:
    return float(text.replace("−", "-"))


def _central(fn, v, h=1e-6):
    return (fn(v + h) - fn(v - h)) / (2 * h)


def _neuron():
    return 1 / (1 + sp.exp(-(w0 * x0 + w1 * x1 + w2)))          # typed flat, as the slide writes it


def test_a_sum_of_three_is_two_plus_gates_in_written_order():
    at = {x: 1.0, y: 2.0, z: 3.0, w: 4.0}
    d = sg.derive((x + y + z) * w, [x, y, z, w], at=at, gates="binary")
    lines = d.render("unicode").splitlines()
    assert lines[:5] == ["f = w·(x + y + z)", "Forward pass:", "  u₁ = x + y = 3", "  u₂ = u₁ + z = 6",
                         "  f = u₂·w = 24"]
    # the gates' gradients: f = (u₁ + z)·w = u₂·w, differentiated by sympy
    u1, u2 = sp.symbols("u1 u2")
    want = {"u1": sp.diff((u1 + z) * w, u1), "u2": sp.diff(u2 * w, u2)}
    for name, g in want.items():
        assert d.steps.find(name).value == pytest.approx(float(g.subs(at)))
    for v, (_, _, value) in zip([x, y, z, w], d.steps.gradients):
        assert value == pytest.approx(float(sp.diff((x + y + z) * w, v).subs(at)))


def test_default_is_one_gate_per_sum():
    d = sg.derive((x + y + z) * w, [x, y, z, w], at={x: 1, y: 2, z: 3, w: 4})
    assert "  u₁ = x + y + z = 6" in d.render("unicode").splitlines()
    assert list(node_names(d.graph().source).values()).count("+") == 1


def test_the_neuron_typed_flat_reads_as_the_slides_circuit():
    d = sg.derive(_neuron(), [w0, x0, w1, x1, w2], at=NEURON_AT, gates="binary", number_format=".2f")
    text = d.render("unicode")
    assert text.splitlines()[0] == "f = 1/(1 + exp(−(w₀·x₀ + w₁·x₁ + w₂)))"
    for line in ["  u₁ = w₀·x₀ = −2.00", "  u₂ = w₁·x₁ = 6.00", "  u₃ = u₁ + u₂ = 4.00",
                 "  u₄ = u₃ + w₂ = 1.00", "  u₅ = −u₄ = −1.00"]:
        assert line in text.splitlines(), text
    # the same steps as the circuit built gate by gate with evaluate=False (sigmoid_neuron.py)
    built = sp.Add(sp.Add(w0 * x0, w1 * x1, evaluate=False), w2, evaluate=False)
    by_hand = sg.derive(1 / (1 + sp.exp(sp.Mul(-1, built, evaluate=False))), [w0, x0, w1, x1, w2],
                        at=NEURON_AT, number_format=".2f")
    assert text.splitlines()[1:] == by_hand.render("unicode").splitlines()[1:]


def test_the_neurons_edges_carry_each_gates_value_and_gradient():
    src = sg.derive(_neuron(), [w0, x0, w1, x1, w2], gates="binary").graph(at=NEURON_AT).source
    assert list(node_names(src).values()).count("+") == 2
    drawn = {name: (fv, gv) for name, fv, gv, _ in edges(src)}
    a = {k: float(v) for k, v in NEURON_AT.items()}
    first = a[w0] * a[x0] + a[w1] * a[x1]                        # the first + gate's value, u₃

    def f_of_u3(u):                                               # f with u₃ perturbed
        return 1 / (1 + math.exp(-(u + a[w2])))

    def f_of_u4(u):
        return 1 / (1 + math.exp(-u))
    fv, gv = drawn["u₃"]
    assert _num(fv) == pytest.approx(first) and _num(gv) == pytest.approx(_central(f_of_u3, first), rel=1e-3)
    fv, gv = drawn["u₄"]
    assert _num(fv) == pytest.approx(first + a[w2])
    assert _num(gv) == pytest.approx(_central(f_of_u4, first + a[w2]), rel=1e-3)
    for v in [w0, x0, w1, x1, w2]:                               # the inputs' edges: sympy.diff
        want = float(sp.diff(_neuron(), v).subs(NEURON_AT))
        assert _num(drawn[str(v).replace("0", "₀").replace("1", "₁").replace("2", "₂")][1]) == \
            pytest.approx(want, rel=1e-3)


def test_a_product_of_three_is_two_times_gates_and_its_header_reads_as_typed():
    at = {x: 2.0, y: 3.0, z: 4.0}
    d = sg.derive(x * y * z, [x, y, z], at=at, gates="binary")
    lines = d.render("unicode").splitlines()
    assert lines[:4] == ["f = x·y·z", "Forward pass:", "  u₁ = x·y = 6", "  f = u₁·z = 24"]
    u1 = sp.Symbol("u1")
    assert d.steps.find("u1").value == pytest.approx(float(sp.diff(u1 * z, u1).subs(at)))
    src = d.graph(at=at).source
    assert list(node_names(src).values()).count("×") == 2
    drawn = {name: (fv, gv) for name, fv, gv, _ in edges(src)}
    assert drawn["u₁"] == ("6", "4")
    assert _num(drawn["x"][1]) == pytest.approx(_central(lambda v: v * 3.0 * 4.0, 2.0))
    assert r"f &= x y z" in d.latex()


def test_a_named_sum_names_its_last_gate():
    d = sg.derive(sg.sigmoid(w0 * x0 + w1 * x1 + w2), [w0, x0, w1, x1, w2], names={s: w0 * x0 + w1 * x1 + w2},
                  at=NEURON_AT, gates="binary")
    lines = d.render("unicode").splitlines()
    assert "  u₃ = u₁ + u₂ = 4" in lines and "  s = u₃ + w₂ = 1" in lines, lines
    drawn = {name: (fv, gv) for name, fv, gv, _ in edges(d.graph().source)}
    assert "s" in drawn and "u₃" in drawn                        # the picture names the same gates


def test_forward_mode_pushes_tangents_through_each_gate():
    at = {x: 1.0, y: 2.0, z: 3.0, w: 4.0}
    d = sg.derive((x + y + z) * w, [x, y, z, w], at=at, mode="forward", gates="binary")
    text = d.render("unicode")
    assert "  u₂ = u₁ + z = 6" in text and "∂u₁/∂x = ∂u₁/∂x · ∂x/∂x = 1 · 1 = 1" in text, text
    for v, (_, _, value) in zip([x, y, z, w], d.steps.gradients):
        assert value == pytest.approx(float(sp.diff((x + y + z) * w, v).subs(at)))
    tangents = {name: gv for name, _, gv, _ in edges(d.graph(seed={x: 1}).source, back="#7d3c98")}
    assert tangents["u₁"] == "1" and tangents["u₂"] == "1" and tangents["w"] == "0"      # at the point


def test_a_product_under_a_coefficient_keeps_it_out_of_the_chain():
    at = {x: 1.0, y: 2.0, z: 3.0, w: 0.5}
    f = sp.exp(x - y - z) + 2 * x * y * z * w
    d = sg.derive(f, [x, y, z, w], at=at, gates="binary")
    lines = d.render("unicode").splitlines()
    assert lines[0] == "f = 2·w·x·y·z + exp(x − y − z)"
    assert lines[2:5] == ["  u₁ = w·x = 0.5", "  u₂ = u₁·y = 1", "  u₃ = u₂·z = 3"], lines
    assert any(l.startswith("  f = 2·u₃ + u₆ = ") for l in lines), lines
    for v, (_, _, value) in zip([x, y, z, w], d.steps.gradients):
        assert value == pytest.approx(float(sp.diff(f, v).subs(at)))


@pytest.mark.parametrize("where", ["derive", "render", "graph"])
def test_an_unknown_gates_value_says_what_is_supported(where):
    with pytest.raises(ArgumentError, match="gates must be 'binary'.*'n-ary'.*got 'ternary'"):
        if where == "derive":
            sg.derive(x * y * z, [x], gates="ternary")
        elif where == "render":
            sg.derive(x * y * z, [x]).render("unicode", gates="ternary")
        else:
            sg.derive(x * y * z, [x]).graph(gates="ternary")


def test_a_long_sum_with_a_function_term_chains_in_the_headers_order():
    # the header's order, 3 + u + v + w + sin(u·v·w): the chain's gates first, each line naming
    # the gate before it (until the chain's lines were matched against the flattened sum, the
    # sin term was numbered first and the last gate read u₃ + u₆ in the names' order)
    u, v, t = sp.symbols("u v t")
    at = {u: 1.0, v: 2.0, t: 3.0}
    f = sp.sin(u * v * t) + u + v + t + 3
    d = sg.derive(f, [u, v, t], gates="binary", at=at)
    lines = d.render("unicode").splitlines()
    assert lines[0] == "f = 3 + t + u + v + sin(t·u·v)"
    assert lines[2:5] == ["  u₁ = 3 + t = 6", "  u₂ = u₁ + u = 7", "  u₃ = u₂ + v = 9"], lines
    assert lines[8].startswith("  f = u₃ + u₆ = "), lines
    for s_, (_, _, value) in zip([u, v, t], d.steps.gradients):
        assert value == pytest.approx(float(sp.diff(f, s_).subs(at)))


def test_any_view_takes_the_option_the_derivation_did_not():
    d = sg.derive((x + y + z) * x, [x, y, z], names={s: x + y + z})
    assert d.render("unicode", gates="binary").splitlines()[2:5] == ["  u₁ = x + y", "  s = u₁ + z", "  f = s·x"]
    assert list(node_names(d.graph(gates="binary").source).values()).count("+") == 2
    assert d.render("unicode").splitlines()[2] == "  s = x + y + z"          # the default: one gate
    assert list(node_names(d.graph().source).values()).count("+") == 1


def test_the_last_gates_label_reads_in_the_texts_order():
    # the text's f = 2·u₂ + u₅: the picture drew ① + 2·② with the exp's u₅ as ① (SymPy's order of
    # the slots) when gates="binary" was new (2026-11-30, tenth session); now 2·① + ② with u₂ as ①,
    # the edges stacked so
    at = {x: 1.0, y: 2.0, z: 0.5}
    f = 2 * x * y * z + sp.exp(x - y - z)
    d = sg.derive(f, [x, y, z], at=at, gates="binary")
    assert any(l.startswith("  f = 2·u₂ + u₅ = ") for l in d.render("unicode").splitlines())
    src = d.graph().source
    assert "2·① + ②" in node_names(src).values() and "① + 2·②" not in node_names(src).values()
    into = {name: (fv, gv) for name, fv, gv, dst in edges(src) if node_names(src).get(dst) == "2·① + ②"}
    u2 = float((x * y * z).subs(at))           # the chain x·y·z; its 2 stays outside it
    assert _num(into["u₂"][0]) == pytest.approx(u2) and _num(into["u₂"][1]) == pytest.approx(2.0)
    assert _num(into["u₅"][1]) == pytest.approx(1.0)
    slot_of = dict(re.findall(r'point-size="10">([①②])</font></td></tr><tr><td><font point-size="11">(u[₂₅])<', src))
    assert {v: k for k, v in slot_of.items()} == {"u₂": "①", "u₅": "②"}, src


def _tensor_cases():
    import numpy as np
    W, xt, bt, ct = sg.tensor("W", (2, 3)), sg.tensor("x", (3,)), sg.tensor("b", (2,)), sg.tensor("c", (2,))
    lam, mu, nu = sp.symbols("lam mu nu")
    Wv, xv, bv, cv = (np.array([[0.1, 0.5, 0.2], [-0.3, 0.8, 0.1]]), np.array([0.2, 0.4, 0.5]),
                      np.array([0.1, -0.2]), np.array([0.3, 0.1]))
    at = {W: Wv, xt: xv, bt: bv, ct: cv, lam: 0.5, mu: 2.0, nu: 3.0}
    return [  # (f, wrt, the same f in NumPy of the wrt's values, the two gates' lines, up to their values)
        (sg.sum((W @ xt + bt + ct) ** 2), [W, bt], lambda W_, b_: np.sum((W_ @ xv + b_ + cv) ** 2),
         ("  u₁ = W @ x + b = ", "  u₂ = u₁ + c = ")),
        (sg.sum(bt * ct * (W @ xt)), [W, ct], lambda W_, c_: np.sum(bv * c_ * (W_ @ xv)),
         ("  u₂ = b ⊙ c = ", "  u₃ = u₂ ⊙ u₁ = ")),
        (sg.sum((W @ xt) ** 2) + lam * mu * nu, [W, mu], lambda W_, m_: np.sum((W_ @ xv) ** 2) + 0.5 * m_ * 3.0,
         ("  u₁ = lam·μ = 1", "  u₂ = u₁·ν = 3")),
    ], at


@pytest.mark.parametrize("k", [0, 1, 2])
def test_a_tensor_losses_sums_and_products_are_gated_too(k):
    # ‖W·x + b + c‖², b ⊙ c ⊙ (W·x) and a scalar product beside a tensor loss were left n-ary
    # (gates="binary" did nothing inside a tensor expression) when the option was new (2026-11-30,
    # tenth session)
    import numpy as np
    cases, at = _tensor_cases()
    f, wrt, fn, gate_lines = cases[k]
    d = sg.derive(f, wrt, at=at, gates="binary")
    fwd = d.render("unicode").split("Backward")[0]
    assert all(any(li.startswith(want) for li in fwd.splitlines()) for want in gate_lines), fwd
    assert fwd.count("\n  u") > sg.derive(f, wrt, at=at).render("unicode").split("Backward")[0].count("\n  u")
    vals = [at[w_] for w_ in wrt]
    for j, (_, _, value) in enumerate(d.steps.gradients):
        v0 = np.asarray(vals[j], dtype=float)
        num = np.zeros_like(v0)
        for idx in np.ndindex(v0.shape or (1,)):
            h = np.zeros_like(v0)
            h[idx if v0.shape else ()] = 1e-6
            args = list(vals)
            args[j] = v0 + h
            up = fn(*[np.asarray(a, dtype=float) for a in args])
            args[j] = v0 - h
            num[idx if v0.shape else ()] = (up - fn(*[np.asarray(a, dtype=float) for a in args])) / 2e-6
        assert np.allclose(np.asarray(value, dtype=float).reshape(num.shape), num, atol=1e-6), (j, value, num)
    d.graph()
    assert "\\begin{align*}" in d.render("latex")
