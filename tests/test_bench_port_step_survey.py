"""The survey networks of bench/port_step.py (``SURVEY``: layer-norm MLP, batch-norm MLP, ResNet basic
block, GRU, VAE), small, each against its torch twin in float64: the loss, every gradient
(torch.autograd) and three Adam steps (torch.optim.Adam) — so the benchmark times two steps that
compute the same thing."""
import importlib.util
import pathlib

import numpy as np
import pytest

import symgrad as sg
from tests.compiling.test_ported_models import same_as_torch_adam

torch = pytest.importorskip("torch")
_PATH = pathlib.Path(__file__).resolve().parents[1] / "bench" / "port_step.py"
_SPEC = importlib.util.spec_from_file_location("port_step_survey", _PATH)
port_step = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(port_step)

SMALL = {"ln_mlp": dict(D=5, Hd=7, C=3), "bn_mlp": dict(D=5, Hd=7, C=3), "resblock": dict(C=3, S=4, K=3),
         "gru": dict(T=3, D=4, H=5, C=3), "vae": dict(D=6, Hd=5, Z=2)}


def test_the_survey_is_apart_from_the_five_ported_models():
    assert set(port_step.SURVEY) == set(SMALL) and not set(port_step.SURVEY) & set(port_step.MODELS)


@pytest.mark.parametrize("name", list(SMALL))
def test_survey_network_equals_torch_in_float64(name):
    torch.set_default_dtype(torch.float64)
    try:
        rng = np.random.default_rng(1)
        loss, params, inputs, data, twin = port_step.SURVEY[name](6, rng, **SMALL[name])
        prog = sg.compile(loss, params, inputs, dtype="float64", optimizer=sg.optim.Adam(lr=0.05))
        vals = {p.name: rng.normal(0, 0.5, tuple(p.shape)) for p in params}
        same_as_torch_adam(prog, vals, data, twin, relative_loss=True)
    finally:
        torch.set_default_dtype(torch.float32)
