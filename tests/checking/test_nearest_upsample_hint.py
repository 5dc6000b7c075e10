"""A nearest-neighbour upsampling's backward (sg.interpolate, torch's F.interpolate mode="nearest")
that reads one entry of each block, or sums the block along one spatial axis only, where each
entry's gradient is the sum over its whole block — named, in 2-D and 1-D, alone and behind a tanh.
The right backward is compared with torch.autograd first."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg

from verdicts import N, wrong


def upsample2d_backward(dout, x, slip=None, act=False):
    n, c, h, w = x.shape
    up = np.repeat(np.repeat(x, 2, axis=2), 2, axis=3)
    G = dout * (1 - np.tanh(up) ** 2) if act else dout
    if slip == "one entry":
        return G[:, :, ::2, ::2]
    if slip == "one axis":
        return G.reshape(n, c, h, 2, w, 2).sum(axis=3)[:, :, :, :, 0]
    return G.reshape(n, c, h, 2, w, 2).sum(axis=(3, 5))


def test_the_right_backward_is_torchs():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, dout = rng.normal(size=(2, 3, 3, 4)), rng.normal(size=(2, 3, 6, 8))
    t = torch.tensor(x, requires_grad=True)
    torch.nn.functional.interpolate(t, scale_factor=2, mode="nearest").backward(torch.tensor(dout))
    assert np.allclose(t.grad.numpy(), upsample2d_backward(dout, x))


@pytest.mark.parametrize("act", [False, True], ids=["alone", "behind tanh"])
def test_2d_slips_are_named(act):
    x = sg.tensor("x", (N, 2, 3, 4))
    up = sg.interpolate(x, scale_factor=2)
    out = sp.tanh(up) if act else up
    assert sg.check_backward(out, [x], lambda dout, x: upsample2d_backward(dout, x, act=act)).verdict == "equal"
    r = wrong(sg.check_backward(out, [x], lambda dout, x: upsample2d_backward(dout, x, "one entry", act)),
              "nearest upsampling's backward reads one entry of each block: the claim is G[:, :, 0::2, 0::2]")
    assert "dx = G.reshape(N, C, S1, 2, S2, 2).sum(axis=(3, 5))" in r.hint, r.hint
    wrong(sg.check_backward(out, [x], lambda dout, x: upsample2d_backward(dout, x, "one axis", act)),
          "nearest upsampling's backward sums each block along spatial axis 1 only")


def test_1d_reads_another_offset():
    x = sg.tensor("x", (N, 2, 5))
    out = sg.interpolate(x, scale_factor=3)
    assert sg.check_backward(out, [x], lambda dout, x: dout.reshape(x.shape[0], 2, 5, 3).sum(axis=3))
    r = wrong(sg.check_backward(out, [x], lambda dout, x: dout[:, :, 1::3]),
              "nearest upsampling's backward reads one entry of each block: the claim is G[:, :, 1::3]")
    assert ".sum(axis=3)" in r.hint
