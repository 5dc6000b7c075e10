"""``as_torch()`` of a program with ``sg.dropout``: the fused loss (``module.loss``) draws the masks in
training mode — the same masks the program's ``grad`` draws from the same generator state — and drops
nothing in eval mode (as torch's nn.Dropout), where loss and gradients (parameters and inputs) equal
torch.autograd on the network written in torch without dropout. The outputs (``module(x)``) drop in
training mode (masks drawn in the kernels, new at each call, kept entries scaled 1/(1 - p)), their
backward equal to torch.autograd's under the masks read back from an output; in eval mode they drop
nothing, their backward torch.autograd's without dropout. Kernels under Triton's interpreter: tiny
shapes.
"""
import warnings

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


def test_outputs_in_eval_mode_have_no_dropout_and_torchs_backward():
    prog, module, X, T = _setup(2)
    want_out, _, want, want_x = _torch_without_dropout(module, X, T)
    module.eval()
    x = X.clone().requires_grad_(True)
    out = module(x)
    torch.testing.assert_close(out.detach(), want_out, rtol=1e-5, atol=1e-6)
    torch.nn.functional.mse_loss(out, T).backward()
    for n, g in _grads(module).items():
        torch.testing.assert_close(g, want[n], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(x.grad, want_x, rtol=1e-5, atol=1e-6)
    with torch.no_grad():
        torch.testing.assert_close(module(X), want_out, rtol=1e-5, atol=1e-6)


P = 0.5


def _observed():
    """The hidden layer after dropout is an output too: its mask can be read from it (entries where
    the ReLU is positive; elsewhere the mask changes nothing)."""
    x, t = sg.tensor("x", (D,)), sg.tensor("t", (C,))
    W1, b1, W2 = sg.tensor("W1", (D, H)), sg.tensor("b1", (H,)), sg.tensor("W2", (H, C))
    d = sg.dropout(sg.relu(x @ W1 + b1), P)
    out = d @ W2
    prog = sg.compile(sg.mse(out, t), [W1, b1, W2], [x, t], target="triton", outputs=[d, out])
    g = torch.Generator().manual_seed(3)
    module = prog.as_torch()
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.5)
    return module, torch.randn(B, D, generator=g), torch.randn(B, C, generator=g), torch.randn(B, H, generator=g)


def test_outputs_in_training_mode_drop_with_masks_their_backward_sees():
    module, X, T, R = _observed()
    W1, b1, W2 = (module.parameter(n).detach().clone().requires_grad_(True) for n in ("W1", "b1", "W2"))
    h = torch.relu(X @ W1 + b1).detach()                 # before dropout, computed by torch
    module.eval()
    d_eval, out_eval = module(X)
    module.train()
    x = X.clone().requires_grad_(True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                    # no "dropout off" warning any more
        d, out = module(x)
    # kept entries scaled by 1/(1 - p), the others 0; some of each; not the eval outputs
    pos = h > 1e-4
    ratio = d.detach()[pos] / h[pos]
    kept = torch.isclose(ratio, torch.full_like(ratio, 1 / (1 - P)), rtol=1e-4)
    dropped = ratio == 0
    assert bool((kept | dropped).all()) and kept.any() and dropped.any()
    assert not torch.allclose(out.detach(), out_eval, atol=1e-4)
    torch.testing.assert_close(d_eval, h, rtol=1e-5, atol=1e-6)
    # the backward through both outputs: torch.autograd of the network with the mask read from d
    mask = torch.where(pos, (d.detach() != 0).float(), torch.zeros_like(h)) / (1 - P)
    (torch.nn.functional.mse_loss(out, T) + (d * R).sum()).backward()
    xr = X.clone().requires_grad_(True)
    dr = torch.relu(xr @ W1 + b1) * mask
    (torch.nn.functional.mse_loss(dr @ W2, T) + (dr * R).sum()).backward()
    for n, want in (("W1", W1.grad), ("b1", b1.grad), ("W2", W2.grad)):
        torch.testing.assert_close(module.parameter(n).grad, want, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(x.grad, xr.grad, rtol=1e-5, atol=1e-6)
    # a new call draws new masks, and without a gradient (as nn.Dropout) it drops too
    d2, _ = module(X)
    with torch.no_grad():
        d3, _ = module(X)
    assert not torch.equal(d2.detach() != 0, d.detach() != 0)
    assert bool(((d3 == 0) | torch.isclose(d3, h / (1 - P), rtol=1e-4)).all()) and (d3[pos] == 0).any()
