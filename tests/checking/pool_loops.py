"""The pooling backwards the checking tests write as students do, in one place: cs231n's
max_pool_backward_naive loop (with the knob each slip turns) and the "the right one is torch's and
symgrad says equal" check every pooling test starts from."""
from __future__ import annotations

import numpy as np
import torch

import symgrad as sg

from verdicts import N


def first_argmax(win):
    """δ's share of each window entry: all of it to np.argmax's (the first) arg-max."""
    share = np.zeros_like(win)
    share[np.unravel_index(np.argmax(win), win.shape)] = 1.0
    return share


def max_pool_backward_loops(dout, x, k=2, s=2, *, read=None, write=None, to=first_argmax, assign=False):
    """cs231n's loops: output (i, j)'s window is read at (i·read, j·read) and its δ, shared as
    ``to(window)`` says, added (``assign``: assigned) to dx at (i·write, j·write). The right loop has
    read = write = s, the first arg-max and +=."""
    read, write = s if read is None else read, s if write is None else write
    dx = np.zeros_like(x)
    n_, c_, ho, wo = dout.shape
    for n in range(n_):
        for c in range(c_):
            for i in range(ho):
                for j in range(wo):
                    win = x[n, c, i * read:i * read + k, j * read:j * read + k]
                    d = dx[n, c, i * write:i * write + k, j * write:j * write + k]
                    share = to(win)
                    if assign:
                        d[share != 0] = (share * dout[n, c, i, j])[share != 0]
                    else:
                        d += share * dout[n, c, i, j]
    return dx


def right_as_torchs(backward, torch_pool, sg_pool, x_shape, dout_shape, *, seed, name="x"):
    """``backward`` agrees with torch.autograd of ``torch_pool`` at a random point, and sg.check_backward
    of ``sg_pool`` on a tensor of x's shape (batch N) says "equal"."""
    rng = np.random.default_rng(seed)
    x, dout = rng.normal(size=x_shape), rng.normal(size=dout_shape)
    xt = torch.tensor(x, requires_grad=True)
    torch_pool(xt).backward(torch.tensor(dout))
    np.testing.assert_allclose(backward(dout, x), xt.grad.numpy(), rtol=1e-12)
    xs = sg.tensor(name, (N, *x_shape[1:]))
    assert sg.check_backward(sg_pool(xs), [xs], backward).verdict == "equal"
