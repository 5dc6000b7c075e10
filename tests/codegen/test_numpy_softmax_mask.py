"""Whole-batch NumPy programs: a softmax over an axis is one exp, kept for the backward pass
(`codegen.printers.numpy_tensor.lse_keeping_softmax`), and a mask ``where(c, s, −inf)`` over a
fixed (T, T) mask is a masked copy, not ``numpy.where`` over the scores
(`codegen.numpy_whole_batch.WholeBatchScheduler._masked_fill`), or for a causal mask its rows
above the diagonal set (`codegen.numpy_causal_mask`). Loss and gradients against
torch.autograd in float64, with torch's ``masked_fill`` and ``softmax``/``cross_entropy``."""
from __future__ import annotations

import re

import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg
from tests.codegen.torch_agreement import assert_equals_torch

N = sp.Symbol("N", integer=True, positive=True)
T, D, V = 6, 4, 5


def _function(source: str, name: str) -> str:
    """The text of one function of a generated module."""
    m = re.search(rf"^def {name}\(.*?(?=^def |\Z)", source, re.M | re.S)
    return m.group(0)


def _attention():
    x, Wq, Wk = sg.tensor("x", (N, T, D)), sg.tensor("Wq", (D, D)), sg.tensor("Wk", (D, D))
    s = (x @ Wq) @ (x @ Wk).swapaxes(-2, -1) / sp.sqrt(D)
    s = sg.where(sg.tril(sg.ones((T, T))) > 0, s, float("-inf"))
    a = sg.softmax(s, axis=-1)
    return sg.mean((a @ x) ** 2), [Wq, Wk], [x]


def _torch_attention(vals, x):
    t = {k: torch.tensor(v, requires_grad=True) for k, v in vals.items()}
    xt = torch.tensor(x)
    s = (xt @ t["Wq"]) @ (xt @ t["Wk"]).transpose(-2, -1) / D ** 0.5
    s = s.masked_fill(torch.tril(torch.ones(T, T, dtype=torch.float64)) == 0, float("-inf"))
    loss = ((s.softmax(-1) @ xt) ** 2).mean()
    loss.backward()
    return loss.item(), {k: v.grad.numpy() for k, v in t.items()}


def test_masked_softmax_is_one_exp_and_a_masked_copy_and_equals_torch():
    loss, params, inputs = _attention()
    prog = sg.compile(loss, params, inputs, target="numpy", dtype="float64")
    grad = _function(prog.source, "grad")
    assert grad.count("numpy.exp(") == 1, grad             # the softmax's exp, kept for the backward
    # the causal mask: its rows above the diagonal set (`codegen.numpy_causal_mask`)
    assert "for row in range(5): " in grad and "-numpy.inf" in grad
    assert not re.search(r"numpy\.where\([^\n]*-numpy\.inf", grad), grad   # no where over the scores
    # the scores die at the softmax: it is worked out in their buffer, no new (N, T, T) array, and
    # that buffer is not deleted while the softmax lives in it
    m = re.search(r"\n    (v\d+) -= (v\d+_max)\n    numpy\.exp\(\1, out=\1\)\n", grad)
    assert m and "numpy.subtract(" not in grad, grad
    lines = grad.splitlines()
    word = re.compile(rf"\b{m.group(1)}\b")
    dels = [k for k, ln in enumerate(lines) if ln.lstrip().startswith("del ") and word.search(ln)]
    reads = [k for k, ln in enumerate(lines) if not ln.lstrip().startswith(("del ", "#")) and word.search(ln)]
    assert len(dels) == 1 and dels[0] > max(reads), grad       # deleted once, after the backward's last read
    rng = np.random.default_rng(0)
    vals = {"Wq": rng.normal(size=(D, D)) * 2, "Wk": rng.normal(size=(D, D)) * 2}
    x = rng.normal(size=(3, T, D))
    want_loss, want = _torch_attention(vals, x)
    assert_equals_torch(prog, vals, {"x": x}, want_loss, want)


def test_masked_softmax_in_float32_stays_float32_and_finite():
    loss, params, inputs = _attention()
    prog = sg.compile(loss, params, inputs, target="numpy", dtype="float32")
    rng = np.random.default_rng(1)
    vals = {"Wq": rng.normal(size=(D, D)).astype(np.float32), "Wk": rng.normal(size=(D, D)).astype(np.float32)}
    x = rng.normal(size=(2, T, D)).astype(np.float32)
    want_loss, want = _torch_attention({k: v.astype(np.float64) for k, v in vals.items()}, x.astype(np.float64))
    got = prog.grad(vals, {"x": x})
    for k in vals:
        assert got[k].dtype == np.float32 and np.isfinite(got[k]).all(), k
        np.testing.assert_allclose(got[k], want[k], rtol=1e-4, atol=1e-5, err_msg=k)


