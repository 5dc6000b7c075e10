"""The step a stop_gradient adds to a derivation: the node it holds gets no gradient through it.

    u₂ = stop_gradient(u₁)
    ∂f/∂u₁ = ∂f/∂u₂ · ∂u₂/∂u₁ = 0    [stop-gradient: the value passes forward, no gradient passes back: ∂u₂/∂u₁ = 0]

Reverse mode sends nothing back through ``stop_gradient`` (its local derivative is 0), so the node
inside it would have no step at all; this module gives it one, right after the step of the
stop_gradient's own node, where no other path reaches it. (Where another path does, that step's
sum is already right: the stop_gradient's term is zero and left out.)
"""
from __future__ import annotations

import sympy as sp

from ..core.stop_gradients import is_stop_gradient
from .notation import Chain, Value, partial
from .step_record import NodeStep, Rule

RULE = "stop-gradient: the value passes forward, no gradient passes back"


def _zero(shape):
    return sp.S.Zero if shape == () else sp.ZeroMatrix(*shape) if len(shape) == 2 else sp.S.Zero


def with_stop_gradient_steps(d, steps: list, disp: dict, out_name: str, contribs: dict, need: set,
                             tensor: bool = False, at=None) -> list:
    """``steps`` with a zero step for each node that only a stop_gradient reads on the way to the
    output, placed after the stop_gradient's own step (at the end when it has none)."""
    made: dict = {}
    for s in d.raw_steps:
        e = s.eqn
        if not is_stop_gradient(e) or e.out.id not in disp:
            continue
        held = disp[e.out.id]
        for u in e.inputs:
            if u.id not in need or u.id in contribs or u.id not in disp or u.id in made:
                continue
            node = disp[u.id]
            local = partial(str(held), str(node), ())
            zero = _zero(u.shape)
            rule = Rule(RULE, local, sp.S.Zero)
            rhs = [Chain([[partial(out_name, str(held), e.out.shape, tensor=tensor), local]]), zero]
            if at is not None:
                rhs.append(Value(0.0))
            step = NodeStep(node, partial(out_name, str(node), u.shape, tensor=tensor), rhs, [rule],
                            "", 0.0 if at is not None else None, zero, None, zero)
            made[u.id] = (held, step)
    if not made:
        return steps
    out = list(steps)
    for held, step in made.values():
        at_k = next((k for k, s in enumerate(out) if s.node == held), None)
        out.insert(len(out) if at_k is None else at_k + 1, step)
    return out
