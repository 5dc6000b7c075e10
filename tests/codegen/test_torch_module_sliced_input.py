"""An `as_torch()` module whose program reads an input in slices (``x[:, :4]``): its outputs' backward
computes only the input gradients asked for.

The kernels compute no gradient through a slice of an input, so the module's VJP must not plan one
for an input that does not require a gradient. Until 2026-11-30 (eighth session) the Triton VJP always
planned every input's gradient, and ``loss.backward()`` through ``module(x)`` raised "the gradient of
an input read in slices ... detach that input" for an ``x`` that was never attached. Oracle:
torch.autograd on the same network written in torch (float32, the interpreter on the CPU).
"""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import UnsupportedError

torch = pytest.importorskip("torch")
pytest.importorskip("triton")

F = torch.nn.functional
N = sp.Symbol("N", integer=True, positive=True)


@pytest.fixture(scope="module")
def module():
    W, U, b = sg.tensor("W", (4, 3)), sg.tensor("U", (2, 3)), sg.tensor("b", (3,))
    x, h, y = sg.tensor("x", (N, 6)), sg.tensor("h", (N, 2)), sg.tensor("y", (N,), integer=True)
    z = sg.tanh(x[:, 1:5]) @ W + h @ U + b
    prog = sg.compile(sg.cross_entropy(z, y), [W, U, b], [x, h, y], target="triton", outputs=[z])
    return prog.as_torch()


def _twin(mod):
    return {n: p.detach().clone().requires_grad_() for n, p in mod.named_parameters()}


def _torch_z(p, X, H):
    return torch.tanh(X[:, 1:5]) @ p["W"] + H @ p["U"] + p["b"]


def _close(a, b, what):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6, err_msg=what)


def test_outputs_backward_without_input_gradients(module):
    g = torch.Generator().manual_seed(0)
    X, H, Y = torch.randn(5, 6, generator=g), torch.randn(5, 2, generator=g), torch.randint(0, 3, (5,), generator=g)
    module.zero_grad()
    F.cross_entropy(module(X, H), Y).backward()
    twin = _twin(module)
    F.cross_entropy(_torch_z(twin, X, H), Y).backward()
    for n, p in module.named_parameters():
        _close(p.grad, twin[n].grad, f"d loss / d {n}")


def test_outputs_backward_with_the_gradient_of_the_other_input(module):
    """An encoder before ``h`` (h requires a gradient, the sliced x does not): h's gradient and the
    encoder's equal torch's."""
    g = torch.Generator().manual_seed(1)
    X, E, Y = torch.randn(4, 6, generator=g), torch.randn(4, 3, generator=g), torch.randint(0, 3, (4,), generator=g)
    enc = torch.nn.Linear(3, 2)
    enc_t = torch.nn.Linear(3, 2)
    enc_t.load_state_dict(enc.state_dict())
    module.zero_grad()
    F.cross_entropy(module(X, enc(E)), Y).backward()
    twin = _twin(module)
    F.cross_entropy(_torch_z(twin, X, enc_t(E)), Y).backward()
    _close(enc.weight.grad, enc_t.weight.grad, "the encoder's weight gradient")
    for n, p in module.named_parameters():
        _close(p.grad, twin[n].grad, f"d loss / d {n}")


def test_a_gradient_asked_through_the_slice_is_refused_naming_it(module):
    X = torch.randn(3, 6, requires_grad=True)
    out = module(X, torch.randn(3, 2))
    with pytest.raises(UnsupportedError, match=r"slices .*detach that input"):
        out.sum().backward()
