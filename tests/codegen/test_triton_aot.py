"""The generated Triton kernels compile for a real GPU (cuda sm_90, the H200's), on a machine without
one: codegen.triton_aot runs the step's host code with the launches intercepted and compiles each
launch with Triton's compiler and bundled ptxas. The interpreter the other Triton tests use forgives
what the GPU compiler does not; this is the check that does not.

Each case runs in a subprocess: the kernels must be real @triton.jit functions, and this process has
TRITON_INTERPRET=1 (tests/conftest.py)."""
import textwrap

import pytest

from tests.codegen.aot import compile_sm90

pytest.importorskip("triton")
pytest.importorskip("torch")


SCRIPT = textwrap.dedent("""
    import json, os, sys
    import sympy as sp
    import symgrad as sg
    from symgrad.compiling.compiler import specify
    from codegen.triton_aot import compile_step

    kind, batch = sys.argv[1], int(sys.argv[2])
    if kind == "ce":
        net = sg.mlp([64, 64, 10], act=sg.relu)
        t = sp.MatrixSymbol("t", 10, 1)
        loss, inputs = sg.cross_entropy(net.output, t), [net.input, t]
    else:
        net = sg.mlp([32, 48, 16], act=sp.tanh)
        y = sp.MatrixSymbol("y", 16, 1)
        loss, inputs = sg.mse(net.output, y), [net.input, y]
    spec = specify(loss, net.params, inputs, optimizer=sg.optim.Adam(lr=1e-3))
    spec.precision = sys.argv[3] if len(sys.argv) > 3 else None
    print(json.dumps([r.__dict__ for r in compile_step(spec, batch, entry_points=len(sys.argv) <= 3)]))
""")


def _compile(kind: str, batch: int, fuse_rows: str, tmp_path, precision: str | None = None) -> list:
    args = [kind, str(batch)] + ([precision] if precision else [])
    return compile_sm90(SCRIPT, tmp_path, *args, SYMGRAD_TRITON_FUSE_ROWS=fuse_rows)


def test_fused_step_compiles_for_sm90(tmp_path):
    """The 64-64-10 cross-entropy step of docs/: one rows kernel, the weight gradients, the update."""
    reports = _compile("ce", 1000, "128", tmp_path)
    names = [r["kernel"] for r in reports]
    # step's three launches, then grad's (the same rows and weight gradients, then finish_kernel), then
    # loss's rows kernel and the loss sum
    assert names[:3] == ["train_kernel1", "train_weight_grads_kernel", "update_kernel"], names
    assert "finish_kernel" in names and any(n.startswith("eval_kernel") for n in names), names
    for r in reports:
        assert 0 < r["registers"] <= 255, r
        # the untuned configuration is chosen to fit the register file (rows_configs): no spills
        assert r["spill_bytes"] == 0, r


def test_kernel_per_product_compiles_for_sm90(tmp_path):
    """With SYMGRAD_TRITON_FUSE_ROWS=0: a rows kernel per product, tanh and mse, a batch that is not
    a multiple of any block."""
    reports = _compile("mse", 999, "0", tmp_path)
    names = [r["kernel"] for r in reports]
    assert sum(n.startswith("train_kernel") for n in names) >= 3 and "weight_grad_kernel" in names, names
    assert "update_kernel" in names and "finish_kernel" in names, names
    assert all(0 < r["registers"] <= 255 and r["spill_bytes"] == 0 for r in reports), reports


@pytest.mark.slow
@pytest.mark.parametrize("precision", ["tf32", "tf32x3", "bf16"])
def test_each_precision_compiles_for_sm90(precision, tmp_path):
    """sg.compile(..., precision=...): the fused 64-64-10 step compiles in every mode, without spills
    (the registers per mode are in docs/triton.md)."""
    reports = _compile("ce", 1000, "128", tmp_path, precision)
    assert [r["kernel"] for r in reports] == ["train_kernel1", "train_weight_grads_kernel", "update_kernel"]
    assert all(0 < r["registers"] <= 255 and r["spill_bytes"] == 0 for r in reports), reports


CLIPPED = textwrap.dedent("""
    import json
    import sympy as sp
    import symgrad as sg
    from symgrad.compiling.compiler import specify
    from codegen.triton_aot import compile_step

    net = sg.mlp([32, 48, 16], act=sp.tanh)
    y = sp.MatrixSymbol("y", 16, 1)
    W1, b1, W2, b2 = net.params
    reports = []
    for norm_type in (2.0, float("inf")):
        opt = sg.optim.AdamW(lr=1e-3, groups=[{"params": [b1, b2], "weight_decay": 0.0}], clip_grad_value=0.5,
                             clip_grad_norm=1.0, clip_norm_type=norm_type)
        spec = specify(sg.mse(net.output, y), net.params, [net.input, y], optimizer=opt)
        reports += [r.__dict__ for r in compile_step(spec, 999)]
    print(json.dumps(reports))
""")


def test_a_step_with_groups_and_clipping_compiles_for_sm90(tmp_path):
    """Parameter groups (a block per rule), clip_grad_value, and clip_grad_norm of both norm types
    (clip_norm_kernel's loop over the blocks, update_kernel's coefficient): the step's four launches."""
    reports = compile_sm90(CLIPPED, tmp_path, SYMGRAD_TRITON_FUSE_ROWS="64")
    names = [r["kernel"] for r in reports]
    assert names == ["train_kernel1", "train_weight_grads_kernel", "clip_norm_kernel", "update_kernel"] * 2, names
    assert all(0 < r["registers"] <= 255 and r["spill_bytes"] == 0 for r in reports), reports


def test_the_command_lines_setting_flags_set_the_backend_and_are_printed(monkeypatch, capsys):
    """`python -m codegen.triton_aot --fuse-rows 0 --reload-gap 2 ...`: each flag of the one table
    (`SETTINGS`) sets its `codegen.triton_backend` name and the header line prints them all; no network
    matches ``--only``, so nothing compiles."""
    from codegen import triton_aot, triton_backend
    wanted = {"FUSE_ROWS": 0, "RELOAD_GAP": 2, "REGISTER_K": 5, "SELECTION_SLICES": 1, "SELECTION_PICKS": 1}
    for setting in wanted:
        monkeypatch.setattr(triton_backend, setting, getattr(triton_backend, setting))     # (restored after)
    monkeypatch.setattr(triton_aot, "benchmark_specs", lambda: [])
    triton_aot.main(["--fuse-rows", "0", "--reload-gap", "2", "--register-k", "5", "--selection-slices", "1",
                     "--selection-picks", "1"])
    assert {s: getattr(triton_backend, s) for s in wanted} == wanted
    head = capsys.readouterr().out
    assert all(f"{s}={v}" in head for s, v in wanted.items()), head
    assert sorted(s for _, s, _ in triton_aot.SETTINGS) == sorted(wanted)
