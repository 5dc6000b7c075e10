"""Special functions in the generated NumPy module (codegen/numpy_special.py): erfc, loggamma, gamma,
digamma = polygamma(0, ·) and trigamma = polygamma(1, ·) are helpers of the module (SciPy's when it
imports, NumPy/math fallbacks otherwise); a function the printer has no form for is symgrad's
UnsupportedError naming it, never SymPy's PrintMethodNotImplementedError."""
import math

import mpmath
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from codegen import numpy_special
from symgrad.errors import UnsupportedError
from tests.codegen.generated_module import load_generated

torch = pytest.importorskip("torch")
N = sp.Symbol("N", integer=True, positive=True)


def _program(f):
    z, a = sg.tensor("z", (N, 3)), sg.tensor("a", (3,))
    return sg.compile((f(z * a)).sum(axis=1).mean(), [a], [z], dtype="float64")


def _load(source, scipy):
    return load_generated(source, scipy, "from scipy import special as _scipy_special", "_scipy_special")


CASES = [  # SymPy's function, torch's, the range of z·a
    (sp.erfc, torch.special.erfc, (-3.0, 9.0)),
    (sp.loggamma, torch.lgamma, (0.05, 40.0)),
    (sp.gamma, torch.special.gamma if hasattr(torch.special, "gamma") else (lambda t: torch.exp(torch.lgamma(t))), (0.1, 8.0)),
    (sp.digamma, torch.special.digamma, (0.05, 40.0)),
]


@pytest.mark.parametrize("scipy", [True, False], ids=["scipy", "numpy_only"])
@pytest.mark.parametrize("f,tf,span", CASES, ids=[c[0].__name__ for c in CASES])
def test_loss_and_gradient_equal_torch_autograd(f, tf, span, scipy):
    prog = _program(f)
    ns = _load(prog.source, scipy)
    rng = np.random.default_rng(1)
    a = np.array([1.0, 0.5, 2.0])
    Z = rng.uniform(*span, size=(5, 3)) / a
    loss, (ga,) = ns["grad"]([a], [Z])
    at = torch.tensor(a, requires_grad=True)
    lt = tf(torch.tensor(Z) * at).sum(axis=1).mean()
    lt.backward()
    assert abs(loss - lt.item()) <= 1e-13 * max(1.0, abs(lt.item()))
    # torch's trigamma (digamma's derivative) is within ~1e-10 only (0.7932328305 for ψ₁(1.7) =
    # 0.7932328301639984): digamma's gradient is held to mpmath's ψ₁ as well, to 1e-13
    np.testing.assert_allclose(ga, at.grad.numpy(), rtol=1e-9 if f is sp.digamma else 1e-12, atol=1e-300)
    if f is sp.digamma:
        mp = [float(sum(mpmath.polygamma(1, Z[i, j] * a[j]) * Z[i, j] for i in range(5)) / 5) for j in range(3)]
        np.testing.assert_allclose(ga, mp, rtol=1e-13)


def test_erfc_keeps_its_precision_in_the_tail():
    # 1 − erf(x) is 0 from x ≈ 5.9 on; erfc(10) = 2.088e-45, erfc(26) = 5.7e-296
    prog = _program(sp.erfc)
    for scipy in (True, False):
        ns = _load(prog.source, scipy)
        x = np.array([6.0, 10.0, 26.0, -4.0])
        np.testing.assert_allclose(ns["erfc"](x), [math.erfc(t) for t in x], rtol=1e-14)
        assert ns["erfc"](x.astype(np.float32)).dtype == np.float32


def test_the_fallback_series_of_digamma_and_trigamma_against_mpmath():
    ns = _load(_program(sp.digamma).source, scipy=False)
    rng = np.random.default_rng(2)
    x = np.concatenate([rng.uniform(0.01, 20, 300), rng.uniform(-30, 0, 300), np.geomspace(20, 1e12, 30),
                        [1e-8, 0.5, 1.0, 2.0, 9.99, 10.0, -0.5, -2.5]])
    psi = np.array([float(mpmath.digamma(t)) for t in x])
    psi1 = np.array([float(mpmath.polygamma(1, t)) for t in x])
    # relative, away from ψ's zeros (1.4616..., one between each two poles), where any series
    # loses its relative digits (SciPy's digamma is within 1.5e-13 here, the series 4e-14)
    far = np.abs(psi) > 1e-2
    np.testing.assert_allclose(ns["_digamma_series"](x)[far], psi[far], rtol=1e-13)
    np.testing.assert_allclose(ns["_digamma_series"](x)[~far], psi[~far], atol=1e-15)
    np.testing.assert_allclose(ns["_trigamma_series"](x), psi1, rtol=1e-14)
    with np.errstate(all="ignore"):
        poles = np.array([0.0, -1.0, -7.0])
        psi_poles = ns["_digamma_series"](poles)      # ψ(0) = −inf as SciPy's and torch's; NaN at −1, −2, ...
        assert np.isneginf(psi_poles[0]) and np.isnan(psi_poles[1:]).all()
        assert np.isposinf(ns["_trigamma_series"](poles)).all()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_fallbacks_equal_scipy_at_poles_and_edges_without_a_warning(dtype):
    # a module gives the same values with SciPy or without it: at the poles (ψ(±0) = ∓inf as SciPy's
    # and torch's, NaN at −1, −2, ...), ±inf, NaN, tiny arguments (π/sin(πx) past the largest
    # double: ψ₁ = inf) and where Γ passes float32's largest (x ≈ 35)
    special = pytest.importorskip("scipy.special")
    ns = _load("\n".join(["import math", "import numpy", "DTYPE = numpy.float64"]
                         + numpy_special.shared_lines(numpy_special.SPECIAL_HELPERS)
                         + sum(([*h, "", ""] for h in numpy_special.SPECIAL_HELPERS.values()), [])), scipy=False)
    x = np.array([0.0, -0.0, -1.0, -7.0, 1e-300, -1e-300, 36.0, 200.0, -200.5, np.inf, -np.inf, np.nan, 0.5, -2.5],
                 dtype=dtype)
    oracle = {"erfc": special.erfc, "loggamma": special.gammaln, "gamma": special.gamma,
              "digamma": special.digamma, "trigamma": lambda t: special.polygamma(1, t)}
    for name, f in oracle.items():
        with np.errstate(divide="raise", over="raise", invalid="raise"):     # (underflow: NumPy's default)
            got = ns[name](x)
        with np.errstate(over="ignore"):                    # (float64 Γ(36) cast to float32: inf)
            want = f(x.astype(np.float64)).astype(dtype)
        if name == "loggamma":      # log |Γ(−inf)|: SciPy's −inf, math.lgamma's and torch.lgamma's +inf
            got, want = got[x != -np.inf], want[x != -np.inf]
        assert got.dtype == dtype, name
        np.testing.assert_allclose(got, want, rtol=1e-6 if dtype == np.float32 else 1e-13, err_msg=name)
        assert (np.signbit(got) == np.signbit(want))[np.isinf(want)].all(), name


