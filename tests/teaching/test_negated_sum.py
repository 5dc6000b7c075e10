"""The sigmoid neuron typed as cs231n's slide writes it, 1/(1 + exp(−(w₀x₀ + w₁x₁ + w₂))), reads as
the slide: the sum first (w₀·x₀ before w₁·x₁, as typed), then a ×(−1) gate, exp, +1, 1/x — SymPy
distributes the minus over the sum, and the views had folded it into each product (until
2026-11-30, tenth session: u₁ = −w₁·x₁ = −6, u₂ = −w₀·x₀ = 2, u₃ = u₁ + u₂ − w₂, and the picture
stacked x₁ above w₁). The numbers are the slide's (f = 0.73; −0.20, 0.39, −0.39, −0.59, 0.20; 0.20
into the sum, −0.20 into exp, −0.53 into +1 and 1/x) and torch.autograd's; the order is the one
the user's expression is typed in."""
import re
import subprocess

import pytest
import sympy as sp

import symgrad as sg
from picture_parse import node_names
from teachtools import need

torch = pytest.importorskip("torch")

w0, x0, w1, x1, w2 = sp.symbols("w0 x0 w1 x1 w2")
WRT = [w0, x0, w1, x1, w2]
AT = {w0: 2, x0: -1, w1: -3, x1: -2, w2: -3}
F = 1 / (1 + sp.exp(-(w0 * x0 + w1 * x1 + w2)))                       # literally as on the slide
SLIDE = {"w₀": -0.20, "x₀": 0.39, "w₁": -0.39, "x₁": -0.59, "w₂": 0.20}


def _num(s):
    return float(s.replace("−", "-"))


def _forward(text):
    lines = text.splitlines()
    return [l.strip() for l in lines[lines.index("Forward pass:") + 1:lines.index(
        next(l for l in lines if l.startswith("Backward pass")))]]


def _torch_grads():
    t = {k: torch.tensor(float(v), dtype=torch.float64, requires_grad=True) for k, v in AT.items()}
    out = 1 / (1 + torch.exp(-(t[w0] * t[x0] + t[w1] * t[x1] + t[w2])))
    out.backward()
    return {k: t[k].grad.item() for k in WRT}


def test_forward_pass_is_the_slides_gates_in_the_users_order():
    fwd = _forward(sg.derive(F, WRT, at=AT).render("unicode"))
    # the slide: w₀x₀ = −2, w₁x₁ = 6, their sum with w₂ = 1, then ×(−1) = −1, exp, +1, 1/x
    ops = [re.sub(r"[₀-₉]", "", l.split("=")[1].strip()) for l in fwd]
    assert ops == ["w·x", "w·x", "u + u + w", "−u", "exp(u)", "1 + u", "1/u"], fwd
    assert fwd[0].startswith("u₁ = w₀·x₀") and fwd[1].startswith("u₂ = w₁·x₁"), fwd
    values = [_num(l.rsplit("=", 1)[1]) for l in fwd]
    assert values[:4] == [-2, 6, 1, -1], fwd
    assert abs(values[-1] - 0.7311) < 1e-4, fwd


def test_the_slides_numbers_on_every_edge():
    text = sg.derive(F, WRT, at=AT).render("unicode")
    grads = _torch_grads()
    for w in WRT:
        name = sp.pretty(w, use_unicode=True)
        line = next(l for l in text.splitlines() if l.strip().startswith(f"∂f/∂{name} = ∂f/∂u"))
        value = _num(line.split("[")[0].rsplit("=", 1)[1])
        assert abs(value - grads[w]) < 1e-4, line
        assert abs(value - SLIDE[name]) < 0.006, line
    steps = {l.split("=")[0].strip(): _num(l.split("[")[0].rsplit("=", 1)[1])
             for l in text.splitlines() if l.strip().startswith("∂f/∂u")}
    # the slide's backward numbers: −0.53 into 1/x and into +1, −0.20 into exp, 0.20 after ×(−1)
    assert [round(steps[f"∂f/∂u{c}"], 2) for c in "₆₅₄₃"] == [-0.53, -0.53, -0.20, 0.20], steps
    # the 1/x gate's step stays −1/u₆², as the circuit built gate by gate writes it: not followed by
    # the whole of f's denominator spelled out (count_ops missed the terms under the −1·(…))
    line = next(l for l in text.splitlines() if l.strip().startswith("∂f/∂u₆ ="))
    assert "exp" not in line, line


def test_header_and_latex_keep_the_minus_outside():
    d = sg.derive(F, WRT, at=AT)
    assert d.render("unicode").splitlines()[0] == "f = 1/(1 + exp(−(w₀·x₀ + w₁·x₁ + w₂)))"
    assert r"e^{- (w_{0} x_{0} + w_{1} x_{1} + w_{2})}" in d.latex().replace(r"\left", "").replace(r"\right", "")


def test_picture_has_the_negation_gate_and_stacks_as_typed():
    need("dot")
    src = sg.derive(F, WRT, at=AT).graph().source
    assert "×(−1)" in src and "−①·②" not in src
    plain = subprocess.run(["dot", "-Tplain"], input=src, capture_output=True, text=True, check=True).stdout
    names = node_names(src)
    ys = {names[f[1]]: float(f[3]) for f in (l.split() for l in plain.splitlines())
          if f[0] == "node" and f[1] in names}
    heights = [ys[n] for n in ["w₀", "x₀", "w₁", "x₁", "w₂"]]       # top to bottom as typed
    assert all(a > b for a, b in zip(heights, heights[1:])), ys


def test_only_a_wholly_negative_argument_is_turned_round():
    # a sum with a positive term keeps its signs (w₂ − w₀·x₀ − w₁·x₁): nothing to take out
    text = sg.derive(sp.exp(w2 - w0 * x0 - w1 * x1), WRT, at=AT).render("unicode")
    assert text.splitlines()[0] == "f = exp(w₂ − w₀·x₀ − w₁·x₁)", text
    # f itself a negative sum: no gate to add, f = −w₀·x₀ − w₁·x₁
    text = sg.derive(-w0 * x0 - w1 * x1, WRT[:4], at=AT).render("unicode")
    assert text.splitlines()[0] == "f = −w₀·x₀ − w₁·x₁", text


def test_gradients_unchanged_and_equal_to_sympy():
    d = sg.derive(F, WRT, at=AT)
    for w, g in zip(WRT, d.gradients):
        assert sp.simplify(g - sp.diff(F, w)) == 0
