"""A matrix per example on the Triton target, kept as its rows: a bag E[ids] (ids of shape (L,)) or
an input (L, D) per example ((N, L, D) over the batch). `kernel_form` reads it as L columns (rows of
E loaded at the ids, or slices of the input's row loaded with an offset) and takes over them: the
sum, mean and max over axis 0 (max: entry by entry, the first row attaining it takes the gradient),
sums, maxima and log-sum-exp over axis 1 (one number per row, placed in a column), elementwise
functions with a bias, a layer applied to every row (``E[ids] @ W``), and a reshape to a vector.

Compared with the NumPy target at float32 tolerance: loss, gradients, 3 Adam steps. Tiny shapes:
the kernels run under Triton's interpreter on the CPU.
"""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from tests.codegen.refusals import assert_refused_for_triton
from tests.codegen.aot import compile_sm90
from tests.codegen.test_triton_tensors import _same_as_numpy, _values

pytest.importorskip("torch")
pytest.importorskip("triton")

N = sp.Symbol("N", integer=True, positive=True)
V, D, H, C, L = 10, 6, 5, 3, 3
E, W1, b1, W2 = sg.tensor("E", (V, D)), sg.tensor("W1", (D, H)), sg.tensor("b1", (H,)), sg.tensor("W2", (H, C))
U = sg.tensor("U", (L, C))
IDS = np.array([[3, 1, 3], [0, 9, 2], [5, 4, 6], [2, 7, 1], [8, 0, 9]])


def _check(loss, params, inputs, batch, rng):
    tri, ref = [sg.compile(loss, params, inputs, target=t, optimizer=sg.optim.Adam(lr=0.05)) for t in ("triton", "numpy")]
    _same_as_numpy(tri, ref, _values(params, rng), batch)
    return tri


def test_a_max_pooled_bag_equals_numpy(rng):
    ids, y = sg.tensor("ids", (L,), integer=True), sg.tensor("y", (), integer=True)
    loss = sg.cross_entropy(sg.relu(E[ids].max(axis=0) @ W1 + b1) @ W2, y)
    _check(loss, [E, W1, b1, W2], [ids, y], {"ids": IDS, "y": rng.integers(0, C, len(IDS))}, rng)


def test_a_layer_on_every_row_of_a_bag_then_a_max_equals_numpy(rng):
    ids, y = sg.tensor("ids", (N, L), integer=True), sg.tensor("y", (N,), integer=True)
    loss = sg.cross_entropy(sg.relu(E[ids] @ W1 + b1).max(axis=1) @ W2, y)
    _check(loss, [E, W1, b1, W2], [ids, y], {"ids": IDS, "y": rng.integers(0, C, len(IDS))}, rng)


def test_a_matrix_input_per_example_max_over_either_axis_equals_numpy(rng):
    x, y = sg.tensor("x", (L, D)), sg.tensor("y", (), integer=True)
    loss = sg.cross_entropy(sg.tanh(x @ W1).max(axis=0) @ W2 + x.max(axis=1) @ U, y)
    batch = {"x": rng.normal(size=(5, L, D)).astype(np.float32), "y": rng.integers(0, C, 5)}
    _check(loss, [W1, W2, U], [x, y], batch, rng)


def test_a_matrix_input_over_the_batch_with_sums_and_a_reshape_equals_numpy(rng):
    x, t = sg.tensor("x", (N, L, D)), sg.tensor("t", (N, C))
    W = sg.tensor("W", (L * D, C))
    loss = sg.mse(sg.logsumexp(x, axis=2) @ U + sg.tanh(x).reshape(-1, L * D) @ W + x.sum(axis=1) @ W1 @ W2, t)
    batch = {"x": rng.normal(size=(5, L, D)).astype(np.float32), "t": rng.normal(size=(5, C)).astype(np.float32)}
    _check(loss, [U, W, W1, W2], [x, t], batch, rng)


