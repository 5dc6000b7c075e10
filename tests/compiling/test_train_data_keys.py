"""sg.train refuses a key of ``data`` that is no input of the program: the array would be ignored,
silently (a typo "lables" next to "labels" trained on nothing new; an input the program was not
compiled with was never read). A metric that reads such a column says so in its ``reads``."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.compiling.training import TrainingArgumentError, accuracy

N = sp.Symbol("N", integer=True, positive=True)


def _classifier():
    x, labels = sg.tensor("x", (N, 4)), sg.tensor("labels", (N,), integer=True)
    W = sg.tensor("W", (4, 3))
    return sg.compile(sg.cross_entropy(x @ W, labels), [W], [x, labels], outputs=[x @ W], dtype="float64")


def _data(n=16):
    rng = np.random.default_rng(0)
    return {"x": rng.normal(size=(n, 4)), "labels": rng.integers(0, 3, n)}


def test_a_misspelled_input_names_the_one_meant():
    data = _data()
    data["lables"] = data["labels"]
    with pytest.raises(TrainingArgumentError, match=r"data\['lables'\] is not an input.*did you mean 'labels'"):
        sg.train(_classifier(), data, progress=False)


def test_an_input_the_program_was_not_compiled_with_is_refused_listing_the_inputs():
    data = dict(_data(), mask=np.ones((16, 4)))
    with pytest.raises(TrainingArgumentError, match=r"data\['mask'\].*its inputs are 'x', 'labels'"):
        sg.train(_classifier(), data, progress=False)


def test_a_column_a_metric_reads_is_deliberate():
    """accuracy('digit') reads a column the loss does not: it lists it in .reads, so train takes it."""
    data = dict(_data())
    data["digit"] = data["labels"].copy()
    h = sg.train(_classifier(), data, epochs=2, progress=False, metrics={"acc": accuracy("digit")})
    assert len(h.metric("train_acc")) == 2
    with pytest.raises(TrainingArgumentError, match=r"data\['digit'\]"):
        sg.train(_classifier(), data, epochs=1, progress=False)         # without the metric: refused
