"""An `as_torch()` module in a mixed-precision training step, as a PyTorch program writes one:
an nn.Linear encoder under ``torch.autocast`` (bfloat16 on the CPU) hands the module bfloat16
features; the module computes in float32 and returns float32, and ``GradScaler``'s scaled loss
gives, once unscaled, the gradients of the unscaled one. The oracle: the same MLP in torch
(nn.Linear layers loaded with the module's values) on the same bfloat16 features widened to
float32. Tiny widths: the kernels run under the interpreter."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")
pytest.importorskip("triton")
F = torch.nn.functional


@pytest.fixture(scope="module")
def prog():
    net = sg.mlp([4, 6, 3], act=sg.tanh)
    t = sp.MatrixSymbol("t", 3, 1)
    return sg.compile(sg.cross_entropy(net.output, t), net.params, [net.input, t], target="triton",
                      outputs=[net.output])


def _setup(prog):
    torch.manual_seed(0)
    enc, mod = torch.nn.Linear(5, 4), prog.as_torch(generator=torch.Generator().manual_seed(1))
    twin = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, 3))
    twin.load_state_dict(mod.linear_state_dict(["0", "2"]))
    X, y = torch.randn(6, 5), torch.tensor([0, 1, 2, 1, 0, 2])
    return enc, mod, twin, X, y


def _close(a, b, what):
    np.testing.assert_allclose(a.detach().float().numpy(), b.detach().float().numpy(), rtol=1e-4, atol=1e-5,
                               err_msg=what)


def test_under_autocast_the_module_takes_bfloat16_features_and_returns_float32(prog):
    enc, mod, twin, X, y = _setup(prog)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        h = enc(X)
        out = mod(h)
    assert h.dtype == torch.bfloat16 and out.dtype == torch.float32
    F.cross_entropy(out, y).backward()
    got = [p.grad.clone() for p in (enc.weight, enc.bias, mod.W1, mod.b1)]
    enc.zero_grad()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        h = enc(X)
    with torch.autocast("cpu", enabled=False):
        want_out = twin(h.float())
        F.cross_entropy(want_out, y).backward()
    _close(out, want_out, "outputs")
    for g, w, n in zip(got, (enc.weight.grad, enc.bias.grad, twin[0].weight.grad, twin[0].bias.grad),
                       ("enc.weight", "enc.bias", "W1", "b1")):
        _close(g, w, n)


def test_grad_scaler_unscaled_gradients_equal_the_plain_ones(prog):
    enc, mod, _, X, y = _setup(prog)
    params = list(enc.parameters()) + list(mod.parameters())
    opt = torch.optim.SGD(params, lr=0.1)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0 ** 10)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = F.cross_entropy(mod(enc(X)), y)
    scaler.scale(loss).backward()
    assert float(mod.W2.grad.abs().max()) > 10.0          # scaled by 2^10 on its way in
    scaler.unscale_(opt)
    got = [p.grad.clone() for p in params]
    opt.zero_grad()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = F.cross_entropy(mod(enc(X)), y)
    loss.backward()
    for g, p in zip(got, params):
        _close(g, p.grad, "unscaled")
    scaler.step(opt)
    scaler.update()
    assert scaler.get_scale() == 2.0 ** 10                # nothing inf or NaN: the step was taken
