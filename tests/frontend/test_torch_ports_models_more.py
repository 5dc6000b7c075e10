"""Four more models people write today, ported to symgrad declarations and compared with
torch.autograd in float64 — the loss, every gradient, central differences (2026-11-30, tenth
session). As in test_torch_ports_models.py, each model is one function run with torch's ``F`` on
tensors and with ``sg`` on declarations.

- a message-passing graph layer (an MPNN / GraphSAGE-style sum aggregation): each edge's message
  from ``x[src]`` and ``x[dst]`` summed into its destination node with ``index_add``, then a node
  update and per-node cross-entropy; nodes N and edges E are symbolic sizes (one graph is one batch);
- GAT-style attention: a softmax over each node's incoming edges by ``index_add`` of exp(score);
- a ConvNeXt block: depthwise 7×7 conv (groups=C, padding 3), channels-last LayerNorm, the 4×
  inverted MLP with exact GELU, layer scale γ, the residual; a pooled linear head;
- LoRA on a linear layer: the frozen W₀ (an input, torch's requires_grad=False) plus (α/r)·B·A.

What the ports found: torch's ``index_add`` had no symgrad spelling (now ``sg.index_add`` and
``x.index_add(dim, idx, src)``, `symgrad.frontend.tensor_index_add`), nor ``x.scatter_add(0,
dst.unsqueeze(-1).expand_as(m), m)`` (taken in that form; another index, and the in-place
``index_add_`` / ``scatter_add_``, are refused naming what is taken).
"""
from __future__ import annotations


import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from tests.frontend.torch_port import Cases, compare_case, params

torch = pytest.importorskip("torch")
F = torch.nn.functional
N = sp.Symbol("N", integer=True, positive=True)
E = sp.Symbol("E", integer=True, positive=True)


class SG:
    cat = staticmethod(lambda xs, dim=0: sg.concat(xs, dim=dim))
    zeros = staticmethod(lambda *shape: sg.zeros(shape))


class TT:
    cat = staticmethod(torch.cat)
    zeros = staticmethod(lambda *shape: torch.zeros(*shape, dtype=torch.float64))


def _cases():
    cases = case = Cases()

    def _gnn(rng, scatter):
        n, e, Fi, D, K = 6, 11, 3, 4, 3
        shapes = {"Wm": (D, 2 * Fi), "bm": (D,), "Wu": (D, Fi + D), "bu": (D,), "Wo": (K, D), "bo": (K,)}

        def mpnn(t, d, F, lib, n):
            x, src, dst = d["x"], d["src"], d["dst"]
            m = F.relu(F.linear(lib.cat([x[dst], x[src]], dim=-1), t["Wm"], t["bm"]))   # one message per edge
            if scatter:       # PyG-style: the ids repeated over the features
                agg = x.new_zeros(n, D).scatter_add(0, dst.unsqueeze(-1).expand_as(m), m)
            else:
                agg = lib.zeros(n, D).index_add(0, dst, m)                                # summed into nodes
            h = F.relu(F.linear(lib.cat([x, agg], dim=-1), t["Wu"], t["bu"]))
            return F.cross_entropy(F.linear(h, t["Wo"], t["bo"]), d["y"])
        x, y = sg.tensor("x", (N, Fi)), sg.tensor("y", (N,), integer=True)
        src, dst = sg.tensor("src", (E,), integer=True), sg.tensor("dst", (E,), integer=True)
        p, vals = params(rng, shapes)
        dst_values = np.concatenate([[0, 0, 2], rng.integers(0, n, e - 3)])   # repeats: sums of several
        data = {"x": rng.normal(size=(n, Fi)), "y": rng.integers(0, K, n), "src": rng.integers(0, n, e),
                "dst": dst_values}
        return (mpnn(p, {"x": x, "y": y, "src": src, "dst": dst}, sg, SG, N), list(p.values()), [x, y, src, dst],
                vals, data, lambda t, d: mpnn(t, d, F, TT, n))

    @case
    def gnn_message_passing_index_add(rng):
        return _gnn(rng, scatter=False)

    @case
    def gnn_message_passing_scatter_add(rng):
        return _gnn(rng, scatter=True)

    @case
    def gat_softmax_over_incoming_edges(rng):
        n, e, Fi, D = 5, 9, 3, 4
        shapes = {"W": (D, Fi), "a": (2 * D,)}

        def gat(t, d, F, lib, n):
            x, src, dst = d["x"], d["src"], d["dst"]
            h = F.linear(x, t["W"])
            score = F.leaky_relu((lib.cat([h[dst], h[src]], dim=-1) * t["a"]).sum(-1), 0.2)
            w = score.exp()
            alpha = w / lib.zeros(n).index_add(0, dst, w)[dst]           # softmax over each node's edges
            out = lib.zeros(n, D).index_add(0, dst, alpha.unsqueeze(-1) * h[src])
            return ((F.elu(out) + h) ** 2).mean()
        x = sg.tensor("x", (N, Fi))
        src, dst = sg.tensor("src", (E,), integer=True), sg.tensor("dst", (E,), integer=True)
        p, vals = params(rng, shapes)
        data = {"x": rng.normal(size=(n, Fi)), "src": rng.integers(0, n, e), "dst": np.arange(e) % n}  # none empty
        return (gat(p, {"x": x, "src": src, "dst": dst}, sg, SG, N), list(p.values()), [x, src, dst], vals, data,
                lambda t, d: gat(t, d, F, TT, n))

    @case
    def convnext_block(rng):
        B, C, S, K = 2, 3, 8, 4
        shapes = {"wd": (C, 1, 7, 7), "bd": (C,), "g": (C,), "b": (C,), "W1": (4 * C, C), "b1": (4 * C,),
                  "W2": (C, 4 * C), "b2": (C,), "gamma": (C,), "Wh": (K, C), "bh": (K,)}

        def convnext(t, d, F):
            x = d["x"]
            h = F.conv2d(x, t["wd"], t["bd"], padding=3, groups=C)       # depthwise 7×7
            h = h.permute(0, 2, 3, 1)                                     # (N, H, W, C)
            h = F.layer_norm(h, (C,), t["g"], t["b"], eps=1e-6)
            h = F.linear(F.gelu(F.linear(h, t["W1"], t["b1"])), t["W2"], t["b2"])
            h = t["gamma"] * h                                            # layer scale
            x = x + h.permute(0, 3, 1, 2)
            return F.cross_entropy(F.linear(x.mean((2, 3)), t["Wh"], t["bh"]), d["y"])
        x, y = sg.tensor("x", (N, C, S, S)), sg.tensor("y", (N,), integer=True)
        p, vals = params(rng, shapes)
        return (convnext(p, {"x": x, "y": y}, sg), list(p.values()), [x, y], vals,
                {"x": rng.normal(size=(B, C, S, S)), "y": rng.integers(0, K, B)}, lambda t, d: convnext(t, d, F))

    @case
    def lora_linear(rng):
        B, Din, Dout, r, alpha = 4, 6, 5, 2, 8.0
        shapes = {"A": (r, Din), "Bl": (Dout, r), "b": (Dout,)}

        def lora(t, d, F):
            x = d["x"]
            y = F.linear(x, d["W0"], t["b"]) + (x @ t["A"].T @ t["Bl"].T) * (alpha / r)   # W0 frozen
            return F.mse_loss(y, d["target"])
        x, W0, target = sg.tensor("x", (N, Din)), sg.tensor("W0", (Dout, Din)), sg.tensor("target", (N, Dout))
        p, vals = params(rng, shapes)
        data = {"x": rng.normal(size=(B, Din)), "W0": rng.normal(size=(Dout, Din)),
                "target": rng.normal(size=(B, Dout))}
        return (lora(p, {"x": x, "W0": W0, "target": target}, sg), list(p.values()), [x, W0, target], vals, data,
                lambda t, d: lora(t, d, F))
    return cases


