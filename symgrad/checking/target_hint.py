"""Targets: a softmax cross-entropy's claim right for distribution targets (or one-hot ones) only —
`check` run again with the targets drawn the other way."""
from __future__ import annotations

from ..frontend.functions import LogSoftmax, Softmax
from .hint_kind import Hint
from .hint_case import Case


_busy = []    # target_hint re-runs check, which must not try target_hint again


def target_hint(case: Case):
    """softmax(z) − t is ∂/∂z of −Σ t log softmax(z) only when Σt = 1: the full gradient is
    softmax(z)·Σt − t. `check` draws such a target on the simplex by default (targets=
    "distribution"); when it was asked to draw it freely (targets="free") and the claim becomes
    right for distribution targets, say so — and when a claim right for one-hot targets fails for
    soft ones (a distribution), say that."""
    from .sampling import target_symbols
    from .soft_targets import tensor_targets
    from ..frontend.tensor_softmax import LogSoftmaxT, SoftmaxT
    retry = {"free": "distribution", "distribution": "one-hot"}.get(case.targets)
    if _busy or retry is None or case.check is None or case.claim_expr is None \
            or not case.f.has(Softmax, LogSoftmax, SoftmaxT, LogSoftmaxT):
        return None
    ts = [t.name for t in [*target_symbols(case.f, case.params), *tensor_targets(case.f, case.params)]]
    if not ts:
        return None
    _busy.append(retry)
    try:
        r = case.check(case.f, case.w, case.claim_expr, targets=retry,
                       policy=case.derivation.ir.policy)
    finally:
        _busy.pop()
    if r.verdict != "equal":
        return None
    t = " and ".join(ts)
    if retry == "distribution":
        return Hint("targets",
                    f"the claim is right when {t} is a distribution (entries ≥ 0 summing to 1, "
                    f"one-hot included), as the derivation of softmax(z) − t assumes, but not for a "
                    f"general {t} (then the gradient is softmax(z)·Σt − t); targets='distribution', the "
                    f"default, draws {t} so.")
    return Hint("targets",
                f"the claim is right when {t} is one-hot, but not for every distribution {t} "
                f"(soft labels, entries summing to 1); if your targets are one-hot, check it with "
                f"targets='one-hot'.")
