"""A lecturer's second trial (batch norm and a small CNN): the u's of the forward pass are numbered
u₁, u₂, ... without gaps and no view names a node it does not show; ε prints as the user wrote it
(their symbol, or 1e-5 — never 1/100000) in the text, the LaTeX and the picture; a max pool is one
step in the text as in the picture; long Gradient lines wrap between terms. Numbers are checked
against torch.autograd (float64) and symgrad's own sg.grad on the symbol-ε layer."""
import re

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from picture_parse import edges, node_names
from symgrad.teaching.text_wrap import TEXT_WIDTH
from teachtools import bn_mlp_example, small_cnn

N = sp.Symbol("N", integer=True, positive=True)
_SUB = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
_U = re.compile(r"u([₀₁₂₃₄₅₆₇₈₉]+)")


def batch_norm(eps):
    x, g, b, dout = sg.tensor("x", (N, 3)), sg.tensor("gamma", (3,)), sg.tensor("beta", (3,)), sg.tensor("dout", (N, 3))
    xhat = (x - x.mean(axis=0)) / sp.sqrt(x.var(axis=0) + eps)
    rng = np.random.default_rng(3)
    at = {x: rng.normal(size=(4, 3)) * 2 + 1, g: rng.normal(size=3), b: rng.normal(size=3),
          dout: rng.normal(size=(4, 3))}
    if isinstance(eps, sp.Symbol):
        at[eps] = 1e-5
    L = sg.sum((g * xhat + b) * dout)
    return sg.derive(L, [x, g, b], output_name="L"), at, L


def cnn():
    return small_cnn()


def _forward_us(text):
    fwd = text.split("Forward pass:")[1].split("\n", 1)[1].split("pass (")[0]
    return [int(m.group(1).translate(_SUB)) for m in re.finditer(r"^  u([₀₁₂₃₄₅₆₇₈₉]+) = ", fwd, re.M)]


def layer_norm():
    # with a number of features, the variance's ÷4 and ε fuse into one node: shown as lowered
    x, g, b = sg.tensor("x", (N, 4)), sg.tensor("g", (4,)), sg.tensor("b", (4,))
    xhat = (x - x.mean(axis=-1, keepdims=True)) / sp.sqrt(x.var(axis=-1, keepdims=True) + sp.Float(1e-5))
    return sg.derive(sg.sum(g * xhat + b), [x, g, b])


def bn_mlp():
    # two batch-norm layers and a cross-entropy averaged over the batch (a mean of every entry)
    loss, params = bn_mlp_example()
    return sg.derive(loss, params)


_CASES = {"batch_norm": lambda: batch_norm(sp.Rational(1, 10**5))[0], "cnn": lambda: cnn()[0],
          "layer_norm": layer_norm, "bn_mlp": bn_mlp}


@pytest.mark.parametrize("case", list(_CASES))
def test_the_us_are_consecutive_and_every_u_named_is_defined(case):
    d = _CASES[case]()
    text = d.render("unicode")
    us = _forward_us(text)
    assert us == list(range(1, len(us) + 1)), us                       # u₁, u₂, ... in order, no gap
    named = {int(m.group(1).translate(_SUB)) for m in _U.finditer(text)}
    assert named <= set(us), sorted(named - set(us))                   # no name of a node not shown
    pic = {int(m.group(1).translate(_SUB)) for _, fv, gv, _ in edges(d.graph().source)
           for label in (fv, gv) if label for m in _U.finditer(label)}
    assert pic <= set(us), sorted(pic - set(us))                       # the picture uses the same names


@pytest.mark.parametrize("eps", [sp.Rational(1, 10**5), sp.Float(1e-5)])
def test_a_number_epsilon_prints_as_code_writes_it(eps):
    d, at, _ = batch_norm(eps)
    uni, ascii_, tex = d.render("unicode"), d.render("text"), d.latex()
    src = d.graph(at=at).source
    for view in (uni, ascii_, tex, src):
        assert "100000" not in view and "1.0e" not in view and "e-05" not in view and "e−05" not in view
    assert "1e−5" in uni and "ε = 1e−5" in uni and "1e-5" in ascii_ and "10^{-5}" in tex
    assert "+1e−5" in node_names(src).values()


