"""Sums in the headers read as the slides write them (symgrad/teaching/sum_order.py): the sigmoid
neuron's σ(w₀·x₀ + w₁·x₁ + w₂), not SymPy's σ(w₂ + w₀·x₀ + w₁·x₁); the three-layer chain's
σ(w₁·x + b₁); and no doubled brackets where the circuit is built gate by gate, exp(−(w₀·x₀ + w₁·x₁
+ w₂)), not exp(−((w₀·x₀ + w₁·x₁) + w₂)); (3 + f + f·g)·(2 + f·g), not ((3 + f) + f·g)·(…).
Each printed header, read back, is f (sympy's own parser on the ASCII form)."""
import sympy as sp
import pytest

import symgrad as sg

w0, x0, w1, x1, w2, x, y, z, f, g, b1 = sp.symbols("w0 x0 w1 x1 w2 x y z f g b1")
w_1, w_2, w_3 = sp.symbols("w1 w2 w3")


def _gate_by_gate():
    s = sp.Add(sp.Add(w0 * x0, w1 * x1, evaluate=False), w2, evaluate=False)
    return 1 / (1 + sp.exp(sp.Mul(-1, s, evaluate=False)))


def _influence():
    return sp.Mul(sp.Add(f + 3, f * g, evaluate=False), f * g + 2, evaluate=False)


CASES = [
    (sg.sigmoid(w0 * x0 + w1 * x1 + w2), [w0], "f = σ(w₀·x₀ + w₁·x₁ + w₂)"),
    (_gate_by_gate(), [w0], "f = 1/(1 + exp(−(w₀·x₀ + w₁·x₁ + w₂)))"),
    (sp.Mul(sp.Add(sp.Add(x, y, evaluate=False), 1, evaluate=False), z, evaluate=False), [x], "f = (x + y + 1)·z"),
    (_influence(), [f], "a = (3 + f + f·g)·(2 + f·g)"),
    ((y - sg.sigmoid(w_3 * sg.sigmoid(w_2 * sg.sigmoid(w_1 * x + b1)))) ** 2 / 2, [w_1],
     "f = (y − σ(w₃·σ(w₂·σ(w₁·x + b₁))))²/2"),
]


@pytest.mark.parametrize("expr, wrt, header", CASES)
def test_the_header_reads_as_the_slide(expr, wrt, header):
    d = sg.derive(expr, wrt, output_name=header[0])
    assert d.render("unicode").splitlines()[0] == header
    assert "((" not in d.render("text").splitlines()[0]
    assert r"\left(\left(" not in d.latex()
    # the header is f: read back from its ASCII form with SymPy's own parser
    text = d.render("text").splitlines()[0].split(" = ", 1)[1]
    back = sp.parse_expr(text, local_dict={"sigmoid": lambda a: 1 / (1 + sp.exp(-a)), **{str(s): s for s in expr.free_symbols}})
    plain = expr.replace(lambda e: type(e).__name__ == "sigmoid", lambda e: 1 / (1 + sp.exp(-e.args[0])))
    assert sp.simplify(back - plain) == 0


def test_the_sigmoid_neurons_gradient_in_the_users_order():
    d = sg.derive(sg.sigmoid(w0 * x0 + w1 * x1 + w2), [w0])
    assert "x₀·σ(w₀·x₀ + w₁·x₁ + w₂)·(1 − σ(w₀·x₀ + w₁·x₁ + w₂))" in d.render("unicode")
    assert r"\sigma\left(w_{0} x_{0} + w_{1} x_{1} + w_{2}\right)" in d.latex()


def test_a_sum_that_is_no_affine_form_keeps_its_order():
    # f + f·g: f is a factor of the product, no bias; 2 + 5·g + …: a polynomial, ascending
    d = sg.derive(f + f * g, [f], output_name="a")
    assert d.render("unicode").splitlines()[0] == "a = f + f·g"
    d = sg.derive(sp.exp(x) + 1 + y, [x])
    assert d.render("unicode").splitlines()[0] == "f = 1 + y + exp(x)"


def test_an_update_rule_keeps_the_value_it_updates_first():
    # p + μ·v is no affine form with a bias: the look-ahead point, as the notes' W + αv
    from symgrad.compiling import optim
    nesterov = str(optim.SGD(lr=0.1, momentum=0.9, nesterov=True).view(form="notes"))
    assert "v ← μ·v − η·g(p + μ·v)" in nesterov, nesterov
    assert "g ← g + λ·p" in str(optim.Adam(weight_decay=0.1).view(form="notes"))
