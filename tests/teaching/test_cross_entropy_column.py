"""The cross-entropy of a MatrixSymbol network (the README's sg.mlp with sg.cross_entropy(net.output,
t), t a one-hot or probability column) is one node "cross-entropy" of the picture and one step of
the text, δ = softmax(z) − t given Σt = 1, Σt·softmax(z) − t without it; every number on the
picture's edges is torch.autograd's (symgrad/teaching/cross_entropy_column.py)."""
import json

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from picture_parse import edges, node_names

torch = pytest.importorskip("torch")
LOWERED = ("logsumexp", "⊙", "Σ", "① − ②", "×", "log_softmax", "sum")


def _net():
    net, t = sg.mlp([4, 5, 3]), sp.MatrixSymbol("t", 3, 1)
    return sg.derive(sg.cross_entropy(net.output, t), net.params, output_name="L"), net, t


def _grid(s):
    return np.array(json.loads(s.replace("−", "-")), dtype=float)


def test_text_is_one_forward_line_and_one_delta_step():
    d, _, t = _net()
    lines = d.render("unicode", given={sg.sum(t): 1}).splitlines()
    assert lines[0] == "L = −sum(t ⊙ log_softmax(W₂·relu(W₁·x + b₁) + b₂))"     # as sg.cross_entropy makes it
    assert "  L = cross_entropy(z⁽²⁾, t)" in lines
    assert not any(w in line for line in lines[:8] for w in ("logsumexp", "u₁"))
    (delta,) = [ln for ln in lines if ln.startswith("  δ⁽²⁾")]
    assert delta.startswith("  δ⁽²⁾ = ∂L/∂z⁽²⁾ = ∂L/∂L · ∂L/∂z⁽²⁾ = softmax(z⁽²⁾) − t    [softmax cross-entropy"), delta
    (plain,) = [ln for ln in d.render("unicode").splitlines() if ln.startswith("  δ⁽²⁾")]
    assert " = sum(t)·softmax(z⁽²⁾) − t    [" in plain, plain


def test_picture_is_one_node_with_torchs_numbers():
    d, net, t = _net()
    rng = np.random.default_rng(7)
    W1, b1, W2, b2, x = (rng.normal(size=s) for s in ((5, 4), (5, 1), (3, 5), (3, 1), (4, 1)))
    tv = rng.dirichlet(np.ones(3)).reshape(3, 1)
    syms = dict(zip(["W1", "b1", "W2", "b2"], net.params))
    at = {syms["W1"]: W1, syms["b1"]: b1, syms["W2"]: W2, syms["b2"]: b2, net.input: x, t: tv}
    src = d.graph(at=at, given={sg.sum(t): 1}, number_format=".8g").source
    names = node_names(src)
    ops = sorted(names.values())
    assert ops.count("cross-entropy") == 1 and not any(n.startswith(LOWERED) for n in ops), ops
    T = {k: torch.tensor(a, dtype=torch.float64, requires_grad=True) for k, a in
         dict(W1=W1, b1=b1, W2=W2, b2=b2).items()}
    z = T["W2"] @ torch.relu(T["W1"] @ torch.tensor(x) + T["b1"]) + T["b2"]
    z.retain_grad()
    loss = -(torch.tensor(tv) * torch.log_softmax(z, dim=0)).sum()
    loss.backward()
    ce = next(k for k, n in names.items() if n == "cross-entropy")
    into = {s: (fv, gv) for s, fv, gv, dst in edges(src) if dst == ce}
    assert into["t"][1] is None
    (logits,) = [k for k in into if k != "t"]
    np.testing.assert_allclose(_grid(into[logits][1]).reshape(3, 1), z.grad.numpy(), rtol=1e-6, atol=1e-8)
    for name in ("W1", "b1", "W2", "b2"):
        shown = name[0] + name[1].translate(str.maketrans("12", "₁₂"))
        ((g,),) = [(gv,) for s, fv, gv, dst in edges(src) if s == shown]
        np.testing.assert_allclose(_grid(g).reshape(T[name].shape), T[name].grad.numpy(), rtol=1e-6, atol=1e-8)
    ((fv, gv),) = [(fv, gv) for s, fv, gv, dst in edges(src) if s == "cross-entropy"]
    assert abs(float(fv.replace("−", "-")) - loss.item()) < 1e-6 and gv == "1", (fv, gv)


def test_latex_step_compiles(tmp_path):
    import subprocess

    from symgrad.teaching.render import latex_document
    from teachtools import need
    d, _, t = _net()
    tex = d.latex(given={sg.sum(t): 1})
    assert r"L &= \operatorname{cross\_entropy}\left({z^{(2)}},\ t\right)" in tex, tex[:600]
    assert r"= \operatorname{softmax}\left({z^{(2)}}\right) - t \\" in tex, tex
    assert "logsumexp" not in tex, tex
    (tmp_path / "col.tex").write_text(latex_document(tex))
    r = subprocess.run([need("pdflatex"), "-interaction=nonstopmode", "-halt-on-error", "col.tex"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-2000:]