def test_a_max_over_tied_rows_gives_the_gradient_to_the_first_as_numpy_does(rng):
    # rows 3 and 4 of E are equal: a bag [4, 3, 0] ties between them wherever they beat row 0, and
    # the first of the bag (row 4) takes the whole gradient, row 3 none (the first-arg-max rule)
    ids, y = sg.tensor("ids", (L,), integer=True), sg.tensor("y", (), integer=True)
    loss = sg.cross_entropy(E[ids].max(axis=0) @ W1 @ W2, y)
    tri, ref = [sg.compile(loss, [E, W1, W2], [ids, y], target=t) for t in ("triton", "numpy")]
    values = _values([E, W1, W2], rng)
    values["E"][3] = values["E"][4]
    values["E"][0] = -5.0                       # row 0 never the max
    batch = {"ids": np.array([[4, 3, 0], [4, 3, 0]]), "y": np.array([0, 2])}
    g_tri, g_ref = tri.grad(values, batch), ref.grad(values, batch)
    np.testing.assert_allclose(g_tri["E"].cpu().numpy(), g_ref["E"], rtol=1e-5, atol=2e-6)
    assert np.all(g_ref["E"][[0, 3]] == 0) and np.any(g_ref["E"][4] != 0)


def test_the_forward_of_a_matrix_input_equals_numpy_and_its_input_gradient_is_refused(rng):
    torch = pytest.importorskip("torch")
    x, y = sg.tensor("x", (L, D)), sg.tensor("y", (), integer=True)
    out = sg.tanh(x @ W1).max(axis=0) @ W2
    tri, ref = [sg.compile(sg.cross_entropy(out, y), [W1, W2], [x, y], target=t, outputs=[out])
                for t in ("triton", "numpy")]
    module = tri.as_torch()
    X = torch.randn(4, L, D)
    values = {n: getattr(module, n).detach().numpy() for n in ("W1", "W2")}
    want = ref.forward(values, {"x": X.numpy(), "y": np.zeros(4)})[0]
    np.testing.assert_allclose(module(X).detach().numpy(), want, rtol=1e-5, atol=2e-6)
    with pytest.raises(sg.UnsupportedError, match=r"gradient of an input read in slices.*rows of an input \(L, D\)"
                                                  r".*detach that input.*target='numpy'"):
        module.loss(X.requires_grad_(True), torch.zeros(4, dtype=torch.int64)).backward()


def test_what_a_matrix_per_example_cannot_do_is_named():
    x = sg.tensor("x", (L, D))
    assert_refused_for_triton(sg.sum(sg.tanh(x.T @ U)), [U], [x],
                              [r"matrix per example", r"`x\.T`|transpose", r"\.max\(axis=0\)"])
    with pytest.raises(sg.UnsupportedError, match=r"cannot return a matrix per example.*as an output.*"
                                                  r"\.reshape\(L \* D\).*target='numpy'"):
        sg.compile(sg.sum(sg.tanh(x @ W1)), [W1], [x], target="triton", outputs=[sg.tanh(x @ W1)])


AOT = """
import json
import sympy as sp
import symgrad as sg
from symgrad.compiling.compiler import specify
from codegen.triton_aot import compile_step

N = sp.Symbol("N", integer=True, positive=True)
E, W1, b1, W2 = sg.tensor("E", (100, 32)), sg.tensor("W1", (32, 32)), sg.tensor("b1", (32,)), sg.tensor("W2", (32, 10))
ids, y = sg.tensor("ids", (N, 4), integer=True), sg.tensor("y", (N,), integer=True)
loss = sg.cross_entropy(sg.relu(E[ids] @ W1 + b1).max(axis=1) @ W2, y)
spec = specify(loss, [E, W1, b1, W2], [ids, y], target="triton")
print(json.dumps([[r.kernel, r.spill_bytes] for r in compile_step(spec, 1000)]))
"""


@pytest.mark.slow
def test_a_layer_on_every_row_then_a_max_compiles_for_sm90(tmp_path):
    """The interpreter forgives what the GPU compiler does not: a bag of 4 rows through a layer of
    width 32 and max-pooled (4 product stages and their 4 transposes in one rows kernel) compiles
    for cuda sm_90 without spills (untuned configuration)."""
    kernels = compile_sm90(AOT, tmp_path)
    names = [k for k, _ in kernels]
    assert names[0] == "train_kernel1" and "scatter_rows_kernel" in names and "update_kernel" in names, kernels
    assert all(spill == 0 for _, spill in kernels), kernels
