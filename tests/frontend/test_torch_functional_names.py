"""torch.nn.functional's names for symgrad's operations (symgrad/frontend/torch_functional.py,
2026-11-30, ninth session; each was an AttributeError, so ``F = sg`` could not run a model written
against F): each compared with torch's own function by torch.autograd in float64 — the value, the
gradient, central differences — through a compiled program."""
from __future__ import annotations


import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from tests.frontend.torch_port import compare_case, compare_with_torch

torch = pytest.importorskip("torch")
F = torch.nn.functional
N = sp.Symbol("N", integer=True, positive=True)
B = 4


def _pair_loss(name, **kw):
    """A loss of (x @ W, t) under torch's name, the same call in both libraries."""
    def build(rng):
        x, t, W = sg.tensor("x", (N, 3)), sg.tensor("t", (N, 5)), sg.tensor("W", (3, 5))
        loss = getattr(sg, name)(x @ W, t, **kw)
        tv = rng.normal(size=(B, 5))
        if name in ("soft_margin_loss", "hinge_embedding_loss"):
            tv = np.sign(tv)
        if name == "multilabel_soft_margin_loss":
            tv = (tv > 0).astype(float)
        return (loss, [W], [x, t], {"W": rng.normal(size=(3, 5))}, {"x": rng.normal(size=(B, 3)), "t": tv},
                lambda T_, d: getattr(F, name)(d["x"] @ T_["W"], d["t"], **kw))
    return build


def _activation(name, *args, **kw):
    def build(rng):
        x, W = sg.tensor("x", (N, 3)), sg.tensor("W", (3, 6))
        loss = sg.sum(getattr(sg, name)(x @ W, *args, **kw) ** 2)
        return (loss, [W], [x], {"W": rng.normal(size=(3, 6))}, {"x": rng.normal(size=(B, 3))},
                lambda T_, d: (getattr(F, name)(d["x"] @ T_["W"], *args, **kw) ** 2).sum())
    return build


def _shape_op(name, shape, *args):
    def build(rng):
        x, w = sg.tensor("x", (N,) + shape), sg.tensor("w", shape[:1])
        out = getattr(sg, name)(x * w[:, None, None], *args)
        tout = getattr(F, name)(torch.zeros((1,) + shape, dtype=torch.float64), *args)
        cv = rng.normal(size=tuple(tout.shape[1:]))
        cc = sg.tensor("cc", tuple(tout.shape[1:]))
        return (sg.sum(out * cc), [w], [x, cc], {"w": rng.normal(size=shape[:1])},
                {"x": rng.normal(size=(B,) + shape), "cc": cv},
                lambda T_, d: (getattr(F, name)(d["x"] * T_["w"][:, None, None], *args) * d["cc"]).sum())
    return build


CASES = {
    "mse_loss": _pair_loss("mse_loss"), "l1_loss": _pair_loss("l1_loss", reduction="sum"),
    "smooth_l1_loss": _pair_loss("smooth_l1_loss", beta=0.5), "huber_loss": _pair_loss("huber_loss", delta=0.7),
    "soft_margin_loss": _pair_loss("soft_margin_loss"),
    "multilabel_soft_margin_loss": _pair_loss("multilabel_soft_margin_loss"),
    "hinge_embedding_loss": _pair_loss("hinge_embedding_loss", margin=0.5),
    "celu": _activation("celu", 0.5),      # α = 0.5: torch's float64 celu gradient rounds 1/α to float32
    "softshrink": _activation("softshrink", 0.3),
    "hardshrink": _activation("hardshrink", 0.3), "tanhshrink": _activation("tanhshrink"),
    "threshold": _activation("threshold", 0.2, -1.5), "softmin": _activation("softmin", 1),
    "pixel_unshuffle": _shape_op("pixel_unshuffle", (2, 4, 6), 2),
    "channel_shuffle": _shape_op("channel_shuffle", (6, 2, 3), 3),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_torch_name_against_torch(name):
    compare_case(torch, CASES, name)


def test_bilinear_and_multi_margin_loss():
    rng = np.random.default_rng(1)
    x1, x2, y = sg.tensor("x1", (N, 3)), sg.tensor("x2", (N, 4)), sg.tensor("y", (N,), integer=True)
    W, b = sg.tensor("W", (5, 3, 4)), sg.tensor("b", (5,))
    loss = sg.multi_margin_loss(sg.bilinear(x1, x2, W, b), y, margin=0.5)
    compare_with_torch(torch, (loss, [W, b], [x1, x2, y], {"W": rng.normal(size=(5, 3, 4)), "b": rng.normal(size=5)},
                               {"x1": rng.normal(size=(B, 3)), "x2": rng.normal(size=(B, 4)), "y": rng.integers(0, 5, B)},
                               lambda t, d: F.multi_margin_loss(F.bilinear(d["x1"], d["x2"], t["W"], t["b"]), d["y"],
                                                                margin=0.5)), rng)
    with pytest.raises(sg.ArgumentError, match="p=2 is not supported"):
        sg.multi_margin_loss(x1, y, p=2)


@pytest.mark.parametrize("name, said", [("ctc_loss", "not supported"), ("conv3d", r"sg\.conv2d are"),
                                        ("embedding_bag", r"sg\.embedding\(E, ids\)\.mean\(axis=1\)"),
                                        ("gumbel_softmax", "Gumbel noise g as an input"),
                                        ("max_pool3d", r"sg\.max_pool2d are")])
def test_torch_names_without_a_symgrad_one_say_what_to_write(name, said):
    with pytest.raises(AttributeError, match=said):
        getattr(sg, name)
