"""sg.check of Matrix Cookbook identities with inverses and determinants (X⁻¹, det X, log det X):
the right claim is "equal" and a typical slip (a lost transpose, a sign) is "not equal" with its
hint, at several seeds. The claims themselves are first compared with torch.autograd
(torch.linalg.inv / det / slogdet, float64) at a well-conditioned point, so the test does not take
the identities from symgrad."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from oracle import torch_grads

torch = pytest.importorskip("torch")

X, A, B = (sp.MatrixSymbol(n, 3, 3) for n in "XAB")
a, b = sp.MatrixSymbol("a", 3, 1), sp.MatrixSymbol("b", 3, 1)
Xi = X.inv()

# name: (f, ∂f/∂X as the Cookbook writes it, a slip, the slip's hint, torch f(X, A, B, a, b))
IDENTITIES = {
    "log det X": (sp.log(sp.det(X)), Xi.T, Xi, "transpose",
                  lambda X_, A_, B_, a_, b_: torch.linalg.slogdet(X_)[1]),
    "det X": (sp.det(X), sp.det(X) * Xi.T, -sp.det(X) * Xi.T, "flipped sign",
              lambda X_, A_, B_, a_, b_: torch.linalg.det(X_)),
    "aT X^-1 b": (sg.sum(a.T * X ** -1 * b), -Xi.T * a * b.T * Xi.T, Xi.T * a * b.T * Xi.T, "flipped sign",
                  lambda X_, A_, B_, a_, b_: (a_.T @ torch.linalg.inv(X_) @ b_).sum()),
    "tr(A X^-1 B)": (sp.Trace(A * Xi * B), -(Xi * B * A * Xi).T, -(Xi * B * A * Xi), "transpose",
                     lambda X_, A_, B_, a_, b_: torch.trace(A_ @ torch.linalg.inv(X_) @ B_)),
}


def _point(seed):
    rng = np.random.default_rng(seed)
    at = {A: rng.normal(size=(3, 3)), B: rng.normal(size=(3, 3)),
          a: rng.normal(size=(3, 1)), b: rng.normal(size=(3, 1))}
    at[X] = 2.0 * np.eye(3) + 0.3 * rng.normal(size=(3, 3))       # well conditioned, det X > 0
    return at


@pytest.mark.parametrize("name", list(IDENTITIES))
def test_the_cookbook_claim_is_the_torch_gradient(name):
    """The oracle for the tests below: the claim's value is torch.autograd's gradient, the slip's not."""
    f, right, slip, _, tf = IDENTITIES[name]
    at = _point(3)
    (g_t,) = torch_grads(lambda x_: tf(x_, *[torch.tensor(at[s]) for s in (A, B, a, b)]), [X], at)
    np.testing.assert_allclose(sg.numeric(right, at), g_t, rtol=1e-10, atol=1e-12)
    assert not np.allclose(sg.numeric(slip, at), g_t, rtol=1e-3)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("name", list(IDENTITIES))
def test_right_claims_are_equal_and_slips_are_named(name, seed):
    f, right, slip, hint, _ = IDENTITIES[name]
    r = sg.check(f, X, right, seed=seed)
    assert r.verdict == "equal", str(r)
    wrong = sg.check(f, X, slip, seed=seed)
    assert wrong.verdict == "not equal", str(wrong)
    assert wrong.hint is not None and wrong.hint.startswith(hint), wrong.hint


def test_the_reported_example():
    """The question that raised "cannot lower Determinant": ∂ log det X/∂X = X⁻ᵀ."""
    assert sg.check(sp.log(sp.det(X)), X, X.inv().T)
    assert sg.check(sp.log(sp.det(X)), X, (X ** -1).T)


def test_a_claim_at_a_given_well_conditioned_point():
    at = {X: 3.0 * np.eye(3) + 0.1 * np.arange(9.0).reshape(3, 3)}
    r = sg.check(sp.Trace(A * Xi * B), X, -(Xi * B * A * Xi).T, at=at)
    assert r.verdict == "equal", str(r)
