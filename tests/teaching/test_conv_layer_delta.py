"""A convolution layer over a batch, conv → relu → max pool → affine → cross-entropy, reads as the slides
write its backward pass (2026-12-01, twelfth session): ∂L/∂w is the correlation of the input with
δ⁽¹⁾ and ∂L/∂b = δ⁽¹⁾.sum(axis=(0, 2, 3)) — not the same with ∂L/∂u₁ (the conv's output, whose
gradient is δ⁽¹⁾ itself by the sum rule) and (∂L/∂u₂).reshape(2) (the bias's reshape). The numbers
are torch.autograd's."""
import re

import numpy as np
import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")
F = torch.nn.functional

N = sp.Symbol("N", integer=True, positive=True)
x, w, b = sg.tensor("x", (N, 1, 4, 4)), sg.tensor("w", (2, 1, 3, 3)), sg.tensor("b", (2,))
W, c, y = sg.tensor("W", (8, 3)), sg.tensor("c", (3,)), sg.tensor("y", (N,), integer=True)
rng = np.random.default_rng(0)
AT = {x: rng.normal(size=(2, 1, 4, 4)).round(2), w: rng.normal(size=(2, 1, 3, 3)).round(2),
      b: np.array([0.1, -0.1]), W: rng.normal(size=(8, 3)).round(2), c: np.zeros(3), y: np.array([0, 2])}


def _derive(at=None):
    h = sg.max_pool2d(sg.relu(sg.conv2d(x, w, b, padding=1)), 2)
    loss = sg.cross_entropy(h.reshape(N, 8) @ W + c, y)
    return sg.derive(loss, [w, b, W, c], output_name="L", at=at).render("unicode")


def _line(text, head):
    return next(l.strip() for l in text.splitlines() if l.strip().startswith(head))


def test_the_kernel_and_bias_steps_name_delta():
    text = _derive()
    assert _line(text, "∂L/∂w =").endswith(
        "= conv2d(x.transpose(1, 0, 2, 3), δ⁽¹⁾.transpose(1, 0, 2, 3), padding=1).transpose(1, 0, 2, 3)"
        "    [convolution: ∇w is the correlation of the input with δ]"), text
    assert "∂L/∂b = ∂L/∂u₂ · ∂u₂/∂b = δ⁽¹⁾.sum(axis=(0, 2, 3))    [" in text, text
    grad = text.split("Gradient:")[1]
    assert "  ∂L/∂b = δ⁽¹⁾.sum(axis=(0, 2, 3))\n" in grad and "(∂L/∂u₂)" not in grad, grad
    assert "(∂L/∂u₁)" not in text, text


def test_the_bias_gradient_is_torchs():
    step = _line(_derive(AT), "∂L/∂b = ∂L/∂u₂")
    shown = [float(t.replace("−", "-")) for t in re.findall(r"−?\d+\.\d+(?:e[−+]?\d+)?|−?\d+", step.split(" = ")[-1].split("    [")[0])]
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in
         (("x", AT[x]), ("w", AT[w]), ("b", AT[b]), ("W", AT[W]), ("c", AT[c]))}
    p = F.max_pool2d(F.relu(F.conv2d(t["x"], t["w"], t["b"], padding=1)), 2)
    F.cross_entropy(p.reshape(2, 8) @ t["W"] + t["c"], torch.tensor(AT[y])).backward()
    np.testing.assert_allclose(shown, t["b"].grad.numpy(), rtol=1e-3, atol=1e-5)


def test_the_pictures_bias_edge_shows_every_channel():
    # b.reshape(2, 1, 1) is one number a plane: the edge drew its first plane, [0.1] of [0.1 −0.1]
    from picture_parse import edges
    h = sg.max_pool2d(sg.relu(sg.conv2d(x, w, b, padding=1)), 2)
    d = sg.derive(sg.cross_entropy(h.reshape(N, 8) @ W + c, y), [w, b, W, c], output_name="L")
    src = d.graph(at=AT).source
    (u2,) = [(fv, gv) for name, fv, gv, _ in edges(src) if name == "u₂"]
    assert "0.1" in u2[0] and "−0.1" in u2[0], u2
    assert "2×1×1" in src and "[0, :, :] of 2×1×1" not in src
