"""The Triton target's refusal of a whole-batch declaration names the user's construct — a CNN's
conv2d, not an IR equation "v2 = reshape[(8, 1, 1)](v1)" (a user trial: it named IR variables, which
the docs promise never to show, and the bias's reshape rather than the convolution)."""
from __future__ import annotations

import re

import pytest
import sympy as sp

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)


def test_triton_refusing_a_cnn_names_conv2d_and_target_numpy():
    # the first convolution (of the input image) compiles for Triton since the fourth session of
    # 2026-11-30 (tests/codegen/test_triton_conv.py); a second one, of a computed map, is refused
    x, y = sg.tensor("x", (N, 1, 8, 8)), sg.tensor("y", (N,), integer=True)
    w, b = sg.tensor("w", (4, 1, 3, 3)), sg.tensor("b", (4,))
    w2, b2, W3 = sg.tensor("w2", (8, 4, 3, 3)), sg.tensor("b2", (8,)), sg.tensor("W3", (8 * 16, 10))
    h = sg.as_tensor(sg.relu(sg.conv2d(x, w, b)))
    h2 = sg.as_tensor(sg.relu(sg.conv2d(h, w2, b2)))
    loss = sg.cross_entropy(h2.reshape(N, -1) @ W3, y)
    with pytest.raises(sg.UnsupportedError) as e:
        sg.compile(loss, [w, b, w2, b2, W3], [x, y], target="triton")
    msg = str(e.value)
    assert "conv2d" in msg and "target='numpy'" in msg, msg
    assert not re.search(r"\bv\d+\b", msg) and "equation" not in msg, msg
