"""`symgrad compile` and `symgrad train` on a model file.

Until the compiler (sg.compile, branch `numpy`) is merged, the command's call into it,
`symgrad.cli._model.compile_program`, is replaced by a stand-in that records its arguments and
returns the NumPy stand-in softmax regression of tests/standin_program.py — the model the file below
declares. The error paths that never reach the compiler run the real console entry point.
"""
import os
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad import cli, optim as O
from symgrad.cli import _model
from symgrad.compiling.training import load
from standin_program import SOFTMAX_MODEL_FILE, SoftmaxRegression, blobs, softmax_run_files

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

MODEL = SOFTMAX_MODEL_FILE


class Compiled(SoftmaxRegression):
    source = "# the generated module\n"

    def save(self, path):
        with open(path, "w") as f:
            f.write(self.source)


@pytest.fixture
def calls(monkeypatch):
    seen = []

    def compile_program(model, target="numpy", optimizer=None, dtype="float32"):
        seen.append(dict(loss=model.loss, params=model.params, inputs=model.inputs,
                         outputs=model.outputs, target=target, optimizer=optimizer, dtype=dtype))
        return Compiled(optimizer)
    monkeypatch.setattr(_model, "compile_program", compile_program)
    # `symgrad compile` prints the source without making a Program (no device needed)
    monkeypatch.setattr(_model, "compile_source", lambda *a, **k: compile_program(*a, **k).source)
    return seen


@pytest.fixture
def files(tmp_path):
    return softmax_run_files(tmp_path)


def test_compile_passes_the_model_file_to_the_compiler_and_saves(files, calls, capsys):
    out = files / "step.py"
    assert cli.main(["compile", str(files / "model.py"), "--target", "numpy", "-o", str(out)]) == 0
    assert out.read_text() == Compiled.source
    (call,) = calls
    W, b = sp.MatrixSymbol("W", 3, 4), sp.MatrixSymbol("b", 3, 1)
    x, t = sp.MatrixSymbol("x", 4, 1), sp.MatrixSymbol("t", 3, 1)
    assert call["loss"] == sg.cross_entropy(W * x + b, t)
    assert call["params"] == [W, b] and call["inputs"] == [x, t] and call["outputs"] == [W * x + b]
    assert call["target"] == "numpy" and call["optimizer"] == O.Adam(lr=0.05)


def test_compile_to_stdout_and_optimizer_options(files, calls, capsys):
    assert cli.main(["compile", str(files / "model.py")]) == 0
    assert capsys.readouterr().out == Compiled.source
    cli.main(["compile", str(files / "model.py"), "--lr", "0.5"])
    cli.main(["compile", str(files / "model.py"), "--optimizer", "nesterov", "--lr", "0.1"])
    assert calls[1]["optimizer"] == O.Adam(lr=0.5)
    assert calls[2]["optimizer"] == O.SGD(lr=0.1, momentum=0.9, nesterov=True)


def test_train_reports_epochs_and_checkpoints(files, calls, capsys):
    ck = files / "ck.npz"
    argv = ["train", str(files / "model.py"), "--data", str(files / "data.npz"), "--validation",
            str(files / "val.npz"), "--epochs", "4", "--batch-size", "16", "--no-progress",
            "--checkpoint", str(ck)]
    assert cli.main(argv) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("epoch 1") and "val_accuracy" in lines[0]
    assert lines[-1].startswith("final loss (mean over the last epoch): ")
    last_acc = float(lines[3].split("val_accuracy")[1].split()[0])
    assert last_acc >= 0.9
    assert load(ck).step == 4 * 8 and load(ck).epoch == 4
    # resume: the step count goes on from the checkpoint
    assert cli.main(argv[:6] + ["--epochs", "1", "--batch-size", "16", "--no-progress", "--resume", str(ck), "--checkpoint", str(ck)]) == 0
    assert load(ck).step == 5 * 8 and load(ck).epoch == 5


