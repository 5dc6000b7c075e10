"""A point for a layer with dropout (fourth-session trial): sg.derive(..., at=) without the mask
said only "no value given for 'dropout_mask_0'"; it now says that f has a dropout, which name its
mask takes in at=, and what it holds. Given the mask, the numbers are those of the masked layer."""
import ast
import re

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import ArgumentError
from symgrad.frontend.masks import masks_in

N = sp.Symbol("N", integer=True, positive=True)
x, W = sg.tensor("x", (N, 4)), sg.tensor("W", (4, 3))


def test_point_without_the_mask_names_it():
    f = sg.sum(sg.dropout(sg.tanh(x @ W), 0.25))
    name = masks_in(f)[0].name
    rng = np.random.default_rng(0)
    at = {x: rng.normal(size=(2, 4)), W: rng.normal(size=(4, 3))}
    with pytest.raises(ArgumentError, match=rf"sg.dropout\(·, p=0.25\): at= needs its mask too, under the name '{name}'") as e:
        sg.derive(f, [W], at=at).render("unicode")
    assert "1/(1 − p) = 1.33333" in str(e.value)
    mask = np.array([[4 / 3, 0, 4 / 3], [0, 4 / 3, 4 / 3]])
    text = sg.derive(f, [W], at={**at, name: mask}).render("text")
    # ∂f/∂W = xᵀ (M ⊙ (1 − tanh²(xW))), by hand
    want = at[x].T @ (mask * (1 - np.tanh(at[x] @ at[W]) ** 2))
    grid = re.search(r"= (\[\[.*?\]\])", " ".join(text.split("Gradient:")[1].split())).group(1)
    got = np.array(ast.literal_eval(grid))       # the printed numbers (a long line wraps)
    np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4)
