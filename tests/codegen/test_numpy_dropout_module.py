"""``as_torch()`` of a ``target="numpy"`` program with ``sg.dropout``: its outputs (``module(x)``) drop
in training mode as torch's nn.Dropout (masks drawn from the program's generator, new at each call,
kept entries scaled 1/(1 - p)), with no warning; their backward equals torch.autograd's under the
masks read back from an output (the hidden layer after dropout); in eval mode they drop nothing and
their backward is torch.autograd's without dropout. Parameter gradients only: the NumPy module has
no input gradients.
"""
import warnings

import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")

D, H, C, B, P = 6, 8, 3, 5, 0.5


def _observed():
    """A network whose outputs are the hidden layer after dropout, d, and W2·d."""
    x, t = sp.MatrixSymbol("x", D, 1), sp.MatrixSymbol("t", C, 1)
    W1, b1, W2 = sp.MatrixSymbol("W1", H, D), sp.MatrixSymbol("b1", H, 1), sp.MatrixSymbol("W2", C, H)
    d = sg.dropout(sg.relu(W1 * x + b1), P)
    out = W2 * d
    prog = sg.compile(sg.mse(out, t), [W1, b1, W2], [x, t], outputs=[d, out])
    g = torch.Generator().manual_seed(3)
    module = prog.as_torch()
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.5)
    return module, torch.randn(B, D, generator=g), torch.randn(B, C, generator=g), torch.randn(B, H, generator=g)


def _torch_params(module):
    return [module.parameter(n).detach().clone().requires_grad_(True) for n in ("W1", "b1", "W2")]


def _grads(module):
    return {n: module.parameter(n).grad.clone() for n in ("W1", "b1", "W2")}


def _torch_backward(module, X, R, S, mask):
    """torch.autograd of Σ d·R + Σ out·S, d = relu(x W1ᵀ + b1) · mask: the parameters' gradients."""
    W1, b1, W2 = _torch_params(module)
    d = torch.relu(X @ W1.T + b1) * mask
    ((d * R).sum() + ((d @ W2.T) * S).sum()).backward()
    return {"W1": W1.grad, "b1": b1.grad, "W2": W2.grad}


def test_outputs_in_eval_mode_have_no_dropout_and_torchs_backward():
    module, X, _, R = _observed()
    S = torch.randn(B, C, generator=torch.Generator().manual_seed(7))
    W1, b1, W2 = _torch_params(module)
    h = torch.relu(X @ W1.T + b1).detach()
    module.eval()
    d, out = module(X)
    torch.testing.assert_close(d.detach(), h, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(out.detach(), h @ W2.detach().T, rtol=1e-5, atol=1e-6)
    ((d * R).sum() + (out * S).sum()).backward()
    want = _torch_backward(module, X, R, S, torch.ones_like(h))
    for n, g in _grads(module).items():
        torch.testing.assert_close(g, want[n], rtol=1e-5, atol=1e-5)


def test_outputs_in_training_mode_drop_with_masks_their_backward_sees():
    module, X, _, R = _observed()
    S = torch.randn(B, C, generator=torch.Generator().manual_seed(7))
    W1, b1, _ = _torch_params(module)
    h = torch.relu(X @ W1.T + b1).detach()                 # before dropout, computed by torch
    module.train()
    with warnings.catch_warnings():
        warnings.simplefilter("error")                    # no "dropout off" warning
        d, out = module(X)
    pos = h > 1e-4
    ratio = d.detach()[pos] / h[pos]
    kept = torch.isclose(ratio, torch.full_like(ratio, 1 / (1 - P)), rtol=1e-4)
    dropped = ratio == 0
    assert bool((kept | dropped).all()) and kept.any() and dropped.any()
    # the backward through both outputs: torch.autograd of the network with the mask read from d
    mask = torch.where(pos, (d.detach() != 0).float(), torch.zeros_like(h)) / (1 - P)
    ((d * R).sum() + (out * S).sum()).backward()
    want = _torch_backward(module, X, R, S, mask)
    for n, g in _grads(module).items():
        torch.testing.assert_close(g, want[n], rtol=1e-5, atol=1e-5)
    # the dropout was on in the backward: not the gradient without it
    plain = _torch_backward(module, X, R, S, torch.ones_like(h))
    assert any(not torch.allclose(want[n], plain[n], atol=1e-4) for n in want)
    # a new call draws new masks, and without a gradient (as nn.Dropout) it drops too
    d2, _ = module(X)
    with torch.no_grad():
        d3, _ = module(X)
    assert not torch.equal(d2.detach() != 0, d.detach() != 0)
    assert bool(((d3 == 0) | torch.isclose(d3, h / (1 - P), rtol=1e-4)).all()) and (d3[pos] == 0).any()
