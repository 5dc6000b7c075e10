"""``prog.as_torch(values)`` owns its parameters: a torch optimizer stepping the module never writes into
the caller's arrays (until 2026-11-30, seventh session, a float32 or float64 NumPy array was shared,
so porting a torch model with ``{k: v.detach().numpy()}`` made two models step one set of weights)."""
import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)


def _program(dtype):
    x, y = sg.tensor("x", (N, 4)), sg.tensor("y", (N,), integer=True)
    W, b = sg.tensor("W", (3, 4)), sg.tensor("b", (3,))
    logits = sg.linear(x, W, b)
    return sg.compile(sg.cross_entropy(logits, y), [W, b], [x, y], outputs=[logits], dtype=dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_module_does_not_share_the_callers_arrays(dtype):
    rng = np.random.default_rng(0)
    values = {"W": rng.normal(size=(3, 4)).astype(dtype), "b": np.zeros(3, dtype)}
    before = {k: v.copy() for k, v in values.items()}
    module = _program(dtype).as_torch(values)
    opt = torch.optim.SGD(module.parameters(), lr=0.5)
    torch.nn.functional.cross_entropy(module(torch.tensor(rng.normal(size=(5, 4)), dtype=module.W.dtype)),
                                      torch.tensor([0, 1, 2, 1, 0])).backward()
    opt.step()
    assert not np.allclose(module.W.detach().numpy(), before["W"])        # the module was trained
    for k in values:
        np.testing.assert_array_equal(values[k], before[k])               # the caller's arrays were not


def test_two_models_ported_from_one_torch_model_step_apart():
    lin = torch.nn.Linear(4, 3)
    values = {"W": lin.weight.detach().numpy(), "b": lin.bias.detach().numpy()}   # views of lin's weights
    w0 = lin.weight.detach().clone()
    module = _program("float32").as_torch(values)
    with torch.no_grad():
        module.W.add_(1.0)
    assert torch.equal(lin.weight.detach(), w0)


def _mlp_named_as_torch():
    """A torch MLP's layers declared with its state_dict keys as the symbols' names."""
    x, y = sg.tensor("x", (N, 4)), sg.tensor("y", (N,), integer=True)
    W1, b1 = sg.tensor("0.weight", (5, 4)), sg.tensor("0.bias", (5,))
    W2, b2 = sg.tensor("2.weight", (3, 5)), sg.tensor("2.bias", (3,))
    logits = sg.linear(sg.relu(sg.linear(x, W1, b1)), W2, b2)
    return sg.compile(sg.cross_entropy(logits, y), [W1, b1, W2, b2], [x, y], outputs=[logits],
                      dtype="float64")


def test_load_state_dict_takes_a_torch_models_keys_and_gives_them_back():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3)).double()
    module = _mlp_named_as_torch().as_torch()
    assert "p_0_weight" in module.state_dict()                # attribute names: no "." allowed
    module.load_state_dict(net.state_dict())                  # strict: every key matched
    X = torch.randn(6, 4, dtype=torch.float64)
    torch.testing.assert_close(module(X), net(X), rtol=1e-12, atol=1e-12)
    outer = torch.nn.Sequential(torch.nn.Identity(), module)  # under a prefix ("1.")
    outer.load_state_dict({f"1.{k}": v * 2 for k, v in net.state_dict().items()})
    torch.testing.assert_close(module.parameter("2.bias"), 2 * net[2].bias)
    other = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3)).double()
    other.load_state_dict(module.torch_state_dict())          # and back
    torch.testing.assert_close(other[2].bias, 2 * net[2].bias)


def test_load_state_dict_still_names_a_missing_key():
    module = _mlp_named_as_torch().as_torch()
    sd = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3)).double().state_dict()
    del sd["2.bias"]
    with pytest.raises(RuntimeError, match="p_2_bias"):
        module.load_state_dict(sd)


def test_state_dicts_round_trip_when_a_symbols_name_is_anothers_attribute_name():
    n = sp.Symbol("n", integer=True, positive=True)
    x = sg.tensor("x", (n, 2))
    A, B = sg.tensor("fc1.weight", (2, 2)), sg.tensor("fc1_weight", (2, 2))
    prog = sg.compile(((x @ A) * (x @ B)).mean(), [A, B], [x], dtype="float64")
    a, b = np.eye(2), np.full((2, 2), 2.0)
    m = prog.as_torch({"fc1.weight": a, "fc1_weight": b})
    assert m.attribute_names == {"fc1.weight": "fc1_weight", "fc1_weight": "fc1_weight_1"}
    for sd in (m.torch_state_dict(), m.state_dict()):        # by the symbols' names, by the attributes'
        m2 = prog.as_torch({"fc1.weight": np.zeros((2, 2)), "fc1_weight": np.zeros((2, 2))})
        m2.load_state_dict(sd)                               # strict: every key matched
        np.testing.assert_array_equal(m2.parameter("fc1.weight").detach().numpy(), a)
        np.testing.assert_array_equal(m2.parameter("fc1_weight").detach().numpy(), b)
    m3 = prog.as_torch({"fc1.weight": np.zeros((2, 2)), "fc1_weight": np.zeros((2, 2))})
    r = m3.load_state_dict({"fc1.weight": torch.tensor(a)}, strict=False)   # by name, one of two
    assert r.missing_keys == ["fc1_weight_1"] and not r.unexpected_keys
    np.testing.assert_array_equal(m3.parameter("fc1.weight").detach().numpy(), a)
    np.testing.assert_array_equal(m3.parameter("fc1_weight").detach().numpy(), 0.0)