def test_cross_entropy_keeps_its_softmax_and_equals_torch():
    x, W = sg.tensor("x", (N, T, D)), sg.tensor("W", (D, V))
    y = sg.tensor("y", (N, T), integer=True)
    prog = sg.compile(sg.cross_entropy(x @ W, y, axis=-1), [W], [x, y], target="numpy", dtype="float64")
    grad = _function(prog.source, "grad")
    assert grad.count("numpy.exp(") == 1, grad             # lse and the backward's softmax: one exp
    rng = np.random.default_rng(2)
    vals = {"W": rng.normal(size=(D, V)) * 3}
    xs, ys = rng.normal(size=(4, T, D)), rng.integers(0, V, size=(4, T))
    Wt = torch.tensor(vals["W"], requires_grad=True)
    want = torch.nn.functional.cross_entropy((torch.tensor(xs) @ Wt).reshape(-1, V), torch.tensor(ys).reshape(-1))
    want.backward()
    b = {"x": xs, "y": ys.astype(np.float64)}
    assert prog.loss(vals, b) == pytest.approx(want.item(), rel=1e-12)
    np.testing.assert_allclose(prog.grad(vals, b)["W"], Wt.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_padding_and_causal_masked_fill_are_masked_copies_and_equal_torch():
    # torch's spelling, masked_fill(mask, −inf) (the number first in the where), twice: a padding
    # mask of (N, 1, 1, T) — a batch input — and then the causal one of (T, T)
    x, pad, Wq = sg.tensor("x", (N, T, D)), sg.tensor("pad", (N, T)), sg.tensor("Wq", (D, D))
    s = ((x @ Wq) @ x.swapaxes(-2, -1)).reshape(N, 1, T, T)
    s = s.masked_fill(pad[:, None, None, :] < 0.5, float("-inf"))
    s = s.masked_fill(sg.tril(sg.ones((T, T))) < 0.5, float("-inf"))
    loss = sg.mean((s.softmax(-1).reshape(N, T, T) @ x) ** 2)
    prog = sg.compile(loss, [Wq], [x, pad], target="numpy", dtype="float64")
    grad = _function(prog.source, "grad")
    # the padding mask a masked copy; the causal one its rows above the diagonal (`codegen.numpy_causal_mask`)
    assert grad.count("numpy.copyto(") == 1 and grad.count("for row in range(5): ") == 1, grad
    assert not re.search(r"numpy\.where\([^\n]*-numpy\.inf", grad), grad
    rng = np.random.default_rng(3)
    lens = np.array([1, 3, T, 2])          # row 0 always has its key 0: no row is all −inf
    xs, pads = rng.normal(size=(4, T, D)), (np.arange(T)[None] < lens[:, None]).astype(float)
    vals = {"Wq": rng.normal(size=(D, D))}
    Wt, xt, pt = torch.tensor(vals["Wq"], requires_grad=True), torch.tensor(xs), torch.tensor(pads)
    st = ((xt @ Wt) @ xt.transpose(-2, -1)).reshape(4, 1, T, T)
    st = st.masked_fill(pt[:, None, None, :] == 0, float("-inf"))
    st = st.masked_fill(torch.tril(torch.ones(T, T, dtype=torch.float64)) == 0, float("-inf"))
    want = ((st.softmax(-1).reshape(4, T, T) @ xt) ** 2).mean()
    want.backward()
    b = {"x": xs, "pad": pads}
    assert prog.loss(vals, b) == pytest.approx(want.item(), rel=1e-12)
    np.testing.assert_allclose(prog.grad(vals, b)["Wq"], Wt.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_softmax_over_a_middle_axis_is_one_exp_and_equals_torch():
    x, W = sg.tensor("x", (N, T, D)), sg.tensor("W", (D, D))
    a = sg.softmax(x @ W, axis=1)                            # over T, not the last axis
    prog = sg.compile(sg.mean((a * x) ** 2), [W], [x], target="numpy", dtype="float64")
    assert _function(prog.source, "grad").count("numpy.exp(") == 1
    rng = np.random.default_rng(4)
    vals, xs = {"W": rng.normal(size=(D, D)) * 2}, rng.normal(size=(3, T, D))
    Wt, xt = torch.tensor(vals["W"], requires_grad=True), torch.tensor(xs)
    want = (((xt @ Wt).softmax(1) * xt) ** 2).mean()
    want.backward()
    assert prog.loss(vals, {"x": xs}) == pytest.approx(want.item(), rel=1e-12)
    np.testing.assert_allclose(prog.grad(vals, {"x": xs})["W"], Wt.grad.numpy(), rtol=1e-10, atol=1e-14)
