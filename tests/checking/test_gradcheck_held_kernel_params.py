"""sg.gradcheck of a Triton program (per-example tensor declaration) holding a stop_gradient: its
held loss reads each parameter in its leaf's shape too — a per-example bias (3,) is a (3, 1) leaf
in the kernel form, and the interpreter raised "value of b has shape (3,), expected (3, 1)"."""
from __future__ import annotations

import numpy as np
import pytest

import symgrad as sg

pytest.importorskip("triton")          # on the CPU under TRITON_INTERPRET=1 (tests/conftest.py)


def _declaration():
    x, y = sg.tensor("x", (4,)), sg.tensor("y", (), integer=True)
    W, b = sg.tensor("W", (4, 3)), sg.tensor("b", (3,))
    z = x @ W + b
    return sg.cross_entropy(z, y) + 0.1 * sg.sum(z * z.detach()), [W, b], [x, y]


def test_triton_program_with_a_detach_and_a_bias_is_checked():
    import torch
    loss, params, inputs = _declaration()
    prog = sg.compile(loss, params, inputs, target="triton", optimizer=sg.optim.SGD(lr=0.1))
    rng = np.random.default_rng(0)
    values = {"W": rng.normal(size=(4, 3)), "b": rng.normal(size=3)}
    batch = {"x": rng.normal(size=(6, 4)), "y": rng.integers(0, 3, 6)}
    r = sg.gradcheck(prog, {k: torch.tensor(v, dtype=torch.float32) for k, v in values.items()},
                     {"x": torch.tensor(batch["x"], dtype=torch.float32), "y": torch.tensor(batch["y"])})
    assert r, str(r)
    assert "stop_gradient held" in str(r).splitlines()[-1]
    # the oracle: torch.autograd with .detach(), float64
    Wt = torch.tensor(values["W"], requires_grad=True)
    bt = torch.tensor(values["b"], requires_grad=True)
    z = torch.tensor(batch["x"]) @ Wt + bt
    (torch.nn.functional.cross_entropy(z, torch.tensor(batch["y"]))
     + 0.1 * (z * z.detach()).sum(1).mean()).backward()
    got = prog.grad({k: torch.tensor(v, dtype=torch.float32) for k, v in values.items()},
                    {"x": torch.tensor(batch["x"], dtype=torch.float32), "y": torch.tensor(batch["y"])})
    np.testing.assert_allclose(got["b"].numpy().reshape(3), bt.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_a_wrong_gradient_is_still_caught():
    import types

    import torch
    loss, params, inputs = _declaration()
    prog = sg.compile(loss, params, inputs, target="triton", optimizer=sg.optim.SGD(lr=0.1))

    def grad(values, batch):
        g = prog.grad(values, batch)
        return {**g, "b": 2 * g["b"]}
    wrong = types.SimpleNamespace(loss=prog.loss, grad=grad, spec=prog.spec)
    rng = np.random.default_rng(1)
    values = {"W": torch.tensor(rng.normal(size=(4, 3)), dtype=torch.float32),
              "b": torch.tensor(rng.normal(size=3), dtype=torch.float32)}
    batch = {"x": torch.tensor(rng.normal(size=(6, 4)), dtype=torch.float32), "y": torch.tensor(rng.integers(0, 3, 6))}
    assert not sg.gradcheck(wrong, values, batch)
