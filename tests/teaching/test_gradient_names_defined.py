"""A name the user gives a node only the gradient has is defined in the forward pass: the lecture's
f = softmax(z) (δ = f − f*, while L itself is computed through log_softmax) reads
f = softmax(z) = [[0.09], [0.245], [0.665]] after u₁ = logsumexp(z), so the δ line's f is defined
before it is used (symgrad/teaching/steps.py `_gradient_names_defined`). Until 2026-11-30, ninth
session, f first appeared in δ. The value is softmax's, computed here with numpy."""
import numpy as np
import sympy as sp

import symgrad as sg

z, t, f = sp.MatrixSymbol("z", 3, 1), sp.MatrixSymbol("f^*", 3, 1), sp.MatrixSymbol("f", 3, 1)


def test_the_named_softmax_is_defined_before_delta_uses_it():
    at = {z: [1.0, 2.0, 3.0], t: [0.0, 0.0, 1.0]}
    d = sg.derive(sg.cross_entropy(z, t), [z], names={f: sg.softmax(z)}, given={sg.sum(t): 1},
                  output_name="L", at=at, number_format=".3g")
    text = d.render("unicode")
    forward = text.split("Forward pass:\n")[1].split("Backward")[0].splitlines()
    assert forward[:2] == ["  u₁ = logsumexp(z) = 3.41", "  f = softmax(z) = [[0.09], [0.245], [0.665]]"], forward
    assert text.index("  f = softmax(z)") < text.index("= f − f*")
    (sym, ex, value), = [x for x in d.steps.definitions if str(x[0]) == "f"]
    zv = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(np.asarray(value, float).reshape(-1), np.exp(zv) / np.exp(zv).sum(), rtol=1e-12)
    assert r"f &= \operatorname{softmax}\left(z\right)" in d.latex()


def test_without_a_point_the_line_has_no_value():
    d = sg.derive(sg.cross_entropy(z, t), [z], names={f: sg.softmax(z)}, given={sg.sum(t): 1}, output_name="L")
    assert "  f = softmax(z)\n" in d.render("unicode")
