"""Attention as the slides write it: A = softmax(QKᵀ/√d, axis=-1) is one forward step and one
backward step, ∂L/∂S = A ⊙ (∂L/∂A − (∂L/∂A ⊙ A).sum(axis=1, keepdims=True)), in the text and in the
picture ("softmax (axis 1)", not logsumexp then exp(① − ②)); its numbers are torch.autograd's."""
import re

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from picture_parse import _value_edges, edges, node_names

torch = pytest.importorskip("torch")
T, D = 3, 4
x, Wq, Wk, Wv, dout = (sg.tensor("x", (T, D)), sg.tensor("Wq", (D, D)), sg.tensor("Wk", (D, D)),
                       sg.tensor("Wv", (D, D)), sg.tensor("dout", (T, D)))
rng = np.random.default_rng(8)
AT = {x: rng.normal(size=(T, D)), Wq: rng.normal(size=(D, D)), Wk: rng.normal(size=(D, D)),
      Wv: rng.normal(size=(D, D)), dout: rng.normal(size=(T, D))}


def _attention():
    scores = (x @ Wq) @ (x @ Wk).T / sp.sqrt(D)
    return sg.derive(sg.sum((sg.softmax(scores, axis=-1) @ (x @ Wv)) * dout), [Wq, Wk, Wv], output_name="L")


def _torch_scores_grad():
    t = {k: torch.tensor(v, requires_grad=True) for k, v in [("x", AT[x]), ("q", AT[Wq]), ("k", AT[Wk]), ("v", AT[Wv])]}
    s = (t["x"] @ t["q"]) @ (t["x"] @ t["k"]).T / 2
    s.retain_grad()
    ((torch.softmax(s, dim=-1) @ (t["x"] @ t["v"])) * torch.tensor(AT[dout])).sum().backward()
    return s.detach().numpy(), s.grad.numpy()


def test_the_softmax_is_one_forward_step_and_one_backward_step():
    s = _attention().explain(at=AT)
    defs = {str(sym): str(e) for sym, e, _ in s.definitions}
    soft = [k for k, e in defs.items() if e.startswith("softmax(")]
    assert len(soft) == 1 and defs[soft[0]].endswith(", axis=1)"), defs
    assert not any("logsumexp" in e or "exp(" in e for e in defs.values()), defs
    scores = defs[soft[0]][len("softmax("):-len(", axis=1)")]
    step = s.find(scores)
    text = step.text("unicode")
    a = soft[0].translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))
    # A ⊙ (∂L/∂A − (∂L/∂A ⊙ A).sum(axis=1, keepdims=True)), in either order of the products
    assert ".sum(axis=1, keepdims=True)" in text and f"∂L/∂{a}" in text, text
    assert "fan-out" not in text and "log-sum-exp" not in text, text
    assert "diag(a) − a·aᵀ" in text
    _, grad = _torch_scores_grad()
    np.testing.assert_allclose(step.value, grad, rtol=1e-9, atol=1e-12)


def test_the_numbered_nodes_have_no_gap_where_the_logsumexp_was():
    s = _attention().explain()
    us = sorted(int(str(sym)[1:]) for sym, _, _ in s.definitions if re.fullmatch(r"u\d+", str(sym)))
    assert us == list(range(1, len(us) + 1)), us


def test_the_picture_draws_one_softmax_node_with_all_of_the_scores_gradient():
    src = _attention().graph(at=AT).source
    names = node_names(src)
    assert "softmax (axis 1)" in names.values(), sorted(names.values())
    assert not any(n.startswith(("logsumexp", "exp")) for n in names.values()), sorted(names.values())
    soft = next(k for k, v in names.items() if v == "softmax (axis 1)")
    into = [(fv, gv) for _, fv, gv, dst in edges(src) if dst == soft]
    assert len(into) == 1, into                     # the scores reach the softmax along one edge
    scores, grad = _torch_scores_grad()
    def grid(s):                   # numbers the picture printed, with Unicode minus signs
        return np.array(eval(s.replace("−", "-")))     # noqa: S307
    np.testing.assert_allclose(grid(into[0][0]), scores, rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(grid(into[0][1]), grad, rtol=1e-3, atol=1e-3)
    # no fan-out sum on the node before it: its value has one drawn use
    assert "fan-out" not in src


def test_the_transposed_operand_is_part_of_its_product():
    # as the text's u₃ = (u₁ @ u₂.T)/2 (no step for K.T): one node "① · ②ᵀ", K's edge straight into
    # it with ∂L/∂K (until 2026-11-30, eighth session: a □ᵀ node between them), the scale 1/2 in
    # both operands' gradients (until 2026-12-01, thirteenth session, from a node Q @ K.T of its own)
    src = _attention().graph().source
    names = node_names(src)
    assert "① · ②ᵀ" in names.values() and "□ᵀ" not in names.values(), sorted(names.values())
    prod = next(k for k, v in names.items() if v == "① · ②ᵀ")
    into = [(fv, gv) for _, fv, gv, dst in edges(src) if dst == prod]
    assert into == [("u₁", "∂L/∂u₁ = (∂L/∂u₃ @ u₂)/2"), ("u₂", "∂L/∂u₂ = ((∂L/∂u₃).T @ u₁)/2")], into


def test_the_transposed_operands_edge_carries_torchs_gradient():
    src = _attention().graph(at=AT, number_format=".10g").source
    names = node_names(src)
    prod = next(k for k, v in names.items() if v == "① · ②ᵀ")
    t = {k: torch.tensor(v, requires_grad=True) for k, v in [("x", AT[x]), ("q", AT[Wq]), ("k", AT[Wk]), ("v", AT[Wv])]}
    q, k = t["x"] @ t["q"], t["x"] @ t["k"]
    q.retain_grad()
    k.retain_grad()
    ((torch.softmax(q @ k.T / 2, dim=-1) @ (t["x"] @ t["v"])) * torch.tensor(AT[dout])).sum().backward()
    grids = [np.array(eval(gv.replace("−", "-"))) for _, fv, gv, dst in edges(src) if dst == prod]   # noqa: S307
    assert len(grids) == 2
    np.testing.assert_allclose(grids[0], q.grad.numpy(), rtol=1e-8, atol=1e-10)     # ① = Q
    np.testing.assert_allclose(grids[1], k.grad.numpy(), rtol=1e-8, atol=1e-10)     # ②ᵀ: ∂L/∂K, not ∂L/∂Kᵀ
