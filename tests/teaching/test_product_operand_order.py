"""A product's operands are read as its line prints them, as a sum's are: the notes' influence
example (Figure 6: d = f + 3, e = f·g, b = d + e, c = e + 2, a = b·c) reads its forward pass in
that order, b and what it needs before c (until 2026-11-30, eleventh session, e, c, d, b: the
lowering had made c first). Values: sympy's."""
import sympy as sp

import symgrad as sg

f, g, a, b, c, d, e = sp.symbols("f g a b c d e")


def test_the_influence_example_reads_as_the_notes():
    D, E = f + 3, f * g
    B = sp.Add(D, E, evaluate=False)
    C = E + 2
    A = sp.Mul(B, C, evaluate=False)
    at = {f: 4, g: 2}
    text = sg.derive(A, [f, g], names={d: D, e: E, b: B, c: C, a: A}, at=at).render("unicode")
    lines = text.splitlines()
    assert lines[2:7] == ["  d = 3 + f = 7", "  e = f·g = 8", "  b = d + e = 15", "  c = 2 + e = 10",
                          "  a = b·c = 150"], lines
    whole = (f + 3 + f * g) * (f * g + 2)
    assert int(whole.subs(at)) == 150 and int(sp.diff(whole, f).subs(at)) == 60


def test_a_product_of_two_sums_reads_left_factor_first():
    x, y, z = sp.symbols("x y z")
    text = sg.derive((x - y) * (y - z), [x, y, z], at={x: 3, y: 2, z: 1}).render("unicode")
    assert text.splitlines()[0] == "f = (x − y)·(y − z)"
    assert text.splitlines()[2:5] == ["  u₁ = x − y = 1", "  u₂ = y − z = 1", "  f = u₁·u₂ = 1"], text
