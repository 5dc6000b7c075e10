"""The shift of a compiled softmax or log-sum-exp, the max of each row, is ``numpy.fmax.reduce`` (2026-12-01,
`codegen.printers.numpy_tensor.row_max`): 0.85 of ``.max``'s time over rows of 64 (bench/row_max.py),
the same maxima where a row holds no NaN. Checked: the generated code takes that form (whole batch:
the attention's softmax, the cross-entropy's log-sum-exp, a log-sum-exp alone; per example: a
column's and a matrix's), and its loss and gradients equal bit for bit those of the same module with
``.max`` written back — over rows with NaN, +inf, a causal mask's −inf and rows of −inf only, in
float32 and float64 — and torch.autograd's where the rows are finite."""
from __future__ import annotations

import re

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from tests.codegen.same_bits import assert_same_bits, run_function

torch = pytest.importorskip("torch")
N = sp.Symbol("N", integer=True, positive=True)
T, D, C = 5, 4, 6


def _with_max(source: str) -> str:
    """The module as written before: each ``numpy.fmax.reduce(z, axis=k[, keepdims=True])`` as
    ``z.max(k[, keepdims=True])``."""
    old, n = re.subn(r"numpy\.fmax\.reduce\((.+?), axis=(\(1, 2\)|\d+)(, keepdims=True)?\)",
                     lambda m: f"{m.group(1)}.max({m.group(2)}{m.group(3) or ''})", source)
    assert n and "fmax" not in old.split("# ")[0]
    return old


def _run(source: str, fn: str, params: list, batch: list):
    return run_function(source, fn, params, batch, quiet=True)      # (NaN, inf and log 0 of the odd rows)


def _attention_and_cross_entropy():
    x, Wq, Wk = sg.tensor("x", (N, T, D)), sg.tensor("Wq", (D, D)), sg.tensor("Wk", (D, D))
    Wo, y = sg.tensor("Wo", (D, C)), sg.tensor("y", (N, T), integer=True)
    s = (x @ Wq) @ (x @ Wk).swapaxes(-2, -1) / sp.sqrt(D)
    s = sg.where(sg.tril(sg.ones((T, T))) > 0, s, float("-inf"))
    logits = (sg.softmax(s, axis=-1) @ x) @ Wo
    return sg.cross_entropy(logits.reshape((N * T, C)), y.reshape((N * T,))), [Wq, Wk, Wo], [x, y]


def _torch_attention_and_cross_entropy(vals, x, y):
    t = {k: torch.tensor(v, requires_grad=True) for k, v in vals.items()}
    xt = torch.tensor(x)
    s = (xt @ t["Wq"]) @ (xt @ t["Wk"]).transpose(-2, -1) / D ** 0.5
    s = s.masked_fill(torch.tril(torch.ones(T, T, dtype=torch.float64)) == 0, float("-inf"))
    logits = (s.softmax(-1) @ xt) @ t["Wo"]
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, C), torch.tensor(y).reshape(-1))
    loss.backward()
    return loss.item(), {k: v.grad.numpy() for k, v in t.items()}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_attention_and_cross_entropy_shift_by_fmax_bit_for_bit_as_by_max(dtype):
    loss, params, inputs = _attention_and_cross_entropy()
    prog = sg.compile(loss, params, inputs, dtype=dtype)
    grad = prog.source.split("\ndef grad(")[1].split("\ndef ")[0]
    assert grad.count("_max = numpy.fmax.reduce(") == 2, grad      # the attention's and the cross-entropy's
    assert not re.search(r"_max = .*\.max\(", grad), grad
    rng = np.random.default_rng(0)
    vals = [rng.normal(size=s).astype(dtype) for s in ((D, D), (D, D), (D, C))]
    x = rng.normal(size=(4, T, D)).astype(dtype)
    y = rng.integers(0, C, (4, T))
    for fn in ("loss", "grad"):
        assert_same_bits(_run(prog.source, fn, vals, [x, y]), _run(_with_max(prog.source), fn, vals, [x, y]), fn)
    # example 1 with a NaN, example 2 with +inf: their rows go NaN as they did with .max
    x[1, 2, 0], x[2, 3, 1] = np.nan, np.inf
    for fn in ("loss", "grad"):
        assert_same_bits(_run(prog.source, fn, vals, [x, y]), _run(_with_max(prog.source), fn, vals, [x, y]),
                         f"{fn}, odd rows")
    if dtype == "float64":      # and the finite case is torch's
        x = rng.normal(size=(3, T, D))
        y = rng.integers(0, C, (3, T))
        named = dict(zip(("Wq", "Wk", "Wo"), vals))
        want_loss, want = _torch_attention_and_cross_entropy(named, x, y)
        assert prog.loss(named, {"x": x, "y": y}) == pytest.approx(want_loss, rel=1e-12)
        got = prog.grad(named, {"x": x, "y": y})
        for k in named:
            np.testing.assert_allclose(got[k], want[k], rtol=1e-10, atol=1e-14, err_msg=k)


