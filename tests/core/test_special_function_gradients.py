"""sg.grad of the special functions a probabilistic loss uses (erfc, loggamma, gamma, digamma) is
SymPy's derivative — erfc′ = −2/√π·exp(−x²), loggamma′ = ψ, ψ′ = ψ₁ — and the central finite
difference of the function in float64 (mpmath evaluates)."""
import pytest
import sympy as sp

import symgrad as sg

x = sp.Symbol("x", positive=True)


@pytest.mark.parametrize("f,expected", [
    (sp.erfc(x), -2 / sp.sqrt(sp.pi) * sp.exp(-x**2)),
    (sp.loggamma(x), sp.polygamma(0, x)),
    (sp.gamma(x), sp.gamma(x) * sp.polygamma(0, x)),
    (sp.digamma(x), sp.polygamma(1, x)),
    (sp.loggamma(x**2 + 1) * sp.erfc(x), None),
], ids=["erfc", "loggamma", "gamma", "digamma", "product"])
def test_grad_is_the_derivative(f, expected):
    g = sg.grad(f, x)
    assert sp.simplify(g - sp.diff(f, x)) == 0
    if expected is not None:
        assert sp.simplify(g - expected) == 0
    for x0 in (0.3, 1.7, 4.0):
        h = 1e-6
        fd = (float(f.subs(x, x0 + h).evalf(30)) - float(f.subs(x, x0 - h).evalf(30))) / (2 * h)
        assert abs(float(g.subs(x, x0).evalf(30)) - fd) <= 1e-7 * max(1.0, abs(fd))
