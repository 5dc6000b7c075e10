"""`sg.train` on arrays with missing values (NaN, as pandas' to_numpy gives them): a TrainingDataError
— a DataError, and a TrainingArgumentError as before — naming every column and the samples that hold
them, before the first step (not the first entry alone, and never a NaN loss)."""
import numpy as np
import pytest

import symgrad as sg
from symgrad.compiling.training import TrainingArgumentError, train
from symgrad.compiling.training_missing import missing_places
from symgrad.errors import DataError
from standin_program import SoftmaxRegression


def _program():
    return SoftmaxRegression(sg.optim.SGD(lr=0.1))


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 4))
    return x, np.eye(3)[rng.integers(0, 3, 200)]


def test_nan_in_the_features_names_each_column_and_its_samples():
    x, t = _data()
    x[5, 1] = x[77, 1] = x[123, 0] = np.nan
    with pytest.raises(DataError) as info:
        train(_program(), {"x": x, "t": t}, progress=False)
    e = info.value
    assert isinstance(e, TrainingArgumentError)          # what a caller caught before keeps working
    assert str(e).startswith("data['x'] has 3 missing values (NaN) among its 800 entries: column 0 at sample "
                             "123; column 1 at samples 5 and 77 (0-based, as X[sample, column]); fill them"), e


def test_nan_in_the_validation_set_is_named_as_such():
    x, t = _data()
    xv = x[:20].copy()
    xv[3, 2] = np.nan
    with pytest.raises(DataError, match=r"^validation\['x'\] has 1 missing value \(NaN\) .*column 2 at sample 3 "):
        train(_program(), {"x": x, "t": t}, validation={"x": xv, "t": t[:20]}, progress=False)


def test_an_infinity_is_not_called_missing():
    x, t = _data()
    x[4, 0] = np.inf
    with pytest.raises(DataError, match=r"non-finite entries \(NaN or inf\): 1 of 800, the first at index \(4, 0\)"):
        train(_program(), {"x": x, "t": t}, progress=False)


def test_the_places_of_one_value_per_sample_and_of_many():
    y = np.zeros(50)
    y[[3, 9, 10, 11, 12, 40]] = np.nan
    assert missing_places(y) == "samples 3, 9, 10, 11 and 2 more"
    img = np.zeros((4, 1, 2, 2))
    img[2, 0, 1, 0] = np.nan                              # entries flattened row-major: the third
    assert missing_places(img) == "column 2 at sample 2"
