"""`sg.grad` of tensor declarations reads in the tensor vocabulary (issue 11, point 4):
``dout.sum(axis=0)``, ``x.reshape(N, 6).T @ dout``, ``one_hot(y, 3)``, ``scatter_add`` — never a
KroneckerDelta sum, an indexed sum or a matrix written out entry by entry; and so does the named form."""
from __future__ import annotations

import pytest
import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement
from sympy.tensor.array.expressions import ArrayElement

import symgrad as sg
from symgrad.frontend.tensor import is_tensor_expr

N = sp.Symbol("N", integer=True, positive=True)
SCALARIZED = (sp.KroneckerDelta, sp.Sum, sp.Indexed, ArrayElement, MatrixElement, sp.ImmutableMatrix)


def _f(out):
    """The layer's output against an upstream gradient dout: f = Σ out ⊙ dout (a scalar out as it is)."""
    shape = sg.as_tensor(out).shape
    return out if shape == () else sg.sum(out * sg.tensor("dout", shape))


def _layers():
    x, w, b = sg.tensor("x", (N, 3, 2)), sg.tensor("w", (6, 5)), sg.tensor("b", (5,))
    yield "affine", x.reshape(N, -1) @ w + b, [x, w, b]
    x3, y = sg.tensor("x", (N, 3)), sg.tensor("y", (N,), integer=True)
    yield "softmax loss", sg.cross_entropy(x3, y), [x3]
    g, be = sg.tensor("gamma", (3,)), sg.tensor("beta", (3,))
    yield "batch norm", g * (x3 - x3.mean(axis=0)) / sp.sqrt(x3.var(axis=0) + 1e-5) + be, [x3, g, be]
    W, idx = sg.tensor("W", (3, 2)), sg.tensor("idx", (N, 5), integer=True)
    yield "embedding", sg.embedding(W, idx), [W]
    x4, y4 = sg.tensor("x", (N, 4)), sg.tensor("y", (N,), integer=True)
    correct = sg.take_along_axis(x4, y4[:, None], axis=1)
    yield "svm loss", sg.sum(sp.Max(x4 - correct + 1, 0) * (1 - sg.one_hot(y4, 4))) / N, [x4]
    q, k, v = sg.tensor("q", (N, 2, 3)), sg.tensor("k", (N, 3, 3)), sg.tensor("v", (N, 3, 2))
    yield "attention", sg.softmax(q @ k.transpose(0, 2, 1) / sp.sqrt(3), axis=-1) @ v, [q, k, v]
    H = 2
    xs, hp, cp = sg.tensor("x", (N, 3)), sg.tensor("prev_h", (N, H)), sg.tensor("prev_c", (N, H))
    Wx, Wh, bb = sg.tensor("Wx", (3, 4 * H)), sg.tensor("Wh", (H, 4 * H)), sg.tensor("b", (4 * H,))
    a = xs @ Wx + hp @ Wh + bb
    i, f, o, gg = sg.sigmoid(a[:, :H]), sg.sigmoid(a[:, H:2 * H]), sg.sigmoid(a[:, 2 * H:3 * H]), sp.tanh(a[:, 3 * H:])
    yield "lstm step", o * sp.tanh(f * cp + i * gg), [xs, hp, Wx, bb]


@pytest.mark.parametrize("name,out,wrt", list(_layers()), ids=[n for n, _, _ in _layers()])
def test_gradients_read_in_the_tensor_vocabulary(name, out, wrt):
    f = _f(out)
    for form in (sg.grad(f, wrt), sg.grad(f, wrt, named=True)):
        exprs = form if isinstance(form, list) else form.gradients + [e for _, e in form.definitions]
        for g in exprs:
            assert is_tensor_expr(g), (name, g)
            assert not g.has(*SCALARIZED), (name, g)


def test_the_forms_of_the_issue():
    (name, out, wrt), = [l for l in _layers() if l[0] == "affine"]
    assert [str(g) for g in sg.grad(_f(out), wrt)] == [
        "(dout @ w.T).reshape(N, 3, 2)", "x.reshape(N, 6).T @ dout", "dout.sum(axis=0)"]
    x, y = sg.tensor("x", (N, 3)), sg.tensor("y", (N,), integer=True)
    assert str(sg.grad(sg.cross_entropy(x, y), x)) == "-one_hot(y, 3)/N + softmax(x, axis=1)/N"
    W, idx = sg.tensor("W", (3, 2)), sg.tensor("idx", (N, 5), integer=True)
    assert str(sg.grad(_f(sg.embedding(W, idx)), W)) == "scatter_add(dout, idx, axis=0, size=3)"
