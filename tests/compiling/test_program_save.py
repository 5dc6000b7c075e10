"""`Program.save(path)`: the generated module written to a file that imports and runs without
symgrad; a path it cannot write is an ArgumentError naming the path and why."""
import importlib.util
import os

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import ArgumentError


def _program():
    w, x = sp.symbols("w x")
    return sg.compile((w * x - 1) ** 2, [w], [x], dtype="float64")


def test_the_saved_module_runs_and_agrees_with_the_program(tmp_path):
    prog = _program()
    path = tmp_path / "sub" / "step.py"                 # a missing folder is made
    prog.save(path)
    spec = importlib.util.spec_from_file_location("saved_step", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    x = np.array([1.0, 2.0, 3.0])
    want = np.mean((0.5 * x - 1) ** 2)                  # the loss by hand
    assert mod.loss([np.float64(0.5)], [x]) == pytest.approx(want, rel=1e-12)
    assert prog.loss({"w": 0.5}, {"x": x}) == pytest.approx(want, rel=1e-12)


def test_a_folder_is_refused_naming_it_and_nothing_is_left_behind(tmp_path):
    """Before: IsADirectoryError about the rename of a temporary file '.tmp-….py' in the parent
    folder onto the folder."""
    folder = tmp_path / "out"
    folder.mkdir()
    with pytest.raises(ArgumentError, match=r"cannot write .*out: it is a directory; give the path of a \.py file"):
        _program().save(folder)
    assert os.listdir(tmp_path) == ["out"] and os.listdir(folder) == []


def test_a_path_that_is_no_path_is_refused():
    with pytest.raises(ArgumentError, match="must be a file name"):
        _program().save(None)