ROWS = np.array([[-np.inf] * C, [1.0, np.nan, 0, 2, -1, 3], [0.0, 1.0, 2.0, np.inf, -np.inf, 4],
                 [-3.0, 0.5, 80.0, -0.0, 0.0, 1], [0.0, -0.0, 0.0, -np.inf, -0.0, -np.inf],
                 [1.5, 2.5, -7, 3, 3, 0.25]])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("declared", ["whole batch", "per example, vector", "per example, matrix"])
@pytest.mark.parametrize("keep_softmax", [False, True])
def test_logsumexp_shifts_by_fmax_bit_for_bit_as_by_max(declared, keep_softmax, dtype):
    if declared == "whole batch":
        z, w = sg.tensor("z", (N, C)), sg.tensor("w", (C,))
        lse = sg.logsumexp(z + w, axis=1)
        loss = sp.exp(lse).mean() if keep_softmax else lse.mean()
        rows = ROWS
    elif declared == "per example, vector":
        z, w = sg.tensor("z", (C,)), sg.tensor("w", (C,))
        loss = sp.exp(sg.logsumexp(z + w)) if keep_softmax else sg.logsumexp(z + w)
        rows = ROWS
    else:
        z, w = sp.MatrixSymbol("z", 2, 3), sp.MatrixSymbol("w", 2, 3)
        loss = sp.exp(sg.logsumexp(z + w)) if keep_softmax else sg.logsumexp(z + w)
        rows = ROWS.reshape((-1, 2, 3))
    prog = sg.compile(loss, [w], [z], dtype=dtype)
    assert "_max = numpy.fmax.reduce(" in prog.source and not re.search(r"_max = .*\.max\(", prog.source)
    wv = np.linspace(-0.5, 0.5, C).reshape(w.shape).astype(dtype)
    for fn in ("loss", "grad"):
        assert_same_bits(_run(prog.source, fn, [wv], [rows.astype(dtype)]),
                         _run(_with_max(prog.source), fn, [wv], [rows.astype(dtype)]), fn)
    # the finite rows: torch's loss and gradient
    finite = rows[[3, 5]].astype(np.float64)
    wt = torch.tensor(wv.astype(np.float64), requires_grad=True)
    zt = torch.tensor(finite) + wt
    lt = torch.logsumexp(zt.reshape(len(finite), -1), 1)
    lt = torch.exp(lt).mean() if keep_softmax else lt.mean()
    lt.backward()
    got_loss = prog.loss({w.name: wv}, {z.name: finite.astype(dtype)})
    got_grad = prog.grad({w.name: wv}, {z.name: finite.astype(dtype)})[w.name]
    tol = 1e-12 if dtype == "float64" else 1e-5
    assert got_loss == pytest.approx(lt.item(), rel=tol)
    np.testing.assert_allclose(np.reshape(got_grad, wt.shape), wt.grad.numpy(), rtol=tol, atol=tol)
