"""What `symgrad/frontend/sympy_node_methods.py` installs on SymPy's ``Expr`` when symgrad is
imported (the tensor methods of ``sp.tanh(h)``, its ``transpose`` and ``expand``) must not change
SymPy code that has no tensor in it (2026-11-30, tenth session). The expectations are written out
by hand or taken from SymPy's own functions (``sympy.functions.elementary.complexes.transpose``,
``sp.expand_mul``), not from symgrad. Its cost on SymPy's own work is `bench/sympy_hook_cost.py`'s."""
from __future__ import annotations

import inspect
import pickle

import numpy as np
import pytest
import sympy as sp
from sympy.functions.elementary.complexes import transpose as sympy_transpose

import symgrad as sg

a, b = sp.symbols("a b")
PLAIN = [a, a + 1, sp.tanh(a), sp.exp(a) * b, sp.Max(a, 0), sp.Piecewise((a, a > 0), (0, True)),
         sp.Integer(3), sp.MatrixSymbol("W", 2, 3)]


@pytest.mark.parametrize("e", PLAIN, ids=str)
def test_no_tensor_name_on_a_plain_expression(e):
    for name in ("shape", "T", "mean", "sum", "reshape", "softmax", "ndim", "size", "to", "amax"):
        if isinstance(e, sp.MatrixExpr) and name in ("shape", "T"):
            continue                                      # a matrix's own
        assert not hasattr(e, name), name
        with pytest.raises(AttributeError) as err:
            getattr(e, name)
        # Python's own message and fields, as without symgrad
        assert str(err.value) == f"'{type(e).__name__}' object has no attribute '{name}'"
        assert err.value.name == name and err.value.obj is e
    assert not hasattr(type(e), "mean") and not hasattr(sp.Expr, "shape")


def test_a_private_name_missing_reads_as_python_s():
    """The first hook raised a bare AttributeError('_foo') for any missing private name."""
    with pytest.raises(AttributeError, match=r"^'Symbol' object has no attribute '_foo'$"):
        a._foo  # noqa: B018


def test_dir_of_a_plain_expression_lists_no_tensor_method():
    assert "mean" not in dir(a) and "shape" not in dir(sp.tanh(a)) and "subs" in dir(a)
    x = sg.tensor("x", (2, 3))
    assert {"mean", "shape", "subs"} <= set(dir(sp.tanh(x)))


def test_transpose_of_plain_symbols_and_matrices_is_sympy_s():
    z = sp.Symbol("z")                                    # complex: its transpose is itself
    assert z.transpose() == sympy_transpose(z) == z
    W = sp.MatrixSymbol("W", 2, 3)
    assert W.transpose() == W.T and W.transpose().shape == (3, 2)
    assert (W * sp.MatrixSymbol("V", 3, 2)).transpose() == sp.MatrixSymbol("V", 3, 2).T * W.T
    assert sp.Matrix([[1, 2, 3]]).transpose().shape == (3, 1)
    with pytest.raises(TypeError):                       # SymPy's scalar transpose takes no axes
        sp.tanh(a).transpose(1, 0)


def test_expand_of_plain_sympy_is_sympy_s():
    e = a * (b + sp.exp(a * (b + 1)))
    assert e.expand(deep=False) == a * b + a * sp.exp(a * (b + 1))
    assert e.expand(False) == a * b + a * sp.exp(a * (b + 1))           # deep=False, positional
    assert e.expand() == a * b + a * sp.exp(a * b) * sp.exp(a)
    assert sp.expand(e, deep=False, mul=True) == sp.expand_mul(e, deep=False)
    assert ((a + 1) ** 2).expand(modulus=2) == a**2 + 1
    assert sp.Matrix([[a * (b + 1), (a + 1) ** 2]]).expand() == sp.Matrix([[a * b + a, a**2 + 2 * a + 1]])
    # help(), the signature and the docstring are SymPy's
    assert "deep" in inspect.signature(sp.Expr.expand).parameters
    assert "Expand an expression using hints" in sp.Expr.expand.__doc__


def test_pickling_and_lambdify_of_plain_sympy():
    for e in PLAIN + [sp.Function("f")(a) + sp.sin(b)]:
        assert pickle.loads(pickle.dumps(e)) == e
    f = sp.lambdify((a, b), sp.tanh(a) + sp.Max(a, b) ** 2 + sp.exp(a * b), "numpy")
    assert f(0.5, -1.0) == pytest.approx(np.tanh(0.5) + 0.25 + np.exp(-0.5), rel=1e-15)
    M = sp.Matrix([[a, b], [b, a]])
    np.testing.assert_array_equal(sp.lambdify((a, b), M.T * M)(1.0, 2.0), [[5.0, 4.0], [4.0, 5.0]])


def test_a_property_s_own_attribute_error_is_not_swallowed():
    """A property raising AttributeError keeps its message (the first hook ran it a second time)."""
    x = sg.tensor("x", (2, 3))
    with pytest.raises(AttributeError, match=r"only a max or min over an axis has torch's \.values"):
        x.sum(axis=1).values  # noqa: B018
