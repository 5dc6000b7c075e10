"""sg.grad of the special functions a probabilistic loss uses (erfc, loggamma, gamma, digamma) is
SymPy's derivative — erfc′ = −2/√π·exp(−x²), loggamma′ = ψ, ψ′ = ψ₁ — and the central finite
difference of the function in float64 (mpmath evaluates)."""
import mpmath
import numpy as np
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


@pytest.mark.parametrize("f,ref", [
    (sp.digamma, mpmath.digamma),
    (lambda t: sp.polygamma(1, t), lambda t: mpmath.polygamma(1, t)),
    (sp.LambertW, mpmath.lambertw),
    (sp.zeta, mpmath.zeta),
    (sp.loggamma, mpmath.loggamma),
], ids=["digamma", "trigamma", "LambertW", "zeta", "loggamma"])
def test_numeric_evaluates_functions_numpy_has_no_name_for(f, ref):
    # polygamma, LambertW and zeta were a NameError in sg.numeric (and so in every numeric check of
    # a Dirichlet KL's or a loggamma's gradient): lambdify's NumPy namespace has no such names
    t, z = sp.Symbol("t"), sg.tensor("z", (2, 2))
    at = np.array([[0.5, 1.5], [2.5, 7.0]])
    assert abs(sg.numeric(f(t), {t: 2.5}) - float(mpmath.re(ref(2.5)))) < 1e-13
    np.testing.assert_allclose(sg.numeric(f(z).sum(), {z: at}), sum(float(mpmath.re(ref(v))) for v in at.ravel()),
                               rtol=1e-13)


def test_numeric_at_a_pole_is_nan_not_an_exception():
    t = sp.Symbol("t")
    for f in (sp.digamma(t), sp.polygamma(1, t), sp.loggamma(t), sp.gamma(t)):
        assert np.isnan(sg.numeric(f, {t: -1.0})), f
        assert np.isnan(sg.numeric(f, {t: 0.0})) or np.isinf(sg.numeric(f, {t: 0.0})), f


def test_check_a_hand_derived_gradient_through_loggamma():
    t = sp.Symbol("t")
    assert sg.check(sp.loggamma(t**2 + 1), t, 2 * t * sp.digamma(t**2 + 1))
    assert not sg.check(sp.loggamma(t**2 + 1), t, t * sp.digamma(t**2 + 1))
