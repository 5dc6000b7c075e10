"""A batched product's column-major right operand is copied row-major first in the NumPy step
(2026-12-01, `codegen.numpy_row_major`): an attention's Q·Kᵀ reads K through a transposed view, and
OpenBLAS multiplies such small "B transposed" matrices at half the speed (bench/row_major_operand.py).
Checked: the step of an attention writes the copy (``v_b[...] = ….transpose(…)``, then the product
reads ``v_b``); its parameters after a step equal bit for bit those of the step with the operand read
in place again, float32 and float64, and torch.autograd's SGD step; the operands it leaves alone."""
from __future__ import annotations

import ast
import re

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from codegen.numpy_row_major import column_major_operand

torch = pytest.importorskip("torch")
N = sp.Symbol("N", integer=True, positive=True)
T, D = 32, 16        # per example: K 512 entries, the scores 1024: both in the step's workspace
LR = 0.1
COPY = re.compile(r"^( +)(v\d+)_b = scratch\(.*\)\n\1\2_b\[\.\.\.\] = (.*?)  # .*\n(\1\2 = numpy\.matmul\(.*), \2_b, "
                  r"(out=.*)\n\1del \2_b\n", re.M)


def _attention():
    x, Wq, Wk = sg.tensor("x", (N, T, D)), sg.tensor("Wq", (D, D)), sg.tensor("Wk", (D, D))
    s = (x @ Wq) @ (x @ Wk).swapaxes(-2, -1) / sp.sqrt(D)
    return sg.mean((sg.softmax(s, axis=-1) @ x) ** 2), [Wq, Wk], [x]


def _read_in_place(source: str) -> str:
    """The module as written before: each product reading its operand through the transposed view."""
    old, n = COPY.subn(lambda m: f"{m.group(4)}, {m.group(3)}, {m.group(5)}\n", source)
    assert n
    return old


def _step(source, vals, x):
    ns = {}
    exec(compile(source, "<generated>", "exec"), ns)
    args = [v.copy() for v in vals.values()]
    ns["step"](args, [], 1, [x])
    return args


def _data(dtype):
    rng = np.random.default_rng(1)
    vals = {"Wq": rng.normal(size=(D, D)), "Wk": rng.normal(size=(D, D))}
    return {k: v.astype(dtype) for k, v in vals.items()}, rng.normal(size=(4, T, D)).astype(dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_scores_product_reads_a_row_major_copy_of_k_with_the_same_numbers(dtype):
    loss, params, inputs = _attention()
    prog = sg.compile(loss, params, inputs, dtype=dtype, optimizer=sg.optim.SGD(lr=LR))
    copies = COPY.findall(prog.source)
    assert copies, prog.source
    for _, _, operand, _, _ in copies:
        assert re.fullmatch(r"v\d+(\.reshape\(.*\))?\.transpose\(\(0, 2, 1\)\)", operand), operand
    vals, x = _data(dtype)
    got = _step(prog.source, vals, x)
    old = _step(_read_in_place(prog.source), vals, x)
    for a, b in zip(got, old):
        assert a.dtype == b.dtype == np.dtype(dtype) and a.tobytes() == b.tobytes()
    if dtype == "float64":
        t = {k: torch.tensor(v, requires_grad=True) for k, v in vals.items()}
        xt = torch.tensor(x)
        s = (xt @ t["Wq"]) @ (xt @ t["Wk"]).transpose(-2, -1) / D ** 0.5
        ((s.softmax(-1) @ xt) ** 2).mean().backward()
        for (k, v), a in zip(vals.items(), got):
            np.testing.assert_allclose(a, v - LR * t[k].grad.numpy(), rtol=1e-10, atol=1e-13, err_msg=k)


def _decide(code: str, in_order=("v5",)):
    return column_major_operand(ast.parse(code, mode="eval").body, {"v5": "(d0, 64, 32)"}, set(in_order))


def test_only_a_batched_products_column_major_operand_of_an_array_in_order_is_copied():
    assert _decide("numpy.matmul(a, v5.reshape((d0, 64, 4, 32)).transpose((0, 2, 3, 1)))") == \
        ("v5.reshape((d0, 64, 4, 32)).transpose((0, 2, 3, 1))", "(d0, 4, 32, 64)")
    assert _decide("a @ v5.transpose((0, 2, 1))") == ("v5.transpose((0, 2, 1))", "(d0, 32, 64)")
    # row-major matrices already (the heads of Q or V read as (N, H, T, Dh))
    assert _decide("numpy.matmul(a, v5.reshape((d0, 64, 4, 32)).transpose((0, 2, 1, 3)))") is None
    # an array not known to be laid out in order (a permuted buffer, an input): its strides unknown
    assert _decide("numpy.matmul(a, v5.transpose((0, 2, 1)))", in_order=()) is None
    # two-dimensional products: BLAS takes a transposed weight at full speed
    assert _decide("numpy.matmul(a, p2.T)") is None
    assert _decide("a @ v5.reshape((64*d0, 128)).transpose((1, 0))") is None
    # matrices larger than 64 (the copy cost more than it saved), or of a size not known
    assert _decide("a @ v5.reshape((d0, 128, 4, 32)).transpose((0, 2, 3, 1))") is None
    assert _decide("a @ v5.reshape((d0, 64, 2, 65)).transpose((0, 2, 3, 1))") is None
    assert _decide("a @ v5.reshape((d0, T, 4, 32)).transpose((0, 2, 3, 1))") is None
    # the left operand is not looked at
    assert _decide("numpy.matmul(v5.transpose((0, 2, 1)), b)") is None


def test_the_copy_buffers_kept_between_steps_of_other_batch_sizes_step_as_torch():
    """The row-major copies live in the step's workspace, kept from one call to the next and handed
    out again: four Adam steps of batches 4, 9, 4, 2 move the parameters as torch.optim.Adam does."""
    loss, params, inputs = _attention()
    prog = sg.compile(loss, params, inputs, dtype="float64", optimizer=sg.optim.Adam(lr=0.01))
    assert COPY.search(prog.source), prog.source
    rng = np.random.default_rng(5)
    vals = {"Wq": rng.normal(size=(D, D)), "Wk": rng.normal(size=(D, D))}
    t = {k: torch.tensor(v, requires_grad=True) for k, v in vals.items()}
    opt = torch.optim.Adam(list(t.values()), lr=0.01)
    got = {k: v.copy() for k, v in vals.items()}
    state = prog.init_state(got)
    for n in (4, 9, 4, 2):
        x = rng.normal(size=(n, T, D))
        opt.zero_grad()
        xt = torch.tensor(x)
        s = (xt @ t["Wq"]) @ (xt @ t["Wk"]).transpose(-2, -1) / D ** 0.5
        ((s.softmax(-1) @ xt) ** 2).mean().backward()
        opt.step()
        got, state = prog.step(got, state, {"x": x})
    for k in vals:
        np.testing.assert_allclose(got[k], t[k].detach().numpy(), rtol=1e-10, atol=1e-13, err_msg=k)
