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


def test_resume_under_another_split_or_from_best_under_another_seed(tmp_path, capsys):
    # --validation-split 0.3 after 0.2 held out samples the first run trained on, and validated on
    # them, silently; a --best checkpoint recorded no seed, so resuming it under another --seed was
    # not refused as the --checkpoint one was
    (tmp_path / "model.py").write_text(LABELS_MODEL_FILE)
    d = blobs(50, seed=0)
    np.savetxt(tmp_path / "d.csv", np.c_[d["x"], d["t"].argmax(1)], delimiter=",")
    ck, best = tmp_path / "ck.npz", tmp_path / "best.npz"
    base = ["train", str(tmp_path / "model.py"), "--data", str(tmp_path / "d.csv"), "--batch-size", "8",
            "--no-progress", "--lr", "0.05"]
    assert cli.main(base + ["--epochs", "3", "--validation-split", "0.2", "--checkpoint", str(ck),
                            "--patience", "5", "--best", str(best)]) == 0
    assert (load(ck).samples, load(ck).seed) == (40, 0) and (load(best).samples, load(best).seed) == (40, 0)
    capsys.readouterr()
    for resume in (ck, best):
        assert cli.main(base + ["--epochs", "1", "--validation-split", "0.3", "--resume", str(resume)]) == 2
        err = capsys.readouterr().err
        assert f"--resume {resume} was saved by a run that trained on 40 samples, but --validation-split 0.3 " \
               f"of --data {tmp_path / 'd.csv'}'s 50 leaves 35" in err and len(err.splitlines()) == 1
        assert cli.main(base + ["--epochs", "1", "--validation-split", "0.2", "--resume", str(resume),
                                "--seed", "1"]) == 2
        assert f"--resume {resume} was saved by a run with --seed 0" in capsys.readouterr().err
    assert cli.main(base + ["--epochs", "1", "--validation-split", "0.2", "--resume", str(ck)]) == 0
    assert "trained on" not in capsys.readouterr().err          # the same options: nothing to say
    assert cli.main(base + ["--epochs", "1", "--resume", str(ck)]) == 0       # all 50 now: said, not refused
    err = capsys.readouterr().err
    assert "warning: --resume" in err
    assert "ResumeDataWarning" not in err        # said once, in the command's words (sg.train says it too)
