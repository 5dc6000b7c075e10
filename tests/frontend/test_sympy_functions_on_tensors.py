"""SymPy's own functions of ``sg.tensor`` expressions, as a researcher writes a model in lecture
notation (2026-11-30, tenth session): ``sp.tanh(x @ W + b).mean()``, ``sp.exp(z) /
sp.exp(z).sum(axis=1, keepdims=True)``, ``sp.Max(z, 0).sum(axis=1)``. SymPy builds its own nodes
(``tanh``, ``Max``, ``Pow``, ``Piecewise``), which had none of the tensor methods: each was SymPy's
``AttributeError: 'tanh' object has no attribute 'mean'`` where ``sg.tanh(h).mean()`` worked. They
now answer the tensor methods (`symgrad/frontend/sympy_node_methods.py`); the models below are
compared with torch.autograd in float64 and central differences, and go through sg.grad and
sg.check."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from tests.frontend.torch_port import Cases, compare_case, params

torch = pytest.importorskip("torch")
N = sp.Symbol("N", integer=True, positive=True)

x = sg.tensor("x", (N, 3))
NODES = {
    "tanh": (lambda: sp.tanh(x), "tanh(x)"),
    "exp": (lambda: sp.exp(x), "exp(x)"),
    "log": (lambda: sp.log(x), "log(x)"),
    "sqrt": (lambda: sp.sqrt(x + 1), "sqrt(x + 1)"),
    "Abs": (lambda: sp.Abs(x), "Abs(x)"),
    "sin": (lambda: sp.sin(x), "sin(x)"),
    "cos": (lambda: sp.cos(x), "cos(x)"),
    "Max": (lambda: sp.Max(x, 0), "Max(0, x)"),
    "Pow": (lambda: sp.Pow(x, 3), "x**3"),
    "Piecewise": (lambda: sp.Piecewise((x, x > 0), (0, True)), "Piecewise((x, x > 0), (0, True))"),
    "erf": (lambda: sp.erf(x), "erf(x)"),
    "plus one": (lambda: sp.tanh(x) + 1, "tanh(x) + 1"),
}


@pytest.mark.parametrize("name", list(NODES))
def test_sympy_nodes_of_a_tensor_have_the_tensor_methods(name):
    build, text = NODES[name]
    e = build()
    assert e.shape == (N, 3) and e.ndim == 2
    assert e.sum(axis=1).shape == (N,)
    assert e.mean().shape == ()
    assert e.T.shape == (3, N)
    assert e.reshape(-1).shape == (3 * N,)
    assert (e @ sg.tensor("V", (3, 2))).shape == (N, 2)       # W.__rmatmul__
    assert str(e.max(axis=0)) in (f"{text}.max(axis=0)", f"({text}).max(axis=0)")


def test_the_method_is_the_wrapped_tensor_s():
    h = sp.tanh(x)
    assert h.sum(axis=1) == sg.tanh(x).sum(axis=1) == sg.as_tensor(h).sum(axis=1)
    assert h.softmax(dim=1) == sg.softmax(sg.tanh(x), axis=1)


def test_transpose_and_expand_of_a_node_are_the_tensor_s():
    """Two names SymPy's Expr has: sp.tanh(h).transpose() was SymPy's scalar transpose (the same
    (N, 3) expression, silently) and sp.tanh(v).expand(4, 3) SymPy's expand(deep=4, modulus=3)."""
    h = sp.tanh(x)
    assert h.transpose().shape == (3, N) and h.transpose() == sg.tanh(x).T
    assert (sp.exp(x) + 1).transpose(1, 0).shape == (3, N)
    v = sg.tensor("v", (1, 3))
    assert sp.tanh(v).expand(4, 3).shape == (4, 3) and sp.tanh(v).expand(4, -1) == sg.tanh(v).expand(4, 3)
    # SymPy's own calls are SymPy's: algebraic expand with hints or none, scalar transpose
    a, b = sp.symbols("a b")
    assert (a * (b + 1)).expand() == a * b + a and sp.expand((a + 1) ** 2, deep=False) == a**2 + 2 * a + 1
    assert sp.tanh(a).transpose() == sp.tanh(a)
    assert (sp.tanh(x) * (x + 1)).expand().shape == (N, 3)


