"""The five models of bench/port_step.py (docs/layers.md, "Porting a PyTorch model") — pre-norm
residual MLP, unrolled LSTM, masked multi-head attention, mean of embeddings with label smoothing,
tied autoencoder — each declared as torch code writes it, against its torch twin in float64: the
loss and every gradient (torch.autograd), and three Adam steps (torch.optim.Adam)."""
import importlib.util
import pathlib

import numpy as np
import pytest

import symgrad as sg

torch = pytest.importorskip("torch")
_PATH = pathlib.Path(__file__).resolve().parents[2] / "bench" / "port_step.py"
_SPEC = importlib.util.spec_from_file_location("port_step", _PATH)
port_step = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(port_step)

SMALL = {"prenorm": dict(D=8, C=3, L=3), "lstm": dict(T=5, D=4, H=6, C=3), "attention": dict(T=5, D=8, H=2, C=3),
         "bag": dict(V=30, D=4, L=5, C=3), "tied_ae": dict(D=10, H=4)}


@pytest.mark.parametrize("name", list(port_step.MODELS))
def test_ported_model_equals_torch_in_float64(name):
    torch.set_default_dtype(torch.float64)
    try:
        rng = np.random.default_rng(0)
        loss, params, inputs, data, twin = port_step.MODELS[name](6, rng, **SMALL[name])
        if name == "attention":
            data["pad"][0, 1:] = 0                  # a sequence of one token
        if name == "bag":
            data["ids"][0, :3] = 7                  # a repeated id
        prog = sg.compile(loss, params, inputs, dtype="float64", optimizer=sg.optim.Adam(lr=0.05))
        vals = {p.name: rng.normal(0, 0.5, tuple(p.shape)) for p in params}
        same_as_torch_adam(prog, vals, data, twin)
    finally:
        torch.set_default_dtype(torch.float32)


def same_as_torch_adam(prog, vals, data, twin, relative_loss=False):
    """The compiled program against its torch twin in float64 (torch's default dtype set so by the
    caller): the loss (within 1e-12, times |loss| where ``relative_loss`` and it is above 1), every
    gradient against torch.autograd, and the values after three Adam steps against torch.optim.Adam
    (lr 0.05, as the program was compiled). Shared with tests/test_bench_port_step_survey.py."""
    t = {k: torch.tensor(v, requires_grad=True) for k, v in vals.items()}
    td = {k: torch.tensor(v) for k, v in data.items()}
    F = torch.nn.functional
    lt = twin(t, td, F)
    lt.backward()
    assert abs(prog.loss(vals, data) - lt.item()) < 1e-12 * (max(1.0, abs(lt.item())) if relative_loss else 1.0)
    ours = prog.grad(vals, data)
    for k in vals:
        np.testing.assert_allclose(ours[k], t[k].grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=k)
    opt = torch.optim.Adam(t.values(), lr=0.05)
    state = prog.init_state(vals)
    for _ in range(3):
        vals, state = prog.step(vals, state, data)
        opt.zero_grad()
        twin(t, td, F).backward()
        opt.step()
    for k in vals:
        np.testing.assert_allclose(vals[k], t[k].detach().numpy(), rtol=1e-9, atol=1e-12, err_msg=k)
