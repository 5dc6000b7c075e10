"""A course's autograder over hand-derived answers to classic problems (logistic regression's
gradient and Hessian, softplus, least squares with a bias): each typical wrong answer gets the
verdict "not equal" and a hint that names the slip in the student's terms, including which variable
slipped when several are checked at once; right answers written another way are "equal"."""
import numpy as np
import sympy as sp
import torch

import symgrad as sg

X, w, y = sp.MatrixSymbol("X", 4, 2), sp.MatrixSymbol("w", 2, 1), sp.MatrixSymbol("y", 4, 1)
ONE = sp.OneMatrix(4, 1)
LOGISTIC = sg.sum(sp.HadamardProduct(y, sg.softplus(-X * w)) + sp.HadamardProduct(ONE - y, sg.softplus(X * w)))
S = sg.sigmoid(X * w)


def _torch_hessian(Xv, wv, yv):
    def loss(v):
        z = torch.tensor(Xv) @ v
        yt = torch.tensor(yv)
        return (yt * torch.nn.functional.softplus(-z) + (1 - yt) * torch.nn.functional.softplus(z)).sum()
    return torch.autograd.functional.hessian(loss, torch.tensor(wv[:, 0])).numpy()


def test_the_right_logistic_hessian_is_torchs_and_equal_in_two_spellings():
    rng = np.random.default_rng(1)
    Xv, wv, yv = rng.normal(size=(4, 2)), rng.normal(size=(2, 1)), rng.uniform(size=(4, 1))
    s = 1 / (1 + np.exp(-(Xv @ wv)))
    assert np.allclose(Xv.T @ np.diag((s * (1 - s))[:, 0]) @ Xv, _torch_hessian(Xv, wv, yv[:, 0]))
    assert sg.check(LOGISTIC, w, X.T * sp.DiagMatrix(sp.HadamardProduct(S, ONE - S)) * X).verdict == "equal"
    e = (X * w).applyfunc(lambda u: sp.exp(-u) / (1 + sp.exp(-u)) ** 2)
    assert sg.check(LOGISTIC, w, X.T * sp.DiagMatrix(e) * X).verdict == "equal"


def test_a_logistic_hessian_with_the_wrong_weight_names_sigma_prime():
    for weight, said in ((S, "σ′(z) = σ(z);"), (ONE - S, "σ′(z) = 1 − σ(z);"),
                         (sp.HadamardProduct(S, S), "σ′(z) = σ(z)²;")):
        r = sg.check(LOGISTIC, w, X.T * sp.DiagMatrix(weight) * X)
        assert r.verdict == "not equal" and r.hint.kind == "σ'(z) written wrong", (weight, r.hint)
        assert said in r.hint and "S = diag(σ ⊙ (1 − σ)) with σ = σ(X*w)" in r.hint, r.hint
        assert r.to_dict()["hint"]["kind"] == "σ'(z) written wrong"


def test_a_hessians_sign_and_factor_read_as_a_gradients_do():
    right = X.T * sp.DiagMatrix(sp.HadamardProduct(S, ONE - S)) * X
    r = sg.check(LOGISTIC, w, -right)
    assert r.hint.kind == "flipped sign" and r.hint == "flipped sign: the claim is −1 times the Hessian.", r.hint
    A, v = sp.MatrixSymbol("A", 5, 3), sp.MatrixSymbol("v", 3, 1)
    ridge = sg.sum(sp.HadamardPower(A * v, 2)) + sg.sum(sp.HadamardPower(v, 2))
    r = sg.check(ridge, v, A.T * A + sp.Identity(3))
    assert r.hint.kind == "constant factor" and r.hint.startswith("constant factor: the claim is 1/2 times the Hessian")
    r = sg.check(ridge, v, -3 * (A.T * A + sp.Identity(3)))
    assert r.hint.kind == "flipped sign and constant factor" and "−3/2 times the Hessian" in r.hint, r.hint


x = sp.Symbol("x", real=True)


def test_softplus_prime_written_wrong_is_named():
    assert sg.check(sg.softplus(x), x, sp.exp(x) / (1 + sp.exp(x))).verdict == "equal"
    assert sg.check(sg.softplus(x), x, 1 / (1 + sp.exp(-x))).verdict == "equal"
    for claim, said in ((sg.sigmoid(-x), "σ(−z)"), (1 / (1 + sp.exp(x)), "σ(−z)"),
                        (sp.log(1 + sp.exp(x)), "softplus(z) = log(1 + eᶻ) itself"),
                        (sp.exp(x) / (1 + sp.exp(x)) ** 2, "the derivative taken twice")):
        r = sg.check(sg.softplus(x), x, claim)
        assert r.verdict == "not equal" and r.hint.kind == "softplus'(z) written wrong", (claim, r.hint)
        assert said in r.hint, r.hint