CASES = _cases()


@pytest.mark.parametrize("name", sorted(CASES))
def test_ported_model_against_torch(name):
    compare_case(torch, CASES, name)


def test_index_add_as_torch_with_alpha_and_repeats():
    rng = np.random.default_rng(3)
    x, src = sg.tensor("x", (4, 3)), sg.tensor("s", (5, 3))
    idx = sg.tensor("i", (5,), integer=True)
    vals = {"x": rng.normal(size=(4, 3)), "s": rng.normal(size=(5, 3)), "i": np.array([3, 0, 3, 3, 1])}
    want = torch.tensor(vals["x"]).index_add(0, torch.tensor(vals["i"]), torch.tensor(vals["s"]), alpha=2.0)
    got = sg.numeric(sg.index_add(x, 0, idx, src, alpha=2.0), vals)
    np.testing.assert_allclose(np.asarray(got, dtype=float), want.numpy(), rtol=1e-12)
    cols = sg.tensor("c", (4, 2))
    want1 = torch.tensor(vals["x"]).index_add(1, torch.tensor([2, 2]), torch.tensor(vals["s"][:4, :2]))
    got1 = sg.numeric(x.index_add(1, sg.tensor("j", (2,), integer=True), cols),
                      {**vals, "c": vals["s"][:4, :2], "j": np.array([2, 2])})
    np.testing.assert_allclose(np.asarray(got1, dtype=float), want1.numpy(), rtol=1e-12)


def test_index_add_into_zeros_is_the_sum_alone():
    """A derivation reads scatter_add(m, dst, ...), not zeros((4, 3)) + scatter_add(...)."""
    m, dst = sg.tensor("m", (5, 3)), sg.tensor("dst", (5,), integer=True)
    assert "zeros" not in str(sg.zeros(4, 3).index_add(0, dst, m))
    assert "ones" in str(sg.ones(4, 3).index_add(0, dst, m))


def test_index_add_refusals_name_the_spelling_taken():
    x, s = sg.tensor("x", (4, 3)), sg.tensor("s", (5, 3))
    i = sg.tensor("i", (5,), integer=True)
    with pytest.raises(sg.ArgumentError, match=r"in place.*x\.index_add\(\.\.\.\)"):
        x.index_add_(0, i, s)
    with pytest.raises(sg.ArgumentError, match=r"index_add\(dim, dst, src\)"):
        x.scatter_add(0, sg.tensor("I", (5, 3), integer=True), s)     # an index that is not repeated ids
    with pytest.raises(sg.ArgumentError, match=r"index_add\(dim, dst, src\)"):
        x.scatter_add(1, i.unsqueeze(-1).expand_as(s), s)               # ids along axis 0, dim 1
    with pytest.raises(sg.ArgumentError, match=r"in place.*x\.scatter_add\(\.\.\.\)"):
        x.scatter_add_(0, i.unsqueeze(-1).expand_as(s), s)
    with pytest.raises(sg.IntegerTensorError, match="index_add: the index must be an integer tensor"):
        sg.index_add(x, 0, sg.tensor("f", (5,)), s)
    with pytest.raises(sg.ShapeError, match=r"needs \(5, 3\)"):
        sg.index_add(x, 0, i, sg.tensor("t", (5, 2)))
    with pytest.raises(sg.ShapeError, match="1-D"):
        sg.index_add(x, 0, sg.tensor("k", (5, 1), integer=True), s)
