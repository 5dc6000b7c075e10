"""GELU's erf shared between its forward and backward (codegen/numpy_shared_erf.py): as Φ(x) when
every reader reads Φ alone (GELU's forward x·Φ and backward ḡ·(x·φ + Φ): no erf/2 + 1/2 pass left in
them), as erf(x/√2) itself when another reader needs erf (2Φ − 1 would lose its relative precision
near 0); the gradients equal torch.autograd's either way (float64)."""
from __future__ import annotations

import math
import re

import numpy as np
import sympy as sp
import torch

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)


def _code(prog):
    grad = prog.source.split("\ndef grad(")[1].split("\ndef ")[0]
    return [line.strip() for line in grad.splitlines() if not line.strip().startswith("#")]


def _erf_lines(code):
    """The lines that compute erf: erf itself, or Φ = 0.5·erf(x/√2) + 0.5 as ``gelu_phi`` (one call,
    codegen.numpy_gelu_phi)."""
    return [line for line in code if "erf(" in line or "gelu_phi(" in line]


def _check(loss_sg, loss_torch, shape=(5, 4)):
    x, W = sg.tensor("x", (N, 4)), sg.tensor("W", (4, 3))
    prog = sg.compile(loss_sg(x @ W), [W], [x], dtype="float64")
    rng = np.random.default_rng(0)
    vals, xs = {"W": rng.normal(size=(4, 3))}, {"x": rng.normal(size=shape)}
    t = torch.tensor(vals["W"], requires_grad=True)
    loss_torch(torch.tensor(xs["x"]) @ t).backward()
    np.testing.assert_allclose(prog.grad(vals, xs)["W"], t.grad.numpy(), rtol=1e-10)
    return _code(prog)


def test_gelu_alone_shares_phi():
    code = _check(lambda h: sg.mean(sg.gelu(h) ** 2), lambda h: (torch.nn.functional.gelu(h) ** 2).mean())
    erf_lines = _erf_lines(code)
    assert len(erf_lines) == 1 and "= gelu_phi(v" in erf_lines[0], erf_lines      # Φ = erf/2 + 1/2
    # no pass 0.5*v + 0.5 (erf/2 + 1/2) left; printed (0.5)*v + 0.5 until 2026-12-01
    half_plus_half = re.compile(r"(?<![\w.\-])\(?0\.5\)?\*v\d+ \+ 0\.5(?!\d)")
    assert not any(half_plus_half.search(line) for line in code if line not in erf_lines)
    assert half_plus_half.search("v9 = 0.5*v8 + 0.5") and half_plus_half.search("v9 = (0.5)*v8 + 0.5")


def test_a_reader_of_erf_itself_keeps_erf_shared():
    """A body that reads erf(x/√2) other than as Φ = erf/2 + 1/2 (3·erf, erf²) keeps erf shared; GELU
    and its SymPy derivative read Φ alone."""
    from codegen.numpy_shared_erf import _phi_only
    from symgrad.core import rules as R
    from symgrad.frontend.functions import gelu
    a = R.ph(0)
    e = sp.erf(sp.sqrt(2) * a / 2)
    assert _phi_only(gelu(a), [0]) and _phi_only(sp.diff(gelu(a), a) * R.ph(1), [0])
    assert _phi_only(e / 2 + sp.Rational(1, 2), [0])
    assert not _phi_only(3 * e, [0]) and not _phi_only(e ** 2, [0]) and not _phi_only(gelu(a) + e, [0])


def test_deciding_phi_makes_no_million_placeholders():
    """_phi_only stood Φ for the placeholder a1000000: R.ph made a0 ... a1000000 to reach it, about
    30 s of SymPy at the first GELU program a process compiled (most of sg.compile's time for
    examples/port_torch_training.py's model) and a million symbols kept."""
    from symgrad.core import placeholders
    code = _check(lambda h: sg.mean(sg.gelu(h) ** 2), lambda h: (torch.nn.functional.gelu(h) ** 2).mean())
    assert len(_erf_lines(code)) == 1         # Φ still shared
    assert len(placeholders._PH) < 10 ** 5
