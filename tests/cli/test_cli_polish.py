"""The command line's first impression: ``--version``, help without reST markup or source paths,
``compile --target triton`` writing its source on a machine with no GPU (and no TRITON_INTERPRET),
and ``train`` reporting the last epoch's mean loss."""
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import symgrad as sg
from symgrad import cli
from standin_program import SOFTMAX_MODEL_FILE

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = SOFTMAX_MODEL_FILE        # the CLI tests' softmax regression (tests/standin_program.py)


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("TRITON_INTERPRET", "PYTHONPATH")}
    env.update(PYTHONPATH=ROOT, **extra)
    return env


def test_version():
    r = subprocess.run([sys.executable, "-m", "symgrad", "--version"], capture_output=True, text=True,
                       env=_env(), timeout=120)
    assert r.returncode == 0 and r.stdout == f"symgrad {sg.__version__}\n", (r.stdout, r.stderr)
    with open(os.path.join(ROOT, "pyproject.toml")) as f:
        assert f'version = "{sg.__version__}"' in f.read()


@pytest.mark.parametrize("module", ["symgrad", "symgrad.cli.main"])
def test_both_module_spellings_run_without_a_warning(module):
    # `python -m symgrad.cli.main` printed runpy's RuntimeWarning ("found in sys.modules after import
    # of package 'symgrad.cli' ... unpredictable behaviour") before the help: the package imported it
    r = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True, env=_env(),
                       timeout=120)
    assert (r.returncode, r.stderr) == (0, "") and r.stdout.startswith("usage: symgrad"), (r.stdout, r.stderr)


def test_the_old_module_imported_leaves_cli_main_callable(capsys):
    # importing the submodule sets the package's attribute `main` to it: it must still run the command
    from symgrad.cli.main import build_parser, main
    assert cli.main(["check", "x**2", "--wrt", "x", "--claimed", "2*x"]) == 0
    assert main is cli.command.main and build_parser is cli.command.build_parser
    assert capsys.readouterr().out.startswith("equal.")


@pytest.mark.parametrize("command", [[], ["derive"], ["check"], ["compile"], ["train"], ["evaluate"], ["predict"]])
def test_help_has_no_markup_or_source_paths(command, capsys):
    assert cli.main(command + ["--help"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("usage: symgrad")
    assert "`" not in text, text                              # ``code`` and `name` of reST
    assert not re.search(r"::\s*$", text, re.MULTILINE), text  # a literal block's marker
    assert not re.search(r"\bsymgrad/\S+\.py\b", text), text   # a path into the sources
    assert not re.search(r"\bsymgrad\.(frontend|core|teaching|checking|compiling|cli)\b", text), text



@pytest.mark.parametrize("command", ["compile", "train"])
def test_model_file_help_names_every_optimizer(command, capsys):
    # the model file's optimizer may be any name sg.compile takes; the help listed all but adamw
    assert cli.main([command, "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    listed = text.split("name of one with its defaults:", 1)[1].split(" values ", 1)[0]
    assert [n.strip() for n in listed.split(",")] == list(sg.optim.NAMES), listed

@pytest.mark.slow
def test_compile_triton_writes_the_source_without_a_gpu(tmp_path):
    (tmp_path / "model.py").write_text(MODEL)
    out = tmp_path / "step_triton.py"
    r = subprocess.run([sys.executable, "-m", "symgrad", "compile", "model.py", "--target", "triton", "-o",
                        str(out)], capture_output=True, text=True, cwd=tmp_path, timeout=300,
                       env=_env(CUDA_VISIBLE_DEVICES=""))
    assert r.returncode == 0, r.stderr
    src = out.read_text()
    assert "@triton.jit" in src and "def step(" in src
    compile(src, str(out), "exec")


def test_train_reports_the_last_epochs_mean_loss(tmp_path, capsys):
    (tmp_path / "model.py").write_text(MODEL)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 4))
    labels = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
    np.savez(tmp_path / "data.npz", x=X, t=np.eye(3)[labels])
    argv = ["train", str(tmp_path / "model.py"), "--data", str(tmp_path / "data.npz"), "--epochs", "3",
            "--batch-size", "8", "--no-progress"]
    assert cli.main(argv) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    epochs = [ln for ln in lines if ln.startswith("epoch ")]
    assert len(epochs) == 3
    last_epoch_loss = float(epochs[-1].split("loss ")[1].split()[0])
    final = lines[-1]
    assert final.startswith("final loss (mean over the last epoch): "), final
    assert float(final.rsplit(" ", 1)[1]) == last_epoch_loss
    # the same run through sg.train: the epoch's loss is the mean of its 7 minibatch losses (the
    # last one, of 2 examples, is not it)
    from symgrad.cli import _model
    from symgrad.compiling import training as T
    model = _model.load_model(tmp_path / "model.py")
    prog = _model.compile_program(model, "numpy", model.optimizer, "float32")
    h = T.train(prog, {"x": X, "t": np.eye(3)[labels]}, epochs=3, batch_size=8, seed=0, progress=False,
                values=T.init_values(model.params, 0))
    assert h.epochs[-1]["loss"] == pytest.approx(np.mean(h.loss[-7:]), rel=1e-12)
    assert float(f"{h.epochs[-1]['loss']:.6g}") == last_epoch_loss
    assert h.loss[-1] != pytest.approx(h.epochs[-1]["loss"], rel=1e-3)
