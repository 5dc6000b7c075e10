"""Tensor layers' steps (issue 11, point 7): sg.derive on sg.tensor declarations prints in the tensor
vocabulary — ∂L/∂x̂ = dout ⊙ γ, ∂L/∂γ = (dout ⊙ x̂).sum(axis=0), ∂L/∂W = xᵀ @ δ — as text and LaTeX,
with the numbers of torch.autograd at a point."""
import re
import subprocess

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from teachtools import need

torch = pytest.importorskip("torch")
N, D = 4, 3
rng = np.random.default_rng(7)


def batch_norm():
    x, gamma, beta = sg.tensor("x", (N, D)), sg.tensor("gamma", (D,)), sg.tensor("beta", (D,))
    dout = sg.tensor("dout", (N, D))
    mu = x.mean(axis=0)
    xhat = (x - mu) / sp.sqrt(((x - mu) ** 2).mean(axis=0) + sp.Rational(1, 100000))
    L = sg.sum((gamma * xhat + beta) * dout)
    names = {sg.tensor("mu", (D,)): mu, sg.tensor("xhat", (N, D)): xhat}
    return sg.derive(L, [x, gamma, beta], names=names, output_name="L"), (x, gamma, beta, dout)


def test_batch_norm_steps_read_as_the_layer_is_written():
    d, _ = batch_norm()
    text = d.render("unicode")
    # the named nodes; the statistics as the layer is written (not Σ with keepdims, then ÷N)
    assert "μ = x.mean(axis=0)" in text and "x̂ = " in text and "u₁/4" not in text
    # (σ² too, though the lowering fuses ε into it with a number for N: the steps name it)
    assert re.search(r"σ² = \(u(\S+)²\)\.mean\(axis=0\)\n\s+u\S+ = σ² \+ 1e−5\n", text), text
    # the layer's output y = γ ⊙ x̂ + β is one node, as cs231n writes dgamma = Σ dout ⊙ x̂ from it
    assert "y = γ ⊙ x̂ + β" in text, text
    assert "∂L/∂x̂ = ∂L/∂y · ∂y/∂x̂ = ∂L/∂y ⊙ γ = dout ⊙ γ" in text, text
    assert "∂L/∂γ = ∂L/∂y · ∂y/∂γ = (dout ⊙ x̂).sum(axis=0)" in text, text
    assert "∂L/∂γ = (dout ⊙ x̂).sum(axis=0)" in text and "∂L/∂β = dout.sum(axis=0)" in text
    assert "∂L/∂μ = " in text
    assert "broadcast: the gradient is summed over the axes" in text      # γ repeated over the batch
    assert "broadcast_to" not in text.split("Gradient:")[1]
    ascii_text = d.render("text")
    assert "dL/dxhat = " in ascii_text and ascii_text.isascii()


def test_batch_norm_numbers_equal_torch():
    d, (x, gamma, beta, dout) = batch_norm()
    vals = {x: rng.normal(size=(N, D)), gamma: rng.normal(size=(D,)), beta: rng.normal(size=(D,)),
            dout: rng.normal(size=(N, D))}
    got = {str(w): v for w, _, v in d.explain(at=vals).gradients}
    tx, tg, tb = (torch.tensor(vals[s], requires_grad=True) for s in (x, gamma, beta))
    mu = tx.mean(0)
    xhat = (tx - mu) / torch.sqrt(((tx - mu) ** 2).mean(0) + 1e-5)
    ((tg * xhat + tb) * torch.tensor(vals[dout])).sum().backward()
    np.testing.assert_allclose(got["x"], tx.grad.numpy(), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(got["gamma"], tg.grad.numpy(), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(got["beta"], tb.grad.numpy(), rtol=1e-8, atol=1e-10)


def _affine():
    n = sp.Symbol("N", integer=True, positive=True)
    x, W, b = sg.tensor("x", (n, 3)), sg.tensor("W", (3, 2)), sg.tensor("b", (2,))
    dout = sg.tensor("dout", (n, 2))
    return sg.derive(sg.sum((x @ W + b) * dout), [W, b, x], output_name="L")


def test_affine_steps_and_latex(tmp_path):
    d = _affine()
    text = d.render("unicode")
    assert "z = x @ W + b" in text
    assert "∂L/∂W = δ · ∂z/∂W = x.T @ δ = x.T @ dout" in text            # ∂L/∂W = xᵀ·δ
    assert "∂L/∂b = δ · ∂z/∂b = δ.sum(axis=0) = dout.sum(axis=0)" in text     # Σₙ δₙ, named as W's x.T @ δ
    assert "∂L/∂x = δ · ∂z/∂x = δ @ W.T = dout @ W.T" in text
    tex = d.latex()
    assert r"\frac{\partial L}{\partial W} &= \delta \cdot \frac{\partial z}{\partial W} = x^{T} \delta" in tex
    assert r"\operatorname{sum}_{\text{axis}=0} \mathit{dout}" in tex
    bn, _ = batch_norm()
    body = [d.latex(), d._repr_latex_(), bn.latex(), bn._repr_latex_()]
    from symgrad.teaching.render import latex_document
    (tmp_path / "t.tex").write_text(latex_document("\n\n".join(body)))
    r = subprocess.run([need("pdflatex"), "-interaction=nonstopmode", "-halt-on-error", "t.tex"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout[-1500:]


def test_softmax_loss_with_integer_labels():
    x, W, y = sg.tensor("x", (N, 3)), sg.tensor("W", (3, 5)), sg.tensor("y", (N,), integer=True)
    d = sg.derive(sg.cross_entropy(x @ W, y), [W], output_name="L")
    text = d.render("unicode")
    assert "(softmax(x @ W, axis=1) − one_hot(y, 5))/4" in text          # (softmax − one_hot)/N
    assert "∂L/∂W = ∂L/∂u₁ · ∂u₁/∂W = x.T @ ∂L/∂u₁" in text
    vals = {x: rng.normal(size=(N, 3)), W: rng.normal(size=(3, 5)), y: np.array([0, 2, 4, 1])}
    (_, _, got), = d.explain(at=vals).gradients
    tW = torch.tensor(vals[W], requires_grad=True)
    torch.nn.functional.cross_entropy(torch.tensor(vals[x]) @ tW, torch.tensor(vals[y])).backward()
    np.testing.assert_allclose(got, tW.grad.numpy(), rtol=1e-9)
