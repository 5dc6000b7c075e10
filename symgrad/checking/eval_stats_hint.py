"""Name a norm layer's evaluation-mode backward written with the training formula: 11-785's
BatchNorm1d at inference normalises with its running statistics, NZ = (Z − running_M) /
sqrt(running_V + ε), constants of the forward, so dLdZ = dLdBZ ⊙ BW / sqrt(running_V + ε) — the
training backward's dLdV and dLdM paths (the batch's own mean and variance) do not exist there.

f is derived again with the running statistics replaced by the batch's, mean(w, axis=0) and
var(w, axis=0) (each tensor of f that is not checked and has w's shape reduced over axis 0, tried as
the mean and as the variance), and the claim compared with that gradient. `hints.find_hint` asks it.
"""
from __future__ import annotations

from itertools import permutations

from .hint_kind import Hint
from .hint_case import Case, _claim_is_gradient_of, _fitted, differs


def _stat_tensors(case: Case):
    """The tensors of f, not checked, with w's shape reduced over axis 0 (kept as 1, or dropped)."""
    from ..frontend import tensor as T
    shape = tuple(case.w.shape)
    if len(shape) < 2:
        return [], None
    kept, dropped = (1,) + shape[1:], shape[1:]
    out = sorted((t for t in case.f.atoms(T.Tensor) if t not in case.params
                  and tuple(t.shape) in (kept, dropped)), key=lambda t: t.name)
    return out, kept


def eval_stats_hint(case: Case):
    from ..frontend.tensor_reduce import mean, var
    Cs, Ts = _fitted(case)
    if not differs(Cs, Ts):
        return None
    stats, kept = _stat_tensors(case)
    if len(stats) < 2 or len(stats) > 4:
        return None
    w = case.w
    for M, V in permutations(stats, 2):
        keep = lambda t: tuple(t.shape) == kept          # noqa: E731
        sub = {M: mean(w, axis=0, keepdims=keep(M)), V: var(w, axis=0, keepdims=keep(V))}
        try:
            slipped = case.f.xreplace(sub)
        except Exception:   # noqa: BLE001 - a declaration this recogniser does not follow
            continue
        if _claim_is_gradient_of(case, slipped):
            return Hint("training formula in evaluation mode",
                        f"the claim for {w.name} is the gradient with "
                        f"{M.name} and {V.name} replaced by the batch's mean and variance of {w.name} — the "
                        f"training backward, with its paths through the batch statistics (dLdV, dLdM). "
                        f"Here f normalises with {M.name} and {V.name}, stored constants that do not "
                        f"depend on {w.name}, so d{w.name} = dout ⊙ gamma / sqrt({V.name} + eps) alone "
                        f"(11-785's BatchNorm1d.backward at inference).")
    return None


__all__ = ["eval_stats_hint"]
