"""The MatrixSymbol cross-entropies the first fold drew as they lower: a scaled one
(2·sg.cross_entropy(z, t), whose −1 and 2 lower into one ×(−2)) and one of a scalar class label k
(logsumexp(z) − z[k]) are one node and one δ step, as the slides write them; the step's note says
what its δ line says (symgrad/teaching/cross_entropy_column.py). Numbers: torch.autograd's."""
import json
import subprocess

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from picture_parse import edges, node_names

torch = pytest.importorskip("torch")
LOWERED = ("logsumexp", "gather", "⊙", "Σ", "① − ②", "×", "log_softmax", "sum")


def _grid(s):
    return np.array(json.loads(s.replace("−", "-")), dtype=float)


def _values(net, extra):
    rng = np.random.default_rng(3)
    W1, b1, W2, b2, x = (rng.normal(size=s) for s in ((5, 4), (5, 1), (3, 5), (3, 1), (4, 1)))
    at = dict(zip(net.params, (W1, b1, W2, b2)))
    at[net.input] = x
    at.update(extra)
    return at, (W1, b1, W2, b2, x)


def _torch_grads(arrays, loss_of_z):
    W1, b1, W2, b2, x = (torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays)
    z = W2 @ torch.relu(W1 @ x + b1) + b2
    z.retain_grad()
    loss = loss_of_z(z)
    loss.backward()
    return loss.item(), z.grad.numpy(), [p.grad.numpy() for p in (W1, b1, W2, b2)]


def _check_picture(src, label, loss, zgrad, pgrads, target):
    names = node_names(src)
    ops = sorted(names.values())
    assert ops.count(label) == 1 and not any(n.startswith(LOWERED) for n in ops), ops
    ce = next(k for k, n in names.items() if n == label)
    into = {s: gv for s, fv, gv, dst in edges(src) if dst == ce}
    assert set(into) == {target, "z⁽²⁾"}, into
    assert into[target] is None
    np.testing.assert_allclose(_grid(into["z⁽²⁾"]).reshape(3, 1), zgrad, rtol=1e-6, atol=1e-8)
    for shown, g in zip(("W₁", "b₁", "W₂", "b₂"), pgrads):
        ((gv,),) = [(gv,) for s, fv, gv, dst in edges(src) if s == shown]
        np.testing.assert_allclose(_grid(gv).reshape(g.shape), g, rtol=1e-6, atol=1e-8)
    ((fv, gv),) = [(fv, gv) for s, fv, gv, dst in edges(src) if s == label]
    assert abs(float(fv.replace("−", "-")) - loss) < 1e-6 and gv == "1", (fv, gv)


