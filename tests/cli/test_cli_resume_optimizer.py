"""`symgrad train --resume CK --optimizer OTHER`: the checkpoint's values go on under the other
optimizer, whose state starts afresh, and the command says so (it exited 2 with "the optimizer
state has no slot 'momentum_buffer'; start from program.init_state(values)", advice for Python)."""
import numpy as np

from symgrad import cli
from symgrad.compiling.training import load
from standin_program import SOFTMAX_MODEL_FILE, blobs


def _adam_run(tmp_path):
    """SOFTMAX_MODEL_FILE (Adam) on 64 samples, 4 steps an epoch: the checkpoint's path, and the
    `symgrad train` arguments that save it there (each test adds --epochs and --resume)."""
    (tmp_path / "model.py").write_text(SOFTMAX_MODEL_FILE)
    np.savez(tmp_path / "data.npz", **blobs(64, seed=0))
    ck = tmp_path / "ck.npz"
    return ck, ["train", str(tmp_path / "model.py"), "--data", str(tmp_path / "data.npz"), "--batch-size", "16",
                "--no-progress", "--checkpoint", str(ck)]


def test_resume_under_another_optimizer_starts_its_state_afresh_and_says_so(tmp_path, capsys):
    ck, base = _adam_run(tmp_path)
    assert cli.main(base + ["--epochs", "1"]) == 0, capsys.readouterr().err
    adam = load(ck)
    assert sorted(k for k in adam.state if k != "t") == ["exp_avg", "exp_avg_sq"]
    capsys.readouterr()
    assert cli.main(base + ["--epochs", "1", "--resume", str(ck), "--optimizer", "momentum"]) == 0
    err = capsys.readouterr().err
    assert f"--resume {ck} holds another optimizer's state (slots exp_avg, exp_avg_sq)" in err
    assert "SGD's state starts afresh" in err
    after = load(ck)
    assert (after.step, after.epoch) == (8, 2)                  # the step and epoch counts go on
    assert after.state["t"] == 4 and "momentum_buffer" in after.state and "exp_avg" not in after.state
    assert not np.array_equal(after.values["W"], adam.values["W"])
    # the same optimizer again: no note
    assert cli.main(base + ["--epochs", "1", "--resume", str(ck), "--optimizer", "momentum"]) == 0
    assert "another optimizer" not in capsys.readouterr().err


def test_resume_says_where_it_goes_on_from(tmp_path, capsys):
    # it said nothing: a resumed run printed "epoch 2 ..." with no word of the checkpoint, its step
    # count or the optimizer's t (which a schedule reads)
    ck, base = _adam_run(tmp_path)
    assert cli.main(base + ["--epochs", "2"]) == 0
    assert "resuming" not in capsys.readouterr().err
    assert cli.main(base + ["--epochs", "3", "--resume", str(ck)]) == 0
    out, err = capsys.readouterr()
    assert (f"resuming from {ck}, saved after epoch 2 (step 8): epochs 3 to 5 follow; the optimizer's state "
            f"and step count go on (t = 8, " in err), err
    assert out.splitlines()[0].startswith("epoch 3 ")
    assert load(ck).state["t"] == 20                               # 8 + 3 epochs of 4 steps
    assert cli.main(base + ["--epochs", "1", "--resume", str(ck), "--optimizer", "momentum"]) == 0
    err = capsys.readouterr().err
    assert "saved after epoch 5 (step 20): epoch 6 follows" in err and "t = " not in err, err


def test_resume_part_way_through_an_epoch_says_so_and_takes_its_rest(tmp_path, capsys):
    # what Ctrl-C or SIGTERM saves 16 samples into epoch 2: the rest of that epoch comes first
    from symgrad.compiling.training import save
    ck, base = _adam_run(tmp_path)
    assert cli.main(base + ["--epochs", "1"]) == 0
    one = load(ck)
    save(ck, one.values, one.state, step=5, epoch=1, seen=16)
    capsys.readouterr()
    assert cli.main(base + ["--epochs", "3", "--resume", str(ck)]) == 0
    out, err = capsys.readouterr()
    assert (f"resuming from {ck}, saved 16 samples into epoch 2 (step 5): the rest of epoch 2 and epochs 3 to 4 "
            f"follow" in err), err
    assert [line.split()[1] for line in out.splitlines() if line.startswith("epoch")] == ["2", "3", "4"]
    after = load(ck)
    assert (after.step, after.epoch, after.seen) == (5 + 3 + 8, 4, 0)     # 48 samples left of epoch 2: 3 steps


def test_resume_under_another_seed(tmp_path, capsys):
    # --validation-split draws the held-out samples with --seed: resumed under another seed, the run
    # validated on samples the first one trained on, and nothing said so
    ck, base = _adam_run(tmp_path)
    base = base + ["--epochs", "1"]
    assert cli.main(base + ["--validation-split", "0.25", "--seed", "3"]) == 0
    capsys.readouterr()
    assert cli.main(base + ["--validation-split", "0.25", "--resume", str(ck)]) == 2
    err = capsys.readouterr().err
    assert (f"--resume {ck} was saved by a run with --seed 3, whose --validation-split held out other samples "
            f"than --seed 0 does" in err and "give --seed 3" in err), err
    assert load(ck).step == 3
    assert cli.main(base + ["--validation-split", "0.25", "--resume", str(ck), "--seed", "3"]) == 0
    assert "saved by a run with" not in capsys.readouterr().err
    assert cli.main(base + ["--resume", str(ck)]) == 0          # no split: a warning, one line
    err = capsys.readouterr().err
    assert "warning: the checkpoint was saved by a run with seed 3, and this run's seed is 0" in err, err


def test_a_plain_sgd_checkpoint_resumed_under_adam_says_it_had_no_slots(tmp_path, capsys):
    """Before: "holds another optimizer's state (slots ); ..." — an empty list of slots."""
    ck, base = _adam_run(tmp_path)
    assert cli.main(base + ["--epochs", "1", "--optimizer", "sgd"]) == 0, capsys.readouterr().err
    capsys.readouterr()
    assert cli.main(base + ["--epochs", "1", "--resume", str(ck)]) == 0
    err = capsys.readouterr().err
    assert f"--resume {ck} holds another optimizer's state (no slots: plain SGD's); Adam's state starts afresh" in err
