"""The Triton step with optimizers whose update depends on the step t: the update kernel computes
the factors of t alone (bias corrections, a schedule's learning rate, SGD's first-step rule) from the
device's step count, in float64, and advances the count. A few steps of each equal the NumPy target's
(which evaluates the same rules with t a host integer) — parameters, every optimizer slot, the loss —
and the device's count ends at the host's."""
import math

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad import optim as O

torch = pytest.importorskip("torch")
pytest.importorskip("triton")

CONFIGS = {
    # bias corrections 1/(1 − β₁ᵗ), 1/√(1 − β₂ᵗ); with the L2 term in the gradient; and AMSGrad's max
    "adam-weight-decay": lambda: O.Adam(lr=0.02, weight_decay=0.01),
    "adam-amsgrad": lambda: O.Adam(lr=0.02, betas=(0.8, 0.9), amsgrad=True),
    "sgd-momentum": lambda: O.SGD(lr=0.05, momentum=0.9),
    # the buffer starts at g on step 1 (a condition on t, t = 1), dampened after it
    "sgd-momentum-dampening": lambda: O.SGD(lr=0.05, momentum=0.9, dampening=0.5),
    # a scheduled learning rate with ⌊(t − ½)/2⌋ and min(·, 2): 0.1, 0.1, 0.055, 0.055, 0.01
    "sgd-annealed": lambda: O.SGD(lr=O.LinearAnnealing(0.1, 0.01, tau=2, every=2), momentum=0.5),
    "adagrad-lr-decay": lambda: O.Adagrad(lr=0.1, lr_decay=0.3),
}
STEPS = 5


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_triton_step_follows_the_numpy_target(name, rng):
    net = sg.mlp([3, 4, 2], act=sp.tanh)
    y = sp.MatrixSymbol("y", 2, 1)
    L = sg.mse(net.output, y)
    tri, ref = (sg.compile(L, net.params, [net.input, y], target=tg, optimizer=CONFIGS[name]())
                for tg in ("triton", "numpy"))
    values = {p.name: rng.normal(size=p.shape).astype(np.float32) for p in net.params}
    batch = {"x": rng.normal(size=(6, 3)).astype(np.float32), "y": rng.normal(size=(6, 2)).astype(np.float32)}
    vt, st = {k: torch.tensor(v) for k, v in values.items()}, tri.init_state()
    vr, sr = {k: v.copy() for k, v in values.items()}, ref.init_state(values)
    for _ in range(STEPS):
        vt, st = tri.step(vt, st, batch)
        vr, sr = ref.step(vr, sr, batch)
        assert abs(tri.last_loss - ref.last_loss) <= 2e-5 * max(1.0, abs(ref.last_loss)), name
    assert st["t"] == sr["t"] == STEPS
    assert st["t_device"].tolist() == [float(STEPS)] * st["t_device"].numel()
    for k in vr:
        np.testing.assert_allclose(vt[k].numpy(), vr[k], rtol=2e-5, atol=2e-5, err_msg=k)
        for s in tri.slots:
            np.testing.assert_allclose(st[s][k].numpy(), sr[s][k], rtol=2e-5, atol=2e-5, err_msg=f"{s} {k}")


def test_factors_of_t_are_computed_in_the_update_kernel():
    """The generated update: no torch operation on t in its host wrapper, the factors printed in
    the kernel from the float64 count (bᵗ as e^(t·log b)), floor for a step schedule."""
    net = sg.mlp([3, 4, 2], act=sp.tanh)
    y = sp.MatrixSymbol("y", 2, 1)
    src = {name: sg.compile(sg.mse(net.output, y), net.params, [net.input, y], target="triton",
                            optimizer=CONFIGS[name]()).source for name in ("adam-weight-decay", "sgd-annealed")}
    wrapper = src["adam-weight-decay"].split("\ndef update(")[1].split("\ndef ")[0]
    assert "torch.pow" not in wrapper and "h0" not in wrapper, wrapper
    kernel = src["adam-weight-decay"].split("\ndef update_kernel(")[1].split("\ndef ")[0]
    assert "t_done = tl.load(t_ptr + pid)" in kernel and "tl.store(t_ptr + pid, t)" in kernel, kernel
    assert f"tl.exp(t*({math.log(0.9)!r}))" in kernel, kernel          # 0.9ᵗ, log 0.9 to 17 digits
    assert "tl.floor(" in src["sgd-annealed"].split("\ndef update_kernel(")[1]
