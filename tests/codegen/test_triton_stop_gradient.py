"""stop_gradient on the Triton target: the spec its backend gets has none left (removed once the
gradients are derived), so the kernels are those of the same network without it. A straight-through
layer over the batch, compared with the NumPy target (loss, gradients, 3 Adam steps) at float32
tolerance; the NumPy target's are checked against torch's .detach() in
tests/compiling/test_stop_gradient_torch.py. Tiny shapes: Triton's interpreter on the CPU."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from tests.codegen.test_triton_tensors import _same_as_numpy, _values

pytest.importorskip("torch")
pytest.importorskip("triton")

N = sp.Symbol("N", integer=True, positive=True)
D, H, C = 5, 6, 3


def test_straight_through_layer_equals_numpy(rng):
    x, y = sg.tensor("x", (N, D)), sg.tensor("y", (N,), integer=True)
    W1, W2 = sg.tensor("W1", (D, H)), sg.tensor("W2", (H, C))
    soft = sg.tanh(x @ W1)
    hard = soft + (sp.sign(soft) - soft).detach()         # forward sign(soft), backward identity
    loss = sg.cross_entropy(hard @ W2, y)
    tri, ref = (sg.compile(loss, [W1, W2], [x, y], target=t, optimizer=sg.optim.Adam(lr=0.05))
                for t in ("triton", "numpy"))
    code = [ln.split("#")[0] for ln in tri.source.splitlines()]     # (the comments quote the declaration)
    assert not any("stop_gradient" in ln for ln in code)
    values = _values([W1, W2], rng)
    batch = {"x": rng.normal(size=(7, D)).astype(np.float32), "y": rng.integers(0, C, 7)}
    assert np.abs(ref.grad(values, batch)["W1"]).sum() > 0      # the gradient passes straight through
    _same_as_numpy(tri, ref, values, batch)


def test_a_parameter_without_gradient_is_named_and_the_triton_step_skips_it():
    """torch skips a parameter whose .grad is None; so does the Triton step (and the NumPy step,
    tests/compiling/test_optim_no_gradient.py): the warning says it is left unchanged, for every
    target (tests/codegen/test_triton_no_gradient.py compares the steps with torch)."""
    x, y = sg.tensor("x", (N, D)), sg.tensor("y", (N,), integer=True)
    W, U = sg.tensor("W", (D, C)), sg.tensor("U", (D, C))
    with pytest.warns(sg.optim.NoGradientWarning, match=r"'U' gets no gradient.*the training step leaves it unchanged"):
        prog = sg.compile(sg.cross_entropy(x @ W + x @ U.detach(), y), [W, U], [x, y], target="triton",
                          optimizer=sg.optim.AdamW(lr=0.1, weight_decay=0.5))
    assert "p1 (the parameter 'U') gets no gradient: not updated by AdamW" in prog.source
