"""Integer powers of negative numbers are exact on every target (issue 13, point 4).

The Triton printer wrote xⁿ as ``tl.exp(n*tl.log(x))`` beyond n = 4, which is NaN for x < 0 (the
NumPy target gave (−2)⁵ = −32), and a power in a denominator lost its parentheses
(``y/x**2`` printed ``y/x*x``). Here the powers −7 … 7 of negative bases, their gradients
n·wⁿ⁻¹·xⁿ and a power whose exponent is an input are compared with central differences of a float64
function written in plain Python (independent of symgrad), and the two targets with each other.
One program holds every exponent (loss Σₙ (wₙ·x)ⁿ, a weight per exponent, so each weight's gradient
is one power's derivative): one compile per target, as Triton runs in its interpreter on the CPU.
"""
from __future__ import annotations

import types

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from tests.codegen.aot import compile_sm90

NS = [n for n in range(-7, 8) if n != 0]
x = sp.Symbol("x")
WS = [sp.Symbol(f"w_minus{-n}" if n < 0 else f"w_plus{n}") for n in NS]
XS = np.array([-2.0, -1.5, -0.75])             # negative bases; |x| < 1 too, for the inverse powers
W0 = {w: 1.0 + 0.05 * k for k, w in enumerate(WS)}
F32 = dict(rtol=2e-5, atol=1e-6)


def _loss64(weights: dict) -> float:
    """mean_b Σₙ (wₙ·x_b)ⁿ in float64 by Python's own ** (exact sign for integer n)."""
    return float(np.mean([sum((weights[w] * xb) ** n for w, n in zip(WS, NS)) for xb in XS]))


def _central_differences(h=1e-6) -> dict:
    """∂loss/∂wₙ by (L(wₙ + h) − L(wₙ − h)) / 2h in float64. Only the term (wₙ·x)ⁿ changes with wₙ;
    the others, up to 10² here, are left out so that they do not drown the difference in rounding."""
    def term(w, n, value):
        return float(np.mean([(value * xb) ** n for xb in XS]))
    return {w.name: (term(w, n, W0[w] + h) - term(w, n, W0[w] - h)) / (2 * h) for w, n in zip(WS, NS)}


_PROGRAMS: dict = {}


def _program(target: str, dtype="float32"):
    """Σₙ (wₙ·x)ⁿ compiled once per target, with every power as an output for ``forward``."""
    key = (target, dtype)
    if key not in _PROGRAMS:
        if target == "triton":
            pytest.importorskip("torch")
            pytest.importorskip("triton")
        loss = sp.Add(*[(w * x) ** n for w, n in zip(WS, NS)])
        _PROGRAMS[key] = sg.compile(loss, WS, [x], target=target, dtype=dtype,
                                    outputs=[(w * x) ** n for w, n in zip(WS, NS)])
    return _PROGRAMS[key]


def _run(prog):
    dt = np.float64 if prog.dtype == "float64" else np.float32
    values = {w.name: dt(v) for w, v in W0.items()}
    batch = {"x": XS.astype(dt)}
    grads = {k: float(np.asarray(v)) for k, v in prog.grad(values, batch).items()}
    outs = [np.asarray(o, dtype=float).reshape(-1) for o in prog.forward(values, batch)]
    return float(prog.loss(values, batch)), grads, outs


TARGETS = ["numpy", "triton"]
# Masked-off lanes of a Triton block compute with the fill value 0 (1/0), and tl.where evaluates the
# branch it does not take (log of x < 0): the interpreter warns about those, not about results.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning:triton.runtime.interpreter")


@pytest.mark.parametrize("target", TARGETS)
def test_integer_powers_of_negative_bases_equal_finite_differences(target):
    loss, grads, outs = _run(_program(target))
    np.testing.assert_allclose(loss, _loss64(W0), **F32)
    fd = _central_differences()
    for w, n in zip(WS, NS):
        exact = np.mean(n * W0[w] ** (n - 1) * XS ** n)             # ∂/∂w (w·x)ⁿ = n·wⁿ⁻¹·xⁿ
        np.testing.assert_allclose(fd[w.name], exact, rtol=1e-7)   # the oracle agrees with calculus
        np.testing.assert_allclose(grads[w.name], fd[w.name], err_msg=f"n = {n}", **F32)
    for out, w, n in zip(outs, WS, NS):                                # each power, example by example
        np.testing.assert_allclose(out, (W0[w] * XS) ** n, err_msg=f"(w·x)**{n}", **F32)
        assert np.all(np.sign(out) == (-1.0) ** (n % 2)), f"(w·x)**{n} has the wrong sign"


def test_numpy_target_in_float64_equals_finite_differences():
    loss, grads, _ = _run(_program("numpy", "float64"))
    np.testing.assert_allclose(loss, _loss64(W0), rtol=1e-13)
    fd = _central_differences()
    for w in WS:
        np.testing.assert_allclose(grads[w.name], fd[w.name], rtol=1e-7, atol=1e-9)


def test_triton_target_equals_numpy_target():
    pytest.importorskip("triton")
    (lt, gt, ot), (ln, gn, on) = _run(_program("triton")), _run(_program("numpy"))
    np.testing.assert_allclose(lt, ln, **F32)
    for k in gn:
        np.testing.assert_allclose(gt[k], gn[k], err_msg=k, **F32)
    for a, b in zip(ot, on):
        np.testing.assert_allclose(a, b, **F32)


