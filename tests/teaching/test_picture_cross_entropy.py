"""A softmax cross-entropy over a batch is one node of the picture, as the slides draw it
("cross-entropy (mean)"), not the logsumexp, one-hot, ⊙, Σ and reshapes it lowers to; the edge of
the logits carries all of δ = (softmax(z) − one_hot(y))/N, and every number on an edge is
torch.autograd's (symgrad/teaching/cross_entropy_fold.py)."""
import json

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from picture_parse import edges, node_names

torch = pytest.importorskip("torch")
F = torch.nn.functional
B, D, H, C = 4, 3, 5, 3
N = sp.Symbol("N", integer=True, positive=True)
LOWERED = ("logsumexp", "one-hot", "⊙", "Σ", "reshape", "log_softmax", "① − ②", "mean", "log")


def _grid(s):
    return np.array(json.loads(s.replace("−", "-")), dtype=float)


def _point(n, rng):
    return dict(x=rng.normal(size=(n, D)), W1=rng.normal(size=(D, H)), b1=rng.normal(size=H),
                W2=rng.normal(size=(H, C)), b2=rng.normal(size=C), y=np.array([0, 2, 1, 2, 1, 0][:n]),
                t=rng.dirichlet(np.ones(C), size=n))


def _mlp(n, loss):
    """A two-layer batched MLP (relu) and its loss on the logits: (derivation, at, symbols)."""
    x, y, t = sg.tensor("x", (n, D)), sg.tensor("y", (n,), integer=True), sg.tensor("t", (n, C))
    W1, b1, W2, b2 = sg.tensor("W1", (D, H)), sg.tensor("b1", (H,)), sg.tensor("W2", (H, C)), sg.tensor("b2", (C,))
    z = sg.relu(x @ W1 + b1) @ W2 + b2
    L = {"labels": lambda: sg.cross_entropy(z, y),
         "labels-sum": lambda: sg.cross_entropy(z, y, reduction="sum"),
         "target": lambda: sg.cross_entropy(z, t),
         "written-out": lambda: -sg.sum(t * sg.log(sg.softmax(z, axis=1))) / n}[loss]()
    syms = dict(x=x, y=y, t=t, W1=W1, b1=b1, W2=W2, b2=b2)
    return sg.derive(L, [W1, b1, W2, b2], output_name="L"), syms


def _torch(v, loss):
    """{name: gradient} of the logits z (and p, the softmax), the parameters, by torch.autograd."""
    T = {k: torch.tensor(a, dtype=torch.float64, requires_grad=k in ("W1", "b1", "W2", "b2")) for k, a in v.items()}
    z = torch.relu(T["x"] @ T["W1"] + T["b1"]) @ T["W2"] + T["b2"]
    z.retain_grad()
    p = torch.softmax(z, dim=1)
    p.retain_grad()
    if loss == "labels":
        out = F.cross_entropy(z, T["y"].long())
    elif loss == "labels-sum":
        out = F.cross_entropy(z, T["y"].long(), reduction="sum")
    elif loss == "target":
        out = F.cross_entropy(z, T["t"])
    else:
        out = -(T["t"] * torch.log(p)).sum() / len(v["x"])
    out.backward()
    grads = {k: T[k].grad.numpy() for k in ("W1", "b1", "W2", "b2")}
    return dict(grads, z=z.grad.numpy(), p=None if p.grad is None else p.grad.numpy(), L=out.item(),
                zval=z.detach().numpy())


@pytest.mark.parametrize("loss,label", [("labels", "cross-entropy (mean)"), ("labels-sum", "cross-entropy (sum)"),
                                        ("target", "cross-entropy (mean)"),
                                        ("written-out", "cross-entropy (mean)")])
