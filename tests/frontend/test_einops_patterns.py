"""einops' rearrange / reduce / repeat on symgrad's tensors (thirteenth session): values against the
same reshape / transpose / reduction written out in NumPy (einops is not installed here: the oracle
is each pattern's meaning as einops' documentation gives it), gradients against torch.autograd in
float64, one compiled to the NumPy target; patterns are text, read by a tokenizer and never run."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)
RNG = np.random.default_rng(5)
X = RNG.normal(size=(2, 6, 5))
x = sg.tensor("x", (N, 6, 5))

CASES = [
    (lambda: sg.rearrange(x, "b (h d) n -> b h n d", h=2), X.reshape(2, 2, 3, 5).transpose(0, 1, 3, 2)),
    (lambda: sg.rearrange(x, "b c n -> b (n c)"), X.transpose(0, 2, 1).reshape(2, 30)),
    (lambda: sg.rearrange(x, "b c n -> b c n 1"), X[..., None]),
    (lambda: sg.rearrange(x, "b c n -> b c () n"), X[:, :, None]),
    (lambda: sg.rearrange(x, "b ... -> b (...)"), X.reshape(2, 30)),
    (lambda: sg.rearrange(x, "... n -> n ..."), X.transpose(2, 0, 1)),
    (lambda: sg.rearrange(x, "b (c1 c2) n -> (b c2) c1 n", c2=3), X.reshape(2, 2, 3, 5).transpose(0, 2, 1, 3).reshape(6, 2, 5)),
    (lambda: sg.reduce(x, "b c n -> b c", "mean"), X.mean(2)),
    (lambda: sg.reduce(x, "b (c c2) n -> b c", "max", c2=2), X.reshape(2, 3, 2, 5).max(axis=(2, 3))),
    (lambda: sg.reduce(x, "b c n -> c", "sum"), X.sum((0, 2))),
    (lambda: sg.reduce(x, "b c n -> b 1 n", "min"), X.min(1, keepdims=True)),
    (lambda: sg.reduce(x, "b c n -> n b", "prod"), X.prod(1).T),
    (lambda: sg.repeat(x, "b c n -> b (c r) n", r=2), np.repeat(X, 2, axis=1)),
    (lambda: sg.repeat(x, "b c n -> b (r c) n", r=2), np.tile(X, (1, 2, 1))),
    (lambda: sg.repeat(x, "b c n -> b c n 3"), np.broadcast_to(X[..., None], (2, 6, 5, 3))),
]


@pytest.mark.parametrize("i", range(len(CASES)))
def test_values_are_the_patterns_meaning(i):
    build, want = CASES[i]
    got = sg.numeric(build(), {"x": X})
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-14)


def test_gradients_of_gqa_heads_and_pooling_as_torch():
    # repeat_kv by einops, a channel max-pool by reduce; the loss against torch's spelling of both
    k = sg.tensor("k", (N, 2, 4, 3))
    K = RNG.normal(size=(2, 2, 4, 3))
    f = (sg.repeat(k, "b h n d -> b (h r) n d", r=2) ** 3).sum() + sg.reduce(k, "b h (n p) d -> b h d", "max", p=2).sum()
    tk = torch.tensor(K, requires_grad=True)
    ((tk.repeat_interleave(2, dim=1) ** 3).sum() + tk.reshape(2, 2, 2, 2, 3).amax(dim=(2, 3)).sum()).backward()
    np.testing.assert_allclose(sg.numeric(sg.grad(f, k), {"k": K}), tk.grad.numpy(), rtol=1e-12)


def test_a_compiled_attention_split_by_rearrange_equals_torch():
    H, T, D = 2, 3, 4
    W, xx = sg.tensor("W", (3 * D, D)), sg.tensor("x", (N, T, D))
    q, kk, v = sg.rearrange(xx @ W.T, "b t (three h d) -> three b h t d", three=3, h=H)
    o = sg.rearrange(sg.softmax(q @ kk.transpose(-2, -1), axis=-1) @ v, "b h t d -> b t (h d)")
    prog = sg.compile((o ** 2).mean(), params=[W], inputs=[xx], dtype="float64")
    Wv, Xv = RNG.normal(size=(3 * D, D)), RNG.normal(size=(2, T, D))
    tW = torch.tensor(Wv, requires_grad=True)
    tq, tk, tv = (torch.tensor(Xv) @ tW.T).reshape(2, T, 3, H, D // H).permute(2, 0, 3, 1, 4)
    to = (torch.softmax(tq @ tk.transpose(-2, -1), -1) @ tv).permute(0, 2, 1, 3).reshape(2, T, D)
    want = (to ** 2).mean()
    want.backward()
    assert np.isclose(prog.loss({"W": Wv}, {"x": Xv}), want.item(), rtol=1e-12)
    np.testing.assert_allclose(prog.grad({"W": Wv}, {"x": Xv})["W"], tW.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("call, error, words", [
    (lambda: sg.rearrange(x, "b c -> b c"), sg.ShapeError, "left side 'b c' has 2 axes"),
    (lambda: sg.rearrange(x, "b c n -> b c"), sg.ArgumentError, "drops n"),
    (lambda: sg.rearrange(x, "b c n -> b c n r"), sg.ArgumentError, "adds r"),
    (lambda: sg.rearrange(x, "b (h d) n -> b h n d"), sg.ArgumentError, "sizes of all but one"),
    (lambda: sg.rearrange(x, "b (h d) n -> b h n d", h=4), sg.ShapeError, "is not \\(h d\\) with h=4"),
    (lambda: sg.rearrange(x, "b c n -> b c n; import os"), sg.ArgumentError, "cannot read '; import os'"),
    (lambda: sg.rearrange(x, "b c n"), sg.ArgumentError, "one '->'"),
    (lambda: sg.reduce(x, "b c n -> b", "median"), sg.ArgumentError, "reduction='median'"),
    (lambda: sg.repeat(x, "b c n -> b c n r"), sg.ArgumentError, "needs its size \\(r=...\\)"),
    (lambda: sg.repeat(x, 2, 1, 1, r=2), sg.ArgumentError, "come with a pattern"),
])
def test_refusals_say_what_is_wrong(call, error, words):
    with pytest.raises(error, match=words):
        call()


def test_torchs_repeat_is_unchanged():
    np.testing.assert_array_equal(sg.numeric(sg.repeat(x, 1, 2, 1), {"x": X}), np.tile(X, (1, 2, 1)))
