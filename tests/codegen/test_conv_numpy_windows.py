"""The im2col buffer of a compiled convolution filled in one copy of the input's windows (x placed
channel-last into a zero-bordered buffer, then sliding_window_view copied once) where the input has 3
or more channels; the per-offset slice copies where it has fewer. Gradients equal torch.autograd in
float64 over paddings, strides, dilations and 1-D; the training step's values are the same bits as
with the per-offset copies, over steps whose batch size changes (the kept buffers made anew)."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch
import torch.nn.functional as F

import symgrad as sg
from codegen.printers import numpy_conv

N = sp.Symbol("N", integer=True, positive=True)
rng = np.random.default_rng(31)

ONE_COPY = "_cols[...] = numpy.lib.stride_tricks.sliding_window_view("

CASES = [  # (C, H, W, K, conv kwargs): the second conv's input (4 channels) and the first's (C)
    (3, 8, 8, (3, 3), dict(padding=1)),
    (4, 9, 8, (3, 2), dict(stride=2, padding=1)),                 # the windows reach short of the input's end
    (5, 10, 9, (3, 3), dict(stride=(2, 1), padding=(2, 0), dilation=(2, 1))),
    (3, 7, 6, (2, 3), dict(stride=(3, 1))),                       # no padding: the windows of x itself, cut
    (3, 12, 8, (3, 3), dict(stride=3, padding=1)),                # padded, and x's last row out of reach
]


def _two_convs(C, H, W, K, kw):
    x, w1, w2 = sg.tensor("x", (N, C, H, W)), sg.tensor("w1", (4, C) + K), sg.tensor("w2", (5, 4, 3, 3))
    h = sg.conv2d(sg.relu(sg.conv2d(x, w1, **kw)), w2, padding=1)
    D = sg.tensor("D", sg.as_tensor(h).shape)
    return sg.sum(sg.as_tensor(h) * D) / N, [w1, w2], [x, D]


@pytest.mark.parametrize("case", CASES, ids=[f"conv-{i}" for i in range(len(CASES))])
def test_one_copy_im2col_gradients_equal_torch(case):
    C, H, W, K, kw = case
    loss, params, inputs = _two_convs(C, H, W, K, kw)
    prog = sg.compile(loss, params, inputs, dtype="float64")
    # both convolutions (≥ 3 input channels) and the second's input gradient (5 channels of δ) in one copy
    assert prog.source.count(ONE_COPY) >= 3, prog.source
    assert "for k0_" not in prog.source
    n = 3
    xa, w1a, w2a = rng.standard_normal((n, C, H, W)), rng.standard_normal((4, C) + K), rng.standard_normal((5, 4, 3, 3))
    t1, t2 = torch.tensor(w1a, requires_grad=True), torch.tensor(w2a, requires_grad=True)
    th = F.conv2d(F.relu(F.conv2d(torch.tensor(xa), t1, **kw)), t2, padding=1)
    Da = rng.standard_normal(tuple(th.shape))
    ((th * torch.tensor(Da)).sum() / n).backward()
    g = prog.grad({"w1": w1a, "w2": w2a}, {"x": xa, "D": Da})
    np.testing.assert_allclose(g["w1"], t1.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(g["w2"], t2.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_one_copy_im2col_in_one_dimension_equals_torch():
    x, w = sg.tensor("x", (N, 4, 11)), sg.tensor("w", (3, 4, 3))
    h = sg.as_tensor(sg.conv1d(x, w, stride=2, padding=2, dilation=2))
    D = sg.tensor("D", h.shape)
    prog = sg.compile(sg.sum(h * D) / N, [w], [x, D], dtype="float64")
    assert ONE_COPY in prog.source
    xa, wa = rng.standard_normal((2, 4, 11)), rng.standard_normal((3, 4, 3))
    tw = torch.tensor(wa, requires_grad=True)
    th = F.conv1d(torch.tensor(xa), tw, stride=2, padding=2, dilation=2)
    Da = rng.standard_normal(tuple(th.shape))
    ((th * torch.tensor(Da)).sum() / 2).backward()
    np.testing.assert_allclose(prog.grad({"w": wa}, {"x": xa, "D": Da})["w"], tw.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_fewer_than_three_channels_keep_the_per_offset_copies():
    """A one-channel image (the digits CNN's first conv): its windows' runs of one number copy slower
    at once than the per-offset slices do; the slices stay."""
    x, w = sg.tensor("x", (N, 1, 8, 8)), sg.tensor("w", (4, 1, 3, 3))
    prog = sg.compile(sg.sum(sg.as_tensor(sg.conv2d(x, w, padding=1)) ** 2) / N, [w], [x], dtype="float64")
    assert ONE_COPY not in prog.source and "for k0_" in prog.source


def _steps(source_of, monkeypatch, per_offset: bool):
    if per_offset:
        monkeypatch.setattr(numpy_conv, "_windows_at_once", lambda *a, **k: None)
    else:
        monkeypatch.undo()
    C, H, W = 3, 8, 8
    x, y = sg.tensor("x", (N, C, H, W)), sg.tensor("y", (N,), integer=True)
    w1, w2, Wc = sg.tensor("w1", (4, C, 3, 3)), sg.tensor("w2", (4, 4, 3, 3)), sg.tensor("Wc", (3, 4))
    h = sg.relu(sg.conv2d(sg.relu(sg.conv2d(x, w1, padding=1)), w2, padding=1))
    loss = sg.cross_entropy(sg.linear(sg.mean(h, axis=(2, 3)), Wc), y)
    prog = sg.compile(loss, [w1, w2, Wc], [x, y], optimizer=sg.optim.SGD(lr=0.1), dtype="float32")
    source_of.append(prog.source)
    r = np.random.default_rng(5)
    vals = {"w1": r.standard_normal((4, C, 3, 3)), "w2": r.standard_normal((4, 4, 3, 3)) / 3,
            "Wc": r.standard_normal((3, 4))}
    vals = {k: v.astype(np.float32) for k, v in vals.items()}
    state, losses = prog.init_state(vals), []
    for n in (4, 4, 2, 5, 4):                         # the batch size changes: the kept buffers are made anew
        batch = {"x": r.standard_normal((n, C, H, W)).astype(np.float32), "y": r.integers(0, 3, n)}
        vals, state = prog.step(vals, state, batch)
        losses.append(prog.last_loss)
    return vals, losses


def test_training_step_is_bit_for_bit_the_per_offset_copies_step(monkeypatch):
    sources = []
    old_vals, old_losses = _steps(sources, monkeypatch, per_offset=True)
    new_vals, new_losses = _steps(sources, monkeypatch, per_offset=False)
    assert ONE_COPY not in sources[0] and ONE_COPY in sources[1]
    assert "_pad = kept(ws, " in sources[1]                   # the zero-bordered buffer lives in the workspace
    assert new_losses == old_losses
    for k in old_vals:
        np.testing.assert_array_equal(new_vals[k], old_vals[k])


@pytest.mark.parametrize("kw", [dict(padding=2, stride=10), dict(padding=(2, 0), stride=(10, 1))],
                         ids=["stride-past-the-input", "one-axis-only"])
def test_one_copy_im2col_where_the_windows_end_inside_the_padding(kw):
    """A stride so long that the windows reach no further than the leading padding: the zero-bordered
    buffer takes none of x along that axis (it took a negative count of x's rows and failed)."""
    x, w = sg.tensor("x", (N, 3, 3, 4)), sg.tensor("w", (2, 3, 1, 1))
    h = sg.as_tensor(sg.conv2d(x, w, **kw))
    D = sg.tensor("D", h.shape)
    prog = sg.compile(sg.sum(h * D) / N, [w], [x, D], dtype="float64")
    assert ONE_COPY in prog.source
    xa, wa = rng.standard_normal((2, 3, 3, 4)), rng.standard_normal((2, 3, 1, 1))
    tw = torch.tensor(wa, requires_grad=True)
    th = F.conv2d(torch.tensor(xa), tw, **kw)
    Da = rng.standard_normal(tuple(th.shape))
    ((th * torch.tensor(Da)).sum() / 2).backward()
    np.testing.assert_allclose(prog.grad({"w": wa}, {"x": xa, "D": Da})["w"], tw.grad.numpy(), rtol=1e-9, atol=1e-12)
