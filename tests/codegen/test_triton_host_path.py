"""The Triton step's host path is graph-safe: no host–device synchronisation inside ``step``, the
step count and Adam's bias corrections on the device, autotuning keyed on a bucketed batch size.

The kernels are stubbed (each launch only counted), so what runs is the host code alone; a
``TorchDispatchMode`` sees every torch operation it performs and flags the ones that read a value
back to the host (``.item()``, ``float(t)``, ``bool(t)``: ``aten._local_scalar_dense`` and kin), and
the tensor methods that hand data to NumPy or Python (``.numpy()``, ``.tolist()``, ``.cpu()``: no
dispatched operation on a CPU tensor, a copy that waits for the device on a GPU) are watched too.

Class labels: the kernels check them on the device; a bad one leaves the parameters and the
optimizer state as they were and is raised when the host reads the loss (these run the kernels).
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
# tensor methods that give the host a tensor's values (on a GPU: a copy the host waits for)
READING = ("numpy", "tolist", "item", "cpu", "__array__", "__float__", "__int__", "__bool__", "__index__")


class SyncCounter(TorchDispatchMode):
    """Records the torch operations that make the host wait for the device, and the calls of the
    tensor methods that read values to the host (which a CPU tensor serves without dispatching)."""

    def __init__(self):
        super().__init__()
        self.syncs = []
        self._saved = {}

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func.overloadpacket.__name__ in SYNCING:
            self.syncs.append(func.overloadpacket.__name__)
        return func(*args, **(kwargs or {}))

    def __enter__(self):
        for name in READING:
            own = torch.Tensor.__dict__.get(name)         # None: inherited from the C base class
            self._saved[name] = own
            old = getattr(torch.Tensor, name)

            def watched(t, *a, _old=old, _name=name, **k):
                self.syncs.append(_name)
                return _old(t, *a, **k)
            setattr(torch.Tensor, name, watched)
        return super().__enter__()

    def __exit__(self, *exc):
        for name, own in self._saved.items():
            if own is None:
                delattr(torch.Tensor, name)
            else:
                setattr(torch.Tensor, name, own)
        return super().__exit__(*exc)


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
    assert "_local_scalar_dense" in counter.syncs and set(counter.syncs) <= {"__float__", "_local_scalar_dense"}
    # the step count lives on the device as well, and the update kernel computes the bias corrections
    # from it and advances it (test_step_count_advances_on_the_device): the host leaves it alone
    # (the kernels are stubbed here, so it stays 0), and no launch argument changes from one step to
    # the next (a CUDA graph of the step replays right)
    assert state["t"] == 4 and isinstance(state["t_device"], torch.Tensor)
    assert state["t_device"].dtype == torch.float64 and not state["t_device"].any()
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



def test_last_loss_is_the_last_replayed_steps(rng):
    """A step replayed from a CUDA graph runs the generated step on the program's buffers without
    any Python of ``Program.step``: ``last_loss`` must then read the loss buffer again, not a float
    kept from an earlier read (it returned the captured step's loss for ever after). The replay is
    played here by calling the generated step as the captured ``Program.step`` called it; the
    losses are the NumPy target's, step by step."""
    net, prog = _adam_program()
    t = prog.inputs[1]
    ref = sg.compile(sg.cross_entropy(net.output, t), net.params, [net.input, t], optimizer=sg.optim.Adam(lr=0.01))
    values = {p.name: rng.normal(size=p.shape).astype(np.float32) for p in net.params}
    batch = {"x": rng.normal(size=(9, 5)).astype(np.float32), "t": np.eye(3, dtype=np.float32)[rng.integers(0, 3, 9)]}
    vr, sr = {k: v.copy() for k, v in values.items()}, ref.init_state()
    vt, st = prog.step({k: torch.tensor(v) for k, v in values.items()}, prog.init_state(), batch)  # "captured"
    vr, sr = ref.step(vr, sr, batch)
    assert abs(prog.last_loss - ref.last_loss) < 2e-5           # read once: a float is at hand now
    params = [vt[p.name] for p in net.params]
    slots = [st[s][p.name] for s in prog.slots for p in net.params]
    xs = [torch.tensor(batch["x"]), torch.tensor(batch["t"])]
    for _ in range(2):                                          # two replays, read after each
        prog.compiled.step(params, slots, st["t_device"], xs, prog.rng, loss=prog._loss_buffer)
        vr, sr = ref.step(vr, sr, batch)
        assert abs(prog.last_loss - ref.last_loss) < 2e-5, (prog.last_loss, ref.last_loss)


def test_autotuning_is_keyed_on_a_bucketed_batch_size():
    _, prog = _adam_program()
    module = prog.compiled.step.__globals__
    assert module["bucket"](19) == module["bucket"](30) == 32 and module["bucket"](33) == 64
    tuners = [module[n] for n in module if re.search(r"_kernel\d*$", n) and hasattr(module[n], "keys")]
    assert tuners and all(t.keys[0] == "B_BUCKET" for t in tuners), [t.keys for t in tuners]


# -- class labels: checked on the device ---------------------------------------------------------
def _labels_case():
    """Cross-entropy at an integer class label k of a 4-4-3 relu network (as in test_triton_generality)."""
    x, k = sp.MatrixSymbol("x", 4, 1), sp.Symbol("k")
    W, b, V = sp.MatrixSymbol("W", 4, 4), sp.MatrixSymbol("b", 4, 1), sp.MatrixSymbol("V", 3, 4)
    return sg.cross_entropy(V * sg.relu(W * x + b), k), [W, b, V], [x, k]


def _labels_program(target="triton"):
    L, params, inputs = _labels_case()
    return sg.compile(L, params, inputs, target=target, optimizer=sg.optim.Adam(lr=0.05))


def _labels_values(rng):
    return {n: (0.5 * rng.normal(size=s)).astype(np.float32) for n, s in (("W", (4, 4)), ("b", (4, 1)), ("V", (3, 4)))}


def test_step_with_class_labels_never_waits_for_the_device(rng, monkeypatch):
    """The labels used to be copied to the host and checked there at every step (one sync each)."""
    prog = _labels_program()
    log = _stubbed(prog, monkeypatch)
    values = {n: torch.tensor(v) for n, v in _labels_values(rng).items()}
    batch = {"x": torch.randn(16, 4), "k": torch.tensor([0.0, 1.0, 2.0, 1.0] * 4)}
    state = prog.init_state()
    values, state = prog.step(values, state, batch)
    with SyncCounter() as counter:
        for _ in range(3):
            values, state = prog.step(values, state, batch)
    assert counter.syncs == [], counter.syncs
    assert len(log) == 4 * 3, [name for name, _, _ in log]         # still three launches a step
    per_step = [log[i:i + 3] for i in range(0, len(log), 3)]
    assert per_step[1] == per_step[2] == per_step[3]
    # the counter sees the host check (the copy of the labels to NumPy) that step no longer makes,
    # and the read of the device's record of bad labels with the loss
    with SyncCounter() as counter:
        prog._batch_arrays(batch, "train")
    assert "numpy" in counter.syncs, counter.syncs
    with SyncCounter() as counter:
        prog.last_loss
    assert "tolist" in counter.syncs and "_local_scalar_dense" in counter.syncs, counter.syncs


def _snapshot(values, state):
    out = {("value", n): v.clone() for n, v in values.items()}
    for s, d in state.items():
        if isinstance(d, dict):
            out.update({(s, n): v.clone() for n, v in d.items()})
    out["t_device"] = state["t_device"].clone()
    return out


def test_a_bad_label_changes_nothing_and_is_raised_when_the_loss_is_read(rng):
    """Step 2's batch holds the label 3 of 3 classes (and −1): neither it nor step 3 (good labels,
    still before any read) changes a parameter, an Adam slot or the step count; reading
    ``last_loss`` raises the NumPy target's error for that batch; training then goes on as if the
    bad batch had never come (the NumPy target's trajectory over the good batches)."""
    tri, ref = _labels_program(), _labels_program("numpy")
    values = _labels_values(rng)
    good = {"x": rng.normal(size=(6, 4)).astype(np.float32), "k": np.array([0, 1, 2, 2, 1, 0], np.float32)}
    bad = dict(good, k=np.array([0, 1, 2, 3, 1, -1], np.float32))
    with pytest.raises(sg.DataError) as want:        # the NumPy target's check of the same batch
        ref.loss(values, bad)
    vt, st = {n: torch.tensor(v) for n, v in values.items()}, tri.init_state()
    vr, sr = {n: v.copy() for n, v in values.items()}, ref.init_state()
    vt, st = tri.step(vt, st, good)
    vr, sr = ref.step(vr, sr, good)
    assert abs(tri.last_loss - ref.last_loss) < 2e-5
    before = _snapshot(vt, st)
    vt, st = tri.step(vt, st, bad)                  # nothing is read back: no error yet
    vt, st = tri.step(vt, st, good)                 # skipped as well: the bad label is not read yet
    with pytest.raises(sg.LabelRangeError) as info:
        tri.last_loss
    msg = str(info.value)
    assert msg.startswith(str(want.value)), (msg, str(want.value))     # 'k', example 3 has 3, 3 classes
    assert "example 3 has 3" in msg and "(3 classes)" in msg and "and the 1 after it" in msg, msg
    assert isinstance(info.value, sg.DataError)
    after = _snapshot(vt, st)
    for key in before:
        assert torch.equal(before[key], after[key]), key
    assert st["t"] == 1 and st["t_device"].tolist() == [1.0] * st["t_device"].numel()     # every copy
    assert tri.last_loss != tri.last_loss          # the skipped step's loss: NaN (the error is raised once)
    for _ in range(2):
        vt, st = tri.step(vt, st, good)
        vr, sr = ref.step(vr, sr, good)
        assert abs(tri.last_loss - ref.last_loss) < 2e-5
    assert st["t"] == sr["t"] == 3 and st["t_device"].tolist() == [3.0] * st["t_device"].numel()
    for n in vr:
        np.testing.assert_allclose(vt[n].numpy(), vr[n], rtol=2e-5, atol=2e-5, err_msg=n)
        for slot in tri.slots:
            np.testing.assert_allclose(st[slot][n].numpy(), sr[slot][n], rtol=2e-5, atol=2e-5, err_msg=n)


@pytest.mark.parametrize("label, shown", [(-0.5, "-0.5"), (1.5, "1.5"), (float("nan"), "nan")])
def test_every_kind_of_bad_label_is_found_on_the_device(label, shown, rng):
    """Not an integer, or not a number: found by the kernels like 3 and −1, and raised by ``sync()``
    (or ``loss()``, which reads the device too), with the value the example held."""
    prog = _labels_program()
    values = {n: torch.tensor(v) for n, v in _labels_values(rng).items()}
    batch = {"x": torch.randn(5, 4), "k": torch.tensor([2.0, 0.0, label, 1.0, label])}
    before = {n: v.clone() for n, v in values.items()}
    values, state = prog.step(values, None, batch)
    with pytest.raises(sg.LabelRangeError, match=f"'k' .* example 2 has {shown} "):
        prog.sync()
    prog.sync()                                     # read and reset: nothing more to raise
    assert all(torch.equal(values[n], before[n]) for n in values)
    prog.step(values, state, batch)
    with pytest.raises(sg.LabelRangeError, match=f"example 2 has {shown} "):
        prog.loss(values, dict(batch, k=torch.tensor([2.0, 0.0, 1.0, 1.0, 0.0])))


def test_train_stops_at_the_step_whose_batch_has_a_bad_label(rng):
    """sg.train reads the loss after every step: the error comes at that step, as on the NumPy target."""
    prog = _labels_program()
    data = {"x": rng.normal(size=(8, 4)).astype(np.float32),
            "k": np.array([0, 1, 2, 0, 1, 7, 0, 1], np.float32)}
    with pytest.raises(sg.LabelRangeError, match="example 1 has 7 "):
        sg.train(prog, data, epochs=1, batch_size=4, shuffle=False, metrics=None, progress=False,
                 values=_labels_values(rng))


# -- the host's work per step: the launches, nothing else -------------------------------------------
class OpCounter(TorchDispatchMode):
    """Every torch operation dispatched while active (on CPU tensors: each would be a CUDA activity
    or at least an allocator call on a GPU, host time either way)."""

    def __init__(self):
        super().__init__()
        self.ops = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops.append(str(func))
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize("case", ["adam", "labels", "int64 labels"])
def test_step_dispatches_no_torch_operation(case, rng, monkeypatch):
    """After the first step (which makes the workspace, the loss buffer and the record of labels),
    a step's host code launches the kernels and runs no torch operation at all: the update's
    factors of t and the count's increment are in the update kernel, the loss goes to a buffer the
    program keeps. (Before: ten a step — t.add_(1), and pow, rsub, pow, a float32 copy for each of
    Adam's two bias corrections, and an empty tensor for the loss.)"""
    if case == "adam":
        net, prog = _adam_program()
        values = {p.name: torch.tensor(rng.normal(size=p.shape), dtype=torch.float32) for p in net.params}
        batch = {"x": torch.randn(16, 5), "t": torch.eye(3)[torch.randint(0, 3, (16,))]}
    else:       # labels as torch makes them (torch.randint: int64) are read by the kernels as they are
        prog = _labels_program()
        values = {n: torch.tensor(v) for n, v in _labels_values(rng).items()}
        k = torch.tensor([0, 1, 2, 1] * 4)
        batch = {"x": torch.randn(16, 4), "k": k.float() if case == "labels" else k}
        assert batch["k"].dtype == (torch.float32 if case == "labels" else torch.int64)
    log = _stubbed(prog, monkeypatch)
    state = prog.init_state()
    values, state = prog.step(values, state, batch)
    with OpCounter() as counter:
        for _ in range(3):
            values, state = prog.step(values, state, batch)
    assert counter.ops == [], counter.ops
    assert len(log) == 4 * 3
    # the counter counts: a state without the device's count makes one (from the host's t)
    with OpCounter() as counter:
        prog.step(values, {k: v for k, v in state.items() if k != "t_device"}, batch)
    assert counter.ops, "the counter saw nothing"


def test_step_count_advances_on_the_device(rng):
    """The update kernel advances the device's count (every program's copy) by one a step, and not at
    a skipped step (a class label out of range): after each step it equals the host's count, with
    the bad batch and the step after it (also skipped, the error not read yet) not counted."""
    prog = _labels_program()
    values = {n: torch.tensor(v) for n, v in _labels_values(rng).items()}
    good = {"x": torch.randn(5, 4), "k": torch.tensor([0.0, 1.0, 2.0, 1.0, 0.0])}
    bad = dict(good, k=torch.tensor([0.0, 1.0, 5.0, 1.0, 0.0]))
    state = prog.init_state()
    copies = state["t_device"].numel()
    assert copies > 1 and state["t_device"].tolist() == [0.0] * copies
    seen = []
    for batch in (good, good, bad, good):
        values, state = prog.step(values, state, batch)
        seen.append(state["t_device"].tolist())
    assert seen[:2] == [[1.0] * copies, [2.0] * copies]
    assert seen[2] == seen[3] == [2.0] * copies            # skipped: the count stays
    assert state["t"] == 4                                  # the host has not heard of it yet
    with pytest.raises(sg.LabelRangeError, match="example 2 has 5 "):
        prog.sync()
    assert state["t"] == 2                                  # set back by the two steps skipped
    values, state = prog.step(values, state, good)
    assert state["t"] == 3 and state["t_device"].tolist() == [3.0] * copies


def test_int_step_number_and_device_count_give_the_same_step(rng):
    """The generated ``step`` (and ``update``) still takes this step's number as an int: the same
    update, bit for bit, as the device's count of the steps done."""
    net, prog = _adam_program()
    values = [torch.tensor(rng.normal(size=p.shape), dtype=torch.float32) for p in net.params]
    batch = [torch.randn(8, 5), torch.eye(3)[torch.randint(0, 3, (8,))]]
    runs = []
    for use_count in (False, True):
        params = [v.clone() for v in values]
        slots = [torch.zeros_like(p) for _ in prog.slots for p in params]
        count = prog.compiled.step.__globals__["step_count"](0, "cpu")
        for t in (1, 2, 3):
            prog.compiled.step(params, slots, count if use_count else t, batch)
        runs.append(params)
        if use_count:
            assert count.tolist() == [3.0] * count.numel()
    for a, b in zip(*runs):
        assert torch.equal(a, b)
    # and the int path is Adam's step 3 (not 1 or 4): it differs from a run stopped at step 2
    params = [v.clone() for v in values]
    slots = [torch.zeros_like(p) for _ in prog.slots for p in params]
    for t in (1, 2, 2):
        prog.compiled.step(params, slots, t, batch)
    assert not all(torch.equal(a, b) for a, b in zip(params, runs[0]))


def test_a_count_of_another_shape_is_refused(rng):
    """The kernel reads and writes one entry per program: a 0-d count (as ``state["t_device"]`` once
    was) would be read past its end, so the generated step refuses it; ``Program.step`` makes the
    count anew from the host's ``t`` instead."""
    net, prog = _adam_program()
    params = [torch.tensor(rng.normal(size=p.shape), dtype=torch.float32) for p in net.params]
    slots = [torch.zeros_like(p) for _ in prog.slots for p in params]
    batch = [torch.randn(4, 5), torch.eye(3)[torch.randint(0, 3, (4,))]]
    # a ValueError (an assert, dropped by python -O, would let the kernel write past the count's end)
    with pytest.raises(ValueError, match=r"step_count\(done, device\) makes \(\d+ float64 copies\), not a "
                                         r"torch.float64 tensor of shape \(\)"):
        prog.compiled.step(params, slots, torch.zeros((), dtype=torch.float64), batch)
    with pytest.raises(ValueError, match="not a torch.float32 tensor"):
        prog.compiled.step(params, slots, torch.zeros(prog.init_state()["t_device"].shape), batch)
    values = {p.name: v for p, v in zip(net.params, params)}
    state = dict(prog.init_state(), t=2, t_device=torch.zeros((), dtype=torch.float64))
    values, state = prog.step(values, state, dict(zip(("x", "t"), batch)))
    assert state["t"] == 3 and state["t_device"].tolist() == [3.0] * state["t_device"].numel()
