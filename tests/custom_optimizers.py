"""A user's own optimizer, written as docs/optimizers.md says to: the tests of custom optimizers
(compiled into a program, checked, clipped) share it."""
from __future__ import annotations

from dataclasses import dataclass

from symgrad.compiling.optim import Optimizer


@dataclass
class HeavyBall(Optimizer):
    """v ← μv + g; p ← p − lr·v (torch.optim.SGD with momentum, dampening 0)."""
    lr: float = 0.05
    mu: float = 0.9
    slots = ("v",)

    def rules(self, p, g, state, t):
        v = self.mu * state["v"] + g
        return p - self.lr * v, {"v": v}
