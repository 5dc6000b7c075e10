"""Max and Min lower to ewise equations (they are SymPy lattice ops, not Functions, so the lowering
names them explicitly); before, sg.grad(sg.hinge(s, y), s) raised UnsupportedError."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg

w, x, s, y = sp.symbols("w x s y", real=True)


@pytest.mark.parametrize("f", [sp.Max(w, x), sp.Min(w, 2 * x), sp.Max(0, 1 - w * x), sg.hinge(w, y)])
def test_gradient_matches_sympy_away_from_ties(f):
    g = sg.grad(f, w)
    rng = np.random.default_rng(0)
    for _ in range(5):
        pt = {w: rng.uniform(-2, 2), x: rng.uniform(-2, 2), y: rng.choice([-1.0, 1.0])}
        want = float(sp.diff(f, w).subs(pt).rewrite(sp.Piecewise).doit())
        assert sg.numeric(g, {k.name: v for k, v in pt.items()}) == pytest.approx(want)


def test_tie_goes_to_the_first_argument():
    f = sp.Max(w, x)
    assert f.args[0] == w                        # SymPy's canonical order puts w first
    gw, gx = sg.grad(f, [w, x])
    at = {"w": 0.5, "x": 0.5}
    assert sg.numeric(gw, at) == 1.0 and sg.numeric(gx, at) == 0.0
