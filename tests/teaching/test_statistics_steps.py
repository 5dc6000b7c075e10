"""Batch norm's statistics written as cs231n's batchnorm_backward and the slides write them
(symgrad/teaching/statistics.py): ∂L/∂σ² = Σₙ ∂L/∂x̂ₙ·(xₙ − μ) · (−1/2)·(σ² + ε)^(−3/2),
∂L/∂μ = −Σₙ ∂L/∂x̂ₙ/√(σ² + ε) + ∂L/∂σ² · (−2/N)·Σₙ (xₙ − μ), ∂L/∂x = ∂L/∂x̂/√(σ² + ε) + ∂L/∂σ² · 2(x − μ)/N
+ ∂L/∂μ/N — not reverse mode's steps through −μ, x − μ, its square, ... Their numbers are checked
against sg.grad of L with the statistic made a free variable (float64), and against torch."""
import re
import subprocess

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.teaching.render import latex_document
from teachtools import bn_mlp_example, need

torch = pytest.importorskip("torch")
N = sp.Symbol("N", integer=True, positive=True)
D = 3
EPS = sp.Rational(1, 100000)
rng = np.random.default_rng(11)


def _layer(n=N, names=True, var_form="var"):
    """cs231n's batch norm forward over a batch, L = Σ (γ ⊙ x̂ + β) ⊙ dout."""
    x, gamma, beta, dout = sg.tensor("x", (n, D)), sg.tensor("gamma", (D,)), sg.tensor("beta", (D,)), \
        sg.tensor("dout", (n, D))
    mu = x.mean(axis=0)
    var = sg.var(x, axis=0) if var_form == "var" else ((x - mu) ** 2).mean(axis=0)
    xhat = (x - mu) / sp.sqrt(var + EPS)
    L = sg.sum((gamma * xhat + beta) * dout)
    given = {sg.tensor("mu", (D,)): mu, sg.tensor("var", (D,)): var, sg.tensor("xhat", (n, D)): xhat} \
        if names else None
    return L, (x, gamma, beta, dout), given


def _point(x, gamma, beta, dout, n=5):
    return {x: rng.normal(size=(n, D)) * 2 + 1, gamma: rng.normal(size=D), beta: rng.normal(size=D),
            dout: rng.normal(size=(n, D))}


def _oracles(at, syms):
    """∂L/∂σ², ∂L/∂μ (the statistic a free variable of L, everything else as in L) and ∂L/∂x, by
    sg.grad evaluated in float64."""
    x, gamma, beta, dout = syms
    s, m = sg.tensor("s", (D,)), sg.tensor("m", (D,))
    xv = at[x]
    vals = {str(k): v for k, v in at.items()}
    vals.update(s=xv.var(0), m=xv.mean(0))
    L_s = sg.sum((gamma * (x - x.mean(axis=0)) / sp.sqrt(s + EPS) + beta) * dout)
    L_m = sg.sum((gamma * (x - m) / sp.sqrt(((x - m) ** 2).mean(axis=0) + EPS) + beta) * dout)
    L = sg.sum((gamma * (x - x.mean(axis=0)) / sp.sqrt(sg.var(x, axis=0) + EPS) + beta) * dout)
    return (sg.numeric(sg.grad(L_s, s), vals), sg.numeric(sg.grad(L_m, m), vals),
            sg.numeric(sg.grad(L, x), vals))


