"""ctc_hints.py's CTC recursion against CTC's definition (a sum over every alignment that collapses
to the target, enumerated), and the hint only where f is a CTC loss."""
import itertools

import numpy as np

import symgrad as sg
from symgrad.checking.ctc_hints import RULES, _extended, _gradient


def _by_enumeration(y, target, blank):
    """∂(−log P)/∂y, P = Σ over the alignments π (repeats merged, blanks dropped, give the target)
    of Π_t y[t, π_t]: ∂P/∂y[t, c] sums the products of the alignments with π_t = c, over y[t, c]."""
    P, dP = 0.0, np.zeros(y.shape)
    for pi in itertools.product(range(y.shape[1]), repeat=y.shape[0]):
        merged = [c for i, c in enumerate(pi) if i == 0 or c != pi[i - 1]]
        if [c for c in merged if c != blank] != target:
            continue
        prod = np.prod(y[np.arange(len(pi)), pi])
        P += prod
        for t, c in enumerate(pi):
            dP[t, c] += prod / y[t, c]
    return -dP / P


def test_gradient_is_ctc_by_enumeration():
    rng = np.random.default_rng(3)
    y = rng.uniform(0.05, 1.0, (6, 4))
    for target in ([1, 1, 3], [2, 3]):
        ext, skip = _extended(target, 0, RULES["ctc"])
        np.testing.assert_allclose(_gradient(y, ext, skip), _by_enumeration(y, target, 0), rtol=1e-9)


def test_no_ctc_hint_for_another_log_loss():
    y = sg.tensor("y", (3, 2))
    f = -sg.log(y[0, 0] * y[1, 1] * y[2, 0] + y[0, 1] * y[1, 1] * y[2, 1] + y[0, 0] * y[1, 0] * y[2, 1])

    def wrong(dout, y):                      # the gradient with the third product left out of P
        P = y[0, 0] * y[1, 1] * y[2, 0] + y[0, 1] * y[1, 1] * y[2, 1]
        g = np.zeros_like(y)
        g[0, 0], g[2, 0] = y[1, 1] * y[2, 0], y[0, 0] * y[1, 1]
        g[0, 1], g[2, 1] = y[1, 1] * y[2, 1], y[0, 1] * y[1, 1]
        g[1, 1] = y[0, 0] * y[2, 0] + y[0, 1] * y[2, 1]
        return -dout * g / P
    r = sg.check_backward(f, y, wrong, assumptions={"y": (0.1, 1.0)})
    assert r.verdict == "not equal" and (r.hint is None or "CTC" not in r.hint)
