"""What both printers share (codegen/printers/table.py): a function SymPy's base printer knows but the
target cannot run is a compile-time error naming it — never ``math.erfc(v3)`` in generated code —
while the table's forms and the target's own functions still print."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from codegen.printers.numpy_printer import NumpyPrinter
from codegen.printers.triton_printer import TritonPrinter

x = sp.Symbol("v3")


@pytest.mark.parametrize("printer", [NumpyPrinter, TritonPrinter], ids=["numpy", "triton"])
@pytest.mark.parametrize("f", [sp.erfc, sp.gamma, sp.loggamma])   # (erf has a form: sg.erf, gelu)
def test_functions_the_target_lacks_are_errors(printer, f):
    with pytest.raises(sg.UnsupportedError, match=f"no form for {f.__name__}"):
        printer().doprint(f(x))


@pytest.mark.parametrize("f", [sp.floor, sp.atan, sp.cosh])
def test_triton_refuses_what_sympy_would_print_with_math(f):
    with pytest.raises(sg.UnsupportedError, match="Triton printer has no form"):
        TritonPrinter().doprint(f(x))
    assert NumpyPrinter().doprint(f(x)).startswith("numpy.")      # NumPy has these


def test_compile_names_the_unsupported_function():
    w, u = sp.symbols("w u")
    with pytest.raises(sg.UnsupportedError, match="erfc"):
        sg.compile(sp.erfc(w * u) ** 2, [w], [u])
    prog = sg.compile(sp.tanh(w * u) ** 2, [w], [u], dtype="float64")   # NumPy's own function
    assert prog.loss({"w": 0.5}, {"u": [1.0, 2.0]}) == pytest.approx(np.mean(np.tanh([0.5, 1.0]) ** 2))
