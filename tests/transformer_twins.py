"""A small pre-norm transformer written twice, as an ML engineer writes it: in symgrad over a batch of
N sequences (`declare`), and in torch with the same weights (`torch_loss`), for the attention tests.

    x = E[ids] + P                                  token and learned positional embeddings
    per layer:  x = x + Wo · attention(ln1(x))      H heads, (N, T, D) → (N, H, T, Dh) and back,
                x = x + W2 · gelu(W1 · ln2(x) + c1) + c2      scaled dot products, a causal mask
    logits = ln_f(x) @ Wout                         (N, T, V): the next-token loss, cross-entropy
                                                    over the last axis with (N, T) labels;
    or       ln_f(x).mean(axis=1) @ Wout            (N, V): a sequence class (mean-pool over T)

``heads=None`` writes one head without the reshape: q @ k.swapaxes(1, 2) of (N, T, D) tensors.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import sympy as sp
import torch
import torch.nn.functional as F

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)


@dataclass(frozen=True)
class Config:
    T: int = 4            # sequence length
    D: int = 8            # model width
    heads: int | None = 2  # None: one head, written without the head reshape
    V: int = 11           # vocabulary (and the number of classes of "classify")
    layers: int = 1
    causal: bool = True
    task: str = "next"    # "next" (next-token, (N, T) labels) or "classify" ((N,) labels)


def layer_norm(x, g, b, eps=1e-5):
    mu = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    return (x - mu) / sp.sqrt(var + eps) * g + b


def param_shapes(c: Config) -> dict:
    D = c.D
    shapes = {"E": (c.V, D), "P": (c.T, D)}
    for i in range(c.layers):
        shapes.update({f"Wq{i}": (D, D), f"Wk{i}": (D, D), f"Wv{i}": (D, D), f"Wo{i}": (D, D),
                       f"g1_{i}": (D,), f"b1_{i}": (D,), f"g2_{i}": (D,), f"b2_{i}": (D,),
                       f"W1_{i}": (D, 4 * D), f"c1_{i}": (4 * D,), f"W2_{i}": (4 * D, D), f"c2_{i}": (D,)})
    shapes.update({"gf": (D,), "bf": (D,), "Wout": (D, c.V)})
    return shapes


def declare(c: Config):
    """(loss, params in `param_shapes` order, inputs [ids, targets]) in symgrad."""
    T, D = c.T, c.D
    p = {n: sg.tensor(n, s) for n, s in param_shapes(c).items()}
    ids = sg.tensor("ids", (N, T), integer=True)
    y = sg.tensor("y", (N, T) if c.task == "next" else (N,), integer=True)
    mask = sg.tril(sg.ones((T, T)))
    x = p["E"][ids] + p["P"]
    for i in range(c.layers):
        h = layer_norm(x, p[f"g1_{i}"], p[f"b1_{i}"])
        q, k, v = h @ p[f"Wq{i}"], h @ p[f"Wk{i}"], h @ p[f"Wv{i}"]
        if c.heads is None:
            s = q @ k.swapaxes(1, 2) / sp.sqrt(D)                         # (N, T, T)
        else:
            Dh = D // c.heads
            q, k, v = (z.reshape(N, T, c.heads, Dh).transpose(0, 2, 1, 3) for z in (q, k, v))
            s = q @ k.swapaxes(-2, -1) / sp.sqrt(Dh)                      # (N, H, T, T)
        if c.causal:
            s = sg.where(mask > 0, s, float("-inf"))
        o = sg.softmax(s, axis=-1) @ v
        if c.heads is not None:
            o = o.transpose(0, 2, 1, 3).reshape(N, T, D)
        x = x + o @ p[f"Wo{i}"]
        x = x + sg.gelu(layer_norm(x, p[f"g2_{i}"], p[f"b2_{i}"]) @ p[f"W1_{i}"] + p[f"c1_{i}"]) @ p[f"W2_{i}"] \
            + p[f"c2_{i}"]
    x = layer_norm(x, p["gf"], p["bf"])
    if c.task == "next":
        loss = sg.cross_entropy(x @ p["Wout"], y, axis=-1)
    else:
        loss = sg.cross_entropy(x.mean(axis=1) @ p["Wout"], y)
    return loss, list(p.values()), [ids, y]


def torch_loss(c: Config, t: dict, ids, y):
    """The same network in torch: ``t`` maps the parameter names to torch tensors."""
    T, D = c.T, c.D
    ids, y = torch.as_tensor(np.asarray(ids), dtype=torch.long), torch.as_tensor(np.asarray(y), dtype=torch.long)
    n = ids.shape[0]
    x = t["E"][ids] + t["P"]
    for i in range(c.layers):
        h = F.layer_norm(x, (D,), t[f"g1_{i}"], t[f"b1_{i}"], 1e-5)
        q, k, v = h @ t[f"Wq{i}"], h @ t[f"Wk{i}"], h @ t[f"Wv{i}"]
        if c.heads is None:
            s = q @ k.transpose(1, 2) / D ** 0.5
        else:
            Dh = D // c.heads
            q, k, v = (z.view(n, T, c.heads, Dh).transpose(1, 2) for z in (q, k, v))
            s = q @ k.transpose(-2, -1) / Dh ** 0.5
        if c.causal:
            s = s.masked_fill(torch.tril(torch.ones(T, T)) == 0, float("-inf"))
        o = s.softmax(-1) @ v
        if c.heads is not None:
            o = o.transpose(1, 2).reshape(n, T, D)
        x = x + o @ t[f"Wo{i}"]
        x = x + F.gelu(F.layer_norm(x, (D,), t[f"g2_{i}"], t[f"b2_{i}"], 1e-5) @ t[f"W1_{i}"] + t[f"c1_{i}"]) \
            @ t[f"W2_{i}"] + t[f"c2_{i}"]
    x = F.layer_norm(x, (D,), t["gf"], t["bf"], 1e-5)
    if c.task == "next":
        return F.cross_entropy((x @ t["Wout"]).reshape(-1, c.V), y.reshape(-1))
    return F.cross_entropy(x.mean(1) @ t["Wout"], y)


def values(c: Config, seed=0) -> dict:
    """Random float64 weights (scaled so that softmax and GELU are away from flat regions), γ near 1."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, shape in param_shapes(c).items():
        if name.startswith(("g1", "g2", "gf")):
            out[name] = 1 + 0.1 * rng.normal(size=shape)
        else:
            out[name] = rng.normal(size=shape) * (0.5 if len(shape) == 2 else 0.1)
    return out


