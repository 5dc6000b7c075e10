"""Label smoothing together with class weights and / or ignore_index (2026-11-30, eighth session;
before, an ArgumentError "not supported" — seq2seq training smooths its labels and ignores the
padding). torch combines them so: each entry (1 − ε)·w_y·(lse − s_y) + (ε/C)·Σ_c w_c·(lse − s_c), the
ignored ones 0, the mean divided by Σ w_y over the kept entries. Compared with torch's
F.cross_entropy in float64 (the loss, every gradient, central differences), compiled to NumPy."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from tests.frontend.torch_port import compare_with_torch

torch = pytest.importorskip("torch")
F = torch.nn.functional
N = sp.Symbol("N", integer=True, positive=True)
B, C, PAD = 5, 4, -100


@pytest.mark.parametrize("weighted, ignore", [(True, False), (False, True), (True, True)])
@pytest.mark.parametrize("reduction, eps", [("mean", 0.1), ("sum", 0.2), ("none", 0.1), ("mean", 1.0)])
def test_against_torch(weighted, ignore, reduction, eps):
    rng = np.random.default_rng(int(10 * eps) + 2 * weighted + ignore)
    x, W, y = sg.tensor("x", (N, 3)), sg.tensor("W", (3, C)), sg.tensor("y", (N,), integer=True)
    w = sg.tensor("w", (C,))
    kw = dict(label_smoothing=eps, reduction=reduction)
    tkw = dict(kw)
    if ignore:
        kw["ignore_index"] = tkw["ignore_index"] = PAD
    loss = sg.cross_entropy(x @ W, y, weight=w if weighted else None, **kw)
    c = sg.tensor("c", (N,))
    if reduction == "none":
        loss = sg.sum(loss * c)
    labels = rng.integers(0, C, B)
    if ignore:
        labels[[1, 3]] = PAD

    def twin(t, d):
        out = F.cross_entropy(d["x"] @ t["W"], d["y"], weight=d["w"] if weighted else None, **tkw)
        return (out * d["c"]).sum() if reduction == "none" else out
    data = {"x": rng.normal(size=(B, 3)), "y": labels, "c": rng.normal(size=B)}
    if weighted:                  # an input: torch's cross_entropy has no gradient for its weight
        data["w"] = rng.uniform(0.5, 2.0, C)
    compare_with_torch(torch, (loss, [W], [x, y, c] + ([w] if weighted else []), {"W": rng.normal(size=(3, C))},
                               data, twin), rng)


def test_classes_on_axis_1_with_weights_given_as_numbers():
    rng = np.random.default_rng(3)
    x, W, y = sg.tensor("x", (N, 2, 3)), sg.tensor("W", (3, C)), sg.tensor("y", (N, 2), integer=True)
    weights = [1.0, 2.0, 0.5, 1.5]
    loss = sg.cross_entropy((x @ W).transpose(0, 2, 1), y, axis=1, weight=weights, ignore_index=0, label_smoothing=0.15)
    labels = rng.integers(0, C, (B, 2))
    labels[0, 0] = 0
    compare_with_torch(torch, (loss, [W], [x, y], {"W": rng.normal(size=(3, C))},
                               {"x": rng.normal(size=(B, 2, 3)), "y": labels},
                               lambda t, d: F.cross_entropy((d["x"] @ t["W"]).transpose(1, 2), d["y"],
                                                            weight=torch.tensor(weights, dtype=torch.float64),
                                                            ignore_index=0, label_smoothing=0.15)), rng)
