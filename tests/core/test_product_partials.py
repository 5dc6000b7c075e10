"""The partials of a long product: SymPy's Leibniz rule differentiates every factor for every
partial (n² derivatives each, n³ in all: 150 factors took 30 s in sg.grad); symgrad's product rule
differentiates only the factors that hold the variable. Values must stay sympy.diff's."""
import time

import numpy as np
import sympy as sp

import symgrad as sg
from symgrad.core.placeholders import placeholders
from symgrad.core.policy import DEFAULT
from symgrad.core.rules import derivative_body


def test_derivative_bodies_of_products_are_sympys():
    a = placeholders(6)
    bodies = [
        sp.Mul(*[sp.sin(x) for x in a]),
        a[0] ** 2 * a[1] * sp.exp(a[0] * a[2]) * 3,          # a0 in two factors: two terms
        a[0] * a[1] + sp.cos(a[0]) * a[3] * a[4] - a[5],      # a sum of products
        sp.tanh(a[1]) * a[2] / a[0],
    ]
    for body in bodies:
        for i in range(6):
            assert derivative_body(body, i, DEFAULT) == sp.diff(body, a[i]), (body, i)


def test_grad_of_a_long_product_is_quick_and_right():
    n = 150
    xs = sp.symbols(f"x0:{n}", real=True)
    f = sp.Mul(*[sp.sin(x) for x in xs])
    start = time.perf_counter()
    g = sg.grad(f, list(xs))
    took = time.perf_counter() - start
    assert took < 15, f"{took:.1f} s for the {n} partials (30 s before)"
    rng = np.random.default_rng(0)
    at = dict(zip(xs, rng.uniform(0.5, 2.5, n)))
    for k in (0, 77, n - 1):
        want = float(sp.diff(f, xs[k]).evalf(subs=at))
        got = float(sp.sympify(g[k]).evalf(subs=at))
        assert np.isclose(got, want, rtol=1e-10, atol=0), k


def test_derive_converts_each_equation_once(monkeypatch):
    # sg.derive builds the gradients in the user's symbols for .gradients, for the steps and for
    # their rules: each rebuilt every partial's SymPy Mul (thirteenth session: the forms are
    # remembered per graph). Same text as sympy.diff's partials; each (equation, arguments) once.
    import symgrad.core.rules as R
    seen, again, alive = set(), [], []
    convert = R.ewise_p.to_sympy

    def counted(args, params, shape):
        alive.append(args)                      # (so that no id is reused while the test runs)
        key = (params[0], tuple(map(id, args)))
        if key in seen:
            again.append(key)
        seen.add(key)
        return convert(args, params, shape)
    monkeypatch.setattr(R.ewise_p, "to_sympy", counted)
    xs = sp.symbols("x0:12", real=True)
    f = sp.Mul(*[sp.sin(x) for x in xs])
    d = sg.derive(f, list(xs))
    text = str(d)
    assert not again, f"{len(again)} conversions repeated"
    assert all(sp.simplify(g - sp.diff(f, x)) == 0 for g, x in zip(d.gradients, xs))
    assert "cos(x₅)·sin(x₀)" in text
