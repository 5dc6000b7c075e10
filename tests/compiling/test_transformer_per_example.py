"""A causal attention block declared for ONE sequence (ids (T,), no symbolic N): `sg.compile` batches
it (the batch axis in front of the heads, the mask and the embedding), and its loss and gradients
equal torch's on a batch of sequences in float64."""
from __future__ import annotations

import numpy as np
import sympy as sp
import torch
import torch.nn.functional as F

import symgrad as sg

T, D, H, V, B = 4, 8, 2, 11, 5
Dh = D // H


def test_per_example_attention_block_equals_torch():
    ids, y = sg.tensor("ids", (T,), integer=True), sg.tensor("y", (T,), integer=True)
    E, P, Wout = sg.tensor("E", (V, D)), sg.tensor("P", (T, D)), sg.tensor("Wout", (D, V))
    Wq, Wk, Wv = (sg.tensor(n, (D, D)) for n in ("Wq", "Wk", "Wv"))
    x = E[ids] + P                                                      # (T, D)
    q, k, v = ((x @ W).reshape(T, H, Dh).transpose(1, 0, 2) for W in (Wq, Wk, Wv))   # (H, T, Dh)
    s = sg.where(sg.tril(sg.ones((T, T))) > 0, q @ k.swapaxes(-2, -1) / sp.sqrt(Dh), float("-inf"))
    h = x + (sg.softmax(s, axis=-1) @ v).transpose(1, 0, 2).reshape(T, D)
    h = (h - h.mean(axis=-1, keepdims=True)) / sp.sqrt(h.var(axis=-1, keepdims=True) + 1e-5)
    loss = sg.cross_entropy(sg.gelu(h) @ Wout, y)                      # the mean over T
    params = [E, P, Wq, Wk, Wv, Wout]
    prog = sg.compile(loss, params, [ids, y], dtype="float64")         # the mean over the batch

    rng = np.random.default_rng(0)
    vals = {p.name: rng.normal(size=tuple(p.shape)) for p in params}
    batch = {"ids": rng.integers(0, V, (B, T)), "y": rng.integers(0, V, (B, T))}
    t = {k_: torch.tensor(v_, requires_grad=True) for k_, v_ in vals.items()}
    xt = t["E"][torch.tensor(batch["ids"])] + t["P"]
    qt, kt, vt = ((xt @ t[n]).view(B, T, H, Dh).transpose(1, 2) for n in ("Wq", "Wk", "Wv"))
    st = (qt @ kt.transpose(-2, -1) / Dh ** 0.5).masked_fill(torch.tril(torch.ones(T, T)) == 0, float("-inf"))
    ht = F.layer_norm(xt + (st.softmax(-1) @ vt).transpose(1, 2).reshape(B, T, D), (D,), eps=1e-5)
    lt = F.cross_entropy((F.gelu(ht) @ t["Wout"]).reshape(-1, V), torch.tensor(batch["y"]).reshape(-1))
    lt.backward()
    assert abs(prog.loss(vals, batch) - lt.item()) <= 1e-12 * lt.item()
    got = prog.grad(vals, batch)
    for n in vals:
        np.testing.assert_allclose(got[n], t[n].grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=n)
