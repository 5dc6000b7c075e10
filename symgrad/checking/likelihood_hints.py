"""Name the slips of a negative log-likelihood's backward written through the probabilities, as
11-785's CTCLoss.backward is (dY[t, ext[r]] −= γ(t, r) / y[t, ext[r]], γ = αβ / P):

    1/y left out     dY −= γ: the claim is y ⊙ the gradient — the gradient with respect to log y,
                     the derivative of log left out
    γ not divided    γ = αβ without / P (Σ_r α(t, r) β(t, r), the sequence's probability, the same
                     at every t): the claim is P times the gradient, P = exp(−f), that is −∂P/∂y,
                     the probability's own gradient where its −log's belongs
    β holds y        β not divided by y after the backward recursion (α and β both hold y[t], so
                     α·β counts it twice): γ′(t, r) = α·β·y / Σ_r α·β·y, and dY −= γ′ / y gives
                     row t of the claim = −y[t] ⊙ γ[t] / Σ_c y[t, c]·γ[t, c], where
                     γ[t, c] = −y[t, c]·∂f/∂y[t, c] is the true posterior of symbol c at t
                     (a 2-d y, rows the time steps)

All three are read off the values alone: the claim against the gradient times w itself, or times exp(−f)
at each point. Asked only for a scalar f with a log in it. `hints.find_hint` asks them.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from .hint_kind import Hint
from .hint_case import Case, _fitted, differs, same


def _values(case: Case):
    return [np.asarray(p.example()[case.w.name], float) for p in case.points]


def _loss_with_log(case: Case) -> bool:
    """f is a loss (no dout: check_backward's out a scalar, or sg.check's f) with a log in it."""
    if case.outputs and any(d is not None for _, d in case.outputs):
        return False
    return any(isinstance(n, sp.log) for n in sp.preorder_traversal(case.f))


def log_factor_hint(case: Case):
    Cs, Ts = _fitted(case)
    if not differs(Cs, Ts) or not _loss_with_log(case):
        return None
    name = case.w.name
    if all(same(c, t * v) for c, t, v in zip(Cs, Ts, _values(case))):
        return Hint(f"1/{name} left out",
                    f"the claim is {name} ⊙ the gradient, the gradient with respect to "
                    f"log {name} (d log {name} = d{name} / {name}): divide it by {name} (11-785's CTCLoss.backward: dY[t, ext[r]] -= "
                    f"gamma[t, r] / logits[t, ext[r]]).")
    return None


def probability_factor_hint(case: Case):
    from ..core.evaluate import numeric
    Cs, Ts = _fitted(case)
    if not differs(Cs, Ts) or not _loss_with_log(case):
        return None
    Ps = []
    for p in case.points:
        v = np.asarray(numeric(case.f, p.example()), float)
        if v.shape != ():
            return None
        Ps.append(float(np.exp(-v)))
    if all(same(c, P * t) for c, t, P in zip(Cs, Ts, Ps)) and not all(abs(P - 1) < 1e-6 for P in Ps):
        return Hint("not divided by the probability",
                    f"the claim is P times the gradient, P = exp(−f) "
                    f"({Ps[0]:.4g} at the first point) — −∂P/∂{case.w.name}, the probability's "
                    f"own gradient, where that of −log P belongs, which divides it by P. In 11-785's CTC: "
                    f"gamma = alpha * beta / P, P = (alpha * beta).sum(axis=1), the same at every t "
                    f"(get_posterior_probs normalises each row).")
    return None


def beta_times_y_hint(case: Case):
    Cs, Ts = _fitted(case)
    if not differs(Cs, Ts) or not _loss_with_log(case) or len(case.w.shape) != 2:
        return None
    for c, t, v in zip(Cs, Ts, _values(case)):
        gamma = -v * t                                   # the posterior of symbol c at time t
        norm = (v * gamma).sum(axis=1, keepdims=True)
        if np.any(np.abs(norm) < 1e-12) or not same(c, -gamma / norm):
            return None
    name = case.w.name
    return Hint(f"β not divided by {name}",
                f"the claim is what γ = α·β / Σ_r α·β gives with β still holding "
                f"{name}[t] — α and β both include {name}[t, ext[r]], so α·β counts it twice and each time "
                f"step's posteriors are weighted by {name} before they are normalised. In 11-785's CTC: "
                f"get_backward_probs ends with beta[t, r] /= {name}[t, ext[r]].")


__all__ = ["log_factor_hint", "probability_factor_hint", "beta_times_y_hint"]