def test_the_fallbacks_of_loggamma_and_gamma_are_math_at_the_poles_too():
    ns = _load(_program(sp.gamma).source + "\n" + _program(sp.loggamma).source.split("def loss", 1)[0],
               scipy=False)
    x = np.array([0.5, 3.0, -2.5, 200.0, 0.0, -3.0])
    lg = ns["loggamma"](x)
    np.testing.assert_allclose(lg[:4], [math.lgamma(t) for t in x[:4]], rtol=1e-15)
    assert np.isposinf(lg[4:]).all()
    g = ns["gamma"](x)
    np.testing.assert_allclose(g[:3], [math.gamma(t) for t in x[:3]], rtol=1e-15)
    assert np.isposinf(g[3]) and np.isposinf(g[4]) and np.isnan(g[5])


def test_the_gradient_of_digamma_is_trigamma():
    z, a = sg.tensor("z", (N, 3)), sg.tensor("a", (3,))
    prog = sg.compile(sp.digamma(z * a).sum(axis=1).mean(), [a], [z], dtype="float64")
    assert "trigamma(" in prog.source
    assert "import math" not in prog.source         # (the series need only NumPy; the math-based helpers import it)
    assert "import math" in _program(sp.erfc).source


@pytest.mark.parametrize("f", [sp.LambertW, sp.Si, sp.zeta, lambda x: sp.polygamma(2, x)],
                         ids=["LambertW", "Si", "zeta", "polygamma2"])
def test_a_function_without_a_form_is_symgrads_error_naming_it(f):
    z, w = sg.tensor("z", (N, 3)), sg.tensor("w", (3,))
    with pytest.raises(UnsupportedError) as e:
        sg.compile((f(z) * w).sum(axis=1).mean(), [w], [z])
    name = type(f(sp.Symbol("x"))).__name__
    assert name in str(e.value) and "erfc" in str(e.value) and "loggamma" in str(e.value)


def test_the_error_shows_no_temporary_of_symgrad():
    # the arguments at print time are symgrad's (x0, v12, the schedule's probe `read_here`)
    z, w = sg.tensor("z", (N, 3)), sg.tensor("w", (3,))
    for f in (sp.LambertW, sp.factorial, lambda x: sp.polygamma(2, x)):
        with pytest.raises(UnsupportedError) as e:
            sg.compile((f(z) * w).sum(axis=1).mean(), [w], [z])
        assert "read_here" not in str(e.value) and "x0" not in str(e.value), str(e.value)


def test_poisson_nll_with_the_exact_log_factorial():
    # torch's poisson_nll_loss(full=True) adds Stirling's y·log y − y + ½·log(2πy) where y > 1
    # (0.6518 for log 2! = 0.6931): the exact term is full=False's loss plus lgamma(y + 1)
    x, y, w = sg.tensor("x", (N, 3)), sg.tensor("y", (N,)), sg.tensor("w", (3,))
    eta = x @ w
    prog = sg.compile((sp.exp(eta) - y * eta + sp.loggamma(y + 1)).sum() / N, [w], [x, y], dtype="float64")
    rng = np.random.default_rng(3)
    X, Y, W = rng.normal(size=(7, 3)), rng.integers(0, 12, 7).astype(float), rng.normal(size=3) * 0.3
    loss, gw = prog.loss({"w": W}, {"x": X, "y": Y}), prog.grad({"w": W}, {"x": X, "y": Y})["w"]
    wt = torch.tensor(W, requires_grad=True)
    Xt, Yt = torch.tensor(X), torch.tensor(Y)
    F = torch.nn.functional
    lt = F.poisson_nll_loss(Xt @ wt, Yt, log_input=True, full=False) + torch.lgamma(Yt + 1).mean()
    lt.backward()
    assert abs(loss - lt.item()) < 1e-13 * abs(lt.item())
    np.testing.assert_allclose(gw, wt.grad.numpy(), rtol=1e-12)
    stirling = F.poisson_nll_loss(Xt @ wt, Yt, log_input=True, full=True).item()
    assert abs(loss - stirling) > 1e-3          # torch's full=True is not the exact log y!
