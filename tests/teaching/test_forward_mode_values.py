"""Forward accumulation with a point (fourth-session trial): the forward pass and the Gradient
section printed no numbers in mode="forward" (u₁ = x + y, ∂f/∂x = z), while reverse mode printed
u₁ = x + y = 3 and ∂f/∂x = z = −4. The numbers are the slide's circuit: f(−2, 5, −4) = −12, ∇f = (−4, −4, 3)."""
import re

import sympy as sp

import symgrad as sg

x, y, z, w = sp.symbols("x y z w")
AT = {x: -2, y: 5, z: -4}


def _section(text, head):
    return text.split(head, 1)[1]


def test_forward_mode_prints_the_values():
    text = sg.derive((x + y) * z, [x, y, z], mode="forward", at=AT).render("unicode")
    forward = text.split("Forward pass:", 1)[1].split("Forward accumulation", 1)[0]
    assert "= x + y = 3" in forward and "·z = −12" in forward
    gradient = _section(text, "Gradient:")
    for line in ("∂f/∂x = z = −4", "∂f/∂y = z = −4", "∂f/∂z = x + y = 3"):
        assert line in gradient, gradient


def test_forward_mode_gradient_of_an_unused_variable_is_zero():
    text = sg.derive((x + y) * z, [x, w], mode="forward", at={**AT, w: 2}).render("text")
    gradient = _section(text, "Gradient:")
    assert "df/dx = z = -4" in gradient and "df/dw = 0" in gradient, gradient


def test_forward_mode_without_a_point_prints_no_numbers():
    text = sg.derive((x + y) * z, [x, y, z], mode="forward").render("unicode")
    assert "−12" not in text and "= −4" not in text


def test_forward_picture_writes_zero_tangents():
    # y and z are not seeded: their tangents are 0 (the edges had no tangent at all)
    from symgrad.teaching.graph_picture import PURPLE
    d = sg.derive((x + y) * z, [x, y, z])
    with_numbers = d.graph(mode="forward", seed={x: 1}, at=AT).source
    tangents = [t for t in re.findall(f'<font color="{PURPLE}">([^<]*)</font>', with_numbers) if "tangent" not in t]
    assert sorted(tangents) == sorted(["1", "0", "1", "0", "−4"]), tangents     # x, y, x + y, z, f
    symbolic = d.graph(mode="forward", seed={x: 1}).source
    assert "∂y/∂x = 0" in symbolic and "∂z/∂x = 0" in symbolic and "∂f/∂x = z" in symbolic
