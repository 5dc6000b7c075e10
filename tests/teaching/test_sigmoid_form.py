"""The sigmoid neuron written out, 1/(1 + exp(−(w₀x₀ + w₁x₁ + w₂))): its circuit's steps stay as
the slide computes them (−1/u², exp, ...), but every closed form is written as the slides write
σ′, σ(s)·(1 − σ(s)), never an exp(−…) spelling mixed with the name s (SymPy distributes the minus
over the sum, so exp(−w₂ − w₀·x₀ − w₁·x₁) sat next to (1 + exp(−s))²). The values are sympy.diff's;
the forms are checked by putting σ's definition back and comparing with sympy.diff at random points."""
import random

import sympy as sp

import symgrad as sg
from symgrad.cli.main import main

w0, x0, w1, x1, w2, s = sp.symbols("w0 x0 w1 x1 w2 s")
F = 1 / (1 + sp.exp(-(w0 * x0 + w1 * x1 + w2)))
AT = {w0: 2, x0: -1, w1: -3, x1: -2, w2: -3}
SLIDE = {"w₀": -0.20, "x₀": 0.39, "w₁": -0.39, "x₁": -0.59, "w₂": 0.20}     # cs231n's numbers


def _gradient_lines(out):
    lines = out.splitlines()
    start = lines.index("Gradient:")
    return [l.strip() for l in lines[start + 1:] if l.startswith("  ∂f/∂")]


def _unsigmoid(e, sdef):
    e = e.xreplace({s: sdef})
    return e.replace(lambda n: isinstance(n, sg.sigmoid), lambda n: 1 / (1 + sp.exp(-n.args[0])))


def test_cli_with_a_name_writes_sigma_throughout(capsys):
    assert main(["derive", "1/(1+exp(-(w0*x0+w1*x1+w2)))", "--at", "w0=2,x0=-1,w1=-3,x1=-2,w2=-3",
                 "--name", "s=w0*x0+w1*x1+w2"]) == 0
    out = capsys.readouterr().out
    grads = _gradient_lines(out)
    assert len(grads) == 5, out
    for line in grads:
        assert "exp" not in line, line
        assert "σ(s)·(1 − σ(s))" in line, line
        name = line.split("=")[0].strip()[len("∂f/∂"):]
        assert abs(float(line.rsplit("=", 1)[1].replace("−", "-")) - SLIDE[name]) < 0.005, line
    step = next(l for l in out.splitlines() if l.strip().startswith("∂f/∂s ="))
    assert "σ(s)·(1 − σ(s))" in step, step


def test_the_sigma_forms_are_the_derivative():
    d = sg.derive(F, [w0, x0, w1, x1, w2], names={s: w0 * x0 + w1 * x1 + w2})
    rng = random.Random(4)
    for sym, form, _ in d.steps.gradients:
        assert not form.has(sp.exp) and form.has(sg.sigmoid), form
        back = _unsigmoid(form, w0 * x0 + w1 * x1 + w2)
        want = sp.diff(F, sp.Symbol(str(sym).replace("₀", "0").replace("₁", "1").replace("₂", "2")))
        for _ in range(3):
            pt = {v: rng.uniform(-2, 2) for v in (w0, x0, w1, x1, w2)}
            assert abs(float(back.subs(pt)) - float(want.subs(pt))) < 1e-12, (sym, form)


def test_without_a_name_sigma_of_the_sum():
    d = sg.derive(F, [w0, x0, w1, x1, w2], at=AT)
    text = d.render("unicode")
    grads = _gradient_lines(text)
    for line in grads:
        assert "exp" not in line and "σ(" in line, line


def test_a_gate_sigma_prints_sigma_first():
    z = sp.Symbol("z")
    text = sg.derive(sg.sigmoid(w0 * x0 + w2), [w0, w2], names={z: w0 * x0 + w2}).render("unicode")
    assert "(1 − σ(z))·σ(z)" not in text
    assert "∂f/∂w₂ = σ(z)·(1 − σ(z))" in text, text


def test_the_picture_writes_sigma_too():
    import pytest
    pytest.importorskip("graphviz")
    import re
    d = sg.derive(F, [w0, x0, w1, x1, w2], names={s: w0 * x0 + w1 * x1 + w2})
    labels = re.findall(r"∂f/∂[^<]*", d.graph().source)
    assert "∂f/∂w₀ = x₀·σ(s)·(1 − σ(s))" in labels, labels
    assert not any("exp" in lab for lab in labels), labels
