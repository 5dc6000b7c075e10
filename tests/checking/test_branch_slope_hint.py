"""A claim wrong on one side of a kink only — a leaky relu's slope 0.01 written 0.1, a Piecewise
branch derived wrong — is named as that branch's slope, with the side and the two values; relu's
derivative with its sides swapped is named as swapped. (The fan-out hint used to read these as
"a path counted 10 times".) The right claims are checked against sympy.diff and torch first."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg

from verdicts import N, wrong

x = sp.Symbol("x", real=True)
y = sp.Symbol("y", real=True)
LEAKY = sp.Piecewise((x, x > 0), (x / 100, True))


def test_the_right_branch_slopes_are_sympys_and_symgrads():
    assert sp.diff(LEAKY, x).subs(x, -2) == sp.Rational(1, 100)
    assert sg.check(LEAKY, x, sp.Piecewise((1, x > 0), (sp.Rational(1, 100), True))).verdict == "equal"
    assert sg.check(sg.relu(x) * 3, x, 3 * sp.Heaviside(x))


@pytest.mark.parametrize("f", [LEAKY, sg.leaky_relu(x)], ids=["Piecewise", "sg.leaky_relu"])
def test_a_leaky_slope_written_ten_times_too_big_names_the_branch(f):
    r = wrong(sg.check(f, x, sp.Piecewise((1, x > 0), (sp.Rational(1, 10), True))), "branch slope")
    assert "where x < 0" in r.hint and "0.1 where the truth is 0.01" in r.hint, r.hint
    assert "where x > 0 it is right" in r.hint and "fan-out" not in r.hint, r.hint


def test_a_branch_with_a_wrong_factor_names_the_factor():
    f = sp.Piecewise((x ** 2 * y, x > 0), (x * y, True))
    r = wrong(sg.check(f, x, sp.Piecewise((x * y, x > 0), (y, True))), "branch slope")
    assert "where x > 0" in r.hint and "0.5 times the truth" in r.hint, r.hint


@pytest.mark.parametrize("f, claim", [(sg.relu(x) * 3, 3 * sp.Heaviside(-x)),
                                      (sp.Max(x, 0) * 3, sp.Piecewise((3, x < 0), (0, True)))],
                         ids=["relu", "Max"])
def test_relu_derivative_with_its_sides_swapped_is_named(f, claim):
    r = wrong(sg.check(f, x, claim), "branch slopes swapped")
    assert "3 where x < 0 and 0 where x > 0" in r.hint or "0 where x > 0 and 3 where x < 0" in r.hint, r.hint


def test_a_leaky_relu_backward_with_the_wrong_negative_slope_is_named():
    rng = np.random.default_rng(0)
    xv, d = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    xt = torch.tensor(xv, requires_grad=True)
    (torch.nn.functional.leaky_relu(xt, 0.01) * torch.tensor(d)).sum().backward()
    np.testing.assert_allclose(np.where(xv > 0, d, 0.01 * d), xt.grad.numpy(), rtol=1e-12)
    X = sg.tensor("x", (N, 5))
    assert sg.check_backward(sg.leaky_relu(X), X, lambda dout, x: np.where(x > 0, dout, 0.01 * dout)).verdict == "equal"
    r = wrong(sg.check_backward(sg.leaky_relu(X), X, lambda dout, x: np.where(x > 0, dout, 0.1 * dout)),
              "branch slope")
    assert "x < 0 (entrywise)" in r.hint and "10 times the truth" in r.hint, r.hint


def test_relus_dead_side_is_left_to_relus_own_hints():
    r = wrong(sg.check(sg.relu(x) * 3, x, 3))
    assert r.hint.startswith("relu′ left out"), r.hint


def _affine_leaky_backward(slope):
    def backward(dout, x, w, b):
        z = x @ w + b
        dz = np.where(z > 0, dout, slope * dout)
        return dz @ w.T, x.T @ dz, dz.sum(0)
    return backward


def test_an_affine_leaky_layer_with_the_wrong_slope_is_named():
    rng = np.random.default_rng(1)
    xv, wv, bv, d = rng.normal(size=(5, 3)), rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=(5, 4))
    ts = [torch.tensor(v, requires_grad=True) for v in (xv, wv, bv)]
    (torch.nn.functional.leaky_relu(ts[0] @ ts[1] + ts[2], 0.01) * torch.tensor(d)).sum().backward()
    for got, t in zip(_affine_leaky_backward(0.01)(d, xv, wv, bv), ts):
        np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-10)
    X, W, b = sg.tensor("x", (N, 3)), sg.tensor("w", (3, 4)), sg.tensor("b", (4,))
    out = sg.leaky_relu(X @ W + b)
    assert sg.check_backward(out, [X, W, b], _affine_leaky_backward(0.01)).verdict == "equal"
    r = wrong(sg.check_backward(out, [X, W, b], _affine_leaky_backward(0.1)), "branch slope")
    assert "negative slope 0.1 where f's is 0.01" in r.hint, r.hint


def test_a_wrong_slope_under_a_later_layer_is_named():
    """leaky relu then a square: the slope's slip is found with f's values kept (stop_gradient)."""
    X, W = sg.tensor("x", (4, 3)), sg.tensor("w", (3, 2))
    f = (sg.leaky_relu(X @ W) ** 2).sum()

    def claim(values):
        z = values["x"] @ values["w"]
        return values["x"].T @ (2 * np.where(z > 0, z, 0.01 * z) * np.where(z > 0, 1.0, 0.2))
    r = wrong(sg.check(f, W, claim), "branch slope")
    assert "negative slope 0.2 where f's is 0.01" in r.hint, r.hint


def test_relus_mask_reversed_in_a_backward_is_named_wherever_the_relu_stands():
    rng = np.random.default_rng(5)
    xv, d = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    xt = torch.tensor(xv, requires_grad=True)
    (torch.relu(xt) * torch.tensor(d)).sum().backward()
    np.testing.assert_array_equal(d * (xv > 0), xt.grad.numpy())
    X, W = sg.tensor("x", (N, 4)), sg.tensor("w", (4, 3))
    r = wrong(sg.check_backward(sg.relu(X), X, lambda dout, x: dout * (x < 0)), "branch slopes swapped")
    assert "relu's mask the other way round" in r.hint, r.hint
    r = wrong(sg.check_backward(sg.leaky_relu(X), X, lambda dout, x: np.where(x < 0, dout, 0.01 * dout)),
              "branch slopes swapped")
    assert "0.01 where x < 0" in r.hint, r.hint

    def affine_relu(dout, x, w):
        dz = dout * (x @ w < 0)
        return dz @ w.T, x.T @ dz
    assert sg.check_backward(sg.relu(X @ W), [X, W], lambda dout, x, w: (
        (dout * (x @ w > 0)) @ w.T, x.T @ (dout * (x @ w > 0)))).verdict == "equal"
    wrong(sg.check_backward(sg.relu(X @ W), [X, W], affine_relu), "branch slopes swapped")


def test_a_per_example_matrix_declaration_says_its_argument():
    """leaky_relu mapped over W·x (its bound variable is a Dummy): the hint says "its argument"."""
    W, xm = sp.MatrixSymbol("W", 3, 2), sp.MatrixSymbol("x", 2, 1)
    f = sg.sum(sp.HadamardPower((W * xm).applyfunc(lambda e: sg.leaky_relu(e)), 2))

    def claim(slope):
        def grad(v):
            X = v["x"].reshape(-1, 2)
            Z = X @ v["W"].T
            return (2 * np.where(Z > 0, Z, 0.01 * Z) * np.where(Z > 0, 1, slope)).T @ X / X.shape[0]
        return grad
    assert sg.check(f, W, claim(0.01)).verdict == "equal"
    r = wrong(sg.check(f, W, claim(0.1)), "branch slope")
    assert "where its argument < 0" in r.hint and "_d" not in r.hint, r.hint
