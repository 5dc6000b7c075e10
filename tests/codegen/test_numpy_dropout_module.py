"""``as_torch()`` of a ``target="numpy"`` program with ``sg.dropout``: its outputs (``module(x)``) drop
in training mode as torch's nn.Dropout (masks drawn from the program's generator, new at each call,
kept entries scaled 1/(1 - p)), with no warning; their backward equals torch.autograd's under the
masks read back from an output (the hidden layer after dropout); in eval mode they drop nothing and
their backward is torch.autograd's without dropout. Parameter gradients only: the NumPy module has
no input gradients.
"""
import warnings

import numpy as np

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


# -- the fused loss (module.loss) and input gradients, for MatrixSymbol and tensor declarations ------
def _declared(kind):
    """The network x → W2·dropout(relu(W1·x + b1)) with ½-mean-squared error, declared with
    MatrixSymbols, per-example tensors, or tensors over the batch (N); float64 programs."""
    if kind == "matrix":
        x, t = sp.MatrixSymbol("x", D, 1), sp.MatrixSymbol("t", C, 1)
        W1, b1, W2 = sp.MatrixSymbol("W1", H, D), sp.MatrixSymbol("b1", H, 1), sp.MatrixSymbol("W2", C, H)
        out = W2 * sg.dropout(sg.relu(W1 * x + b1), P)
        loss = sg.mse(out, t)
    else:
        N = sp.Symbol("N", integer=True, positive=True)
        lead = () if kind == "per_example" else (N,)
        x, t = sg.tensor("x", lead + (D,)), sg.tensor("t", lead + (C,))
        W1, b1, W2 = sg.tensor("W1", (H, D)), sg.tensor("b1", (H,)), sg.tensor("W2", (C, H))
        out = sg.dropout(sg.relu(x @ W1.T + b1), P) @ W2.T
        loss = sg.mse(out, t)
    prog = sg.compile(loss, [W1, b1, W2], [x, t], outputs=[out], dtype="float64")
    g = torch.Generator().manual_seed(4)
    module = prog.as_torch()
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.5)
    return prog, module, torch.randn(B, D, generator=g), torch.randn(B, C, generator=g)


def _torch_twin(module):
    """The all-torch model, in float64, with nn.Dropout where the declaration has sg.dropout."""
    twin = torch.nn.Sequential(torch.nn.Linear(D, H), torch.nn.ReLU(), torch.nn.Dropout(P),
                               torch.nn.Linear(H, C, bias=False)).double()
    with torch.no_grad():
        twin[0].weight.copy_(module.parameter("W1"))
        twin[0].bias.copy_(module.parameter("b1"))
        twin[3].weight.copy_(module.parameter("W2"))
    return twin


def _twin_loss_and_grads(twin, X, T, kind):
    """torch.autograd of the twin's loss: (loss, {parameter: gradient}, input gradient). sg.mse is
    ½‖ŷ − y‖² of a MatrixSymbol column (the slides'), torch's mse_loss of tensors."""
    twin.zero_grad()
    x = X.double().requires_grad_(True)
    loss = ((twin(x) - T.double()) ** 2).sum(1).mean() / 2 if kind == "matrix" else \
        torch.nn.functional.mse_loss(twin(x), T.double())
    loss.backward()
    return loss.detach(), {"W1": twin[0].weight.grad, "b1": twin[0].bias.grad, "W2": twin[3].weight.grad}, x.grad


KINDS = ["matrix", "per_example", "over_the_batch"]


