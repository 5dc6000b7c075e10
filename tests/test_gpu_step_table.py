"""bench/gpu_step.py's table, run without a GPU: its contestants stubbed (the timing, the kernels, the
device), to see that a row is printed as soon as ours and eager are measured — a run stopped at its
time limit keeps them — and that the ratios are read against the right rows."""
from __future__ import annotations

import importlib.util
import re
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def bench(monkeypatch):
    spec = importlib.util.spec_from_file_location("gpu_step_under_test", ROOT / "bench" / "gpu_step.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    fake_torch = types.SimpleNamespace(
        __version__="stub", Generator=lambda device=None: types.SimpleNamespace(manual_seed=lambda s: None),
        rand=lambda *a, **k: _Arr(), randn=lambda *a, **k: _Arr(), randint=lambda *a, **k: _Arr(),
        cuda=types.SimpleNamespace(get_device_name=lambda: "stub GPU", empty_cache=lambda: None))
    monkeypatch.setattr(mod, "_require_cuda", lambda: fake_torch)
    ms = {"ours": 1.0, "eager": 4.0, "compile": 2.0, "max-autotune": 3.0, "graph": 0.5}
    monkeypatch.setattr(mod, "ours", lambda torch, w, X, Y, init, fuse_rows: "ours")
    monkeypatch.setattr(mod, "ours_graph", lambda torch, w, X, Y, init, fuse_rows: "ours")
    monkeypatch.setattr(mod, "eager", lambda torch, w, X, Y, init, mode: {None: "eager", "default": "compile"}.get(mode, mode))
    order = []

    def time_steps(torch, step, steps, warmup):
        order.append(step)
        if step == "max-autotune":
            raise KeyboardInterrupt         # as a run killed at its time limit would stop
        return ms[step], 2 ** 20
    monkeypatch.setattr(mod, "time_steps", time_steps)
    monkeypatch.setattr(mod, "count_launches", lambda torch, step: 3)
    mod.order = order
    return mod


class _Arr:
    def __mul__(self, k): return self
    __rmul__ = __sub__ = __truediv__ = __mul__


def test_rows_are_printed_as_they_are_measured(bench, capsys):
    with pytest.raises(KeyboardInterrupt):
        bench.main(["--widths", "64", "--batches", "14", "--no-graph"])
    out = capsys.readouterr().out
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| 64 \| 2\^14 \| ([^|]+?) \| ([^|]+) \|", out, re.M)}
    assert bench.order[:2] == ["ours", "eager"], bench.order     # ours (the default) and eager first
    # every contestant measured before the stop has its row; eager/this is eager's time over the row's
    assert set(rows) == {"ours, fused rows *", "eager", "ours, kernel/product", "compile"}, out
    line = next(ln for ln in out.splitlines() if "| compile |" in ln)
    assert "| 2.000 | 2.00 | 2.00 |" in line, line        # 2 ms; eager 4 ms / 2 ms; 2 ms / ours' 1 ms


def test_compile_modes_are_checked(bench):
    with pytest.raises(SystemExit, match="--compile-modes takes default and max-autotune"):
        bench.main(["--widths", "64", "--batches", "14", "--compile-modes", "reduce-overhead"])


def test_the_cnn_rows_are_printed_as_they_are_measured(bench, capsys, monkeypatch):
    """--cnn: the digits CNN's contestants (ours, ours in a CUDA graph, eager, torch.compile), ours and
    eager measured first, each row printed as soon as it can be, the ratios against ours and eager."""
    monkeypatch.setattr(bench, "cnn_ours", lambda torch, X, Y, init: "ours")
    monkeypatch.setattr(bench, "cnn_ours_graph", lambda torch, X, Y, init: "graph")
    monkeypatch.setattr(bench, "cnn_eager", lambda torch, X, Y, init, mode=None:
                        ({None: "eager", "default": "compile"}.get(mode, mode), None, None))
    with pytest.raises(KeyboardInterrupt):
        bench.main(["--cnn", "--batches", "14"])
    out = capsys.readouterr().out
    assert bench.order[:2] == ["ours", "eager"], bench.order
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| 2\^14 \| ([^|]+?) \| ([^|]+) \|", out, re.M)}
    assert set(rows) == {"ours *", "eager", "ours, CUDA graph", "compile"}, out
    assert "digits CNN" in out and "conv 3×3" in out, out
    line = next(ln for ln in out.splitlines() if "| ours, CUDA graph |" in ln)
    assert "| 0.500 | 8.00 | 0.50 |" in line, line         # 0.5 ms; eager 4 ms / 0.5; 0.5 / ours' 1 ms


def test_check_goes_with_cnn(bench):
    with pytest.raises(SystemExit, match="--check goes with --cnn"):
        bench.main(["--check"])
