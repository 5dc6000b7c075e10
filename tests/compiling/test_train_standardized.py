"""Standardization statistics (`training_standardize`) against scikit-learn's StandardScaler, and
recorded by `sg.train(standardized=...)` in every checkpoint it writes and in `history.best`."""
import json

import numpy as np
import pytest

import symgrad as sg
from symgrad.compiling.training import TrainingArgumentError, save, train
from symgrad.compiling.training_checkpoint import CheckpointError
from symgrad.compiling.training_standardize import fit_standardization, standardized
from standin_program import SoftmaxRegression, blobs, init


def test_the_statistics_are_standard_scalers():
    sklearn = pytest.importorskip("sklearn.preprocessing")
    rng = np.random.default_rng(1)
    X = rng.normal(size=(50, 4)) * [1, 1e4, 1e-3, 7] + [0, 5e4, 2, -3]
    X[:, 2] = 4.0                                           # a constant column: centred, scale 1 (not 0)
    scaler = sklearn.StandardScaler().fit(X)
    stats = fit_standardization({"x": X, "y": np.arange(50)}, ["x"])
    np.testing.assert_allclose(stats["x"]["mean"], scaler.mean_, rtol=1e-12)
    np.testing.assert_allclose(stats["x"]["scale"], scaler.scale_, rtol=1e-12)
    new = rng.normal(size=(5, 4))
    out = standardized({"x": new, "y": np.arange(5)}, stats)
    np.testing.assert_allclose(out["x"], scaler.transform(new), rtol=1e-12)
    np.testing.assert_array_equal(out["y"], np.arange(5))         # not named: as it was


def test_every_checkpoint_and_the_best_record_them(tmp_path):
    data = blobs(40)
    stats = fit_standardization(data, ["x"])
    data = standardized(data, stats)
    h = train(SoftmaxRegression(sg.optim.SGD(lr=0.1)), data, epochs=3, batch_size=8, progress=False, values=init(),
              validation=data, patience=5, checkpoint=tmp_path / "ck.npz", standardized=stats)
    for ck in (sg.load_checkpoint(tmp_path / "ck.npz"), h.best):
        np.testing.assert_array_equal(ck.standardized["x"]["mean"], stats["x"]["mean"])
        np.testing.assert_array_equal(ck.standardized["x"]["scale"], stats["x"]["scale"])
    save(tmp_path / "best.npz", **vars(h.best))
    assert "standardized x" in repr(sg.load_checkpoint(tmp_path / "best.npz"))
    # resumed from the checkpoint without standardized=: its statistics go on into the next checkpoint
    train(SoftmaxRegression(sg.optim.SGD(lr=0.1)), data, epochs=1, batch_size=8, progress=False,
          values=sg.load_checkpoint(tmp_path / "ck.npz"), checkpoint=tmp_path / "ck2.npz")
    np.testing.assert_array_equal(sg.load_checkpoint(tmp_path / "ck2.npz").standardized["x"]["mean"],
                                  stats["x"]["mean"])


def test_a_plain_run_records_none(tmp_path):
    train(SoftmaxRegression(sg.optim.SGD(lr=0.1)), blobs(16), progress=False, values=init(),
          checkpoint=tmp_path / "ck.npz")
    assert sg.load_checkpoint(tmp_path / "ck.npz").standardized is None


def test_bad_statistics_are_refused(tmp_path):
    bad = {"x": {"mean": np.zeros(2), "scale": np.array([1.0, 0.0])}}
    with pytest.raises(TrainingArgumentError, match="standardized: .*scale that is not positive"):
        train(SoftmaxRegression(sg.optim.SGD(lr=0.1)), blobs(16), progress=False, values=init(), standardized=bad)
    with pytest.raises(TrainingArgumentError, match=r"standardized: its standardization of 'x' is not"):
        train(SoftmaxRegression(sg.optim.SGD(lr=0.1)), blobs(16), progress=False, values=init(),
              standardized={"x": np.zeros(2)})


def test_a_checkpoint_whose_statistics_are_tampered_with_is_refused(tmp_path):
    path = tmp_path / "ck.npz"
    save(path, {"w": np.ones(2)}, standardized={"x": {"mean": np.zeros(2), "scale": np.ones(2)}})
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    index = json.loads(str(arrays["index"]))
    index["standardized"] = {"dict": [["x", {"scalar": 3}]]}
    arrays["index"] = np.array(json.dumps(index))
    np.savez(path, **arrays)
    with pytest.raises(CheckpointError, match="its standardization of 'x' is not"):
        sg.load_checkpoint(path)


def test_the_columns_are_recorded_alike(tmp_path):
    cols = {"x": ["a", "b", "c", "d"], "t": ["k0", "k1", "k2"]}
    h = train(SoftmaxRegression(sg.optim.SGD(lr=0.1)), blobs(16), progress=False, values=init(), patience=2,
              checkpoint=tmp_path / "ck.npz", columns=cols)
    assert sg.load_checkpoint(tmp_path / "ck.npz").columns == cols and h.best.columns == cols
    with pytest.raises(TrainingArgumentError, match=r"columns: its columns are not \{input name: \[column names\]\}"):
        train(SoftmaxRegression(sg.optim.SGD(lr=0.1)), blobs(16), progress=False, values=init(), columns=["a"])


def test_the_same_entries_in_another_layout_are_standardized_alike():
    stats = fit_standardization({"x": np.arange(12.0).reshape(3, 4, 1)}, ["x"])     # a per-example column
    flat = standardized({"x": np.arange(12.0).reshape(3, 4)}, stats)["x"]
    np.testing.assert_allclose(flat, (np.arange(12.0).reshape(3, 4) - [4, 5, 6, 7]) / np.sqrt(32 / 3))
    with pytest.raises(ValueError, match="its samples are of shape \\(3,\\), but it was standardized with the "
                                         "statistics of samples of shape \\(4, 1\\)"):
        standardized({"x": np.ones((2, 3))}, stats)