def test_plain_sympy_is_untouched():
    a = sp.Symbol("a")
    for e in (sp.tanh(a), a + 1, sp.MatrixSymbol("W", 2, 2)):
        with pytest.raises(AttributeError, match="has no attribute 'mean'"):
            e.mean()
    assert not hasattr(sp.tanh(a), "shape") and not hasattr(sp.exp(a), "T")
    assert not hasattr(sp.tanh(x), "_no_such_thing")
    # SymPy's own methods stay SymPy's, and a scalar expression with no tensor has no shape
    assert sp.tanh(a).subs(a, 0) == 0 and sp.diff(sp.tanh(a), a) == 1 - sp.tanh(a) ** 2


def test_sympy_nodes_go_through_grad_and_check():
    W = sg.tensor("W", (3, 4))
    L = sp.tanh(x @ W).sum()
    g = sg.grad(L, W)
    right = x.T @ (1 - sg.tanh(x @ W) ** 2)
    assert sg.check(L, W, right)
    assert not sg.check(L, W, x.T @ (1 + sg.tanh(x @ W) ** 2))
    assert sg.check(L, W, g)


# ---- four small models in lecture notation, against torch.autograd ---------------------------------
cases = Cases()
D, H, C, B = 4, 5, 3, 6


def _mlp(rng):
    p, v = params(rng, {"W1": (D, H), "b1": (H,), "W2": (H, C), "b2": (C,)})
    xs, ys = sg.tensor("x", (N, D)), sg.tensor("y", (N,), integer=True)
    data = {"x": rng.normal(size=(B, D)), "y": rng.integers(0, C, B)}
    return p, v, xs, ys, data


@cases
def mlp_softmax_by_hand(rng):
    """tanh MLP, softmax typed with sp.exp, the NLL with sp.log: the lecture's formulas."""
    p, v, xs, ys, data = _mlp(rng)
    h = sp.tanh(xs @ p["W1"] + p["b1"])
    z = h @ p["W2"] + p["b2"]
    prob = sp.exp(z) / sp.exp(z).sum(axis=1, keepdims=True)
    loss = -(sg.one_hot(ys, C) * sp.log(prob)).sum(axis=1).mean()

    def twin(t, d):
        z = torch.tanh(d["x"] @ t["W1"] + t["b1"]) @ t["W2"] + t["b2"]
        return torch.nn.functional.cross_entropy(z, d["y"])
    return loss, list(p.values()), [xs, ys], v, data, twin


@cases
def max_abs_sqrt(rng):
    """relu as sp.Max(z, 0), an L1 loss with sp.Abs, a norm penalty with sp.sqrt(v + eps)."""
    p, v, xs, _, data = _mlp(rng)
    h = sp.Max(xs @ p["W1"] + p["b1"], 0)
    loss = sp.Abs(h @ p["W2"] + p["b2"]).mean() + sp.sqrt((p["W1"] ** 2).sum() + 1e-8)

    def twin(t, d):
        h = torch.relu(d["x"] @ t["W1"] + t["b1"])
        return (h @ t["W2"] + t["b2"]).abs().mean() + torch.sqrt((t["W1"] ** 2).sum() + 1e-8)
    return loss, list(p.values()), [xs], v, {"x": data["x"]}, twin


@cases
def gaussian_nll(rng):
    """A heteroscedastic regression head: mean and log-variance, ½log(2π) + ½logσ² + (t − μ)²/2σ²."""
    p, v, xs, _, data = _mlp(rng)
    ts = sg.tensor("t", (N,))
    out = sp.tanh(xs @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]
    mu, logv = out[:, 0], out[:, 1]
    loss = (sp.log(2 * sp.pi) / 2 + logv / 2 + (ts - mu) ** 2 / (2 * sp.exp(logv))).mean()

    def twin(t, d):
        out = torch.tanh(d["x"] @ t["W1"] + t["b1"]) @ t["W2"] + t["b2"]
        return torch.nn.functional.gaussian_nll_loss(out[:, 0], d["t"], out[:, 1].exp(), full=True)
    return loss, list(p.values()), [xs, ts], v, {"x": data["x"], "t": rng.normal(size=B)}, twin


