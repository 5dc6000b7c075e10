"""A monomial prints its factors in SymPy's own order, powers where the letters put them: the notes'
f(x, y, z) = cos(x) + z³ − x²y reads − x²·y (LaTeX x^{2} y), and its ∂f/∂y = −x², not − y·x² — the
order of SymPy's stored arguments, which the printers keep for the user's sums (until 2026-11-30,
ninth session). The value is unchanged: the ASCII header read back with SymPy's parser is f."""
import sympy as sp

import symgrad as sg

x, y, z = sp.symbols("x y z")


def test_the_notes_example_reads_x_squared_y():
    f = sp.cos(x) + z ** 3 - x ** 2 * y
    d = sg.derive(f, [x, y, z])
    header = d.render("unicode").splitlines()[0]
    assert header == "f = z³ + cos(x) − x²·y", header
    assert "x^{2} y" in d.latex() and "y x^{2}" not in d.latex()
    text = d.render("text").splitlines()[0].split(" = ", 1)[1]
    assert sp.simplify(sp.parse_expr(text, local_dict={"x": x, "y": y, "z": z}) - f) == 0
    assert "  ∂f/∂x = −2·x·y − sin(x)" in d.render("unicode") or "∂f/∂x = −sin(x) − 2·x·y" in d.render("unicode")


def test_products_of_names_keep_their_order():
    w0, x0 = sp.symbols("w0 x0")
    d = sg.derive(3 * w0 * x0 ** 2, [w0])
    assert d.render("unicode").splitlines()[0] == "f = 3·w₀·x₀²"
