"""Messages about the arguments of sg.grad, sg.check and sg.numeric: wrt given as a name (as at= and
assumptions= take them) is told to pass the symbol; a one-axis shape is written as a tuple."""
import pytest
import sympy as sp

import symgrad as sg


def test_a_name_for_wrt_says_to_pass_the_symbol_and_the_symbol_works():
    f = "0.5*(y - w*x)**2"
    with pytest.raises(sg.WrtError, match=r"not its name: got the str 'w'; pass sp.Symbol\('w'\)"):
        sg.check(f, "w", "-(y - w*x)*x")
    assert str(sg.check(f, sp.Symbol("w"), "-(y - w*x)*x")).startswith("equal")
    x, w = sp.symbols("x w")
    with pytest.raises(sg.WrtError, match="not its name"):
        sg.grad(w * x, "w")
    assert sg.grad(w * x, w) == sp.diff(w * x, w)


def test_a_one_axis_shape_is_written_as_the_tuple_beside_it():
    import numpy as np
    N = sp.Symbol("N", integer=True, positive=True)
    x, y = sg.tensor("x", (N, 3)), sg.tensor("y", (N,))
    with pytest.raises(sg.ShapeError, match=r"has shape \(7,\), expected \(N,\) with N = 8"):
        sg.numeric(sg.sum((x.sum(axis=1) - y) ** 2), {"x": np.zeros((8, 3)), "y": np.zeros(7)})