def test_softplus_prime_slip_inside_logistic_regressions_gradient():
    # the student's gradient of Σ y·softplus(−Xw) + (1 − y)·softplus(Xw) with softplus′(u) = σ(−u)
    claim = X.T * (sp.HadamardProduct(ONE - y, sg.sigmoid(-X * w)) - sp.HadamardProduct(y, sg.sigmoid(X * w)))
    r = sg.check(LOGISTIC, w, claim)
    assert r.verdict == "not equal" and r.hint.kind == "softplus'(z) written wrong", r.hint


b, xs, ys = sp.symbols("b x y", real=True)
ws = sp.Symbol("w", real=True)
LINE = (ys - ws * xs - b) ** 2


def test_several_variables_the_sign_hint_says_which():
    r = sg.check(LINE, [ws, b], [2 * (ys - ws * xs - b) * xs, -2 * (ys - ws * xs - b)])
    assert r.to_dict()["wrong"] == ["w"]
    assert r.hint.kind == "flipped sign" and r.hint.startswith("flipped sign: the claim for w is −1 times its gradient")
    r = sg.check(LINE, [ws, b], [-2 * (ys - ws * xs - b) * xs, 2 * (ys - ws * xs - b)])
    assert r.hint.startswith("flipped sign: the claim for b is −1 times its gradient"), r.hint
    r = sg.check(LINE, [ws, b], [2 * (ys - ws * xs - b) * xs, 2 * (ys - ws * xs - b)])
    assert r.hint.startswith("flipped sign: the claims for w and b (every variable) are −1 times their gradients")


def test_several_variables_the_factor_hint_says_which():
    r = sg.check(LINE, [ws, b], [-(ys - ws * xs - b) * xs, -2 * (ys - ws * xs - b)])
    assert r.hint.kind == "constant factor" and r.hint.startswith("constant factor: the claim for w is 1/2 times its gradient")
    r = sg.check(LINE, [ws, b], [-(ys - ws * xs - b) * xs, -(ys - ws * xs - b)])
    assert r.hint.startswith("constant factor: the claims for w and b (every variable) are 1/2 times their gradients")
    assert r.to_dict()["wrong"] == ["w", "b"]


def test_one_variable_keeps_the_plain_words():
    r = sg.check(LINE, ws, 2 * (ys - ws * xs - b) * xs)
    assert r.hint.startswith("flipped sign: the claim is −1 times the gradient"), r.hint


def test_a_claim_function_that_raises_keeps_its_error_and_says_how_it_was_called():
    """A student's backward that raises inside sg.check: the grader logs the student's own error,
    with a note naming the function and the shapes it was given."""
    import pytest
    from sympy import Symbol
    N = Symbol("N", integer=True, positive=True)
    Xt, Wt = sg.tensor("X", (N, 3)), sg.tensor("W", (3, 2))

    def student_backward(values):            # W where W.T belongs: the matmul raises
        return values["X"].T @ np.ones((values["X"].shape[0], 2)) @ values["W"]
    with pytest.raises(ValueError) as caught:
        sg.check(sg.sum(Xt @ Wt), Wt, student_backward)
    notes = " ".join(getattr(caught.value, "__notes__", []))
    assert "raised by the claim function student_backward" in notes and "W: (3, 2)" in notes, notes
    with pytest.raises(ZeroDivisionError) as caught:
        sg.check(ws ** 2 * xs, ws, lambda values: 1 / 0)
    assert "x: (7,)" in " ".join(caught.value.__notes__)     # the inputs with their batch axis


