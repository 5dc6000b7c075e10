"""The compiled step with every optimizer of symgrad.compiling.optim: 20 steps of the compiled, in-place
update equal 20 steps of the optimizer's own reference (`Optimizer.lambdify`, itself tested against
torch.optim in tests/compiling/test_optim.py), fed the compiled gradients (tested against torch.autograd)."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad import optim as O

CONFIGS = {
    "sgd": lambda: O.SGD(lr=0.1),
    "sgd-momentum": lambda: O.SGD(lr=0.05, momentum=0.9),
    "sgd-nesterov-wd": lambda: O.SGD(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
    "sgd-l1": lambda: O.SGD(lr=0.05, l1=0.01),
    "sgd-annealed": lambda: O.SGD(lr=O.LinearAnnealing(0.1, 0.01, tau=5, every=3)),
    "adagrad": lambda: O.Adagrad(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1),
    "rmsprop-centered-momentum": lambda: O.RMSprop(lr=0.01, momentum=0.5, centered=True, weight_decay=0.01),
    "adam": lambda: O.Adam(lr=0.01, weight_decay=0.01),
    "adam-amsgrad": lambda: O.Adam(lr=0.01, amsgrad=True),
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_compiled_step_follows_the_optimizer(name):
    opt = CONFIGS[name]()
    rng = np.random.default_rng(5)
    net = sg.mlp([3, 4, 2], act=sp.tanh)
    t = sp.MatrixSymbol("t", 2, 1)
    prog = sg.compile(sg.mse(net.output, t), net.params, [net.input, t], dtype="float64", optimizer=opt)
    values = {p.name: rng.normal(size=p.shape) for p in net.params}
    batch = {"x": rng.normal(size=(6, 3)), "t": rng.normal(size=(6, 2))}
    update = opt.lambdify()
    ref = {k: v.copy() for k, v in values.items()}
    ref_state = {k: opt.init_state(v.shape) for k, v in values.items()}
    vals, state = {k: v.copy() for k, v in values.items()}, prog.init_state(values)
    for step in range(1, 21):
        g = prog.grad(ref, batch)
        for k in ref:
            ref[k], ref_state[k] = update(ref[k], g[k], ref_state[k], step)
        vals, state = prog.step(vals, state, batch)
    assert state["t"] == 20
    for k in ref:
        np.testing.assert_allclose(vals[k], ref[k], rtol=1e-9, atol=1e-12, err_msg=k)
        for s in opt.slots:
            np.testing.assert_allclose(state[s][k], ref_state[k][s], rtol=1e-9, atol=1e-12, err_msg=f"{s} {k}")


def _update_code(opt, widths=(3, 4, 2)):
    net = sg.mlp(list(widths), act=sp.tanh)
    t = sp.MatrixSymbol("t", widths[-1], 1)
    prog = sg.compile(sg.mse(net.output, t), net.params, [net.input, t], optimizer=opt)
    update = prog.source.split("def step(")[1].split("# the optimizer's update of p0 ")[1]
    return [ln.strip() for ln in update.splitlines()[1:] if ln.strip() and not ln.strip().startswith("#")]


def test_update_works_in_the_gradients_buffer():
    """The parameter's rule is the last to read its gradient, so the step is worked out in the
    gradient's own buffer, in place: no array-sized temporaries (hand-written: p -= lr * g makes one)."""
    sgd = _update_code(O.SGD(lr=0.1))
    assert sgd[:2] == ["p0 -= g0", "del g0"], sgd      # the lr is in the seed of reverse mode
    momentum = _update_code(O.SGD(lr=0.1, momentum=0.9))
    assert momentum[:5] == ["s0_0 *= 0.9", "s0_0 += g0", "numpy.multiply(s0_0, 0.1, out=g0)", "p0 -= g0",
                            "del g0"], momentum
    adam = _update_code(O.Adam(lr=0.01))
    k = adam.index("p0 -= g0")
    assert adam[:4] == ["s0_0 *= 0.9", "s0_0 += 0.1*g0", "s0_1 *= 0.999", "s0_1 += 0.001*g0**2"], adam
    assert adam[4] == "numpy.sqrt(s0_1, out=g0)" and "numpy.reciprocal(g0, out=g0)" in adam[4:k], adam
    assert all(ln.startswith("g0 ") or "out=g0" in ln for ln in adam[4:k]), adam
