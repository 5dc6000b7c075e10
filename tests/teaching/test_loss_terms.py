"""A cs231n loss, data loss plus a penalty, reads as the slides write it: the cross-entropy one
node and one step, the penalty its own, their sum the loss (symgrad/teaching/loss_terms.py).
Numbers on the picture's edges are torch.autograd's."""
import json

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from picture_parse import edges, node_names

torch = pytest.importorskip("torch")
N, D, C, REG = 4, 5, 3, 0.1


def _grid(s):
    return np.array(json.loads(s.replace("−", "-")), dtype=float)


def _softmax_loss(named=False):
    """cs231n's softmax loss plus its L2 penalty; ``named``: the two parts named L_data and L_reg
    (test_loss_terms_named)."""
    x, W, b = sg.tensor("x", (N, D)), sg.tensor("W", (D, C)), sg.tensor("b", (C,))
    y = sg.tensor("y", (N,), integer=True)
    data, penalty = sg.cross_entropy(x @ W + b, y), 0.5 * REG * sg.sum(W * W)
    names = {"names": {sg.tensor("L_data", ()): data, sg.tensor("L_reg", ()): penalty}} if named else {}
    return sg.derive(data + penalty, [W, b], output_name="L", **names), (x, W, b, y)


def test_the_text_writes_the_data_loss_and_the_penalty_as_two_steps():
    d, _ = _softmax_loss()
    text = d.render("unicode")
    forward = text.split("Forward pass:\n")[1].split("Backward")[0]
    assert forward == ("  z = x @ W + b\n"
                       "  u₁ = cross_entropy(z, y)\n"
                       "  u₂ = W²\n"
                       "  u₃ = u₂.sum()\n"
                       "  L = u₁ + 0.05·u₃\n")
    assert "  ∂L/∂u₁ = ∂L/∂L · ∂L/∂u₁ = 1 · 1 = 1    [sum rule: ∂L/∂u₁ = 1]" in text
    assert "= (softmax(z, axis=1) − one_hot(y, 3))/4    [softmax cross-entropy" in text
    assert "divided by N for the mean over the batch]" in text
    assert "  ∂L/∂W = x.T @ ((softmax(z, axis=1) − one_hot(y, 3))/4) + 0.1·W\n" in text     # data term first


def test_the_derivation_itself_is_not_changed():
    d, _ = _softmax_loss()
    d.render("unicode")
    assert str(d.ir.producer[d.output.id].params[0]) == "a0/4 + 0.05*a1"     # the lowering's fused sum


def test_the_picture_draws_the_mean_cross_entropy_and_torchs_numbers():
    d, (x, W, b, y) = _softmax_loss()
    rng = np.random.default_rng(5)
    v = dict(x=rng.normal(size=(N, D)), W=rng.normal(size=(D, C)), b=rng.normal(size=C), y=np.array([0, 2, 1, 2]))
    src = d.graph(at={x: v["x"], W: v["W"], b: v["b"], y: v["y"]}, number_format=".8g").source
    names = node_names(src)
    ops = sorted(names.values())
    assert ops.count("cross-entropy (mean)") == 1 and "① + 0.05·②" in ops, ops
    assert not any("/4" in o or o == "cross-entropy (sum)" for o in ops), ops
    T = {k: torch.tensor(a, dtype=torch.float64, requires_grad=k in ("W", "b")) for k, a in v.items()}
    z = T["x"] @ T["W"] + T["b"]
    z.retain_grad()
    data = torch.nn.functional.cross_entropy(z, T["y"].long())
    data.retain_grad()
    (data + 0.5 * REG * (T["W"] * T["W"]).sum()).backward()
    ce = next(k for k, n in names.items() if n == "cross-entropy (mean)")
    into = {s: (fv, gv) for s, fv, gv, dst in edges(src) if dst == ce}
    assert np.allclose(_grid(into["z"][1]), z.grad.numpy(), rtol=1e-6, atol=1e-9)
    ((fv, gv),) = [(fv, gv) for s, fv, gv, dst in edges(src) if s == "u₁"]       # u₁ = cross_entropy(z, y)
    assert abs(float(fv.replace("−", "-")) - data.item()) < 1e-6 and gv == "1", (fv, gv)   # L_data, ∂L/∂L_data
    w_shares = [_grid(gv) for s, fv, gv, dst in edges(src) if s == "W"]
    penalty = REG * v["W"]
    assert len(w_shares) == 2
    assert any(np.allclose(g, penalty) for g in w_shares)           # reg·W through the penalty
    assert np.allclose(sum(w_shares), T["W"].grad.numpy(), rtol=1e-6, atol=1e-9)   # x.T @ δ + reg·W


