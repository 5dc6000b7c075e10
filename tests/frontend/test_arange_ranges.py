"""``sg.arange(start, stop, step)`` of whole numbers (thirteenth session): rotary embeddings write
``torch.arange(0, Dh, 2)``, a diffusion model's time embedding ``torch.arange(half)``, NT-Xent's
labels ``torch.arange(N, 2 * N)``; they were an ArgumentError ("start 0, step 1"). Values against
np.arange; a rotary embedding built from it against torch's; what stays refused names why."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)


@pytest.mark.parametrize("args", [(5,), (0, 8, 2), (1, 7, 3), (3, 0, -1), (-3, 3), (2, 9), (0, 9, 4), (7, -2, -3)])
def test_values_are_numpys(args):
    got = sg.arange(*args)
    assert got.is_integer_tensor and got.shape == (len(np.arange(*args)),)
    np.testing.assert_array_equal(sg.numeric(got, {}), np.arange(*args))


def test_a_symbolic_stop_with_step_one():
    y = sg.arange(N, 2 * N)
    assert y.shape == (N,) and y.is_integer_tensor
    np.testing.assert_array_equal(sg.numeric(y, {N: 4}), [4, 5, 6, 7])
    np.testing.assert_array_equal(sg.numeric(sg.arange(1, N + 1), {N: 3}), [1, 2, 3])


def test_nt_xent_labels_written_with_a_start():
    # SimCLR: labels = torch.cat([torch.arange(N, 2N), torch.arange(N)]) over the (2N, 2N) similarities
    z = sg.tensor("z", (2 * N, 3))
    s = z @ z.T - 1e9 * sg.eye(2 * N)
    loss = sg.cross_entropy(s, sg.concat([sg.arange(N, 2 * N), sg.arange(N)]))
    Z = np.random.default_rng(1).normal(size=(6, 3))
    tz = torch.tensor(Z, requires_grad=True)
    ts = tz @ tz.T - 1e9 * torch.eye(6, dtype=torch.float64)
    want = torch.nn.functional.cross_entropy(ts, torch.cat([torch.arange(3, 6), torch.arange(3)]))
    want.backward()
    at = {"z": Z, N: 3}                     # (N is not read off z's 2N rows)
    assert np.isclose(float(sg.numeric(loss, at)), want.item(), rtol=1e-12)
    np.testing.assert_allclose(sg.numeric(sg.grad(loss, z), at), tz.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_rotary_frequencies_as_llama_writes_them_match_torch():
    T, Dh = 5, 6
    q = sg.tensor("q", (N, T, Dh))

    def rope(lib, q):
        cat, ar = (sg.concat, sg.arange) if lib is sg else (      # (torch's int / int is float32)
            torch.cat, lambda *a: torch.arange(*a, dtype=torch.float64))
        inv_freq = 1.0 / (10000 ** (ar(0, Dh, 2) / Dh))
        freqs = ar(T)[:, None] * inv_freq[None, :]
        emb = cat((freqs, freqs), dim=-1)
        half = Dh // 2
        rot = cat((-q[..., half:], q[..., :half]), dim=-1)
        return q * emb.cos() + rot * emb.sin()

    Q = np.random.default_rng(0).normal(size=(2, T, Dh))
    tq = torch.tensor(Q, requires_grad=True)
    want = (rope(torch, tq) ** 2 * torch.arange(Dh)).sum()
    want.backward()
    f = (rope(sg, q) ** 2 * sg.arange(Dh)).sum()
    assert np.isclose(float(sg.numeric(f, {"q": Q})), want.item(), rtol=1e-12)
    np.testing.assert_allclose(sg.numeric(sg.grad(f, q), {"q": Q}), tq.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("args, words", [
    ((0, 6, 0.5), "step=0.5"), ((0.5, 3), "start=0.5"), ((2.5,), "stop=2.5"), ((0, 4, 0), "step must not be 0"),
    ((5, 2), r"arange\(5, 2, 1\) holds -3 values"), ((0, N, 2), r"symbolic stop \(N\) takes step 1"),
    ((sp.Symbol("M"),), "positive integer size"),
])
def test_what_stays_refused_says_why(args, words):
    with pytest.raises(sg.ArgumentError, match=words):
        sg.arange(*args)
