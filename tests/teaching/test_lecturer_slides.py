"""A lecturer's read of the slides symgrad writes, against the lecture notes (shared/seeds):

- 11-785's MLP, z⁽ᵏ⁾ = W⁽ᵏ⁾·y⁽ᵏ⁻¹⁾ + b⁽ᵏ⁾, y⁽ᵏ⁾ = f(z⁽ᵏ⁾), with Div(Y, d): a sigmoid layer reads
  y = σ(z), as the picture's σ node; the output layer's ∂Div/∂z = y − d is written with z⁽²⁾, the
  name the forward pass gives it, in every line (∂Div/∂b₂ as ∂Div/∂W₂);
- a layer norm (cs231n, axis=-1): every name the steps use is defined by the forward pass (σ², when
  the lowering fuses ε into the variance), μ keeps its axis (x − μ must broadcast), a sum over the
  features i takes γ per feature (γᵢ), and the LaTeX page writes var as it writes mean.
Expected phrases are the notes' formulas, not the code's output.
"""
import re
import subprocess

import numpy as np
import sympy as sp

import symgrad as sg
from teachtools import need

N = sp.Symbol("N", integer=True, positive=True)
rng = np.random.default_rng(11)


def _mlp():
    x, d = sp.MatrixSymbol("x", 3, 1), sp.MatrixSymbol("d", 2, 1)
    W1, b1 = sp.MatrixSymbol("W1", 4, 3), sp.MatrixSymbol("b1", 4, 1)
    W2, b2 = sp.MatrixSymbol("W2", 2, 4), sp.MatrixSymbol("b2", 2, 1)
    Y = sg.softmax(W2 * sg.sigmoid(W1 * x + b1) + b2)
    div = -sg.sum(sp.HadamardProduct(d, sg.log(Y)))
    return sg.derive(div, [W1, b1, W2, b2], output_name="Div", given={sg.sum(d): 1})


def test_mlp_sigmoid_layer_reads_sigma_as_the_slide_and_the_picture():
    text = _mlp().render("unicode")
    assert "y⁽¹⁾ = σ(z⁽¹⁾)" in text.split("Backward pass")[0]
    assert "sigmoid(" not in text


def test_mlp_output_delta_is_y_minus_d_in_the_forward_pass_names():
    text = _mlp().render("unicode")
    grads = dict(line.strip().split(" = ", 1) for line in text.split("Gradient:")[1].strip().splitlines()
                 if line.strip().startswith("∂Div/∂"))
    assert grads["∂Div/∂b₂"] == "softmax(z⁽²⁾) − d", grads          # δ⁽²⁾ = y − d (11-785), named
    assert grads["∂Div/∂W₂"].endswith("(softmax(z⁽²⁾) − d)·y⁽¹⁾ᵀ"), grads
    # nowhere is z⁽²⁾ written out in the user's symbols once the forward pass has named it
    assert "W₂·σ(" not in text.split("Forward pass")[1].split("Backward pass")[1]


def _layer_norm(eps=1e-5):
    x, g, b, dout = (sg.tensor("x", (N, 4)), sg.tensor("gamma", (4,)), sg.tensor("beta", (4,)),
                     sg.tensor("dout", (N, 4)))
    xhat = (x - x.mean(axis=-1, keepdims=True)) / sp.sqrt(x.var(axis=-1, keepdims=True) + eps)
    at = {x: rng.normal(size=(3, 4)), g: rng.normal(size=4), b: rng.normal(size=4), dout: rng.normal(size=(3, 4))}
    return sg.derive(sg.sum((g * xhat + b) * dout), [x, g, b], output_name="L"), at, x


def test_layer_norm_forward_pass_defines_every_name_its_steps_use():
    d, at, x = _layer_norm()
    s = d.explain(at=at)
    defs = {str(sym): (str(e), v) for sym, e, v in s.definitions}
    assert "σ²" in str(s.find("x").text("unicode")) or "sigma" in str(s.find("x").text("text"))
    var = next(k for k in defs if k.startswith("sigma"))            # σ² = (u²).mean(axis=1, keepdims=True)
    assert defs[var][0].endswith(".mean(axis=1, keepdims=True)"), defs[var]
    np.testing.assert_allclose(np.ravel(defs[var][1]), at[x].var(axis=1), rtol=1e-10)
    plus = [k for k, (e, _) in defs.items() if e.replace(" ", "") in (f"{var}+1.0e-5", f"{var}+1e-5")]   # σ² + ε
    assert len(plus) == 1, defs
    mu = next(k for k in defs if k.startswith("mu"))
    assert defs[mu][0] == "x.mean(axis=1, keepdims=True)", defs[mu]      # (N, 1): x − μ broadcasts
    # the u's are numbered without gaps (the variance's insides take no number)
    us = sorted(int(k[1:]) for k in defs if re.fullmatch(r"u\d+", k))
    assert us == list(range(1, len(us) + 1)), us


