"""torch.compile is a peer of the CPU bench scripts: where it fails (stubbed here: a compile that
raises, one that computes something else) the scripts say "failed: <reason>" in its column and go on;
the variant kept is one whose losses are the eager step's. Nothing is compiled here (the stubs stand
in for torch.compile), so these are cheap."""
from __future__ import annotations

import importlib.util
import io
import sys
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

BENCH = Path(__file__).resolve().parents[1] / "bench"


def _script(name):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod                    # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


def _raise(*args, **kwargs):
    raise RuntimeError("no C++ compiler | here\nsecond line")


def _tiny(seed=0):
    rng = np.random.default_rng(seed)
    values = {"W": rng.standard_normal((3, 4)).astype(np.float32), "b": np.zeros(3, np.float32)}
    x = torch.tensor(rng.standard_normal((5, 4)).astype(np.float32))
    y = torch.tensor(rng.integers(0, 3, 5))

    def loss_fn(ps, x, y):
        return torch.nn.functional.cross_entropy(x @ ps["W"].T + ps["b"], y)
    return loss_fn, values, (x, y)


def _eager_losses(loss_fn, values, inputs, lr, n):
    """n SGD steps written out here, independently of the peer's eager step."""
    ps = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in values.items()}
    out = []
    for _ in range(n):
        loss = loss_fn(ps, *inputs)
        loss.backward()
        with torch.no_grad():
            for p in ps.values():
                p -= lr * p.grad
                p.grad = None
        out.append(loss.item())
    return out


def test_a_compile_that_raises_is_reported_not_timed(monkeypatch):
    peer = _script("torch_compile_peer")
    monkeypatch.setattr(torch, "compile", _raise)
    loss_fn, values, inputs = _tiny()
    got = peer.peer(loss_fn, values, 0.1, inputs, repeats=1, per_repeat=1)
    assert got.step is None
    assert set(got.tried) == set(peer.VARIANTS)
    assert got.failure == "failed: RuntimeError: no C++ compiler / here"   # one line, no cell break
    assert "torch.compile failed" in got.note()


def test_a_compile_that_computes_something_else_is_caught(monkeypatch):
    peer = _script("torch_compile_peer")

    def off(fn, **kwargs):                          # a "compiled" function 1% off
        return lambda *a, **k: (lambda r: r * 1.01 if r is not None else r)(fn(*a, **k))
    monkeypatch.setattr(torch, "compile", off)
    loss_fn, values, inputs = _tiny()
    got = peer.peer(loss_fn, values, 0.1, inputs, repeats=1, per_repeat=1)
    assert got.step is None
    assert got.tried["whole step"].startswith("failed: AssertionError: its loss at step 1")
    assert got.tried["loss compiled"].startswith("failed: AssertionError: its loss at step 1")


def test_the_kept_variant_steps_as_eager_does(monkeypatch):
    """torch.compile stubbed by the identity: every variant runs; the kept one continues the eager
    trajectory (3 checked steps + 1 repeat each, then one more)."""
    peer = _script("torch_compile_peer")
    monkeypatch.setattr(torch, "compile", lambda fn, **kw: fn)
    loss_fn, values, inputs = _tiny()
    got = peer.peer(loss_fn, values, 0.1, inputs, repeats=1, per_repeat=1)
    assert got.variant in peer.VARIANTS and all("µs" in v for v in got.tried.values())
    want = _eager_losses(loss_fn, values, inputs, 0.1, 5)
    assert got.want == pytest.approx(want[:3], rel=1e-6)
    assert got.step() == pytest.approx(want[4], rel=1e-5)   # its 5th step: 3 checked, 1 timed
    assert want[4] < want[0]                                 # (the steps do descend)


def test_cpu_step_row_says_why_torch_compile_is_missing():
    cpu = _script("cpu_step")
    t = {"generated": 1e-4, "hand": 1e-4, "torch": 2e-4}
    ratio = {"hand": 1.0, "torch": 0.5}
    row = cpu._row((3, 5, 2), 8, t, ratio, 1024, 2048, "failed: RuntimeError: no compiler")
    assert row.count("failed: RuntimeError: no compiler") == 2   # its time and gen/torch.compile
    assert row.count("|") == cpu.HEADER.count("|")
    t["torch.compile"], ratio["torch.compile"] = 4e-4, 0.25
    cells = [c.strip() for c in cpu._row((3, 5, 2), 8, t, ratio, 1024, 2048).split("|")]
    head = [c.strip() for c in cpu.HEADER.split("|")]
    assert cells[head.index("torch.compile µs")] == "400.0"
    assert cells[head.index("gen/torch.compile")] == "0.25"


def test_cpu_step_torch_compile_peer_fails_cleanly(monkeypatch):
    cpu = _script("cpu_step")
    monkeypatch.setattr(torch, "compile", _raise)
    X, T, labels, params = cpu.data((3, 5, 2), 8)
    got = cpu.torch_compile_peer_for((3, 5, 2), params, X, T, labels)
    assert got.step is None and got.failure.startswith("failed: RuntimeError")


def test_cnn_step_prints_the_failure_as_its_row():
    cnn = _script("cnn_step")
    peer = cnn.torch_compile_peer
    failed = peer.Peer(None, tried={v: "failed: RuntimeError: no compiler" for v in peer.VARIANTS})
    assert cnn.torch_compile_lines(failed) == \
        "| torch.compile | failed: RuntimeError: no compiler | failed: RuntimeError: no compiler |"
    assert peer.SKIPPED in cnn.torch_compile_lines(None)


def test_tensor_step_runs_on_when_torch_compile_fails(monkeypatch):
    monkeypatch.setattr(torch, "compile", _raise)
    out = io.StringIO()
    with redirect_stdout(out):
        _script("tensor_step").main(["--rounds", "1", "--layers", "1", "--width", "6", "--batch", "8"])
    text = out.getvalue()
    assert "torch.compile: failed: RuntimeError: no C++ compiler / here" in text
    assert "compiled / torch eager" in text                 # the other peers ran


def test_the_profile_names_the_operators(monkeypatch, capsys):
    peer = _script("torch_compile_peer")
    peer.profile(peer.Peer(None, tried={"whole step": "failed: RuntimeError: x"}))
    assert capsys.readouterr().out.strip() == "torch.compile: failed: RuntimeError: x"
    monkeypatch.setattr(torch, "compile", lambda fn, **kw: fn)
    loss_fn, values, inputs = _tiny()
    got = peer.peer(loss_fn, values, 0.1, inputs, repeats=1, per_repeat=1)
    peer.profile(got, steps=2)
    out = capsys.readouterr().out
    assert f"torch.compile ('{got.variant}')" in out and "ms per step" in out
    assert "aten::" in out                                   # the product and cross-entropy's operators
