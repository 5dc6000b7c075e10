"""torch's ``x.amax(dim)`` / ``x.amin(dim)`` at a tie (2026-11-30, tenth session): torch splits the
gradient evenly among the tied entries, where its ``max(x, dim)`` (and max pooling) gives it all to
one index. symgrad's ``amax`` was its one max over an axis, the first arg-max taking everything, so a
torch port's gradient differed at every tie (ReLU outputs tie at 0 all the time). ``x.amax`` /
``x.amin`` now give torch's split, and ``x.max(axis)`` keeps the first arg-max — checked against
torch.autograd, by ``sg.grad`` and by the compiled NumPy program."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")

# ties in every row and in columns 1 and 2: a pair, a triple next to a −inf, the overall maximum twice
XV = np.array([[1.0, 3.0, 3.0, 0.0],
               [2.0, 2.0, 2.0, -np.inf],
               [5.0, 3.0, 3.0, 5.0]])
DIMS = [(1, False), (1, True), (0, False), (-1, True), ((0, 1), False), (None, False)]


def _torch_grad(fn, xv, w):
    t = torch.tensor(xv, requires_grad=True)
    out = fn(t)
    (out * torch.tensor(w)).sum().backward()
    return out.detach().numpy(), t.grad.numpy()


def _weights(shape):
    return np.arange(1.0, 1.0 + int(np.prod(shape))).reshape(shape)     # a distinct weight per output


def _assert_torchs(name, xv, dim, keepdim, torch_dim):
    """x.amax / x.amin(dim, keepdim): its value equal to torch's, and the gradient of a weighted sum
    of it (a distinct weight per output) torch's to 1e-15."""
    x = sg.tensor("x", xv.shape)
    e = getattr(x, name)(dim, keepdim)
    want_value, want_grad = _torch_grad(lambda t: getattr(t, name)(torch_dim, keepdim), xv, _weights(e.shape))
    w = sg.tensor("w", e.shape)
    at = {x: xv, w: _weights(e.shape)}
    np.testing.assert_array_equal(np.asarray(sg.numeric(e, at), dtype=float), want_value)
    np.testing.assert_allclose(np.asarray(sg.numeric(sg.grad((e * w).sum(), x), at), dtype=float),
                               want_grad, rtol=0, atol=1e-15)


@pytest.mark.parametrize("name", ["amax", "amin"])
@pytest.mark.parametrize("dim, keepdim", DIMS, ids=[f"{d}-{k}" for d, k in DIMS])
def test_amax_and_amin_split_a_tie_as_torch(name, dim, keepdim):
    xv = XV if name == "amax" else -XV
    _assert_torchs(name, xv, dim, keepdim, tuple(range(xv.ndim)) if dim is None else dim)


def test_compiled_amax_gradient_is_torch_s():
    N = sp.Symbol("N", integer=True, positive=True)
    x, v = sg.tensor("x", (N, 4)), sg.tensor("v", (4,))
    loss = (x * v).amax(1).sum() + (x * v).amin(dim=0, keepdim=True).sum()
    prog = sg.compile(loss, [v], [x], dtype="float64")
    vv = np.array([1.0, 1.0, 2.0, 1.0])
    xv = np.array([[2.0, 2.0, 0.0, 1.0], [1.0, 3.0, 1.5, 3.0], [0.5, 0.5, 0.25, 0.5]])
    t = torch.tensor(vv, requires_grad=True)
    want = ((torch.tensor(xv) * t).amax(1).sum() + (torch.tensor(xv) * t).amin(0, keepdim=True).sum())
    want.backward()
    assert prog.loss({"v": vv}, {"x": xv}) == pytest.approx(want.item(), abs=1e-14)
    np.testing.assert_allclose(prog.grad({"v": vv}, {"x": xv})["v"], t.grad.numpy(), rtol=0, atol=1e-14)


