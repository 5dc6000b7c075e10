"""A long Gradient line wraps where a reader breaks it: never inside an axis tuple or a shape
(`transpose(1,` then `0, 2, 3)` on the next line), and before a top-level @ as before + and −."""
import re

import sympy as sp

import symgrad as sg
from symgrad.teaching.text_wrap import wrap_equation

N = sp.Symbol("N", integer=True, positive=True)


def test_an_axis_tuple_stays_on_one_line():
    seg = "conv2d(x.transpose(1, 0, 2, 3), (g ⊙ h).transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)"
    for width in range(30, 90, 7):
        lines = wrap_equation("  ∂f/∂w", [seg], width=width)
        for ln in lines:
            assert not re.search(r"\((\d+, )*\d+,\s*$", ln), (width, lines)      # "(1," at a line's end
            assert not re.match(r"\s*(\d+, )*\d+\)", ln), (width, lines)         # "0, 2, 3)" at a start
        assert "".join(ln.strip() for ln in lines).replace(" ", "").endswith(seg.replace(" ", "")), lines


def test_a_matrix_product_breaks_before_its_at_sign():
    seg = "aaaaaaaaaaaaaaaaaaaa.reshape(N, 16).T @ (bbbbbbbbbbbbbbbbbb − cccccccccccc)"
    lines = wrap_equation("  ∂f/∂V", [seg], width=50)
    assert lines[0].endswith(".reshape(N, 16).T") and lines[1].lstrip().startswith("@ ("), lines


def test_the_cnn_gradient_section_breaks_no_tuple():
    x, w, b = sg.tensor("x", (N, 1, 6, 6)), sg.tensor("w", (4, 1, 3, 3)), sg.tensor("b", (4,))
    V, y = sg.tensor("V", (16, 3)), sg.tensor("y", (N,), integer=True)
    p = sg.max_pool2d(sg.relu(sg.conv2d(x, w, b)), 2)
    text = sg.derive(sg.cross_entropy(p.reshape(N, -1) @ V, y), [w, b, V]).render("unicode")
    for ln in text.split("Gradient:")[1].splitlines():
        assert len(ln) <= 100 or "=" not in ln[:12], ln
        assert not re.search(r"\((\d+, )*\d+,\s*$", ln) and not re.search(r"\(N,\s*$", ln), ln
