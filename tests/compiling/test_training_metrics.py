"""`mean_loss`, the loss metric of `train`: the loss over a whole dataset, as the program gives it
for one batch of all of it, whatever the minibatches it is evaluated in."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.compiling.training import mean_loss


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_mean_loss_over_minibatches_is_the_loss_of_one_batch_of_everything(reduction):
    """Before: a reduction="sum" program's batch sums were weighted by their sizes, as means are:
    (w·x − 1)² with w = 0 over 3000 samples in batches of 1024 gave 1001.2, not 3000."""
    w, x = sp.symbols("w x")
    prog = sg.compile((w * x - 1) ** 2, [w], [x], reduction=reduction, dtype="float64")
    X = np.random.default_rng(0).normal(size=3000)
    per_sample = (0.5 * X - 1) ** 2                                 # by hand
    want = per_sample.sum() if reduction == "sum" else per_sample.mean()
    assert mean_loss(prog, {"w": 0.5}, {"x": X}) == pytest.approx(want, rel=1e-12)
    assert mean_loss(prog, {"w": 0.5}, {"x": X}, batch_size=7) == pytest.approx(want, rel=1e-12)
    assert prog.loss({"w": 0.5}, {"x": X}) == pytest.approx(want, rel=1e-12)
