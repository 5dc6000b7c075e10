"""wrt given as a name (as at= and assumptions= take them) is refused saying to pass the symbol,
and the symbol it names then works — for sg.grad and for sg.check of text."""
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