def test_statistics_steps_read_as_cs231n_writes_them():
    L, syms, names = _layer(names=False)            # nothing named: x̂, μ, σ² are named by symgrad
    text = sg.derive(L, list(syms[:3]), output_name="L").render("unicode")
    back = text.split("Backward pass")[1]
    assert "∂L/∂σ² = Σₙ ∂L/∂x̂ₙ·∂x̂ₙ/∂σ² = Σₙ ∂L/∂x̂ₙ·(xₙ − μ) · (−1/2) · (σ² + ε)^(−3/2)" in back
    assert ("∂L/∂μ = Σₙ ∂L/∂x̂ₙ·∂x̂ₙ/∂μ + ∂L/∂σ² · ∂σ²/∂μ = −Σₙ ∂L/∂x̂ₙ/√(σ² + ε) + ∂L/∂σ² · (−2/N) · "
            "Σₙ (xₙ − μ)") in back
    assert "= ∂L/∂x̂/√(σ² + ε) + ∂L/∂σ² · 2·(x − μ)/N + ∂L/∂μ · 1/N" in back
    between = back.split("∂L/∂σ² =")[1].split("∂L/∂γ")[0]
    assert "∂u" not in between and "∂L/∂u" not in back.split("∂L/∂x̂ =")[1].split("∂L/∂γ")[0].split("\n", 1)[1]
    assert "−∂L/∂u" not in back                                       # no step on a negation node
    assert "ε = 1e−5" in back and "100000" not in back            # ε as code writes it
    ascii_text = sg.derive(L, list(syms[:3]), output_name="L").render("text")
    assert ascii_text.isascii() and "dL/dmu = sum_n(dL/dxhat_n*dxhat_n/dmu)" in ascii_text


