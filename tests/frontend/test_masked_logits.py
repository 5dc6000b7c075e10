"""Logits masked with −inf (masked_fill(~legal, float('-inf')), torch's idiom) under a label's
log-probability (2026-11-30, eighth session): take_along_axis is Σ x ⊙ one_hot(idx), and −inf·0 made
the loss NaN where torch's gather is finite — RL's action masking, NT-Xent's self-similarity,
cross-entropy over a restricted vocabulary. A −inf branch of a where is now read as −1e30 there.
Compiled to NumPy and compared with torch.autograd in float64 and central differences."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from tests.frontend.torch_port import compare_with_torch

torch = pytest.importorskip("torch")
F = torch.nn.functional
N = sp.Symbol("N", integer=True, positive=True)
B, A = 5, 4


def _legal(rng):
    legal = (rng.random((B, A)) > 0.4).astype(np.int64)
    legal[np.arange(B), rng.integers(0, A, B)] = 1
    return legal


def test_policy_gradient_with_illegal_actions_masked():
    rng = np.random.default_rng(0)
    x, W = sg.tensor("x", (N, 3)), sg.tensor("W", (3, A))
    legal, act, adv = sg.tensor("legal", (N, A), integer=True), sg.tensor("act", (N,), integer=True), sg.tensor("adv", (N,))
    logits = (x @ W).masked_fill(sp.Eq(legal, 0), float("-inf"))
    logp = sg.log_softmax(logits, axis=-1).gather(1, act[:, None])[:, 0]
    loss = -(logp * adv).mean() + 0.5 * sg.cross_entropy(logits, act)
    lg = _legal(rng)
    acts = np.array([rng.choice(np.flatnonzero(r)) for r in lg])          # legal actions only

    def twin(t, d):
        z = (d["x"] @ t["W"]).masked_fill(d["legal"] == 0, float("-inf"))
        lp = F.log_softmax(z, -1).gather(1, d["act"][:, None])[:, 0]
        return -(lp * d["adv"]).mean() + 0.5 * F.cross_entropy(z, d["act"])
    compare_with_torch(torch, (loss, [W], [x, legal, act, adv], {"W": rng.normal(size=(3, A))},
                               {"x": rng.normal(size=(B, 3)), "legal": lg, "act": acts, "adv": rng.normal(size=B)},
                               twin), rng)


@pytest.mark.parametrize("as_labels", [False, True])
def test_nt_xent_with_the_self_similarity_masked(as_labels):
    rng = np.random.default_rng(1)
    tau = 0.5
    a, b, W = sg.tensor("a", (N, 4)), sg.tensor("b", (N, 4)), sg.tensor("W", (4, 3))
    z = sg.normalize(sg.concat([a @ W, b @ W], axis=0), axis=1)                  # (2N, 3)
    sim = sg.where(sg.eye(2 * N) > 0, float("-inf"), z @ z.T / tau)
    if as_labels:
        pos = sg.tensor("pos", (2 * N,), integer=True)                             # (arange(2N) + N) % 2N
        loss, inputs = sg.cross_entropy(sim, pos), [a, b, pos]
    else:
        I, Z = sg.eye(N), sg.zeros((N, N))
        loss = sg.cross_entropy(sim, sg.concat([sg.concat([Z, I], axis=1), sg.concat([I, Z], axis=1)], axis=0))
        inputs = [a, b]

    def twin(t, d):
        zz = F.normalize(torch.cat([d["a"] @ t["W"], d["b"] @ t["W"]]), dim=1)
        s = (zz @ zz.T / tau).masked_fill(torch.eye(2 * B, dtype=bool), float("-inf"))
        return F.cross_entropy(s, torch.cat([torch.arange(B) + B, torch.arange(B)]))
    data = {"a": rng.normal(size=(B, 4)), "b": rng.normal(size=(B, 4))}
    if as_labels:
        data["pos"] = np.concatenate([np.arange(B) + B, np.arange(B)])
    compare_with_torch(torch, (loss, [W], inputs, {"W": rng.normal(size=(4, 3))}, data, twin), rng)


def test_a_causal_mask_inside_the_logits_is_left_as_it_is():
    """Only a −inf that reaches the gathered entries is read as −1e30: an attention's causal mask
    under a softmax and a product stays (rewriting it would compute the attention twice, once for the
    logsumexp and once for the label's logit)."""
    T, D, V = 3, 4, 5
    x, y, Wo = sg.tensor("x", (N, T, D)), sg.tensor("y", (N, T), integer=True), sg.tensor("Wo", (D, V))
    s = sg.where(sg.tril(sg.ones((T, T))) > 0, x @ x.swapaxes(-2, -1), float("-inf"))
    loss = sg.cross_entropy((sg.softmax(s, axis=-1) @ x) @ Wo, y, axis=-1)
    assert "1.0e+30" not in str(loss) and "-oo" in str(loss)
    masked = sg.cross_entropy(sg.where(sg.tensor("m", (N, T, V)) > 0, x @ Wo, float("-inf")), y, axis=-1)
    assert "1.0e+30" in str(masked)
