"""Optimizers, declared as SymPy update rules so that they compile into the training step like any
other expression.

An optimizer states, for ONE scalar entry of a parameter, how the entry and its state move:

    rules(p, g, state, t) -> (p_new, {slot: new_value})

``p`` is the entry, ``g`` its gradient, ``state`` a dict of Symbols (one per slot, e.g. Adam's
``m`` and ``v``), ``t`` the step number (1 on the first step). All are scalar SymPy Symbols; the
compiler applies the rules to every entry of every parameter as one elementwise body, and a
backend may evaluate them however it likes. Slots start at ``initial[slot]`` (0 by default).

>>> import sympy as sp
>>> p, g, t = sp.symbols('p g t')
>>> SGD(lr=0.1).rules(p, g, {}, t)
(-0.1*g + p, {})
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp


@dataclass
class Optimizer:
    """Base class. Subclasses set ``slots`` and define ``rules``."""

    slots = ()                 # names of the per-entry state slots
    initial = {}               # slot -> initial value (default 0)

    def rules(self, p, g, state, t):  # pragma: no cover - abstract
        raise NotImplementedError

    def symbols(self):
        """Fresh scalar symbols (p, g, state dict, t) to call ``rules`` with."""
        p, g, t = sp.symbols("p g t", real=True)
        state = {s: sp.Symbol(s, real=True) for s in self.slots}
        return p, g, state, t


@dataclass
class SGD(Optimizer):
    """Plain gradient descent: p ← p − lr·g."""

    lr: float = 0.01

    def rules(self, p, g, state, t):
        return p - self.lr * g, {}
