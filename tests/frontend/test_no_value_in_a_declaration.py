"""torch code's loss.item(), float(loss) and math.exp(x) inside a declaration (2026-12-01, twelfth
session): an ArgumentError (also a TypeError, as Python's) that says a declaration has no value
and where values come from; they were an AttributeError ('Reduce' object has no attribute 'item')
and SymPy's "Cannot convert expression to float"."""
from __future__ import annotations

import math

import pytest
import sympy as sp

import symgrad as sg


@pytest.mark.parametrize("how,call", [
    (".item()", lambda f: f.item()),
    ("float()", float),
    ("float()", math.exp),
])
def test_a_value_of_a_declaration_is_named(how, call):
    x = sg.tensor("x", (3, 4))
    with pytest.raises(sg.ArgumentError, match=rf"{how.replace('(', '[(]').replace(')', '[)]')} of \(x\*\*2\)\.sum\(\): a "
                                               r"declaration is symbolic.*sg\.numeric\(f, values\)") as info:
        call((x ** 2).sum())
    assert isinstance(info.value, TypeError)


def test_sympy_scalars_convert_as_before():
    assert float(sp.Float(2.5)) == 2.5 and math.exp(sp.Integer(0)) == 1.0
    assert not hasattr(sp.Symbol("a"), "item")
    with pytest.raises(TypeError, match="Cannot convert expression to float"):
        float(sp.Symbol("a"))