def test_train_diverging_exits_1_and_writes_the_values_it_says_are_kept(files, calls, capsys):
    argv = ["train", str(files / "model.py"), "--data", str(files / "data.npz"), "--no-progress",
            "--optimizer", "sgd", "--lr", "1e308", "--seed", "4"]
    with np.errstate(all="ignore"):
        assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert "diverged at step" in err and "pass --checkpoint CK.npz to save the values from before this step" in err
    assert ".values" not in err                   # the exception's attribute means nothing to a command
    assert len(err.strip().splitlines()) == 1
    ck = files / "ck.npz"
    with np.errstate(all="ignore"):
        assert cli.main(argv + ["--checkpoint", str(ck)]) == 1
    err = capsys.readouterr().err
    step = int(err.split("diverged at step ")[1].split()[0])
    assert f"the values from before this step are saved to {ck}" in err and len(err.strip().splitlines()) == 1
    assert ".values" not in err
    saved = load(ck)
    assert saved.step == step - 1
    assert all(np.isfinite(v).all() for v in saved.values.values())
    if step == 1:                                 # the kept values are the initial ones
        np.testing.assert_array_equal(saved.values["W"], sg.compiling.training.init_values(
            [sp.MatrixSymbol("W", 3, 4)], 4)["W"])


@pytest.fixture
def default_sigint():
    import signal
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, old)


def test_train_ctrl_c_exits_130_after_saving_with_one_line(files, monkeypatch, capsys, default_sigint):
    import signal

    class Interrupted(Compiled):
        steps, twice = 0, False

        def step(self, values, state, batch):
            self.steps += 1
            if self.steps == 11:
                os.kill(os.getpid(), signal.SIGINT)
                if self.twice:
                    os.kill(os.getpid(), signal.SIGINT)
            return super().step(values, state, batch)
    monkeypatch.setattr(_model, "compile_program", lambda model, target, opt, dtype: Interrupted(opt))
    ck = files / "ck.npz"
    argv = ["train", str(files / "model.py"), "--data", str(files / "data.npz"), "--epochs", "5",
            "--batch-size", "16", "--checkpoint", str(ck)]
    assert cli.main(argv + ["--no-progress"]) == 130
    out, err = capsys.readouterr()
    assert out.strip().startswith("epoch 1") and len(out.strip().splitlines()) == 1   # 8 steps an epoch
    assert err.strip() == (f"symgrad train: training interrupted (Ctrl-C) at step 11, in epoch 2, "
                           f"after 3 of its 8 steps: the values are those after step 11; saved to {ck}")
    assert load(ck).step == 11 and load(ck).epoch == 1
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)     # a terminal: the bar is on
    assert cli.main(argv) == 130                  # with the progress bar: the message once, last
    err = capsys.readouterr().err
    assert err.count("interrupted") == 1 and err.rstrip().splitlines()[-1].startswith("training interrupted")
    Interrupted.twice = True                      # the second Ctrl-C aborts step 11 at once
    assert cli.main(argv + ["--no-progress"]) == 130
    out, err = capsys.readouterr()
    assert err == f"symgrad train: aborted (Ctrl-C) after step 10; {ck} holds the last completed save\n"
    assert load(ck).step == 8                     # the save after epoch 1, whole


@pytest.mark.parametrize("where,case", [
    (w, c) for w in ("checkpoint", "resume")
    for c in ("read-only folder", "a directory", "under a file", "truncated", "missing")
    if w == "resume" or c not in ("truncated", "missing")])   # a file to overwrite, a folder to create: fine
