"""The special functions' helpers (codegen/triton_special.py) compile for the H200 (cuda sm_90)
without a GPU, at no cost in registers' spills: a regression MLP's step under a Student-t NLL with
a learned df (loggamma in the loss, digamma in its gradient) against the same network under the mean
squared error (codegen.triton_aot.likelihood_mlp). Before the helpers computed sin(πr) by a
polynomial, tl.sin's range reduction gave the rows kernels a 32-byte stack frame. (A subprocess:
the kernels must be real @triton.jit functions; tests/codegen/aot.py.)"""
import textwrap

import pytest

from tests.codegen.aot import compile_sm90

pytest.importorskip("triton")
pytest.importorskip("torch")

SCRIPT = textwrap.dedent("""
    import json, sys
    import symgrad as sg
    from symgrad.compiling.compiler import specify
    from codegen.triton_aot import compile_step, likelihood_mlp

    out = {}
    for kind in sys.argv[1:]:
        loss, params, inputs = likelihood_mlp(kind, width=32)
        spec = specify(loss, params, inputs, optimizer=sg.optim.Adam(lr=1e-3), target="triton")
        out[kind] = [r.__dict__ for r in compile_step(spec, 4096, entry_points=True)]
    print(json.dumps(out))
""")


def test_a_student_t_step_compiles_for_sm90_as_an_mse_step_does(tmp_path):
    got = compile_sm90(SCRIPT, tmp_path, "gaussian", "student-t")
    base = {r["kernel"]: r for r in got["gaussian"]}
    names = [r["kernel"] for r in got["student-t"]]
    assert names[:3] == ["train_kernel1", "train_weight_grads_kernel", "batch_sum_kernel"], names   # (ν's sum)
    for r in got["student-t"]:
        assert 0 < r["registers"] <= 255, r
        assert r["spill_bytes"] == base.get(r["kernel"], {"spill_bytes": 0})["spill_bytes"], (r, base.get(r["kernel"]))
    assert {r["kernel"]: r["spill_bytes"] for r in got["student-t"]}["train_kernel1"] == 0


EVERY = textwrap.dedent("""
    import json
    import sympy as sp
    import symgrad as sg
    from symgrad.compiling.compiler import specify
    from codegen.triton_aot import compile_step
    from codegen.triton_backend import build

    N = sp.Symbol("N", integer=True, positive=True)
    x, y = sg.tensor("x", (N, 32)), sg.tensor("y", (N,))
    W1, b1, w2, a = sg.tensor("W1", (32, 32)), sg.tensor("b1", (32,)), sg.tensor("w2", (32,)), sg.tensor("a", ())
    s = sg.tanh(x @ W1 + b1) @ w2
    loss = sg.mean((sp.gamma(sp.exp(a)) * s - y) ** 2 + sp.digamma(sg.softplus(s) + 1) + sp.erfc(s))
    spec = specify(loss, [W1, b1, w2, a], [x, y], optimizer=sg.optim.Adam(lr=1e-3), target="triton")
    src = build(spec).source
    helpers = sorted(n for n in ("special_gamma", "special_lgamma", "special_digamma", "special_trigamma",
                                 "special_erfc") if f"def {n}(" in src)
    print(json.dumps([helpers, [r.__dict__ for r in compile_step(spec, 4096, entry_points=True)]]))
""")


def test_every_helper_compiles_for_sm90_without_spills(tmp_path):
    """gamma (and the lgamma it calls), digamma, trigamma (digamma's gradient) and erfc in one step."""
    helpers, reports = compile_sm90(EVERY, tmp_path)
    assert helpers == ["special_digamma", "special_erfc", "special_gamma", "special_lgamma", "special_trigamma"]
    assert [r["kernel"] for r in reports][:2] == ["train_kernel1", "train_weight_grads_kernel"]
    for r in reports:
        assert 0 < r["registers"] <= 255 and r["spill_bytes"] == 0, r
