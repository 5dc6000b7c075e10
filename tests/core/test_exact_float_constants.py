"""Float constants of an elementwise body are evaluated as the doubles they are (2026-11-30, ninth
session): SymPy's lambdify printed them with 15 significant digits, so HF's additive attention mask
``(1.0 - mask) * torch.finfo(torch.float64).min`` read the constant as −1.79769313486232e+308 — past
the largest double, −inf — and the attention was NaN; 1/3 lost its last digits."""
from __future__ import annotations

import numpy as np
import sympy as sp

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)
MIN = float(np.finfo(np.float64).min)          # torch.finfo(torch.float64).min, the same double


def test_hf_extended_attention_mask_with_the_smallest_double():
    m, s = sg.tensor("m", (N, 4)), sg.tensor("s", (N, 4, 4))
    att = sg.softmax(s + (1.0 - m[:, None, :]) * MIN, axis=-1)
    vals = {"m": np.array([[1.0, 1.0, 0.0, 0.0]]), "s": np.arange(16.0).reshape(1, 4, 4)}
    got = sg.numeric(sg.sum(att * s), vals)
    e = np.exp(vals["s"][0][:, :2] - vals["s"][0][:, :2].max(axis=1, keepdims=True))
    want = ((e / e.sum(axis=1, keepdims=True)) * vals["s"][0][:, :2]).sum()
    assert np.isfinite(got) and abs(got - want) < 1e-12


def test_a_float_constant_keeps_its_last_digits():
    x = sp.Symbol("x", real=True)
    third = sp.Float(1 / 3)
    assert sg.numeric(third * x, {x: 3.0}) == (1 / 3) * 3.0
    assert sg.numeric(sp.Float(0.1 + 0.2) * x, {x: 1.0}) == 0.30000000000000004     # 15 digits: 0.3
