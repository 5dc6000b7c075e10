"""A forward line of a sum lists its terms as the user's expression prints them, and the picture
stacks them so: the three-layer chain's a₁ = w₁·x + b₁ reads u₁ = w₁·x, a₁ = u₁ + b₁, with w₁ and x
above b₁ — not SymPy's order of the names, a₁ = b₁ + u₁; a batch norm's u₂ = σ² + 1e−5, not
1e−5 + σ², and its header √(x.var(axis=0) + 1e−5) (symgrad/teaching/sum_order.py
`operands_as_written`; until 2026-11-30, ninth session). The values are unchanged: sympy.diff's."""
import sympy as sp

import symgrad as sg
from test_picture_input_order import _heights
from test_teaching_examples import load

w1, w2, w3, b1, x, y = sp.symbols("w1 w2 w3 b1 x y")
AT = {x: 1.0, y: 0.5, w1: 0.3, w2: -0.4, w3: 0.8, b1: 0.1}


def _chain():
    """examples/teaching/three_layer_chain.py's derivation (its f, names and point are these)."""
    return load("three_layer_chain").build()


def test_the_forward_lines_read_as_the_user_wrote_them():
    d = _chain()
    L = d.f
    forward = [l.strip().rsplit(" = ", 1)[0] for l in
               d.render("unicode").split("Forward pass:\n")[1].split("Backward")[0].splitlines()]
    assert forward[:3] == ["u₁ = w₁·x", "a₁ = u₁ + b₁", "f₁ = σ(a₁)"], forward
    assert r"a_{1} &= u_{1} + b_{1}" in d.latex()
    plain = L.replace(lambda e: type(e).__name__ == "sigmoid", lambda e: 1 / (1 + sp.exp(-e.args[0])))
    for (_, _, value), w in zip(d.steps.gradients, [w3, w2, w1, b1]):
        assert abs(value - float(sp.diff(plain, w).subs(AT))) < 1e-12


def test_the_picture_stacks_them_so():
    ys = _heights(_chain().graph().source)
    assert min(ys["w₁"], ys["x"]) > ys["b₁"], ys


def test_a_batch_norms_epsilon_comes_last():
    N = sp.Symbol("N", integer=True, positive=True)
    x, g, b, dout = sg.tensor("x", (N, 3)), sg.tensor("gamma", (3,)), sg.tensor("beta", (3,)), sg.tensor("dout", (N, 3))
    xhat = (x - x.mean(axis=0)) / sp.sqrt(x.var(axis=0) + 1e-5)
    text = sg.derive(sg.sum((g * xhat + b) * dout), [x, g, b], output_name="L").render("unicode")
    assert "  u₂ = σ² + 1e−5\n" in text, text
    assert "√(x.var(axis=0) + 1e−5)" in text.splitlines()[0], text.splitlines()[0]
    assert "1e−5 + " not in text


def test_a_forward_sum_lists_its_positive_terms_first_as_the_header_does():
    # the notes' f(x, y, z) = cos(x) + z³ − x²·y: the header prints positive terms first,
    # z³ + cos(x) − …, and the line of its + gate reads its names in that order (u₁ + u₂ + u₄; until
    # 2026-11-30, ninth session, u₄ + u₃ + u₁, and until the tenth u₄ + u₁ + u₃, the terms
    # numbered in the lowering's order: tests/teaching/test_root_sum_numbering.py); the value is the same
    x, y, z = sp.symbols("x y z")
    d = sg.derive(sp.cos(x) + z ** 3 - x ** 2 * y, [x, y, z], at={x: 0.5, y: 0.5, z: 0.5})
    lines = d.render("unicode").splitlines()
    assert lines[0].startswith("f = z³ + cos(x) − "), lines[0]
    names = {l.split(" = ")[1]: l.split(" = ")[0].strip() for l in lines[2:6]}
    assert f"  f = {names['z³']} + {names['cos(x)']} + u₄ = 0.8776" in lines, lines[:8]
