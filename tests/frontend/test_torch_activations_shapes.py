"""More of what torch models use, each a composition of symgrad's operations, against torch.autograd
in float64 and central differences: hardswish, hardsigmoid, relu6, mish, logsigmoid, softplus(beta=), glu; group and
instance norm; scaled_dot_product_attention; repeat, repeat_interleave, roll, pixel_shuffle, unfold;
max pooling with ceil_mode=True and average pooling with count_include_pad=False; the 1-D pools'
gradients; torch's tensor methods (exp, log, abs, sqrt, rsqrt, square, amax, amin, clamp_min/max)."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import ArgumentError
from tests.frontend.torch_port import compare_with_torch

torch = pytest.importorskip("torch")
F = torch.nn.functional
N = sp.Symbol("N", integer=True, positive=True)
B = 3

# name -> (symgrad's f of h, torch's f of h, x's shape, the scale w's shape); the loss Σ f(x·w)² · c
ELEMENTWISE = {
    "hardswish": (sg.hardswish, F.hardswish, (N, 2, 3, 4), (2, 1, 1)),
    "relu6": (sg.relu6, F.relu6, (N, 2, 3, 4), (2, 1, 1)),
    "mish": (sg.mish, F.mish, (N, 2, 3, 4), (2, 1, 1)),
    "logsigmoid": (lambda h: sg.logsigmoid(h * 20), lambda h: F.logsigmoid(h * 20), (N, 5), (5,)),
    "softplus_beta": (lambda h: sg.softplus(h, beta=2), lambda h: F.softplus(h, beta=2), (N, 5), (5,)),
    "glu": (lambda h: sg.glu(h, axis=1), lambda h: F.glu(h, dim=1), (N, 4, 3), (4, 1)),
    "group_norm": (lambda h: sg.group_norm(h, 2), lambda h: F.group_norm(h, 2), (N, 4, 3, 2), (4, 1, 1)),
    "instance_norm": (sg.instance_norm, F.instance_norm, (N, 2, 3, 4), (2, 1, 1)),
    "repeat": (lambda h: h.repeat(2, 1, 3), lambda h: h.repeat(2, 1, 3), (N, 2, 3), (2, 1)),
    "repeat_leading": (lambda h: sg.repeat(h.sum(axis=0), 2, 2), lambda h: h.sum(0).repeat(2, 2), (N, 3), (3,)),
    "repeat_interleave": (lambda h: h.repeat_interleave(3, dim=1), lambda h: h.repeat_interleave(3, dim=1),
                          (N, 2, 3), (2, 1)),
    "roll": (lambda h: h.roll((1, -2), (1, 2)), lambda h: h.roll((1, -2), (1, 2)), (N, 3, 4), (3, 1)),
    "pixel_shuffle": (lambda h: sg.pixel_shuffle(h, 2), lambda h: F.pixel_shuffle(h, 2), (N, 8, 2, 3), (8, 1, 1)),
    "unfold": (lambda h: sg.unfold(h, (2, 3), padding=1, stride=(2, 1)),
               lambda h: F.unfold(h, (2, 3), padding=1, stride=(2, 1)), (N, 2, 4, 5), (2, 1, 1)),
    "max_pool2d_ceil_mode": (lambda h: sg.max_pool2d(h, 3, stride=2, padding=1, ceil_mode=True),
                             lambda h: F.max_pool2d(h, 3, stride=2, padding=1, ceil_mode=True), (N, 2, 6, 5), (2, 1, 1)),
    "max_pool1d_ceil_mode": (lambda h: sg.max_pool1d(h, 2, ceil_mode=True),
                             lambda h: F.max_pool1d(h, 2, ceil_mode=True), (N, 2, 5), (2, 1)),
    "avg_pool2d_count_include_pad_false": (
        lambda h: sg.avg_pool2d(h, 3, stride=2, padding=1, count_include_pad=False),
        lambda h: F.avg_pool2d(h, 3, stride=2, padding=1, count_include_pad=False), (N, 2, 5, 6), (2, 1, 1)),
    "avg_pool1d": (lambda h: sg.avg_pool1d(h, 3, stride=2, padding=1), lambda h: F.avg_pool1d(h, 3, stride=2, padding=1),
                   (N, 2, 6), (2, 1)),
    "methods": (lambda h: h.exp() + (h.abs() + 1).sqrt().log() + (h.square() + 1).rsqrt() + h.clamp_min(0.1)
                + h.clamp_max(-0.2) + h.amax(dim=1, keepdim=True) + h.amin(1, True),
                lambda h: h.exp() + (h.abs() + 1).sqrt().log() + (h.square() + 1).rsqrt() + h.clamp_min(0.1)
                + h.clamp_max(-0.2) + h.amax(dim=1, keepdim=True) + h.amin(1, True), (N, 4), (4,)),
}


def _elementwise_case(name, rng):
    f_sg, f_torch, shape, wshape = ELEMENTWISE[name]
    x, w = sg.tensor("x", shape), sg.tensor("w", wshape)
    out = f_sg(x * w)
    c = sg.tensor("c", tuple(out.shape[1:]))
    data = {"x": rng.normal(size=(B,) + shape[1:]), "c": rng.normal(size=tuple(out.shape[1:]))}
    return (sg.sum(out ** 2 * c), [w], [x, c], {"w": rng.normal(size=wshape)}, data,
            lambda t, d: (f_torch(d["x"] * t["w"]) ** 2 * d["c"]).sum())


@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_equals_torch_autograd_and_finite_differences(name):
    rng = np.random.default_rng(sum(map(ord, name)))
    compare_with_torch(torch, _elementwise_case(name, rng), rng)


def test_hardsigmoid_against_finite_differences_and_torch_to_its_float32_constant():
    # torch's hardsigmoid backward multiplies by 1/6 rounded to float32 (1.0f / 6.0f) even in float64:
    # its gradient is off by ~1e-8 relative, so torch is checked to 1e-7 and the differences to 1e-9
    rng = np.random.default_rng(6)
    x, w = sg.tensor("x", (N, 5)), sg.tensor("w", (5,))
    built = (sg.sum(sg.hardsigmoid(x * w) ** 2), [w], [x], {"w": rng.normal(size=5)},
             {"x": rng.normal(size=(B, 5)) * 3}, lambda t, d: (F.hardsigmoid(d["x"] * t["w"]) ** 2).sum())
    compare_with_torch(torch, built, rng, rtol=1e-7)
    prog = sg.compile(built[0], [w], [x], dtype="float64")
    v, d = built[3], built[4]
    h = d["x"] * v["w"]
    inside = (h > -3) & (h < 3)
    want = (2 * np.clip(h / 6 + 0.5, 0, 1) * inside / 6 * d["x"]).sum(axis=0)      # by hand
    np.testing.assert_allclose(prog.grad(v, d)["w"], want, rtol=1e-12)


@pytest.mark.parametrize("mask", ["causal", "bool", "float"])
def test_scaled_dot_product_attention(mask):
    rng = np.random.default_rng(7)
    q, Wq, Wk = sg.tensor("q", (N, 2, 3, 4)), sg.tensor("Wq", (4, 4)), sg.tensor("Wk", (4, 4))
    m = sg.tensor("m", (N, 1, 3, 3))
    h, k = q @ Wq, q @ Wk
    causal = mask == "causal"
    out = sg.scaled_dot_product_attention(h, k, h, is_causal=True) if causal else \
        sg.scaled_dot_product_attention(h, k, h, attn_mask=m > 0 if mask == "bool" else m, scale=0.3)
    values = rng.integers(0, 2, (B, 1, 3, 3)).astype(float)
    values[..., 0] = 1                                      # every query attends somewhere
    if mask == "float":
        values = rng.normal(size=(B, 1, 3, 3))              # an additive bias (ALiBi-like)
    built = (sg.sum(out ** 2), [Wq, Wk], [q, m], {"Wq": rng.normal(size=(4, 4)), "Wk": rng.normal(size=(4, 4))},
             {"q": rng.normal(size=(B, 2, 3, 4)), "m": values},
             lambda t, d: (F.scaled_dot_product_attention(
                 d["q"] @ t["Wq"], d["q"] @ t["Wk"], d["q"] @ t["Wq"], is_causal=True) if causal else
                 F.scaled_dot_product_attention(d["q"] @ t["Wq"], d["q"] @ t["Wk"], d["q"] @ t["Wq"],
                                                attn_mask=d["m"] > 0 if mask == "bool" else d["m"],
                                                scale=0.3)).pow(2).sum())
    compare_with_torch(torch, built, rng)


@pytest.mark.parametrize("call, words", [
    (lambda: sg.tensor("x", (3, 4)).var(dim=1), ["correction=1", "var(axis=1, correction=1)", "biased"]),
    (lambda: sg.std(sg.tensor("x", (3, 4)), dim=0), ["correction=1", "std(axis=0, correction=1)"]),
    (lambda: sg.scaled_dot_product_attention(*(sg.tensor("q", (2, 3, 4)),) * 3, dropout_p=0.1), ["dropout_p", "sg.dropout"]),
    (lambda: sg.glu(sg.tensor("x", (2, 3))), ["even"]),
    (lambda: sg.group_norm(sg.tensor("x", (2, 6, 3)), 4), ["dividing the 6 channels"]),
    (lambda: sg.avg_pool2d(sg.tensor("x", (2, 1, 5, 5)), 2, ceil_mode=True), ["ceil_mode=True"]),
    (lambda: sg.tensor("x", (2, 3)).repeat(2), ["at least one per axis"]),
    (lambda: sg.softplus(sg.tensor("x", (2, 3)), threshold=5), ["threshold=5", "2e-9"]),
    (lambda: sg.softplus(sg.tensor("x", (2, 3)), beta=-1), ["beta must be a positive number"]),
])
def test_refused_naming_what_to_write(call, words):
    with pytest.raises((ArgumentError, Exception)) as e:
        call()
    for w in words:
        assert w in str(e.value), (w, str(e.value))
