"""Models that need a stop-gradient, each with its torch twin (``.detach()`` where symgrad has
stop_gradient): shared by the tests of compiled programs and of sg.gradcheck."""
from __future__ import annotations

import numpy as np
import sympy as sp
import torch

import symgrad as sg

F = torch.nn.functional
N = sp.Symbol("N", integer=True, positive=True)


def torch64(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=float), dtype=torch.float64, requires_grad=grad)


def dqn(target_network: bool, batch: int = 6):
    """DQN's TD loss: Q(s, a) against r + 0.9·max Q'(s') held (the semi-gradient), Q' the online
    network itself or a target network (T1, T2) that the loss reaches only through the detach.
    Returns (loss, params, inputs, values, data, torch_loss)."""
    S, A, Hd = 3, 4, 5
    s, s2 = sg.tensor("s", (N, S)), sg.tensor("s2", (N, S))
    a, r = sg.tensor("a", (N,), integer=True), sg.tensor("r", (N,))
    W1, W2 = sg.tensor("W1", (S, Hd)), sg.tensor("W2", (Hd, A))
    T1, T2 = sg.tensor("T1", (S, Hd)), sg.tensor("T2", (Hd, A))
    q = sg.relu(s @ W1) @ W2
    q_sa = sg.take_along_axis(q, a[:, None], axis=1)[:, 0]
    nxt = sg.relu(s2 @ T1) @ T2 if target_network else sg.relu(s2 @ W1) @ W2
    target = r + 0.9 * nxt.max(axis=1).detach()          # the TD target is held
    loss = ((q_sa - target) ** 2).mean()
    params = [W1, W2, T1, T2] if target_network else [W1, W2]
    rng = np.random.default_rng(3)
    vals = {p.name: rng.normal(size=p.shape) for p in params}
    data = {"s": rng.normal(size=(batch, S)), "s2": rng.normal(size=(batch, S)),
            "a": rng.integers(0, A, batch), "r": rng.normal(size=batch)}

    def torch_loss(p, d):
        qq = F.relu(torch64(d["s"]) @ p["W1"]) @ p["W2"]
        qsa = qq.gather(1, torch.tensor(d["a"])[:, None])[:, 0]
        k1, k2 = ("T1", "T2") if target_network else ("W1", "W2")
        tgt = torch64(d["r"]) + 0.9 * (F.relu(torch64(d["s2"]) @ p[k1]) @ p[k2]).max(dim=1).values.detach()
        return ((qsa - tgt) ** 2).mean()
    return loss, params, [s, a, r, s2], vals, data, torch_loss
