"""The Triton program's messages. Its ShapeError for an nn.Linear weight given where (in, out) is declared says it is
the transpose and what to write (as the NumPy program's does: tests/compiling/test_torch_weights_into_program.py)."""
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import ShapeError

torch = pytest.importorskip("torch")
pytest.importorskip("triton")


def test_triton_program_names_the_transpose():
    N = sp.Symbol("N", integer=True, positive=True)
    x, y = sg.tensor("x", (N, 6)), sg.tensor("y", (N,), integer=True)
    W, b = sg.tensor("W", (6, 3)), sg.tensor("b", (3,))
    prog = sg.compile(sg.cross_entropy(x @ W + b, y), [W, b], [x, y], target="triton")
    lin = torch.nn.Linear(6, 3)
    with pytest.raises(ShapeError, match=r"transpose of the declared shape.*sg\.linear"):
        prog.loss({"W": lin.weight, "b": lin.bias}, {"x": torch.zeros(2, 6), "y": torch.tensor([0, 1])})


def test_triton_programs_repr_says_what_the_numpy_programs_does():
    """Its optimizer (groups, clipping) and dtype, as the NumPy program's repr, and the device (it was
    ``TorchProgram(params=[...], inputs=[...], device=cpu)``)."""
    net, t = sg.mlp([4, 3]), sp.MatrixSymbol("t", 3, 1)
    opt = sg.optim.AdamW(lr=1e-3, groups=[{"params": [net.params[1]], "weight_decay": 0.0}], clip_grad_norm=1.0)
    prog = sg.compile(sg.cross_entropy(net.output, t), net.params, [net.input, t], target="triton", optimizer=opt)
    ref = sg.compile(sg.cross_entropy(net.output, t), net.params, [net.input, t], optimizer=opt)
    assert repr(prog) == repr(ref).replace("<Program", "<TorchProgram")[:-1] + f"; on {prog.device}>"
    assert "AdamW(lr=0.001, 1 group besides the default, clip_grad_norm=1)" in repr(prog)


def test_float64_is_refused_naming_both_ways_out():
    """It said only "computes in float32 ...; got dtype='float64'" (2026-11-30, eighth session)."""
    net, t = sg.mlp([4, 3]), sp.MatrixSymbol("t", 3, 1)
    with pytest.raises(sg.UnsupportedError, match=r"dtype='float64': compile with dtype='float32' .* "
                                                   r"target='numpy' for float64"):
        sg.compile(sg.cross_entropy(net.output, t), net.params, [net.input, t], target="triton", dtype="float64")


_KERAS = r"reads this weight as W·x .* goes in as its transpose, weight\.T"


def test_a_w_x_weight_given_as_its_transpose_is_named_as_the_numpy_program_names_it():
    """sg.linear reads W as torch does, (out, in): a weight given (in, out) is a Keras/NumPy kernel,
    not a torch one. The Triton program and its as_torch() said "torch's nn.Linear stores ... declare
    sg.linear" — the layer already declared so (2026-11-30, kernels2)."""
    N = sp.Symbol("N", integer=True, positive=True)
    x, y = sg.tensor("x", (N, 6)), sg.tensor("y", (N,), integer=True)
    W, b = sg.tensor("W", (3, 6)), sg.tensor("b", (3,))
    prog = sg.compile(sg.cross_entropy(sg.linear(x, W, b), y), [W, b], [x, y], target="triton")
    kernel = {"W": torch.zeros(6, 3), "b": torch.zeros(3)}
    with pytest.raises(ShapeError, match=_KERAS):
        prog.loss(kernel, {"x": torch.zeros(2, 6), "y": torch.tensor([0, 1])})
    with pytest.raises(ShapeError, match=_KERAS):
        prog.as_torch(kernel)


def test_as_torch_of_an_mlp_names_the_w_x_layout():
    """sg.mlp's weights are W·x (out, in); as_torch of the NumPy program goes through the same module."""
    net, t = sg.mlp([4, 3]), sp.MatrixSymbol("t", 3, 1)
    prog = sg.compile(sg.cross_entropy(net.output, t), net.params, [net.input, t])
    values = {p.name: torch.zeros(tuple(int(d) for d in p.shape)) for p in net.params}
    values[net.params[0].name] = torch.zeros(4, 3)      # declared (3, 4)
    with pytest.raises(ShapeError, match=_KERAS):
        prog.as_torch(values)


@pytest.mark.parametrize("third", ["state", "None"])
def test_the_triton_step_says_a_batch_and_a_state_are_swapped(third):
    """As the NumPy program's step does (tests/compiling/test_step_arguments.py); the Triton step
    said "the optimizer state's step count 't' must be an integer >= 0, got tensor(...)", and its
    state holds the device count ``t_device`` besides the slots."""
    import numpy as np
    from symgrad.errors import DataError
    net, t = sg.mlp([4, 3]), sp.MatrixSymbol("t", 3, 1)
    prog = sg.compile(sg.cross_entropy(net.output, t), net.params, [net.input, t], target="triton", optimizer="adam")
    rng = np.random.default_rng(0)
    values = {p.name: torch.tensor(rng.normal(0, 0.1, p.shape), dtype=torch.float32) for p in net.params}
    before = {k: v.clone() for k, v in values.items()}
    batch = {"x": torch.rand(5, 4), "t": torch.eye(3)[torch.tensor([0, 1, 2, 0, 1])]}
    state = prog.init_state(values)
    with pytest.raises(DataError, match="these look swapped: the second holds the inputs 'x', 't'"):
        prog.step(values, batch, state if third == "state" else None)
    assert all(torch.equal(values[k], before[k]) for k in values)
