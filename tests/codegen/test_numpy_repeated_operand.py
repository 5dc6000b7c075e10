"""An elementwise expression that one printed body reads at two places gets its own statement
(`codegen.schedule.Scheduler._read_twice`): the forward-only ``loss`` of gelu(x @ W + b) printed
``(p1 + v3)*(erf(…*(p1 + v3)) + 1)``, adding the bias twice, where the step (which reads b + x @ W
in its backward pass too) names it once. Values: the loss equals the step's loss and torch's."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")

N = sp.Symbol("N", integer=True, positive=True)


def _function(source: str, name: str) -> list:
    """The code lines of the generated function ``name`` (no comments, docstring or entry checks)."""
    body = source.split(f"\ndef {name}(")[1].split("\ndef ")[0]
    lines = [line.strip() for line in body.splitlines()[2:]]
    return [line for line in lines if line and not line.startswith(("#", "assert ", "[", "d0 = ", '"""'))]


@pytest.mark.parametrize("act, torch_act", [(sg.gelu, torch.nn.functional.gelu),
                                            (sg.silu, torch.nn.functional.silu)],
                         ids=["gelu", "silu"])
def test_loss_adds_the_bias_once(act, torch_act):
    x, W, b = sg.tensor("x", (N, 4)), sg.tensor("W", (4, 3)), sg.tensor("b", (3,))
    prog = sg.compile(sg.mean(act(x @ W + b) ** 2), [W, b], [x], dtype="float64",
                      optimizer=sg.optim.SGD(lr=0.1))
    loss_code = _function(prog.source, "loss")
    reads_of_b = sum(line.count("p1") for line in loss_code)
    assert reads_of_b == 1, "\n".join(loss_code)        # was 2: (p1 + v3) inside gelu's two places
    assert not any("+ v" in line and line.count("(p1 + ") > 1 for line in loss_code)

    rng = np.random.default_rng(1)
    values = {"W": rng.normal(size=(4, 3)), "b": rng.normal(size=(3,))}
    batch = {"x": rng.normal(size=(7, 4))}
    expected = (torch_act(torch.tensor(batch["x"]) @ torch.tensor(values["W"])
                          + torch.tensor(values["b"])) ** 2).mean().item()
    loss = prog.loss(values, batch)
    np.testing.assert_allclose(loss, expected, rtol=1e-12)
    prog.step({k: v.copy() for k, v in values.items()}, None, batch)
    np.testing.assert_allclose(loss, prog.last_loss, rtol=1e-12)      # the step's loss before its update
