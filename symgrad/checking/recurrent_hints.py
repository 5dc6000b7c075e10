"""Name two slips of a recurrence's backward loop (cs231n's rnn_backward), where the gradient is
right in form and wrong in time:

- the hidden state one step late: ``dWh += hs[t].T @ dtanh`` (the step's own output h_t) where
  ``prev_h.T @ dtanh`` (h_{t−1}, what the step multiplies by Wh) belongs. The forward's products
  h_{t−1} @ Wh form a chain (each one's operand holds the one before); the slipped function keeps
  every value and every path and only changes what ∂/∂Wh reads at each product: h_{t−1} @ Wh
  becomes h_{t−1} @ P + K_t @ Wh − K_t @ P, P holding Wh's value and K_t the next state's
  (`late_state_hint`).
- a loop that stops one step early: ``for t in range(T - 1, 0, -1)`` never visits t = 0, so every
  parameter the steps share lacks the term of its first use (`loop_early_hint`). Named only when
  each variable used at every step (Wx, Wh, b, and x through its slices) is either right or
  exactly its gradient without the first step's use, and at least two are the latter: one
  gradient missing one term is `hints.fanout_hint`'s.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import sympy as sp

from .hint_kind import Hint
from .hint_case import (Case, _claim_is_gradient_of, _fitted, _transposed_of, all_same, differs,
                         right_products, value_at)

MAX_STEPS = 16


def _chain(f, P):
    """[u_t @ P] in time order when f's products u @ P form a recurrence (the operand of each holds
    the one before it, and nothing else): else None."""
    prods = right_products(f, P)
    if not 2 <= len(prods) <= MAX_STEPS:
        return None
    held = {n: sum(1 for m in prods if m != n and n.args[0].has(m)) for n in prods}
    order = sorted(prods, key=held.get)
    if [held[n] for n in order] != list(range(len(order))):
        return None
    if not all(order[t + 1].args[0].has(order[t]) for t in range(len(order) - 1)):
        return None
    return order


def _next_of_last(f, chain):
    """The state the last product feeds, made as the ones before were (an RNN's last tanh(…)): the
    nodes of f that hold the last product and have the type (and function) of its operand."""
    from ..frontend import tensor as T
    last, u = chain[-1], chain[-1].args[0]
    shape = tuple(T.shape_of(u))
    kind = (type(u), u.args[0].func if isinstance(u, T.Ewise) else None)
    out = []
    for n in dict.fromkeys(sp.preorder_traversal(f)):
        if n == last or not isinstance(n, sp.Basic) or not n.has(last):
            continue
        if (type(n), n.args[0].func if isinstance(n, T.Ewise) else None) != kind:
            continue
        try:
            if tuple(T.shape_of(n)) == shape:
                out.append(n)
        except Exception:   # noqa: BLE001 - a node without a tensor shape is no state
            continue
    return sorted(out, key=sp.count_ops)[:3]


class _Late(dict):
    """{product u_t @ P: u_t' @ Pc + K_t @ P + C_t}, u_t' rebuilt with the same substitution (the
    later products hold the earlier ones), Pc holding P's value and C_t = −K_t @ P's value."""

    def __init__(self, chain, P, Pc, Ks, Cs):
        super().__init__({n: None for n in chain})
        self.P, self.Pc, self.Ks, self.Cs, self.index = P, Pc, Ks, Cs, {n: t for t, n in enumerate(chain)}

    def __getitem__(self, n):
        from .layer_hints import _rebuilt
        t = self.index[n]
        return _rebuilt(n.args[0], self) @ self.Pc + self.Ks[t] @ self.P + self.Cs[t]


def right_operand(chain):
    """(R, its value from the point's values, how a backward writes dP from prev_h and d): R is P
    (cs231n's h @ Wh) or P.T (torch's and 11-785's h @ W_hh.T)."""
    R = chain[0].args[1]
    P = _transposed_of(R)
    if P is None:
        return R, (lambda vals: np.asarray(vals[R.name], float)), f"d{R.name} += prev_h.T @ d"
    return R, (lambda vals: np.asarray(vals[P.name], float).T), f"d{P.name} += d.T @ prev_h"


def late_state_hint(case: Case):
    """The claim for a recurrent weight P is Σ_t h_t.T @ δ_t (each step's output) where
    Σ_t h_{t−1}.T @ δ_t belongs."""
    from ..frontend import tensor as T
    P = case.w
    Cs, Ts = _fitted(case)
    if not isinstance(P, T.Tensor) or not differs(Cs, Ts):
        return None
    chain = _chain(case.f, P)
    if chain is None:
        return None
    ushape = tuple(T.shape_of(chain[0].args[0]))
    nshape = tuple(T.shape_of(chain[0]))
    R, value_of_R, accumulate = right_operand(chain)
    Pc = T.tensor("_Pc", tuple(P.shape))
    Ks = [T.tensor(f"_K{t}", ushape) for t in range(len(chain))]
    Cn = [T.tensor(f"_C{t}", nshape) for t in range(len(chain))]
    slipped = None
    for last in _next_of_last(case.f, chain):
        nexts = [n.args[0] for n in chain[1:]] + [last]

        def extra(vals, nexts=nexts):
            pv = value_of_R(vals)
            out = {Pc.name: pv}
            for K, C, v in zip(Ks, Cn, nexts):
                kv = value_at(v, vals)
                out[K.name], out[C.name] = kv, -(kv @ pv)
            return out
        from .layer_hints import _rebuilt
        slipped = _rebuilt(case.f, _Late(chain, R, Pc, Ks, Cn))
        if _claim_is_gradient_of(case, slipped, extra):
            u0 = chain[0].args[0]
            first = u0.name if isinstance(u0, T.Tensor) else "the initial state"
            return Hint("the hidden state one step late",
                        f"d{P.name} is built from each step's output h_t "
                        f"where h_{{t−1}}, the state the step multiplies by {P.name} in the forward, "
                        f"belongs ({first} at the first step) — {accumulate}, d the gradient "
                        f"arriving at prev_h @ {R} (an RNN's dtanh, an LSTM's da), with the state "
                        f"before the step (hs[t - 1], or {first} at t = 0), not hs[t].")
    return None


def _first_use_left_out(case: Case) -> bool | None:
    """True: the claim for case.w is its gradient without the term of its first use (its use
    earliest in the forward); False: the claim is right; None: neither (or w is used once)."""
    D = case.derivation
    Cs, Ts = _fitted(case)
    if any(c is None for c in Cs):
        return None
    if all_same(Cs, Ts):
        return False
    uses = _step_uses(D, D.wrt_vars[case.k])
    if not 2 <= len(uses) <= MAX_STEPS:
        return None
    first = _upstream_of_all(D, [eqn for eqn, _ in uses])
    if first is None:
        return None
    vals = case.eval_vars(D.ir, [uses[first][1]])
    return True if all_same(Cs, [t - np.broadcast_to(v[0], t.shape) for v, t in zip(vals, Ts)]) else None


def _step_uses(D, wv):
    """[(consumer eqn, term)]: the uses of w's value at the steps — of w itself, or of what one
    consumer after another makes of it first (b broadcast once, then added at every step)."""
    from .fanout_paths import _users, fanout_terms
    users = _users(D.ir.ancestors([D.output]))
    v = wv
    while len(users.get(v.id, [])) == 1 and v.id != D.output.id:
        v = users[v.id][0].out
    return [(eqn, t) for u, eqn, t in fanout_terms(D, wv) if u.id == v.id]


def _upstream_of_all(D, eqns):
    """The index of the use whose value reaches the most of the forward (the first time step's: each
    step's value flows through every later one); None when two reach as much."""
    from .fanout_paths import _users
    users = _users(D.ir.ancestors([D.output]))

    def reach(v) -> int:
        seen, stack = set(), [v.id]
        while stack:
            for e in users.get(stack.pop(), []):
                if e.out.id not in seen:
                    seen.add(e.out.id)
                    stack.append(e.out.id)
        return len(seen)
    sizes = [reach(eqn.out) for eqn in eqns]
    top = max(sizes)
    return sizes.index(top) if sizes.count(top) == 1 else None


def loop_early_hint(case: Case):
    """Two or more variables the steps share lack their first step's term (the others are right, or
    are used once, as h0, and may be wrong); only in a recurrence (some parameter's products form
    a chain in time, `_chain`)."""
    from ..frontend import tensor as T
    if not any(isinstance(p, T.Tensor) and _chain(case.f, p) for p in case.params):
        return None
    missing, wrong = [], []
    for k, p in enumerate(case.params):
        other = replace(case, k=k)
        got = _first_use_left_out(other)
        if got:
            missing.append(p.name)
        elif got is None and not all_same(*_fitted(other)):
            wrong.append(p.name)
    if len(missing) < 2 or case.w.name not in missing + wrong:
        return None
    also = f"; {', '.join(wrong)} {'is' if len(wrong) == 1 else 'are'} wrong too" if wrong else ""
    return Hint("the loop stops one step early",
                f"the gradients of {', '.join(missing)} each lack the term "
                f"of their first use, the first time step's{also} — a backward loop such as "
                f"range(T - 1, 0, -1) never visits t = 0; range(T - 1, -1, -1) (or reversed(range(T))) does.")
