"""A kink of constants alone — |i − j| and clip(...) in a bilinear resize's weight matrix — is the
same at every point: the check neither tries to reach its sides nor lists them as not reached (a
bilinear layer's method listed about 40 "kink sides NOT reached"); the kinks of the values still are."""
from __future__ import annotations

import sympy as sp
import torch

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)


def _bilinear(x):
    return sg.interpolate(x, size=(5, 5), mode="bilinear", align_corners=False)


def test_a_resize_weight_matrix_has_no_kink_sides_to_reach():
    x = sg.tensor("x", (N, 1, 3, 3))
    # the right gradient of Σ up(x) ⊙ c for a constant c is up's adjoint applied to c; written with
    # torch's own interpolate adjoint as an independent oracle through check_backward
    out = _bilinear(x)

    def backward(dout, x):
        t = torch.tensor(x, requires_grad=True)
        torch.nn.functional.interpolate(t, size=(5, 5), mode="bilinear", align_corners=False).backward(
            torch.tensor(dout))
        return t.grad.numpy()
    r = sg.check_backward(out, [x], backward)
    assert r.verdict == "equal", str(r)
    assert "NOT reached" not in str(r) and "kink" not in r.method.split("numeric")[0]


def test_the_kinks_of_values_are_still_sought():
    x = sg.tensor("x", (N, 3))
    r = sg.check((sg.relu(x) ** 2).sum(), x, 2 * sg.relu(x))
    assert r.verdict == "equal"
    assert "kink" in str(r)          # relu's kink at 0 is still named in the method
