"""Name a binary cross-entropy's backward with its target flipped: a GAN's generator_loss
backward written as (σ(s))/N — the gradient for the target 0, the discriminator's label for fakes —
where the generator labels its fakes real, (σ(s) − 1)/N; or a discriminator_loss backward with the
real and fake targets swapped. f is derived again with each constant target of ones or zeros read
as the other (one at a time, then all at once).
"""
from __future__ import annotations

import sympy as sp

from .hint_kind import Hint
from .hint_case import Case, _claim_is_gradient_of, _fitted, differs

MAX_TARGETS = 4


def bce_target_hint(case: Case):
    from ..frontend import tensor as T
    from ..frontend.functions import softplus
    from .layer_hints import _rebuilt
    Cs, Ts = _fitted(case)
    if not differs(Cs, Ts) or not case.f.has(softplus):
        return None
    fulls = [n for n in dict.fromkeys(sp.preorder_traversal(case.f))
             if isinstance(n, T.Full) and n.args[0] in (0, 1)][:MAX_TARGETS]
    tries = [[n] for n in fulls] + ([fulls] if len(fulls) > 1 else [])
    for group in tries:
        sub = {n: T.Full(1 - n.args[0], n.args[1]) for n in group}
        if _claim_is_gradient_of(case, _rebuilt(case.f, sub)):
            said = ", ".join(f"{n} read as {sub[n]}" for n in group)
            return Hint("target flipped",
                        f"the claim for {case.w.name} is the gradient with the target {said} — binary "
                        f"cross-entropy with logits has d/ds = (σ(s) − y)/N, so the label decides the sign of "
                        f"σ(s) − y: a GAN's discriminator labels real logits 1 and fake ones 0; its generator "
                        f"labels its fakes 1 (generator_loss = bce(logits_fake, ones), the non-saturating loss).")
    return None
