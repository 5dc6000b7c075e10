"""The special functions on the Triton target (codegen/triton_special.py): erfc, loggamma, gamma,
digamma = polygamma(0, ·) and trigamma = polygamma(1, ·). Until 2026-12-01 (eleventh session) the
Triton printer refused them ("has no form for loggamma"), so a Poisson NLL with its exact log y!, a
Student-t NLL or a Gaussian tail compiled only for target='numpy'.

The helpers' values are checked against SciPy in float64 (one kernel that applies each to a block of
points, under TRITON_INTERPRET=1 here), and losses that use them against the NumPy target (loss,
gradients, 2 Adam steps) and torch.autograd (torch.lgamma, torch.special.erfc, ...). Small shapes:
the interpreter is slow.
"""
import importlib.util
import textwrap

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import UnsupportedError
from tests.codegen.test_triton_tensors import _numpy, _same_as_numpy

torch = pytest.importorskip("torch")
pytest.importorskip("triton")
special = pytest.importorskip("scipy.special")

N = sp.Symbol("N", integer=True, positive=True)


def _helpers_module(tmp_path, names):
    """A module with the helpers ``names`` (as generated modules get them) and a kernel per helper
    that applies it to a vector."""
    from codegen.triton_special import source
    kernels = "".join(textwrap.dedent(f'''

        @triton.jit
        def apply_{n}(x_ptr, out_ptr, M, BLOCK: tl.constexpr):
            offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
            x = tl.load(x_ptr + offs, mask=offs < M, other=1.0)
            tl.store(out_ptr + offs, {n}(x), mask=offs < M)
        ''') for n in names)
    path = tmp_path / "special_helpers.py"
    path.write_text("import triton\nimport triton.language as tl\n" + source(" ".join(f"{n}(" for n in names)) + kernels)
    spec = importlib.util.spec_from_file_location("special_helpers", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _apply(mod, name, xs):
    x = torch.tensor(xs, dtype=torch.float32)
    out = torch.empty_like(x)
    BLOCK = 256
    getattr(mod, f"apply_{name}")[((len(xs) + BLOCK - 1) // BLOCK,)](x, out, len(xs), BLOCK=BLOCK)
    return out.numpy().astype(np.float64), x.numpy().astype(np.float64)   # (the points as float32 holds them)


POSITIVE = np.concatenate([np.linspace(1e-3, 20, 397), [1e-6, 1e-20, 1.4616321, 1.0, 2.0, 3.5, 7.99, 8.0, 30.0, 1e3, 1e6]])
NEGATIVE = -np.linspace(0.02, 5.98, 149) + 0.005          # between the poles


@pytest.mark.parametrize("name, ref, tol", [
    ("special_lgamma", special.gammaln, 2e-6),
    ("special_digamma", special.digamma, 1e-6),
    ("special_trigamma", lambda x: special.polygamma(1, x), 1e-6),
])
def test_the_gamma_family_is_within_float32_of_scipy(tmp_path, name, ref, tol):
    """Absolute error, relative above 1 (a few float32 ulps of the values the lift adds), on (0, 20],
    tiny and large x, and below 0 by the reflection."""
    mod = _helpers_module(tmp_path, [name])
    xs = np.concatenate([POSITIVE, NEGATIVE])
    if name == "special_trigamma":
        xs = xs[xs > 1e-10]                 # ψ₁(1e-20) = 1e40 is inf in float32, as it should be
    got, x32 = _apply(mod, name, xs)
    want = ref(x32)
    err = np.abs(got - want) / np.maximum(1.0, np.abs(want))
    assert err.max() < tol, (x32[np.argmax(err)], got[np.argmax(err)], want[np.argmax(err)])


@pytest.mark.filterwarnings("ignore:divide by zero")
def test_the_poles_are_torchs(tmp_path):
    """lgamma +inf at 0, −1, −2 (torch.lgamma's); digamma −inf at +0 (torch.digamma's), NaN at the
    negative integers; gamma NaN at the negative integers."""
    mod = _helpers_module(tmp_path, ["special_lgamma", "special_digamma", "special_gamma"])
    poles = [0.0, -1.0, -2.0]
    assert np.all(np.isposinf(_apply(mod, "special_lgamma", poles)[0]))
    psi = _apply(mod, "special_digamma", poles)[0]
    assert np.isneginf(psi[0]) and np.all(np.isnan(psi[1:]))
    assert np.all(np.isnan(_apply(mod, "special_gamma", [-1.0, -3.0])[0]))


def test_gamma_has_the_sign_of_gamma(tmp_path):
    mod = _helpers_module(tmp_path, ["special_gamma"])
    xs = np.array([0.3, 1.0, 4.5, 12.0, 30.0, -0.5, -1.5, -2.5, -3.7])
    got, x32 = _apply(mod, "special_gamma", xs)
    np.testing.assert_allclose(got, special.gamma(x32), rtol=1e-5)


def test_erfc_keeps_its_tail(tmp_path):
    """Within 5e-7 relative on [−4, 9] (erfc down to 4e-37), including x = 4..9 where 1 − erf(x) is 0
    in float32."""
    mod = _helpers_module(tmp_path, ["special_erfc"])
    xs = np.concatenate([np.linspace(-4, 9, 521), [0.9999, 1.0, 1.0001]])
    got, x32 = _apply(mod, "special_erfc", xs)
    want = special.erfc(x32)
    assert np.max(np.abs(got - want) / want) < 5e-7
    assert got[-4] > 0 and np.float32(1) - np.float32(special.erf(np.float32(9))) == 0   # (what 1 − erf gives)


# -- losses -----------------------------------------------------------------------------------------

x, y = sg.tensor("x", (N, 3)), sg.tensor("y", (N,))
w, a = sg.tensor("w", (3,)), sg.tensor("a", ())


def _student_t():
    """A Student-t NLL of y − x·w with a learned log of the degrees of freedom a (ν = e^a): loggamma
    of ν, whose gradient is digamma."""
    nu = sp.exp(a)
    z = y - x @ w
    loss = (-sp.loggamma((nu + 1) / 2) + sp.loggamma(nu / 2) + sp.log(nu * sp.pi) / 2
            + (nu + 1) / 2 * sp.log(1 + z ** 2 / nu)).sum() / N

    def torch_loss(t):
        nu = torch.exp(t["a"])
        z = t["y"] - t["x"] @ t["w"]
        return (-torch.lgamma((nu + 1) / 2) + torch.lgamma(nu / 2) + torch.log(nu * torch.pi) / 2
                + (nu + 1) / 2 * torch.log1p(z ** 2 / nu)).mean()
    return loss, [w, a], torch_loss


def _poisson():
    """A Poisson NLL with the exact log y! = loggamma(y + 1), written as a sum over N divided by N."""
    eta = x @ w
    loss = (sp.exp(eta) - y * eta + sp.loggamma(y + 1)).sum() / N

    def torch_loss(t):
        return (torch.nn.functional.poisson_nll_loss(t["x"] @ t["w"], t["y"], full=False)
                + torch.lgamma(t["y"] + 1).mean())
    return loss, [w], torch_loss


def _probit_tail():
    """−log Φ(−s) = −log(erfc(s/√2)/2) of a score s = x·w − y far in the tail (s up to ~6)."""
    s = x @ w - y
    loss = sg.mean(-sp.log(sp.erfc(s / sp.sqrt(2)) / 2))

    def torch_loss(t):
        s = t["x"] @ t["w"] - t["y"]
        return (-torch.log(torch.special.erfc(s / 2 ** 0.5) / 2)).mean()
    return loss, [w], torch_loss


def _gamma_scaled():
    """gamma of a parameter scaling a layer (its gradient gamma·digamma)."""
    loss = sg.mean((sp.gamma(sp.exp(a)) * (x @ w) - y) ** 2)

    def torch_loss(t):
        return ((torch.exp(torch.lgamma(torch.exp(t["a"]))) * (t["x"] @ t["w"]) - t["y"]) ** 2).mean()
    return loss, [w, a], torch_loss


def _negative_binomial():
    """A negative binomial NLL of counts (scVI's), its dispersion θ and mean μ per example from the
    network: loggamma(y + θ) − loggamma(θ), digamma of a per-example value in the rows kernel."""
    w2 = sg.tensor("w2", (3,))
    th, mu = sg.softplus(x @ w) + 0.1, sp.exp(x @ w2)
    loss = sg.mean(-(sp.loggamma(y + th) - sp.loggamma(th) - sp.loggamma(y + 1) + th * sp.log(th / (th + mu))
                     + y * sp.log(mu / (th + mu))))

    def torch_loss(t):
        th, mu, y_ = torch.nn.functional.softplus(t["x"] @ t["w"]) + 0.1, torch.exp(t["x"] @ t["w2"]), t["y"]
        return -(torch.lgamma(y_ + th) - torch.lgamma(th) - torch.lgamma(y_ + 1) + th * torch.log(th / (th + mu))
                 + y_ * torch.log(mu / (th + mu))).mean()
    return loss, [w, w2], torch_loss


CASES = {"negative binomial": _negative_binomial, "student-t": _student_t, "poisson": _poisson, "probit tail": _probit_tail, "gamma": _gamma_scaled}


def _batch(case, rng):
    X = rng.normal(size=(6, 3)).astype(np.float32)
    if case in ("poisson", "negative binomial"):
        return {"x": X, "y": rng.poisson(2.0, size=6).astype(np.float32)}
    if case == "probit tail":
        return {"x": X, "y": np.array([-6.0, -5.0, -4.0, 0.0, 1.0, -3.0], dtype=np.float32)}
    return {"x": X, "y": rng.normal(size=6).astype(np.float32)}


@pytest.mark.parametrize("case", list(CASES))
def test_a_loss_with_special_functions_equals_numpy_and_torch(case, rng):
    loss, params, torch_loss = CASES[case]()
    tri, ref = [sg.compile(loss, params, [x, y], target=t, optimizer=sg.optim.Adam(lr=0.05))
                for t in ("triton", "numpy")]
    values = {"w": (0.5 * rng.normal(size=3)).astype(np.float32), "a": np.float32(0.4),
              "w2": (0.5 * rng.normal(size=3)).astype(np.float32)}
    values = {p.name: values[p.name] for p in params}
    batch = _batch(case, rng)
    _same_as_numpy(tri, ref, values, batch, steps=2)

    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=k in values) for k, v in {**values, **batch}.items()}
    want = torch_loss(t)
    want.backward()
    assert float(tri.loss(values, batch)) == pytest.approx(want.item(), rel=2e-6, abs=2e-6)
    grads = tri.grad(values, batch)
    for p in params:
        np.testing.assert_allclose(_numpy(grads[p.name]), t[p.name].grad.numpy(), rtol=2e-5, atol=2e-6,
                                   err_msg=p.name)


def test_the_source_calls_the_helpers_it_defines():
    """The module defines the helpers its kernels call, and only those."""
    loss, params, _ = _student_t()
    src = sg.compile(loss, params, [x, y], target="triton").source
    assert "special_lgamma(" in src and "special_digamma(" in src
    assert "def special_lgamma(x):" in src and "def special_digamma(x):" in src and "def special_lift8(x):" in src
    assert "def special_erfc" not in src and "def special_trigamma" not in src


def test_a_higher_polygamma_is_refused_naming_it():
    """digamma's gradient is trigamma (printed); trigamma's is polygamma(2, ·) (not)."""
    with pytest.raises(UnsupportedError, match=r"no form for polygamma\(2, x\).*polygamma\(0, x\) = digamma"):
        sg.compile(sg.mean(sp.polygamma(1, sp.exp(a) * (x @ w) ** 2 + 1)), [w, a], [x], target="triton")
    sg.compile(sg.mean(sp.digamma(sp.exp(a) * (x @ w) ** 2 + 1)), [w, a], [x], target="triton")


def test_a_student_t_head_inside_pytorch_equals_torch():
    """as_torch(): the Student-t NLL as the loss of a torch encoder's features — the loss, every
    parameter's gradient and the features' gradient (digamma and the loss's x-derivative in the
    rows kernel) against torch.lgamma's autograd."""
    loss, params, torch_loss = _student_t()
    head = sg.compile(loss, params, [x, y], target="triton").as_torch()
    gen = torch.Generator().manual_seed(3)
    with torch.no_grad():
        head.w.copy_(0.5 * torch.randn(3, generator=gen))
        head.a.fill_(0.3)
    feats = torch.randn(7, 3, generator=gen, requires_grad=True)
    ys = torch.randn(7, generator=gen)
    got = head.loss(feats, ys)
    t = {"x": feats, "y": ys, "w": head.w, "a": head.a}
    want = torch_loss(t)
    torch.testing.assert_close(got, want, rtol=2e-6, atol=2e-6)
    for g, r in zip(torch.autograd.grad(got, [feats, head.w, head.a]), torch.autograd.grad(want, [feats, head.w, head.a])):
        torch.testing.assert_close(g, r, rtol=2e-5, atol=2e-6)