def test_a_matrix_networks_cross_entropy_plus_a_penalty():
    net = sg.mlp([3, 4, 2])
    t, lam = sp.MatrixSymbol("t", 2, 1), sp.Symbol("lam")
    W1 = net.params[0]
    d = sg.derive(sg.cross_entropy(net.output, t) + lam * sg.sum(sp.HadamardPower(W1, 2)), net.params)
    forward = d.render("unicode").split("Forward pass:\n")[1].split("Backward")[0]
    assert "  u₁ = cross_entropy(z⁽²⁾, t)\n" in forward and "  L = u₁ + u₄\n" in forward     # the data loss first
    assert "−cross_entropy" not in forward
    ops = sorted(node_names(d.graph().source).values())
    assert ops.count("cross-entropy") == 1 and "① − ②" not in ops and "−cross-entropy" not in ops, ops


def test_a_loss_without_a_penalty_is_read_as_before():
    from symgrad.teaching.loss_terms import split_penalties
    z, y = sg.tensor("z", (N, C)), sg.tensor("y", (N,), integer=True)
    d = sg.derive(sg.cross_entropy(z, y), [z])
    assert split_penalties(d) is d


def test_a_matrix_networks_picture_carries_torchs_numbers():
    net = sg.mlp([4, 5, 3])
    t, lam = sp.MatrixSymbol("t", 3, 1), sp.Symbol("lam")
    W1s = net.params[0]
    d = sg.derive(sg.cross_entropy(net.output, t) + lam * sg.sum(sp.HadamardPower(W1s, 2)), net.params)
    rng = np.random.default_rng(7)
    W1, b1, W2, b2, x = (rng.normal(size=s) for s in ((5, 4), (5, 1), (3, 5), (3, 1), (4, 1)))
    tv = rng.dirichlet(np.ones(3)).reshape(3, 1)
    syms = dict(zip(["W1", "b1", "W2", "b2"], net.params))
    at = {syms["W1"]: W1, syms["b1"]: b1, syms["W2"]: W2, syms["b2"]: b2, net.input: x, t: tv, lam: 0.3}
    src = d.graph(at=at, number_format=".8g").source
    names = node_names(src)
    T = {k: torch.tensor(a, dtype=torch.float64, requires_grad=True) for k, a in
         dict(W1=W1, b1=b1, W2=W2, b2=b2).items()}
    z = T["W2"] @ torch.relu(T["W1"] @ torch.tensor(x) + T["b1"]) + T["b2"]
    z.retain_grad()
    data = -(torch.tensor(tv) * torch.log_softmax(z, dim=0)).sum()
    (data + 0.3 * (T["W1"] ** 2).sum()).backward()
    ce = next(k for k, n in names.items() if n == "cross-entropy")
    into = {s: gv for s, fv, gv, dst in edges(src) if dst == ce}
    (logits,) = [k for k in into if k != "t"]
    np.testing.assert_allclose(_grid(into[logits]).reshape(3, 1), z.grad.numpy(), rtol=1e-6, atol=1e-8)
    ((fv, gv),) = [(fv, gv) for s, fv, gv, dst in edges(src) if s == "u₁"]       # u₁ = cross_entropy(z⁽²⁾, t)
    assert abs(float(fv.replace("−", "-")) - data.item()) < 1e-6 and gv == "1", (fv, gv)   # L_data, ∂L/∂L_data
    shares = [_grid(gv).reshape(5, 4) for s, fv, gv, dst in edges(src) if s == "W₁"]
    assert len(shares) == 2 and any(np.allclose(g, 0.6 * W1) for g in shares)           # 2·lam·W₁
    np.testing.assert_allclose(sum(shares), T["W1"].grad.numpy(), rtol=1e-6, atol=1e-8)




def test_a_name_lowered_for_the_views_goes_into_the_copy_alone():
    d, (x, W, b, y) = _softmax_loss()
    memo, n = dict(d.lowering.memo), len(d.ir.eqns)
    text = d.render("unicode", names={"s": x @ W})
    assert "  s = x @ W\n" in text and "  u₁ = cross_entropy(z, y)\n" in text, text
    with pytest.raises(sg.SymgradError, match="not a subexpression"):
        d.render("unicode", names={"s": sg.exp(x @ W)})        # lowered, then refused
    assert d.lowering.memo == memo and len(d.ir.eqns) == n
