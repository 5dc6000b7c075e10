"""An attention's causal mask in the whole-batch NumPy target is written row by row (2026-12-01,
`codegen.numpy_causal_mask`): ``for row in range(T - 1): s[..., row, row + 1:] = -numpy.inf``, half
the time of the masked copy ``numpy.copyto(s, -numpy.inf, where=numpy.logical_not(…))`` over the
(N, H, T, T) scores (bench/causal_mask.py). Checked: the masks that are a lower triangle of ones with
the fill above the diagonal take the form (sg.where(m > 0, s, -inf); masked_fill(Eq(m, 0), -inf) as torch writes it),
``loss`` no longer makes the (T, T) triangle it would not read; loss and gradients equal bit for bit
those of the module with the masked copy written back, and torch.autograd's. Masks that are not
that (another diagonal, the upper triangle, the fill below) keep the masked copy and torch's values."""
from __future__ import annotations

import re

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from codegen.numpy_causal_mask import ROW
from tests.codegen.same_bits import assert_same_bits, run_function
from tests.codegen.torch_agreement import assert_equals_torch

torch = pytest.importorskip("torch")
N = sp.Symbol("N", integer=True, positive=True)
T, D = 6, 4
ROWS = re.compile(rf"for {ROW} in range\((\d+)\): (v\d+)\[\.\.\., {ROW}, {ROW} \+ 1:\] = (-numpy\.inf)")


def _masked(kind: str):
    x, Wq, Wk = sg.tensor("x", (N, T, D)), sg.tensor("Wq", (D, D)), sg.tensor("Wk", (D, D))
    s = (x @ Wq) @ (x @ Wk).swapaxes(-2, -1) / sp.sqrt(D)
    ones = sg.ones((T, T))
    s = {"where m > 0": lambda: sg.where(sg.tril(ones) > 0, s, float("-inf")),
         "masked_fill Eq(m, 0)": lambda: s.masked_fill(sp.Eq(sg.tril(ones), 0), float("-inf")),
         "masked_fill m < 0.5": lambda: s.masked_fill(sg.tril(ones) < 0.5, float("-inf")),
         "tril k=1": lambda: sg.where(sg.tril(ones, 1) > 0, s, float("-inf")),
         "triu": lambda: sg.where(sg.triu(ones) > 0, s, float("-inf")),
         "fill below": lambda: s.masked_fill(sg.tril(ones, -1) > 0, float("-inf"))}[kind]()
    return sg.mean((sg.softmax(s, axis=-1) @ x) ** 2), [Wq, Wk], [x]


def _torch_mask(kind: str):
    ones = torch.ones(T, T, dtype=torch.float64)
    return {"tril k=1": torch.tril(ones, 1) == 0, "triu": torch.triu(ones) == 0,
            "fill below": torch.tril(ones, -1) > 0}.get(kind, torch.tril(ones) == 0)


def _torch(kind, vals, x):
    t = {k: torch.tensor(v, requires_grad=True) for k, v in vals.items()}
    xt = torch.tensor(x)
    s = (xt @ t["Wq"]) @ (xt @ t["Wk"]).transpose(-2, -1) / D ** 0.5
    loss = ((s.masked_fill(_torch_mask(kind), float("-inf")).softmax(-1) @ xt) ** 2).mean()
    loss.backward()
    return loss.item(), {k: v.grad.numpy() for k, v in t.items()}


def _function(source: str, name: str) -> str:
    return re.search(rf"^def {name}\(.*?(?=^def |\Z)", source, re.M | re.S).group(0)


def _as_copyto(source: str) -> str:
    """The module as written before: each causal mask's rows as numpy.copyto's masked copy."""
    tri = "numpy.tril(numpy.full(({0}, {0}), 1.0, dtype=DTYPE), 0)"
    old, n = ROWS.subn(lambda m: f"numpy.copyto({m.group(2)}, {m.group(3)}, where=numpy.logical_not("
                                 f"numpy.greater({tri.format(int(m.group(1)) + 1)}, 0)))", source)
    assert n
    return old


def _data(dtype):
    rng = np.random.default_rng(0)
    vals = {"Wq": rng.normal(size=(D, D)) * 2, "Wk": rng.normal(size=(D, D)) * 2}
    return {k: v.astype(dtype) for k, v in vals.items()}, rng.normal(size=(3, T, D)).astype(dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kind", ["where m > 0", "masked_fill Eq(m, 0)", "masked_fill m < 0.5"])
def test_causal_mask_is_written_by_rows_bit_for_bit_as_the_masked_copy(kind, dtype):
    loss, params, inputs = _masked(kind)
    prog = sg.compile(loss, params, inputs, dtype=dtype, optimizer=sg.optim.SGD(lr=0.1))
    for fn in ("loss", "grad", "step"):
        code = _function(prog.source, fn)
        assert len(ROWS.findall(code)) == 1 and "numpy.copyto(" not in code, code
        assert ROWS.search(code).group(1) == str(T - 1)
    assert "numpy.tril(" not in _function(prog.source, "loss")     # made for the mask alone, no more
    vals, x = _data(dtype)
    for fn in ("loss", "grad"):
        assert_same_bits(run_function(prog.source, fn, list(vals.values()), [x]),
                         run_function(_as_copyto(prog.source), fn, list(vals.values()), [x]), fn)
    if dtype == "float64":
        want_loss, want = _torch(kind, vals, x)
        assert_equals_torch(prog, vals, {"x": x}, want_loss, want, lr=0.1)


@pytest.mark.parametrize("kind", ["tril k=1", "triu", "fill below"])
def test_other_triangles_keep_the_masked_copy_and_equal_torch(kind):
    loss, params, inputs = _masked(kind)
    prog = sg.compile(loss, params, inputs, dtype="float64")
    grad = _function(prog.source, "grad")
    assert not ROWS.search(grad) and "numpy.copyto(" in grad, grad
    vals, x = _data(np.float64)
    want_loss, want = _torch(kind, vals, x)
    assert_equals_torch(prog, vals, {"x": x}, want_loss, want)
