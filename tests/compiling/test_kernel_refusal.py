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
    x, y = sg.tensor("x", (N, 1, 8, 8)), sg.tensor("y", (N,), integer=True)
    w, b, W2 = sg.tensor("w", (8, 1, 3, 3)), sg.tensor("b", (8,)), sg.tensor("W2", (8 * 36, 10))
    h = sg.as_tensor(sg.relu(sg.conv2d(x, w, b)))
    loss = sg.cross_entropy(h.reshape(N, -1) @ W2, y)
    with pytest.raises(sg.UnsupportedError) as e:
        sg.compile(loss, [w, b, W2], [x, y], target="triton")
    msg = str(e.value)
    assert "conv2d" in msg and "target='numpy'" in msg and "over the batch" in msg, msg
    assert not re.search(r"\bv\d+\b", msg) and "equation" not in msg and "reshape" not in msg, msg
