"""An elementwise product layer out = x * w whose backward multiplies dout by the variable's own value
(dx = dout * x where dout * w belongs). With w broadcast along the batch it read as a bare "not equal";
with x and w of one shape, as "another variable's gradient ... a line copied", which is the same numbers
but not the line the student wrote. The right backward is torch's."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import symgrad as sg

from verdicts import N, wrong


def product_backward(dout, x, w, slip=None):
    dx = dout * (x if slip == "dx" else w)
    dw = dout * x
    if w.ndim == 1:
        dw = dw.sum(axis=0)                  # w (D,) broadcast along the batch
    return dx, dw


@pytest.mark.parametrize("wshape", [(N, 3), (3,)], ids=["same shape", "broadcast"])
def test_the_right_backward_is_torchs_and_dx_from_x_is_named(wshape):
    rng = np.random.default_rng(9)
    xa, wa, da = rng.normal(size=(5, 3)), rng.normal(size=(5, 3) if len(wshape) == 2 else (3,)), rng.normal(size=(5, 3))
    xt, wt = torch.tensor(xa, requires_grad=True), torch.tensor(wa, requires_grad=True)
    (xt * wt).backward(torch.tensor(da))
    for got, t in zip(product_backward(da, xa, wa), (xt, wt)):
        np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-12)
    x, w = sg.tensor("x", (N, 3)), sg.tensor("w", wshape)
    assert sg.check_backward(x * w, [x, w], product_backward).verdict == "equal"
    r = wrong(sg.check_backward(x * w, [x, w], lambda *a, **k: product_backward(*a, **k, slip="dx")),
              "the variable's own value where the other factor belongs: the claim for x is dout * x")
    assert "dx = dout * w" in r.hint and r.counterexample.param == "x"
    assert ("a line copied from dw's" in r.hint) == (len(wshape) == 2)


def test_the_gradients_swapped_keep_their_own_hint():
    x, w = sg.tensor("x", (N, 3)), sg.tensor("w", (N, 3))
    wrong(sg.check_backward(x * w, [x, w], lambda dout, x, w: (dout * x, dout * w)), "gradients swapped")


def test_a_sigmoid_gate_product_with_dx_from_x_is_named():
    """out = x * σ(g): dx = dout * x where dout * σ(g) belongs."""
    x, g = sg.tensor("x", (N, 3)), sg.tensor("g", (N, 3))
    s = lambda a: 1 / (1 + np.exp(-a))        # noqa: E731
    assert sg.check_backward(x * sg.sigmoid(g), [x, g],
                             lambda dout, x, g: (dout * s(g), dout * x * s(g) * (1 - s(g)))).verdict == "equal"
    r = wrong(sg.check_backward(x * sg.sigmoid(g), [x, g],
                                lambda dout, x, g: (dout * x, dout * x * s(g) * (1 - s(g)))),
              "the variable's own value where the other factor belongs: the claim for x is dout * x")
    assert "other factor (sigmoid(g))" in r.hint or "other factor sigmoid(g)" in r.hint, r.hint


@pytest.mark.parametrize("scale", [2, 0.5])
def test_a_scaled_product_layers_own_operand_is_named(scale):
    """out = 2 * x * w (a product layer with a constant): check_backward's f holds 2·x·w·dout, a
    product with a number, which the hint skipped (bare "not equal"). It now reads the outputs
    check_backward made f of, and keeps the constant with the other factor."""
    x, w = sg.tensor("x", (N, 3)), sg.tensor("w", (3,))

    def backward(dout, x, w):
        return dout * scale * x, (dout * scale * x).sum(axis=0)      # dx from x itself: the slip
    right = sg.check_backward(scale * x * w, [x, w], lambda dout, x, w: (dout * scale * w, (dout * scale * x).sum(0)))
    assert right.verdict == "equal"
    r = wrong(sg.check_backward(scale * x * w, [x, w], backward),
              f"the variable's own value where the other factor belongs: the claim for x is dout * {scale:g} * x")
    assert f"dx = dout * {scale:g} * w" in r.hint, r.hint
