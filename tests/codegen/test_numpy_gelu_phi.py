"""GELU's Φ helper (codegen/numpy_gelu_phi.py): for float32, 1/(1 + exp2(x·R(min(x², 36)))) within
2.5·2⁻²⁴ of the true Φ (SciPy's float64 ndtr), with the special values of Φ and no floating-point
warning, in 18 passes a block and none over the whole array; for float64 the four NumPy calls it
replaces, bit for bit. The generated step and gradients call it instead of those lines and agree
with the ones compiled without the rewrite (float32: to the helper's error) and with torch.autograd;
only the exact forms are rewritten."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import codegen.numpy_whole_batch as wb
import symgrad as sg
from codegen.numpy_gelu_phi import HELPER_LINES, fuse_phi
from codegen.printers.numpy_printer import NumpyPrinter
from transformer_twins import Config, batch, declare, torch_grads, torch_loss, values

special = pytest.importorskip("scipy.special")     # the true Φ (ndtr); SciPy is no dependency of symgrad

C = Config(T=16, D=32, heads=2, V=11, layers=1)     # the MLP's (N, 16, 128): 2048 entries an example
WIDE = Config(T=16, D=64, heads=2, V=11, layers=1)  # (N, 16, 256): 4096, an in-place chain in the workspace
ULP = 2.0 ** -24                                    # float32's spacing in [1/2, 1)


def _helpers():
    ns = {"numpy": np, "math": math, "DTYPE": np.float32}
    exec(compile("\n".join(NumpyPrinter.HELPERS["erf"] + ["", ""] + HELPER_LINES), "<helpers>", "exec"), ns)
    return ns


def _four_calls(ns, x, out=None):
    """The lines that the rewrite replaces, as the step printed them before."""
    v = np.multiply(0.5 * 1.4142135623730951, x, out=out)
    ns["erf"](v, out=v)
    v *= 0.5
    v += 0.5
    return v


def _points(dtype):
    rng = np.random.default_rng(0)
    x = np.concatenate([np.linspace(-8, 8, 150_001), rng.normal(0, 2, 50_000),
                        [0.0, -0.0, np.inf, -np.inf, np.nan, 1.4142135, -1.4142135, 1e-30, -1e-30]])
    return x.astype(dtype)          # 200 009 entries: three full blocks of 65 536 and a part


def test_float32_gelu_phi_is_within_two_and_a_half_units_of_the_true_phi():
    ns = _helpers()
    x = np.concatenate([np.linspace(-12, 12, 2_400_001), np.random.default_rng(1).normal(0, 3, 300_000)])
    x = x.astype(np.float32)
    got = ns["gelu_phi"](x)
    assert got.dtype == np.float32
    err = np.abs(got.astype(np.float64) - special.ndtr(x.astype(np.float64)))
    assert err.max() <= 2.5 * ULP, (err.max() / ULP, x[err.argmax()])
    assert err.mean() <= 0.3 * ULP
    tail = x <= -5                  # far left, Φ < 3e-7: an absolute error below 8e-9
    assert err[tail].max() <= 8e-9


def test_float32_gelu_phi_special_values_without_a_warning():
    ns = _helpers()
    x = np.array([0.0, -0.0, 1e-30, np.inf, -np.inf, np.nan, 1e30, -1e30, 40.0, -40.0, -200.0], np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # (NumPy's default: a warning on overflow, invalid)
        got = ns["gelu_phi"](x)
    np.testing.assert_array_equal(got[:5], [0.5, 0.5, 0.5, 1.0, 0.0])
    assert np.isnan(got[5])
    np.testing.assert_array_equal(got[6:], [1.0, 0.0, 1.0, 0.0, 0.0])
    xs = np.linspace(0, 30, 30_001, dtype=np.float32)       # monotone: never wrong side of 1/2
    p = ns["gelu_phi"](xs)
    assert np.all(np.diff(p) >= 0) and np.all(np.diff(ns["gelu_phi"](-xs)) <= 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gelu_phi_in_its_forms_of_call(dtype):
    """x itself as out, a strided x, a non-contiguous out: the same numbers as a new array; float64:
    the four calls, bit for bit."""
    ns = _helpers()
    x = _points(dtype)
    want = ns["gelu_phi"](x)
    if dtype == np.float64:
        np.testing.assert_array_equal(want, _four_calls(ns, x))
    else:
        finite = np.isfinite(x)
        assert np.abs(want[finite] - special.ndtr(x[finite].astype(np.float64))).max() <= 2.5 * ULP
    for got in (ns["gelu_phi"](x, out=np.empty_like(x)),
                ns["gelu_phi"](x.reshape(1, -1).copy(), out=np.empty((1, x.size), dtype)).reshape(-1)):
        np.testing.assert_array_equal(got, want)
    inplace = x.copy()
    assert ns["gelu_phi"](inplace, out=inplace) is inplace          # x itself as out (the step's buffers)
    np.testing.assert_array_equal(inplace, want)
    strided = np.repeat(x, 2)[::2]                                  # a non-contiguous x
    np.testing.assert_array_equal(ns["gelu_phi"](strided), want)
    out = np.empty((x.size, 2), dtype)[:, 0]                        # a non-contiguous out: a copy
    assert ns["gelu_phi"](x, out=out) is out
    np.testing.assert_array_equal(out, want)


def test_float32_gelu_phi_makes_18_passes_a_block_and_none_over_the_whole_array():
    """Each NumPy pass of the float32 helper (a call, or an in-place operator) works on one block:
    square, clip, Horner's 12, the product by x, exp2, + 1 and the quotient — 18 a block, where
    erf's 31 and the three around it were 34 until 2026-11-30's tenth session."""
    ns = _helpers()
    sizes = []
    real = np

    class Counting:
        """numpy, with the largest array argument of each call noted."""

        def __getattr__(self, name):
            f = getattr(real, name)
            if not isinstance(f, real.ufunc) and name != "clip":   # (ascontiguousarray: no pass, a view here)
                return f

            def call(*a, **k):
                sizes.append(max([v.size for v in [*a, *k.values()] if isinstance(v, real.ndarray)], default=0))
                return f(*a, **k)
            return call

    class Tracked(np.ndarray):
        """An array that notes the size of each in-place operator applied to it (a pass that is no call)."""

        def __iadd__(self, other):
            sizes.append(self.size)
            return super().__iadd__(other)

        def __isub__(self, other):
            sizes.append(self.size)
            return super().__isub__(other)

        def __imul__(self, other):
            sizes.append(self.size)
            return super().__imul__(other)

    block = ns["_ERF_BLOCK"]
    ns["_erf_scratch"].work = np.empty((3, block), np.float32).view(Tracked)
    ns["numpy"] = Counting()
    x = _points(np.float32)
    out = np.empty_like(x).view(Tracked)
    ns["gelu_phi"](x, out=out)
    ns["numpy"] = real
    passes = [s for s in sizes if s > 16]           # (not the reads of the helper's constants)
    assert max(passes) <= block < x.size
    assert passes.count(block) == 3 * 18, len(passes)
    np.testing.assert_array_equal(out, ns["gelu_phi"](x))


@pytest.fixture(scope="module", params=[C, WIDE], ids=["expression", "workspace"])
def progs(request):
    loss, params, inputs = declare(request.param)
    new = sg.compile(loss, params, inputs, target="numpy", dtype="float32", optimizer=sg.optim.SGD(lr=0.05))
    fuse = wb.fuse_phi
    wb.fuse_phi = lambda lines: (lines, False)
    try:
        old = sg.compile(loss, params, inputs, target="numpy", dtype="float32", optimizer=sg.optim.SGD(lr=0.05))
    finally:
        wb.fuse_phi = fuse
    return new, old, request.param


def _function(source, name):
    return source.split(f"\ndef {name}(")[1].split("\ndef ")[0]


def test_the_step_and_grad_call_gelu_phi(progs):
    new, old, _ = progs
    for name in ("step", "grad"):
        code = _function(new.source, name)
        assert code.count("= gelu_phi(v") == 1, name      # (N, 16, 128): one expression before
        assert "erf(" not in "".join(ln for ln in code.splitlines() if not ln.strip().startswith("#")), name
        assert "gelu_phi(" not in _function(old.source, name)
    in_workspace = "out=scratch(ws, " in [ln for ln in _function(new.source, "step").splitlines() if "gelu_phi(v" in ln][0]
    assert in_workspace == (progs[2] is WIDE)


def test_the_step_and_grad_are_as_near_to_torch_in_float64_as_without_the_rewrite(progs):
    """float32 gradients and steps, with the helper and with the four calls, against torch.autograd in
    float64 at the same points: the helper's largest error is no more than a quarter above the four
    calls' (both are float32's rounding through the network)."""
    new, old, c = progs
    start = values(c, seed=3)
    f32 = {k: v.astype(np.float32) for k, v in start.items()}
    for seed, n in enumerate([4, 6, 3]):
        x = batch(c, n=n, seed=seed)
        loss64, want = torch_grads(c, {k: v.astype(np.float64) for k, v in f32.items()}, x)
        ga, gb = new.grad(f32, x), old.grad(f32, x)
        err = lambda g: max(np.abs(g[k] - want[k]).max() / np.abs(want[k]).max() for k in want)  # noqa: E731
        assert err(ga) <= 1.25 * err(gb) + 1e-6, (err(ga), err(gb))
    a, b, t = ({k: v.copy() for k, v in f32.items()} for _ in range(3))
    sa = sb = None
    for seed in (7, 8):
        x = batch(c, n=5, seed=seed)
        _, g = torch_grads(c, {k: v.astype(np.float64) for k, v in t.items()}, x)
        t = {k: (t[k].astype(np.float64) - 0.05 * g[k]) for k in t}
        a, sa = new.step(a, sa, x)
        b, sb = old.step(b, sb, x)
    dev = lambda p: max(np.abs(p[k] - t[k]).max() for k in t)  # noqa: E731
    assert dev(a) <= 1.25 * dev(b) + 1e-7, (dev(a), dev(b))


def test_the_float32_step_follows_torch_in_float64():
    """Three float32 steps of the transformer, Φ by the helper, against torch's float64 SGD steps
    from the same start: the losses and parameters to float32's precision."""
    loss, params, inputs = declare(WIDE)
    prog = sg.compile(loss, params, inputs, target="numpy", dtype="float32", optimizer=sg.optim.SGD(lr=0.05))
    assert "gelu_phi(" in prog.source
    start = values(WIDE, seed=5)
    ours, state = {k: v.astype(np.float32) for k, v in start.items()}, None
    t = {k: torch.tensor(v, requires_grad=True) for k, v in start.items()}
    opt = torch.optim.SGD(list(t.values()), lr=0.05)
    for seed in (40, 41, 42):
        x = batch(WIDE, n=5, seed=seed)
        ours, state = prog.step(ours, state, x)
        opt.zero_grad()
        theirs = torch_loss(WIDE, t, x["ids"], x["y"])
        theirs.backward()
        opt.step()
        assert prog.last_loss == pytest.approx(theirs.item(), rel=2e-5)
    for k, v in t.items():
        np.testing.assert_allclose(ours[k], v.detach().numpy(), rtol=1e-4, atol=2e-5, err_msg=k)


