"""The compiled NumPy program of a transformer (`transformer_twins`): its loss and gradients equal
torch.autograd's in float64, and three `Program.step`s with Adam equal three steps of torch.optim.Adam
on the same network, weights and batches; a float32 program stays in float32 (no NumPy scalar or
int64 mask promotes it), and the module's erf helper is exact with SciPy and without."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import symgrad as sg
from transformer_twins import Config, batch, declare, steps_equal_torch, torch_grads, values

CONFIGS = {
    "two-layers-causal-next-token": Config(layers=2),
    "block-one-head-classify": Config(heads=None, task="classify"),
}


def _rel(got, want):
    return np.abs(got - want).max() / max(np.abs(want).max(), 1e-300)


@pytest.mark.parametrize("name", CONFIGS)
def test_compiled_grad_equals_torch(name):
    c = CONFIGS[name]
    loss, params, inputs = declare(c)
    prog = sg.compile(loss, params, inputs, target="numpy", dtype="float64")
    vals, b = values(c), batch(c, n=5)
    want_loss, want = torch_grads(c, vals, b)
    assert abs(prog.loss(vals, b) - want_loss) <= 1e-12 * abs(want_loss)
    got = prog.grad(vals, b)
    for p in params:
        assert _rel(got[p.name], want[p.name]) <= 1e-9, p.name


@pytest.mark.slow          # ~10 s: compiling a two-layer model's Adam step
def test_three_adam_steps_equal_torch():
    c = Config(layers=2)
    loss, params, inputs = declare(c)
    opt = dict(lr=0.01, betas=(0.9, 0.98), eps=1e-8, weight_decay=0.01)
    prog = sg.compile(loss, params, inputs, target="numpy", dtype="float64", optimizer=sg.optim.Adam(**opt))
    steps_equal_torch(prog, c, values(c, seed=7), lambda ps: torch.optim.Adam(ps, **opt),
                      seeds=[10, 11, 12], n=4, moved=1e-4)


def _float64_statements(prog, params, vals, b) -> list:
    """The statements of the generated ``grad`` that bind a float64 array, run on float32 values."""
    import ast
    tree = ast.parse(prog.source)
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "grad")
    body, found = [], []
    for st in fn.body:
        body.append(st)
        if isinstance(st, ast.Assign) and isinstance(st.targets[0], ast.Name):
            name = st.targets[0].id
            body += ast.parse(f"_seen({name}, {ast.unparse(st)!r})").body
    fn.body = body
    ns = {"_seen": lambda v, text: found.append(text) if getattr(v, "dtype", None) == np.float64 else None}
    exec(compile(ast.fix_missing_locations(tree), "<grad, watched>", "exec"), ns)
    ns["grad"]([vals[p.name].astype(np.float32) for p in params], [b["ids"], b["y"]])
    return found


def test_float32_program_computes_in_float32():
    # GELU's √2 and 1/√π, and the causal mask's where(c, 1, 0) in the backward, once printed as
    # NumPy scalars and an int64 array, turned the activations and gradients after them into float64
    c = Config()
    loss, params, inputs = declare(c)
    prog = sg.compile(loss, params, inputs, target="numpy", dtype="float32")
    assert "numpy.sqrt(2)" not in prog.source and "numpy.select" not in prog.source
    assert _float64_statements(prog, params, values(c), batch(c)) == []


@pytest.mark.parametrize("scipy_erf", [True, False])
def test_generated_erf_with_and_without_scipy(scipy_erf):
    import math
    from codegen.printers.numpy_printer import NumpyPrinter
    ns = {"numpy": np, "math": math, "DTYPE": np.float64}
    source = "\n".join(NumpyPrinter.HELPERS["erf"])
    if not scipy_erf:                      # as on a machine without SciPy
        source = source.replace("from scipy.special import erf as _erf_vectorized", "raise ImportError")
    exec(compile(source, "<erf helper>", "exec"), ns)
    assert (ns["_erf_vectorized"] is None) is not scipy_erf
    x = np.linspace(-7, 7, 1001)
    np.testing.assert_allclose(ns["erf"](x), [math.erf(v) for v in x], rtol=1e-15, atol=1e-16)
    assert ns["erf"](x.astype(np.float32)).dtype == np.float32


def test_gelu_erf_once_per_layer_in_the_step():
    # GELU's forward and backward share erf(x/√2) (codegen/numpy_shared_erf.py): one erf statement
    # per layer in grad and step, not two; the values are checked against torch above
    c = Config(layers=2)
    loss, params, inputs = declare(c)
    src = sg.compile(loss, params, inputs, target="numpy", dtype="float64").source
    for fn in ("grad", "step"):
        body = src.split(f"\ndef {fn}(")[1].split("\ndef ")[0]
        code = "\n".join(line for line in body.splitlines() if not line.strip().startswith("#"))
        assert code.count("erf(") + code.count("gelu_phi(") == 2, fn     # (Φ as one call: codegen/numpy_gelu_phi.py)
