"""Forward mode writes its closed forms as the slides (and reverse mode) do: a number common to a
sum outside it, 2·(w·x + b − y), not SymPy's spread 2·b + 2·w·x − 2·y; the sigmoid neuron's
gradient with σ, x₀·σ(s)·(1 − σ(s)), and its tangents' exp(−(w₀·x₀ + w₁·x₁ + w₂)) as the header
writes it, not exp(−w₀·x₀ − w₁·x₁ − w₂) beside exp(−(…)); its forward pass in written order
(u₂ = u₁ + b − y); "1 sweep", and the seed's note in the notation (∂w₀/∂w₀, $\\frac{\\partial
w_{0}}{\\partial w_{0}}$ in LaTeX, not "$\\partial$w0"). Until 2026-11-30, tenth session, each
read as SymPy or the lowering left it. Every closed form is checked equal to sympy.diff."""
import sympy as sp

import symgrad as sg
from symgrad.frontend.functions import sigmoid
from symgrad.teaching.forward_forms import numbers_outside

x, y, z, w, b, q = sp.symbols("x y z w b q")
w0, x0, w1, x1, w2 = sp.symbols("w0 x0 w1 x1 w2")


def _gradient_lines(text):
    lines = text.splitlines()
    return lines[lines.index("Gradient:") + 1:]


def _equal_to_diff(d, f, wrt, names=None):
    back = {v: k for k, v in (names or {}).items()}
    for v, (_, e, _) in zip(wrt, d.steps.gradients):
        e = e.xreplace(back).replace(sigmoid, lambda a: 1 / (1 + sp.exp(-a)))
        assert sp.simplify(e - sp.diff(f, v)) == 0, (v, e)


def test_a_number_common_to_a_sum_goes_outside_it():
    f = (w * x + b - y) ** 2
    d = sg.derive(f, [w, b], mode="forward")
    text = d.render("unicode")
    assert _gradient_lines(text) == ["  ∂f/∂w = 2·x·(w·x + b − y)", "  ∂f/∂b = 2·(w·x + b − y)"], text
    assert "2·b + 2·w·x" not in text
    assert "  u₂ = u₁ + b − y" in text.splitlines()          # as reverse mode writes the + gate
    _equal_to_diff(d, f, [w, b])


def test_a_named_sum_reads_by_its_name_once_the_number_is_out():
    f = (x - y) ** 2 + sp.exp(x - z)
    d = sg.derive(f, [x, y, z], mode="forward", names={q: x - y})
    assert "∂u₁/∂x = ∂u₁/∂q · ∂q/∂x = 2·q · 1 = 2·q" in d.render("unicode")
    _equal_to_diff(d, f, [x, y, z], {q: x - y})


def test_the_neurons_forward_gradient_is_written_with_sigma():
    f = 1 / (1 + sp.exp(-(w0 * x0 + w1 * x1 + w2)))
    wrt = [w0, x0, w1, x1, w2]
    fwd = _gradient_lines(sg.derive(f, wrt, mode="forward").render("unicode"))
    rev = _gradient_lines(sg.derive(f, wrt).render("unicode"))
    assert fwd == rev and fwd[0] == "  ∂f/∂w₀ = x₀·σ(w₀·x₀ + w₁·x₁ + w₂)·(1 − σ(w₀·x₀ + w₁·x₁ + w₂))", fwd
    text = sg.derive(f, wrt, mode="forward").render("unicode")
    assert "exp(−w" not in text and "−x₀·exp(−(w₀·x₀ + w₁·x₁ + w₂))" in text, text
    _equal_to_diff(sg.derive(f, wrt, mode="forward"), f, wrt)


def test_a_bare_minus_stays_with_its_terms():
    f = sp.cos(x) + z ** 3 - x ** 2 * y
    d = sg.derive(f, [x, y], mode="forward")
    assert _gradient_lines(d.render("unicode")) == ["  ∂f/∂x = −sin(x) − 2·x·y", "  ∂f/∂y = −x²"]
    assert numbers_outside(-sp.sin(x) - 2 * x * y) == -sp.sin(x) - 2 * x * y
    assert sp.srepr(numbers_outside(x / 2 - y / 2)) == sp.srepr(sp.Mul(sp.Rational(1, 2), x - y, evaluate=False))


def test_one_sweep_and_the_seed_note_in_notation():
    d = sg.derive((y - w0 * x0) ** 2 / 2, [w0], mode="forward")
    text = d.render("unicode")
    assert "Forward accumulation (1 sweep, one per input;" in text
    assert "[sweep 1: seed ∂w₀/∂w₀ = 1]" in text
    assert r"\stepnote{sweep 1: seed $\frac{\partial w_{0}}{\partial w_{0}} = 1$}" in d.latex()
    assert "Forward accumulation (2 sweeps" in sg.derive(x * y, [x, y], mode="forward").render("unicode")


def test_reverse_mode_puts_the_number_outside_as_forward_mode_does():
    # until 2026-11-30, tenth session, reverse mode read ∂f/∂b = 2·b + 2·w·x − 2·y (SymPy's spread form)
    f = (w * x + b - y) ** 2
    rev = sg.derive(f, [w, b], at={w: 2, x: 3, b: 1, y: 4})
    text = rev.render("unicode")
    assert _gradient_lines(text) == ["  ∂f/∂w = 2·x·(w·x + b − y) = 18", "  ∂f/∂b = 2·(w·x + b − y) = 6"], text
    assert "2·b + 2·w·x" not in text
    assert "  ∂f/∂b = ∂f/∂u₂ · ∂u₂/∂b = 2·(w·x + b − y) · 1 = 2·(w·x + b − y) = 6    [" in text, text
    assert "2 \\left(w x + b - y\\right)" in rev.render("latex")
    fwd = sg.derive(f, [w, b], at={w: 2, x: 3, b: 1, y: 4}, mode="forward").render("unicode")
    assert _gradient_lines(fwd) == _gradient_lines(text)
    _equal_to_diff(rev, f, [w, b])
