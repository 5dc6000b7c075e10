"""A student checking hand-derived gradients written as formulas (lecture notation, SymPy matrices
and symgrad tensors) with sg.check: a two-layer net's δ₁ = (W₂ᵀδ₂) ⊙ σ′(z₁), logistic regression,
the Matrix Cookbook's identities; each typed right and with a student's slip. The expected words
are the slips as a student makes them, the truths checked against sympy.diff / finite differences
by sg.check itself (its verdict), and here against torch.autograd where a value is asserted."""
from __future__ import annotations

import sympy as sp
from sympy import HadamardProduct as HP
from sympy import MatrixSymbol as MS

import symgrad as sg

from verdicts import wrong


def _two_layer():
    W1, W2, x, t, b1 = MS("W1", 4, 3), MS("W2", 2, 4), MS("x", 3, 1), MS("t", 2, 1), MS("b1", 4, 1)
    h = (W1 * x + b1).applyfunc(sg.sigmoid)
    d2 = W2 * h - t
    return sg.sum(HP(d2, d2)) / 2, W1, W2, x, h, d2


def test_a_sigmoid_derivative_written_as_tanhs_names_the_matrix_it_is_applied_to():
    """σ′ written 1 − h² in δ₁ for h = σ.(W1 x + b1): the hint named the node "sigmoid(_d)", SymPy's
    lambda variable of applyfunc, and said "the other activations' derivatives are right" with no
    other activation in f."""
    L, W1, W2, x, h, d2 = _two_layer()
    right = HP(W2.T * d2, HP(h, sp.OneMatrix(4, 1) - h)) * x.T
    assert sg.check(L, W1, right).verdict == "equal"
    r = wrong(sg.check(L, W1, HP(W2.T * d2, sp.OneMatrix(4, 1) - HP(h, h)) * x.T), "σ'(z) written wrong")
    assert "σ(z) applied entrywise to z = W1*x + b1" in r.hint and "1 − σ(z)²" in r.hint
    assert "_d" not in r.hint and "other activations" not in r.hint


def test_logistic_regressions_gradient_with_an_extra_sigmoid_derivative_is_named():
    """∂L/∂w = Xᵀ((σ(Xw) − y) ⊙ σ′(Xw))/N for the binary cross-entropy's Xᵀ(σ(Xw) − y)/N: a squared
    error's δ carried over, where σ′ cancels. It read a bare "not equal"."""
    import numpy as np
    import torch
    N = sp.Symbol("N", integer=True, positive=True)
    X, w, y = sg.tensor("X", (N, 3)), sg.tensor("w", (3,)), sg.tensor("y", (N,))
    s = sg.sigmoid(X @ w)
    L = -sg.mean(y * sg.log(s) + (1 - y) * sg.log(1 - s))
    right = X.T @ (s - y) / N
    assert sg.check(L, w, right).verdict == "equal"
    rng = np.random.default_rng(0)           # the right formula against torch.autograd, at one point
    Xv, wv, yv = rng.normal(size=(6, 3)), rng.normal(size=3), rng.uniform(size=6)
    wt = torch.tensor(wv, requires_grad=True)
    torch.nn.functional.binary_cross_entropy(torch.sigmoid(torch.tensor(Xv) @ wt), torch.tensor(yv)).backward()
    sv = 1 / (1 + np.exp(-Xv @ wv))
    assert np.allclose(Xv.T @ (sv - yv) / 6, wt.grad.numpy())
    r = wrong(sg.check(L, w, X.T @ ((s - y) * s * (1 - s)) / N), "an extra σ′ factor")
    assert "z = X @ w" in r.hint and "δ = σ(z) − y with no σ′" in r.hint
    # a squared error keeps its σ′: there the same claim is right, and leaving σ′ out is another slip
    mse = sg.mean((s - y) ** 2) / 2
    assert sg.check(mse, w, X.T @ ((s - y) * s * (1 - s)) / N).verdict == "equal"
    assert "extra σ′" not in (wrong(sg.check(mse, w, right)).hint or "")


