"""relu′(0) in an `as_torch()` module against torch.autograd: symgrad's default is 1 (the lecture
notes' convention, `sg.Subgradients`), torch's is 0. They part where a pre-activation is exactly
0 — an all-zero example (a blank image, a padded row) through a layer whose bias starts at 0, as
the module's biases do — and `policy=sg.Subgradients(relu_at_zero=0)` gives torch's numbers there
(docs/triton.md, "Inside PyTorch"). Tiny MLP: the kernels run under the interpreter."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")
pytest.importorskip("triton")
F = torch.nn.functional


def _grads(policy):
    net = sg.mlp([4, 6, 3], act=sg.relu)
    t = sp.MatrixSymbol("t", 3, 1)
    prog = sg.compile(sg.cross_entropy(net.output, t), net.params, [net.input, t], target="triton",
                      outputs=[net.output], policy=policy)
    mod = prog.as_torch(generator=torch.Generator().manual_seed(1))
    twin = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 3))
    twin.load_state_dict(mod.linear_state_dict(["0", "2"]))
    X = torch.randn(4, 4, generator=torch.Generator().manual_seed(2))
    X[1] = 0.0                                   # a blank example: z = W·0 + 0 = 0 in every unit
    y = torch.tensor([0, 1, 2, 1])
    assert float(twin[0].bias.detach().abs().max()) == 0.0     # (the module's biases start at 0)
    F.cross_entropy(mod(X), y).backward()
    F.cross_entropy(twin(X), y).backward()
    return [(mod.W1.grad, twin[0].weight.grad), (mod.b1.grad, twin[0].bias.grad),
            (mod.W2.grad, twin[2].weight.grad), (mod.b2.grad, twin[2].bias.grad)]


def test_torchs_relu_at_zero_gives_torchs_gradients_at_a_blank_example():
    for got, want in _grads(sg.Subgradients(relu_at_zero=0)):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)


def test_the_default_relu_at_zero_differs_from_torch_in_the_first_layers_bias_there():
    (_, _), (gb, tb), (gw2, tw2), (gb2, tb2) = _grads(sg.Subgradients())
    assert not np.allclose(gb.numpy(), tb.numpy(), atol=1e-6)     # the blank example's δ passes relu′(0) = 1
    np.testing.assert_allclose(gw2.numpy(), tw2.numpy(), rtol=1e-5, atol=1e-6)    # (relu(0) = 0 either way)
    np.testing.assert_allclose(gb2.numpy(), tb2.numpy(), rtol=1e-5, atol=1e-6)