def test_train_bad_checkpoint_paths_exit_2_before_compiling(where, case, files, calls, capsys):
    (files / "file.txt").write_text("")
    np.savez(files / "whole.npz", **blobs(4))
    raw = (files / "whole.npz").read_bytes()
    (files / "cut.npz").write_bytes(raw[:len(raw) // 2])
    unwritable = "cannot be written" if where == "checkpoint" else "no such"
    path, message = {
        "read-only folder": ("/proc/self/ck.npz", unwritable),
        "a directory": (str(files), "is a directory"),
        "under a file": (str(files / "file.txt" / "ck.npz"), unwritable),
        "truncated": (str(files / "cut.npz"), "not a readable symgrad checkpoint"),
        "missing": (str(files / "none" / "ck.npz"), "no such checkpoint file"),
    }[case]
    if case == "read-only folder" and not os.path.isdir("/proc/self"):
        pytest.skip("needs /proc")
    argv = ["train", str(files / "model.py"), "--data", str(files / "data.npz"), "--no-progress",
            f"--{where}", path]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"symgrad train: error: --{where}") and message in err, err
    assert len(err.strip().splitlines()) == 1 and not calls


BAD_MODELS = {
    "no loss": ("import sympy as sp\nparams = inputs = [sp.Symbol('w')]\n", "defines no 'loss'"),
    "raises": ("1 / 0\n", "ZeroDivisionError"),
    "exits": ("raise SystemExit(3)\n", "SystemExit"),
    "bad params": ("import sympy as sp\nw = sp.Symbol('w')\nloss = w**2\nparams = ['w']\ninputs = []\n",
                   "'params' must be a list of SymPy Symbols"),
    "bad loss": ("import sympy as sp\nloss = 3\nparams = inputs = [sp.Symbol('w')]\n",
                 "'loss' must be a SymPy expression"),
    "bad optimizer": (MODEL + "optimizer = 'adamax'\n", "'optimizer' must be a symgrad optimizer"),
    # initial values: said in the model file's words (a wrong shape was reported as --data's)
    "values typo": (MODEL + "import numpy as np\nvalues = {'w': np.zeros((3, 4))}\n",
                    "bad.py: values['w'] is not a parameter (did you mean 'W'?)"),
    "values shape": (MODEL + "import numpy as np\nvalues = {'W': np.zeros((4, 3))}\n",
                     "bad.py: values['W'] has shape (4, 3), but W is declared (3, 4)"),
    "values list": (MODEL + "values = [1, 2]\n", "bad.py: 'values' must be a dict"),
    "bad optimizer option": (MODEL + "optimizer = sg.optim.SGD(lr=0.1, momentun=0.9)\n",
                             "'momentun'; did you mean 'momentum'"),
}


@pytest.mark.parametrize("name", list(BAD_MODELS))
def test_bad_model_files_exit_2_with_a_message(name, files, calls, capsys):
    text, message = BAD_MODELS[name]
    (files / "bad.py").write_text(text)
    assert cli.main(["compile", str(files / "bad.py")]) == 2
    assert message in capsys.readouterr().err and not calls


def test_an_optimizer_named_in_the_model_file_is_that_optimizer(files, calls, capsys):
    """sg.compile takes optimizer="adam"; a model file's optimizer = "adam" was refused."""
    (files / "named.py").write_text(MODEL.replace("optimizer = ", "unused = ") + "optimizer = 'momentum'\n")
    assert cli.main(["compile", str(files / "named.py")]) == 0, capsys.readouterr().err
    assert calls[-1]["optimizer"] == O.SGD(momentum=0.9)


def test_bad_data_exit_2_naming_the_input(files, calls, capsys):
    np.savez(files / "no_t.npz", x=np.ones((5, 4)))
    (files / "junk.npz").write_text("not a zip")
    base = ["train", str(files / "model.py"), "--no-progress", "--data"]
    assert cli.main(base + [str(files / "no_t.npz")]) == 2
    err = capsys.readouterr().err
    assert "no array for input(s) ['t']" in err and "['x']" in err
    assert cli.main(base + [str(files / "junk.npz")]) == 2
    assert "junk.npz is not a .npz file" in capsys.readouterr().err
    assert cli.main(base + [str(files / "missing.npz")]) == 2
    assert "no such file" in capsys.readouterr().err
    np.savez(files / "short.npz", x=np.ones((5, 4)), t=np.ones((4, 3)))
    assert cli.main(base + [str(files / "short.npz")]) == 2
    assert "same positive number of samples" in capsys.readouterr().err


@pytest.mark.parametrize("argv,message", [
    (["compile", "nowhere.py"], "no such model file: nowhere.py"),
    (["train", "nowhere.py", "--data", "d.npz"], "no such model file"),
    (["compile", "m.py", "--optimizer", "adamax"], "invalid choice: 'adamax'"),
    (["train", "m.py"], "--data"),
])
def test_console_script_bad_input_exits_2_without_traceback(argv, message, tmp_path):
    env = dict(os.environ, PYTHONPATH=ROOT)
    r = subprocess.run([sys.executable, "-m", "symgrad", *argv], capture_output=True, text=True,
                       cwd=tmp_path, env=env, timeout=60)
    assert r.returncode == 2, r.stderr
    assert message in r.stderr and "Traceback" not in r.stderr


def test_train_resume_from_another_models_checkpoint_exits_2_naming_the_parameters(files, calls, capsys):
    from symgrad.compiling.training import save
    save(files / "other.npz", {"W": np.ones((3, 5)), "b": np.zeros((3, 1))}, step=1)
    save(files / "names.npz", {"V": np.ones((3, 4)), "b": np.zeros((3, 1))}, step=1)
    base = ["train", str(files / "model.py"), "--data", str(files / "data.npz"), "--no-progress", "--resume"]
    assert cli.main(base + [str(files / "other.npz")]) == 2
    assert "holds 'W' of shape (3, 5), but the model declares it (3, 4)" in capsys.readouterr().err
    assert cli.main(base + [str(files / "names.npz")]) == 2
    assert "holds values for ['V', 'b'], but the model's parameters are ['W', 'b']" in capsys.readouterr().err
    assert not calls                              # refused before compiling


def test_train_without_checkpoint_says_the_values_were_not_kept(files, calls, capsys):
    """Before: the README's `symgrad train model.py --data train.npz --epochs 30` trained, printed
    the epochs and exited 0 with the trained values thrown away, and not a word of it."""
    argv = ["train", str(files / "model.py"), "--data", str(files / "data.npz"), "--epochs", "1", "--no-progress"]
    assert cli.main(argv) == 0
    err = capsys.readouterr().err
    assert "the trained values were not saved: pass --checkpoint CK.npz to keep them" in err
    assert "symgrad evaluate and symgrad predict read it" in err      # the shell's way on, said too
    assert cli.main(argv + ["--checkpoint", str(files / "ck.npz")]) == 0
    assert "not saved" not in capsys.readouterr().err


@pytest.mark.parametrize("schedule, want", [
    ("sg.optim.WarmupCosine(0.05, warmup=10, total=100, lr_min=0.005)",
     O.WarmupCosine(0.5, warmup=10, total=100, lr_min=0.05)),
    ("sg.optim.LinearAnnealing(0.05, 0.01, tau=10)", O.LinearAnnealing(0.5, 0.1, tau=10)),
])
def test_lr_scales_a_model_files_schedule_to_it(schedule, want, files, calls, capsys):
    """Before: --lr 0.5 replaced a model file's WarmupCosine by the constant 0.5, silently: no
    warm-up, no decay."""
    (files / "sched.py").write_text(MODEL.replace("sg.optim.Adam(lr=0.05)", f"sg.optim.Adam(lr={schedule})"))
    assert cli.main(["compile", str(files / "sched.py"), "--lr", "0.5"]) == 0
    got = calls[-1]["optimizer"].lr
    assert type(got) is type(want) and all(
        getattr(got, f) == pytest.approx(getattr(want, f)) for f in vars(want)), got


def test_lr_replacing_a_schedule_of_its_own_says_so(files, calls, capsys):
    (files / "own.py").write_text(MODEL.replace("sg.optim.Adam(lr=0.05)", "sg.optim.Adam(lr=lambda t: 0.05 * 0.9 ** t)"))
    assert cli.main(["compile", str(files / "own.py"), "--lr", "0.5"]) == 0
    assert calls[-1]["optimizer"].lr == 0.5
    assert "--lr 0.5 replaces the model file's learning-rate schedule" in capsys.readouterr().err


def test_without_the_bar_each_epochs_line_is_printed_as_it_ends(files, calls, capsys, monkeypatch):
    """Before: with --no-progress (a log file, CI) nothing was printed until the last epoch ended."""
    from symgrad.compiling import training as T
    real, seen = T.train, []

    def spy(*a, on_epoch=None, **k):
        def each(record):
            on_epoch(record)
            seen.append(capsys.readouterr().out)       # what the command has printed by now
        return real(*a, on_epoch=each, **k)
    monkeypatch.setattr(T, "train", spy)
    argv = ["train", str(files / "model.py"), "--data", str(files / "data.npz"), "--epochs", "3",
            "--no-progress", "--checkpoint", str(files / "ck.npz")]
    assert cli.main(argv) == 0
    assert [s.splitlines() for s in seen] == [[s.strip()] for s in seen]          # one line each
    assert [s.split()[:2] for s in seen] == [["epoch", "1"], ["epoch", "2"], ["epoch", "3"]]
    rest = capsys.readouterr().out
    assert "epoch 1" not in rest and rest.startswith("final loss")                  # not printed twice
