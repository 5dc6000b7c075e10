"""Two more slips of a recurrence's backward loop (cs231n's rnn_backward, 11-785's RNN phase):

- the initial state at every step: ``dWh += h0.T @ dtanh`` at each t where the state before the step,
  h_{t−1}, belongs. Derived as `recurrent_hints.late_state_hint` derives the state one step late:
  each product h_{t−1} @ Wh keeps its value and paths, and only what ∂/∂Wh reads there becomes h0
  (`first_state_hint`).
- a loop that skips the last step: ``for t in range(T - 2, -1, -1)`` never visits t = T − 1, so the
  last step's upstream gradient dh[:, T − 1] never enters: the claim is the gradient with dout's
  last time step zero, for every variable (`skipped_last_step_hint`).
"""
from __future__ import annotations

import re

import numpy as np

from .hint_kind import Hint
from .hint_case import Case, _claim_is_gradient_of, _fitted, all_same, differs, value_at
from .recurrent_hints import _Late, _chain, right_operand


def first_state_hint(case: Case):
    """The claim for a recurrent weight P is Σ_t h0.T @ δ_t where Σ_t h_{t−1}.T @ δ_t belongs."""
    from ..frontend import tensor as T
    from .layer_hints import _rebuilt
    P = case.w
    Cs, Ts = _fitted(case)
    if not isinstance(P, T.Tensor) or not differs(Cs, Ts):
        return None
    chain = _chain(case.f, P)
    if chain is None:
        return None
    u0 = chain[0].args[0]
    ushape, nshape = tuple(T.shape_of(u0)), tuple(T.shape_of(chain[0]))
    R, value_of_R, accumulate = right_operand(chain)
    Pc = T.tensor("_Pc", tuple(P.shape))
    Ks = [T.tensor(f"_K{t}", ushape) for t in range(len(chain))]
    Cn = [T.tensor(f"_C{t}", nshape) for t in range(len(chain))]

    def extra(vals):
        pv = value_of_R(vals)
        kv = value_at(u0, vals)
        out = {Pc.name: pv}
        for K, C in zip(Ks, Cn):
            out[K.name], out[C.name] = kv, -(kv @ pv)
        return out
    if not _claim_is_gradient_of(case, _rebuilt(case.f, _Late(chain, R, Pc, Ks, Cn)), extra):
        return None
    first = u0.name if isinstance(u0, T.Tensor) else "the initial state"
    return Hint("the initial state at every step",
                f"d{P.name} is built from {first} at each step where "
                f"h_{{t−1}}, the state that step multiplies by {P.name} in the forward, belongs — "
                f"{accumulate} with prev_h = hs[t - 1] (and {first} only at t = 0), d the "
                f"gradient arriving at prev_h @ {R}.")


def skipped_last_step_hint(case: Case):
    """The claim is the gradient with the last index of a time axis of dout set to 0: the loop never
    visited the last step. Named for a recurrence only (some parameter's products form a chain)."""
    from ..frontend import tensor as T
    D = case.derivation
    g = D.gradient_vars[case.k]
    Cs, Ts = _fitted(case)
    if g is None or not differs(Cs, Ts):
        return None
    if not any(isinstance(p, T.Tensor) and _chain(case.f, p) for p in case.params):
        return None
    example = case.points[0].example()
    for d in (n for n in example if re.fullmatch(r"dout\d*", str(n))):
        shape = np.shape(example[d])
        for a in range(1, len(shape) - 1):          # the time axis: not the batch, not the features
            if shape[a] < 2:
                continue

            def extra(vals, a=a):
                v = np.array(vals[d], float)
                v[(slice(None),) * a + (-1,)] = 0
                return {d: v}
            vals = case.eval_vars(D.ir, [g], extra)
            if all_same(Cs, [np.broadcast_to(v[0], t.shape) for v, t in zip(vals, Ts)]):
                n = shape[a]
                return Hint("the loop skips the last step",
                            f"the claim for {case.w.name} is the gradient "
                            f"without {d}[{', '.join([':'] * a)}, -1], the upstream gradient of the last "
                            f"step (t = {n - 1}) — a backward loop such as range(T - 2, -1, -1) never "
                            f"visits t = T − 1; range(T - 1, -1, -1) (or reversed(range(T))) does.")
    return None
