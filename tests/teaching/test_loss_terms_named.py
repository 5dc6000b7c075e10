"""cs231n's L = L_data + L_reg with both parts named (names={L_data: ..., L_reg: ...}): the names
are nodes of every view, though the lowering fused the mean's 1/N and the penalty's 0.05 into one
sum; and the header reads data loss first, as the slides do (symgrad/teaching/loss_terms.py,
symgrad/teaching/cross_entropy_header.py). Numbers are torch.autograd's."""
import numpy as np
import pytest

import symgrad as sg
from picture_parse import edges, node_names
from test_loss_terms import C, D, N, REG, _softmax_loss

torch = pytest.importorskip("torch")


def _named():
    return _softmax_loss(named=True)


def test_the_data_loss_and_the_penalty_are_named_in_the_forward_pass():
    d, _ = _named()
    text = d.render("unicode")
    forward = text.split("Forward pass:\n")[1].split("Backward")[0]
    assert forward == ("  z = x @ W + b\n"
                       "  L_data = cross_entropy(z, y)\n"
                       "  u₁ = W²\n"
                       "  u₂ = u₁.sum()\n"
                       "  L_reg = 0.05·u₂\n"
                       "  L = L_data + L_reg\n"), forward
    assert "∂L/∂L_data = ∂L/∂L · ∂L/∂L_data = 1 · 1 = 1" in text
    assert text.index("  ∂L/∂L_data =") < text.index("  ∂L/∂L_reg ="), text     # the data loss's step first
    assert "= (softmax(z, axis=1) − one_hot(y, 3))/4    [softmax cross-entropy" in text
    assert "  ∂L/∂W = x.T @ ((softmax(z, axis=1) − one_hot(y, 3))/4) + 0.1·W\n" in text     # data term first
    assert r"L_{\mathrm{data}} &= \operatorname{cross\_entropy}" in d.latex()       # a word subscript upright


def test_naming_only_the_data_loss():
    d, (x, W, b, y) = _named()
    text = d.render("unicode", names={sg.tensor("L_data", ()): sg.cross_entropy(x @ W + b, y)})
    assert "  L_data = cross_entropy(z, y)\n" in text and "  L = L_data + 0.05·u₂\n" in text, text


def test_the_header_reads_the_data_loss_first():
    d, _ = _named()
    assert d.render("unicode").splitlines()[0] == "L = cross_entropy(x @ W + b, y) + 0.05·(W²).sum()"
    assert d.render("text").splitlines()[0].startswith("L = cross_entropy(")
    assert r"\operatorname{cross\_entropy}" in d.latex().split(r"0.05")[0]


def test_the_picture_of_the_named_loss_carries_torchs_numbers():
    d, (x, W, b, y) = _named()
    rng = np.random.default_rng(3)
    v = dict(x=rng.normal(size=(N, D)), W=rng.normal(size=(D, C)), b=rng.normal(size=C), y=np.array([1, 0, 2, 2]))
    src = d.graph(at={x: v["x"], W: v["W"], b: v["b"], y: v["y"]}, number_format=".8g").source
    T = {k: torch.tensor(a, dtype=torch.float64, requires_grad=k in ("W", "b")) for k, a in v.items()}
    data = torch.nn.functional.cross_entropy(T["x"] @ T["W"] + T["b"], T["y"].long())
    reg = 0.5 * REG * (T["W"] * T["W"]).sum()
    (data + reg).backward()
    out = {s: (float(fv.replace("−", "-")), gv) for s, fv, gv, dst in edges(src) if s in ("L_data", "L_reg")}
    assert abs(out["L_data"][0] - data.item()) < 1e-6 and out["L_data"][1] == "1", out
    assert abs(out["L_reg"][0] - reg.item()) < 1e-6 and out["L_reg"][1] == "1", out
    assert sorted(node_names(src).values()).count("cross-entropy (mean)") == 1


def _steps(text):
    return [l.split(" = ")[0].strip() for l in text.split("Backward pass")[1].split("Gradient:")[0].splitlines()[1:]]


def test_the_backward_does_the_data_loss_first():
    # cs231n: dscores, dW, db of the data loss, then the penalty's reg·W — not the penalty's steps
    # first (until 2026-11-30, ninth session, δ came after ∂L/∂L_reg, ∂L/∂u₂, ∂L/∂u₁)
    d, (x, W, b, y) = _named()
    steps = _steps(d.render("unicode"))
    assert steps[:4] == ["∂L/∂L", "∂L/∂L_data", "δ", "∂L/∂b"], steps
    assert steps[4:] == ["∂L/∂L_reg", "∂L/∂u₂", "∂L/∂u₁", "∂L/∂W"], steps
    plain, _ = _softmax_loss()
    steps = _steps(plain.render("unicode"))
    assert steps == ["∂L/∂L", "∂L/∂u₁", "δ", "∂L/∂b", "∂L/∂u₃", "∂L/∂u₂", "∂L/∂W"], steps
