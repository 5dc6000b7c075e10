"""examples/port_torch_training.py runs: the compiled step and the as_torch() module inside torch's
loop follow the torch script's AdamW (groups, warm-up + cosine, clip_grad_norm_) to float64 rounding,
sg.train(patience=...) reaches the torch script's accuracy, and the Triton target (under
TRITON_INTERPRET=1 here) steps as the NumPy target does."""
import importlib.util
import pathlib

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")
_PATH = pathlib.Path(__file__).resolve().parents[2] / "examples" / "port_torch_training.py"


def _example():
    spec = importlib.util.spec_from_file_location("port_torch_training", _PATH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.slow
def test_port_torch_training_example(capsys):
    out = _example().main(epochs=6)
    assert out["step_diff"] < 1e-12 and out["module_diff"] < 1e-12
    assert out["symgrad_accuracy"] > 0.9 and out["torch_accuracy"] > 0.9
    assert out["back_accuracy"] == out["symgrad_accuracy"]       # the weights went back into torch
    assert "largest parameter difference" in capsys.readouterr().out


def test_port_torch_training_triton_steps_as_numpy():
    pytest.importorskip("triton")
    assert _example().triton_parity(steps=3) < 1e-5
