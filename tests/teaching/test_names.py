"""``names=`` (issue 14, point 2): a part of f named as the slide writes it is found up to SymPy's
flattening, sign and coefficient absorption, shows in every view, and the views agree; auto-names
follow the lecture's layer index z⁽ᵏ⁾, y⁽ᵏ⁾."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import SymgradError
from symgrad.teaching.names import occurs, regroup

rng = np.random.default_rng(3)
W2, y1, b2 = sp.MatrixSymbol("W2", 2, 3), sp.MatrixSymbol("y1", 3, 1), sp.MatrixSymbol("b2", 2, 1)
W, x, b = sp.MatrixSymbol("W", 2, 2), sp.MatrixSymbol("x", 2, 1), sp.MatrixSymbol("b", 2, 1)
t2 = sp.MatrixSymbol("t", 2, 1)
w, yj, yl, ts, u = sp.symbols("w y_j y_l t u")
p, q, s, tt = sp.symbols("p q s tt")


def _point(f):
    return {a: (rng.normal(size=tuple(int(n) for n in a.shape)) if isinstance(a, sp.MatrixSymbol)
                else float(rng.normal())) for a in f.free_symbols}


CASES = [
    # (id, f, wrt, the name, the part it names, how it appears in the unicode view)
    ("W2y1+b2 inside mse", sg.mse(W2 * y1 + b2, t2), [W2, b2], sp.MatrixSymbol("z2", 2, 1), W2 * y1 + b2, "z₂"),
    ("Wx+b inside |Wx+b-t|^2", sg.sum(sp.HadamardPower(W * x + b - t2, 2)), [W, b],
     sp.MatrixSymbol("q", 2, 1), W * x + b, "q"),
    ("multiplicative unit w*yj*yl", (2 * w * yj * yl - ts) ** 2, [w], u, w * yj * yl, "u"),
    ("a sum whose sign was absorbed", (tt - p - q) ** 2 * s, [p, q], sp.Symbol("r"), p + q, "r"),
    ("a sum whose coefficient was absorbed", (3 * p + 3 * q) * s, [p], sp.Symbol("r"), p + q, "r"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_the_name_shows_in_every_view_and_the_views_agree(case):
    _, f, wrt, name, part, shown = case
    assert not occurs(f, part)                       # SymPy flattened it away: the hard case
    at = _point(f)
    d = sg.derive(f, wrt, names={name: part}, at=at)
    views = {"text": d.render("text"), "unicode": d.render("unicode"), "latex": d.latex(),
             "markdown": d.markdown(), "jupyter": d._repr_latex_(), "str": str(d)}
    plain = {"text": str(name), "unicode": shown, "str": shown}
    for view, out in views.items():
        want = plain.get(view, sp.latex(name))
        assert want in out, f"{view} lost the name {name}:\n{out}"
    # the forward pass defines it as the slide does
    assert f"{shown} = " in views["unicode"]
    # every view's steps agree with each other and with sg.grad (an independent path: no names)
    steps = d.explain()
    for (wv, _, value), w_ in zip(steps.gradients, wrt):
        truth = sg.numeric(sg.grad(f, w_), at)
        np.testing.assert_allclose(np.asarray(value, float), np.asarray(truth, float), rtol=1e-9)
    # the expressions too: the named gradient, with the name written out, is sg.grad's
    for (wv, expr, _), w_ in zip(steps.gradients, wrt):
        back = sg.numeric(expr.xreplace({name: part}) if not isinstance(name, sp.MatrixSymbol)
                          else expr.subs(name, part), at)
        np.testing.assert_allclose(np.asarray(back, float), np.asarray(sg.numeric(sg.grad(f, w_), at), float),
                                   rtol=1e-9)


def test_the_picture_names_it_too():
    pytest.importorskip("graphviz")
    f = sg.mse(W2 * y1 + b2, t2)
    d = sg.derive(f, [W2], names={sp.MatrixSymbol("z2", 2, 1): W2 * y1 + b2})
    assert "z₂" in d.graph().source or "z2" in d.graph().source


def test_a_name_that_is_no_part_of_f_raises_in_every_view():
    # it raised in the first view and every later view silently dropped the name
    f = sg.mse(W2 * y1 + b2, t2)
    d = sg.derive(f, [W2], names={sp.MatrixSymbol("z9", 2, 1): W2 * y1 - b2})
    for view in (lambda: d.render("text"), d.latex, lambda: d.render("unicode"), d._repr_latex_):
        with pytest.raises(SymgradError, match="z9"):
            view()


def test_regroup_keeps_the_value_and_makes_the_node():
    f = (2 * (p + q) - tt) ** 2
    g = regroup(f, {s: p + q})
    assert occurs(g, p + q) and sp.expand(g - f) == 0
    assert regroup(f, {s: p * tt}) is f                 # not a part: f as it was


def test_auto_names_follow_the_layer_index():
    W1, Wb = sp.MatrixSymbol("W1", 3, 2), sp.MatrixSymbol("Wb", 2, 3)
    c1 = sp.MatrixSymbol("c1", 3, 1)
    f = sg.mse(sg.sigmoid(Wb * sg.relu(W1 * x + c1) + b2), t2)
    text = sg.derive(f, [W1, Wb]).render("unicode")
    for line in ["z⁽¹⁾ = W₁·x + c₁", "y⁽¹⁾ = relu(z⁽¹⁾)", "z⁽²⁾ = Wb·y⁽¹⁾ + b₂", "δ⁽¹⁾ = ∂L/∂z⁽¹⁾"]:
        assert line in text, line
    # two neurons of one layer are both layer 1 (z₂ was the name of a first-layer neuron), and
    # tanh of an input is y of the first layer (it was y₄)
    a, c, w1, w2 = sp.symbols("a c w1 w2")
    text = sg.derive(sg.sigmoid(w1 * a) * sg.sigmoid(w2 * a) + sp.tanh(c) * sg.sigmoid(w1 * sg.sigmoid(w2 * a)),
                     [w1]).render("unicode")
    assert "y⁽¹⁾₁ = tanh(c)" in text or "y⁽¹⁾₁ = σ(" in text
    assert "y⁽²⁾ = σ(z⁽²⁾)" in text and "y₄" not in text and "y⁽⁴⁾" not in text
