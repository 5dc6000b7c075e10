"""Embeddings on the Triton target: ``E[ids]`` / ``sg.embedding(E, ids)`` with one integer index per
example. The rows kernel loads row k of E for each example (``rules.take_row``); the weight gradient
∂L/∂E = Σ_b e(k_b) δ_bᵀ is a scatter-add (``scatter_rows_kernel``, ``tl.atomic_add``: examples with
the same index add up), never a one-hot matrix. Indices out of range are checked as class labels are.

Compared with the NumPy target (whose gradient is ``np.add.at``) at float32 tolerance: loss,
gradients, 3 Adam steps. Tiny shapes: the kernels run under Triton's interpreter on the CPU.
"""
import re

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from tests.codegen.test_triton_tensors import _close, _same_as_numpy, _values

torch = pytest.importorskip("torch")
pytest.importorskip("triton")

N = sp.Symbol("N", integer=True, positive=True)
V, D, H, C = 10, 8, 16, 4
E, W1, b1, W2 = sg.tensor("E", (V, D)), sg.tensor("W1", (D, H)), sg.tensor("b1", (H,)), sg.tensor("W2", (H, C))
PARAMS = [E, W1, b1, W2]
IDS = np.array([3, 1, 3, 0, 9, 3, 5])          # repeated indices: their gradients add up


def _over_the_batch():
    ids, y = sg.tensor("ids", (N,), integer=True), sg.tensor("y", (N,), integer=True)
    return sg.cross_entropy(sg.relu(E[ids] @ W1 + b1) @ W2, y), [ids, y]


def _both(loss, inputs, params=PARAMS):
    return [sg.compile(loss, params, inputs, target=t, optimizer=sg.optim.Adam(lr=0.05)) for t in ("triton", "numpy")]


def test_an_embedding_over_the_batch_equals_numpy_and_scatters_its_gradient(rng):
    loss, inputs = _over_the_batch()
    tri, ref = _both(loss, inputs)
    batch = {"ids": IDS, "y": rng.integers(0, C, len(IDS))}
    values = _values(PARAMS, rng)
    _same_as_numpy(tri, ref, values, batch)
    g = ref.grad(values, batch)["E"]
    assert np.all(g[[2, 4, 6, 7, 8]] == 0) and np.any(g[3] != 0)     # rows no example reads get nothing
    # the step: row k of E loaded per example, δ added to row k by atomic adds; no (B, V) one-hot
    step = tri.source[tri.source.index("def step("):]
    assert re.search(r"part0 = scatter_rows\(x0, v\d+, 10, ws=", step), step
    assert "tl.atomic_add(part_ptr + row[:, None] * D" in tri.source
    assert re.search(r"v\d+ = tl\.load\(p0_ptr \+ v\d+_row\[:, None\] \* stride_p0", tri.source)
    assert not re.search(r"weight_grads_kernel\(v\d+, v\d+, v\d+, v\d+, v\d+, v\d+, ws", step), step  # E: not there


def test_a_per_example_embedding_read_by_w_at_x_equals_numpy(rng):
    k, t = sg.tensor("k", (), integer=True), sg.tensor("t", (C,))
    U, c = sg.tensor("U", (C, D)), sg.tensor("c", (C,))
    loss = sg.mse(U @ sp.tanh(sg.embedding(E, k)) + c, t)
    tri, ref = _both(loss, [k, t], [E, U, c])
    batch = {"k": np.array([4, 4, 0, 7, 2]), "t": rng.normal(size=(5, C)).astype(np.float32)}
    _same_as_numpy(tri, ref, _values([E, U, c], rng), batch)


def test_an_index_out_of_range_is_named_and_the_step_changes_nothing(rng):
    loss, inputs = _over_the_batch()
    tri = sg.compile(loss, PARAMS, inputs, target="triton", optimizer=sg.optim.SGD(lr=0.1))
    values = _values(PARAMS, rng)
    batch = {"ids": IDS.copy(), "y": rng.integers(0, C, len(IDS))}
    batch["ids"][2] = V
    with pytest.raises(sg.LabelRangeError, match=r"'ids' holds indices of an embedding's rows, integers 0 \.\.\. 9 \(10 rows\); example 2 has 10"):
        tri.loss(values, batch)
    mine = {n: torch.tensor(v, device=tri.device) for n, v in values.items()}
    tri.step(mine, None, batch)                   # checked on the device: raised at the next read
    with pytest.raises(sg.LabelRangeError, match=r"'ids' holds indices of an embedding's rows.*example 2 has 10"):
        tri.last_loss
    for n, v in values.items():
        _close(mine[n].cpu(), v, f"{n} after the skipped step")


def test_several_indices_per_example_read_otherwise_than_summed_are_refused_with_the_workaround():
    # (a bag summed or averaged over its indices compiles: tests/codegen/test_triton_bags.py)
    ids = sg.tensor("ids", (N, 3), integer=True)
    with pytest.raises(sg.UnsupportedError) as e:
        u = sg.tensor("u", (3,))
        sg.compile(sg.mean((E[ids].transpose(0, 2, 1) @ u - 1) ** 2), [E, u], [ids], target="triton")
    msg = str(e.value)
    for w in [r"several indices per example", r"`E\[ids\]", r"E\[ids\]\.sum\(axis=0\)",
              r"axis=1 of \(N, L\)", r"target='numpy'"]:
        assert re.search(w, msg), (w, msg)
    assert not re.search(r"\bv\d+\b", msg), msg