@pytest.mark.parametrize("var_form", ["var", "mean of squares"])
def test_statistics_numbers_equal_sg_grad(var_form):
    L, syms, names = _layer(var_form=var_form)
    at = _point(*syms)
    steps = sg.derive(L, list(syms[:3]), names=names, output_name="L").explain(at=at)
    want_var, want_mu, want_x = _oracles(at, syms)
    np.testing.assert_allclose(steps.find("var").value, want_var, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(steps.find("mu").value, want_mu, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(steps.find("x").value, want_x, rtol=1e-9, atol=1e-12)
    (_, _, gx), = [g for g in steps.gradients if str(g[0]) == "x"]
    tx = torch.tensor(at[syms[0]], requires_grad=True)
    mu = tx.mean(0)
    xhat = (tx - mu) / torch.sqrt(((tx - mu) ** 2).mean(0) + 1e-5)
    ((torch.tensor(at[syms[1]]) * xhat + torch.tensor(at[syms[2]])) * torch.tensor(at[syms[3]])).sum().backward()
    np.testing.assert_allclose(gx, tx.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_a_number_for_the_batch_size_and_the_users_names():
    # N = 4: var/4 + ε lowers to one node, so σ² (named "var" by the user) has no node of its own;
    # naming it used to raise "not a subexpression of f"
    L, syms, names = _layer(n=4)
    at = _point(*syms, n=4)
    steps = sg.derive(L, list(syms[:3]), names=names, output_name="L").explain(at=at)
    text = steps.render("unicode")
    assert "∂L/∂var = Σₙ ∂L/∂x̂ₙ·(xₙ − μ) · (−1/2) · (var + ε)^(−3/2)" in text.replace("∂x̂ₙ/∂var = ", "") or \
        "∂L/∂var = Σₙ ∂L/∂x̂ₙ·∂x̂ₙ/∂var = Σₙ ∂L/∂x̂ₙ·(xₙ − μ) · (−1/2) · (var + ε)^(−3/2)" in text
    assert "(−2/4)" in text
    want_var, want_mu, want_x = _oracles(at, syms)
    np.testing.assert_allclose(steps.find("var").value, want_var, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(steps.find("mu").value, want_mu, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(steps.find("x").value, want_x, rtol=1e-9, atol=1e-12)


def test_bn_layer_of_the_digits_example():
    # examples/train_bn_digits.py's hidden layer: z = x @ W + b, batch norm, relu, cross-entropy
    x, y = sg.tensor("x", (N, 4)), sg.tensor("y", (N,), integer=True)
    W, b, gamma, beta = sg.tensor("W", (4, D)), sg.tensor("b", (D,)), sg.tensor("gamma", (D,)), sg.tensor("beta", (D,))
    W2 = sg.tensor("W2", (D, 2))
    z = x @ W + b
    zhat = (z - sg.mean(z, axis=0)) / sp.sqrt(sg.var(z, axis=0) + EPS)
    L = sg.cross_entropy(sg.relu(gamma * zhat + beta) @ W2, y)
    d = sg.derive(L, [W, gamma], output_name="L")
    vals = {x: rng.normal(size=(6, 4)), y: np.array([0, 1, 1, 0, 1, 0]), W: rng.normal(size=(4, D)),
            b: rng.normal(size=D), gamma: rng.normal(size=D), beta: rng.normal(size=D), W2: rng.normal(size=(D, 2))}
    steps = d.explain(at=vals)
    text = steps.render("unicode")
    # the affine output is a (relu takes z = γ ⊙ x̂ + β): test_layer_names_batch_norm.py
    assert "= −Σₙ ∂L/∂x̂ₙ/√(σ² + ε) + ∂L/∂σ² · (−2/N) · Σₙ (aₙ − μ)" in text, text
    tz = torch.tensor(vals[x]) @ torch.tensor(vals[W], requires_grad=True) + torch.tensor(vals[b])
    tz.retain_grad()
    zh = (tz - tz.mean(0)) / torch.sqrt(tz.var(0, unbiased=False) + 1e-5)
    h = torch.relu(torch.tensor(vals[gamma]) * zh + torch.tensor(vals[beta]))
    torch.nn.functional.cross_entropy(h @ torch.tensor(vals[W2]), torch.tensor(vals[y]).long()).backward()
    np.testing.assert_allclose(steps.find("a").value, tz.grad.numpy(), rtol=1e-8, atol=1e-12)
    gW = next(v for w, _, v in steps.gradients if str(w) == "W")
    np.testing.assert_allclose(gW, vals[x].T @ tz.grad.numpy(), rtol=1e-8, atol=1e-12)


def test_statistics_latex_compiles_without_overfull_boxes(tmp_path):
    L, syms, names = _layer()
    d = sg.derive(L, list(syms[:3]), names=names, output_name="L")
    assert r"\sum_{n} \frac{\partial L}{\partial \hat{x}_{n}}" in d.latex()
    assert r"\frac{1}{\sqrt{\sigma^{2} + \epsilon}}" in d.latex() or r"\sqrt{\mathit{var} + \epsilon}" in d.latex()
    for name, doc in [("plain", d.latex(document=True)), ("numbers", d.latex(document=True, at=_point(*syms))),
                      ("jupyter", latex_document(d._repr_latex_()))]:
        (tmp_path / f"{name}.tex").write_text(doc)
        r = subprocess.run([need("pdflatex"), "-interaction=nonstopmode", "-halt-on-error", f"{name}.tex"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stdout[-1500:]
        if name != "jupyter":          # Jupyter's aligned block is MathJax's to lay out, not the page's
            log = (tmp_path / f"{name}.log").read_text(errors="replace")
            wide = [float(w) for w in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", log)]
            assert all(w <= 10 for w in wide), f"{name}: overfull by {max(wide)} pt"


def test_layer_norm_sums_over_the_entries_it_normalises():
    x, dout = sg.tensor("x", (N, 4)), sg.tensor("dout", (N, 4))
    xh = (x - x.mean(axis=-1, keepdims=True)) / sp.sqrt(sg.var(x, axis=-1, keepdims=True) + EPS)
    L = sg.sum(xh * dout)
    at = {x: rng.normal(size=(3, 4)), dout: rng.normal(size=(3, 4))}
    steps = sg.derive(L, [x], output_name="L").explain(at=at)
    assert "= −Σᵢ ∂L/∂x̂ᵢ/√(σ² + ε) + ∂L/∂σ² · (−2/4) · Σᵢ (xᵢ − μ)" in steps.render("unicode")
    want = sg.numeric(sg.grad(L, x), {"x": at[x], "dout": at[dout]})
    np.testing.assert_allclose(steps.find("x").value, want, rtol=1e-9, atol=1e-12)


def test_two_batch_norm_layers_each_get_their_statistics():
    loss, params = bn_mlp_example()
    text = sg.derive(loss, params).render("unicode")
    for k in "₁₂":
        assert (f"∂f/∂μ{k} = Σₙ ∂f/∂x̂{k}ₙ·∂x̂{k}ₙ/∂μ{k} + ∂f/∂σ²{k} · ∂σ²{k}/∂μ{k} = "
                f"−Σₙ ∂f/∂x̂{k}ₙ/√(σ²{k} + ε)") in text
    assert "∂u₁₃/∂μ" not in text and " = −∂f/∂u" not in text


def test_batch_norm_example(capsys, tmp_path):
    import importlib.util
    import sys
    from pathlib import Path
    from picture_parse import edges
    examples = Path(__file__).resolve().parents[2] / "examples" / "teaching"
    sys.path.insert(0, str(examples))
    spec = importlib.util.spec_from_file_location("teaching_batch_norm", examples / "batch_norm.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.main(["--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert "∂L/∂μ = Σₙ ∂L/∂x̂ₙ·∂x̂ₙ/∂μ + ∂L/∂σ² · ∂σ²/∂μ = −Σₙ ∂L/∂x̂ₙ/√(σ² + ε)" in out
    assert "∂L/∂γ = (dout ⊙ x̂).sum(axis=0)" in out.split("Gradient:")[1]
    at = mod.point()
    tx = torch.tensor(at[mod.x], requires_grad=True)
    mu = tx.mean(0)
    xhat = (tx - mu) / torch.sqrt(((tx - mu) ** 2).mean(0) + 1e-5)
    ((torch.tensor(at[mod.gamma]) * xhat + torch.tensor(at[mod.beta])) * torch.tensor(at[mod.dout])).sum().backward()
    steps = mod.build(at=at).steps
    np.testing.assert_allclose(steps.find("x").value, tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    # the picture names the statistics as the steps do: μ's edge carries ∂L/∂μ
    src = mod.build().graph().source
    assert any(name == "μ" or "∂L/∂μ" in (gv or "") for name, _, gv, _ in edges(src)), edges(src)


def test_forward_pass_writes_the_statistics_as_the_layer_is_written():
    # μ = x.mean(axis=0), x − μ, σ² = the mean of its square: not Σ with keepdims, ÷N, −μ, x + (−μ);
    # the numbers are NumPy's mean and (biased) variance
    import re
    Nb = sp.Symbol("N", integer=True, positive=True)
    x, gamma, beta, dout = sg.tensor("x", (Nb, 3)), sg.tensor("gamma", (3,)), sg.tensor("beta", (3,)), sg.tensor("dout", (Nb, 3))
    xhat = (x - x.mean(axis=0)) / sp.sqrt(x.var(axis=0) + sp.Rational(1, 100000))
    rng = np.random.default_rng(8)
    xv = rng.normal(size=(4, 3)) * 2 + 1
    at = {x: xv, gamma: rng.normal(size=3), beta: rng.normal(size=3), dout: rng.normal(size=(4, 3))}
    text = sg.derive(sg.sum((gamma * xhat + beta) * dout), [x, gamma, beta], output_name="L", at=at).render("unicode")
    fwd = text.split("Backward pass")[0]
    assert "keepdims" not in fwd and "−μ =" not in fwd, fwd
    mu = re.search(r"μ = x\.mean\(axis=0\) = \[([^\]]+)\]", fwd)
    var = re.search(r"σ² = \((u\w*)²\)\.mean\(axis=0\) = \[([^\]]+)\]", fwd)
    assert mu and var, fwd
    assert re.search(rf"{var.group(1)} = x − μ = ", fwd), fwd
    num = lambda s: [float(v.replace("−", "-")) for v in s.split(", ")]    # noqa: E731
    np.testing.assert_allclose(num(mu.group(1)), xv.mean(axis=0), rtol=1e-3)
    np.testing.assert_allclose(num(var.group(2)), xv.var(axis=0), rtol=1e-3)
