"""Contrastive and metric-learning losses as torch code writes them (2026-11-30, eighth session):
InfoNCE / CLIP with the positives on the diagonal (torch's labels torch.arange(N) are sg.eye(N), new),
F.triplet_margin_loss and F.pairwise_distance (new), compiled to the NumPy target and compared with
torch.autograd in float64 and central differences."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from tests.frontend.torch_port import compare_with_torch

torch = pytest.importorskip("torch")
F = torch.nn.functional
N = sp.Symbol("N", integer=True, positive=True)
B, TAU = 5, 0.1


def test_eye_is_numpys():
    assert np.array_equal(sg.numeric(sg.eye(3, 4, k=1), {}), np.eye(3, 4, k=1))
    assert np.array_equal(sg.numeric(sg.eye(4, k=-2), {}), np.eye(4, k=-2))
    assert np.array_equal(sg.numeric(sg.eye(N), {N: 3}), np.eye(3))
    with pytest.raises(sg.ArgumentError, match="k= .* must be an integer"):
        sg.eye(3, k=0.5)


@pytest.mark.parametrize("symmetric", [False, True])
def test_infonce_and_clip_with_the_diagonal_as_target(symmetric):
    rng = np.random.default_rng(1 + symmetric)
    a, b, W = sg.tensor("a", (N, 4)), sg.tensor("b", (N, 4)), sg.tensor("W", (4, 3))
    logits = sg.normalize(a @ W, axis=1) @ sg.normalize(b @ W, axis=1).T / TAU
    loss = sg.cross_entropy(logits, sg.eye(N))
    if symmetric:
        loss = (loss + sg.cross_entropy(logits.T, sg.eye(N))) / 2

    def twin(t, d):
        lg = F.normalize(d["a"] @ t["W"], dim=1) @ F.normalize(d["b"] @ t["W"], dim=1).T / TAU
        labels = torch.arange(B)
        return (F.cross_entropy(lg, labels) + F.cross_entropy(lg.T, labels)) / 2 if symmetric else F.cross_entropy(lg, labels)
    compare_with_torch(torch, (loss, [W], [a, b], {"W": rng.normal(size=(4, 3))},
                               {"a": rng.normal(size=(B, 4)), "b": rng.normal(size=(B, 4))}, twin), rng)


@pytest.mark.parametrize("kw", [{}, {"margin": 0.5, "p": 1}, {"swap": True, "reduction": "sum"},
                                {"p": 3, "eps": 1e-3}])
def test_triplet_margin_loss(kw):
    rng = np.random.default_rng(len(kw))
    a, p, n, W = sg.tensor("a", (N, 4)), sg.tensor("p", (N, 4)), sg.tensor("n", (N, 4)), sg.tensor("W", (4, 3))
    loss = sg.triplet_margin_loss(a @ W, p @ W, n @ W, **kw)
    data = {k: rng.normal(size=(B, 4)) for k in "apn"}
    data["n"][0] = data["a"][0] + 3.0       # one triplet already far enough: a zero loss, no gradient
    compare_with_torch(torch, (loss, [W], [a, p, n], {"W": rng.normal(size=(4, 3))}, data,
                               lambda t, d: F.triplet_margin_loss(d["a"] @ t["W"], d["p"] @ t["W"],
                                                                  d["n"] @ t["W"], **kw)), rng)


def test_pairwise_distance():
    rng = np.random.default_rng(7)
    x, y, W = sg.tensor("x", (N, 2, 4)), sg.tensor("y", (N, 2, 4)), sg.tensor("W", (4, 4))
    loss = sg.sum(sg.pairwise_distance(x @ W, y) ** 2) + sg.sum(sg.pairwise_distance(x @ W, y, p=1, keepdim=True))
    compare_with_torch(torch, (loss, [W], [x, y], {"W": rng.normal(size=(4, 4))},
                               {"x": rng.normal(size=(B, 2, 4)), "y": rng.normal(size=(B, 2, 4))},
                               lambda t, d: (F.pairwise_distance(d["x"] @ t["W"], d["y"]) ** 2).sum()
                               + F.pairwise_distance(d["x"] @ t["W"], d["y"], p=1, keepdim=True).sum()), rng)


def test_triplet_margin_loss_refusals():
    a = sg.tensor("a", (3, 4))
    with pytest.raises(sg.ArgumentError, match="margin must be a number"):
        sg.triplet_margin_loss(a, a, a, margin="1")
    with pytest.raises(sg.ArgumentError, match="did you mean 'margin'"):
        sg.triplet_margin_loss(a, a, a, margn=1)
    with pytest.raises(sg.ArgumentError, match="reduction must be one of"):
        sg.triplet_margin_loss(a, a, a, reduction="batchmean")


@pytest.mark.parametrize("p", [2.0, 1.0])
def test_cdist_prototypical_network_logits(p):
    rng = np.random.default_rng(int(p))
    q, s, W = sg.tensor("q", (N, 4)), sg.tensor("s", (3, 2, 4)), sg.tensor("W", (4, 3))   # 3 classes, 2 shots
    y = sg.tensor("y", (N,), integer=True)
    protos = (s @ W).mean(axis=1)                                              # (3, 3)
    loss = sg.cross_entropy(-sg.cdist(q @ W, protos, p=p) ** 2, y)
    pair = sg.sum(sg.cdist((q @ W)[None], sg.broadcast(protos, (2, 3, 3)), p=p))   # leading axes broadcast
    compare_with_torch(torch, (loss + pair, [W], [q, s, y], {"W": rng.normal(size=(4, 3))},
                               {"q": rng.normal(size=(B, 4)), "s": rng.normal(size=(3, 2, 4)), "y": rng.integers(0, 3, B)},
                               lambda t, d: F.cross_entropy(-torch.cdist(d["q"] @ t["W"], (d["s"] @ t["W"]).mean(1), p=p) ** 2, d["y"])
                               + torch.cdist((d["q"] @ t["W"])[None], (d["s"] @ t["W"]).mean(1).expand(2, 3, 3), p=p).sum()), rng)
    with pytest.raises(sg.ShapeError, match=r"cdist: .* must be \(…, P, M\) and \(…, R, M\)"):
        sg.cdist(q, W)


@pytest.mark.parametrize("margin", [0.0, 0.3])
def test_cosine_embedding_and_margin_ranking_losses(margin):
    rng = np.random.default_rng(11)
    a, b, W = sg.tensor("a", (N, 4)), sg.tensor("b", (N, 4)), sg.tensor("W", (4, 3))
    y = sg.tensor("y", (N,), integer=True)
    loss = (sg.cosine_embedding_loss(a @ W, b @ W, y, margin=margin)
            + sg.margin_ranking_loss((a @ W).sum(axis=1), (b @ W).sum(axis=1), y, margin=margin, reduction="sum"))
    compare_with_torch(torch, (loss, [W], [a, b, y], {"W": rng.normal(size=(4, 3))},
                               {"a": rng.normal(size=(B, 4)), "b": rng.normal(size=(B, 4)), "y": np.array([1, -1, 1, -1, 0])},
                               lambda t, d: F.cosine_embedding_loss(d["a"] @ t["W"], d["b"] @ t["W"], d["y"], margin=margin)
                               + F.margin_ranking_loss((d["a"] @ t["W"]).sum(1), (d["b"] @ t["W"]).sum(1), d["y"].double(),
                                                       margin=margin, reduction="sum")), rng)
