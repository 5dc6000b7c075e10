"""A product's operands are read as its line prints them, as a sum's are: the notes' influence
example (Figure 6: d = f + 3, e = f·g, b = d + e, c = e + 2, a = b·c) reads its forward pass in
that order, b and what it needs before c (until 2026-11-30, tenth session, e, c, d, b: the
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
    deriv = sg.derive(A, [f, g], names={d: D, e: E, b: B, c: C, a: A}, at=at)
    lines = deriv.render("unicode").splitlines()
    assert lines[2:7] == ["  d = 3 + f = 7", "  e = f·g = 8", "  b = d + e = 15", "  c = 2 + e = 10",
                          "  a = b·c = 150"], lines
    whole = (f + 3 + f * g) * (f * g + 2)
    assert int(whole.subs(at)) == 150 and int(sp.diff(whole, f).subs(at)) == 60
    # the reordered reading changes no number: symgrad's gradient is sympy.diff's
    for v, (_, _, value) in zip([f, g], deriv.steps.gradients):
        assert value == float(sp.diff(whole, v).subs(at)), v


def test_a_product_of_two_sums_reads_left_factor_first():
    x, y, z = sp.symbols("x y z")
    text = sg.derive((x - y) * (y - z), [x, y, z], at={x: 3, y: 2, z: 1}).render("unicode")
    assert text.splitlines()[0] == "f = (x − y)·(y − z)"
    assert text.splitlines()[2:5] == ["  u₁ = x − y = 1", "  u₂ = y − z = 1", "  f = u₁·u₂ = 1"], text


def test_a_product_line_reads_as_its_expression_prints():
    # the notes' a₂ = w₂·f₁ for w₂·σ(a₁): the line read f₁·w₂ (the names' order) until 2026-11-30,
    # tenth session; a product holding a sum keeps the names' order, the slide's f = q·z for (x + y)·z
    w1, w2, x, b1, a1, f1, a2 = sp.symbols("w1 w2 x b1 a1 f1 a2")
    A1 = w1 * x + b1
    F1 = sg.sigmoid(A1)
    at = {w1: 0.3, x: 1.0, b1: 0.1, w2: -0.4}
    d = sg.derive(w2 * F1, [w1, w2, b1], names={a1: A1, f1: F1, a2: w2 * F1}, output_name="L", at=at)
    lines = d.render("unicode").splitlines()
    want = float((w2 / (1 + sp.exp(-(w1 * x + b1)))).subs(at))
    line = next(l for l in lines if l.startswith("  a₂ = ") or l.startswith("  L = "))
    assert line.split(" = ")[1] == "w₂·f₁" and abs(float(line.split(" = ")[2].replace("−", "-")) - want) < 1e-3, lines
    assert "w_{2} f_{1}" in d.render("latex")
    x, y, z, q = sp.symbols("x y z q")
    for typed in ((x + y) * z, sp.Mul(x + y, z, evaluate=False)):
        assert "  f = q·z = −12" in sg.derive(typed, [x, y, z], names={q: x + y},
                                              at={x: -2, y: 5, z: -4}).render("unicode").splitlines()


def test_a_tensor_hadamard_line_reads_as_its_header():
    # b ⊙ c ⊙ (W @ x): the line read u₃ ⊙ c ⊙ b (the reverse of the header) until the tenth session
    import numpy as np
    W, xt, bt, ct = sg.tensor("W", (2, 3)), sg.tensor("x", (3,)), sg.tensor("b", (2,)), sg.tensor("c", (2,))
    at = {W: np.array([[0.1, 0.5, 0.2], [-0.3, 0.8, 0.1]]), xt: np.array([0.2, 0.4, 0.5]),
          bt: np.array([0.1, -0.2]), ct: np.array([0.3, 0.1])}
    text = sg.derive(sg.sum(bt * ct * (W @ xt)), [W], at=at).render("unicode")
    lines = text.splitlines()
    assert lines[0] == "f = (b ⊙ c ⊙ (W @ x)).sum()"
    want = at[bt] * at[ct] * (at[W] @ at[xt])
    assert f"  u₂ = b ⊙ c ⊙ u₁ = [{want[0]:.4g}, {want[1]:.4g}]".replace("-", "−") in lines, lines
