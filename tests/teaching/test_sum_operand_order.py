"""The forward pass computes a sum's operands in the order its line prints them: the sigmoid
neuron's u₁ = w₀·x₀ before u₂ = w₁·x₁, as the slide (the lowering had made w₁·x₁ first), and
cs231n's staged den = sigx + xpysqr after sigx, then xpy, xpysqr, as its code computes them
(symgrad/teaching/node_naming.py `as_read`). Values and gradients are unchanged: sympy.diff's."""
import sympy as sp

import symgrad as sg

w0, x0, w1, x1, w2 = sp.symbols("w0 x0 w1 x1 w2")
AT = {w0: 2, x0: -1, w1: -3, x1: -2, w2: -3}


def _forward(text):
    return [l.strip().split(" = ")[0] + " = " + l.strip().split(" = ")[1]
            for l in text.split("Forward pass:\n")[1].split("Backward")[0].splitlines()]


def test_the_sigmoid_neurons_products_in_the_slides_order():
    s = sp.Add(sp.Add(w0 * x0, w1 * x1, evaluate=False), w2, evaluate=False)
    f = 1 / (1 + sp.exp(sp.Mul(-1, s, evaluate=False)))
    d = sg.derive(f, [w0, x0, w1, x1, w2], at=AT)
    assert _forward(d.render("unicode"))[:3] == ["u₁ = w₀·x₀", "u₂ = w₁·x₁", "u₃ = u₁ + u₂"]
    z = sp.Symbol("z")
    d = sg.derive(sg.sigmoid(w0 * x0 + w1 * x1 + w2), [w0, x0, w1, x1, w2], names={z: w0 * x0 + w1 * x1 + w2},
                  at=AT)
    assert _forward(d.render("unicode"))[:3] == ["u₁ = w₀·x₀", "u₂ = w₁·x₁", "z = u₁ + u₂ + w₂"]
    explicit = 1 / (1 + sp.exp(-(w0 * x0 + w1 * x1 + w2)))
    for (_, _, value), v in zip(d.steps.gradients, [w0, x0, w1, x1, w2]):
        assert abs(value - float(sp.diff(explicit, v).subs(AT))) < 1e-12


def test_named_operands_in_the_order_their_line_prints_them():
    x, y = sp.symbols("x y")
    sigy, num, sigx, xpy, xpysqr, den, invden = sp.symbols("sigy num sigx xpy xpysqr den invden")
    Sy, Sx = sg.sigmoid(y), sg.sigmoid(x)
    N_, XP = x + Sy, x + y
    D = Sx + XP ** 2
    names = {sigy: Sy, num: N_, sigx: Sx, xpy: XP, xpysqr: XP ** 2, den: D, invden: 1 / D}
    d = sg.derive(N_ / D, [x, y], names=names, at={x: 3, y: -4})
    lhs = [l.split(" = ")[0] for l in _forward(d.render("unicode"))]
    assert lhs == ["sigy", "num", "sigx", "xpy", "xpysqr", "den", "invden", "f"], lhs
    f = (x + 1 / (1 + sp.exp(-y))) / (1 / (1 + sp.exp(-x)) + (x + y) ** 2)
    for (_, _, value), v in zip(d.steps.gradients, [x, y]):
        assert abs(value - float(sp.diff(f, v).subs({x: 3, y: -4}))) < 1e-12
