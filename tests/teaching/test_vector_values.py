"""A 1-D value (a bias b of shape (D,), a per-example loss of shape (N,)) prints as NumPy prints a
vector, [a, b, c], not as the one-row matrix [[a, b, c]] (which reads as shape (1, D)). The numbers
are NumPy's own for the layer."""
import re

import numpy as np
import sympy as sp

import symgrad as sg
from symgrad.teaching.numbers import number

N = sp.Symbol("N", integer=True, positive=True)


def test_number_of_a_vector():
    assert number(np.array([1.0, -2.5]), "unicode") == "[1, −2.5]"
    assert number(np.array([1.0, -2.5]), "text") == "[1, -2.5]"
    assert number(np.array([[1.0, -2.5]]), "text") == "[[1, -2.5]]"       # a (1, 2) matrix stays one


def test_bias_gradient_prints_as_a_vector():
    x, W, b = sg.tensor("x", (N, 3)), sg.tensor("W", (3, 2)), sg.tensor("b", (2,))
    rng = np.random.default_rng(1)
    xv, wv, bv = rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=2)
    text = sg.derive(sg.sum(sg.relu(x @ W + b)), [W, b], at={x: xv, W: wv, b: bv}).render("unicode")
    line = next(l for l in text.splitlines() if l.strip().startswith("∂f/∂b =") and "Gradient" not in l)
    want = ((xv @ wv + bv) >= 0).astype(float).sum(axis=0)      # relu'(0) = 1
    m = re.search(r"= \[([^\[\]]+)\]$", line.split("    [")[0])       # the value, before the rule
    assert m, line
    got = [float(v.replace("−", "-")) for v in m.group(1).split(", ")]
    np.testing.assert_allclose(got, want, rtol=1e-3)


def test_rule_of_a_tensor_product_names_the_operands_as_the_steps_do():
    # the rule at the right wrote ∇y^(1) = δ @ W2ᵀ, the raw names, next to the step's y⁽¹⁾ and W₂
    x, W1, b1, W2 = sg.tensor("x", (N, 3)), sg.tensor("W1", (3, 2)), sg.tensor("b1", (2,)), sg.tensor("W2", (2, 2))
    d = sg.derive(sg.sum(sg.relu(sg.relu(x @ W1 + b1) @ W2)), [W1, W2], output_name="L")
    uni, txt, tex = d.render("unicode"), d.render("text"), d.latex()
    assert "∇y⁽¹⁾ = δ @ W₂ᵀ" in uni and "y^(1)" not in uni and "W2ᵀ" not in uni, uni
    assert "grad y^(1) = delta @ W2^T" in txt, txt
    assert "⁽" not in txt and "₂" not in txt
    # the name in math, as the formulas set it: y⁽¹⁾ is y^{(1)}, never an upright y before it
    # and the note's formula one formula (since 2026-11-30, eighth session: test_latex_note_math.py)
    assert r"$\nabla y^{(1)} = \delta  \cdot  W_{2}^{T}$" in tex, tex


def test_a_transposed_layer_name_compiles_in_latex(tmp_path):
    # y⁽¹⁾ᵀ in a rule note was y$^{(1)}^T$: a double superscript, which stops pdflatex
    import subprocess
    from teachtools import need
    x, W1, b1, W2 = sg.tensor("x", (N, 3)), sg.tensor("W1", (3, 2)), sg.tensor("b1", (2,)), sg.tensor("W2", (2, 2))
    d = sg.derive(sg.sum(sg.relu(sg.relu(x @ W1 + b1) @ W2)), [W1, W2], output_name="L")
    (tmp_path / "mlp.tex").write_text(d.latex(document=True))
    r = subprocess.run([need("pdflatex"), "-interaction=nonstopmode", "-halt-on-error", "mlp.tex"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-1500:]


def test_a_constant_tensor_prints_as_the_slides_write_it(tmp_path):
    # the mean over the batch seeds every per-example loss with 1/N: printed full((N,), 1/N) in
    # Unicode and Full(1/N, (N,)) in LaTeX; the matrix form of the same step writes 1/N·𝟙
    import subprocess
    from teachtools import need
    x, w = sg.tensor("x", (N, 3)), sg.tensor("w", (3, 4))
    # (a per-example loss that is no cross-entropy: sg.cross_entropy is one step, its mean inside)
    d = sg.derive(sg.logsumexp(x @ w, axis=1).mean(), [w], output_name="L")
    uni, tex = d.render("unicode"), d.latex(document=True)
    assert "full(" not in uni and "1/N·𝟙" in uni, uni
    assert "Full" not in tex and r"\frac{1}{N} \mathbf{1}" in tex, tex
    (tmp_path / "ce.tex").write_text(tex)
    r = subprocess.run([need("pdflatex"), "-interaction=nonstopmode", "-halt-on-error", "ce.tex"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-1500:]


def test_a_negated_constant_reads_minus_one_over_n():
    x, w = sg.tensor("x", (N, 3)), sg.tensor("w", (3, 4))
    h = x @ w        # logsumexp minus the rows' sums (sg.cross_entropy is one step: no −1/N·𝟙 in it)
    uni = sg.derive((sg.logsumexp(h, axis=1) - h.sum(axis=1)).mean(), [w], output_name="L").render("unicode")
    assert "−1/N·𝟙" in uni and "(−1)·" not in uni and "(−1/N)·𝟙" not in uni, uni