@pytest.mark.parametrize("policy", [sg.Subgradients(), sg.Subgradients(max_ties="split")])
def test_numpy_max_over_an_axis_keeps_the_first_arg_max(policy):
    """x.max(axis) is torch's max(x, dim).values: the whole gradient to one index, under either
    max_ties (docs/core.md's kink table)."""
    x = sg.tensor("x", XV.shape)
    g = sg.grad(x.max(axis=1).sum(), x, policy=policy)
    t = torch.tensor(XV, requires_grad=True)
    t.max(dim=1).values.sum().backward()
    np.testing.assert_array_equal(np.asarray(sg.numeric(g, {x: XV}), dtype=float), t.grad.numpy())


def test_amax_keepdim_must_be_a_flag():
    with pytest.raises(sg.ArgumentError, match="keepdim"):
        sg.tensor("x", (2, 3)).amax(1, "yes")


def test_several_axes_of_a_3d_tensor_in_any_order():
    xv = np.arange(24.0).reshape(2, 3, 4) % 3                # ties of 2 to 4 entries in every slice
    for name in ("amax", "amin"):
        for dim, keepdim in (((2, 0), True), ((0, 2), False), ((1, -1), False), (-2, True)):
            _assert_torchs(name, xv, dim, keepdim, dim)


@pytest.mark.parametrize("name", ["amax", "amin"])
def test_infinite_and_nan_rows(name):
    """Rows masked to −inf, holding ±inf, holding NaN, a float64 maximum beyond float32's range: the
    value and the gradient are torch's (eleventh session: a maximum of ±inf was NaN, ∞ − ∞)."""
    inf = np.inf
    xv = np.array([[-inf, -inf, -inf], [1.0, -inf, -inf], [inf, inf, 3.0], [1.0, np.nan, 3.0], [2.0, 2.0, 1.0],
                   [-1e300, 1e300, 1e300], [inf, -inf, inf]])
    x = sg.tensor("x", xv.shape)
    e = getattr(x, name)(1)
    want_value, want_grad = _torch_grad(lambda t: getattr(t, name)(1), xv, _weights(e.shape))
    w = sg.tensor("w", e.shape)
    at = {x: xv, w: _weights(e.shape)}
    with np.errstate(invalid="ignore"):
        got = np.asarray(sg.numeric(e, at), dtype=float)
        grad = np.asarray(sg.numeric(sg.grad((e * w).sum(), x), at), dtype=float)
    np.testing.assert_allclose(grad, want_grad, rtol=0, atol=1e-15)          # NaN where torch's is
    assert np.isinf(want_value).sum() == 3
    np.testing.assert_array_equal(got, want_value)                          # ±inf as torch's, NaN for NaN


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_compiled_amax_of_a_masked_row_is_minus_inf(dtype):
    """An attention-style row masked to −inf throughout: amax is −inf and exp of it 0, as torch's, in
    the compiled NumPy program too (it was NaN, and so were the loss and the gradient); amin of a row
    of +inf likewise."""
    N = sp.Symbol("N", integer=True, positive=True)
    x, y, s = sg.tensor("x", (N, 3)), sg.tensor("y", (N, 3)), sg.tensor("s", (3,))
    prog = sg.compile(sg.exp((x + s).amax(1)).sum() + sg.exp(-(y + s).amin(1)).sum(), [s], [x, y], dtype=dtype)
    inf, sv = np.inf, np.array([0.1, 0.2, 0.3])
    xv = np.array([[2.0, 5.0, 5.0], [-inf, -inf, -inf], [-inf, 1.0, 2.0]])
    yv = np.array([[2.0, 1.0, 1.0], [inf, inf, inf], [inf, -1.0, 2.0]])
    t = torch.tensor(sv, requires_grad=True)
    want = (torch.exp((torch.tensor(xv) + t).amax(1)).sum() + torch.exp(-(torch.tensor(yv) + t).amin(1)).sum())
    want.backward()
    assert np.isfinite(want.item()) and np.isfinite(t.grad.numpy()).all()
    tol = 1e-12 if dtype == "float64" else 1e-5
    assert prog.loss({"s": sv}, {"x": xv, "y": yv}) == pytest.approx(want.item(), rel=tol)
    np.testing.assert_allclose(prog.grad({"s": sv}, {"x": xv, "y": yv})["s"], t.grad.numpy(), rtol=tol)
