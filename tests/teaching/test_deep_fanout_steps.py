"""A deep fan-out (u ← sin(w·u)·cos(u), six levels) doubles the expression tree of every gradient at
each level. The steps test whether a form is short enough to print; counting the operations of the
whole tree for that (sympy.count_ops walks the tree, not the shared DAG) took ~20 s of the 23 s a
derivation took. No timing here: the test is that no tree larger than a printable one is counted,
and that the steps still end in the gradient sympy.diff gives."""
import math

import sympy as sp

import symgrad as sg
from symgrad.teaching import steps as steps_module

x, w = sp.symbols("x w")


def _chain(depth):
    u = x
    for _ in range(depth):
        u = sp.sin(w * u) * sp.cos(u)
    return u


def _tree_size(e, stop):
    for k, _ in enumerate(sp.preorder_traversal(e)):
        if k > stop:
            return k
    return k


def test_no_huge_tree_is_counted(monkeypatch):
    counted = []
    real = sp.count_ops

    def spy(e, *a, **k):
        counted.append(_tree_size(e, 5000))
        return real(e, *a, **k)
    monkeypatch.setattr(sp, "count_ops", spy)
    str(sg.derive(_chain(5), [x, w]))
    assert counted, "the steps decide what is short by counting operations"
    assert max(counted) <= 2000, f"count_ops walked a tree of {max(counted)} nodes"


def test_short_agrees_with_count_ops():
    # the early cut-off must not change which forms are short
    a, b, c = sp.symbols("a b c")
    W = sp.MatrixSymbol("W", 2, 3)
    exprs = [a, a + b, a * b * c + sp.sin(a), (a + b) ** 2 / c, sp.exp(-a - b - c) / (1 + sp.exp(-a)) ** 2,
             W.T * W, sum(sp.Symbol(f"s{k}") for k in range(9)), sum(sp.Symbol(f"s{k}") for k in range(40)),
             _chain(2).diff(x), _chain(4).diff(x)]
    for e in exprs:
        for limit in (3, 8, 40):
            assert steps_module._short(e, limit) == (sp.count_ops(e) <= limit), (e, limit)


def test_deep_chain_steps_end_in_sympy_diff():
    f = _chain(6)
    d = sg.derive(f, [x, w], at={x: 0.5, w: 1.5})
    got = {str(n): v for n, _, v in d.steps.gradients}
    point = {x: 0.5, w: 1.5}
    for s in (x, w):
        want = float(sp.diff(f, s).subs(point))
        assert math.isclose(got[str(s)], want, rel_tol=1e-9, abs_tol=1e-12)
