"""``prog.as_torch()`` without values starts its parameters as torch's layers start theirs: a weight
uniform in ±1/√(fan-in) with the fan-in read from the graph (``x @ W`` with W (in, out) as well as
nn.Linear's (out, in)), LayerNorm's scale at 1, biases at 0. Until 2026-11-30, seventh session, a
scale started at 0, so a model with LayerNorm came out of as_torch() constant after its first norm,
and every layer before it got no gradient."""
import math

import sympy as sp
import torch

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)


def _layer_norm_mlp():
    x, y = sg.tensor("x", (N, 12)), sg.tensor("y", (N,), integer=True)
    W1, b1 = sg.tensor("W1", (40, 12)), sg.tensor("b1", (40,))                 # nn.Linear's (out, in)
    g, beta = sg.tensor("g", (40,)), sg.tensor("beta", (40,))
    W2 = sg.tensor("W2", (40, 3))                                             # x @ W: (in, out)
    h = sg.gelu(sg.layer_norm(sg.linear(x, W1, b1), (40,), g, beta))
    logits = h @ W2
    return sg.compile(sg.cross_entropy(logits, y), [W1, b1, g, beta, W2], [x, y], outputs=[logits],
                      dtype="float64")


def test_scales_start_at_one_and_the_first_layer_gets_a_gradient():
    module = _layer_norm_mlp().as_torch(generator=torch.Generator().manual_seed(0))
    assert torch.equal(module.g.detach(), torch.ones(40, dtype=torch.float64))
    assert torch.equal(module.beta.detach(), torch.zeros(40, dtype=torch.float64))
    X, Y = torch.randn(16, 12, dtype=torch.float64), torch.randint(0, 3, (16,))
    torch.nn.functional.cross_entropy(module(X), Y).backward()
    assert module.W1.grad.abs().max() > 1e-6                  # it was exactly 0: g = 0 cut the graph
    assert module(X).std(0).max() > 1e-3                      # the outputs depend on the example


def test_weights_are_uniform_within_one_over_root_fan_in_for_either_layout():
    module = _layer_norm_mlp().as_torch(generator=torch.Generator().manual_seed(0))
    for name, fan_in in (("W1", 12), ("W2", 40)):
        w, bound = module.parameter(name).detach(), 1 / math.sqrt(fan_in)
        assert w.abs().max() <= bound
        assert w.abs().max() > 0.9 * bound                    # the whole range is used: not a smaller one