def batch(c: Config, n=3, seed=1) -> dict:
    rng = np.random.default_rng(seed)
    return {"ids": rng.integers(0, c.V, size=(n, c.T)),
            "y": rng.integers(0, c.V, size=(n, c.T) if c.task == "next" else (n,))}


def torch_grads(c: Config, vals: dict, b: dict):
    """(loss, {name: gradient}) by torch.autograd in float64."""
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in vals.items()}
    loss = torch_loss(c, t, b["ids"], b["y"])
    loss.backward()
    return loss.item(), {k: v.grad.numpy() for k, v in t.items()}


def steps_equal_torch(prog, c: Config, vals: dict, torch_optimizer, seeds, n, moved):
    """``prog.step`` (a compiled step with its optimizer) and ``torch_optimizer(parameters)`` run side
    by side from ``vals``, one ``batch(c, n, seed)`` per seed: the losses equal at every step; at the
    end every parameter moved by more than ``moved`` from ``vals`` and equals torch's."""
    t = {k: torch.tensor(v, requires_grad=True) for k, v in vals.items()}
    torch_opt = torch_optimizer(list(t.values()))
    ours, state = {k: v.copy() for k, v in vals.items()}, None
    for seed in seeds:
        b = batch(c, n=n, seed=seed)
        ours, state = prog.step(ours, state, b)
        torch_opt.zero_grad()
        theirs = torch_loss(c, t, b["ids"], b["y"])
        theirs.backward()
        torch_opt.step()
        assert prog.last_loss == pytest.approx(theirs.item(), rel=1e-12), seed
    for name, v in t.items():
        assert np.abs(ours[name] - vals[name]).max() > moved, name        # every parameter moved
        np.testing.assert_allclose(ours[name], v.detach().numpy(), rtol=1e-9, atol=1e-12, err_msg=name)
