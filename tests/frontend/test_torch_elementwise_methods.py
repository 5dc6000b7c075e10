"""torch's elementwise Tensor methods a loss uses (eleventh session): ``x.lgamma()`` and
``x.digamma()`` (a Poisson or Beta likelihood), ``x.xlogy(y)`` and ``x.logaddexp(y)`` (KL terms,
log-mixtures), ``x.log2()`` (entropy in bits), ``x.logit()``, the hyperbolic and inverse trigonometric
ones, and ``(x > 0).float()``, the mask of a comparison — each was an AttributeError. Values and
gradients against torch.autograd."""
import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg

RNG = np.random.default_rng(3)
XV, YV = RNG.uniform(0.2, 0.8, size=(3, 4)), RNG.uniform(0.5, 3.0, size=(3, 4))
WV = RNG.normal(size=(3, 4))

CASES = {
    "lgamma": lambda x, y: (x * 3).lgamma(),
    "digamma": lambda x, y: (x + 1).digamma(),
    "log2": lambda x, y: x.log2(),
    "log10": lambda x, y: x.log10(),
    "exp2": lambda x, y: x.exp2(),
    "logit": lambda x, y: x.logit(),
    "logit eps": lambda x, y: x.logit(eps=0.3),
    "tan": lambda x, y: x.tan(),
    "atan": lambda x, y: x.atan(),
    "sinh": lambda x, y: x.sinh(),
    "cosh": lambda x, y: x.cosh(),
    "asinh": lambda x, y: x.asinh(),
    "arctan": lambda x, y: x.arctan(),       # torch's aliases, the same method
    "arcsinh": lambda x, y: x.arcsinh(),
    "sin": lambda x, y: x.sin(),
    "cos": lambda x, y: x.cos(),
    "erf": lambda x, y: x.erf(),
    "log1p": lambda x, y: x.log1p(),
    "expm1": lambda x, y: x.expm1(),
    "xlogy": lambda x, y: x.xlogy(y),
    "xlogy broadcast": lambda x, y: x.xlogy(y[0]),
    "logaddexp": lambda x, y: x.logaddexp(y * 300),
    "logaddexp broadcast": lambda x, y: x.logaddexp(y[:, :1]),
    "mask float": lambda x, y: (x > 0.5).float() * y + (y < 1).double(),
}


@pytest.mark.parametrize("name", list(CASES))
def test_value_and_gradient_are_torchs(name):
    f = CASES[name]
    x, y, w = sg.tensor("x", (3, 4)), sg.tensor("y", (3, 4)), sg.tensor("w", (3, 4))
    e = f(x, y)
    xt, yt = torch.tensor(XV, requires_grad=True), torch.tensor(YV, requires_grad=True)
    want = f(xt, yt)
    (want * torch.tensor(WV)).sum().backward()
    at = {x: XV, y: YV, w: WV}
    np.testing.assert_allclose(np.asarray(sg.numeric(e, at), dtype=float), want.detach().numpy(), rtol=1e-12)
    gx, gy = sg.grad((e * w).sum(), [x, y])
    # torch's trigamma (digamma's derivative) is within ~6e-10 of mpmath's; symgrad's (SciPy's) within 1e-15
    rtol = 2e-9 if name == "digamma" else 1e-10
    want_gx = xt.grad.numpy() if xt.grad is not None else np.zeros_like(XV)      # a mask: no gradient
    np.testing.assert_allclose(np.asarray(sg.numeric(gx, at), dtype=float), want_gx, rtol=rtol, atol=1e-14)
    want_gy = yt.grad.numpy() if yt.grad is not None else np.zeros_like(YV)
    np.testing.assert_allclose(np.asarray(sg.numeric(gy, at), dtype=float), want_gy, rtol=1e-10, atol=1e-14)


def test_logaddexp_of_two_minus_infinities_is_minus_inf_as_torch():
    x, y = sg.tensor("x", (2,)), sg.tensor("y", (2,))
    v = np.array([-np.inf, 1000.0])
    got = np.asarray(sg.numeric(x.logaddexp(y), {x: v, y: v}), dtype=float)
    np.testing.assert_array_equal(got, torch.tensor(v).logaddexp(torch.tensor(v)).numpy())


def test_compiled_poisson_style_loss_with_lgamma_and_xlogy():
    N = sp.Symbol("N", integer=True, positive=True)
    x, k, w = sg.tensor("x", (N, 4)), sg.tensor("k", (N,)), sg.tensor("w", (4,))
    rate = (x @ w).exp()
    loss = (rate - k.xlogy(rate) + (k + 1).lgamma()).mean()
    xv, kv, wv = RNG.normal(size=(5, 4)) * 0.3, np.array([0.0, 1.0, 2.0, 0.0, 5.0]), RNG.normal(size=4)
    prog = sg.compile(loss, [w], [x, k], dtype="float64")
    wt = torch.tensor(wv, requires_grad=True)
    rt = (torch.tensor(xv) @ wt).exp()
    kt = torch.tensor(kv)
    want = (rt - kt.xlogy(rt) + (kt + 1).lgamma()).mean()
    want.backward()
    assert prog.loss({"w": wv}, {"x": xv, "k": kv}) == pytest.approx(want.item(), rel=1e-12)
    np.testing.assert_allclose(prog.grad({"w": wv}, {"x": xv, "k": kv})["w"], wt.grad.numpy(), rtol=1e-11)


def test_a_comparison_of_scalars_keeps_sympys_attributes():
    a = sp.Symbol("a")
    with pytest.raises(AttributeError, match="has no attribute 'float'"):
        (a > 0).float()
    assert not hasattr(a > 0, "double")


def test_bool_and_logical_not_masks_are_torchs():
    """torch's padding masks: ``s.masked_fill(mask.bool(), v)``, ``mask.logical_not()``,
    ``(s > 3).bool()`` — mask.bool() was an AttributeError."""
    N = sp.Symbol("N", integer=True, positive=True)
    s, m = sg.tensor("s", (N, 4)), sg.tensor("m", (N, 4), integer=True)
    sv, mv = np.arange(8.0).reshape(2, 4), np.array([[1, 0, 1, 0], [0, 0, 1, 1]])
    st, mt = torch.tensor(sv), torch.tensor(mv)
    pairs = [(s.masked_fill(m.bool(), -1.0), st.masked_fill(mt.bool(), -1.0)),
             (s.masked_fill(m.logical_not(), -1.0), st.masked_fill(mt.logical_not(), -1.0)),
             (s.masked_fill((s > 3).logical_not(), -1.0), st.masked_fill((st > 3).logical_not(), -1.0)),
             (sg.where((s > 3).bool(), s, 0.0), torch.where((st > 3).bool(), st, 0.0)),
             (m.bool().float() * s, mt.bool().float() * st)]
    for ours, theirs in pairs:
        np.testing.assert_array_equal(np.asarray(sg.numeric(ours, {s: sv, m: mv}), dtype=float), theirs.numpy())
