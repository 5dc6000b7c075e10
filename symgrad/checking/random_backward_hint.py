"""A hand-written backward that draws random numbers: `check_backward` calls it once per point, so
a backward that makes a new dropout mask (``mask = (np.random.rand(*x.shape) < p) / p`` in the
backward, where the forward's mask belongs) is "not equal" with nothing to say why. When no other
hint fits, the backward is called twice more at the counterexample's point: two different answers
at the same values name the slip — the backward is no function of its inputs."""
from __future__ import annotations

import numpy as np

from .hint_kind import Hint


def _differ(a, b) -> bool:
    a, b = (a if isinstance(a, list) else [a]), (b if isinstance(b, list) else [b])
    return any(np.shape(x) != np.shape(y) or not np.allclose(x, y, rtol=1e-9, atol=1e-12)
               for x, y in zip(a, b))


def random_backward_hint(result, claim, mask_names: dict):
    """The hint for ``result`` (sg.check's, before the masks are renamed) when ``claim`` — the
    wrapped backward — gives two different gradients at the counterexample's point; None otherwise
    (and where the second calls raise: what they raise is the verdict's business, not the hint's)."""
    cx = result.counterexample
    if result.verdict != "not equal" or result.hint is not None or cx is None or not cx.point:
        return None
    try:
        first, second = claim(dict(cx.point)), claim(dict(cx.point))
    except Exception:   # noqa: BLE001 - a backward that cannot be called again here: no hint
        return None
    if not _differ(first, second):
        return None
    mask = (f" Use the mask the forward drew, passed to the backward as {', '.join(mask_names.values())}."
            if mask_names else " Use what the forward computed (its cache), not a new draw.")
    return Hint("random numbers in the backward",
                "called twice at the same point, the backward returned two different gradients: it draws "
                "random numbers (np.random … in the backward — a new dropout mask, say), so it is no "
                "function of its inputs and cannot be the gradient." + mask)


__all__ = ["random_backward_hint"]