def test_a_declared_epsilon_is_printed_by_its_name_and_its_value_used():
    eps = sp.Symbol("epsilon", positive=True)
    d, at, L = batch_norm(eps)
    text = d.render("unicode")
    assert "−Σₙ ∂L/∂x̂ₙ/√(σ² + ε)" in text and "1e−5" not in text and "100000" not in text
    assert r"\epsilon" in d.latex() and "ε" in node_names(d.graph().source).values()   # a value box of its own
    # the statistics' numbers take ε's value from at: equal to sg.grad's
    (_, _, got), *_ = d.explain(at=at).gradients
    x = next(k for k in at if getattr(k, "name", "") == "x")
    want = sg.numeric(sg.grad(L, x), {getattr(k, "name", str(k)): v for k, v in at.items()})
    np.testing.assert_allclose(np.asarray(got, float), np.asarray(want, float), rtol=1e-9, atol=1e-12)


def test_max_pool_is_one_step_in_the_text():
    d, at = cnn()
    text = d.explain(at=at).render("unicode")
    for lowering in ("windows(", "fold(", "one_hot", "argmax", ".max(axis"):
        assert lowering not in text, lowering
    fwd = text.split("Forward pass:")[1].split("pass (")[0]
    assert len(re.findall(r"= max_pool2d\(y, 2\)", fwd)) == 1
    back = [l for l in text.splitlines() if l.strip().startswith("∂f/∂y =")]
    assert len(back) == 1 and "max_pool2d_backward(" in back[0] and "pooling switch" in back[0]
    tex = d.latex()
    assert r"\operatorname{max\_pool2d\_backward}" in tex and r"\operatorname{max\_pool2d}" in tex
    assert "MaxPool" not in tex and "Reshape(" not in tex          # SymPy's class names, never shown


