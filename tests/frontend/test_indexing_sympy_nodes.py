"""Indexing SymPy's own node of a tensor, ``sp.tanh(h)[:, 0]``: Python's bare "'tanh' object is not
subscriptable" named no way out; now the error names ``sg.tanh(h)[:, 0]`` and ``sg.as_tensor``. The
hook on SymPy's ``Expr`` leaves every other expression as it was."""
import numpy as np
import pytest
import sympy as sp
from sympy.utilities.iterables import is_sequence, iterable

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)


def test_tanh_of_a_tensor_indexed_names_sg_tanh_and_the_spelling_works():
    h = sg.tensor("h", (4, 3))
    with pytest.raises(sg.ArgumentError) as info:
        sp.tanh(h)[:, 0]
    assert isinstance(info.value, TypeError)
    assert "sg.tanh(h)[:, 0]" in str(info.value) and "sg.as_tensor(tanh(h))[:, 0]" in str(info.value)
    hv = np.random.default_rng(0).normal(size=(4, 3))
    np.testing.assert_allclose(np.asarray(sg.numeric(sg.tanh(h)[:, 0], {h: hv}), dtype=float), np.tanh(hv)[:, 0])


@pytest.mark.parametrize("build, key, named", [
    (lambda h: sp.Max(h, 0), (slice(1, 3), slice(None, None, 2)), "sg.as_tensor(Max(0, h))[1:3, ::2]"),
    (lambda h: sp.sqrt(h + 1), (Ellipsis, 0), "sg.as_tensor(sqrt(h + 1))[..., 0]"),
    (lambda h: sp.exp(h), 2, "sg.exp(h)[2]"),
])
def test_other_nodes_name_as_tensor_or_their_sg_function(build, key, named):
    h = sg.tensor("h", (N, 3))
    with pytest.raises(sg.ArgumentError, match="cannot index") as info:
        build(h)[key]
    assert named in str(info.value)


def test_iterating_a_node_over_a_symbolic_axis_stops_at_once():
    with pytest.raises(TypeError):
        list(sp.tanh(sg.tensor("h", (N, 3))))


def test_expressions_without_a_tensor_are_as_before():
    x, y = sp.symbols("x y")
    with pytest.raises(TypeError, match="'Symbol' object is not subscriptable") as info:
        x[0]
    assert not isinstance(info.value, sg.SymgradError)
    with pytest.raises(TypeError):
        list(x + y)
    assert not iterable(x) and not iterable(x + y) and not is_sequence(sp.sin(x))
    W = sp.MatrixSymbol("W", 2, 2)
    assert list(W) == [W[0, 0], W[0, 1], W[1, 0], W[1, 1]]         # MatrixExpr's own __getitem__
    assert sp.IndexedBase("A")[1] == sp.Indexed("A", 1)
    assert np.array([x, y]).shape == (2,) and np.array(x).shape == ()
    assert sp.Matrix([x, y]).shape == (2, 1) and len(sp.Tuple(x, y)) == 2


def test_iterable_probe_answers_per_class_and_forgets_classes_made_on_the_fly():
    """The probe's answer is kept per class (twelfth session: it looked both methods up on each of
    iterable()'s two reads): an Expr subclass with its own __iter__ or __getitem__ is still iterable
    as SymPy's iterable() finds by iter(), one without is not — also a class made after others were
    probed — and classes made in a loop (Function(f"g{i}")) are not all held."""
    from symgrad.frontend import sympy_node_methods as hook

    class Pair(sp.Expr):
        def __iter__(self):
            return iter(self.args)

    class Row(sp.Expr):
        def __getitem__(self, i):
            return self.args[i]

    class Plain(sp.Expr):
        pass
    x = sp.Symbol("x")
    for _ in range(2):                           # the first answer, then the kept one
        assert iterable(Pair(x, 1)) and list(Pair(x, 1)) == [x, 1]
        assert iterable(Row(x, 1))
        assert not iterable(Plain(x)) and not iterable(x) and not iterable(sp.Function("f")(x))
    for i in range(hook._PROBED_MAX + 10):
        assert not iterable(sp.Function(f"g{i}")(x))
    assert len(hook._PROBED) <= hook._PROBED_MAX
    assert not iterable(x) and iterable(Pair(x, 1))
