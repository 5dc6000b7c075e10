"""The additive attention mask ``s + (1 - mask) * -1e9``, PyTorch code's spelling, keeps the scores
exact where the mask is 1: a number times a difference stays a product (SymPy used to distribute it,
``s + 1e9·mask − 1e9``, and (s + 1e9) − 1e9 rounds s to a multiple of 2⁻²³ ≈ 1.2e-7 in float64).
Oracle: the same arithmetic in NumPy, in torch's order."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)
T = 4


def _scores_and_masks():
    rng = np.random.default_rng(0)
    S = rng.normal(size=(3, T, T))
    pad = (np.arange(T)[None] < np.array([4, 2, 3])[:, None]).astype(float)
    return S, pad


def test_the_declaration_keeps_the_product_unexpanded():
    s, mask = sg.tensor("s", (T, T)), sg.tril(sg.ones((T, T)))
    e = s + (1 - mask) * -1e9
    assert str(e) == "-1000000000.0*(1 - tril(ones((4, 4)))) + s"     # not s + 1e9*tril(...) - 1e9
    assert sg.numeric(e, {"s": np.zeros((T, T))})[0, 1] == -1e9


def test_additive_masks_leave_unmasked_scores_exact_in_numeric_and_compiled():
    s, pad = sg.tensor("s", (N, T, T)), sg.tensor("pad", (N, T))
    causal = sg.tril(sg.ones((T, T)))
    out = s + (1 - causal) * -1e9 + (1 - pad[:, None, :]) * -1e9
    S, P = _scores_and_masks()
    want = S + (1 - np.tril(np.ones((T, T)))) * -1e9 + (1 - P[:, None, :]) * -1e9
    keep = (np.tril(np.ones((T, T))) * P[:, None, :]) > 0
    got = sg.numeric(out, {"s": S, "pad": P})
    assert np.array_equal(got[keep], S[keep])                       # bit for bit
    assert np.allclose(got, want, rtol=1e-15, atol=0)
    W = sg.tensor("W", (T, T))
    prog = sg.compile(sg.sum(out @ W), [W], [s, pad], dtype="float64", outputs=[out])
    (fwd,) = prog.forward({"W": np.eye(T)}, {"s": S, "pad": P})
    assert np.array_equal(fwd[keep], S[keep])


def test_softmax_through_an_additive_mask_equals_torch_masked_fill():
    torch = pytest.importorskip("torch")
    s, pad = sg.tensor("s", (N, T, T)), sg.tensor("pad", (N, T))
    att = sg.softmax(s + (1 - pad[:, None, :]) * -1e9, axis=-1)
    S, P = _scores_and_masks()
    want = torch.tensor(S).masked_fill(torch.tensor(P)[:, None, :] == 0, float("-inf")).softmax(-1)
    assert np.abs(sg.numeric(att, {"s": S, "pad": P}) - want.numpy()).max() < 1e-15
