"""``as_torch()`` of a program with ``sg.dropout``: the fused loss (``module.loss``) draws the masks in
training mode — the same masks the program's ``grad`` draws from the same generator state — and drops
nothing in eval mode (as torch's nn.Dropout), where loss and gradients (parameters and inputs) equal
torch.autograd on the network written in torch without dropout. The outputs (``module(x)``) are the
eval lowering's: no dropout in either mode (a warning says so in training mode), their backward
equal to torch.autograd's. Kernels under Triton's interpreter: tiny shapes.
"""
import numpy as np
import pytest

import symgrad as sg

torch = pytest.importorskip("torch")
pytest.importorskip("triton")

D, H, C, B = 6, 8, 3, 5


def _program():
    x, t = sg.tensor("x", (D,)), sg.tensor("t", (C,))
    W1, b1, W2 = sg.tensor("W1", (D, H)), sg.tensor("b1", (H,)), sg.tensor("W2", (H, C))
    out = sg.dropout(sg.relu(x @ W1 + b1), 0.5) @ W2
    return sg.compile(sg.mse(out, t), [W1, b1, W2], [x, t], target="triton", outputs=[out])


def _setup(seed=0):
    g = torch.Generator().manual_seed(seed)
    prog = _program()
    module = prog.as_torch()
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.5)
    X, T = torch.randn(B, D, generator=g), torch.randn(B, C, generator=g)
    return prog, module, X, T


def _torch_without_dropout(module, X, T):
    """The same network in torch, no dropout: (outputs, loss, parameter grads, input grad)."""
    W1, b1, W2 = (module.parameter(n).detach().clone().requires_grad_(True) for n in ("W1", "b1", "W2"))
    x = X.clone().requires_grad_(True)
    out = torch.relu(x @ W1 + b1) @ W2
    loss = torch.nn.functional.mse_loss(out, T)
    loss.backward()
    return out.detach(), loss.detach(), {"W1": W1.grad, "b1": b1.grad, "W2": W2.grad}, x.grad


def _grads(module):
    return {n: module.parameter(n).grad.clone() for n in ("W1", "b1", "W2")}


def test_fused_loss_in_training_mode_draws_the_masks_of_the_programs_grad():
    prog, module, X, T = _setup()
    values = {n: module.parameter(n).detach().clone() for n in ("W1", "b1", "W2")}
    at = prog.rng.bit_generator.state
    loss = module.loss(X, T)
    loss.backward()
    mine = _grads(module)
    prog.rng.bit_generator.state = at                 # the same generator state: the same seed, masks
    want = prog.grad(values, {"x": X, "t": T})
    for n in mine:
        torch.testing.assert_close(mine[n], want[n].reshape(mine[n].shape), rtol=1e-6, atol=1e-7)
    # dropout was on: not the gradient without it, and a new call draws new masks
    _, plain_loss, plain, _ = _torch_without_dropout(module, X, T)
    assert any(not torch.allclose(mine[n], plain[n], atol=1e-4) for n in mine)
    assert module.loss(X, T).item() != loss.item()
    # the path with an input gradient (an encoder before the module) draws them the same way
    for p in module.parameters():
        p.grad = None
    prog.rng.bit_generator.state = at
    x = X.clone().requires_grad_(True)
    module.loss(x, T).backward()
    for n, g in _grads(module).items():
        torch.testing.assert_close(g, mine[n], rtol=1e-6, atol=1e-7)
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_fused_loss_in_eval_mode_and_under_no_grad_has_no_dropout():
    prog, module, X, T = _setup(1)
    _, want_loss, want, want_x = _torch_without_dropout(module, X, T)
    module.eval()
    x = X.clone().requires_grad_(True)
    loss = module.loss(x, T)
    loss.backward()
    torch.testing.assert_close(loss.detach(), want_loss, rtol=1e-5, atol=1e-6)
    for n, g in _grads(module).items():
        torch.testing.assert_close(g, want[n], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(x.grad, want_x, rtol=1e-5, atol=1e-6)
    for p in module.parameters():                     # the parameters' path alone (no input gradient)
        p.grad = None
    module.loss(X, T).backward()
    for n, g in _grads(module).items():
        torch.testing.assert_close(g, want[n], rtol=1e-5, atol=1e-6)
    assert module.loss(X, T).item() == loss.item()   # the same at every call: nothing drawn
    module.train()
    with torch.no_grad():
        torch.testing.assert_close(module.loss(X, T), want_loss, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_outputs_and_their_backward_have_no_dropout_in_either_mode(mode):
    prog, module, X, T = _setup(2)
    want_out, _, want, want_x = _torch_without_dropout(module, X, T)
    module.train(mode == "train")
    x = X.clone().requires_grad_(True)
    if mode == "train":
        with pytest.warns(UserWarning, match="dropout off, in training mode too"):
            out = module(x)
    else:
        out = module(x)
    torch.testing.assert_close(out.detach(), want_out, rtol=1e-5, atol=1e-6)
    torch.nn.functional.mse_loss(out, T).backward()
    for n, g in _grads(module).items():
        torch.testing.assert_close(g, want[n], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(x.grad, want_x, rtol=1e-5, atol=1e-6)
    with torch.no_grad():
        torch.testing.assert_close(module(X), want_out, rtol=1e-5, atol=1e-6)
