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
    # convolutions of the input image and of earlier maps compile for Triton since 2026-11-30
    # (tests/codegen/test_triton_conv.py, test_triton_conv2.py); a grouped one is refused
    x, y = sg.tensor("x", (N, 2, 8, 8)), sg.tensor("y", (N,), integer=True)
    w, b, W3 = sg.tensor("w", (4, 1, 3, 3)), sg.tensor("b", (4,)), sg.tensor("W3", (4 * 36, 10))
    h = sg.as_tensor(sg.relu(sg.conv2d(x, w, b, groups=2)))
    loss = sg.cross_entropy(h.reshape(N, -1) @ W3, y)
    with pytest.raises(sg.UnsupportedError) as e:
        sg.compile(loss, [w, b, W3], [x, y], target="triton")
    msg = str(e.value)
    assert "conv2d" in msg and "target='numpy'" in msg, msg
    assert not re.search(r"\bv\d+\b", msg) and "equation" not in msg, msg
