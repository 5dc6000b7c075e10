"""One head of self-attention reads as a lecture writes its backward pass: ∂L/∂V = Aᵀ @ ∂L/∂Y,
∂L/∂A = ∂L/∂Y @ Vᵀ, the softmax's Jacobian-vector form, the scale 1/√d as /√2 (not SymPy's
√2/2), and the scores S = Q @ K.T/√2 one node (no unnamed u₁ = Q @ K.T before it) whose operands
get ∂L/∂Q = (∂L/∂S @ K)/√2 and ∂L/∂K = ((∂L/∂S).T @ Q)/√2 with the rules ∇Q = δ @ K/√2 and
∇K = δᵀ @ Q/√2 — no node u = K.T with a step of its own, no rule ∇Q = δ @ K.Tᵀ
(symgrad/teaching/transposed_operand.py, scaled_product.py, root_scale.py). The numbers are
torch.autograd's."""
import subprocess

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.teaching.render import latex_document
from teachtools import need

torch = pytest.importorskip("torch")
T, D, DK = 3, 4, 2


def _attention():
    X = sg.tensor("X", (T, D))
    Wq, Wk, Wv = sg.tensor("W_q", (D, DK)), sg.tensor("W_k", (D, DK)), sg.tensor("W_v", (D, DK))
    G = sg.tensor("G", (T, DK))
    Q, K, V = X @ Wq, X @ Wk, X @ Wv
    S = Q @ K.T / sp.sqrt(DK)
    A = sg.softmax(S, axis=1)
    Y = A @ V
    names = {sg.tensor("Q", (T, DK)): Q, sg.tensor("K", (T, DK)): K, sg.tensor("V", (T, DK)): V,
             sg.tensor("S", (T, T)): S, sg.tensor("A", (T, T)): A, sg.tensor("Y", (T, DK)): Y}
    d = sg.derive(sg.sum(Y * G), [Wq, Wk, Wv], names=names, output_name="L")
    return d, dict(X=X, W_q=Wq, W_k=Wk, W_v=Wv, G=G)


def _steps(text):
    body = text.split("Backward pass", 1)[1].split("Gradient:", 1)[0]
    return {li.strip().split(" = ", 1)[0]: li.strip() for li in body.splitlines()[1:] if li.strip()}


def test_the_steps_read_as_the_lecture():
    d, _ = _attention()
    text = d.render("unicode")
    fwd = text.split("Forward pass:")[1].split("Backward")[0]
    assert "  S = (Q @ K.T)/√2\n" in fwd and "Q @ K.T\n" not in fwd, fwd
    assert "= K.T" not in fwd and "√2/2" not in text, text
    steps = _steps(text)
    assert steps["∂L/∂V"].startswith("∂L/∂V = ∂L/∂Y · ∂Y/∂V = A.T @ ∂L/∂Y"), steps["∂L/∂V"]
    assert steps["∂L/∂A"].startswith("∂L/∂A = ∂L/∂Y · ∂Y/∂A = ∂L/∂Y @ V.T"), steps["∂L/∂A"]
    assert "(∂L/∂A − (A ⊙ ∂L/∂A).sum(axis=1, keepdims=True)) ⊙ A" in steps["∂L/∂S"], steps["∂L/∂S"]
    assert steps["∂L/∂Q"] == ("∂L/∂Q = ∂L/∂S · ∂S/∂Q = (∂L/∂S @ K)/√2    "
                              "[matrix product scaled by 1/√2: ∇Q = δ @ K/√2]")
    assert steps["∂L/∂K"] == ("∂L/∂K = ∂L/∂S · ∂S/∂K = ((∂L/∂S).T @ Q)/√2    "
                              "[matrix product scaled by 1/√2, K transposed: ∇K = δᵀ @ Q/√2]")
    assert not any(k.startswith("∂L/∂u") for k in steps if k != "∂L/∂u₁"), steps   # no step for Q @ K.T, K.T
    assert "∂L/∂u₁" in steps and "G ⊙ Y" in fwd     # the one u left is the loss's G ⊙ Y


def test_text_and_ascii_and_latex(tmp_path):
    d, _ = _attention()
    ascii_text = d.render("text")
    assert "S = (Q @ K.T)/sqrt(2)" in ascii_text, ascii_text
    assert "dL/dK = dL/dS * dS/dK = ((dL/dS).T @ Q)/sqrt(2)" in ascii_text, ascii_text
    tex = d.latex()
    assert r"S &= \frac{Q K^{T}}{\sqrt{2}}" in tex, tex
    # no ∂L/∂S set small in the numerator of a fraction: the scale before it
    assert r"= \frac{1}{\sqrt{2}} \left(\frac{\partial L}{\partial S}\right)^{T} Q" in tex, tex
    assert r"= \frac{1}{\sqrt{2}} \frac{\partial L}{\partial S} K" in tex, tex
    pdflatex = need("pdflatex")
    (tmp_path / "att.tex").write_text(latex_document(tex))
    r = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", "att.tex"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-2000:]


def test_the_numbers_are_torchs():
    d, s = _attention()
    rng = np.random.default_rng(5)
    v = {k: rng.normal(size=tuple(int(n) for n in t.shape)) for k, t in s.items()}
    steps = d.explain(at={s[k]: a for k, a in v.items()})
    t = {k: torch.tensor(a, requires_grad=k.startswith("W")) for k, a in v.items()}
    Q, K, V = t["X"] @ t["W_q"], t["X"] @ t["W_k"], t["X"] @ t["W_v"]
    for x in (Q, K, V):
        x.retain_grad()
    S = Q @ K.T / np.sqrt(DK)
    S.retain_grad()
    (torch.softmax(S, dim=1) @ V * t["G"]).sum().backward()
    for name, ref in (("Q", Q), ("K", K), ("V", V), ("S", S)):
        np.testing.assert_allclose(steps.find(name).value, ref.grad.numpy(), rtol=1e-10, atol=1e-13)
    for name, _, val in steps.gradients:
        np.testing.assert_allclose(val, t[str(name)].grad.numpy(), rtol=1e-10, atol=1e-13)


def test_the_picture_writes_k_s_gradient_as_the_text():
    d, _ = _attention()
    src = d.graph().source
    assert "∂L/∂K = ((∂L/∂S).T @ Q)/√2" in src and "∂L/∂Q = (∂L/∂S @ K)/√2" in src, src
    assert "√2/2" not in src, src