def test_softmax_cross_entropys_delta_times_p_one_minus_p_is_named():
    """δ = (f − f*) ⊙ f ⊙ (1 − f) for softmax + cross-entropy's δ = f − f*: softmax's Jacobian taken as
    its diagonal and multiplied in again. It read a bare "not equal"."""
    import numpy as np
    import torch
    N = sp.Symbol("N", integer=True, positive=True)
    X, W, b, Y = sg.tensor("X", (N, 3)), sg.tensor("W", (3, 4)), sg.tensor("b", (4,)), sg.tensor("Y", (N, 4))
    L = sg.mean(-sg.sum(Y * sg.log_softmax(X @ W + b, axis=1), axis=1))
    P = sg.softmax(X @ W + b, axis=1)
    assert sg.check(L, W, X.T @ (P - Y) / N).verdict == "equal"
    rng = np.random.default_rng(1)           # the right formula against torch.autograd, at one point
    Xv, Wv, bv = rng.normal(size=(5, 3)), rng.normal(size=(3, 4)), rng.normal(size=4)
    Yv = rng.dirichlet(np.ones(4), size=5)
    Wt = torch.tensor(Wv, requires_grad=True)
    torch.nn.functional.cross_entropy(torch.tensor(Xv) @ Wt + torch.tensor(bv), torch.tensor(Yv)).backward()
    Pv = np.exp(Xv @ Wv + bv) / np.exp(Xv @ Wv + bv).sum(axis=1, keepdims=True)
    assert np.allclose(Xv.T @ (Pv - Yv) / 5, Wt.grad.numpy())
    r = wrong(sg.check(L, W, X.T @ ((P - Y) * P * (1 - P)) / N), "an extra softmax′ factor")
    assert "z = b + X @ W" in r.hint and "δ = p − y" in r.hint


def test_a_cookbook_identity_for_a_symmetric_matrix_used_for_any_is_named():
    """∂ xᵀAx/∂x = 2Ax and ∂ tr(XᵀAX)/∂X = 2AX, right only for A = Aᵀ: they read a bare "not equal"."""
    A, x, X, B = MS("A", 3, 3), MS("x", 3, 1), MS("X", 3, 3), MS("B", 3, 3)
    q = (x.T * A * x)[0, 0]
    entries = sp.Matrix(3, 1, lambda i, _: sp.diff(sp.expand((x.T * A * x).as_explicit()[0, 0]), x[i, 0]))
    assert sp.expand(entries - ((A + A.T) * x).as_explicit()) == sp.zeros(3, 1)     # sympy.diff, entry by entry
    assert sg.check(q, x, (A + A.T) * x).verdict == "equal"
    r = wrong(sg.check(q, x, 2 * A * x), "right only for a symmetric matrix")
    assert "when A is symmetric (A = Aᵀ)" in r.hint and "2Ax only for a symmetric A" in r.hint
    wrong(sg.check(sp.Trace(X.T * A * X), X, 2 * A * X), "right only for a symmetric matrix")
    r = wrong(sg.check(sp.Trace(A * X * B), X, A.T * B), "right only for a symmetric matrix")
    assert "when B is symmetric" in r.hint
    assert sg.check(sp.Trace(A * X * B), X, A.T * B.T).verdict == "equal"
    # a claim wrong for symmetric A too (a factor 2 left out) is not called a symmetry slip
    assert "symmetric" not in (wrong(sg.check(q, x, A * x)).hint or "")


def test_ridge_regressions_slips_name_the_path_as_written_without_symgrads_reshapes():
    """A ridge loss with a 1-d w: a missing 2 on the data term named its path as
    w → w.reshape(3, 1) → X @ w.reshape(3, 1) → …, the reshapes symgrad adds to lower X @ w."""
    N, lam = sp.Symbol("N", integer=True, positive=True), sp.Symbol("lam", positive=True)
    X, w, y = sg.tensor("X", (N, 3)), sg.tensor("w", (3,)), sg.tensor("y", (N,))
    L = sg.sum((X @ w - y) ** 2) / N + lam * sg.sum(w ** 2)
    assert sg.check(L, w, 2 * X.T @ (X @ w - y) / N + 2 * lam * w).verdict == "equal"
    r = wrong(sg.check(L, w, X.T @ (X @ w - y) / N + 2 * lam * w), "fan-out")
    assert "w → X @ w → " in r.hint and ".reshape" not in r.hint and "the 2 from differentiating a square" in r.hint
    r = wrong(sg.check(L, w, 2 * X.T @ (X @ w - y) / N), "fan-out")
    assert "leaves out the term of the path w → w**2" in r.hint and "2*lam*w" in r.hint


