"""The 3-4-2 tanh MLP trained by AdamW under a warm-up + cosine schedule, side by side with torch's
AdamW and SequentialLR(LinearLR(start_factor=0.5, total_iters=3), CosineAnnealingLR(T_max=5)): the
tests of schedules and of parameter groups under a schedule share it."""
from __future__ import annotations

import numpy as np
import torch


def steps_follow_torch(prog, values, tp, topt, rng, *, rtol, atol, steps=8):
    """``steps`` steps of ``prog`` from ``values`` and of torch's ``topt`` on the parameters ``tp``
    (the same values), on the same random batches of ``rng``; the values agree at the end."""
    tsched = torch.optim.lr_scheduler.SequentialLR(topt, [
        torch.optim.lr_scheduler.LinearLR(topt, start_factor=0.5, total_iters=3),
        torch.optim.lr_scheduler.CosineAnnealingLR(topt, T_max=5)], milestones=[3])
    state = prog.init_state(values)
    for _ in range(steps):
        X, Y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
        values, state = prog.step(values, state, {"x": X, "y": Y})
        h = torch.tanh(torch.tensor(X) @ tp["W1"].T + tp["b1"].T)
        out = h @ tp["W2"].T + tp["b2"].T
        loss = ((out - torch.tensor(Y)) ** 2).mean()               # sg.mse: the mean over the entries
        topt.zero_grad()
        loss.backward()
        topt.step()
        tsched.step()
    for k, v in tp.items():
        np.testing.assert_allclose(values[k], v.detach().numpy(), rtol=rtol, atol=atol)
