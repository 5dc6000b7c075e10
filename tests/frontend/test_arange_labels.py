"""sg.arange(n) — torch's ``torch.arange(N)`` as the labels of a contrastive loss and as the positions
of a position embedding (2026-11-30, ninth session: sg.arange was an AttributeError pointing at
sg.eye(N), and torch.arange(4) in a declaration was refused as a constant array). Compared with
torch.autograd in float64."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.frontend.parse import parse_expr
from tests.frontend.torch_port import compare_with_torch

torch = pytest.importorskip("torch")
F = torch.nn.functional
N = sp.Symbol("N", integer=True, positive=True)
B, D = 5, 4


def _clip(rng, **keywords):
    """CLIP's symmetric loss over a batch of N pairs, torch's labels torch.arange(N)."""
    xa, xb, W = sg.tensor("xa", (N, D)), sg.tensor("xb", (N, D)), sg.tensor("W", (D, 3))
    logits = (xa @ W) @ (xb @ W).T / 0.5
    loss = (sg.cross_entropy(logits, sg.arange(N), **keywords)
            + sg.cross_entropy(logits.T, sg.arange(N), **keywords)) / 2

    def twin(t, d):
        lt = (d["xa"] @ t["W"]) @ (d["xb"] @ t["W"]).T / 0.5
        y = torch.arange(B)
        return (F.cross_entropy(lt, y, **keywords) + F.cross_entropy(lt.T, y, **keywords)) / 2
    return (loss, [W], [xa, xb], {"W": rng.normal(size=(D, 3))},
            {"xa": rng.normal(size=(B, D)), "xb": rng.normal(size=(B, D))}, twin)


@pytest.mark.parametrize("keywords", [{}, {"label_smoothing": 0.1}, {"reduction": "sum"},
                                      {"ignore_index": -100}, {"ignore_index": 2}])
def test_clip_loss_with_arange_labels_equals_torch(keywords):
    rng = np.random.default_rng(0)
    compare_with_torch(torch, _clip(rng, **keywords), rng)


def test_arange_labels_read_as_the_diagonal_not_a_label_input():
    s = sg.tensor("s", (N, N))
    loss = sg.cross_entropy(s, sg.arange(N))
    assert str(sg.grad(loss, s)) == str(sg.softmax(s, axis=1) / N - sg.eye(N) / N)   # no one_hot of a label input
    assert sg.one_hot(sg.arange(N), 7) == sg.eye(N, 7)
    assert sg.one_hot(sg.arange(3), 7, axis=0) == sg.eye(7, 3)


def test_nll_loss_and_class_weights_with_arange_labels():
    rng = np.random.default_rng(1)
    x, W, w = sg.tensor("x", (N, D)), sg.tensor("W", (D, 6)), sg.tensor("w", (6,))
    loss = sg.nll_loss(sg.log_softmax(x @ W, axis=1), sg.arange(N), weight=w)   # w[arange(N)] of a longer w

    def twin(t, d):
        return F.nll_loss(F.log_softmax(d["x"] @ t["W"], 1), torch.arange(B), weight=d["w"])
    compare_with_torch(torch, (loss, [W], [x, w], {"W": rng.normal(size=(D, 6))},
                               {"x": rng.normal(size=(B, D)), "w": rng.uniform(0.5, 2, size=6)}, twin), rng)


def test_position_embedding_by_arange_is_a_slice_of_the_table():
    """nanoGPT: tok_emb + wpe(torch.arange(T)), the table longer than the sequence."""
    rng = np.random.default_rng(2)
    T, V, block = 4, 7, 6
    ids = sg.tensor("ids", (N, T), integer=True)
    E, P, Wo = sg.tensor("E", (V, D)), sg.tensor("P", (block, D)), sg.tensor("Wo", (D, V))
    assert P[sg.arange(T)] == P[:T] and sg.embedding(P, sg.arange(T)) == P[:T]
    h = E[ids] + P[sg.arange(T)]
    loss = sg.cross_entropy(sg.tanh(h) @ Wo, ids, axis=-1)

    def twin(t, d):
        h = t["E"][d["ids"]] + F.embedding(torch.arange(T), t["P"])
        return F.cross_entropy((torch.tanh(h) @ t["Wo"]).reshape(-1, V), d["ids"].reshape(-1))
    compare_with_torch(torch, (loss, [E, P, Wo], [ids], {"E": rng.normal(size=(V, D)), "P": rng.normal(size=(block, D)),
                                                         "Wo": rng.normal(size=(D, V))},
                               {"ids": rng.integers(0, V, (B, T))}, twin), rng)


def test_torch_and_numpy_arange_arrays_are_read_as_sg_arange():
    P, s = sg.tensor("P", (6, D)), sg.tensor("s", (4, 4))
    assert P[torch.arange(4)] == P[:4] and P[np.arange(6)] == P
    assert sg.cross_entropy(s, torch.arange(4)) == sg.cross_entropy(s, sg.arange(4))
    with pytest.raises(sg.UnsupportedError, match="torch tensor of shape"):    # any other array: as before
        sg.cross_entropy(s, torch.tensor([1, 0, 2, 3]))


def test_arange_refuses_what_it_is_not():
    with pytest.raises(sg.ArgumentError, match="step=0.5"):     # (whole starts and steps: test_arange_ranges)
        sg.arange(0, 6, 0.5)
    with pytest.raises(sg.ArgumentError, match="positive integer"):
        sg.arange(sp.Symbol("M"))
    with pytest.raises(sg.ShapeError, match=r"arange\(8\) reach 7"):
        sg.tensor("P", (6, D))[sg.arange(8)]
    assert sg.arange(0, N, 1) == sg.arange(N) and sg.arange(N).free_symbols == set()


def test_arange_where_no_consumer_simplifies_it_is_its_values():
    """Compared with an ignore_index, or indexing a table of the symbolic size: the running count."""
    y = sg.arange(N)
    P = sg.tensor("P", (N, 2))
    vals = {"P": np.arange(10.0).reshape(5, 2)}
    np.testing.assert_array_equal(sg.numeric(sg.where(y > 1, 1.0, 0.0), {N: 5}), [0, 0, 1, 1, 1])
    np.testing.assert_array_equal(sg.numeric(sg.take(P, sg.arange(3), axis=0), vals), vals["P"][:3])
    assert sg.take(P, sg.arange(N), 0) == P


def test_the_text_reads_eye_and_arange_as_constants():
    S = sg.tensor("S", (N, N))
    assert parse_expr("cross_entropy(S, eye(N))", symbols=[S, N]) == sg.cross_entropy(S, sg.eye(N))
    assert parse_expr("cross_entropy(S, arange(N))", symbols=[S, N]) == sg.cross_entropy(S, sg.arange(N))
    assert parse_expr("eye(3, 4)", symbols=[S, N]) == sg.eye(3, 4)
    with pytest.raises(sg.ParseError):
        parse_expr("eye(N, 3, 2)", symbols=[S, N])


def test_arange_in_arithmetic_compiles():
    """arange(n) read as its values inside an elementwise body (it was taken for a number, as SymPy
    calls an expression of numbers, and printed into the generated code as 'arange(6)')."""
    x, w = sg.tensor("x", (N, 6)), sg.tensor("w", (6,))
    loss = sg.sum(sg.relu(1 - abs(x * w - sg.arange(6))))
    prog = sg.compile(loss, [w], [x], dtype="float64")
    xv = np.random.default_rng(0).uniform(0, 6, size=(3, 6))
    want = np.maximum(0, 1 - np.abs(xv - np.arange(6))).sum()
    assert abs(prog.loss({"w": np.ones(6)}, {"x": xv}) - want) < 1e-12
