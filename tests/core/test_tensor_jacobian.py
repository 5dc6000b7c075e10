"""sg.jacobian / sg.hessian of tensors (sg.tensor, concrete sizes): arrays shaped F.shape + w.shape
and w.shape + w.shape, as torch.autograd.functional lays them out. Oracles: torch.autograd.functional
.jacobian / .hessian in float64, and sympy.diff of the same function written out by hand with
SymPy matrices of the tensors' entries."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch
from sympy.tensor.array.expressions import ArrayElement

import symgrad as sg
from symgrad.core import tensor_jacobian

rng = np.random.default_rng(20261130)


def _entries(t) -> sp.Matrix:
    """The entries of a 2-D tensor as a SymPy Matrix of x[i, j] (the test's own, apart from symgrad)."""
    m, n = t.shape
    return sp.Matrix(m, n, lambda i, j: ArrayElement(t, (i, j)))


def _numbers(J, values: dict) -> np.ndarray:
    """A symbolic array at a point: every entry x[i, j] replaced by its number."""
    arr = np.asarray(J.tolist() if hasattr(J, "tolist") else J, dtype=object)
    sub = {}
    for e in arr.ravel():
        for a in sp.sympify(e).atoms(ArrayElement):
            sub[a] = sp.Float(values[a.name.name][tuple(int(i) for i in a.indices)], 30)
    return np.array([float(sp.sympify(e).xreplace(sub)) for e in arr.ravel()]).reshape(arr.shape)


def test_layout_of_a_matrix_product_is_out_shape_then_wrt_shape():
    x, w = sg.tensor("x", (2, 3)), sg.tensor("w", (3, 4))
    J = sg.jacobian(x @ w, w)
    assert J.shape == (2, 4, 3, 4)
    X = _entries(x)
    for i, j, k, l in np.ndindex(2, 4, 3, 4):          # ∂(xw)[i, j]/∂w[k, l] = x[i, k]·[j = l]
        assert J[i, j, k, l] == (X[i, k] if j == l else 0)


def test_jacobian_of_tanh_affine_against_sympy_diff():
    x, w, b = sg.tensor("x", (2, 3)), sg.tensor("w", (3, 2)), sg.tensor("b", (2,))
    J = sg.jacobian(sg.tanh(x @ w + b), [w, b])
    X, W = _entries(x), _entries(w)
    B = sp.Matrix(1, 2, lambda i, j: ArrayElement(b, (j,)))
    F = (X * W + sp.Matrix.vstack(B, B)).applyfunc(sp.tanh)      # written out by hand
    assert J[0].shape == (2, 2, 3, 2) and J[1].shape == (2, 2, 2)
    for i, j, k, l in np.ndindex(2, 2, 3, 2):
        assert sp.simplify(J[0][i, j, k, l] - sp.diff(F[i, j], W[k, l]).doit()) == 0
    for i, j, k in np.ndindex(2, 2, 2):
        assert sp.simplify(J[1][i, j, k] - sp.diff(F[i, j], B[0, k])) == 0


def test_jacobian_of_softmax_against_torch():
    x, w = sg.tensor("x", (2, 3)), sg.tensor("w", (3, 4))
    vals = {"x": rng.normal(size=(2, 3)), "w": rng.normal(size=(3, 4))}
    for mode in ("reverse", "forward"):
        J = sg.jacobian(sg.softmax(x @ w, axis=1), [x, w], mode=mode)
        want = torch.autograd.functional.jacobian(lambda a, c: torch.softmax(a @ c, dim=1),
                                                  (torch.tensor(vals["x"]), torch.tensor(vals["w"])))
        for got, t in zip(J, want):
            assert got.shape == tuple(t.shape)
            np.testing.assert_allclose(_numbers(got, vals), t.numpy(), rtol=1e-10, atol=1e-12)


def test_jacobian_through_reshape_slice_concat_and_sums_against_torch():
    x = sg.tensor("x", (2, 2, 3))
    F = sg.concat([x.reshape(2, 6)[:, 1:5] ** 2, sg.sum(sg.exp(x), axis=2)], axis=1).T   # (6, 2)
    vals = {"x": rng.normal(size=(2, 2, 3))}
    J = sg.jacobian(F, x)
    want = torch.autograd.functional.jacobian(
        lambda t: torch.cat([t.reshape(2, 6)[:, 1:5] ** 2, torch.exp(t).sum(2)], dim=1).T,
        torch.tensor(vals["x"]))
    assert J.shape == (6, 2, 2, 2, 3)
    np.testing.assert_allclose(_numbers(J, vals), want.numpy(), rtol=1e-10, atol=1e-12)


def test_forward_and_reverse_agree_entry_by_entry():
    x, w = sg.tensor("x", (2, 2)), sg.tensor("w", (2, 3))
    F = sg.sigmoid(x @ w) * sg.sum(w, axis=0)
    assert sg.jacobian(F, w) == sg.jacobian(F, w, mode="forward")


def test_scalar_f_gives_the_gradient_shape_and_a_list_of_scalars_one_row_each():
    x, w = sg.tensor("x", (4, 3)), sg.tensor("w", (3,))
    a = sp.Symbol("a")
    g = sg.jacobian(sg.sum(sg.tanh(x @ w)), w)
    assert g.shape == (3,)
    assert all(sp.simplify(g[k] - sp.diff(sum(sp.tanh(sum(ArrayElement(x, (i, j)) * ArrayElement(w, (j,))
                                                         for j in range(3))) for i in range(4)),
                                       ArrayElement(w, (k,)))) == 0 for k in range(3))
    J = sg.jacobian([sg.sum(x @ w), a * sg.sum(w ** 2)], [w, a])
    assert J[0].shape == (2, 3) and J[1].shape == (2,)
    assert J[0][1, 2] == 2 * a * ArrayElement(w, (2,)) and J[1][0] == 0


def test_hessian_of_a_tensor_against_torch():
    x, w = sg.tensor("x", (3, 2)), sg.tensor("w", (2, 2))
    f = sg.sum(sg.tanh(x @ w) ** 2) + sg.sum(w ** 3)
    vals = {"x": rng.normal(size=(3, 2)), "w": rng.normal(size=(2, 2))}
    H = sg.hessian(f, w)
    assert H.shape == (2, 2, 2, 2)
    xt = torch.tensor(vals["x"])
    want = torch.autograd.functional.hessian(lambda t: (torch.tanh(xt @ t) ** 2).sum() + (t ** 3).sum(),
                                             torch.tensor(vals["w"]))
    np.testing.assert_allclose(_numbers(H, vals), want.numpy(), rtol=1e-10, atol=1e-12)


def test_hessian_blocks_of_several_tensors_against_torch():
    x, v = sg.tensor("x", (2,)), sg.tensor("v", (3,))
    f = sg.sum(sg.exp(x)) * sg.sum(v ** 2) + sg.sum(x) ** 3
    vals = {"x": rng.normal(size=2), "v": rng.normal(size=3)}
    H = sg.hessian(f, [x, v])
    want = torch.autograd.functional.hessian(
        lambda a, c: torch.exp(a).sum() * (c ** 2).sum() + a.sum() ** 3,
        (torch.tensor(vals["x"]), torch.tensor(vals["v"])))
    for a in range(2):
        for c in range(2):
            assert H[a][c].shape == tuple(want[a][c].shape)
            np.testing.assert_allclose(_numbers(H[a][c], vals), want[a][c].numpy(), rtol=1e-10, atol=1e-12)


def test_symbolic_sizes_are_a_clear_error():
    N = sp.Symbol("N", integer=True, positive=True)
    x, w = sg.tensor("x", (N, 3)), sg.tensor("w", (3, 2))
    with pytest.raises(sg.ShapeError, match=r"concrete sizes: F has the shape \(N, 2\).*N: 3"):
        sg.jacobian(x @ w, w)
    with pytest.raises(sg.ShapeError, match=r"hessian of tensors .*concrete sizes: x has the shape"):
        sg.hessian(sg.sum((x @ w) ** 2), x)
    with pytest.raises(sg.ShapeError, match=r"concrete sizes: x has the shape \(N, 3\)"):
        sg.jacobian(sg.sum(x @ w), w)                  # an input of symbolic size inside a scalar F
    # the way out the message gives works
    J = sg.jacobian((x @ w).xreplace({N: 3}), w)
    assert J.shape == (3, 2, 3, 2)


def test_values_dependent_primitives_are_refused_by_name():
    x = sg.tensor("x", (2, 3))
    with pytest.raises(sg.SymgradError, match="max over an axis.*cannot be written out|cannot be written out.*max"):
        sg.jacobian(sg.max(x, axis=1), x)
    y = sg.tensor("y", (2,), integer=True)
    with pytest.raises(sg.SymgradError, match="cannot be written out"):
        sg.jacobian(sg.cross_entropy(x, y), x)


def test_too_many_entries_is_refused():
    x = sg.tensor("x", (9, 9))
    n = tensor_jacobian.MAX_ENTRIES
    assert 81 * 81 > n
    with pytest.raises(sg.ShapeError, match=f"more than {n}"):
        sg.jacobian(x * 2, x)


def test_matrix_jacobian_is_unchanged():
    W, v = sp.MatrixSymbol("W", 2, 2), sp.MatrixSymbol("v", 2, 1)
    assert sg.jacobian(W * v, v) == sp.Matrix(W)


def test_hessian_against_sympy_diff_of_the_function_written_out():
    x, w = sg.tensor("x", (2, 2)), sg.tensor("w", (2,))
    H = sg.hessian(sg.sum(sg.exp(x @ w)) + sg.sum(w ** 4), w)
    X, W = _entries(x), [ArrayElement(w, (k,)) for k in range(2)]
    f = sum(sp.exp(X[i, 0] * W[0] + X[i, 1] * W[1]) for i in range(2)) + W[0] ** 4 + W[1] ** 4
    assert H.shape == (2, 2)
    for a, b in np.ndindex(2, 2):
        assert sp.simplify(H[a, b] - sp.diff(f, W[a], W[b])) == 0


def test_batched_matmul_of_3d_tensors_against_torch():
    a, b = sg.tensor("a", (2, 2, 3)), sg.tensor("b", (2, 3, 2))
    vals = {"a": rng.normal(size=(2, 2, 3)), "b": rng.normal(size=(2, 3, 2))}
    J = sg.jacobian(sg.softplus(a @ b), b)
    want = torch.autograd.functional.jacobian(
        lambda t: torch.nn.functional.softplus(torch.tensor(vals["a"]) @ t), torch.tensor(vals["b"]))
    assert J.shape == (2, 2, 2, 2, 3, 2)
    np.testing.assert_allclose(_numbers(J, vals), want.numpy(), rtol=1e-10, atol=1e-12)
