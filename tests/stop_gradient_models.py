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


def vq_vae(detach: bool = True, batch: int = 6):
    """VQ-VAE's losses: the decoder's through a straight-through z_q = z_e + sg(e − z_e), the codebook's
    ‖sg(z_e) − e‖² and the commitment 0.25·‖z_e − sg(e)‖² (``detach=False``: the same loss without its
    stop-gradients, a wrong gradient for the detached one). The nearest code is chosen outside, at the
    starting values. Returns (loss, params, inputs, values, data, torch_loss)."""
    D, H, K = 4, 3, 5
    x, ids = sg.tensor("x", (N, D)), sg.tensor("ids", (N,), integer=True)
    We, Wd, E = sg.tensor("We", (D, H)), sg.tensor("Wd", (H, D)), sg.tensor("E", (K, H))
    z_e = sg.tanh(x @ We)
    e = E[ids]
    held = (lambda t: t.detach()) if detach else (lambda t: t)
    z_q = z_e + held(e - z_e)                              # straight through to the encoder
    loss = (((z_q @ Wd - x) ** 2).mean() + ((held(z_e) - e) ** 2).mean() + 0.25 * ((z_e - held(e)) ** 2).mean())
    rng = np.random.default_rng(2)
    vals = {"We": rng.normal(size=(D, H)), "Wd": rng.normal(size=(H, D)), "E": rng.normal(size=(K, H))}
    X = rng.normal(size=(batch, D))
    ze = np.tanh(X @ vals["We"])
    data = {"x": X, "ids": np.argmin(((ze[:, None, :] - vals["E"][None]) ** 2).sum(-1), axis=1)}

    def torch_loss(p, d):
        ze_ = torch.tanh(torch64(d["x"]) @ p["We"])
        ee = p["E"][torch.tensor(d["ids"])]
        zq = ze_ + (ee - ze_).detach()
        return (((zq @ p["Wd"] - torch64(d["x"])) ** 2).mean() + ((ze_.detach() - ee) ** 2).mean()
                + 0.25 * ((ze_ - ee.detach()) ** 2).mean())
    return loss, [We, Wd, E], [x, ids], vals, data, torch_loss
