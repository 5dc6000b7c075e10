"""The command lines that `symgrad --help` and `symgrad train --help` show run as shown (in a folder
with the files they name): before, the top-level help showed none, and train's named no exit status
nor a .csv."""
import shlex

import numpy as np
import pytest

from symgrad import cli
from standin_program import SOFTMAX_MODEL_FILE, blobs


def _examples(argv, capsys):
    assert cli.main(argv + ["--help"]) == 0
    out = capsys.readouterr().out
    shown = out.split("xamples:\n", 1)[1].split("\n\n", 2)          # the block under "Examples:"
    block = shown[1] if not shown[0].strip() else shown[0]
    return [shlex.split(line)[1:] for line in block.splitlines() if line.strip().startswith("symgrad ")]


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "model.py").write_text(SOFTMAX_MODEL_FILE)
    data = blobs(60, seed=0)
    np.savez("train.npz", **data)
    np.savez("val.npz", **blobs(30, sample_seed=7))
    table = np.c_[data["x"], data["t"]]                   # x's 4 columns, then t's 3 (one-hot)
    for name in ("train.csv", "data.csv"):
        np.savetxt(name, table, delimiter=",", header="x1,x2,x3,x4,t1,t2,t3", comments="")
    test = blobs(30, sample_seed=8)                       # evaluate's and predict's: held-out, new
    np.savez("test.npz", **test)
    np.savetxt("test.csv", np.c_[test["x"], test["t"]], delimiter=",")
    np.savetxt("new.csv", test["x"], delimiter=",")
    return tmp_path


@pytest.mark.parametrize("command", [[], ["train"], ["compile"], ["evaluate"], ["predict"]])
def test_the_help_examples_run(folder, capsys, command):
    if command == ["predict"]:                            # its examples read a checkpoint
        assert cli.main(["train", "model.py", "--data", "train.npz", "--epochs", "1", "--no-progress",
                         "--checkpoint", "ck.npz"]) == 0
    examples = _examples(command, capsys)
    assert len(examples) >= 3
    for argv in examples:
        code = cli.main(argv + (["--no-progress"] if argv[0] == "train" else []))
        out, err = capsys.readouterr()
        assert code == 0, (argv, err)


def test_train_help_names_the_exit_statuses_and_the_table(capsys):
    assert cli.main(["train", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "Exit status: 0 trained to the end, 1 diverged" in out and "130 Ctrl-C" in out
    assert ".csv" in out and "--validation-split FRACTION" in out and "(default 0)" in out


def test_train_help_says_how_to_write_every_file_its_examples_read(tmp_path, monkeypatch, capsys):
    """A newcomer copies the model file and the data's np.savez / np.savetxt lines from `symgrad train
    --help` and runs its examples in an empty folder. Before: the examples read digits.csv, a file
    the help never said how to make (and whose digits do not fit the help's 4-feature model)."""
    import re
    monkeypatch.chdir(tmp_path)
    assert cli.main(["train", "--help"]) == 0
    out = capsys.readouterr().out
    model = out.split("For example", 1)[1].split(":\n\n", 1)[1].split("\n\n", 1)[0]
    (tmp_path / "model.py").write_text("\n".join(line[4:] for line in model.splitlines()))
    flat = " ".join(out.split())
    writes = re.findall(r"np\.save(?:z|txt)\(.*?\)(?=[,.;]? |$)", flat)
    data, val = blobs(60, seed=0), blobs(30, sample_seed=7)
    names = {"np": np, "X": data["x"], "T": data["t"], "X_val": val["x"], "T_val": val["t"]}
    for call in writes:
        eval(call, names)                                                       # noqa: S307
    assert {"data.csv", "train.npz", "val.npz"} <= {p.name for p in tmp_path.iterdir()}
    examples = _examples(["train"], capsys)
    for argv in examples:
        code = cli.main(argv + ["--no-progress"])
        assert code == 0, (argv, capsys.readouterr().err)