def test_max_pool_step_numbers_equal_torch():
    torch = pytest.importorskip("torch")
    d, at = cnn()
    s = d.explain(at=at)
    vals = {getattr(k, "name", str(k)): torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in at.items()}
    y = torch.relu(torch.nn.functional.conv2d(vals["x"], vals["w"], vals["b"]))
    y.retain_grad()
    f = ((torch.nn.functional.max_pool2d(y, 2) - vals["t"]) ** 2).sum() / 2
    f.backward()
    step = next(t for t in s.steps if str(t.node) == "y")
    np.testing.assert_allclose(np.asarray(step.value, float).reshape(1, 2, 4, 4), y.grad.numpy(), rtol=1e-10)
    grads = {str(w): v for w, _, v in s.gradients}
    np.testing.assert_allclose(np.asarray(grads["b"], float), vals["b"].grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(np.asarray(grads["w"], float), vals["w"].grad.numpy(), rtol=1e-10)


def test_long_gradient_lines_wrap_between_terms():
    d, at, _ = batch_norm(sp.Rational(1, 10**5))
    for text in (d.render("unicode"), d.explain(at=at).render("unicode"), d.render("text")):
        grad = text.split("Gradient:\n")[1].splitlines()
        assert len(grad) > 3                                           # ∂L/∂x's closed form wrapped
        for prev, line in zip(grad, grad[1:]):
            assert len(line) <= TEXT_WIDTH or " " not in line.strip(), line
            if not re.match(r"  ∂|  d", line):                         # a continuation: at a term, never mid-token
                rest = line.lstrip()
                assert rest[:2] in ("= ", "+ ", "− ", "- ", "⊙ ", "· ", "* ") or prev.endswith(","), (prev, line)


# ---------------------------------------------------------------------------------------------------
# A gradient that is a forward value itself (L = ½Σy², so ∂L/∂y = y: one value of the IR) used to
# name the forward value too: δ = (𝟙 − ∂L/∂y) ⊙ ∂L/∂y∘², σ′ of a gradient.

def _sigmoid_square_matrix():
    W, b, x = sp.MatrixSymbol("W", 3, 2), sp.MatrixSymbol("b", 3, 1), sp.MatrixSymbol("x", 2, 1)
    return sg.derive(sg.sum(sp.HadamardPower(sg.sigmoid(W * x + b), 2)) / 2, [W, b])


def _sigmoid_square_tensor():
    x, W1, W2 = sg.tensor("x", (N, 2)), sg.tensor("W1", (2, 3)), sg.tensor("W2", (3, 2))
    return sg.derive(sg.sum(sg.sigmoid(sg.relu(x @ W1) @ W2) ** 2) / 2, [W1, W2])


@pytest.mark.parametrize("build", [_sigmoid_square_matrix, _sigmoid_square_tensor])
def test_a_forward_value_is_never_called_by_a_gradient_name(build):
    d = build()
    text = d.render("unicode")
    labels = [gv for _, _, gv, _ in edges(d.graph().source) if gv]
    for view in [text] + labels:
        # σ′(z) = y ⊙ (𝟙 − y) is written with the forward value y, never with ∂L/∂y or a δ
        assert not re.search(r"(1|𝟙) − (∂|δ)", view), view
        assert not re.search(r"∂\w/∂y(⁽[⁰¹²³⁴⁵⁶⁷⁸⁹]+⁾)?(∘²|²)", view), view
    delta = next(l for l in text.splitlines() if re.match(r"\s*δ\S* = ∂", l))
    assert re.search(r"(𝟙|1) − y(⁽²⁾)?\)", delta.split("[")[0]), delta     # σ′ written with y itself


def test_a_one_hot_target_leaves_no_unit_factor():
    net = sg.mlp([3, 4, 2])
    t = sp.MatrixSymbol("t", 2, 1)
    text = sg.derive(sg.cross_entropy(net.output, t), net.params, given={sg.sum(t): 1}).render("unicode")
    grad = text.split("Gradient:")[1]
    assert "1·" not in grad and "softmax(z⁽²⁾) − t" in grad


_POOLS = {   # (symgrad's layer, torch's, the name the text writes)
    "max 2": (lambda a: sg.max_pool2d(a, 2), lambda F, a: F.max_pool2d(a, 2), "max_pool2d"),
    "max 3 s1 p1": (lambda a: sg.max_pool2d(a, 3, stride=1, padding=1),
                    lambda F, a: F.max_pool2d(a, 3, stride=1, padding=1), "max_pool2d"),
    "avg 2": (lambda a: sg.avg_pool2d(a, 2), lambda F, a: F.avg_pool2d(a, 2), "avg_pool2d"),
    "avg 2 s1": (lambda a: sg.avg_pool2d(a, 2, stride=1), lambda F, a: F.avg_pool2d(a, 2, stride=1), "avg_pool2d"),
}


@pytest.mark.parametrize("pool", list(_POOLS))
def test_every_pool_is_one_step_with_torchs_numbers(pool):
    # a padded max pool's windows hold −∞ inside the pool: its steps at a point are still finite
    torch = pytest.importorskip("torch")
    ours, theirs, name = _POOLS[pool]
    x = sg.tensor("x", (1, 2, 6, 6))
    xv = np.random.default_rng(0).normal(size=(1, 2, 6, 6))
    s = sg.derive(sg.sum(ours(sg.tanh(x)) ** 2), [x]).explain(at={x: xv})
    text = s.render("unicode")
    for lowering in ("windows(", "fold(", "one_hot", "argmax", "broadcast_to"):
        assert lowering not in text, (lowering, text)
    assert f"{name}_backward(" in text
    xt = torch.tensor(xv, requires_grad=True)
    (theirs(torch.nn.functional, torch.tanh(xt)) ** 2).sum().backward()
    np.testing.assert_allclose(np.asarray(s.gradients[0][2], float), xt.grad.numpy(), rtol=1e-10, atol=1e-14)
