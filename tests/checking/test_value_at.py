"""`hint_case.value_at` is the one way a hint module evaluates a node of f at a point: the modules
that spelled out np.asarray(numeric(T.as_tensor(e), vals), float) themselves now call it, and it takes
the shape a gate's σ(…) is read with."""
import pathlib
import re

import numpy as np

import symgrad as sg
from symgrad.checking.hint_case import value_at

CHECKING = pathlib.Path(sg.__file__).parent / "checking"


def test_no_hint_module_spells_out_the_evaluation_idiom():
    spelled = [p.name for p in CHECKING.glob("*.py") if p.name != "hint_case.py"
               and re.search(r"numeric\(\s*T\.as_tensor\(", p.read_text())]
    assert spelled == [], f"use hint_case.value_at in {spelled}"


def test_value_at_reads_a_node_with_and_without_a_shape():
    x, b = sg.tensor("x", (2, 3)), sg.tensor("b", (3,))
    xv, bv = np.arange(6.0).reshape(2, 3) / 7, np.array([0.5, -1.0, 2.0])
    vals = {"x": xv, "b": bv}
    np.testing.assert_allclose(value_at(x @ sg.tensor("W", (3, 3)).T + b, {**vals, "W": np.eye(3)}), xv + bv)
    gate = sg.sigmoid(x + b)
    want = 1 / (1 + np.exp(-(xv + bv)))
    np.testing.assert_allclose(value_at(gate, vals), want)
    np.testing.assert_allclose(value_at(gate, vals, (2, 3)), want)
