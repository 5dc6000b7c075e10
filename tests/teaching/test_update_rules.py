"""The optimizer and Newton pages (issue 14, point 5): the update rules as a slide writes them, with
symbolic η, μ, β₁, β₂, ε printed as Greek letters — and each view IS the rule: iterated with numbers
it gives torch.optim's trajectory; a Newton step on the seeds' quadratic."""
import subprocess

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.compiling import optim as O
from symgrad.errors import ArgumentError
from symgrad.teaching.render import latex_document
from teachtools import need

torch = pytest.importorskip("torch")

CONFIGS = [
    ("sgd", O.SGD(lr=0.1), torch.optim.SGD, dict(lr=0.1)),
    ("momentum", O.SGD(lr=0.1, momentum=0.9), torch.optim.SGD, dict(lr=0.1, momentum=0.9)),
    ("nesterov", O.SGD(lr=0.1, momentum=0.9, nesterov=True), torch.optim.SGD,
     dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("adagrad", O.Adagrad(lr=0.1), torch.optim.Adagrad, dict(lr=0.1)),
    ("rmsprop", O.RMSprop(lr=0.01, alpha=0.9), torch.optim.RMSprop, dict(lr=0.01, alpha=0.9)),
    ("adam", O.Adam(lr=0.1, betas=(0.8, 0.9)), torch.optim.Adam, dict(lr=0.1, betas=(0.8, 0.9))),
    ("amsgrad", O.Adam(lr=0.1, amsgrad=True), torch.optim.Adam, dict(lr=0.1, amsgrad=True)),
    # three slots, b reading the new v and ḡ: its line printed before ḡ's until 2026-11-30
    ("centred rmsprop, momentum", O.RMSprop(lr=0.01, alpha=0.9, centered=True, momentum=0.5), torch.optim.RMSprop,
     dict(lr=0.01, alpha=0.9, centered=True, momentum=0.5)),
]
A = np.array([[3.0, 1.0], [1.0, 2.0]])
B = np.array([1.0, -1.0])


def _grad(w):                    # J(w) = ½wᵀAw − bᵀw
    return A @ w - B


def _numbers(opt):
    """Greek symbol -> the optimizer's number (the inverse of the view's substitution)."""
    out = {}
    for name, letter in O.GREEK.items():
        if hasattr(opt, name):
            out[sp.Symbol(letter, positive=True)] = getattr(opt, name)
    if hasattr(opt, "betas"):
        out[sp.Symbol("beta_1")], out[sp.Symbol("beta_2")] = opt.betas
    return out


def _iterate(view, numbers, w0, steps):
    """Run the view's lines in order (each ← is an assignment), entrywise, for ``steps`` steps."""
    p, g, t = sp.symbols("p g t", real=True)
    lines = [(lhs, rhs.xreplace(numbers)) for lhs, rhs, rel, *_ in view.lines]
    ws = []
    for k, w in enumerate(w0):
        env = {lhs: 0.0 for lhs, _ in lines if lhs != p}
        ws.append(env)
    w = np.array(w0, float)
    for step in range(1, steps + 1):
        gv = _grad(w)
        for k in range(len(w)):
            env = ws[k]
            env.update({p: w[k], g: gv[k], t: step})
            for lhs, rhs in lines:
                env[lhs] = float(rhs.xreplace(env))
            w[k] = env[p]
    return w


@pytest.mark.parametrize("name,opt,cls,kw", CONFIGS, ids=[c[0] for c in CONFIGS])
def test_the_view_is_the_rule_torch_follows(name, opt, cls, kw):
    view = opt.view()                                   # symbolic: Greek letters
    w0 = [0.5, -1.5]
    got = _iterate(view, _numbers(opt), w0, 4)
    wt = torch.tensor(w0, dtype=torch.float64, requires_grad=True)
    o = cls([wt], **kw)
    for _ in range(4):
        o.zero_grad()
        J = 0.5 * wt @ torch.tensor(A) @ wt - torch.tensor(B) @ wt
        J.backward()
        o.step()
    np.testing.assert_allclose(got, wt.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_greek_letters_and_short_slot_names():
    b1, b2, eta, eps = sp.symbols("beta_1 beta_2 eta epsilon", positive=True)
    adam = O.Adam(lr=eta, betas=(b1, b2), eps=eps)          # symbolic betas used to raise TypeError
    text = adam.view(symbolic=False).render("unicode")
    lines = dict(line.strip().split(" ← ") for line in text.splitlines()[1:])
    assert set(lines) == {"m", "v", "p"}                     # torch's exp_avg, exp_avg_sq: m and v
    # in the notes' (and torch's documentation's) order: the hyperparameter before what it scales
    assert lines["m"] == "β₁·m + (1 − β₁)·g" and lines["v"] == "β₂·v + (1 − β₂)·g²", lines
    assert lines["p"] == "p − η·m/((1 − β₁ᵗ)·(ε + √v/√(1 − β₂ᵗ)))"
    tex = adam.view(symbolic=False).latex()
    assert r"\beta_{1}" in tex and r"\eta" in tex and r"\epsilon" in tex
    for o in (adam, O.RMSprop(centered=True, momentum=0.5), O.Adagrad(), O.SGD(momentum=0.9)):
        for out in (o.view().render("unicode"), o.view().latex(), o.view()._repr_latex_()):
            assert "exp_" not in out and "avg" not in out and "buffer" not in out, out
    mu = sp.Symbol("mu", positive=True)
    assert "b ← μ·b + g" in O.SGD(lr=0.1, momentum=mu).view().render("unicode")
    assert "p ← p − η·g" in O.SGD(lr=0.1).view().render("unicode")
    assert "v ← α·v + (1 − α)·g²" in O.RMSprop(lr=0.01).view().render("unicode")
    with pytest.raises(ArgumentError, match="symbolic"):     # the compiler needs numbers
        adam.symbols()


def test_momentum_in_the_notes_velocity_form_equals_torchs():
    for nesterov in (False, True):
        opt = O.SGD(lr=0.1, momentum=0.9, nesterov=nesterov)
        view = opt.view(form="notes")
        text = view.render("unicode")
        assert "v ← μ·v − η·g" in text and "p ← p + v" in text       # the notes: v ← μv − η∇
        # iterate the notes' form by hand: v ← μv − η∇J(w [+ μv]), w ← w + v
        w, v = np.array([0.5, -1.5]), np.zeros(2)
        for _ in range(4):
            v = 0.9 * v - 0.1 * _grad(w + 0.9 * v if nesterov else w)
            w = w + v
        torch_like = _iterate(opt.view(), _numbers(opt), [0.5, -1.5], 4)
        # torch's Nesterov holds the look-ahead point w + μv (its reformulation): the same path
        np.testing.assert_allclose(w + 0.9 * v if nesterov else w, torch_like, rtol=1e-10)


def test_newton_step_on_the_seeds_quadratic():
    w1, w2 = sp.symbols("w1 w2")
    J = (sp.Matrix([w1, w2]).T * sp.Matrix(A.astype(int)) * sp.Matrix([w1, w2]))[0] / 2 - w1 + w2
    view = sg.derive(J, [w1, w2], style="newton", at={w1: 5, w2: -7})
    g_line, H_line, step_line, w_line = view.lines
    np.testing.assert_allclose(g_line[3][:, 0], _grad(np.array([5.0, -7.0])))
    np.testing.assert_allclose(H_line[3], A)
    np.testing.assert_allclose(w_line[3][:, 0], np.linalg.solve(A, B))   # one step to the minimum
    text = view.render("unicode")
    assert "H⁻¹·g" in text and "w ← w − H⁻¹·g" in text


def test_the_pages_compile(tmp_path):
    w1, w2 = sp.symbols("w1 w2")
    views = [o.view() for _, o, _, _ in CONFIGS] + [O.SGD(momentum=0.9, nesterov=True).view(form="notes"),
                                                    sg.derive(w1 ** 2 + w1 * w2 + w2 ** 2, [w1, w2], style="newton",
                                                              at={w1: 1, w2: 2})]
    body = "\n\n".join(v.latex() + "\n\n" + v._repr_latex_() for v in views)
    (tmp_path / "o.tex").write_text(latex_document(body))
    r = subprocess.run([need("pdflatex"), "-interaction=nonstopmode", "-halt-on-error", "o.tex"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout[-1500:]
