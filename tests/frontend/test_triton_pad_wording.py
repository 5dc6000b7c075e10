"""The Triton target's refusals of sg.pad and sg.flip name what the declaration wrote, not the
gradient those operations are elsewhere (a pad was called "the gradient of a slice", a flip "the
gradient of conv2d")."""
from __future__ import annotations

import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import UnsupportedError

N = sp.Symbol("N", integer=True, positive=True)


def _refusal(loss, params, inputs):
    with pytest.raises(UnsupportedError) as e:
        sg.compile(loss, params, inputs, target="triton")
    return str(e.value)


def test_a_pad_is_called_padding():
    x, W = sg.tensor("x", (N, 4)), sg.tensor("W", (6, 3))
    text = _refusal(sg.mean(sg.pad(x, (1, 1)) @ W), [W], [x])
    assert "padding (sg.pad, F.pad)" in text and "gradient" not in text.split("(in")[0]


def test_a_flip_is_called_a_flip():
    x, W = sg.tensor("x", (N, 2, 4)), sg.tensor("W", (8, 3))
    text = _refusal(sg.mean(sg.flip(x, axis=2).reshape(N, 8) @ W), [W], [x])
    assert "a flip (sg.flip, or sg.pad with mode='reflect')" in text and "conv2d" not in text
