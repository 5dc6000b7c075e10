"""The SGD update of the generated NumPy step is one pass over each parameter: plain SGD seeds reverse
mode with the learning rate, so the update is ``p -= g`` (it was ``g *= lr; p -= g``); momentum is
staged in place (``b *= μ; b += g; numpy.multiply(b, lr, out=g); p -= g``), where the new buffer and
parameter went through temporaries and copies. The steps still equal torch.optim.SGD in float64."""
import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg
from symgrad import optim as O

N = sp.Symbol("N", integer=True, positive=True)
CONFIGS = {"plain": dict(lr=0.1), "momentum": dict(lr=0.05, momentum=0.9),
           "nesterov-wd": dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
           "wd": dict(lr=0.1, weight_decay=0.01), "dampening": dict(lr=0.05, momentum=0.9, dampening=0.5)}


def _mlp(opt):
    x, y = sg.tensor("x", (N, 4)), sg.tensor("y", (N,), integer=True)
    W1, b1, W2 = sg.tensor("W1", (4, 6)), sg.tensor("b1", (6,)), sg.tensor("W2", (6, 3))
    loss = sg.cross_entropy(sg.tanh(x @ W1 + b1) @ W2, y)
    return sg.compile(loss, [W1, b1, W2], [x, y], optimizer=opt, dtype="float64")


def _update(prog, i=0):
    """The lines of p{i}'s update in the step, comments left out."""
    step = prog.source.split("def step(")[1]
    part = step.split(f"# the optimizer's update of p{i} ")[1].splitlines()[1:]
    out = []
    for ln in part:
        ln = ln.strip()
        if ln.startswith("# ") and not ln.startswith("# the optimizer's"):
            continue            # (the rule the lines work out)
        if ln.startswith("del ") or ln.startswith("# the optimizer's") or not ln.startswith(("p", "s", "g", "n", "numpy")):
            break
        out.append(ln)
    return out


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_steps_equal_torch_sgd(name):
    rng = np.random.default_rng(1)
    prog = _mlp(O.SGD(**CONFIGS[name]))
    start = {"W1": rng.normal(size=(4, 6)), "b1": rng.normal(size=6), "W2": rng.normal(size=(6, 3))}
    batches = [{"x": rng.normal(size=(8, 4)), "y": rng.integers(0, 3, 8)} for _ in range(5)]
    tp = {k: torch.tensor(v, requires_grad=True) for k, v in start.items()}
    topt = torch.optim.SGD(list(tp.values()), **CONFIGS[name])
    values, state = {k: v.copy() for k, v in start.items()}, None
    for b in batches:
        values, state = prog.step(values, state, b)
        topt.zero_grad()
        z = torch.tanh(torch.tensor(b["x"]) @ tp["W1"] + tp["b1"]) @ tp["W2"]
        torch.nn.functional.cross_entropy(z, torch.tensor(b["y"])).backward()
        topt.step()
    for k in start:
        np.testing.assert_allclose(values[k], tp[k].detach().numpy(), rtol=1e-12, atol=1e-13, err_msg=k)


def test_plain_sgd_updates_in_one_statement_with_the_lr_in_the_seed():
    prog = _mlp(O.SGD(lr=0.1))
    assert _update(prog) == ["p0 -= g0"], _update(prog)
    assert "scale = 0.1  # the seed of reverse mode" in prog.source
    grad = prog.source.split("def grad(")[1].split("def step(")[0]
    assert "scale = 1.0" in grad            # grad's gradients are ∂L/∂p, not lr·∂L/∂p
    wd = _mlp(O.SGD(lr=0.1, weight_decay=0.01))
    assert _update(wd) == ["p0 *= 0.999", "p0 -= g0"], _update(wd)


def test_momentum_is_staged_in_place_without_temporaries():
    lines = _update(_mlp(O.SGD(lr=0.05, momentum=0.9)))
    assert lines == ["s0_0 *= 0.9", "s0_0 += g0", "numpy.multiply(s0_0, 0.05, out=g0)", "p0 -= g0"], lines
    nesterov = _update(_mlp(O.SGD(lr=0.05, momentum=0.9, nesterov=True)))
    assert not any(ln.startswith("n0_") or "[...] =" in ln for ln in nesterov), nesterov
    assert nesterov[-1] == "p0 -= g0", nesterov


def test_a_schedule_is_the_seed_at_each_step():
    """The annealed learning rate, lr(t), seeds reverse mode: the same steps as the reference rule."""
    opt = O.SGD(lr=O.LinearAnnealing(0.1, 0.01, tau=3))
    prog = _mlp(opt)
    rng = np.random.default_rng(2)
    values = {"W1": rng.normal(size=(4, 6)), "b1": rng.normal(size=6), "W2": rng.normal(size=(6, 3))}
    ref = {k: v.copy() for k, v in values.items()}
    update, state = opt.lambdify(), None
    b = {"x": rng.normal(size=(8, 4)), "y": rng.integers(0, 3, 8)}
    for t in range(1, 6):
        g = prog.grad(ref, b)
        ref = {k: update(ref[k], g[k], {}, t)[0] for k in ref}
        values, state = prog.step(values, state, b)
    for k in ref:
        np.testing.assert_allclose(values[k], ref[k], rtol=1e-12, atol=1e-13, err_msg=k)
