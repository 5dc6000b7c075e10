"""A convolution's im2col and its GEMM a chunk of examples at a time (`codegen.printers.numpy_conv.
_chunks`), and its weight gradient over the same chunks, the windows copied again from the buffer
that holds x channel-last: gradients equal torch.autograd in float64 where the batch is cut into
several chunks, the last one short, over paddings, strides, dilations, no padding and 1-D; a
training step equals the one-chunk step over steps whose batch size changes."""
from __future__ import annotations

import re

import numpy as np
import pytest
import sympy as sp
import torch
import torch.nn.functional as F

import symgrad as sg
from codegen.printers import numpy_conv

N = sp.Symbol("N", integer=True, positive=True)

CASES = [  # (C, spatial size, kernel, conv kwargs): the first conv's input; the second's has 4 channels
    (3, (8, 8), (3, 3), dict(padding=1)),
    (4, (9, 8), (3, 2), dict(stride=2, padding=1)),
    (5, (10, 9), (3, 3), dict(stride=(2, 1), padding=(2, 0), dilation=(2, 1))),
    (3, (7, 6), (2, 3), dict(stride=(3, 1))),                     # no padding: x copied channel-last all the same
    (4, (11,), (3,), dict(stride=2, padding=2, dilation=2)),      # 1-D
]


def _two_convs(C, S, K, kw):
    conv = sg.conv2d if len(S) == 2 else sg.conv1d
    x, w1, w2 = sg.tensor("x", (N, C) + S), sg.tensor("w1", (4, C) + K), sg.tensor("w2", (5, 4) + (3,) * len(S))
    h = sg.as_tensor(conv(sg.relu(conv(x, w1, **kw)), w2, padding=1))
    D = sg.tensor("D", h.shape)
    return sg.sum(h * D) / N, [w1, w2], [x, D]


