"""symgrad train as a new user meets it: --help says how to make the .npz and what the lines it
prints mean, and the counts (--epochs, --batch-size, --seed) are refused before the model file is
run, naming the option."""
import pytest

from symgrad.cli import main

NEVER_RUN = "raise RuntimeError('the model file ran')\n"


def test_train_help_says_how_to_make_the_data_and_what_it_prints(capsys):
    assert main(["train", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert 'np.savez("data.npz", x=X, t=T)' in out
    for said in ("loss, the mean of its minibatch losses", "val_loss", "train_loss", "train_accuracy",
                 "for --epochs more epochs",
                 "A checkpoint is evaluated on a test file by symgrad evaluate, run on new data by symgrad predict"):
        assert said in out


@pytest.mark.parametrize("argv, said", [
    (["--epochs", "-1"], "argument --epochs: expected an integer >= 0, got -1"),
    (["--batch-size", "0"], "argument --batch-size: expected an integer >= 1, got 0"),
    (["--seed", "-5"], "argument --seed: expected an integer >= 0, got -5"),
    (["--epochs", "1e3"], "argument --epochs: expected an integer >= 0, got '1e3'"),
])
def test_train_counts_are_refused_before_the_model_file_runs(argv, said, tmp_path, capsys):
    model = tmp_path / "model.py"
    model.write_text(NEVER_RUN)
    code = main(["train", str(model), "--data", str(tmp_path / "d.npz"), *argv])
    err = capsys.readouterr().err
    assert code == 2 and said in err and "ran" not in err and err.count("\n") == 1


def test_check_seed_names_the_option(capsys):
    code = main(["check", "x**2", "--wrt", "x", "--claimed", "2*x", "--seed", "-1"])
    assert code == 2 and "argument --seed: expected an integer >= 0, got -1" in capsys.readouterr().err