@cases
def attention_block(rng):
    """Single-head self-attention with the softmax written as sp.exp(s) / sp.exp(s).sum(...),
    a leaky Piecewise activation and an sp.sin positional term."""
    T, E = 3, 4
    p, v = params(rng, {"Wq": (E, E), "Wk": (E, E), "Wv": (E, E)})
    xs = sg.tensor("x", (N, T, E))
    pos = sp.sin(xs)
    q, k, val = (xs + pos) @ p["Wq"], (xs + pos) @ p["Wk"], xs @ p["Wv"]
    s = q @ k.mT / sp.sqrt(E)
    a = sp.exp(s) / sp.exp(s).sum(axis=-1, keepdims=True)
    o = a @ val
    loss = sp.Piecewise((o, o > 0), (o / 10, True)).mean(axis=(1, 2)).sum()

    def twin(t, d):
        xp = d["x"] + torch.sin(d["x"])
        s = (xp @ t["Wq"]) @ (xp @ t["Wk"]).mT / E ** 0.5
        o = torch.softmax(s, -1) @ (d["x"] @ t["Wv"])
        return torch.where(o > 0, o, o / 10).mean(dim=(1, 2)).sum()
    return loss, list(p.values()), [xs], v, {"x": rng.normal(size=(B, T, E))}, twin


@pytest.mark.parametrize("name", list(cases))
def test_lecture_notation_models_match_torch(name):
    compare_case(torch, cases, name)


def test_values_of_each_node_match_numpy():
    """The compiled forward of each SymPy node equals NumPy's function of the same entries."""
    xs = sg.tensor("x", (N, 3))
    w = sg.tensor("w", (3,))
    xv = np.random.default_rng(3).uniform(0.2, 2.0, size=(5, 3))
    wv = np.array([0.3, -1.2, 0.7])
    for build, ref in ((sp.tanh, np.tanh), (sp.exp, np.exp), (sp.log, np.log), (sp.sqrt, np.sqrt),
                       (lambda e: sp.Max(e, 1), lambda a: np.maximum(a, 1)), (sp.cos, np.cos)):
        loss = (build(xs) * w).sum(axis=1).mean()
        got = sg.compile(loss, [w], [xs], dtype="float64").loss({"w": wv}, {"x": xv})
        assert abs(got - (ref(xv) * wv).sum(axis=1).mean()) < 1e-12


def test_a_matmul_shape_error_prints_the_operands_as_the_product_does():
    """x.T @ (1 - h.T**2) with mismatched sizes printed its operand as 'x.T @ 1 - tanh(x @ W).T**2',
    another expression than the one written."""
    W = sg.tensor("W", (3, 2))
    with pytest.raises(sg.ShapeError, match=r"x\.T @ \(1 - tanh\(x @ W\)\.T\*\*2\): inner dimensions differ"):
        x.T @ (1 - sp.tanh(x @ W).T ** 2)
    with pytest.raises(sg.ShapeError, match=r"\(x \+ 1\) @ \(2\*x\): inner"):
        (x + 1) @ (x * 2)


def test_sympy_diff_by_a_tensor_names_sg_grad():
    """sp.diff(L, W), a SymPy user's first try, was SymPy's "Can't calculate derivative wrt W."."""
    W = sg.tensor("W", (3, 2))
    L = sp.tanh(x @ W).sum()
    for attempt in (lambda: sp.diff(L, W), lambda: L.diff(W)):
        with pytest.raises(sg.ArgumentError, match=r"sg\.grad\(f, W\)"):
            attempt()
    assert sg.grad(L, W) == x.T @ (1 - sg.tanh(x @ W) ** 2)
