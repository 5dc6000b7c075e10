"""An exception from on_epoch or a metric part-way through training carries the History so far (as
Ctrl-C's KeyboardInterrupt does): before, the epochs trained were lost with it unless a checkpoint
was given."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg

w, x, y = sp.Symbol("w"), sp.Symbol("x"), sp.Symbol("y")
X = np.linspace(-1, 1, 32)
DATA = {"x": X, "y": 3 * X}


def _program():
    return sg.compile((w * x - y) ** 2, [w], [x, y], optimizer=sg.optim.SGD(lr=0.1))


def test_a_failing_on_epoch_carries_what_was_trained():
    def on_epoch(record):
        if record["epoch"] == 3:
            raise ValueError("my callback broke")
    with pytest.raises(ValueError, match="my callback broke") as e:
        sg.train(_program(), DATA, epochs=5, batch_size=8, progress=False, on_epoch=on_epoch, patience=5)
    h = e.value.history
    assert [r["epoch"] for r in h.epochs] == [1, 2, 3] and h.step == 12
    again = sg.train(_program(), DATA, epochs=3, batch_size=8, progress=False)      # the same 12 steps
    assert h.values["w"] == pytest.approx(again.values["w"], rel=1e-12)
    # patience's best epoch so far, as after Ctrl-C (epoch 3 was not yet weighed: on_epoch comes first)
    assert h.best is not None and h.best.epoch == 2


def test_a_metric_failing_later_carries_it_too():
    calls = []

    def flaky(program, values, data):
        calls.append(1)
        if len(calls) > 2:                  # the probe and epoch 1 pass
            raise RuntimeError("metric server down")
        return 0.0
    with pytest.raises(RuntimeError) as e:
        sg.train(_program(), DATA, epochs=4, batch_size=8, progress=False, metrics={"f": flaky})
    assert e.value.history.step == 8 and len(e.value.history.epochs) == 1
