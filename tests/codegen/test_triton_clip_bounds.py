"""clip with tensor bounds (np.clip's, torch.clamp's) on the Triton target: learned bounds
(parameters) and a bound that is a value of the parameters, per example and over the batch. Each is
compared with the NumPy target (loss, gradients, 3 Adam steps) at float32 tolerance; the NumPy
target's clip gradients are checked against torch.autograd in tests/frontend/test_clip_tensor_bounds.py.
Tiny shapes: the kernels run under Triton's interpreter on the CPU."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from tests.codegen.test_triton_tensors import _same_as_numpy, _values

pytest.importorskip("torch")
pytest.importorskip("triton")

N = sp.Symbol("N", integer=True, positive=True)
D, H, C = 6, 8, 3
W1, b1, W2 = sg.tensor("W1", (D, H)), sg.tensor("b1", (H,)), sg.tensor("W2", (H, C))
lo, hi = sg.tensor("lo", (H,)), sg.tensor("hi", (H,))


def _case(name):
    if name == "learned bounds, over the batch":
        x, y = sg.tensor("x", (N, D)), sg.tensor("y", (N,), integer=True)
        return sg.cross_entropy(sg.clip(x @ W1 + b1, lo, hi) @ W2, y), [W1, b1, W2, lo, hi], [x, y]
    if name == "learned lower bound, per example":
        x, y = sg.tensor("x", (D,)), sg.tensor("y", (), integer=True)
        return sg.cross_entropy((x @ W1 + b1).clamp(min=lo) @ W2, y), [W1, b1, W2, lo], [x, y]
    if name == "a bound of the parameters":
        x, y = sg.tensor("x", (N, D)), sg.tensor("y", (N,), integer=True)
        return sg.cross_entropy(sg.clip(x @ W1, b1 - 1, b1 + 1) @ W2, y), [W1, b1, W2], [x, y]
    raise KeyError(name)


@pytest.mark.parametrize("case", ["learned bounds, over the batch", "learned lower bound, per example",
                                  "a bound of the parameters"])
def test_clip_with_tensor_bounds_equals_numpy(case, rng):
    loss, params, inputs = _case(case)
    tri, ref = (sg.compile(loss, params, inputs, target=t, optimizer=sg.optim.Adam(lr=0.05))
                for t in ("triton", "numpy"))
    values = _values(params, rng)
    if "lo" in values:              # bounds around the pre-activations' spread: some entries clipped
        values["lo"] = (-0.3 + 0.1 * rng.normal(size=H)).astype(np.float32)
    if "hi" in values:
        values["hi"] = (0.3 + 0.1 * rng.normal(size=H)).astype(np.float32)
    batch = {"x": rng.normal(size=(7, D)).astype(np.float32), "y": rng.integers(0, C, 7)}
    g = ref.grad(values, batch)
    for bound in ("lo", "hi"):      # the case clips: its bounds take gradient
        assert bound not in g or np.abs(g[bound]).sum() > 0, bound
    _same_as_numpy(tri, ref, values, batch)
