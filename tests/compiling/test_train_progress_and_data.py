"""What sg.train's progress bar shows at an epoch's end, and where bad data is named."""
import numpy as np
import pytest

from symgrad import optim as O
from symgrad.compiling.training import TrainingArgumentError, train
from standin_program import SoftmaxRegression, blobs, init


def test_epoch_end_names_the_mean_loss_not_the_step_loss(capsys):
    prog = SoftmaxRegression(O.SGD(lr=0.1))
    h = train(prog, blobs(60), epochs=2, batch_size=20, progress=True, values=init())
    err = capsys.readouterr().err
    mean = h.epochs[-1]["loss"]
    # the bar's last postfix is the epoch's record: its mean loss under its own name
    assert f"mean_loss={mean:.4g}" in err
    last = err.replace("\r", "\n").strip().splitlines()[-1]
    assert " loss=" not in last and ",loss=" not in last


def test_non_finite_data_names_the_first_bad_sample():
    data = blobs(20)
    x = np.asarray(data["x"], dtype=float).copy()
    x[7, 1] = np.inf
    x[12, 0] = np.nan
    with pytest.raises(TrainingArgumentError) as e:
        train(SoftmaxRegression(O.SGD(lr=0.1)), {**data, "x": x}, epochs=1, progress=False, values=init())
    msg = str(e.value)
    assert f"2 of {x.size}" in msg and "index (7, 1) (value inf)" in msg
