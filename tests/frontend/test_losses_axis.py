"""The losses on tensors take torch's ``reduction=`` (and ``axis=`` over a class or distribution
axis): values and gradients equal ``torch.nn.functional`` in float64. And ``sg.softmax`` of a
matrix that is not a vector, without an axis, is an error (no silent softmax over every entry)."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch
import torch.nn.functional as TF

import symgrad as sg
from symgrad.core.evaluate import numeric

N = sp.Symbol("N", integer=True, positive=True)
REDUCTIONS = ["mean", "sum", "none"]


def _agree(loss, wrt, values, torch_loss):
    """sg's loss (summed against a random cotangent when not a scalar) and its gradients equal
    torch's, value by value, in float64."""
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=k in wrt) if v.dtype.kind == "f"
         else torch.tensor(v) for k, v in values.items()}
    ref = torch_loss(**t)
    out_shape = tuple(ref.shape)
    rng = np.random.default_rng(7)
    dout = rng.normal(size=out_shape) if out_shape else np.array(1.0)
    ref.backward(torch.tensor(dout))
    at = dict(values)          # N is read from the arrays
    got = numeric(loss, at)
    np.testing.assert_allclose(got, ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    f = loss if not out_shape else sg.sum(loss * sg.tensor("dout", sg.as_tensor(loss).shape))
    at["dout"] = dout
    grads = sg.grad(f, [s for s in f.free_symbols if getattr(s, "name", None) in wrt])
    names = [s.name for s in f.free_symbols if getattr(s, "name", None) in wrt]
    for name, g in zip(names, grads):
        np.testing.assert_allclose(numeric(g, at), t[name].grad.numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=f"d/d{name}")


def _reals(rng, *shape):
    return rng.normal(size=shape)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_and_l1(reduction):
    rng = np.random.default_rng(0)
    x, y = sg.tensor("x", (N, 3)), sg.tensor("y", (N, 3))
    vals = {"x": _reals(rng, 4, 3), "y": _reals(rng, 4, 3)}
    _agree(sg.mse(x, y, reduction=reduction), ["x", "y"], vals,
           lambda x, y: TF.mse_loss(x, y, reduction=reduction))
    _agree(sg.l1(x, y, reduction=reduction), ["x", "y"], vals,
           lambda x, y: TF.l1_loss(x, y, reduction=reduction))


def test_mse_default_is_the_mean_and_broadcasts():
    rng = np.random.default_rng(1)
    x, y = sg.tensor("x", (N, 3)), sg.tensor("y", (3,))
    vals = {"x": _reals(rng, 5, 3), "y": _reals(rng, 3)}
    _agree(sg.mse(x, y), ["x", "y"], vals, lambda x, y: TF.mse_loss(x, y.expand(5, 3)))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce(reduction):
    rng = np.random.default_rng(2)
    p, y = sg.tensor("p", (N, 2, 3)), sg.tensor("y", (N, 2, 3))
    vals = {"p": rng.uniform(0.05, 0.95, size=(4, 2, 3)), "y": rng.uniform(0, 1, size=(4, 2, 3))}
    _agree(sg.bce(p, y, reduction=reduction), ["p"], {**vals, "x": vals["p"]},
           lambda p, y, x: TF.binary_cross_entropy(p, y, reduction=reduction))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_hinge_with_plus_minus_one_labels(reduction):
    rng = np.random.default_rng(3)
    s, y = sg.tensor("x", (N, 3)), sg.tensor("y", (N, 3))
    vals = {"x": _reals(rng, 4, 3) * 2, "y": rng.choice([-1.0, 1.0], size=(4, 3))}
    red = {"mean": torch.mean, "sum": torch.sum, "none": lambda v: v}[reduction]
    _agree(sg.hinge(s, y, reduction=reduction), ["x"], vals, lambda x, y: red(torch.clamp(1 - y * x, min=0)))


@pytest.mark.parametrize("reduction,torch_reduction", [("mean", "batchmean"), ("batchmean", "batchmean"),
                                                       ("sum", "sum"), ("none", "none")])
def test_kl_div_over_the_last_axis(reduction, torch_reduction):
    rng = np.random.default_rng(4)
    p, q = sg.tensor("x", (N, 4)), sg.tensor("q", (N, 4))
    vals = {"x": rng.dirichlet(np.ones(4), size=5), "q": rng.dirichlet(np.ones(4), size=5)}

    def ref(x, q):
        out = TF.kl_div(q.log(), x, reduction=torch_reduction)
        return out.sum(dim=-1) if torch_reduction == "none" else out     # sg's "none": per distribution
    _agree(sg.kl_div(p, q, reduction=reduction), ["x", "q"], vals, ref)


def test_kl_div_over_another_axis():
    rng = np.random.default_rng(5)
    p, q = sg.tensor("x", (3, N)), sg.tensor("q", (3, N))
    vals = {"x": rng.dirichlet(np.ones(3), size=4).T, "q": rng.dirichlet(np.ones(3), size=4).T}
    _agree(sg.kl_div(p, q, axis=0), ["x", "q"], vals,
           lambda x, q: TF.kl_div(q.log().T, x.T, reduction="batchmean"))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multi_margin_with_integer_labels(reduction):
    rng = np.random.default_rng(6)
    s, y = sg.tensor("x", (N, 4)), sg.tensor("y", (N,), integer=True)
    vals = {"x": _reals(rng, 6, 4), "y": rng.integers(0, 4, size=6)}
    _agree(sg.multi_margin(s, y, reduction=reduction), ["x"], vals,
           lambda x, y: TF.multi_margin_loss(x, y, reduction=reduction))


def test_multi_margin_classes_on_the_first_axis_and_a_margin():
    rng = np.random.default_rng(8)
    s, y = sg.tensor("x", (4, N)), sg.tensor("y", (N,), integer=True)
    vals = {"x": _reals(rng, 4, 5), "y": rng.integers(0, 4, size=5)}
    _agree(sg.multi_margin(s, y, axis=0, margin=0.5), ["x"], vals,
           lambda x, y: TF.multi_margin_loss(x.T, y, margin=0.5))


def test_matrices_keep_the_per_example_losses():
    a, b = sp.MatrixSymbol("a", 3, 1), sp.MatrixSymbol("b", 3, 1)
    assert sg.mse(a, b) == sg.sum(sp.HadamardPower(a - b, 2)) / 2
    u, v = sp.symbols("u v")
    assert sg.mse(u, v) == (u - v) ** 2 / 2
    with pytest.raises(sg.ArgumentError, match="mse: reduction= and axis= are for tensors"):
        sg.mse(a, b, reduction="mean")
    with pytest.raises(sg.ArgumentError, match="kl_div: reduction= and axis= are for tensors"):
        sg.kl_div(a, b, axis=0)


def test_bad_loss_arguments_are_clear():
    x, y = sg.tensor("x", (N, 3)), sg.tensor("y", (N, 3))
    with pytest.raises(sg.ArgumentError, match=r"mse: reduction must be one of \['mean', 'sum', 'none'\], got 'avg'"):
        sg.mse(x, y, reduction="avg")
    with pytest.raises(sg.BroadcastError):
        sg.l1(x, sg.tensor("z", (N, 4)))
    with pytest.raises(sg.AxisError):
        sg.kl_div(x, y, axis=2)
    labels = sg.tensor("k", (N,), integer=True)
    with pytest.raises(sg.IntegerTensorError, match="bce: y = k is an integer tensor"):
        sg.bce(sg.tensor("p", (N,)), labels)
    with pytest.raises(sg.IntegerTensorError, match="multi_margin: the labels y must be an integer tensor"):
        sg.multi_margin(x, y)
    with pytest.raises(sg.ShapeError, match=r"batch shape \(N,\)"):
        sg.multi_margin(x, sg.tensor("k2", (N, 3), integer=True))


def test_softmax_of_a_non_vector_matrix_needs_an_axis():
    S = sp.MatrixSymbol("S", 4, 3)
    for fn in (sg.softmax, sg.log_softmax):
        with pytest.raises(sg.AxisError, match=r"S is a 4×3 matrix, not a vector.*sg.tensor.*axis=-1"):
            fn(S)
    n, m = sp.symbols("n m", integer=True, positive=True)
    with pytest.raises(sg.AxisError):
        sg.softmax(sp.MatrixSymbol("Z", n, m))
    # vectors, columns or rows, of any size, are one distribution: as before
    assert sg.softmax(sp.MatrixSymbol("z", n, 1)).shape == (n, 1)
    assert sg.log_softmax(sp.MatrixSymbol("r", 1, 3)).shape == (1, 3)
    # and a tensor of scores normalises per row with axis=
    assert sg.softmax(sg.tensor("S", (4, 3)), axis=-1).shape == (4, 3)