@pytest.mark.parametrize("kind", KINDS)
def test_fused_loss_in_eval_mode_equals_torch_with_dropout_in_eval_mode(kind):
    """module.eval(): module.loss drops nothing, as nn.Dropout in eval mode (until 2026-11-30, fourth
    session, the NumPy module's loss kept dropping there): loss, parameter and input gradients equal
    torch's, every call the same."""
    _, module, X, T = _declared(kind)
    twin = _torch_twin(module).eval()
    want_loss, want, want_x = _twin_loss_and_grads(twin, X, T, kind)
    module.eval()
    x = X.clone().requires_grad_(True)
    loss = module.loss(x, T)
    loss.backward()
    torch.testing.assert_close(loss.detach().double(), want_loss, rtol=1e-6, atol=1e-7)
    for n, g in _grads(module).items():
        torch.testing.assert_close(g.double(), want[n], rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(x.grad.double(), want_x, rtol=1e-6, atol=1e-7)
    module.zero_grad()
    again = module.loss(X, T)                          # the parameters' path alone (no input gradient)
    again.backward()
    assert again.item() == loss.item()
    for n, g in _grads(module).items():
        torch.testing.assert_close(g.double(), want[n], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("kind", KINDS)
def test_fused_loss_in_training_mode_drops_with_the_programs_masks(kind):
    """module.train(): module.loss is the program's grad under the masks its generator draws (the
    same generator state: the same loss and gradients), not the loss without dropout; with an input
    gradient asked for too, the same masks (its value is checked against torch in the outputs' test
    below, under masks known from the seed)."""
    prog, module, X, T = _declared(kind)
    values = {n: module.parameter(n).detach().double().numpy() for n in ("W1", "b1", "W2")}
    values = {n: v.reshape(s) for (n, v), s in zip(values.items(), prog.param_shapes)}
    module.train()
    at = prog.rng.bit_generator.state
    loss = module.loss(X, T)
    loss.backward()
    prog.rng.bit_generator.state = at
    want = prog.grad(values, {"x": X.double().numpy(), "t": T.double().numpy()})
    for n, g in _grads(module).items():
        torch.testing.assert_close(g.double(), torch.as_tensor(want[n]).reshape(g.shape), rtol=1e-6, atol=1e-7)
    plain_loss, plain, _ = _twin_loss_and_grads(_torch_twin(module).eval(), X, T, kind)
    assert abs(loss.item() - plain_loss.item()) > 1e-6
    # with an input gradient: the same masks from the same state, the same parameter gradients
    module.zero_grad()
    prog.rng.bit_generator.state = at
    x = X.clone().requires_grad_(True)
    again = module.loss(x, T)
    again.backward()
    assert again.item() == loss.item()
    for n, g in _grads(module).items():
        torch.testing.assert_close(g.double(), torch.as_tensor(want[n]).reshape(g.shape), rtol=1e-6, atol=1e-7)
    assert x.grad is not None and x.grad.abs().sum() > 0


@pytest.mark.parametrize("kind", KINDS)
def test_outputs_in_training_mode_input_gradient_under_their_masks(kind):
    """The outputs in training mode and their backward with an input gradient: torch.autograd of
    the network under the mask drawn as `codegen.numpy_backend.build_forward` draws it (a NumPy
    generator seeded with a seed from the program's generator; the VJP draws it again)."""
    prog, module, X, T = _declared(kind)
    module.train()
    at = prog.rng.bit_generator.state
    x = X.clone().requires_grad_(True)
    out = module(x)
    G = torch.randn(out.shape, generator=torch.Generator().manual_seed(9))
    (out * G).sum().backward()
    # the seed the call drew, and the masks a NumPy generator seeded with it draws (build_forward's)
    prog.rng.bit_generator.state = at
    seed = int(prog.rng.integers(2 ** 31))
    m = np.random.default_rng(seed).random((B, H)) >= P
    mask = torch.as_tensor(m, dtype=torch.float64) / (1 - P)
    W1, b1, W2 = (module.parameter(n).detach().double().requires_grad_(True) for n in ("W1", "b1", "W2"))
    xd = X.double().requires_grad_(True)
    od = (torch.relu(xd @ W1.T + b1) * mask) @ W2.T
    torch.testing.assert_close(out.detach().double(), od.detach(), rtol=1e-6, atol=1e-6)
    (od * G.double()).sum().backward()
    for n, w in zip(("W1", "b1", "W2"), (W1, b1, W2)):
        torch.testing.assert_close(module.parameter(n).grad.double(), w.grad, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(x.grad.double(), xd.grad, rtol=1e-5, atol=1e-6)