@pytest.mark.parametrize("n", NS)
def test_symbolic_gradient_of_a_power_at_negative_bases(n):
    """sg.grad itself, evaluated in float64: the derivative body n·(w·x)ⁿ⁻¹·x at x < 0."""
    w = sp.Symbol("w")
    g = sg.grad((w * x) ** n, w)
    for xb in XS:
        at = {w: 1.1, x: xb}
        h = 1e-6
        fd = ((1.1 + h) * xb) ** n - ((1.1 - h) * xb) ** n
        np.testing.assert_allclose(float(sg.numeric(g, at)), fd / (2 * h), rtol=1e-7)


# --- an exponent known only at run time ----------------------------------------------------------


@pytest.mark.filterwarnings("ignore::RuntimeWarning")     # NumPy's, for the NaN cases tested here
@pytest.mark.parametrize("target", TARGETS)
def test_power_with_an_input_exponent(target):
    """(w·x)^k with k an input: integer k of a negative base is exact, as NumPy's power; a
    non-integer k of a negative base is NaN on both; 0^0 = 1; ∂/∂w at x = 0, k = 2 is 0 (SymPy's
    k·(wx)^k/w form would be 0/0)."""
    w, k = sp.symbols("w k")
    if target == "triton":
        pytest.importorskip("torch")
        pytest.importorskip("triton")
    prog = sg.compile((w * x) ** k, [w], [x, k], target=target)
    xs = [-2.0, -1.5, -1.0, 2.0, -2.0, 0.0, 0.0, -0.5]
    ks = [5.0, -3.0, 4.0, 2.5, 2.5, 0.0, 2.0, -7.0]
    for xb, kb in zip(xs, ks):
        batch = {"x": np.float32([xb]), "k": np.float32([kb])}
        loss = float(prog.loss({"w": np.float32(1.0)}, batch))
        grad = float(np.asarray(prog.grad({"w": np.float32(1.0)}, batch)["w"]))
        if xb < 0 and kb != int(kb):
            assert np.isnan(loss), f"({xb})**{kb}"
            continue
        want = xb ** kb if (xb, kb) != (0.0, 0.0) else 1.0
        np.testing.assert_allclose(loss, want, err_msg=f"({xb})**{kb}", **F32)
        if (xb, kb) != (0.0, 0.0):
            h = 1e-6                                  # ∂/∂w at w = 1, by central differences
            fd = (((1 + h) * xb) ** kb - ((1 - h) * xb) ** kb) / (2 * h)
            np.testing.assert_allclose(grad, fd, err_msg=f"∂/∂w ({xb}·w)**{kb}", rtol=1e-4, atol=1e-5)


# --- the printed forms, without running a kernel ----------------------------------------------------


def _tl():
    """triton.language's functions that the printed powers use, as NumPy functions."""
    return types.SimpleNamespace(exp=np.exp, log=np.log, abs=np.abs, where=np.where, floor=np.floor,
                                 sqrt=np.sqrt)


@pytest.mark.parametrize("n", [n for n in range(-21, 22) if n != 0])
def test_triton_printer_integer_powers(n):
    """Every integer power the printer writes (products up to |n| = 16, e^(n·log|b|) with the sign
    put back above), in a denominator too, evaluated at negative, positive and zero bases."""
    from codegen.printers.triton_printer import TritonPrinter
    b, y = sp.Symbol("v1"), sp.Symbol("v2")
    bases = np.array([-2.0, -1.25, -0.5, 0.75, 1.5]) if n < 0 else np.array([-2.0, -1.25, -0.5, 0.0, 0.75, 1.5])
    with np.errstate(all="ignore"):
        cases = ((b ** n, bases ** float(n)), (-2 * y / b ** n, -2 * 3.0 / bases ** float(n)))
    for expr, want in cases:
        code = TritonPrinter().doprint(expr)
        with np.errstate(all="ignore"):
            got = eval(code, {"tl": _tl()}, {"v1": bases, "v2": 3.0})    # noqa: S307 - our own printer's text
        np.testing.assert_allclose(got, want, rtol=1e-12, err_msg=f"{expr} printed as {code}")


# --- the forms compile for a real GPU -------------------------------------------------------------

_AOT_SCRIPT = """
import json
import sympy as sp
from symgrad.compiling.compiler import specify
from codegen.triton_aot import compile_step
x, k = sp.symbols("x k")
ns = [n for n in range(-7, 8) if n != 0] + [20, -21]
ws = [sp.Symbol(f"w{i}") for i in range(len(ns))]
loss = sp.Add(*[(w * x) ** n for w, n in zip(ws, ns)]) + (ws[0] * x) ** k
print(json.dumps([r.kernel for r in compile_step(specify(loss, ws, [x, k]), 64, entry_points=True)]))
"""


@pytest.mark.slow
def test_printed_powers_compile_for_sm90(tmp_path):
    """The interpreter forgives what Triton's compiler does not: every kernel of a program with the
    product, the e^(n·log|b|) and the run-time-exponent forms compiles for sm_90 (no GPU needed;
    codegen.triton_aot, in a process without TRITON_INTERPRET)."""
    pytest.importorskip("triton")
    pytest.importorskip("torch")
    kernels = compile_sm90(_AOT_SCRIPT, tmp_path)
    assert "train_kernel1" in kernels and "eval_kernel1" in kernels, kernels
