"""cs231n's vanilla RNN as a student writes it, for the checking tests: the layer declared with
sg.tensor, a NumPy rnn_backward with the usual slips (``slip=``), and torch.autograd's gradients of
the same forward (the oracle the right backward is compared with)."""
from __future__ import annotations

import numpy as np
import torch

import symgrad as sg
from verdicts import N

T, D, H = 3, 2, 3
SHAPES = ((4, T, D), (4, H), (D, H), (H, H), (H,))    # x, h0, Wx, Wh, b at N = 4


def rnn_layer():
    """(the stacked hidden states, [x, h0, Wx, Wh, b]) of h_t = tanh(x_t Wx + h_{t-1} Wh + b)."""
    x, h0 = sg.tensor("x", (N, T, D)), sg.tensor("h0", (N, H))
    Wx, Wh, b = sg.tensor("Wx", (D, H)), sg.tensor("Wh", (H, H)), sg.tensor("b", (H,))
    hs, h = [], h0
    for t in range(T):
        h = sg.tanh(x[:, t, :] @ Wx + h @ Wh + b)
        hs.append(h)
    return sg.stack(hs, axis=1), [x, h0, Wx, Wh, b]


def rnn_backward(dh, x, h0, Wx, Wh, b, slip=None):
    """(dx, dh0, dWx, dWh, db); ``slip`` one of "1 - h" (tanh′), "Wh" (untransposed), "dWx =" (one
    step kept), "h_t" (the state one step late), "h0 always", "stops early", "skips the last"."""
    n_steps = x.shape[1]
    hs, h = [], h0
    for t in range(n_steps):
        h = np.tanh(x[:, t] @ Wx + h @ Wh + b)
        hs.append(h)
    dx, dWx, dWh, db = np.zeros_like(x), np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dprev = np.zeros_like(h0)
    steps = {"stops early": range(n_steps - 1, 0, -1),
             "skips the last": range(n_steps - 2, -1, -1)}.get(slip, range(n_steps - 1, -1, -1))
    for t in steps:
        dtanh = (dh[:, t] + dprev) * ((1 - hs[t]) if slip == "1 - h" else (1 - hs[t] ** 2))
        dx[:, t], dprev = dtanh @ Wx.T, dtanh @ (Wh if slip == "Wh" else Wh.T)
        if slip == "dWx =":
            dWx = x[:, t].T @ dtanh                      # the step's term replaces the others
        else:
            dWx += x[:, t].T @ dtanh
        prev = hs[t - 1] if t > 0 else h0
        dWh += {"h_t": hs[t], "h0 always": h0}.get(slip, prev).T @ dtanh
        db += dtanh.sum(axis=0)
    return dx, dprev, dWx, dWh, db


def slipped(slip):
    return lambda *a, **k: rnn_backward(*a, **k, slip=slip)


def assert_right_rnn_backward_is_torchs(seed):
    """The right rnn_backward equals torch.autograd's gradients of the same forward, in float64."""
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=s) for s in SHAPES]
    dh = rng.normal(size=(4, T, H))
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    h, outs = ts[1], []
    for t in range(T):
        h = torch.tanh(ts[0][:, t] @ ts[2] + h @ ts[3] + ts[4])
        outs.append(h)
    torch.stack(outs, 1).backward(torch.tensor(dh))
    for got, t in zip(rnn_backward(dh, *arrays), ts):
        np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-10, atol=1e-12)