def test_layer_norm_sums_over_features_take_gamma_per_feature():
    d, _, _ = _layer_norm()
    closed = d.render("unicode").split("Gradient:")[1].split("∂L/∂γ")[0]
    assert "doutᵢ·γᵢ" in closed, closed                      # ∂L/∂x̂ᵢ = doutᵢ·γᵢ: γ differs per feature
    assert not re.search(r"doutᵢ·γ(?!ᵢ)", closed), closed


def test_batch_norm_sums_over_examples_keep_gamma_shared():
    x, g, dout = sg.tensor("x", (N, 3)), sg.tensor("gamma", (3,)), sg.tensor("dout", (N, 3))
    xhat = (x - x.mean(axis=0)) / sp.sqrt(x.var(axis=0) + 1e-5)
    closed = sg.derive(sg.sum(g * xhat * dout), [x], output_name="L").render("unicode").split("Gradient:")[1]
    assert "doutₙ·γ" in closed and "γₙ" not in closed, closed      # γ is one vector for every example n


def test_layer_norm_page_writes_var_as_mean_and_compiles(tmp_path):
    d, at, _ = _layer_norm()
    tex = d.latex(document=True)
    assert r"\operatorname{var}_{\text{axis}=1} x" in tex and r"x.\operatorname{var}(" not in tex
    # the rule's ε = 1e−5 as LaTeX writes the number, 10^{-5} (was "1e$-$5" in the prose)
    notes = [ln for ln in tex.splitlines() if ln.startswith(r"\stepnote{")]
    assert any(r"$\epsilon$ = $10^{-5}$" in ln for ln in notes), notes
    assert not any("1e$-$5" in ln or "1e-5" in ln for ln in notes), notes
    (tmp_path / "ln.tex").write_text(tex)
    r = subprocess.run([need("pdflatex"), "-interaction=nonstopmode", "-halt-on-error", "ln.tex"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-1500:]


def test_mlp_picture_labels_agree_with_the_text():
    from picture_parse import edges
    src = _mlp().graph().source
    labels = {name: gv for name, _, gv, _ in edges(src)}
    assert labels["b₂"] == "∂Div/∂b₂ = softmax(z⁽²⁾) − d", labels
    assert labels["W₂"] == "∂Div/∂W₂ = δ⁽²⁾·y⁽¹⁾ᵀ", labels           # named, as the step's δ⁽²⁾·y⁽¹⁾ᵀ


def test_second_smallest_perceptron_keeps_y_hat_in_the_gradient():
    """001's world's (second) smallest perceptron: ŷ = w₁x₁ + w₂x₂, ∇w₁ = −(y − ŷ)·x₁."""
    from picture_parse import edges
    w1, w2, x1, x2, y, yh = sp.symbols("w_1 w_2 x_1 x_2 y yhat")
    L = (y - (w1 * x1 + w2 * x2)) ** 2 / 2
    at = {w1: 0.5, w2: -1.0, x1: 2.0, x2: 3.0, y: 1.0}
    d = sg.derive(L, [w1, w2], names={yh: w1 * x1 + w2 * x2}, output_name="L", at=at)
    grad = d.render("unicode").split("Gradient:")[1]
    y_hat = 0.5 * 2.0 - 1.0 * 3.0
    assert f"∂L/∂w₁ = x₁·(ŷ − y) = {-(1.0 - y_hat) * 2.0:g}".replace("-", "−") in grad, grad
    assert f"∂L/∂w₂ = x₂·(ŷ − y) = {-(1.0 - y_hat) * 3.0:g}".replace("-", "−") in grad, grad
    labels = {name: gv for name, _, gv, _ in edges(sg.derive(L, [w1, w2], names={yh: w1 * x1 + w2 * x2},
                                                              output_name="L").graph().source)}
    assert labels["w₁"] == "∂L/∂w₁ = x₁·(ŷ − y)" and "∂L/∂ŷ = ŷ − y" in labels.values(), labels


def test_two_layer_net_writes_the_labels_one_hot_in_every_gradient():
    """cs231n's two-layer net over a batch: dscores = (softmax(scores) − one_hot(y))/N in every line
    of the Gradient section, not one_hot(y, 3) in two lines and a u-name in the others."""
    X, W1, b1 = sg.tensor("X", (N, 4)), sg.tensor("W1", (4, 5)), sg.tensor("b1", (5,))
    W2, b2, y = sg.tensor("W2", (5, 3)), sg.tensor("b2", (3,)), sg.tensor("y", (N,), integer=True)
    L = sg.cross_entropy(sg.relu(X @ W1 + b1) @ W2 + b2, y)
    grads = sg.derive(L, [W1, b1, W2, b2], output_name="L").render("unicode").split("Gradient:")[1]
    # cs231n's dscores = (softmax − one_hot)/N in each, the common 1/N outside
    assert grads.count("(softmax(z⁽²⁾, axis=1) − one_hot(y, 3))/N") == 4, grads
    assert not re.search(r"u\S*/N", grads), grads
