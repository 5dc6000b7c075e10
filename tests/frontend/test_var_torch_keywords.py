"""torch's var / std keywords (eleventh session). ``x.std(-1, keepdim=True)`` named ``keepdims`` and
no more: renamed, it silently gave NumPy's biased estimate where torch's is unbiased. Now torch's
``keepdim=`` without a correction says so, as ``dim=`` did; with the correction explicit
(``unbiased=``, ``correction=``), torch's names are taken — LayerNorm by hand as torch code writes it,
checked against torch.autograd."""
import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)


def test_keepdim_without_a_correction_warns_of_the_default():
    x = sg.tensor("x", (3, 4))
    with pytest.raises(sg.ArgumentError, match=r"Mind the default.*std\(axis=-1, keepdims=True, correction=1\)"):
        x.std(-1, keepdim=True)
    with pytest.raises(sg.ArgumentError, match=r"Mind the default"):
        sg.var(x, dim=0, keepdim=True)


def test_layer_norm_by_hand_with_torchs_keywords_is_torchs():
    x, g = sg.tensor("x", (N, 5)), sg.tensor("g", (5,))
    mu = x.mean(-1, keepdim=True)
    y = (x - mu) / sp.sqrt(x.var(-1, keepdim=True, unbiased=False) + 1e-5) * g
    z = (x - mu) / x.std(dim=-1, keepdim=True, correction=1)       # torch's default estimate, said
    loss = (y * z).sum() / N
    rng = np.random.default_rng(0)
    xv, gv = rng.normal(size=(4, 5)), rng.normal(size=5)
    prog = sg.compile(loss, [g], [x], dtype="float64")
    xt, gt = torch.tensor(xv), torch.tensor(gv, requires_grad=True)
    mt = xt.mean(-1, keepdim=True)
    yt = (xt - mt) / torch.sqrt(xt.var(-1, keepdim=True, unbiased=False) + 1e-5) * gt
    want = (yt * (xt - mt) / xt.std(dim=-1, keepdim=True)).sum() / 4
    want.backward()
    assert prog.loss({"g": gv}, {"x": xv}) == pytest.approx(want.item(), rel=1e-12)
    np.testing.assert_allclose(prog.grad({"g": gv}, {"x": xv})["g"], gt.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("call, message", [
    (lambda x: x.var(0, dim=1, unbiased=True), "one setting"),
    (lambda x: x.var(0, unbiased=True, correction=1), "one setting"),
    (lambda x: x.std(0, unbiased=1), "True or False"),
])
def test_conflicting_or_bad_torch_keywords(call, message):
    with pytest.raises(sg.ArgumentError, match=message):
        call(sg.tensor("x", (3, 4)))
