"""torch.topk as a composition of max, argmax and a −inf mask (2026-11-30, eighth session; before, no
topk at all): the values and indices against torch.topk, the gradient through the values against
torch.autograd in float64 and central differences, a top-2 mixture-of-experts router (one_hot of the
indices, and torch.gather of the experts' outputs), and the refusals."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from tests.frontend.torch_port import compare_with_torch

torch = pytest.importorskip("torch")
F = torch.nn.functional
N = sp.Symbol("N", integer=True, positive=True)
B = 5


@pytest.mark.parametrize("k, dim, largest", [(1, -1, True), (3, -1, True), (2, 1, False), (4, 0, True)])
def test_values_and_indices_are_torchs(k, dim, largest):
    x = sg.tensor("x", (4, 5, 6))
    vals, idx = x.topk(k, dim=dim, largest=largest)
    X = np.random.default_rng(k).normal(size=(4, 5, 6))
    tv, ti = torch.topk(torch.tensor(X), k, dim=dim, largest=largest)
    assert vals.shape == tuple(tv.shape) and idx.is_integer_tensor
    np.testing.assert_array_equal(sg.numeric(vals, {"x": X}), tv.numpy())
    np.testing.assert_array_equal(sg.numeric(idx, {"x": X}), ti.numpy())
    assert sg.topk(x, k, dim=dim, largest=largest).values == vals       # torch's named pair


def test_gradient_through_the_values():
    rng = np.random.default_rng(0)
    x, W = sg.tensor("x", (N, 3)), sg.tensor("W", (3, 6))
    top = sg.topk(sg.tanh(x @ W), 3).values
    low = sg.topk(x @ W, 2, largest=False).values
    loss = sg.sum(top * sp.Integer(2) ** sp.Rational(1, 2)) + sg.sum(low ** 2)
    compare_with_torch(torch, (loss, [W], [x], {"W": rng.normal(size=(3, 6))}, {"x": rng.normal(size=(B, 3))},
                               lambda t, d: (torch.tanh(d["x"] @ t["W"]).topk(3).values * 2 ** 0.5).sum()
                               + ((d["x"] @ t["W"]).topk(2, largest=False).values ** 2).sum()), rng)


def test_top2_mixture_of_experts_router():
    rng = np.random.default_rng(1)
    E, D, K = 4, 3, 2
    x, Wg, We = sg.tensor("x", (N, D)), sg.tensor("Wg", (D, E)), sg.tensor("We", (E, D, D))
    vals, idx = (x @ Wg).topk(K, dim=-1)
    gates = sg.softmax(vals, axis=-1)
    experts = sg.einsum("bd,edf->bef", x, We)                                    # every expert, densely
    dense = ((gates[..., None] * sg.one_hot(idx, E)).sum(axis=1)[:, :, None] * experts).sum(axis=1)
    picked = (gates[..., None] * sg.take_along_axis(experts, idx[:, :, None], axis=1)).sum(axis=1)
    loss = sg.sum(dense ** 2) + sg.sum(sg.tanh(picked))

    def twin(t, d):
        v, i = (d["x"] @ t["Wg"]).topk(K, dim=-1)
        g = v.softmax(-1)
        ex = torch.einsum("bd,edf->bef", d["x"], t["We"])
        o = ((g[..., None] * F.one_hot(i, E)).sum(1)[:, :, None] * ex).sum(1)
        return (o ** 2).sum() + torch.tanh((g[..., None] * torch.gather(ex, 1, i[:, :, None].expand(B, K, D))).sum(1)).sum()
    compare_with_torch(torch, (loss, [Wg, We], [x], {"Wg": rng.normal(size=(D, E)), "We": rng.normal(size=(E, D, D))},
                               {"x": rng.normal(size=(B, D))}, twin), rng)


def test_refusals_name_the_problem():
    x = sg.tensor("x", (N, 4))
    with pytest.raises(sg.ArgumentError, match=r"k must be an integer in 1 … 4"):
        x.topk(5)
    with pytest.raises(sg.ShapeError, match="topk needs an axis of fixed size"):
        x.topk(2, dim=0)
    with pytest.raises(sg.ArgumentError, match="largest= must be True or False"):
        sg.topk(x, 2, largest="yes")
    with pytest.raises(sg.ArgumentError, match="did you mean 'dim'"):
        sg.topk(x, 2, dims=1)


def test_a_concat_of_integer_inputs_is_labels_and_checked_when_compiled():
    """A concat of integer inputs is labels (ninth session; it was refused as not an integer tensor,
    since the compiled range check did not follow a label input through a concat): the check now
    follows each part, so a 7 among labels of 3 classes is caught, naming the input."""
    y1, y2 = sg.tensor("y1", (N, 1), integer=True), sg.tensor("y2", (N, 1), integer=True)
    assert sg.concat([y1, y2], axis=1).is_integer_tensor
    s, W = sg.tensor("s", (N, 2, 3)), sg.tensor("W", (3,))
    prog = sg.compile(sg.cross_entropy(s * W, sg.concat([y1, y2], axis=1)), [W], [s, y1, y2], dtype="float64")
    x = np.random.default_rng(0).normal(size=(2, 2, 3))
    assert np.isfinite(prog.loss({"W": np.ones(3)}, {"s": x, "y1": [[0], [2]], "y2": [[1], [2]]}))
    with pytest.raises(sg.LabelRangeError, match="'y2'.*7"):
        prog.loss({"W": np.ones(3)}, {"s": x, "y1": [[0], [2]], "y2": [[1], [7]]})


def test_topk_indices_of_logits_computed_from_integer_ids_are_indices():
    ids, E = sg.tensor("ids", (N, 3), integer=True), sg.tensor("E", (7, 4))
    vals, idx = sg.topk(E[ids] @ sg.tensor("Wg", (4, 5)), 2)        # a transformer's router over tokens
    assert idx.is_integer_tensor and sg.one_hot(idx, 5).shape == (N, 3, 2, 5)
    y = sg.tensor("y", (N, 1), integer=True)
    assert sg.concat([y[:, :1].reshape(N, 1), y], axis=1).is_integer_tensor       # inputs, through a slice
