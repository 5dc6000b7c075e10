"""The cross-entropy written with log_softmax reads as the slides' δ = f − f*: a one-hot row (and a
target declared a distribution with ``given``) sums to 1, so the log_softmax rule's
(one_hot(y, 3)/N).sum(axis=1, keepdims=True) ⊙ softmax(z, axis=1) − one_hot(y, 3)/N is written
(softmax(z, axis=1) − one_hot(y, 3))/N, the mean of the slides' softmax(z) − onehot. The form is
checked against torch.autograd, not against symgrad's own numbers."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")
N = sp.Symbol("N", integer=True, positive=True)


def _gradient_lines(text):
    return [li.strip() for li in text.split("Gradient:", 1)[1].splitlines() if li.strip()]


def test_one_hot_labels_give_softmax_minus_one_hot():
    z, y = sg.tensor("z", (N, 3)), sg.tensor("y", (N,), integer=True)
    d = sg.derive(-sg.sum(sg.log_softmax(z, axis=1) * sg.one_hot(y, 3)) / N, [z], output_name="L")
    assert _gradient_lines(d.render("unicode")) == ["∂L/∂z = (softmax(z, axis=1) − one_hot(y, 3))/N"]
    assert "keepdims" not in d.render("unicode").split("Gradient:")[1]


def test_a_target_given_as_a_distribution_gives_f_minus_f_star():
    z, t = sg.tensor("z", (N, 3)), sg.tensor("t", (N, 3))
    d = sg.derive(-sg.sum(sg.log_softmax(z, axis=1) * t) / N, [z], output_name="L", given={sg.sum(t, axis=1): 1})
    assert _gradient_lines(d.render("unicode")) == ["∂L/∂z = (softmax(z, axis=1) − t)/N"]
    # without the fact nothing is assumed: the row sum of t stays
    d = sg.derive(-sg.sum(sg.log_softmax(z, axis=1) * t) / N, [z], output_name="L")
    assert ".sum(axis=1, keepdims=True)" in _gradient_lines(d.render("unicode"))[0]


def test_the_simplified_form_is_torchs_gradient():
    B = 4
    x, w, y = sg.tensor("x", (N, 3)), sg.tensor("w", (3, 3)), sg.tensor("y", (N,), integer=True)
    d = sg.derive(-sg.sum(sg.log_softmax(x @ w, axis=1) * sg.one_hot(y, 3)) / N, [w], output_name="L")
    (line,) = _gradient_lines(d.render("unicode"))
    assert line == "∂L/∂w = x.T @ ((softmax(x @ w, axis=1) − one_hot(y, 3))/N)", line
    rng = np.random.default_rng(3)
    xv, wv, yv = rng.normal(size=(B, 3)), rng.normal(size=(3, 3)), np.array([0, 2, 1, 2])
    tw = torch.tensor(wv, requires_grad=True)
    torch.nn.functional.cross_entropy(torch.tensor(xv) @ tw, torch.tensor(yv)).backward()
    # the printed form, computed by hand with NumPy
    zv = xv @ wv
    p = np.exp(zv - zv.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(xv.T @ ((p - np.eye(3)[yv]) / B), tw.grad.numpy(), rtol=1e-12)
    # and the derivation's own closed form evaluates to the same numbers
    step = d.explain(at={x: xv, w: wv, y: yv}).find("w")
    np.testing.assert_allclose(np.asarray(step.value, dtype=float), tw.grad.numpy(), rtol=1e-10)


def test_cross_entropy_reads_the_same_in_the_steps_and_on_the_picture():
    # sg.cross_entropy goes through logsumexp, not log_softmax: its shares softmax(z, axis=1)/N and
    # −one_hot(y, 3)/N add up to the same (softmax(z, axis=1) − one_hot(y, 3))/N
    x, w, y = sg.tensor("x", (N, 4)), sg.tensor("w", (4, 3)), sg.tensor("y", (N,), integer=True)
    d = sg.derive(sg.cross_entropy(x @ w, y), [w], output_name="L")
    assert _gradient_lines(d.render("unicode")) == ["∂L/∂w = x.T @ ((softmax(x @ w, axis=1) − one_hot(y, 3))/N)"]
    src = d.graph().source
    assert "(softmax(" in src and "− one_hot(y, 3))/N" in src, src
    assert "/N − one_hot(y, 3)/N" not in src