def test_the_cross_entropy_is_one_node_and_its_edges_carry_torchs_gradients(loss, label):
    d, syms = _mlp(B, loss)
    v = _point(B, np.random.default_rng(3))
    at = {syms[k]: a for k, a in v.items() if syms[k] in d.f.free_symbols or k == "y"}
    src = d.graph(at=at, number_format=".8g").source
    names = node_names(src)
    ops = sorted(names.values())
    assert ops.count(label) == 1, ops
    assert not any(n.startswith(LOWERED) for n in ops), ops      # its lowering is folded into it
    ref = _torch(v, loss)
    ce = next(k for k, n in names.items() if n == label)
    into = {fv_src: (fv, gv) for fv_src, fv, gv, dst in edges(src) if dst == ce}
    target = "y" if loss.startswith("labels") else "t"
    assert into[target][1] is None, into[target]                 # the labels carry no gradient
    np.testing.assert_allclose(_grid(into[target][0]).ravel(), v[target].ravel(), rtol=1e-6, atol=1e-7)
    (logits,) = [k for k in into if k != target]
    if loss == "written-out":        # softmax → cross-entropy: p's edge, then z's into the softmax
        assert "softmax (axis 1)" in ops, ops
        np.testing.assert_allclose(_grid(into[logits][1]), ref["p"], rtol=1e-6, atol=1e-7)
        sm = next(k for k, n in names.items() if n == "softmax (axis 1)")
        ((_, zval, zgrad),) = [(s, fv, gv) for s, fv, gv, dst in edges(src) if dst == sm]
    else:
        (_, zval, zgrad) = (logits,) + into[logits]
    np.testing.assert_allclose(_grid(zval), ref["zval"], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(_grid(zgrad), ref["z"], rtol=1e-6, atol=1e-7)   # δ, all of it
    # and the parameters' edges, further down
    for name in ("W1", "b1", "W2", "b2"):
        shown = name[0] + name[1].translate(str.maketrans("12", "₁₂"))
        ((_, g),) = [(fv, gv) for s, fv, gv, dst in edges(src) if s == shown]
        np.testing.assert_allclose(_grid(g).ravel(), ref[name].ravel(), rtol=1e-6, atol=1e-7)
    ((fv, gv),) = [(fv, gv) for s, fv, gv, dst in edges(src) if s == label]
    assert abs(float(fv.replace("−", "-")) - ref["L"]) < 1e-6 and gv == "1", (fv, gv)


@pytest.mark.parametrize("n,over", [(4, "/4"), (N, "/N")])
def test_the_symbolic_picture_writes_the_slides_delta_on_the_logits_edge(n, over):
    d, _ = _mlp(n, "labels")
    src = d.graph().source
    names = node_names(src)
    ce = next(k for k, name in names.items() if name == "cross-entropy (mean)")
    into = {s: gv for s, fv, gv, dst in edges(src) if dst == ce}
    assert into["+"] == f"δ⁽²⁾ = (softmax(z⁽²⁾, axis=1) − one_hot(y, 3)){over}", into
    assert into["y"] is None, into


def test_a_target_distribution_reads_softmax_minus_t_given_its_rows_sum_to_one():
    d, syms = _mlp(N, "target")
    t = syms["t"]
    edge = lambda src: next(gv for s, fv, gv, dst in edges(src)          # noqa: E731
                            if names_of(src).get(dst) == "cross-entropy (mean)" and s == "+")
    names_of = node_names
    assert edge(d.graph(given={t.sum(axis=1): 1}).source) == "δ⁽²⁾ = (softmax(z⁽²⁾, axis=1) − t)/N"
    # without the fact, t's row sums stay: the gradient of −Σ t ⊙ log softmax(z) in general
    assert edge(d.graph().source) == "δ⁽²⁾ = (t.sum(axis=1, keepdims=True) ⊙ softmax(z⁽²⁾, axis=1) − t)/N"


def test_a_loss_that_is_not_a_cross_entropy_is_drawn_as_written():
    # logsumexp − the picked logit, but doubled before the mean: no cross-entropy of the slides
    z, y = sg.tensor("z", (B, C)), sg.tensor("y", (B,), integer=True)
    per = sg.logsumexp(z, axis=1) - 2 * sg.take_along_axis(z, y.reshape(B, 1), axis=1).reshape(B)
    src = sg.derive(per.mean(), [z], output_name="L").graph().source
    assert not any(n.startswith("cross-entropy") for n in node_names(src).values()), node_names(src)
    # a cross-entropy inside a larger loss is one node, and what follows it stays drawn
    src = sg.derive(2 * sg.cross_entropy(z, y), [z], output_name="L").graph().source
    ops = sorted(node_names(src).values())
    assert "cross-entropy (mean)" in ops and "×2" in ops, ops
