"""A float64 program's loss, gradients and (optionally) one SGD step against torch's numbers."""
from __future__ import annotations

import numpy as np
import pytest


def assert_equals_torch(prog, vals: dict, batch: dict, want_loss: float, want: dict, lr: float | None = None) -> None:
    """``prog.loss`` is torch's ``want_loss`` (rel 1e-12) and ``prog.grad`` torch's gradients ``want``
    (name -> array, rtol 1e-10); with ``lr``, ``prog.step`` from ``vals`` (SGD, no state) moves
    each parameter to ``vals[k] - lr * want[k]``."""
    assert prog.loss(vals, batch) == pytest.approx(want_loss, rel=1e-12)
    got = prog.grad(vals, batch)
    for k in vals:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-10, atol=1e-14, err_msg=k)
    if lr is not None:
        new, _ = prog.step({k: v.copy() for k, v in vals.items()}, None, batch)
        for k in vals:
            np.testing.assert_allclose(new[k], vals[k] - lr * want[k], rtol=1e-10, atol=1e-13, err_msg=k)
