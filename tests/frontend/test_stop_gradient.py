"""sg.stop_gradient / tensor.detach(): its argument's value, a derivative of zero — in sg.grad, jacobian
and hessian against sympy.diff (whose own derivative of it is 0) and torch.autograd's .detach();
printed readably; in the text grammar; bad input refused by name."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import ArgumentError, ParseError
from symgrad.frontend.parse import parse_expr

torch = pytest.importorskip("torch")
x, y, z = sp.symbols("x y z", real=True)
SG = sg.stop_gradient


def test_value_is_the_argument_and_sympy_diff_is_zero():
    assert sp.diff(SG(x ** 2), x) == 0
    assert sp.diff(x * SG(x), x) == SG(x)
    assert SG(SG(x)) == SG(x) and SG(3) == 3 and SG(np.float64(2.5)) == 2.5
    W = sp.MatrixSymbol("W", 2, 2)
    assert SG(W).shape == (2, 2) and str(SG(W)) == "stop_gradient(W)"
    assert sg.numeric(SG(sp.sin(x)) * x, {x: 0.7}) == pytest.approx(np.sin(0.7) * 0.7, rel=1e-14)


@pytest.mark.parametrize("f", [
    x * SG(x),
    (x + SG(sp.sign(x) - x)) ** 2 * y,                     # a straight-through estimator
    (SG(x) - y) ** 2 + 0.25 * (x - SG(y)) ** 2,            # VQ's two terms
    (z - (x + 0.9 * SG(sp.Max(x * y, y)))) ** 2,           # a TD target held
    sp.exp(SG(x * y) * z) + SG(SG(z) * x),
])
def test_grad_equals_sympy_diff_and_torch_detach(f):
    wrt = [x, y, z]
    got = sg.grad(f, wrt)
    for g, w in zip(got, wrt):
        assert sp.simplify(g - sp.diff(f, w)) == 0
    for g, h in zip(got, sg.grad(f, wrt, mode="forward")):     # forward mode: no tangent through it
        assert sp.simplify(g - h) == 0
    at = {x: 0.3, y: -0.8, z: 1.1}
    ts = {s: torch.tensor(v, dtype=torch.float64, requires_grad=True) for s, v in at.items()}
    ported = f.replace(lambda e: isinstance(e, SG), lambda e: sp.Function("detach")(*e.args)).replace(
        sp.sign, sp.Function("tsign"))      # (SymPy prints sign as Python's copysign of a float)
    tf = sp.lambdify([x, y, z], ported, modules=[{"detach": lambda t: t.detach(), "tsign": torch.sign,
                                                  "exp": torch.exp, "Max": torch.maximum}])
    tf(ts[x], ts[y], ts[z]).backward()
    for g, w in zip(got, wrt):
        want = 0.0 if ts[w].grad is None else ts[w].grad.item()
        assert float(g.subs(at).replace(lambda e: isinstance(e, SG), lambda e: e.args[0])) == pytest.approx(
            want, rel=1e-12, abs=1e-14)


def test_hessian_and_jacobian_treat_it_as_a_constant():
    f = x ** 2 * SG(x * y) + y ** 2
    H = sg.hessian(f, [x, y])
    want = sp.Matrix(2, 2, lambda i, j: sp.diff(f, [x, y][i], [x, y][j]))
    assert sp.simplify(H - want) == sp.zeros(2, 2)
    assert H[0, 1] == 0                                    # ∂/∂y of 2x·sg(xy): nothing
    J = sg.jacobian([SG(x) * y, x + SG(y)], [x, y])
    assert J == sp.Matrix([[0, SG(x)], [1, 0]])


def test_matrix_expressions_map_it_entry_by_entry():
    W, v = sp.MatrixSymbol("W", 2, 3), sp.MatrixSymbol("v", 3, 1)
    e = SG(W * v)
    assert e.shape == (2, 1) and str(e) == "stop_gradient(W*v)"
    loss = sg.sum(sp.HadamardPower(W * v - SG(W * v), 2)) + sg.sum(SG(W) * v)
    gW, gv = sg.grad(loss, [W, v])
    rng = np.random.default_rng(1)
    Wn, vn = rng.normal(size=(2, 3)), rng.normal(size=(3, 1))
    tW, tv = (torch.tensor(a, requires_grad=True) for a in (Wn, vn))
    (((tW @ tv - (tW @ tv).detach()) ** 2).sum() + (tW.detach() @ tv).sum()).backward()
    np.testing.assert_allclose(sg.numeric(gW, {W: Wn, v: vn}), tW.grad.numpy(), atol=1e-14)
    np.testing.assert_allclose(sg.numeric(gv, {W: Wn, v: vn}), tv.grad.numpy(), rtol=1e-12)


def test_tensor_detach_is_stop_gradient_and_keeps_the_methods():
    t, u = sg.tensor("t", (3,)), sg.tensor("u", (3,))
    assert t.detach() == SG(t) and t.detach().shape == (3,)
    assert (t * u).detach().sum(axis=0).shape == ()
    ids = sg.tensor("ids", (3,), integer=True)
    assert ids.detach() is ids                             # an integer tensor has no gradient to stop
    loss = ((t - u.detach()) ** 2).sum() + (t.detach() * u).sum()
    gt, gu = sg.grad(loss, [t, u])
    tn, un = np.array([0.5, -1.0, 2.0]), np.array([1.5, 0.25, -0.5])
    tt, tu = (torch.tensor(a, requires_grad=True) for a in (tn, un))
    (((tt - tu.detach()) ** 2).sum() + (tt.detach() * tu).sum()).backward()
    np.testing.assert_allclose(sg.numeric(gt, {t: tn, u: un}), tt.grad.numpy(), rtol=1e-14)
    np.testing.assert_allclose(sg.numeric(gu, {t: tn, u: un}), tu.grad.numpy(), rtol=1e-14)


def test_printed_readably():
    assert str(x * SG(y)) == "x*stop_gradient(y)"
    assert sp.latex(SG(x + y)) == r"\operatorname{sg}\left(x + y\right)"
    assert sp.latex(SG(x) ** 2) == r"\left(\operatorname{sg}\left(x\right)\right)^{2}"


def test_the_text_grammar_parses_it():
    e = parse_expr("x*stop_gradient(x + y)", symbols=[x, y])
    assert e == x * SG(x + y)
    assert sg.grad("x*stop_gradient(x)", x) == SG(x)
    for text, words in [("stop_gradient()", "takes 1 argument(s), got 0"),
                        ("stop_gradient(x, y)", "takes 1 argument(s), got 2")]:
        with pytest.raises(ParseError, match=words.replace("(", r"\(").replace(")", r"\)")):
            parse_expr(text)


@pytest.mark.parametrize("args, words", [
    ((), "takes one expression.*got 0 arguments"),
    ((x, y), "takes one expression.*got 2 arguments"),
    ((None,), "takes an expression.*got None"),
    (([x],), r"got \[x\] \(list\)"),
    ((sp.tanh,), "got tanh"),
    ((True,), "got True"),
    ((np.ones(2),), "got a numpy ndarray: a value has no gradient to stop"),
    ((torch.ones(2),), "got a torch Tensor.*torch's .detach"),
    ((sp.Eq(x, 1),), "got Eq.*a condition"),
    ((object(),), r"got <object object"),
])
def test_bad_arguments_are_refused_by_name(args, words):
    with pytest.raises(ArgumentError, match=words):
        SG(*args)


def test_tensor_jacobian_and_hessian_against_torch_functional():
    t = sg.tensor("t", (3,))
    tn = np.array([0.5, -1.0, 2.0])
    J = sg.jacobian(t * t.detach() + sg.stop_gradient(t.sum()) * t, t)
    H = sg.hessian((t ** 2 * t.detach()).sum() + sg.stop_gradient((t ** 3).sum()) * t[0], t)
    from sympy.tensor.array.expressions import ArrayElement
    entries = {ArrayElement(t, (i,)): sp.Float(tn[i]) for i in range(3)}     # the entries t[i] of J and H

    def at(a):              # each entry at tn (a stop_gradient of a number is the number)
        return np.array([[float(sp.sympify(e).xreplace(entries)) for e in row] for row in a.tolist()])
    Jn, Hn = at(J), at(H)
    tt = torch.tensor(tn)
    Jt = torch.autograd.functional.jacobian(lambda a: a * a.detach() + a.sum().detach() * a, tt)
    Ht = torch.autograd.functional.hessian(lambda a: (a ** 2 * a.detach()).sum() + (a ** 3).sum().detach() * a[0], tt)
    np.testing.assert_allclose(Jn, Jt.numpy(), rtol=1e-14)
    np.testing.assert_allclose(Hn, Ht.numpy(), rtol=1e-14, atol=1e-14)
