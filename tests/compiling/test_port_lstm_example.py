"""examples/port_lstm.py runs: the torch-style LSTM trains with sg.train past chance (1/3) on its
held-out sequences, and its as_torch() module equals torch.nn.LSTM loaded with the same weights."""
import importlib.util
import pathlib

import pytest

pytest.importorskip("torch")
_PATH = pathlib.Path(__file__).resolve().parents[2] / "examples" / "port_lstm.py"


@pytest.mark.slow
def test_port_lstm_example_trains_and_equals_torch_lstm(capsys):
    spec = importlib.util.spec_from_file_location("port_lstm", _PATH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    accuracy, diff = mod.main(epochs=6)
    assert accuracy > 0.7
    assert diff < 1e-10
    assert "test accuracy" in capsys.readouterr().out
