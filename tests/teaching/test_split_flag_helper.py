"""The flag a split copy of a derivation carries (`loss_terms.split_penalties`) is read and set in one
place, `split_flag`: the steps, the picture and the term ordering used to spell the getattr out."""
from pathlib import Path

import sympy as sp

import symgrad as sg
from symgrad.teaching.loss_terms import split_penalties
from symgrad.teaching.split_flag import is_split

TEACHING = Path(sg.__file__).resolve().parent / "teaching"


def test_flag_spelt_out_in_split_flag_only():
    users = [p.name for p in TEACHING.glob("*.py") if "_penalties_split" in p.read_text()]
    assert users == ["split_flag.py"]


def test_is_split_says_which_copy_is_split():
    x, y = sg.tensor("x", (4, 3)), sg.tensor("y", (4,), integer=True)
    W, b = sg.tensor("W", (3, 3)), sg.tensor("b", (3,))
    d = sg.derive(sg.cross_entropy(x @ W + b, y) + 0.5 * sp.Rational(1, 10) * sg.sum(W * W), [W, b])
    split = split_penalties(d)
    assert not is_split(d) and is_split(split) and split_penalties(split) is split
