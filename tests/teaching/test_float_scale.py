"""A loss scaled by a float, L = 0.5·Σ cross_entropy(z, y, reduction="none"), reads as the slide
writes it: ∂L/∂u₁ = 0.5 (not SymPy's 15 digits 0.500000000000000) and δ = 0.5·(softmax(z) −
one_hot(y)) (not 0.5·(1.0·softmax − 1.0·one_hot), the Float 1.0 left by dividing each term's
coefficient by the common one), in text and LaTeX; a per-example cross-entropy weighted before
its sum is one forward line and one step (symgrad/teaching/row_sums.py, render.py,
cross_entropy_steps.py). The numbers are torch.autograd's."""
import shutil
import subprocess

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.teaching.render import latex_document
from teachtools import need

torch = pytest.importorskip("torch")
F = torch.nn.functional
B, C = 4, 3


def _half_ce():
    z, y = sg.tensor("z", (B, C)), sg.tensor("y", (B,), integer=True)
    L = 0.5 * sg.cross_entropy(z, y, reduction="none").sum()
    return sg.derive(L, [z], output_name="L"), z, y


def _step(text, lhs):
    (line,) = [li.strip() for li in text.splitlines() if li.strip().startswith(lhs)]
    return line.split("    [")[0]


def test_the_scale_prints_as_written_in_text():
    d, *_ = _half_ce()
    for fmt, du, dz in (("unicode", "∂L/∂u₁", "δ ="), ("text", "dL/du1", "delta =")):
        text = d.render(fmt)
        assert "0.50000" not in text and "1.0" not in text, text
        assert _step(text, du).endswith("= 0.5"), text
        want = {"unicode": "0.5·(softmax(z, axis=1) − one_hot(y, 3))",
                "text": "0.5*(softmax(z, axis=1) - one_hot(y, 3))"}[fmt]
        assert _step(text, dz).endswith("= " + want), text
        gradient = text.split("Gradient:")[1]
        assert want in gradient, gradient


def test_a_mean_scaled_keeps_one_factor_outside():
    z, y = sg.tensor("z", (B, C)), sg.tensor("y", (B,), integer=True)
    text = sg.derive(0.5 * sg.cross_entropy(z, y), [z], output_name="L").render("unicode")
    # the scale and the batch's 1/4 apart, as with a symbol N (until 2026-11-30, eighth session: 0.125·(…))
    assert _step(text, "δ =").endswith("= 0.5·(softmax(z, axis=1) − one_hot(y, 3))/4"), text
    assert "0.125" not in text, text
    gradient = text.split("Gradient:")[1]
    assert "0.5·(softmax(z, axis=1) − one_hot(y, 3))/4" in gradient, gradient
    d = sg.derive(0.5 * sg.cross_entropy(z, y), [z], output_name="L")
    assert r"\frac{0.5 \left(\operatorname{softmax}" in d.latex() and "0.125" not in d.latex(), d.latex()


def test_a_mean_scaled_keeps_torchs_numbers():
    z, y = sg.tensor("z", (B, C)), sg.tensor("y", (B,), integer=True)
    rng = np.random.default_rng(2)
    zv, yv = rng.normal(size=(B, C)), np.array([2, 0, 1, 2])
    d = sg.derive(0.5 * sg.cross_entropy(z, y), [z], output_name="L", at={z: zv, y: yv})
    zt = torch.tensor(zv, requires_grad=True)
    (0.5 * F.cross_entropy(zt, torch.tensor(yv))).backward()
    ((_, _, value),) = d.steps.gradients
    np.testing.assert_allclose(np.asarray(value, dtype=float), zt.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_a_mean_over_a_symbolic_batch_keeps_the_scale_first():
    N = sp.Symbol("N", integer=True, positive=True)
    z, y = sg.tensor("z", (N, C)), sg.tensor("y", (N,), integer=True)
    d = sg.derive(0.5 * sg.cross_entropy(z, y), [z], output_name="L")
    text = d.render("unicode")
    assert _step(text, "δ =").endswith("= 0.5·(softmax(z, axis=1) − one_hot(y, 3))/N"), text
    assert r"\frac{0.5 \left(\operatorname{softmax}" in d.latex(), d.latex()


def test_the_scale_prints_as_written_in_latex(tmp_path):
    d, *_ = _half_ce()
    tex = d.latex()
    assert "1.0" not in tex and "0.50000" not in tex, tex
    assert r"= 0.5 \left(\operatorname{softmax}_{\text{axis}=1}\left(z\right) - \operatorname{one\_hot}(y,\ 3)\right)" \
        in tex, tex
    pdflatex = need("pdflatex")
    (tmp_path / "half.tex").write_text(latex_document(tex))
    r = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", "half.tex"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-2000:]
    if shutil.which("pdftotext"):
        pdf = subprocess.run(["pdftotext", str(tmp_path / "half.pdf"), "-"], capture_output=True, text=True).stdout
        assert "1.0" not in pdf and "0.5" in pdf, pdf


def test_the_numbers_are_torchs():
    d, z, y = _half_ce()
    rng = np.random.default_rng(3)
    zv, yv = rng.normal(size=(B, C)), np.array([2, 0, 1, 2])
    steps = d.explain(at={z: zv, y: yv})
    zt = torch.tensor(zv, requires_grad=True)
    loss = 0.5 * F.cross_entropy(zt, torch.tensor(yv), reduction="none").sum()
    loss.backward()
    (val,) = [v for sym, _, v in steps.gradients]
    np.testing.assert_allclose(val, zt.grad.numpy(), rtol=1e-12)


def test_a_weighted_per_example_cross_entropy_is_one_step():
    z, y, w = sg.tensor("z", (B, C)), sg.tensor("y", (B,), integer=True), sg.tensor("w", (B,))
    d = sg.derive((sg.cross_entropy(z, y, reduction="none") * w).sum(), [z], output_name="L")
    text = d.render("unicode")
    fwd = [li.strip() for li in text.split("Forward pass:")[1].split("Backward")[0].splitlines() if li.strip()]
    assert fwd == ["u₁ = cross_entropy(z, y, reduction='none')", "u₂ = w ⊙ u₁", "L = u₂.sum()"], fwd
    assert "logsumexp(z" not in text.split("Forward pass:")[1], text
    assert "= (∂L/∂u₁).reshape(4, 1) ⊙ (softmax(z, axis=1) − one_hot(y, 3))" in _step(text, "δ ="), text
    rng = np.random.default_rng(4)
    zv, yv, wv = rng.normal(size=(B, C)), np.array([1, 0, 2, 2]), rng.normal(size=B)
    steps = d.explain(at={z: zv, y: yv, w: wv})
    zt = torch.tensor(zv, requires_grad=True)
    (F.cross_entropy(zt, torch.tensor(yv), reduction="none") * torch.tensor(wv)).sum().backward()
    np.testing.assert_allclose(steps.find("z").value, zt.grad.numpy(), rtol=1e-12)
