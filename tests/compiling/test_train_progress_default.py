"""sg.train's default progress bar follows where stderr goes, as `symgrad train` does: a bar on a
terminal and in a Jupyter kernel, none in a log or a pipe (where its redraws were one long line of
carriage returns: a script run under `nohup`, CI or `2>&1 | tee` wrote 675 of them for the README's
digits). Before: ``progress=True`` was the default, and the bar was drawn everywhere."""
import sys
import types

import pytest

from symgrad import optim as O
from symgrad.compiling.training import bar_wanted, train
from standin_program import SoftmaxRegression, blobs, init


def _train(**kw):
    return train(SoftmaxRegression(O.SGD(lr=0.1)), blobs(20), epochs=2, batch_size=5, values=init(), **kw)


@pytest.fixture
def no_kernel(monkeypatch):
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)


def test_no_bar_by_default_where_stderr_is_no_terminal(capsys, no_kernel):
    _train()
    assert capsys.readouterr().err == ""            # capsys's stderr is no terminal, like a log file


def test_a_bar_by_default_on_a_terminal(capsys, monkeypatch, no_kernel):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    _train()
    err = capsys.readouterr().err
    assert "train: 100%" in err and "8/8" in err


def test_a_bar_by_default_in_a_jupyter_kernel(capsys, monkeypatch):
    # a notebook's stderr is no terminal, but its user watches the bar (tqdm.notebook does the same)
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    assert not sys.stderr.isatty()
    _train()
    assert "train: 100%" in capsys.readouterr().err


def test_true_and_false_are_kept_as_given(capsys, no_kernel):
    _train(progress=True)
    assert "train: 100%" in capsys.readouterr().err
    _train(progress=False)
    assert capsys.readouterr().err == ""
    assert bar_wanted(True) and not bar_wanted(False) and not bar_wanted(0)


def test_a_stderr_without_isatty_or_none_has_no_bar(monkeypatch, no_kernel):
    monkeypatch.setattr(sys, "stderr", None)         # pythonw, a service: no stream at all
    assert bar_wanted(None) is False
    monkeypatch.setattr(sys, "stderr", object())
    assert bar_wanted(None) is False


def test_early_stopping_is_still_said_in_a_log_but_not_with_progress_false(capsys, no_kernel):
    data = blobs(20)
    kw = dict(epochs=6, batch_size=5, values=init(), validation=data, patience=1, min_delta=10.0)
    h = train(SoftmaxRegression(O.SGD(lr=0.1)), data, **kw)
    assert h.stopped_early
    err = capsys.readouterr().err
    assert err.strip() == h.message                 # the one line, no bar
    train(SoftmaxRegression(O.SGD(lr=0.1)), data, progress=False, **kw)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("bad", ["no", "auto", 0.5])
def test_progress_other_than_none_true_false_is_refused(bad, capsys):
    """progress="no" was truthy: a bar, the opposite of what was asked."""
    from symgrad.compiling.training import TrainingArgumentError
    with pytest.raises(TrainingArgumentError, match=r"progress must be None \(the default: a bar where stderr is a "
                                                    r"terminal or in a notebook\), True or False; got"):
        _train(progress=bad)
    assert capsys.readouterr().err == ""