def test_a_numerator_layout_claim_is_told_how_to_check_it_and_is_equal_up_to_that_convention():
    """x.T * (A + A.T) for ∂ xᵀAx/∂x: right in the numerator layout (a row). Without convention='row'
    the transpose hint now says so; with it the verdict is "equal" and the layout sentence says the
    claim was read as a row; a column given with convention='row' is told to drop it."""
    A, x, W, t = MS("A", 3, 3), MS("x", 3, 1), MS("W", 2, 3), MS("t", 2, 1)
    q = (x.T * A * x)[0, 0]
    r = wrong(sg.check(q, x, x.T * (A + A.T)), "transpose")
    assert "a row is the numerator layout" in r.hint and "convention='row'" in r.hint
    row = sg.check(q, x, x.T * (A + A.T), convention="row")
    assert row.verdict == "equal" and "read in the row convention" in row.layout
    assert "row convention" not in sg.check(q, x, (A + A.T) * x).layout
    col = wrong(sg.check(q, x, (A + A.T) * x, convention="row"), "transpose")
    assert "check it without convention='row'" in col.hint
    f = sg.sum(sp.HadamardPower(W * x - t, 2))
    r = wrong(sg.check(f, W, 2 * x * (W * x - t).T), "transpose")
    assert "∂f/∂W = δ·yᵀ, not y·δᵀ" in r.hint and "∂f/∂W shaped like Wᵀ" in r.hint
    assert sg.check(f, W, 2 * x * (W * x - t).T, convention="row").verdict == "equal"


def test_an_activation_derivative_taken_at_the_activations_output_is_named():
    """δ₁ = (δ₂ W₂ᵀ) ⊙ σ′(h) with h = σ(z₁) already the activation: σ′ applied twice over. It read
    "first differing step" with the derivation's internal nodes."""
    N = sp.Symbol("N", integer=True, positive=True)
    X, W1, b1 = sg.tensor("X", (N, 3)), sg.tensor("W1", (3, 5)), sg.tensor("b1", (5,))
    W2, Y = sg.tensor("W2", (5, 2)), sg.tensor("Y", (N, 2))
    for act, d, kind in ((sg.sigmoid, lambda u: sg.sigmoid(u) * (1 - sg.sigmoid(u)), "σ'(z) written wrong"),
                         (sg.tanh, lambda u: 1 - sg.tanh(u) ** 2, "tanh'(z) written wrong")):
        H = act(X @ W1 + b1)
        L = sg.mean(-sg.sum(Y * sg.log_softmax(H @ W2, axis=1), axis=1))
        D2 = (sg.softmax(H @ W2, axis=1) - Y) / N
        assert sg.check(L, W1, X.T @ ((D2 @ W2.T) * d(X @ W1 + b1))).verdict == "equal"
        r = wrong(sg.check(L, W1, X.T @ ((D2 @ W2.T) * d(H))), kind)
        assert "taken at the output h" in r.hint and "where its input z belongs" in r.hint


def test_softmax_cross_entropys_extra_factor_is_named_in_lecture_notation_too():
    """The same slip with column vectors: ∂L/∂W = ((f − f*) ⊙ f ⊙ (1 − f))·xᵀ for (f − f*)·xᵀ."""
    W, x, t = MS("W", 3, 4), MS("x", 4, 1), MS("t", 3, 1)
    L, p = sg.cross_entropy(W * x, t), sg.softmax(W * x)
    assert sg.check(L, W, (p - t) * x.T).verdict == "equal"
    r = wrong(sg.check(L, W, HP(HP(p - t, p), sp.OneMatrix(3, 1) - p) * x.T), "an extra softmax′ factor")
    assert "z = W*x" in r.hint


