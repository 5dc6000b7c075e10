"""`symgrad train --seed`: the same seed gives the same run twice — initial values, shuffling and the
--validation-split's held-out samples — and another seed another run."""
import numpy as np

from symgrad import cli
from symgrad.compiling.training import load
from standin_program import LABELS_MODEL_FILE, blobs


def test_the_same_seed_gives_the_same_run(tmp_path, capsys):
    # LABELS_MODEL_FILE gives no values: the initial ones are drawn with --seed
    (tmp_path / "model.py").write_text(LABELS_MODEL_FILE)
    d = blobs(90, seed=0)
    np.savetxt(tmp_path / "d.csv", np.c_[d["x"], d["t"].argmax(1)], delimiter=",")
    runs = []
    for seed, name in (("3", "a"), ("3", "b"), ("4", "c")):
        assert cli.main(["train", str(tmp_path / "model.py"), "--data", str(tmp_path / "d.csv"), "--epochs", "3",
                         "--batch-size", "8", "--validation-split", "0.2", "--no-progress", "--seed", seed,
                         "--checkpoint", str(tmp_path / f"{name}.npz")]) == 0
        runs.append((capsys.readouterr().out, load(tmp_path / f"{name}.npz").values))
    (out_a, a), (out_b, b), (out_c, c) = runs
    assert out_a == out_b
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert out_a != out_c and not np.array_equal(a["W"], c["W"])
