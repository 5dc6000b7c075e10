"""A positive constant in a Triton kernel prints as one float literal, without the parentheses
SymPy gives p/q (2026-12-01: ``(0.0078125)*v3 + 1e-05``), as the NumPy printer does; negative
constants keep theirs. The kernel's ``ast`` is the one of the old spelling, and the value is SymPy's."""
import ast
import math
import types

import pytest
import sympy as sp

from codegen.printers.triton_printer import TritonPrinter

v, w = sp.symbols("v3 v4")
# the functions these prints use, as Python's math (tl's are elementwise forms of the same)
TL = types.SimpleNamespace(exp=math.exp, log=math.log, sqrt=math.sqrt, abs=abs, erf=math.erf,
                           where=lambda c, a, b: a if c else b)


@pytest.mark.parametrize("expr, printed, before", [
    (sp.Rational(1, 128) * v + sp.Float(1e-5), "0.0078125*v3 + 1e-05", "(0.0078125)*v3 + 1e-05"),
    (sp.Rational(1, 64) * v / w, "0.015625*v3/v4", "(0.015625)*v3/v4"),
    (v ** sp.Rational(1, 3), "tl.exp(0.3333333333333333*tl.log(v3))", "tl.exp((0.3333333333333333)*tl.log(v3))"),
    (v ** sp.Rational(-1, 3), "tl.exp((-0.3333333333333333)*tl.log(v3))", "tl.exp((-0.3333333333333333)*tl.log(v3))"),
    (-sp.Rational(1, 2) * v, "-0.5*v3", "-0.5*v3"),
    (sp.Rational(1, 2) * sp.erf(sp.Rational(1, 2) * sp.sqrt(2) * v) + sp.Rational(1, 2),
     "0.5*tl.erf(0.5*1.4142135623730951*v3) + 0.5", "(0.5)*tl.erf((0.5)*1.4142135623730951*v3) + 0.5"),
])
def test_positive_rationals_print_as_plain_float_literals(expr, printed, before):
    got = TritonPrinter().doprint(expr)
    assert got == printed
    assert ast.dump(ast.parse(got)) == ast.dump(ast.parse(before))   # the same kernel
    at = {v: 1.7, w: 0.3}
    assert eval(got, {"tl": TL, "v3": 1.7, "v4": 0.3}) == pytest.approx(float(expr.subs(at)), rel=1e-15)
