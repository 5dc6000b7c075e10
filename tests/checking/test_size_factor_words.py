"""A constant factor that is a size of the problem is named by the size it is — and by no name when
two sizes have its value: dims= (or at=) fixing N = 4 where T = 4 made a temporal layer's 1/T read
"1/N". The right backward is torch's."""
from __future__ import annotations

import numpy as np
import sympy as sp
import torch

import symgrad as sg

from verdicts import N, wrong

T_ = sp.Symbol("T", integer=True, positive=True)


def temporal_affine_backward(dout, x, w, b, db_over=None):
    n, t, d = x.shape
    dx = (dout.reshape(n * t, -1) @ w.T).reshape(n, t, d)
    dw = x.reshape(n * t, d).T @ dout.reshape(n * t, -1)
    db = dout.sum(axis=(0, 1))
    return dx, dw, db if db_over is None else db / {"T": t, "N": n}[db_over]


def _layer(t=4):
    x, w, b = sg.tensor("x", (N, t, 3)), sg.tensor("w", (3, 2)), sg.tensor("b", (2,))
    return x @ w + b, [x, w, b]


def test_the_right_backward_is_torchs_and_equal_at_equal_sizes():
    rng = np.random.default_rng(3)
    arrays = [rng.normal(size=s) for s in ((4, 4, 3), (3, 2), (2,))]
    dout = rng.normal(size=(4, 4, 2))
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    (ts[0] @ ts[1] + ts[2]).backward(torch.tensor(dout))
    for got, t in zip(temporal_affine_backward(dout, *arrays), ts):
        np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-10, atol=1e-12)
    out, wrt = _layer()
    assert sg.check_backward(out, wrt, temporal_affine_backward, dims={N: 4}).verdict == "equal"


def _db_over(which):
    return lambda *a, **k: temporal_affine_backward(*a, **k, db_over=which)


def test_a_factor_equal_to_a_fixed_size_and_a_literal_one_is_not_named_by_either():
    out, wrt = _layer()
    r = wrong(sg.check_backward(out, wrt, _db_over("T"), dims={N: 4}),
              "constant factor: the claim for b is 1/4 times its gradient — 1/4 with 4, which is the size N and "
              "the size of axis 1 of x (N, 4, 3)")
    assert "1/N" not in r.hint and "N = 4, a size" not in r.hint
    assert "give N a value no other size has" in r.hint


def test_a_factor_equal_to_two_symbolic_sizes_given_equal_names_both():
    out, wrt = _layer(T_)
    r = wrong(sg.check_backward(out, wrt, _db_over("T"), dims={N: 4, T_: 4}),
              "constant factor: the claim for b is 1/4 times its gradient — 1/4 with 4, which is the size N and the "
              "size T")
    assert "1/N" not in r.hint and "1/T" not in r.hint


def test_a_factor_of_one_size_alone_is_still_named():
    out, wrt = _layer(T_)
    wrong(sg.check_backward(out, wrt, _db_over("T"), dims={N: 5, T_: 4}),
          "constant factor: the claim for b is 1/4 times its gradient — 1/T with T = 4, a size of the problem")
    out, wrt = _layer()
    wrong(sg.check_backward(out, wrt, _db_over("N"), dims={N: 5}),
          "constant factor: the claim for b is 1/5 times its gradient — 1/N with N = 5, a size of the problem")
    wrong(sg.check_backward(out, wrt, _db_over("T")),      # sizes symgrad draws differ from the 4
          "constant factor: the claim for b is 1/4 times its gradient — 1/4 with 4, the size of axis 1 of x")


def test_two_literal_axes_of_one_size_are_both_said():
    x, w = sg.tensor("x", (N, 4, 4)), sg.tensor("w", (4, 2))
    r = wrong(sg.check_backward(sg.sum(x, axis=2) @ w, [x, w],
                                lambda dout, x, w: (np.repeat((dout @ w.T)[:, :, None], 4, axis=2),
                                                    x.sum(axis=2).reshape(-1, 4).T @ dout.reshape(-1, 2) / 4)))
    assert "axes 1 and 2 of x" in r.hint, r.hint


def test_a_batch_size_equal_to_a_dimension_is_not_said_to_be_the_batchs_alone():
    """A callable checked over a batch: B = 3 where W1 is (5, 3) said "the batch size B = 3: the
    examples' gradients were summed" as if 3 could be nothing else."""
    from test_check import MLP_LOSS, W1, W2, b1, b2, mlp_backprop
    r = wrong(sg.check(MLP_LOSS, [W1, b1, W2, b2], lambda v: mlp_backprop(v, "sum"), batch=3))
    assert "the batch size B = 3, or 3, the size of axis 1 of W1 (5, 3): the check cannot tell which" in r.hint
    r = wrong(sg.check(MLP_LOSS, [W1, b1, W2, b2], lambda v: mlp_backprop(v, "sum"), batch=6))
    assert "the batch size B = 6: the examples' gradients were summed" in r.hint


def test_a_factor_equal_to_a_size_is_no_mean_left_out_when_f_has_no_mean():
    """dx doubled in an affine layer with w of shape (3, 2): f averages over nothing, so "2, the size of
    axis 1 of w: a sum where there is a mean" would send the student to a mean that is not there."""
    x, w, b = sg.tensor("x", (N, 3)), sg.tensor("w", (3, 2)), sg.tensor("b", (2,))
    r = sg.check_backward(x @ w + b, [x, w, b], lambda dout, x, w, b: (2 * dout @ w.T, x.T @ dout, dout.sum(0)))
    assert r.verdict == "not equal" and r.hint == "constant factor: the claim for x is 2 times its gradient.", r.hint
    loss = sg.sum((x @ w + b) ** 3) / N           # the same slip where f does divide by N
    r = sg.check_backward(loss, [x], lambda dout, x, w, b: 3 * ((x @ w + b) ** 2) @ w.T)
    assert "a sum where there is a mean (1/N missing)" in r.hint, r.hint
