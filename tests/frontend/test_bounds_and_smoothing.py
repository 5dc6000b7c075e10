"""sg.clip / x.clip, sg.maximum / sg.minimum, x.std(ddof=), sg.huber / sg.smooth_l1 and
cross_entropy(label_smoothing=): values and gradients against torch (float64) and central finite
differences; the boundary value of clip's gradient (the subgradient policy); compiled with the
NumPy target and stepped; wrong uses are errors that name the problem."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch
import torch.nn.functional as TF

import symgrad as sg
from symgrad.core.evaluate import numeric
from tests.oracle import central_differences

N = sp.Symbol("N", integer=True, positive=True)


def _agree(loss, wrt, values, torch_loss, fd=True):
    """The scalar ``loss`` and its gradients equal torch's (float64) and, for ``fd``, central finite
    differences of the forward alone."""
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=k in wrt) if v.dtype.kind == "f"
         else torch.tensor(v) for k, v in values.items()}
    ref = torch_loss(**t)
    ref.backward()
    np.testing.assert_allclose(numeric(loss, values), ref.item(), rtol=1e-10, atol=1e-12)
    syms = {s.name: s for s in loss.free_symbols if getattr(s, "name", None) in wrt}
    grads = sg.grad(loss, [syms[n] for n in wrt])
    point = {s: values[s.name] for s in loss.free_symbols if hasattr(s, "name") and s.name in values}
    fds = central_differences(loss, [syms[n] for n in wrt], point) if fd else [None] * len(wrt)
    for name, g, d in zip(wrt, grads, fds):
        got = np.asarray(numeric(g, values), dtype=float)
        np.testing.assert_allclose(got, t[name].grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=f"d/d{name}")
        if d is not None:
            np.testing.assert_allclose(got, d, rtol=1e-6, atol=1e-7, err_msg=f"finite differences d/d{name}")


def _away(rng, shape, kinks, gap=0.05):
    """Normal draws kept at least ``gap`` from each kink (finite differences straddle none)."""
    v = rng.normal(size=shape) * 2
    for k in kinks:
        near = np.abs(v - k) < gap
        v[near] = k + np.where(v[near] >= k, gap, -gap) * 2
    return v


# -- clip ---------------------------------------------------------------------------------------
def test_clip_equals_torch_clamp_and_finite_differences():
    rng = np.random.default_rng(0)
    x, w = sg.tensor("x", (5, 4)), sg.tensor("w", (5, 4))
    vals = {"x": _away(rng, (5, 4), (-0.5, 1.0)), "w": rng.normal(size=(5, 4))}
    _agree(sg.sum(x.clip(-0.5, 1.0) * w), ["x", "w"], vals, lambda x, w: (x.clamp(-0.5, 1.0) * w).sum())
    _agree(sg.sum(sg.clip(x, -0.5, 1.0) ** 2), ["x"], vals, lambda x, w: (x.clamp(-0.5, 1.0) ** 2).sum())
    _agree(sg.sum(x.clamp(min=-0.5) * w), ["x"], vals, lambda x, w: (x.clamp(min=-0.5) * w).sum())
    _agree(sg.sum(x.clip(None, 1.0) * w), ["x"], vals, lambda x, w: (x.clamp(max=1.0) * w).sum())


def test_clip_gradient_at_the_bounds_is_one_as_relu_and_torch_clamp():
    """Policy: clip'(lo) = clip'(hi) = 1 (relu'(0) = 1; torch.clamp's backward includes the bounds).
    relu_at_zero=0 makes both 0 (torch's hardtanh)."""
    x = sg.tensor("x", (6,))
    xv = np.array([-1.0, -0.5, 0.0, 2.0, 3.0, -2.0])          # x = lo and x = hi included
    for f, torch_f in ((x.clip(-1, 2), lambda t: t.clamp(-1.0, 2.0)), (x.clip(-1), lambda t: t.clamp(min=-1.0)),
                       (x.clip(None, 2), lambda t: t.clamp(max=2.0))):
        tx = torch.tensor(xv, requires_grad=True)
        torch_f(tx).sum().backward()
        np.testing.assert_array_equal(numeric(sg.grad(f.sum(), x), {"x": xv}), tx.grad.numpy(), err_msg=str(f))
    np.testing.assert_array_equal(numeric(sg.grad(x.clip(-1, 2).sum(), x), {"x": xv}), [1, 1, 1, 1, 0, 0])
    th = torch.tensor(xv, requires_grad=True)
    TF.hardtanh(th, -1.0, 2.0).sum().backward()
    g0 = numeric(sg.grad(x.clip(-1, 2).sum(), x, policy=sg.Subgradients(relu_at_zero=0)), {"x": xv})
    np.testing.assert_array_equal(g0, th.grad.numpy())
    assert list(g0) != list(numeric(sg.grad(x.clip(-1, 2).sum(), x), {"x": xv}))


def test_clip_errors_name_the_problem():
    x = sg.tensor("x", (3,))
    with pytest.raises(sg.ArgumentError, match="lower bound 2 is above the upper bound 1"):
        x.clip(2, 1)
    with pytest.raises(sg.ArgumentError, match="at least one bound"):
        sg.clip(x)
    with pytest.raises(sg.ShapeError, match="cannot broadcast.*lo = lo \\(4,\\)"):     # tensor bounds broadcast
        sg.clip(x, sg.tensor("lo", (4,)), 1)
    with pytest.raises(sg.ArgumentError, match="is a matrix"):
        sg.clip(x, sp.MatrixSymbol("M", 3, 1), 1)
    with pytest.raises(sg.ArgumentError, match="not a real number"):
        x.clip(sp.I, 1)


def test_derive_of_clip_names_it():
    x, w = sg.tensor("x", (3,)), sg.tensor("w", (3,))
    text = str(sg.derive(sg.sum(x.clip(-1, 1) * w), x))
    assert "u₁ = clip(x, −1, 1)" in text, text                 # the forward names the function
    assert "derivative of clip" in text and "H(1 − x) ⊙ H(1 + x)" in text, text
    s = sp.Symbol("s")
    steps = str(sg.derive(sg.clip(s, 0, 6) ** 2, s))
    assert "clip(s, 0, 6)" in steps and "Clip" not in steps, steps


# -- maximum / minimum ---------------------------------------------------------------------------
def test_maximum_minimum_broadcast_as_torch():
    rng = np.random.default_rng(1)
    a, b = sg.tensor("a", (4, 3)), sg.tensor("b", (3,))
    vals = {"a": rng.normal(size=(4, 3)), "b": rng.normal(size=3)}
    m = sg.maximum(a, b)
    assert m.shape == (4, 3)
    _agree(sg.sum(m ** 2), ["a", "b"], vals, lambda a, b: (torch.maximum(a, b) ** 2).sum())
    _agree(sg.sum(sg.minimum(a, b) * a), ["a", "b"], vals, lambda a, b: (torch.minimum(a, b) * a).sum())
    assert sg.max(a, axis=0).shape == (3,)              # sg.max stays the reduction
    with pytest.raises(sg.ShapeError):
        sg.maximum(a, sg.tensor("c", (4,)))
    with pytest.raises(sg.ArgumentError, match="sp.Max"):
        sg.maximum(sp.Symbol("u"), 1)


# -- std -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("ddof", [0, 1])
def test_std_with_ddof_equals_torch(ddof):
    rng = np.random.default_rng(2)
    x = sg.tensor("x", (5, 3))
    vals = {"x": rng.normal(size=(5, 3))}
    _agree(sg.sum(x.std(axis=0, ddof=ddof) * sp.Integer(3)), ["x"], vals,
           lambda x: (x.std(dim=0, correction=ddof) * 3).sum())
    _agree(x.std(correction=ddof), ["x"], vals, lambda x: x.std(correction=ddof))
    np.testing.assert_allclose(numeric(sg.std(x, axis=1, ddof=ddof), vals), vals["x"].std(axis=1, ddof=ddof))
    with pytest.raises(sg.ArgumentError, match="not both"):
        x.std(axis=0, ddof=1, correction=1)


@pytest.mark.parametrize("ddof", [0, 1])
def test_var_takes_numpys_ddof_too(ddof):
    rng = np.random.default_rng(4)
    x = sg.tensor("x", (5, 3))
    vals = {"x": rng.normal(size=(5, 3))}
    _agree(sg.sum(x.var(axis=0, ddof=ddof)), ["x"], vals, lambda x: x.var(dim=0, correction=ddof).sum())
    np.testing.assert_allclose(numeric(sg.var(x, axis=1, ddof=ddof), vals), vals["x"].var(axis=1, ddof=ddof))
    with pytest.raises(sg.ArgumentError, match="not both"):
        sg.var(x, ddof=1, correction=1)


# -- huber / smooth_l1 -----------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_huber_and_smooth_l1_equal_torch(reduction):
    rng = np.random.default_rng(3)
    a, b = sg.tensor("a", (6, 2)), sg.tensor("b", (6, 2))
    bv = rng.normal(size=(6, 2))
    d = _away(rng, (6, 2), (-2.0, 2.0, -0.5, 0.5, 0.0))       # ŷ − y away from ±δ, ±β and 0
    vals = {"a": bv + d, "b": bv}
    _agree(sg.huber(a, b, delta=2, reduction=reduction), ["a", "b"], vals,
           lambda a, b: TF.huber_loss(a, b, delta=2.0, reduction=reduction))
    _agree(sg.smooth_l1(a, b, beta=0.5, reduction=reduction), ["a", "b"], vals,
           lambda a, b: TF.smooth_l1_loss(a, b, beta=0.5, reduction=reduction))
    _agree(sg.smooth_l1(a, b, beta=0, reduction=reduction), ["a"], vals,
           lambda a, b: TF.smooth_l1_loss(a, b, beta=0.0, reduction=reduction))


def test_huber_errors():
    a, b = sg.tensor("a", (3,)), sg.tensor("b", (3,))
    with pytest.raises(sg.ArgumentError, match="delta must be a number > 0, got 0"):
        sg.huber(a, b, delta=0)
    with pytest.raises(sg.ArgumentError, match="beta must be a number >= 0, got -1"):
        sg.smooth_l1(a, b, beta=-1)
    with pytest.raises(sg.ArgumentError, match="for tensors"):
        sg.huber(sp.Symbol("u"), sp.Symbol("v"))


# -- cross_entropy(label_smoothing=) ---------------------------------------------------------------
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("eps", [0.1, 0.35, 1])
def test_label_smoothing_with_labels_equals_torch(eps, reduction):
    rng = np.random.default_rng(4)
    s, y = sg.tensor("s", (N, 4)), sg.tensor("y", (N,), integer=True)
    vals = {"s": rng.normal(size=(5, 4)), "y": rng.integers(0, 4, 5)}
    loss = sg.cross_entropy(s, y, label_smoothing=eps, reduction=reduction)
    _agree(loss, ["s"], vals, lambda s, y: TF.cross_entropy(s, y, label_smoothing=eps, reduction=reduction),
           fd=False)
    fixed = {"s": vals["s"], "y": vals["y"]}
    s5, y5 = sg.tensor("s", (5, 4)), sg.tensor("y", (5,), integer=True)   # fixed N for the differences
    loss5 = sg.cross_entropy(s5, y5, label_smoothing=eps, reduction=reduction)
    fd = central_differences(loss5, [s5], {s5: fixed["s"], y5: fixed["y"]})[0]
    np.testing.assert_allclose(numeric(sg.grad(loss5, s5), fixed), fd, rtol=1e-6, atol=1e-8)


def test_label_smoothing_with_probabilities_and_classes_on_axis_1():
    rng = np.random.default_rng(5)
    s, p = sg.tensor("s", (3, 4, 2)), sg.tensor("p", (3, 4, 2))
    pv = rng.dirichlet(np.ones(4), size=(3, 2)).transpose(0, 2, 1)
    vals = {"s": rng.normal(size=(3, 4, 2)), "p": pv}
    _agree(sg.cross_entropy(s, p, axis=1, label_smoothing=0.2), ["s", "p"], vals,
           lambda s, p: TF.cross_entropy(s, p, label_smoothing=0.2))


@pytest.mark.parametrize("eps", [1, 1.0, sp.Integer(1)])
def test_label_smoothing_one_is_the_uniform_target_as_torch(eps):
    """torch takes ε in [0, 1]; at ε = 1 the target is uniform, the labels (or probabilities) drop
    out and the loss is lse(s) − mean(s) per example. Probabilities, classes on axis 1."""
    rng = np.random.default_rng(8)
    s, p = sg.tensor("s", (3, 4, 2)), sg.tensor("p", (3, 4, 2))
    vals = {"s": rng.normal(size=(3, 4, 2)), "p": rng.dirichlet(np.ones(4), size=(3, 2)).transpose(0, 2, 1)}
    loss = sg.cross_entropy(s, p, axis=1, label_smoothing=eps)
    _agree(loss, ["s"], vals, lambda s, p: TF.cross_entropy(s, p, label_smoothing=1.0))
    tp = torch.tensor(vals["p"], requires_grad=True)
    TF.cross_entropy(torch.tensor(vals["s"]), tp, label_smoothing=1.0).backward()
    np.testing.assert_array_equal(numeric(sg.grad(loss, p), vals), tp.grad.numpy())      # both 0
    assert "-0" not in str(loss) and "0*" not in str(loss), loss        # no zero-weighted target term


def test_label_smoothing_one_compiled_equals_torch():
    rng = np.random.default_rng(9)
    x, y, W = sg.tensor("x", (N, 3)), sg.tensor("y", (N,), integer=True), sg.tensor("W", (3, 4))
    prog = sg.compile(sg.cross_entropy(x @ W, y, label_smoothing=1), [W], [x, y], dtype="float64")
    xv, yv, Wv = rng.normal(size=(6, 3)), rng.integers(0, 4, 6), rng.normal(size=(3, 4))
    tW = torch.tensor(Wv, requires_grad=True)
    ref = TF.cross_entropy(torch.tensor(xv) @ tW, torch.tensor(yv), label_smoothing=1.0)
    ref.backward()
    assert prog.loss({"W": Wv}, {"x": xv, "y": yv}) == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(prog.grad({"W": Wv}, {"x": xv, "y": yv})["W"], tW.grad.numpy(), rtol=1e-10)


def test_label_smoothing_outside_zero_one_is_refused():
    s, y = sg.tensor("s", (N, 3)), sg.tensor("y", (N,), integer=True)
    for bad in (1.0001, 1.5, -0.1, True, sp.Symbol("e")):
        with pytest.raises(sg.ArgumentError, match=r"label_smoothing must be a number in \[0, 1\]"):
            sg.cross_entropy(s, y, label_smoothing=bad)
    assert sg.cross_entropy(s, y, label_smoothing=0) == sg.cross_entropy(s, y)
    with pytest.raises(RuntimeError, match="between 0.0 and 1.0"):      # torch's range, the oracle
        TF.cross_entropy(torch.zeros(2, 3), torch.tensor([0, 1]), label_smoothing=1.0001)


# -- compiled and trained --------------------------------------------------------------------------
def test_compiles_for_numpy_and_a_step_lowers_the_loss():
    rng = np.random.default_rng(6)
    x, y = sg.tensor("x", (N, 3)), sg.tensor("y", (N,), integer=True)
    W, b = sg.tensor("W", (3, 4)), sg.tensor("b", (4,))
    r = sg.tensor("r", (N, 4))
    h = (x @ W + b).clip(-1, 1)
    loss = (sg.cross_entropy(sg.maximum(h, -0.5), y, label_smoothing=0.1)
            + sg.huber(h, r, delta=0.5) + sg.smooth_l1(h, r) + sg.sum((x @ W).std(axis=0)) / 10)
    prog = sg.compile(loss, [W, b], [x, y, r], target="numpy", dtype="float64", optimizer=sg.optim.SGD(lr=0.1))
    values = {"W": rng.normal(size=(3, 4)) * 0.3, "b": np.zeros(4)}
    batch = {"x": rng.normal(size=(8, 3)), "y": rng.integers(0, 4, 8), "r": rng.normal(size=(8, 4)) * 0.3}
    np.testing.assert_allclose(prog.loss(values, batch), numeric(loss, {**values, **batch}), rtol=1e-10)
    g = prog.grad(values, batch)
    np.testing.assert_allclose(g["W"], numeric(sg.grad(loss, W), {**values, **batch}), rtol=1e-9, atol=1e-12)
    before = prog.loss(values, batch)
    new, _ = prog.step(values, prog.init_state(values), batch)
    assert prog.loss(new, batch) < before