def _per_example(C, S, K, kw) -> int:
    """The im2col entries of one example of the first conv (its windows' positions × K × C)."""
    O = [(s + 2 * _pad(kw, i) - _dil(kw, i) * (k - 1) - 1) // _stride(kw, i) + 1 for i, (s, k) in enumerate(zip(S, K))]
    return int(np.prod(O)) * int(np.prod(K)) * C


def _at(v, i):
    return v[i] if isinstance(v, tuple) else v


def _pad(kw, i):
    return _at(kw.get("padding", 0), i)


def _dil(kw, i):
    return _at(kw.get("dilation", 1), i)


def _stride(kw, i):
    return _at(kw.get("stride", 1), i)


@pytest.mark.parametrize("case", CASES, ids=[f"conv-{i}" for i in range(len(CASES))])
def test_chunked_im2col_gradients_equal_torch(case, monkeypatch):
    C, S, K, kw = case
    # two examples a chunk for the first conv: a batch of 5 is cut 2, 2, 1
    monkeypatch.setattr(numpy_conv, "CHUNK_ENTRIES", 2 * _per_example(C, S, K, kw))
    loss, params, inputs = _two_convs(C, S, K, kw)
    prog = sg.compile(loss, params, inputs, dtype="float64")
    src = prog.source
    assert "for i_v" in src and "examples at a time" in src, src
    # the im2col buffers hold a chunk, not the batch: their first size is a number, never d0
    cols = re.findall(r"v\d+_cols = numpy\.empty\(\(min\((\d+), d0\),", src)
    assert len(cols) >= 3 and cols[0] == "2", cols     # (loss and grad: both convs, the input gradient)
    n, r = 5, np.random.default_rng(7)
    conv = F.conv2d if len(S) == 2 else F.conv1d
    xa, w1a, w2a = r.standard_normal((n, C) + S), r.standard_normal((4, C) + K), r.standard_normal((5, 4) + (3,) * len(S))
    t1, t2 = torch.tensor(w1a, requires_grad=True), torch.tensor(w2a, requires_grad=True)
    th = conv(F.relu(conv(torch.tensor(xa), t1, **kw)), t2, padding=1)
    Da = r.standard_normal(tuple(th.shape))
    tl = (th * torch.tensor(Da)).sum() / n
    tl.backward()
    vals, batch = {"w1": w1a, "w2": w2a}, {"x": xa, "D": Da}
    np.testing.assert_allclose(prog.loss(vals, batch), tl.item(), rtol=1e-12)
    g = prog.grad(vals, batch)
    np.testing.assert_allclose(g["w1"], t1.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(g["w2"], t2.grad.numpy(), rtol=1e-9, atol=1e-12)


def _steps(chunk_entries, monkeypatch):
    monkeypatch.setattr(numpy_conv, "CHUNK_ENTRIES", chunk_entries)
    C = 3
    x, y = sg.tensor("x", (N, C, 6, 6)), sg.tensor("y", (N,), integer=True)
    w1, w2, Wc = sg.tensor("w1", (4, C, 3, 3)), sg.tensor("w2", (4, 4, 3, 3)), sg.tensor("Wc", (3, 4))
    h = sg.relu(sg.conv2d(sg.relu(sg.conv2d(x, w1, padding=1)), w2, padding=1))
    loss = sg.cross_entropy(sg.linear(sg.mean(h, axis=(2, 3)), Wc), y)
    prog = sg.compile(loss, [w1, w2, Wc], [x, y], optimizer=sg.optim.Adam(lr=0.01), dtype="float32")
    r = np.random.default_rng(5)
    vals = {"w1": r.standard_normal((4, C, 3, 3)), "w2": r.standard_normal((4, 4, 3, 3)) / 3,
            "Wc": r.standard_normal((3, 4))}
    vals = {k: v.astype(np.float32) for k, v in vals.items()}
    state, losses = prog.init_state(vals), []
    for n in (7, 7, 3, 9, 7):               # the batch size changes: the kept buffers are made anew
        batch = {"x": r.standard_normal((n, C, 6, 6)).astype(np.float32), "y": r.integers(0, 3, n)}
        vals, state = prog.step(vals, state, batch)
        losses.append(prog.last_loss)
    return prog.source, vals, losses


def test_chunked_training_step_equals_the_one_chunk_step(monkeypatch):
    one_src, one_vals, one_losses = _steps(1 << 30, monkeypatch)
    src, vals, losses = _steps(2 * 36 * 9 * 4, monkeypatch)      # two examples a chunk of the second conv
    chunks = [int(k) for k in re.findall(r"range\(0, d0, (\d+)\)", src)]
    assert 2 in chunks and all(int(k) > 9 for k in re.findall(r"range\(0, d0, (\d+)\)", one_src))
    # the forward's rows are the same dot products: the first loss is the same bits; the weight
    # gradients add their chunks in another order (float32 rounding), and Adam carries that on
    assert losses[0] == one_losses[0]
    np.testing.assert_allclose(losses, one_losses, rtol=1e-5)
    for k in one_vals:
        np.testing.assert_allclose(vals[k], one_vals[k], rtol=1e-4, atol=1e-5)


def test_two_convolutions_of_one_input_share_the_windows_each_weight_gradient_right(monkeypatch):
    """Two kernels over the same x with the same geometry (two branches): both weight gradients read
    the windows of one forward; only the first finds that forward's last chunk still in its buffer
    (`numpy_conv.Windows.left`), the second copies every chunk again."""
    monkeypatch.setattr(numpy_conv, "CHUNK_ENTRIES", 2 * 64 * 9 * 3)     # two examples a chunk
    x, wa, wb = sg.tensor("x", (N, 3, 8, 8)), sg.tensor("wa", (4, 3, 3, 3)), sg.tensor("wb", (2, 3, 3, 3))
    ha, hb = (sg.as_tensor(sg.conv2d(x, w, padding=1)) for w in (wa, wb))
    Da, Db = sg.tensor("Da", ha.shape), sg.tensor("Db", hb.shape)
    prog = sg.compile((sg.sum(ha * Da) + sg.sum(sg.relu(hb) * Db)) / N, [wa, wb], [x, Da, Db], dtype="float64")
    grad_src = prog.source[prog.source.index("def grad("):prog.source.index("def step(")]
    assert grad_src.count("(the last chunk is in ") == 1 and grad_src.count("examples at a time, the last first") == 2
    r = np.random.default_rng(3)
    n = 5
    xa, a, b = r.standard_normal((n, 3, 8, 8)), r.standard_normal((4, 3, 3, 3)), r.standard_normal((2, 3, 3, 3))
    da, db = r.standard_normal((n, 4, 8, 8)), r.standard_normal((n, 2, 8, 8))
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    tx = torch.tensor(xa)
    (((F.conv2d(tx, ta, padding=1) * torch.tensor(da)).sum()
      + (F.relu(F.conv2d(tx, tb, padding=1)) * torch.tensor(db)).sum()) / n).backward()
    g = prog.grad({"wa": a, "wb": b}, {"x": xa, "Da": da, "Db": db})
    np.testing.assert_allclose(g["wa"], ta.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(g["wb"], tb.grad.numpy(), rtol=1e-9, atol=1e-12)