def test_one_sigmoid_neurons_cross_entropy_gradient_with_an_extra_sigmoid_derivative_is_named():
    """Scalars, as a lecture's single neuron: ∂L/∂w1 = (y − d)·y(1 − y)·x1 for the cross-entropy's
    (y − d)·x1. It read "first differing step" in the derivation's nodes."""
    w1, w2, b, x1, x2, d = sp.symbols("w1 w2 b x1 x2 d", real=True)
    z = w1 * x1 + w2 * x2 + b
    y = sg.sigmoid(z)
    L = -(d * sp.log(y) + (1 - d) * sp.log(1 - y))
    assert sp.simplify(sp.diff(L.rewrite(sp.exp), w1) - ((y - d) * x1).rewrite(sp.exp)) == 0   # sympy.diff
    assert sg.check(L, w1, (y - d) * x1).verdict == "equal"
    r = wrong(sg.check(L, w1, (y - d) * y * (1 - y) * x1), "an extra σ′ factor")
    assert "z = b + w1*x1 + w2*x2" in r.hint
    assert sg.check((y - d) ** 2 / 2, w1, (y - d) * y * (1 - y) * x1).verdict == "equal"


def test_another_variables_inner_derivative_is_named():
    """One neuron, u = w1·x1 + w2·x2 + b: ∂L/∂w1 = δ·x2 (w2's input), ∂L/∂b = δ·x1 (w1's formula
    copied for the bias). They read "first differing step" in the derivation's nodes."""
    w1, w2, b, x1, x2, d = sp.symbols("w1 w2 b x1 x2 d", real=True)
    y = sg.sigmoid(w1 * x1 + w2 * x2 + b)
    L = (y - d) ** 2 / 2
    delta = (y - d) * y * (1 - y)
    assert sg.check(L, w1, delta * x1).verdict == "equal" and sg.check(L, b, delta).verdict == "equal"
    r = wrong(sg.check(L, w1, delta * x2), "another variable's inner derivative")
    assert "multiplies by x2, the inner derivative ∂u/∂w2 of w2, where ∂u/∂w1 = x1 belongs" in r.hint
    r = wrong(sg.check(L, b, delta * x1), "another variable's inner derivative")
    assert "where ∂u/∂b = 1 belongs" in r.hint and "with no factor" in r.hint


def test_a_row_variables_transposed_claim_is_not_told_the_variable_is_a_column():
    """x a row (1 × 3), the claim (A + Aᵀ)xᵀ a column: the hint said "∂f/∂x is a column like x; a row
    is the numerator layout", the opposite of both shapes. convention='row' is still named, and right."""
    A, x = MS("A", 3, 3), MS("x", 1, 3)
    q = (x * A * x.T)[0, 0]
    assert sg.check(q, x, x * (A + A.T)).verdict == "equal"
    r = wrong(sg.check(q, x, (A + A.T) * x.T), "transpose")
    assert "is a column like x" not in r.hint and "convention='row'" in r.hint, r.hint
    assert "∂f/∂x shaped like xᵀ" in r.hint, r.hint
    assert sg.check(q, x, (A + A.T) * x.T, convention="row").verdict == "equal"


def test_the_symmetric_matrix_hint_does_not_run_the_check_again(monkeypatch):
    """It compares the claim with the gradient at the check's own points with A made symmetric; it
    ran the whole check again once per square matrix of f (twice the time of a claim with no hint)."""
    import symgrad.checking.verdict as V
    calls = []
    inner = V.check
    monkeypatch.setattr(V, "check", lambda *a, **k: calls.append(a) or inner(*a, **k))
    X, A, B = (sp.MatrixSymbol(n, 3, 3) for n in "XAB")
    wrong(inner(sp.Trace(X.T * A * X), X, 2 * A * X), "right only for a symmetric matrix")
    wrong(inner(sp.Trace(A * X * B * X.T), X, A.T * X * B.T + B * X.T * A))     # no hint: both squares tried
    assert calls == []
