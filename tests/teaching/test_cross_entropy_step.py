"""`sg.cross_entropy` is one line of the forward pass and one step of the backward pass, as the
slides write it: L = cross_entropy(z⁽²⁾, y) and δ⁽²⁾ = ∂L/∂z⁽²⁾ = (softmax(z⁽²⁾) − one_hot(y))/N, not
eight u's (logsumexp, one-hot, ⊙, Σ, reshapes) and a δ whose chain side names the one-hot's u₃.
The numbers are torch.autograd's (symgrad/teaching/cross_entropy_steps.py)."""
import re
import subprocess

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.teaching.render import latex_document
from teachtools import need

torch = pytest.importorskip("torch")
F = torch.nn.functional
B, D, H, C = 4, 3, 5, 3
N = sp.Symbol("N", integer=True, positive=True)


def _mlp(n, target="labels", reduction="mean"):
    x, y, t = sg.tensor("x", (n, D)), sg.tensor("y", (n,), integer=True), sg.tensor("t", (n, C))
    W1, b1, W2, b2 = sg.tensor("W1", (D, H)), sg.tensor("b1", (H,)), sg.tensor("W2", (H, C)), sg.tensor("b2", (C,))
    z = sg.relu(x @ W1 + b1) @ W2 + b2
    L = sg.cross_entropy(z, y if target == "labels" else t, reduction=reduction)
    d = sg.derive(L, [W1, b1, W2, b2], output_name="L", given={t.sum(axis=1): 1})
    return d, dict(x=x, y=y, t=t, W1=W1, b1=b1, W2=W2, b2=b2)


def _lines(text, section):
    body = text.split(section, 1)[1]
    body = body.split("Backward pass", 1)[0] if section == "Forward pass:" else body.split("Gradient:", 1)[0]
    return [li.strip() for li in body.splitlines()[1 if section != "Forward pass:" else 0:] if li.strip()]


@pytest.mark.parametrize("n,over", [(B, "/4"), (N, "/N")])
def test_the_cross_entropy_is_one_forward_line_and_one_step(n, over):
    text = _mlp(n)[0].render("unicode")
    fwd = _lines(text, "Forward pass:")
    assert fwd == ["z⁽¹⁾ = x @ W₁ + b₁", "h⁽¹⁾ = relu(z⁽¹⁾)", "z⁽²⁾ = h⁽¹⁾ @ W₂ + b₂", "L = cross_entropy(z⁽²⁾, y)"], fwd
    back = _lines(text, "Backward pass")
    assert back[0].startswith("∂L/∂L = 1") and back[1].startswith("δ⁽²⁾ = "), back
    delta = back[1].split("    [")
    assert delta[0] == f"δ⁽²⁾ = ∂L/∂z⁽²⁾ = ∂L/∂L · ∂L/∂z⁽²⁾ = (softmax(z⁽²⁾, axis=1) − one_hot(y, 3)){over}", delta
    assert delta[1].startswith("softmax cross-entropy"), delta
    # no node of the lowering in the text: no u's at all, so no u₃ for the one-hot on δ's chain side
    assert not re.search(r"u[₀-₉]", text), text
    assert "logsumexp(z" not in text.split("Forward pass:")[1], text


def test_its_numbers_are_torchs():
    d, s = _mlp(B)
    rng = np.random.default_rng(8)
    v = dict(x=rng.normal(size=(B, D)), W1=rng.normal(size=(D, H)), b1=rng.normal(size=H),
             W2=rng.normal(size=(H, C)), b2=rng.normal(size=C), y=np.array([2, 0, 1, 2]))
    steps = d.explain(at={s[k]: a for k, a in v.items()})
    T = {k: torch.tensor(a, dtype=torch.float64, requires_grad=k not in ("x", "y")) for k, a in v.items()}
    z = torch.relu(T["x"] @ T["W1"] + T["b1"]) @ T["W2"] + T["b2"]
    z.retain_grad()
    loss = F.cross_entropy(z, T["y"].long())
    loss.backward()
    (forward_L,) = [val for sym, _, val in steps.definitions if str(sym) == "L"]
    assert abs(forward_L - loss.item()) < 1e-12
    np.testing.assert_allclose(steps.find("z^(2)").value, z.grad.numpy(), rtol=1e-10, atol=1e-14)
    for name, _, val in steps.gradients:
        np.testing.assert_allclose(val, T[str(name).replace("_", "")].grad.numpy(), rtol=1e-9, atol=1e-12)


def test_a_target_distribution_and_a_sum_read_as_the_slides():
    text = _mlp(B, target="t")[0].render("unicode")
    assert "L = cross_entropy(z⁽²⁾, t)" in text, text
    assert "∂L/∂L · ∂L/∂z⁽²⁾ = (softmax(z⁽²⁾, axis=1) − t)/4    [" in text, text
    text = _mlp(B, reduction="sum")[0].render("unicode")
    assert "L = cross_entropy(z⁽²⁾, y, reduction='sum')" in text, text
    assert "∂L/∂L · ∂L/∂z⁽²⁾ = softmax(z⁽²⁾, axis=1) − one_hot(y, 3)    [" in text, text


def test_a_cross_entropy_the_user_wrote_out_stays_as_written():
    # −Σ(log_softmax(z) ⊙ one_hot(y))/N: the text follows the user's code (a log_softmax step)
    z, y = sg.tensor("z", (B, C)), sg.tensor("y", (B,), integer=True)
    text = sg.derive(-sg.sum(sg.log_softmax(z, axis=1) * sg.one_hot(y, C)) / B, [z]).render("unicode")
    assert "cross_entropy" not in text and "= log_softmax(z, axis=1)" in text, text


def test_latex_writes_it_and_compiles(tmp_path):
    tex = _mlp(N)[0].latex()
    assert r"L &= \operatorname{cross\_entropy}\left({z^{(2)}},\ y\right)" in tex, tex
    pdflatex = need("pdflatex")
    (tmp_path / "ce.tex").write_text(latex_document(tex))
    r = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", "ce.tex"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-2000:]