def _latex_compiles(tex, tmp_path):
    from symgrad.teaching.render import latex_document
    from teachtools import need
    (tmp_path / "ce.tex").write_text(latex_document(tex))
    r = subprocess.run([need("pdflatex"), "-interaction=nonstopmode", "-halt-on-error", "ce.tex"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-2000:]


@pytest.mark.parametrize("c, shown", [(2, "2"), (sp.Rational(1, 2), "(1/2)"), (0.5, "0.5")])
def test_scaled_cross_entropy_is_one_step_then_its_scale(c, shown):
    net, t = sg.mlp([4, 5, 3]), sp.MatrixSymbol("t", 3, 1)
    d = sg.derive(c * sg.cross_entropy(net.output, t), net.params, output_name="L")
    lines = d.render("unicode", given={sg.sum(t): 1}).splitlines()
    assert f"  L = {shown.strip('()')}·cross_entropy(z⁽²⁾, t)" in lines or \
        (shown == "(1/2)" and "  L = cross_entropy(z⁽²⁾, t)/2" in lines), lines[:8]
    assert not any("u₁" in ln or "logsumexp" in ln for ln in lines[1:8]), lines[:8]
    (delta,) = [ln for ln in lines if ln.startswith("  δ⁽²⁾")]
    assert delta.startswith(f"  δ⁽²⁾ = ∂L/∂z⁽²⁾ = ∂L/∂L · ∂L/∂z⁽²⁾ = {shown}·(softmax(z⁽²⁾) − t)    ["), delta
    assert "softmax(z) − t" in delta and f"scale {shown.strip('()')}]" in delta, delta


def test_scaled_picture_has_torchs_numbers(tmp_path):
    net, t = sg.mlp([4, 5, 3]), sp.MatrixSymbol("t", 3, 1)
    d = sg.derive(2 * sg.cross_entropy(net.output, t), net.params, output_name="L")
    tv = np.random.default_rng(5).dirichlet(np.ones(3)).reshape(3, 1)
    at, arrays = _values(net, {t: tv})
    src = d.graph(at=at, given={sg.sum(t): 1}, number_format=".8g").source
    loss, zg, pg = _torch_grads(arrays, lambda z: -2 * (torch.tensor(tv) * torch.log_softmax(z, dim=0)).sum())
    _check_picture(src, "2·cross-entropy", loss, zg, pg, "t")
    plain = d.graph(given={sg.sum(t): 1}).source          # without numbers: the slide's δ on z's edge
    assert "2·(softmax(z⁽²⁾) − t)" in plain, plain
    tex = d.latex(given={sg.sum(t): 1})
    assert r"2 \operatorname{cross\_entropy}\left({z^{(2)}},\ t\right)" in tex, tex[:800]
    assert "logsumexp" not in tex
    _latex_compiles(tex, tmp_path)


def test_class_label_is_one_step_softmax_minus_one_hot(tmp_path):
    net, k = sg.mlp([4, 5, 3]), sp.Symbol("k", integer=True)
    d = sg.derive(sg.cross_entropy(net.output, k), net.params, output_name="L")
    lines = d.render("unicode").splitlines()
    assert "  L = cross_entropy(z⁽²⁾, k)" in lines, lines[:8]
    assert not any(w in ln for ln in lines[1:8] for w in ("u₁", "logsumexp", "[k]")), lines[:8]
    (delta,) = [ln for ln in lines if ln.startswith("  δ⁽²⁾")]
    assert delta.startswith("  δ⁽²⁾ = ∂L/∂z⁽²⁾ = ∂L/∂L · ∂L/∂z⁽²⁾ = softmax(z⁽²⁾) − one_hot(k)    [softmax "
                            "cross-entropy: δ is softmax(z) − one_hot(k)"), delta
    assert "KroneckerDelta" not in "\n".join(lines)
    tex = d.latex()
    assert r"\operatorname{softmax}\left({z^{(2)}}\right) - \operatorname{one\_hot}\left(k\right)" in tex, tex
    _latex_compiles(tex, tmp_path)
    at, arrays = _values(net, {k: 2})
    src = d.graph(at=at, number_format=".8g").source
    loss, zg, pg = _torch_grads(arrays, lambda z: torch.nn.functional.cross_entropy(z.T, torch.tensor([2])))
    _check_picture(src, "cross-entropy", loss, zg, pg, "k")
    assert "softmax(z⁽²⁾) − one_hot(k)" in d.graph().source


def test_note_says_what_delta_says_without_the_given():
    net, t = sg.mlp([4, 5, 3]), sp.MatrixSymbol("t", 3, 1)
    d = sg.derive(sg.cross_entropy(net.output, t), net.params, output_name="L")
    (plain,) = [ln for ln in d.render("unicode").splitlines() if ln.startswith("  δ⁽²⁾")]
    rhs, note = plain.split("    [")
    assert rhs.endswith("= sum(t)·softmax(z⁽²⁾) − t"), plain
    assert "softmax(z)·Σt − t" in note and "one-hot" not in note, note
    (given,) = [ln for ln in d.render("unicode", given={sg.sum(t): 1}).splitlines() if ln.startswith("  δ⁽²⁾")]
    assert given.endswith("= softmax(z⁽²⁾) − t    [softmax cross-entropy: δ is softmax(z) − t, its target t "
                          "summing to 1 (given)]"), given


def test_scaled_label_and_negated_target_are_one_node():
    net, k, t = sg.mlp([4, 5, 3]), sp.Symbol("k", integer=True), sp.MatrixSymbol("t", 3, 1)
    d = sg.derive(2 * sg.cross_entropy(net.output, k), net.params, output_name="L")
    (delta,) = [ln for ln in d.render("unicode").splitlines() if ln.startswith("  δ⁽²⁾")]
    assert " = 2·(softmax(z⁽²⁾) − one_hot(k))    [" in delta, delta
    at, arrays = _values(net, {k: 0})
    loss, zg, pg = _torch_grads(arrays, lambda z: 2 * torch.nn.functional.cross_entropy(z.T, torch.tensor([0])))
    _check_picture(d.graph(at=at, number_format=".8g").source, "2·cross-entropy", loss, zg, pg, "k")
    d = sg.derive(-sg.cross_entropy(net.output, t), net.params, output_name="L")
    assert "  L = −cross_entropy(z⁽²⁾, t)" in d.render("unicode").splitlines()
    assert "−cross-entropy" in node_names(d.graph().source).values()
