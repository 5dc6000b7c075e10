"""Bags of indices on the Triton target: an embedding of several indices per example summed or
averaged over them (``E[ids].sum(axis=0)``, ``.mean(axis=0)``: a bag of words), feeding a dense
head. The rows kernel loads row ids_i of E for each entry i of an example's ids (``take_row`` at one
entry of the input's row); the weight gradient ∂L/∂E = Σ_b Σ_i e(ids_bi) δ_bᵀ is a scatter-add
(``tl.atomic_add``: repeated indices add up), never a one-hot matrix. Indices out of range are
checked on the device as class labels are: the step changes nothing and the error names the input.

Compared with the NumPy target (``np.add.at``) at float32 tolerance: loss, gradients, 3 Adam steps.
Tiny shapes: the kernels run under Triton's interpreter on the CPU.
"""
import re

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from tests.codegen.refusals import assert_refused_for_triton
from tests.codegen.aot import compile_sm90
from tests.codegen.test_triton_tensors import _close, _same_as_numpy, _values

torch = pytest.importorskip("torch")
pytest.importorskip("triton")

N = sp.Symbol("N", integer=True, positive=True)
V, D, H, C, L = 10, 8, 16, 4, 3
E, W1, b1, W2 = sg.tensor("E", (V, D)), sg.tensor("W1", (D, H)), sg.tensor("b1", (H,)), sg.tensor("W2", (H, C))
PARAMS = [E, W1, b1, W2]
IDS = np.array([[3, 1, 3], [0, 9, 3], [5, 5, 5], [2, 7, 1], [3, 0, 8]])   # repeats within and across examples


def _both(loss, inputs, params=PARAMS):
    return [sg.compile(loss, params, inputs, target=t, optimizer=sg.optim.Adam(lr=0.05)) for t in ("triton", "numpy")]


def _head(bag):
    return sg.relu(bag @ W1 + b1) @ W2


def test_a_summed_bag_per_example_equals_numpy_and_scatters_its_gradient(rng):
    ids, y = sg.tensor("ids", (L,), integer=True), sg.tensor("y", (), integer=True)
    tri, ref = _both(sg.cross_entropy(_head(E[ids].sum(axis=0)), y), [ids, y])
    batch = {"ids": IDS, "y": rng.integers(0, C, len(IDS))}
    values = _values(PARAMS, rng)
    _same_as_numpy(tri, ref, values, batch)
    g = ref.grad(values, batch)["E"]
    assert np.all(g[[4, 6]] == 0) and np.any(g[5] != 0)        # rows no example reads get nothing
    step = tri.source[tri.source.index("def step("):]
    # one scatter-add launch for the bag's L indices, reading the ids where they are
    assert len(re.findall(r"scatter_rows\(", step)) == 1, step
    assert re.search(r"part0 = scatter_rows\(x0, v\d+, 10, cols=\(0, 1, 3\), ws=", step), step
    assert "torch.cat" not in step, step
    for i in range(L):      # entry i of each example's row of ids, loaded with an offset
        assert re.search(rf"tl\.load\(x0_ptr \+ offs_m \* stride_x0 \+ {i}, mask=mask_m", tri.source), i


def test_a_mean_of_an_elementwise_bag_over_the_batch_equals_numpy(rng):
    ids, t = sg.tensor("ids", (N, L), integer=True), sg.tensor("t", (N, C))
    loss = sg.mse(_head(sg.tanh(E[ids]).mean(axis=1)), t)
    tri, ref = _both(loss, [ids, t])
    batch = {"ids": IDS, "t": rng.normal(size=(len(IDS), C)).astype(np.float32)}
    _same_as_numpy(tri, ref, _values(PARAMS, rng), batch)


def test_an_index_of_a_bag_out_of_range_is_named_and_the_step_changes_nothing(rng):
    ids, y = sg.tensor("ids", (L,), integer=True), sg.tensor("y", (), integer=True)
    tri = sg.compile(sg.cross_entropy(_head(E[ids].sum(axis=0)), y), PARAMS, [ids, y], target="triton",
                     optimizer=sg.optim.SGD(lr=0.1))
    values = _values(PARAMS, rng)
    batch = {"ids": IDS.copy(), "y": rng.integers(0, C, len(IDS))}
    batch["ids"][2, 1] = V
    with pytest.raises(sg.LabelRangeError, match=r"'ids' holds indices of an embedding's rows.*0 \.\.\. 9.*example 2 has 10"):
        tri.loss(values, batch)                   # checked on the host: the example, not the flat entry
    mine = {n: torch.tensor(v, device=tri.device) for n, v in values.items()}
    tri.step(mine, None, batch)                   # checked on the device: raised at the next read
    with pytest.raises(sg.LabelRangeError, match=r"'ids' holds indices of an embedding's rows.*example 2 has 10"):
        tri.last_loss
    for n, v in values.items():
        _close(mine[n].cpu(), v, f"{n} after the skipped step")


u, M = sg.tensor("u", (L,)), sg.tensor("M", (L, D))


@pytest.mark.parametrize("make, params, words", [
    (lambda ids: sg.sum(sg.relu(E[ids].T @ u)), [E, u],
     [r"transpose", r"several indices per example", r"E\[ids\]\.sum\(axis=0\)", r"`E\[ids\]\.T`"]),
    # (E[ids] * M, M of the bag's shape, compiles: row i times M's row i; E[ids] * M[:, :1], a number
    # per row, was refused here until 2026-12-01 and compiles too: tests/codegen/test_triton_new_layers.py)
])
def test_a_bag_read_otherwise_is_refused_with_the_workaround(make, params, words):
    # (a bag's sum, mean, max, a layer on its rows compile: here and test_triton_matrix_rows.py)
    ids = sg.tensor("ids", (L,), integer=True)
    assert_refused_for_triton(make(ids), params, [ids], words)


AOT = """
import json
import sympy as sp
import symgrad as sg
from symgrad.compiling.compiler import specify
from codegen.triton_aot import compile_step

N = sp.Symbol("N", integer=True, positive=True)
E, W1, b1, W2 = sg.tensor("E", (100, 32)), sg.tensor("W1", (32, 32)), sg.tensor("b1", (32,)), sg.tensor("W2", (32, 10))
ids, y = sg.tensor("ids", (N, 5), integer=True), sg.tensor("y", (N,), integer=True)
loss = sg.cross_entropy(sg.relu(E[ids].mean(axis=1) @ W1 + b1) @ W2, y)
spec = specify(loss, [E, W1, b1, W2], [ids, y], target="triton")
print(json.dumps([[r.kernel, r.spill_bytes] for r in compile_step(spec, 1000)]))
"""


@pytest.mark.slow
def test_a_bag_step_compiles_for_sm90(tmp_path):
    """The interpreter forgives what the GPU compiler does not: the bag's rows kernel (5 row loads)
    and its scatter-add (a loop over the 5 indices) compile for cuda sm_90 without spills."""
    kernels = compile_sm90(AOT, tmp_path)
    names = [k for k, _ in kernels]
    assert names[0] == "train_kernel1" and "scatter_rows_kernel" in names and "update_kernel" in names, kernels
    assert all(spill == 0 for _, spill in kernels), kernels
