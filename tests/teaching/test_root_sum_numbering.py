"""A sum that is f itself numbers its terms in the order f is written, as a sum inside f always
did: f = x·y + exp(x) + sin(y) reads u₁ = x·y, u₂ = exp(x), u₃ = sin(y), f = u₁ + u₂ + u₃ (until
2026-11-30, tenth session, u₁ = sin(y), u₂ = exp(x), u₃ = x·y and f = u₃ + u₂ + u₁, the
lowering's order). The values are sympy's."""
import math

import sympy as sp

import symgrad as sg

x, y, z = sp.symbols("x y z")


def _forward_lines(d):
    lines = d.render("unicode").splitlines()
    return lines[2:lines.index(next(l for l in lines if l.startswith(("Backward", "Forward accumulation"))))]


def test_f_a_sum_numbers_its_terms_as_written():
    at = {x: 1.0, y: 2.0}
    lines = _forward_lines(sg.derive(x * y + sp.exp(x) + sp.sin(y), [x, y], at=at))
    assert lines == [f"  u₁ = x·y = {2:.4g}", f"  u₂ = exp(x) = {math.e:.4g}", f"  u₃ = sin(y) = {math.sin(2):.4g}",
                     f"  f = u₁ + u₂ + u₃ = {2 + math.e + math.sin(2):.4g}"]


def test_notes_partial_example_as_written():
    # the notes' cos(x) + z³ − x²·y, printed positive terms first: z³ is u₁, cos(x) is u₂
    at = {x: 0.5, y: 0.5, z: 0.5}
    d = sg.derive(sp.cos(x) + z ** 3 - x ** 2 * y, [x, y, z], at=at)
    lines = _forward_lines(d)
    assert lines[:2] == ["  u₁ = z³ = 0.125", f"  u₂ = cos(x) = {math.cos(0.5):.4g}"], lines
    assert lines[-1].startswith("  f = u₁ + u₂ + "), lines
    f = sp.cos(x) + z ** 3 - x ** 2 * y
    for w, (_, _, value) in zip([x, y, z], d.steps.gradients):
        assert math.isclose(value, float(sp.diff(f, w).subs(at)), rel_tol=1e-12)


def test_forward_mode_numbers_them_alike():
    lines = _forward_lines(sg.derive(x * y + sp.exp(x) + sp.sin(y), [x, y], mode="forward"))
    assert lines == ["  u₁ = x·y", "  u₂ = exp(x)", "  u₃ = sin(y)", "  f = u₁ + u₂ + u₃"]
