"""M[i, j] of a matrix expression is an element of the IR: the matrix is lowered whole and the entry
picked from it, never written out entry by entry as SymPy writes an indexed product."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from time_limit import time_limit


def torch_mlp_entry(values, X, i=0):
    """The MLP's output entry i (relu hidden layers) and its gradients by torch.autograd, float64."""
    import torch
    ps = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in values.items()}
    h = torch.tensor(X, dtype=torch.float64).T              # (n0, B)
    L = len(values) // 2
    for k in range(1, L + 1):
        h = ps[f"W{k}"] @ h + ps[f"b{k}"]
        if k < L:
            h = torch.relu(h)
    loss = h[i].mean()
    grads = torch.autograd.grad(loss, list(ps.values()))
    return float(loss.detach()), {k: g.numpy() for k, g in zip(ps, grads)}


def test_entry_of_a_deep_mlp_compiles_quickly_and_is_right():
    net = sg.mlp([30, 32, 16, 1])
    with time_limit(60):           # was over 10 minutes (a 1.3 MB expression); about 1 s now
        entry = net.output[0, 0]
        prog = sg.compile(entry, net.params, [net.input], dtype="float64")
    assert len(str(entry)) < 2000  # one layer written out per index, not every path
    rng = np.random.default_rng(0)
    values = {p.name: rng.normal(0, 0.5, p.shape) for p in net.params}
    X = rng.normal(size=(8, 30))
    loss, grads = torch_mlp_entry(values, X)
    assert prog.loss(values, {"x": X}) == pytest.approx(loss, rel=1e-12)
    got = prog.grad(values, {"x": X})
    for name, g in grads.items():
        np.testing.assert_allclose(got[name], g, rtol=1e-10, atol=1e-12)


def test_entry_of_a_matrix_with_columns():
    """(c·relu(A·B))[0, j] = Σ_r c_r relu(AB)_rj; ∂/∂A_rk = c_r·H((AB)_rj)·B_kj, by hand in NumPy."""
    A, B, c = sp.MatrixSymbol("A", 3, 2), sp.MatrixSymbol("B", 2, 4), sp.MatrixSymbol("c", 1, 3)
    rng = np.random.default_rng(1)
    values = {"A": rng.normal(size=(3, 2)), "B": rng.normal(size=(2, 4)), "c": rng.normal(size=(1, 3))}
    a, b, cv = values["A"], values["B"], values["c"].ravel()
    for j in range(4):
        e = (c * sg.relu(A * B))[0, j]
        assert float(sg.numeric(e, values)) == pytest.approx(cv @ np.maximum(a @ b, 0)[:, j], rel=1e-12)
        want = (cv * (a @ b >= 0)[:, j])[:, None] * b[:, j][None, :]
        np.testing.assert_allclose(np.asarray(sg.numeric(sg.grad(e, A), values), dtype=float), want,
                                   rtol=1e-10, atol=1e-12)


def test_sympy_derivative_of_an_entry_is_right():
    """sp.diff sees through the kept entry: equal to the derivative of the written-out form."""
    W, x = sp.MatrixSymbol("W", 2, 2), sp.MatrixSymbol("x", 2, 1)
    kept = (W * sg.sigmoid(W * x))[1, 0]
    z = W.as_explicit() * x.as_explicit()
    written = sum(W[1, k] * sg.sigmoid(z[k, 0]) for k in range(2))
    at = {W: sp.ImmutableMatrix([[0.3, -1.2], [0.7, 0.4]]), x: sp.ImmutableMatrix([[1.1], [-0.6]])}
    for wrt in (W[0, 1], x[1, 0], W[1, 1]):
        a = sp.diff(kept, wrt).subs(at).doit()
        b = sp.diff(written, wrt).subs(at).doit()
        assert b != 0 and float(sp.N(a - b, 30)) == pytest.approx(0, abs=1e-25)
