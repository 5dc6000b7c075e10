"""examples/train_cnn_digits.py: the LeNet-style CNN, compiled to one NumPy step, reaches ≥ 0.98
test accuracy on scikit-learn's digits, and writes its loss plot."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent


def _example():
    spec = importlib.util.spec_from_file_location("train_cnn_digits", ROOT / "examples" / "train_cnn_digits.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.slow
def test_cnn_on_digits_reaches_98_percent(tmp_path):
    pytest.importorskip("sklearn")
    pytest.importorskip("matplotlib")
    from threadpoolctl import threadpool_limits
    out = tmp_path / "cnn.png"
    with threadpool_limits(1):                # small GEMMs: one BLAS thread is the fastest
        acc = _example().main(["--no-progress", "--out", str(out)])
    assert acc >= 0.98
    assert out.stat().st_size > 10_000 and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cnn_declaration_shapes_and_a_first_step_lowers_the_loss():
    """A quick look at the same network: its logits are (N, 10), and a few Adam steps on one batch
    lower that batch's loss (the compiled step moves the parameters downhill)."""
    pytest.importorskip("sklearn")
    import sympy as sp

    import symgrad as sg
    ex = _example()
    logits, loss, params, inputs = ex.lenet(c1=4, c2=8)
    assert sg.as_tensor(logits).shape == (sp.Symbol("N", integer=True, positive=True), 10)
    train, _ = ex.digits(0)
    prog = sg.compile(loss, params=params, inputs=inputs, optimizer=sg.optim.Adam(lr=1e-2), dtype="float64")
    batch = {"x": train["x"][:64], "y": train["y"][:64]}
    values = ex.init(params, 0)
    before = prog.loss(values, batch)
    state = prog.init_state(values)
    for _ in range(10):
        values, state = prog.step(values, state, batch)
    assert prog.loss(values, batch) < 0.7 * before
