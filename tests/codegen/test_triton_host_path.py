"""The Triton step's host path is graph-safe: no host–device synchronisation inside ``step``, the
step count and Adam's bias corrections on the device, autotuning keyed on a bucketed batch size.

The kernels are stubbed (each launch only counted), so what runs is the host code alone; a
``TorchDispatchMode`` sees every torch operation it performs and flags the ones that read a value
back to the host (``.item()``, ``float(t)``, ``bool(t)``: ``aten._local_scalar_dense`` and kin).
"""
import re

import numpy as np
import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")
pytest.importorskip("triton")

from torch.utils._python_dispatch import TorchDispatchMode  # noqa: E402

SYNCING = {"_local_scalar_dense", "item", "is_nonzero", "equal", "nonzero", "tolist"}


class SyncCounter(TorchDispatchMode):
    """Records the torch operations that make the host wait for the device."""

    def __init__(self):
        super().__init__()
        self.syncs = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func.overloadpacket.__name__ in SYNCING:
            self.syncs.append(func.overloadpacket.__name__)
        return func(*args, **(kwargs or {}))


class _Stub:
    """Stands for a kernel: ``kernel[grid](*args)`` records the launch and its scalar arguments."""

    def __init__(self, name, log):
        self.name, self.log = name, log

    def __getitem__(self, grid):
        def launch(*args, **kwargs):
            scalars = tuple(a for a in args if not isinstance(a, torch.Tensor))
            self.log.append((self.name, scalars, tuple(sorted(kwargs.items()))))
        return launch


def _stubbed(prog, monkeypatch):
    log = []
    module = prog.compiled.step.__globals__
    for name in [n for n in module if re.search(r"_kernel\d*$", n) and not n.startswith("launch_")]:
        monkeypatch.setitem(module, name, _Stub(name, log))
    return log


def _adam_program():
    net = sg.mlp([5, 7, 3], act=sg.relu)
    t = sp.MatrixSymbol("t", 3, 1)
    return net, sg.compile(sg.cross_entropy(net.output, t), net.params, [net.input, t], target="triton",
                           optimizer=sg.optim.Adam(lr=0.01))


def test_step_never_waits_for_the_device(rng, monkeypatch):
    net, prog = _adam_program()
    log = _stubbed(prog, monkeypatch)
    values = {p.name: torch.tensor(rng.normal(size=p.shape), dtype=torch.float32) for p in net.params}
    batch = {"x": torch.randn(16, 5), "t": torch.eye(3)[torch.randint(0, 3, (16,))]}
    state = prog.init_state()
    values, state = prog.step(values, state, batch)         # the first step makes the buffers
    with SyncCounter() as counter:
        for _ in range(3):
            values, state = prog.step(values, state, batch)
    assert counter.syncs == [], counter.syncs
    launches = [name for name, _, _ in log]
    assert len(launches) == 4 * 3, launches                 # three launches a step
    # the counter sees a sync when there is one: reading the loss is where the host waits
    with SyncCounter() as counter:
        prog.last_loss
    assert counter.syncs == ["_local_scalar_dense"]
    # the step count lives on the device as well, and the bias corrections are computed there: no
    # launch argument changes from one step to the next (a CUDA graph of the step replays right)
    assert state["t"] == 4 and isinstance(state["t_device"], torch.Tensor) and float(state["t_device"]) == 4
    per_step = [log[i:i + 3] for i in range(0, len(log), 3)]
    assert per_step[1] == per_step[2] == per_step[3]


def test_device_step_count_follows_the_numpy_target(rng):
    """Adam's bias corrections from the device's step count: the trajectory still equals NumPy's,
    and ``last_loss`` (read lazily) equals its loss."""
    net, prog = _adam_program()
    t = prog.inputs[1]
    ref = sg.compile(sg.cross_entropy(net.output, t), net.params, [net.input, t], optimizer=sg.optim.Adam(lr=0.01))
    values = {p.name: rng.normal(size=p.shape).astype(np.float32) for p in net.params}
    batch = {"x": rng.normal(size=(9, 5)).astype(np.float32), "t": np.eye(3, dtype=np.float32)[rng.integers(0, 3, 9)]}
    vt, st = dict(values), prog.init_state()
    vr, sr = {k: v.copy() for k, v in values.items()}, ref.init_state()
    for _ in range(3):
        vt, st = prog.step(vt, st, batch)
        vr, sr = ref.step(vr, sr, batch)
        assert abs(prog.last_loss - ref.last_loss) < 2e-5
    for k in vr:
        np.testing.assert_allclose(vt[k].numpy(), vr[k], rtol=2e-5, atol=2e-5, err_msg=k)


def test_autotuning_is_keyed_on_a_bucketed_batch_size():
    _, prog = _adam_program()
    module = prog.compiled.step.__globals__
    assert module["bucket"](19) == module["bucket"](30) == 32 and module["bucket"](33) == 64
    tuners = [module[n] for n in module if re.search(r"_kernel\d*$", n) and hasattr(module[n], "keys")]
    assert tuners and all(t.keys[0] == "B_BUCKET" for t in tuners), [t.keys for t in tuners]
