"""A MatrixSymbol network's cross-entropy, scaled (CE/4, CE/N) or of a literal class label k: the
b₂ line writes δ⁽²⁾ as δ⁽²⁾'s own step does, the slides' δ = f − f* once and scaled,
(1/4)·(softmax(z⁽²⁾) − t), softmax(z⁽²⁾) − one_hot(1) — not spread, (1/4)·softmax − (1/4)·t, nor
its one-hot written out as [[0], [−1]] (symgrad/teaching/steps.py, loss_terms.py); and z[k] of a
sum prints bracketed (render.py). Numbers: torch.autograd's."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")
N = sp.Symbol("N", integer=True, positive=True)


def _net():
    return sg.mlp([4, 5, 3]), sp.MatrixSymbol("t", 3, 1)


def _b2(text):
    return [l for l in text.split("Gradient:\n")[1].splitlines() if l.startswith("  ∂L/∂b₂ =")][0]


def test_a_mean_over_a_literal_batch_keeps_delta_whole():
    net, t = _net()
    text = sg.derive(sg.cross_entropy(net.output, t) / 4, net.params, given={sg.sum(t): 1}).render("unicode")
    assert _b2(text) == "  ∂L/∂b₂ = (1/4)·(softmax(z⁽²⁾) − t)", _b2(text)
    assert "(1/4)·softmax(z⁽²⁾) − (1/4)·t" not in text


def test_a_mean_over_a_symbol_n_reads_the_cross_entropy_and_its_1_over_n():
    net, t = _net()
    text = sg.derive(sg.cross_entropy(net.output, t) / N, net.params, given={sg.sum(t): 1}).render("unicode")
    assert "  u₁ = cross_entropy(z⁽²⁾, t)\n" in text, text       # not −cross_entropy, with L = −u₁·u₂
    assert _b2(text) == "  ∂L/∂b₂ = δ⁽²⁾ = 1/N·(softmax(z⁽²⁾) − t)", _b2(text)
    assert "t − softmax" not in text and "scale −1" not in text


@pytest.mark.parametrize("scale", [1, 0.5])
def test_a_literal_class_label_writes_the_one_hot(scale):
    net, _ = _net()
    text = sg.derive(scale * sg.cross_entropy(net.output, 1), net.params).render("unicode")
    delta = "softmax(z⁽²⁾) − one_hot(1)" if scale == 1 else "0.5·(softmax(z⁽²⁾) − one_hot(1))"
    assert f"∂L/∂b₂ = δ⁽²⁾ · ∂z⁽²⁾/∂b₂ = δ⁽²⁾ = {delta}    [" in text, text
    assert _b2(text) == f"  ∂L/∂b₂ = {delta}", _b2(text)
    assert "[[0]" not in text


def test_the_header_brackets_the_logit_it_indexes():
    net, _ = _net()
    d = sg.derive(sg.cross_entropy(net.output, 1), net.params)
    assert d.render("unicode").splitlines()[0] == \
        "L = logsumexp(W₂·relu(W₁·x + b₁) + b₂) − (W₂·relu(W₁·x + b₁) + b₂)[1]"
    assert r"- {\left(W_{2}" in d.latex()
    z = sp.MatrixSymbol("z", 3, 1)
    assert sg.derive(sg.cross_entropy(z, 1), [z]).render("unicode").splitlines()[0] == "L = logsumexp(z) − z[1]"


def test_the_numbers_are_torchs():
    net, t = _net()
    rng = np.random.default_rng(11)
    W1, b1, W2, b2, x = (rng.normal(size=s) for s in ((5, 4), (5, 1), (3, 5), (3, 1), (4, 1)))
    tv = rng.dirichlet(np.ones(3)).reshape(3, 1)
    at = dict(zip(net.params, (W1, b1, W2, b2)))
    at.update({net.input: x, t: tv, N: 8})
    d = sg.derive(sg.cross_entropy(net.output, t) / N, net.params, at=at)
    P = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in (W1, b1, W2, b2)]
    z = P[2] @ torch.relu(P[0] @ torch.tensor(x) + P[1]) + P[3]
    (-(torch.tensor(tv) * torch.log_softmax(z, dim=0)).sum() / 8).backward()
    got = {str(w): np.asarray(v, dtype=float) for w, _, v in d.steps.gradients}
    for name, p in zip(("W1", "b1", "W2", "b2"), P):
        np.testing.assert_allclose(got[name].reshape(p.shape), p.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_latex_writes_the_fraction_without_brackets_of_its_own():
    net, t = _net()
    tex = sg.derive(sg.cross_entropy(net.output, t) / 4, net.params, given={sg.sum(t): 1}).latex()
    assert r"= \frac{1}{4} \left(\operatorname{softmax}" in tex, tex
    assert r"\left(\frac{1}{4}\right)" not in tex, tex
