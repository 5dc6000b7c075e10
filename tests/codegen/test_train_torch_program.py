"""sg.train on the Triton target's Program (torch tensors, updated in place by the step): a diverging
step must not overwrite the last good values, and checkpoints and predictions work on tensors.
Runs on the CPU under TRITON_INTERPRET=1 (see conftest.py)."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad import optim as O
from symgrad.training import TrainingDiverged, load, save

pytest.importorskip("torch")
pytest.importorskip("triton")


def test_divergence_keeps_the_last_finite_tensor_values():
    w, x, y = sp.symbols("w x y")
    prog = sg.compile((w * x - y) ** 2 / 2, params=[w], inputs=[x, y], optimizer=O.SGD(lr=1.0),
                      target="triton")
    data = {"x": np.array([1.0, 2, 3, 1e20]), "y": np.array([1.0, 2, 3, 4])}   # (1e20)² is inf in fp32
    with pytest.raises(TrainingDiverged) as e:
        sg.train(prog, data, epochs=1, batch_size=1, shuffle=False, progress=False, values={"w": 0.5})
    assert e.value.step == 4 and e.value.param == "w"
    w_ = 0.5                                  # three good SGD steps, by hand
    for xi, yi in [(1, 1), (2, 2), (3, 3)]:
        w_ -= (w_ * xi - yi) * xi
    assert float(e.value.values["w"]) == pytest.approx(w_, rel=1e-6)


def test_checkpoint_of_tensor_values_round_trips(tmp_path):
    import torch
    values = {"W": torch.arange(6, dtype=torch.float32).reshape(2, 3), "b": torch.zeros(2, 1)}
    save(tmp_path / "ck.npz", values, state={"t": 3}, step=3, epoch=1)
    back = load(tmp_path / "ck.npz")
    np.testing.assert_array_equal(back.values["W"], np.arange(6.0).reshape(2, 3))
    assert back.step == 3
