"""GELU's Φ in the float32 erf helper's blocks (codegen/numpy_gelu_phi.py): the helper ``gelu_phi``
equals the four NumPy calls it replaces bit for bit (float32 in blocks, float64 and non-contiguous
outputs as they were); the generated step and gradients call it instead of those lines and equal,
bit for bit, the ones compiled without the rewrite; its float32 passes are all over a block, none over
the whole array; only the exact forms are rewritten."""
from __future__ import annotations

import math

import numpy as np
import pytest

import codegen.numpy_whole_batch as wb
import symgrad as sg
from codegen.numpy_gelu_phi import HELPER_LINES, fuse_phi
from codegen.printers.numpy_printer import NumpyPrinter
from transformer_twins import Config, batch, declare, values

C = Config(T=16, D=32, heads=2, V=11, layers=1)     # the MLP's (N, 16, 128): 2048 entries an example
WIDE = Config(T=16, D=64, heads=2, V=11, layers=1)  # (N, 16, 256): 4096, an in-place chain in the workspace


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


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gelu_phi_equals_the_four_calls_bit_for_bit(dtype):
    ns = _helpers()
    x = _points(dtype)
    want = _four_calls(ns, x)
    for got in (ns["gelu_phi"](x), ns["gelu_phi"](x, out=np.empty_like(x)),
                ns["gelu_phi"](x.reshape(1, -1)[:, ::1].copy(), out=np.empty((1, x.size), dtype)).reshape(-1)):
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(np.signbit(got), np.signbit(want))
    inplace = x.copy()
    assert ns["gelu_phi"](inplace, out=inplace) is inplace          # x itself as out (the step's buffers)
    np.testing.assert_array_equal(inplace, want)
    strided = np.repeat(x, 2)[::2]                                  # a non-contiguous x
    np.testing.assert_array_equal(ns["gelu_phi"](strided), want)
    out = np.empty((x.size, 2), dtype)[:, 0]                        # a non-contiguous out: a copy
    assert ns["gelu_phi"](x, out=out) is out
    np.testing.assert_array_equal(out, want)


def test_float32_gelu_phi_makes_no_pass_over_the_whole_array():
    """Each NumPy pass of the float32 helper (a call, or an in-place operator) works on one block: the
    scaling by 1/√2, ``*= 0.5`` and ``+= 0.5`` are done on erf's blocks while they are in the cache
    (before: three passes over the whole array), 34 passes a block (erf's 31 and those 3)."""
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
    assert passes.count(block) == 3 * 34, len(passes)
    np.testing.assert_array_equal(out, _four_calls(ns, x))


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


def test_the_step_and_grad_equal_the_ones_without_the_rewrite_bit_for_bit(progs):
    new, old, c = progs
    start = {k: v.astype(np.float32) for k, v in values(c, seed=3).items()}
    a, b = {k: v.copy() for k, v in start.items()}, {k: v.copy() for k, v in start.items()}
    sa = sb = None
    for seed, n in enumerate([4, 6, 3]):
        x = batch(c, n=n, seed=seed)
        ga, gb = new.grad(a, x), old.grad(b, x)
        for k in gb:
            assert np.array_equal(ga[k], gb[k]), k
        a, sa = new.step(a, sa, x)
        b, sb = old.step(b, sb, x)
        assert new.last_loss == old.last_loss
    for k in b:
        assert np.array_equal(a[k], b[k]), k


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
