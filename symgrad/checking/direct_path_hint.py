"""Name a gated cell's backward that leaves out the previous state's direct path: a GRU's
h' = (1 − z) ⊙ n + z ⊙ h passes d ⊙ z straight back to h (d the gradient reaching h'), besides the
paths through the gates and n — 11-785's dh = delta * z + …, torch's and d2l's dH = dout * Z + ….
The fan-out hint saw the term as one path of many, printed as SymPy's text; here it is named as the
backward writes it. An LSTM's c' = f ⊙ c + i ⊙ g: c has no other path, so a dprev_c without
dnext_c * f is a zero claim; `forget_gate_zero_hint` names that path for factor_hint. Where next_c
is an output of its own (an LSTM step returning it, with its dnext_c), `forget_gate_output_hint`
names a dprev_c that has next_h's path only.

`direct_path_hint` derives f again with the product gate ⊙ w held at w's value (z ⊙ W₀, W₀ holding w's value at the
point): w's direct path is gone, the gate's own gradient (through z ⊙ h's z) and every other path
are kept. `hints.find_hint` asks it (and `forget_gate_output_hint`) before the fan-out hint.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from ..frontend.functions import sigmoid
from .gate_factor_hints import _gate_of, _short
from .hint_kind import Hint
from .hint_case import Case, _claim_is_gradient_of, _fitted, differs


def _direct_products(f, w):
    """The products gate ⊙ w of f (w itself a factor) that are a term of a sum: a GRU's z ⊙ h, an
    LSTM's f ⊙ c; with whether the sum also holds (1 − gate) ⊙ … (a GRU's interpolation)."""
    out = []
    for s in dict.fromkeys(sp.preorder_traversal(f)):
        if not isinstance(s, sp.Add):
            continue
        for m in s.args:
            if isinstance(m, sp.Mul) and len(m.args) == 2 and w in m.args:
                gate = next((a for a in m.args if a != w and _gate_of(a) is not None), None)
                if gate is not None:
                    g = _gate_of(gate)
                    mixed = any(t is not m and t.has(g) and isinstance(t, sp.Mul)
                                and any(isinstance(a, sp.Add) and sp.S.One in a.args for a in t.args)
                                for t in s.args)
                    out.append((m, gate, mixed))
    return out


def direct_path_hint(case: Case):
    from ..frontend import tensor as T
    from .layer_hints import _rebuilt
    w = case.w
    Cs, Ts = _fitted(case)
    if not isinstance(w, T.Tensor) or not differs(Cs, Ts) or not case.f.has(sigmoid):
        return None
    for m, gate, mixed in _direct_products(case.f, w):
        if not mixed:      # a GRU's interpolation only: an LSTM's c reaches f through f ⊙ c alone
            continue
        W0 = T.tensor("_W0", tuple(w.shape))
        held = _rebuilt(case.f, {m: m.func(*(W0 if a == w else a for a in m.args))})   # the gate keeps its w
        if not _claim_is_gradient_of(case, held, lambda vals: {"_W0": np.asarray(vals[w.name], float)}):
            continue
        z, h = _short(gate, 40), w.name          # the update gate's text; the state's name
        return Hint("fan-out",
                    f"the claim for {h} leaves out {h}'s direct path to the new state through the "
                    f"update gate z = {z}: h' = (1 − z) ⊙ n + z ⊙ {h} passes d * z straight back to {h} "
                    f"(d the gradient reaching h'), besides the paths through the gates and n — "
                    f"d{h} = d * z + … (11-785's dh = delta * z + …; torch's and d2l's dH = dout * Z + …).")
    return None


def _only_through(f, w, m) -> bool:
    """Whether every occurrence of ``w`` in ``f`` is inside the product ``m``."""
    return not f.xreplace({m: sp.Dummy()}).has(w)


def forget_gate_zero_hint(case: Case):
    """A zero claim for a state ``w`` that reaches f only through gate ⊙ w (an LSTM's f ⊙ c): the
    direct path through the forget gate was left out, and with it everything. None otherwise."""
    from ..frontend import tensor as T
    w = case.w
    if not isinstance(w, T.Tensor) or not case.f.has(sigmoid):
        return None
    for m, gate, mixed in _direct_products(case.f, w):
        if mixed or not _only_through(case.f, w, m):
            continue
        from .activation_hints import _where
        inner = _gate_of(gate)
        # the forget gate's text (its slice of a stacked gate, a[:, H:2H], when it is one); the state's name
        f_text, c = (_where(inner, []) if isinstance(inner.args[0], T.Index) else _short(gate, 40)), w.name
        how = (f"d{c} = dc' * f, dc' the whole gradient reaching c' (cs231n's dprev_c = dnext_c * f, "
               f"dnext_c with dnext_h's path through tanh(next_c) added)" if case.claim_expr is None else
               f"∂f/∂{c} = δc' ⊙ f, δc' = ∂f/∂c' the whole gradient reaching c' (through h' = o ⊙ tanh(c') too)")
        return Hint("the claim is 0 but the gradient is not",
                    f"the claim for {c} is 0, but {c} reaches the output through the forget gate "
                    f"f = {f_text}: c' = f ⊙ {c} + i ⊙ g passes the gradient reaching c' times f straight back "
                    f"to {c} — its only path: {how}.")
    return None


def forget_gate_output_hint(case: Case):
    """A cell whose new state c' = f ⊙ c + i ⊙ g is an output of its own (an LSTM step's next_c, with
    its dnext_c): a dprev_c with only next_h's path, without dnext_c * f. f is derived again without
    the term Σ dnext_c ⊙ F₀ ⊙ c (F₀ holding the gate's value): its gradient is the claim."""
    from ..frontend import tensor as T
    from .activation_hints import _where
    from .hint_case import value_at
    w = case.w
    Cs, Ts = _fitted(case)
    if not isinstance(w, T.Tensor) or not case.outputs or not differs(Cs, Ts) or not case.f.has(sigmoid):
        return None
    for m, gate, mixed in _direct_products(case.f, w):
        if mixed:
            continue
        for out, dout in case.outputs:
            if dout is None or not (out == m or (isinstance(out, T.Ewise) and out.args[0].has(m))):
                continue
            F0 = T.tensor("_F0", tuple(w.shape))
            slipped = case.f - (dout * F0 * w).sum()
            inner = _gate_of(gate)
            if not _claim_is_gradient_of(case, slipped,
                                         lambda vals: {"_F0": value_at(inner, vals, tuple(w.shape))}):
                continue
            f_text = _where(inner, []) if isinstance(inner.args[0], T.Index) else _short(gate, 40)
            c, d = w.name, dout.name
            return Hint("an output's own path left out",
                        f"the claim for {c} leaves out the term {d} * f ({d}: the upstream gradient of the new cell "
                        f"state, dnext_c) of that state's own output "
                        f"(f = {f_text}, the forget gate): c' = f ⊙ {c} + i ⊙ g is returned too, and its upstream "
                        f"gradient {d} reaches {c} through f ⊙ {c} — d{c} = (dnext_c + dnext_h * o * "
                        f"(1 - tanh(next_c)**2)) * f, not only next_h's part (cs231n's dprev_c = dnext_c * f "
                        f"after dnext_c += dnext_h * o * (1 - tanh(next_c)**2)).")
    return None


__all__ = ["direct_path_hint", "forget_gate_zero_hint", "forget_gate_output_hint"]
