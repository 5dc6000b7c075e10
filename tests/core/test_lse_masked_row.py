"""A logsumexp of a row that is −inf throughout (an attention row masked entirely, a padded
example) in ``sg.numeric`` (2026-12-01): the max shift made it −inf − (−inf) = NaN, where
torch.logsumexp gives −inf. The shift is now 0 where the max is not finite (`array_rules._lse_impl`).
Compared with torch.autograd, values and gradients, in float64 and float32: the gradient of that row
is NaN in both (torch's softmax of it is), as are its softmax and its log-softmax."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")
INF = np.inf
Z = np.array([[-INF, -INF, -INF], [1.0, 2.0, -INF], [0.0, 1.0, 2.0], [-3.0, 0.5, 800.0]])


def _torch(fn, dtype):
    t = torch.tensor(Z, dtype=dtype, requires_grad=True)
    out = fn(t)
    out.sum().backward()
    return out.detach().numpy(), t.grad.numpy()


def _forms(z):
    """The three ways a user writes the logsumexp over axis 1."""
    return {"sg.logsumexp": sg.logsumexp(z, axis=1), "method": z.logsumexp(axis=1),
            "by hand": sp.log(sp.exp(z).sum(axis=1))}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("form", ["sg.logsumexp", "method", "by hand"])
def test_logsumexp_of_a_row_of_minus_inf_is_torch_s(form, dtype):
    z = sg.tensor("z", Z.shape)
    at = {z: Z.astype(dtype)}
    want, want_grad = _torch(lambda t: torch.logsumexp(t, 1), getattr(torch, dtype))
    e = _forms(z)[form]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)        # log 0, 0/0 of the masked row, as torch's
        got = np.ravel(np.asarray(sg.numeric(e, at), dtype=float))
        grad = np.asarray(sg.numeric(sg.grad(e.sum(), z), at), dtype=float)
    assert got[0] == -INF
    rtol = 1e-13 if dtype == "float64" else 1e-6
    np.testing.assert_allclose(got, want, rtol=rtol)
    assert np.isnan(grad[0]).all() and np.isnan(want_grad[0]).all()
    np.testing.assert_allclose(grad, want_grad, rtol=rtol, atol=1e-300)


def test_softmax_and_log_softmax_of_a_row_of_minus_inf_are_torch_s():
    """NaN for the masked row in torch and in symgrad; the other rows (one with a −inf entry) finite."""
    z = sg.tensor("z", Z.shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        sm = np.asarray(sg.numeric(sg.softmax(z, axis=1), {z: Z}), dtype=float)
        ls = np.asarray(sg.numeric(sg.log_softmax(z, axis=1), {z: Z}), dtype=float)
    t = torch.tensor(Z)
    np.testing.assert_allclose(sm, torch.softmax(t, 1).numpy(), rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(ls, torch.log_softmax(t, 1).numpy(), rtol=1e-13)
    assert np.isnan(sm[0]).all() and np.isfinite(sm[1:]).all()


def test_a_row_with_plus_inf_stays_plus_inf():
    """The shift by 0 for a non-finite max keeps torch's +inf for a row holding +inf."""
    z = sg.tensor("z", (1, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        got = np.ravel(np.asarray(sg.numeric(sg.logsumexp(z, axis=1), {z: np.array([[INF, 0.0]])}), dtype=float))
    assert got.tolist() == torch.logsumexp(torch.tensor([[INF, 0.0]]), 1).tolist() == [INF]


@pytest.mark.parametrize("fill", [-INF, INF])
def test_logsumexp_of_a_column_of_inf_is_torch_s(fill):
    """A MatrixSymbol column's logsumexp (`rules.logsumexp_p`): −inf throughout gives −inf, a +inf
    entry +inf, as torch's; both were inf − inf = NaN."""
    z = sp.MatrixSymbol("z", 3, 1)
    col = np.array([[fill], [-INF if fill < 0 else 0.0], [-INF if fill < 0 else 1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        got = float(sg.numeric(sg.logsumexp(z), {z: col}))
        grad = np.ravel(np.asarray(sg.numeric(sg.grad(sg.logsumexp(z), z), {z: col}), dtype=float))
    t = torch.tensor(col[:, 0], requires_grad=True)
    want = torch.logsumexp(t, 0)
    want.backward()
    assert got == want.item() == fill
    np.testing.assert_allclose(grad, t.grad.numpy())        # NaN where torch's is (all of it for −inf)


def test_a_masked_rows_logsumexp_gives_no_warning():
    """−inf is the documented value of that row (docs/core.md), so sg.numeric says it without NumPy's
    "divide by zero encountered in log" (a newcomer's trial, 2026-11-30, tenth session)."""
    x = sg.tensor("x", (2, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        got = sg.numeric(x.logsumexp(1), {x: np.array([[-np.inf] * 3, [0.0, 1.0, 2.0]])})
    assert np.asarray(got).ravel()[0] == -np.inf