@pytest.mark.parametrize("lines, fused", [
    (["v5 = numpy.multiply(0.5 * 1.4142135623730951, v2, out=scratch(ws, 'w1', (d0, 8)))",
      "erf(v5, out=v5)", "v5 *= 0.5", "v5 += 0.5"], ["v5 = gelu_phi(v2, out=scratch(ws, 'w1', (d0, 8)))"]),
    (["v5 = erf((0.5)*1.4142135623730951*v2.reshape((d0, 8)))", "v5 *= 0.5", "v5 += 0.5", "del v2"],
     ["v5 = gelu_phi(v2.reshape((d0, 8)))", "del v2"]),
    (["v5 = erf(0.7071067811865476*v2)", "v5 *= 0.5", "v5 += 0.5"], ["v5 = gelu_phi(v2)"]),
    (["v5 = (0.5)*erf((0.5)*1.4142135623730951*v2) + 0.5", "del v2"], ["v5 = gelu_phi(v2)", "del v2"]),
])
def test_the_forms_taken(lines, fused):
    assert fuse_phi(lines) == (fused, True)


@pytest.mark.parametrize("lines", [
    ["v5 = erf((0.5)*v2*1.4142135623730951)", "v5 *= 0.5", "v5 += 0.5"],        # two roundings
    ["v5 = erf((0.5)*1.4142135623730951*v2)", "v5 *= 0.5", "v5 += 0.25"],       # not Φ
    ["v5 = erf((0.5)*1.4142135623730951*v2)", "v5 *= 0.5"],                     # Φ unfinished
    ["v5 = erf((0.5)*1.4142135623730951*v5)", "v5 *= 0.5", "v5 += 0.5"],        # reads its own name
    ["v5 = erf(1.4142135623730951*v2)", "v5 *= 0.5", "v5 += 0.5"],              # erf(√2·x)
    ["v5 = (0.5)*erf((0.5)*1.4142135623730951*v2) + 0.25"],
    ["v5 = 0.5 + (0.5)*erf((0.5)*1.4142135623730951*v2)"],                     # (equal, but not taken)
    ["v5 = numpy.multiply(0.5 * 1.4142135623730951, v2, out=v5)", "erf(v5, out=v5)", "v5 *= 0.5", "v5 += 0.5"],
])
def test_other_forms_are_left_as_they_are(lines):
    assert fuse_phi(lines) == (lines, False)
