"""A torch model's weights given to a compiled program as they come: parameters that require a
gradient are read (they were a DataError quoting torch), and an nn.Linear weight given for a weight
declared (in, out) is a ShapeError that says it is the transpose and what to write."""
import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg
from symgrad.errors import ShapeError

N = sp.Symbol("N", integer=True, positive=True)


def _program(torch_layout: bool):
    x, y = sg.tensor("x", (N, 6)), sg.tensor("y", (N,), integer=True)
    W, b = sg.tensor("W", (3, 6) if torch_layout else (6, 3)), sg.tensor("b", (3,))
    logits = sg.linear(x, W, b) if torch_layout else x @ W + b
    return sg.compile(sg.cross_entropy(logits, y), [W, b], [x, y], outputs=[logits], dtype="float64")


def test_parameters_that_require_grad_are_read_and_not_aliased():
    torch.manual_seed(0)
    lin = torch.nn.Linear(6, 3).double()
    X, Y = torch.randn(5, 6, dtype=torch.float64), torch.tensor([0, 1, 2, 1, 0])
    prog = _program(torch_layout=True)
    values = {"W": lin.weight, "b": lin.bias}                  # requires_grad=True
    want = torch.nn.functional.cross_entropy(lin(X), Y).item()
    assert prog.loss(values, {"x": X, "y": Y}) == pytest.approx(want, rel=1e-12)
    w0 = lin.weight.detach().clone()
    prog.step(values, None, {"x": X.numpy(), "y": Y.numpy()})
    assert torch.equal(lin.weight.detach(), w0)               # a copy was stepped, not lin's weight


def test_a_torch_weight_for_a_weight_declared_in_out_names_the_transpose():
    lin = torch.nn.Linear(6, 3)
    prog = _program(torch_layout=False)
    with pytest.raises(ShapeError, match=r"transpose of the declared shape.*weight\.T.*sg\.linear"):
        prog.loss({"W": lin.weight.detach().numpy(), "b": lin.bias.detach().numpy()},
                  {"x": np.zeros((2, 6)), "y": np.array([0, 1])})
    with pytest.raises(ShapeError, match=r"transpose of the declared shape"):
        prog.as_torch({"W": lin.weight.detach().numpy(), "b": lin.bias.detach().numpy()})
    with pytest.raises(ShapeError) as e:                       # another wrong shape: no such hint
        prog.loss({"W": np.zeros((6, 4)), "b": np.zeros(3)}, {"x": np.zeros((2, 6)), "y": np.array([0, 1])})
    assert "transpose" not in str(e.value)


def test_train_starts_from_a_torch_models_named_parameters():
    torch.manual_seed(0)
    lin = torch.nn.Linear(6, 3).double()
    rng = np.random.default_rng(0)
    data = {"x": rng.normal(size=(20, 6)), "y": rng.integers(0, 3, 20)}
    prog = _program(torch_layout=True)
    h = sg.train(prog, data, epochs=1, batch_size=20, progress=False, values={"W": lin.weight, "b": lin.bias})
    want = sg.train(prog, data, epochs=1, batch_size=20, progress=False,
                    values={"W": lin.weight.detach().numpy().copy(), "b": lin.bias.detach().numpy().copy()})
    np.testing.assert_array_equal(h.values["W"], want.values["W"])
    assert not np.array_equal(h.values["W"], lin.weight.detach().numpy())     # trained, lin left alone


def _mlp_matrix_symbols():
    net, t = sg.mlp([6, 4, 3]), sp.MatrixSymbol("t", 3, 1)       # W1·x: W1 declared (out, in) = (4, 6)
    return sg.compile(sg.cross_entropy(net.output, t), net.params, [net.input, t], dtype="float64")


def _per_example_tensors():
    x, y = sg.tensor("x", (6,)), sg.tensor("y", (), integer=True)
    W1, W2 = sg.tensor("W1", (4, 6)), sg.tensor("W2", (3, 4))
    return sg.compile(sg.cross_entropy(W2 @ sg.relu(W1 @ x), y), [W1, W2], [x, y], dtype="float64")


@pytest.mark.parametrize("make, values, batch", [
    (_mlp_matrix_symbols, {"W1": np.zeros((6, 4)), "b1": np.zeros((4, 1)), "W2": np.zeros((3, 4)),
                           "b2": np.zeros((3, 1))}, {"x": np.zeros((2, 6)), "t": np.eye(3)[[0, 1]]}),
    (_per_example_tensors, {"W1": np.zeros((6, 4)), "W2": np.zeros((3, 4))},
     {"x": np.zeros((2, 6)), "y": np.array([0, 1])}),
    (lambda: _program(torch_layout=True), {"W": np.zeros((6, 3)), "b": np.zeros(3)},
     {"x": np.zeros((2, 6)), "y": np.array([0, 1])}),
])
def test_an_in_out_weight_for_a_weight_read_as_W_x_is_not_called_a_torch_weight(make, values, batch):
    """Before: the hint said "torch's nn.Linear stores its weight (out, in) = (6, 4) ... declare the
    layer as torch does, sg.linear" for a weight the program already reads as W·x, (out, in) =
    (4, 6): it named the given (in, out) array torch's layout and the declared layout the other."""
    prog = make()
    with pytest.raises(ShapeError, match="transpose of the declared shape") as e:
        prog.loss(values, batch)
    said = str(e.value)
    assert "reads this weight as W·x (out, in)" in said and "torch's nn.Linear stores its weight (out, in)" not in said
    assert "sg.linear(x, W, b) with W of shape" not in said