def test_a_ridge_hessian_with_the_regulariser_slipped_names_the_term():
    A, v, lam = sp.MatrixSymbol("A", 5, 3), sp.MatrixSymbol("v", 3, 1), sp.Symbol("lambda", positive=True)
    f = sg.sum(sp.HadamardPower(A * v - sp.MatrixSymbol("c", 5, 1), 2)) + lam * sg.sum(sp.HadamardPower(v, 2))
    rng = np.random.default_rng(0)
    Av, lv = rng.normal(size=(5, 3)), 0.7                 # the Hessian 2AᵀA + 2λI, by torch
    H = torch.autograd.functional.hessian(
        lambda u: ((torch.tensor(Av) @ u) ** 2).sum() + lv * (u ** 2).sum(), torch.zeros(3, dtype=torch.float64))
    assert np.allclose(H.numpy(), 2 * Av.T @ Av + 2 * lv * np.eye(3))
    assert sg.check(f, v, 2 * A.T * A + 2 * lam * sp.Identity(3)).verdict == "equal"
    r = sg.check(f, v, 2 * A.T * A)
    assert r.hint.kind == "one term's Hessian left out" and "lambda*sum(HadamardPower(v, 2))" in r.hint, r.hint
    assert "a regulariser λ‖v‖² adds 2λI" in r.hint
    r = sg.check(f, v, 2 * A.T * A + lam * sp.Identity(3))
    assert r.hint.kind == "one term's Hessian wrong" and "1/2 times the Hessian of the term lambda*" in r.hint, r.hint
    r = sg.check(f, v, 2 * lam * sp.Identity(3))             # the data term's left out: no regulariser words
    assert r.hint.kind == "one term's Hessian left out" and "regulariser" not in r.hint, r.hint


def test_logistic_gradients_usual_slips_are_named_in_both_spellings_of_the_loss():
    s = S
    with_log = -sg.sum(sp.HadamardProduct(y, s.applyfunc(sp.log)) + sp.HadamardProduct(ONE - y, (ONE - s).applyfunc(sp.log)))
    for L in (LOGISTIC, with_log):
        assert sg.check(L, w, X.T * (s - y)).verdict == "equal"
        r = sg.check(L, w, X.T * sp.HadamardProduct(s - y, sp.HadamardProduct(s, ONE - s)))   # a squared error's δ
        assert r.hint.kind == "an extra σ′ factor" and "the σ′ cancels" in r.hint and "z = X*w" in r.hint, r.hint
        r = sg.check(L, w, X.T * s)                                                            # the − y left out
        assert r.hint.kind == "terms of y left out" and "with y = 0" in r.hint, r.hint
    r = sg.check(LOGISTIC, w, X.T * (ONE - s - y))         # softplus′(u) = σ(−u): 1 − σ where σ belongs
    assert r.hint.kind == "softplus'(z) written wrong", r.hint


r_ = sp.Symbol("r", real=True)
HUBER = sp.Piecewise((r_ ** 2 / 2, sp.Abs(r_) <= 1), (sp.Abs(r_) - sp.Rational(1, 2), True))


def test_huber_right_in_two_spellings_and_torchs():
    for v in (-2.5, -0.4, 0.7, 1.9):
        t = torch.tensor(v, dtype=torch.float64, requires_grad=True)
        torch.nn.functional.huber_loss(t, torch.tensor(0.0, dtype=torch.float64), delta=1.0).backward()
        assert abs(float(t.grad) - max(-1.0, min(1.0, v))) < 1e-12
    assert sg.check(HUBER, r_, sp.Piecewise((r_, sp.Abs(r_) <= 1), (sp.sign(r_), True)))
    assert sg.check(HUBER, r_, sp.Max(-1, sp.Min(1, r_)))


def test_huber_slips_are_named():
    r = sg.check(HUBER, r_, sp.Piecewise((r_, sp.Abs(r_) <= 1), (1, True)))      # sign(r) written 1
    assert r.hint.kind == "branch slope" and "where r < 0 and Abs(r) - 1 > 0" in r.hint, r.hint
    assert "sign is flipped" in r.hint
    r = sg.check(HUBER, r_, r_)                                                   # ½r²'s derivative everywhere
    assert r.hint.kind == "one branch everywhere" and "the branch r**2/2" in r.hint, r.hint
    r = sg.check(HUBER, r_, sp.sign(r_))                                          # |r|'s everywhere
    assert r.hint.kind == "one branch everywhere" and "the branch Abs(r) - 1/2" in r.hint, r.hint
    r = sg.check(HUBER, r_, sp.Piecewise((2 * r_, sp.Abs(r_) <= 1), (sp.sign(r_), True)))
    assert r.hint.kind == "branch slope" and "2 times the truth" in r.hint, r.hint


def test_a_claim_function_returning_text_is_a_clear_error():
    import pytest
    with pytest.raises(sg.SymgradError, match="returned a str for w, not an array of numbers: 'X.T\\*y'"):
        sg.check(LOGISTIC, w, lambda values: "X.T*y")
    with pytest.raises(sg.SymgradError, match="returned a str for b"):
        sg.check(LINE, [ws, b], lambda values: [1.0, "oops"])
