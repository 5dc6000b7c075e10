"""A misspelled keyword to sg.derive, sg.check, sg.compile or sg.train is an ArgumentError (a
SymgradError) naming the closest valid keyword, before any work is done."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg

x = sp.Symbol("x")


class NoProgram:
    """train must refuse the keyword before it touches the program."""


CALLS = [
    ("derive", lambda **k: sg.derive(x ** 2, x, **k), "stlye", "style"),
    ("derive", lambda **k: sg.derive(x ** 2, x, **k), "att", "at"),
    ("derive", lambda **k: sg.derive(x ** 2, x, **k), "name", "names"),
    ("check", lambda **k: sg.check(x ** 2, x, 2 * x, **k), "point", "points"),
    ("check", lambda **k: sg.check(x ** 2, x, 2 * x, **k), "assumption", "assumptions"),
    ("compile", lambda **k: sg.compile(x ** 2, [x], **k), "optimiser", "optimizer"),
    ("compile", lambda **k: sg.compile(x ** 2, [x], **k), "output", "outputs"),
    ("train", lambda **k: sg.train(NoProgram(), {"x": np.zeros(3)}, **k), "batchsize", "batch_size"),
    ("train", lambda **k: sg.train(NoProgram(), {"x": np.zeros(3)}, **k), "epoch", "epochs"),
]


@pytest.mark.parametrize("who,call,wrong,meant", CALLS, ids=[f"{c[0]}-{c[2]}" for c in CALLS])
def test_misspelled_keyword_names_the_closest(who, call, wrong, meant):
    with pytest.raises(sg.ArgumentError) as err:
        call(**{wrong: 1})
    message = str(err.value)
    assert isinstance(err.value, sg.SymgradError)
    assert f"{who}()" in message and repr(wrong) in message
    assert f"did you mean {meant!r}" in message


def test_a_name_like_none_lists_what_is_taken():
    with pytest.raises(sg.ArgumentError, match=r"'zzzz'\. It takes: .*points"):
        sg.check(x ** 2, x, 2 * x, zzzz=1)


def test_valid_keywords_still_pass():
    assert sg.derive(x ** 2, x, at={x: 3}, style="steps").gradients == 2 * x
    assert sg.check(x ** 2, x, 2 * x, points=2)
