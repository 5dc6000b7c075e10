"""Integer class labels and embedding ids on the Triton target, as torch makes them (``torch.randint``:
int64; int32 too): the kernels load them as they are and convert them in the kernel, so ``step``
passes them without a torch operation (`test_triton_host_path.py` counts none), and the results
equal those of float32 labels and the NumPy target's. A label out of range is still caught on the
device (the step changes nothing) and named as an integer.

Kernels under Triton's interpreter: tiny shapes.
"""
import numpy as np
import pytest

import symgrad as sg
from tests.codegen.test_triton_host_path import _labels_program, _labels_values

torch = pytest.importorskip("torch")
pytest.importorskip("triton")

K = np.array([0, 1, 2, 2, 1, 0])


def _run(prog, values, batches):
    """Three Adam steps over ``batches``; the losses and the final values and slots."""
    v = {n: torch.tensor(a) for n, a in values.items()}
    state, losses = None, []
    for b in batches:
        v, state = prog.step(v, state, b)
        losses.append(prog.last_loss)
    return losses, v, state


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32])
def test_integer_labels_step_as_float_labels_and_the_numpy_target(dtype, rng):
    values = _labels_values(rng)
    xs = [rng.normal(size=(6, 4)).astype(np.float32) for _ in range(3)]
    ks = [rng.permutation(K) for _ in range(3)]
    ints = [{"x": torch.tensor(x), "k": torch.tensor(k, dtype=dtype)} for x, k in zip(xs, ks)]
    floats = [{"x": torch.tensor(x), "k": torch.tensor(k, dtype=torch.float32)} for x, k in zip(xs, ks)]
    prog = _labels_program()
    # the fast path takes them as they are (no copy, no conversion on the host)
    assert prog._ready_batch(ints[0], "train")[1] is ints[0]["k"]
    li, vi, si = _run(prog, values, ints)
    lf, vf, sf = _run(_labels_program(), values, floats)
    ref = _labels_program("numpy")
    vr, sr, lr = {n: a.copy() for n, a in values.items()}, None, []
    for x, k in zip(xs, ks):
        vr, sr = ref.step(vr, sr, {"x": x, "k": k.astype(np.float32)})
        lr.append(ref.last_loss)
    assert li == lf                                            # the same kernels on the same numbers
    np.testing.assert_allclose(li, lr, rtol=2e-5)
    for n in values:
        assert torch.equal(vi[n], vf[n]), n
        np.testing.assert_allclose(vi[n].numpy(), vr[n], rtol=2e-5, atol=2e-5, err_msg=n)
        for s in prog.slots:
            assert torch.equal(si[s][n], sf[s][n]), (s, n)
    # grad and loss (checked on the host) take them too
    g = prog.grad(vi, ints[0])
    g_ref = ref.grad(vr, {"x": xs[0], "k": ks[0].astype(np.float32)})
    for n in values:
        np.testing.assert_allclose(g[n].numpy(), g_ref[n], rtol=2e-5, atol=2e-5, err_msg=n)
    assert abs(prog.loss(vi, ints[0]) - ref.loss(vr, {"x": xs[0], "k": ks[0].astype(np.float32)})) < 2e-5


@pytest.mark.parametrize("bad, shown", [(-1, "-1"), (3, "3"), (2 ** 40, "2147483647 or more")])
def test_an_integer_label_out_of_range_is_caught_on_the_device_and_named_as_an_integer(bad, shown, rng):
    prog = _labels_program()
    values = {n: torch.tensor(v) for n, v in _labels_values(rng).items()}
    good = {"x": torch.randn(6, 4), "k": torch.tensor(K)}
    values, state = prog.step(values, None, good)
    prog.sync()
    before = {n: v.clone() for n, v in values.items()}
    slots = {(s, n): v.clone() for s in prog.slots for n, v in state[s].items()}
    k = torch.tensor(K)
    k[4] = bad
    values, state = prog.step(values, state, dict(good, k=k))
    with pytest.raises(sg.LabelRangeError, match=rf"'k' holds class labels, integers 0 \.\.\. 2 \(3 classes\); "
                                                 rf"example 4 has {shown} \(found by the device"):
        prog.sync()
    for n in values:
        assert torch.equal(values[n], before[n]), n
    for (s, n), v in slots.items():
        assert torch.equal(state[s][n], v), (s, n)
    assert state["t"] == 1 and state["t_device"].tolist() == [1.0] * state["t_device"].numel()


def test_the_generated_entry_accepts_integer_labels_and_names_what_it_takes(rng):
    prog = _labels_program()
    src = prog.source
    assert "x1_in = tl.load(x1_ptr + offs_m, mask=mask_m, other=0)" in src
    assert "x1 = x1_in.to(tl.float32)" in src and "record_bad_labels(labels_ptr, 0, 1, x1_in," in src
    params = [torch.tensor(v) for v in _labels_values(rng).values()]
    x = torch.randn(6, 4)
    loss, _ = prog.compiled.grad(params, [x, torch.tensor(K, dtype=torch.int32)])
    assert loss == loss
    with pytest.raises(AssertionError, match="input x1 holds class labels: an int64, int32 or float32 tensor"):
        prog.compiled.grad(params, [x, torch.tensor(K, dtype=torch.float64)])


def test_int64_embedding_ids_and_bags_step_as_float_ids(rng):
    """The ids of an embedding (one per example) and of a bag ((B, L), loaded entry by entry, and
    read again by the scatter-add of ∂L/∂E) as int64: the same step as float32 ids; one out of
    range is caught on the device."""
    from tests.codegen.test_triton_bags import IDS as BAG, PARAMS, _head
    from tests.codegen.test_triton_tensors import _values
    from symgrad import tensor
    E = PARAMS[0]
    ids, bag, y = tensor("ids", (), integer=True), tensor("bag", (3,), integer=True), tensor("y", (), integer=True)
    loss = sg.cross_entropy(_head(E[ids] + E[bag].sum(axis=0)), y)
    values = _values(PARAMS, rng)
    B = len(BAG)
    one, ys = rng.integers(0, 10, B), rng.integers(0, 4, B)
    out = []
    for dt in (torch.int64, torch.float32):
        prog = sg.compile(loss, PARAMS, [ids, bag, y], target="triton", optimizer=sg.optim.Adam(lr=0.05))
        v = {n: torch.tensor(a) for n, a in values.items()}
        batch = {"ids": torch.tensor(one, dtype=dt), "bag": torch.tensor(BAG, dtype=dt), "y": torch.tensor(ys, dtype=dt)}
        state = None
        for _ in range(2):
            v, state = prog.step(v, state, batch)
        out.append((prog.last_loss, v))
    assert out[0][0] == out[1][0]
    for n in values:
        assert torch.equal(out[0][1][n], out[1][1][n]), n
    bad = torch.tensor(BAG)
    bad[3, 2] = 10
    v = out[0][1]
    before = {n: a.clone() for n, a in v.items()}
    prog.step(v, None, {"ids": torch.tensor(one), "bag": bad, "y": torch.tensor(ys)})
    with pytest.raises(sg.LabelRangeError, match=r"'bag' holds indices of an embedding's rows.*example 3 has 10 "):
        prog.sync()
    assert all(torch.equal(v[n], before[n]) for n in v)
