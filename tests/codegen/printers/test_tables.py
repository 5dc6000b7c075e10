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


# (erf has a form in both: sg.erf, gelu; both modules have helpers for erfc, gamma, loggamma:
# codegen/numpy_special.py, tests/codegen/test_numpy_special.py; codegen/triton_special.py since
# 2026-12-01, tests/codegen/test_triton_special.py)
@pytest.mark.parametrize("printer,f", [(TritonPrinter, sp.factorial), (TritonPrinter, sp.zeta),
                                       (TritonPrinter, sp.LambertW), (NumpyPrinter, sp.factorial),
                                       (NumpyPrinter, sp.LambertW)],
                         ids=["triton-factorial", "triton-zeta", "triton-LambertW", "numpy-factorial", "numpy-LambertW"])
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
    with pytest.raises(sg.UnsupportedError, match="LambertW"):
        sg.compile(sp.LambertW(w * u) ** 2, [w], [u])
    prog = sg.compile(sp.tanh(w * u) ** 2, [w], [u], dtype="float64")   # NumPy's own function
    assert prog.loss({"w": 0.5}, {"u": [1.0, 2.0]}) == pytest.approx(np.mean(np.tanh([0.5, 1.0]) ** 2))
