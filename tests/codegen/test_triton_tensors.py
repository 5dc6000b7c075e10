"""The Triton target takes tensor declarations (``sg.tensor``, NumPy semantics): per example
(``symgrad.compiling.kernel_form``) and over the batch when every operation acts row by row
(``symgrad.compiling.unbatch``). Each case is compared with the NumPy target compiled from the
same declaration (loss, gradients, optimizer steps, outputs) at float32 tolerance, and the NumPy
target with torch.autograd; what the kernels cannot run is named in the declaration's words.

Tiny widths and batches: the kernels run under Triton's interpreter on the CPU.
"""
import re

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from tests.codegen.refusals import assert_refused_for_triton
from tests.codegen.aot import compile_sm90
from tests.oracle import torch_grads

torch = pytest.importorskip("torch")
pytest.importorskip("triton")

TOL = dict(rtol=1e-5, atol=2e-6)
N = sp.Symbol("N", integer=True, positive=True)
D, H, C = 8, 16, 4
W1, b1 = sg.tensor("W1", (D, H)), sg.tensor("b1", (H,))
W2, b2 = sg.tensor("W2", (H, C)), sg.tensor("b2", (C,))
MLP = [W1, b1, W2, b2]


def _mlp(x):
    """relu(x @ W1 + b1) @ W2 + b2: one example's logits (x (D,)) or the batch's (x (N, D))."""
    return sg.relu(x @ W1 + b1) @ W2 + b2


def _values(params, rng, scale=0.5):
    return {p.name: (scale * rng.normal(size=tuple(int(d) for d in p.shape))).astype(np.float32) for p in params}


def _numpy(t):
    return t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)


def _close(got, want, what):
    np.testing.assert_allclose(_numpy(got), np.asarray(want), err_msg=what, **TOL)


def _same_as_numpy(tri, ref, values, batch, steps=3):
    """Loss, gradients and ``steps`` optimizer steps of the two programs agree."""
    _close(tri.loss(values, batch), ref.loss(values, batch), "loss")
    g_tri, g_ref = tri.grad(values, batch), ref.grad(values, batch)
    assert sorted(g_tri) == sorted(g_ref)
    for n in g_ref:
        assert tuple(g_tri[n].shape) == g_ref[n].shape, n         # the declared shape: b1 is (16,)
        _close(g_tri[n], g_ref[n], f"d loss / d {n}")
    vt, st = {n: v.copy() for n, v in values.items()}, tri.init_state()
    vr, sr = {n: v.copy() for n, v in values.items()}, ref.init_state()
    for k in range(steps):
        vt, st = tri.step(vt, st, batch)
        vr, sr = ref.step(vr, sr, batch)
        _close(tri.last_loss, ref.last_loss, f"loss before step {k + 1}")
        for n in vr:
            _close(vt[n], vr[n], f"{n} after step {k + 1}")


def _labels_batch(rng, B):
    return {"x": rng.normal(size=(B, D)).astype(np.float32), "y": rng.integers(0, C, B)}


# -- per example ---------------------------------------------------------------------------------


def test_per_example_mlp_with_integer_labels_equals_numpy_and_torch(rng):
    x, y = sg.tensor("x", (D,)), sg.tensor("y", (), integer=True)
    loss = sg.cross_entropy(_mlp(x), y)
    kw = dict(optimizer=sg.optim.Adam(lr=0.05), outputs=[_mlp(x)])
    tri, ref = (sg.compile(loss, MLP, [x, y], target=t, **kw) for t in ("triton", "numpy"))
    values, batch = _values(MLP, rng), _labels_batch(rng, 9)
    _close(tri.forward(values, batch)[0], ref.forward(values, batch)[0], "logits (B, C)")
    _same_as_numpy(tri, ref, values, batch)
    # the NumPy target (float64) against torch.autograd of the same network
    ref64 = sg.compile(loss, MLP, [x, y], dtype="float64")
    point = {p: values[p.name].astype(np.float64) for p in MLP}
    X, Y = torch.tensor(batch["x"], dtype=torch.float64), torch.tensor(batch["y"])

    def torch_loss(w1, c1, w2, c2):
        return torch.nn.functional.cross_entropy(torch.relu(X @ w1 + c1) @ w2 + c2, Y)
    want = torch_grads(torch_loss, MLP, point)
    got = ref64.grad({p.name: v for p, v in point.items()}, batch)
    for p, w in zip(MLP, want):
        np.testing.assert_allclose(got[p.name], w, rtol=1e-10, atol=1e-12, err_msg=p.name)


def test_W_at_x_sigmoid_and_mse_against_a_float_target_equals_numpy(rng):
    x, t = sg.tensor("x", (D,)), sg.tensor("t", (C,))
    V, c, U, d = sg.tensor("V", (H, D)), sg.tensor("c", (H,)), sg.tensor("U", (C, H)), sg.tensor("d", (C,))
    loss = sg.mse(U @ sg.sigmoid(V @ x + c) + d, t)
    tri, ref = (sg.compile(loss, [V, c, U, d], [x, t], target=tg, optimizer=sg.optim.SGD(lr=0.5))
                for tg in ("triton", "numpy"))
    values = _values([V, c, U, d], rng)
    batch = {"x": rng.normal(size=(7, D)).astype(np.float32), "t": rng.normal(size=(7, C)).astype(np.float32)}
    _same_as_numpy(tri, ref, values, batch, steps=2)


def test_tanh_layer_summed_over_the_batch_equals_numpy(rng):
    x, t = sg.tensor("x", (D,)), sg.tensor("t", (C,))
    loss = sg.sum((sp.tanh(x @ W1 + b1) @ W2 - t) ** 2)
    params = [W1, b1, W2]
    tri, ref = (sg.compile(loss, params, [x, t], target=tg, reduction="sum") for tg in ("triton", "numpy"))
    values = _values(params, rng)
    batch = {"x": rng.normal(size=(5, D)).astype(np.float32), "t": rng.normal(size=(5, C)).astype(np.float32)}
    _same_as_numpy(tri, ref, values, batch, steps=1)


def test_a_vector_parameter_as_the_matrix_of_a_product_is_updated_in_place(rng):
    # x @ v with v of shape (D,): the kernels read v as a (D, 1) column, a view of the caller's tensor
    x, u, v = sg.tensor("x", (D,)), sg.tensor("u", ()), sg.tensor("v", (D,))
    loss = sg.mse(sp.tanh(x @ v), u)
    tri, ref = (sg.compile(loss, [v], [x, u], target=tg, optimizer=sg.optim.SGD(lr=0.5)) for tg in ("triton", "numpy"))
    values = _values([v], rng)
    batch = {"x": rng.normal(size=(5, D)).astype(np.float32), "u": rng.normal(size=5).astype(np.float32)}
    _same_as_numpy(tri, ref, values, batch, steps=2)
    mine = torch.tensor(values["v"], device=tri.device)     # on the program's device (a GPU's is cuda:0)
    tri.step({"v": mine}, None, batch)
    ref.step(values, None, batch)
    _close(mine.cpu(), values["v"], "the caller's (D,) tensor, updated in place")


def test_a_class_label_out_of_range_is_named(rng):
    x, y = sg.tensor("x", (D,)), sg.tensor("y", (), integer=True)
    tri = sg.compile(sg.cross_entropy(_mlp(x), y), MLP, [x, y], target="triton")
    batch = {"x": rng.normal(size=(3, D)).astype(np.float32), "y": np.array([0, C, 1])}
    with pytest.raises(sg.LabelRangeError, match=r"'y'.*0 \.\.\. 3.*example 1 has 4"):
        tri.loss(_values(MLP, rng), batch)


def test_one_hot_labels_equal_numpy_and_are_checked(rng):
    # sg.one_hot(y) outside cross_entropy: [c = y] in the kernels, the labels checked on the host
    x, y = sg.tensor("x", (D,)), sg.tensor("y", (), integer=True)
    loss = sg.mse(sg.softmax(x @ W1 @ W2 + b2), sg.one_hot(y, C))
    tri, ref = (sg.compile(loss, [W1, W2, b2], [x, y], target=tg) for tg in ("triton", "numpy"))
    values, batch = _values([W1, W2, b2], rng), _labels_batch(rng, 5)
    _same_as_numpy(tri, ref, values, batch, steps=1)
    batch["y"][2] = -1
    with pytest.raises(sg.LabelRangeError, match=r"'y'.*example 2 has -1"):
        tri.step(values, None, batch)


def test_as_torch_of_a_tensor_declaration_forward_and_loss(rng):
    x, y = sg.tensor("x", (D,)), sg.tensor("y", (), integer=True)
    loss = sg.cross_entropy(_mlp(x), y)
    tri = sg.compile(loss, MLP, [x, y], target="triton", outputs=[_mlp(x)])
    ref = sg.compile(loss, MLP, [x, y], outputs=[_mlp(x)])
    values, batch = _values(MLP, rng), _labels_batch(rng, 6)
    module = tri.as_torch(values)
    assert {n: tuple(p.shape) for n, p in module.named_parameters()} == {"W1": (D, H), "b1": (H,), "W2": (H, C),
                                                                         "b2": (C,)}
    X, Y = torch.tensor(batch["x"]), torch.tensor(batch["y"])
    _close(module(X), ref.forward(values, batch)[0], "module(x)")
    L = module.loss(X, Y)
    _close(L.detach(), ref.loss(values, batch), "module.loss")
    L.backward()
    want = ref.grad(values, batch)
    for n, p in module.named_parameters():
        _close(p.grad, want[n], f"d loss / d {n} through backward()")


# -- over the batch --------------------------------------------------------------------------------


def test_whole_batch_mlp_equals_numpy_for_any_batch_size(rng):
    x, y = sg.tensor("x", (N, D)), sg.tensor("y", (N,), integer=True)
    loss = sg.cross_entropy(_mlp(x), y)                     # the mean over N
    kw = dict(optimizer=sg.optim.Adam(lr=0.05), outputs=[_mlp(x)])
    tri, ref = (sg.compile(loss, MLP, [x, y], target=t, **kw) for t in ("triton", "numpy"))
    assert tri.spec.reduction == "mean"
    values = _values(MLP, rng)
    for B in (9, 4):
        batch = _labels_batch(rng, B)
        out = tri.forward(values, batch)[0]
        assert tuple(out.shape) == (B, C)
        _close(out, ref.forward(values, batch)[0], f"logits (N = {B})")
        _same_as_numpy(tri, ref, values, batch, steps=2)
    keyed = {x: batch["x"], y: batch["y"]}                  # keyed by the declared (N, ...) tensors
    _close(tri.loss(values, keyed), ref.loss(values, batch), "loss of a batch keyed by symbol")
    with pytest.raises(sg.ShapeError, match=r"'x' has shape \(4, 7\); it is declared \(N, 8\)"):
        tri.loss(values, {"x": np.zeros((4, 7), np.float32), "y": batch["y"]})


def test_whole_batch_transposed_layers_summed_and_a_penalty_equal_numpy(rng):
    x, t = sg.tensor("x", (N, D)), sg.tensor("t", (N, C))
    V, c, U = sg.tensor("V", (H, D)), sg.tensor("c", (H, 1)), sg.tensor("U", (C, H))
    y = (U @ sp.tanh(V @ x.T + c)).T                        # W @ xᵀ: one column per example
    batch = {"x": rng.normal(size=(6, D)).astype(np.float32), "t": rng.normal(size=(6, C)).astype(np.float32)}
    values = _values([V, c, U], rng)
    for loss, reduction in [(sg.sum((y - t) ** 2), "sum"),
                            (sg.mean((y - t) ** 2) + sg.sum(V * V) / 50, "mean")]:    # mean + λ‖V‖²
        tri, ref = (sg.compile(loss, [V, c, U], [x, t], target=tg) for tg in ("triton", "numpy"))
        assert tri.spec.reduction == reduction
        _same_as_numpy(tri, ref, values, batch, steps=1)


def _batch_norm_loss():
    x, y = sg.tensor("x", (N, D)), sg.tensor("y", (N,), integer=True)
    z = x @ W1
    mu = sg.mean(z, axis=0)
    zn = (z - mu) / sg.sqrt(sg.mean((z - mu) ** 2, axis=0) + 1e-5)
    return sg.cross_entropy(sg.relu(zn) @ W2 + b2, y), [W1, W2, b2], [x, y]


def _mixing(kind):
    x, t = sg.tensor("x", (N, D)), sg.tensor("t", (N, C))
    V = sg.tensor("V", (H, D))
    if kind == "softmax over N":
        return sg.sum(sg.softmax(x @ W1, axis=0) @ W2 * t), [W1, W2], [x, t]
    if kind == "gram":
        return sg.mean((x @ x.T) * sg.sum(V)), [V], [x]
    return sg.sum(x.T @ t * sg.sum(V)), [V], [x, t]          # xᵀ t: a product summed over N


@pytest.mark.parametrize("case, words", [
    ("batch norm", [r"batch statistics", r"over N", r"`x @ W1`", r"mean\(axis=0\)"]),
    ("softmax over N", [r"batch statistics", r"softmax", r"`x @ W1`"]),
    ("gram", [r"`x @ x\.T`", r"both depend on the examples"]),
    ("x.T @ t", [r"`x\.T @ t`", r"summed over N"]),
])
def test_what_mixes_examples_is_refused_in_the_declarations_words(case, words):
    loss, params, inputs = _batch_norm_loss() if case == "batch norm" else _mixing(case)
    assert_refused_for_triton(loss, params, inputs, words + [r"each example alone"])
    sg.compile(loss, params, inputs, target="numpy")        # the NumPy target takes it


@pytest.mark.parametrize("case, words", [
    ("matrix input", [r"matrix per example", r"`x\.T`", r"an input \(L, D\)"]),
    ("input without N", [r"'m'", r"batch size N as its first axis"]),
])
def test_what_the_kernels_cannot_run_is_named(case, words):
    x = sg.tensor("x", (D,))
    # (a max, a slice, a concatenation compile: test_triton_max.py, test_triton_value_slices.py ...)
    if case == "matrix input":
        # (xs @ W1, a max over its axes compile: test_triton_matrix_rows.py); its transpose not
        xs = sg.tensor("x", (3, D))
        loss, params, inputs = sg.sum(sg.tanh(xs.T @ sg.tensor("u", (3,)))), [sg.tensor("u", (3,))], [xs]
    else:
        xN, m = sg.tensor("x", (N, D)), sg.tensor("m", (D,))
        loss, params, inputs = sg.mean(sg.tanh((xN * m) @ W1)), [W1], [xN, m]
    assert_refused_for_triton(loss, params, inputs, words)


def test_the_command_line_prints_the_kernels_of_a_model_file_over_the_batch(tmp_path):
    # `symgrad compile model.py --target triton` prints the module (no device needed to print it)
    from symgrad.cli._model import compile_source, load_model
    model = tmp_path / "model.py"
    model.write_text("import sympy as sp, symgrad as sg\n"
                     "N = sp.Symbol('N', integer=True, positive=True)\n"
                     "x, y = sg.tensor('x', (N, 8)), sg.tensor('y', (N,), integer=True)\n"
                     "W, b = sg.tensor('W', (8, 4)), sg.tensor('b', (4,))\n"
                     "loss = sg.cross_entropy(x @ W + b, y)\n"
                     "params, inputs = [W, b], [x, y]\n")
    source = compile_source(load_model(str(model)), "triton")
    assert "@triton.jit" in source
    assert "#   x0  'x'  declared (N, 8), per example (8,) -> (B, 8)" in source
    assert "#   p1  'b'  (4,)" in source and "p1 = p1.view(4, 1)" in source


AOT = """
import json, sys
import sympy as sp
import symgrad as sg
from symgrad.compiling.compiler import specify
from codegen.triton_aot import compile_step

N = sp.Symbol("N", integer=True, positive=True)
W1, b1, W2 = sg.tensor("W1", (32, 32)), sg.tensor("b1", (32,)), sg.tensor("W2", (32, 10))
x, y = sg.tensor("x", (N, 32)), sg.tensor("y", (N,), integer=True)
if sys.argv[1] == "mlp":            # over the batch, integer labels
    spec = specify(sg.cross_entropy(sg.relu(x @ W1 + b1) @ W2, y), [W1, b1, W2], [x, y], target="triton")
elif sys.argv[1] == "max":          # a max over the classes (tl.max, the first arg-max), W1[:16] on the host,
    s = sg.relu(x[:, ::2] @ W1[:16] + b1) @ W2      # every other feature of x loaded with a step
    spec = specify(sg.mean(sg.max(sg.relu(s - sg.take_along_axis(s, y[:, None], 1) + 1), axis=1)), [W1, b1, W2],
                   [x, y], target="triton")
elif sys.argv[1] == "embedding":    # rows of E loaded at each example's index, the gradient scattered (atomic adds)
    E, ids = sg.tensor("E", (100, 32)), sg.tensor("ids", (N,), integer=True)
    spec = specify(sg.cross_entropy(sg.relu(E[ids] @ W1 + b1) @ W2, y), [E, W1, b1, W2], [ids, y], target="triton")
else:                               # one example's x @ W1 @ W2: stage 2 reads stage 1's accumulator
    x, t = sg.tensor("x", (32,)), sg.tensor("t", (10,))
    spec = specify(sg.mse(x @ W1 @ W2, t), [W1, W2], [x, t], target="triton")
print(json.dumps([[r.kernel, r.spill_bytes] for r in compile_step(spec, 1000)]))
"""


@pytest.mark.slow
@pytest.mark.parametrize("case", ["mlp", "chain", "max", "embedding"])
def test_tensor_declarations_compile_for_sm90(case, tmp_path):
    """The interpreter forgives what the GPU compiler does not: the kernels of tensor declarations
    compile for the H200 (cuda sm_90) with Triton's compiler, without a GPU (codegen/triton_aot.py)."""
    kernels = compile_sm90(AOT, tmp_path, case)
    assert [k for k, _ in kernels][0] == "train_kernel1" and "update_kernel" in [k for k, _ in kernels]
    assert all(spill == 0 for _, spill in kernels), kernels
    if case == "embedding":         # E's gradient: the scatter-add, no weight-gradient tile of a one-hot
        assert "scatter_rows_kernel" in [k for k, _ in kernels], kernels


def test_x_at_w_plus_b_layers_take_three_launches_a_step(rng):
    """A layer written x @ W + b: W's gradient is Σ_b x_b δ_bᵀ and b's Σ_b δ_b, δ being the
    product's second operand; the bias sum rides along in the weight-gradient launch as it does for
    W @ x + b (three launches a step at any depth, not one more per bias)."""
    x, y = sg.tensor("x", (N, D)), sg.tensor("y", (N,), integer=True)
    tri = sg.compile(sg.cross_entropy(_mlp(x), y), [W1, b1, W2, b2], [x, y], target="triton",
                     optimizer=sg.optim.Adam(lr=0.01))
    module = tri.compiled.step.__globals__
    launched = []

    class Counted:
        def __init__(self, name, kernel):
            self.name, self.kernel = name, kernel

        def __getitem__(self, grid):
            launched.append(self.name)
            return self.kernel[grid]
    for name in [n for n in module if re.search(r"_kernel\d*$", n) and not n.startswith("launch_")]:
        module[name] = Counted(name, module[name])
    ref = sg.compile(sg.cross_entropy(_mlp(x), y), [W1, b1, W2, b2], [x, y], optimizer=sg.optim.Adam(lr=0.01))
    values = _values(MLP, rng)
    batch = {"x": rng.normal(size=(7, D)).astype(np.float32), "y": rng.integers(0, C, size=7)}
    launched.clear()
    new, _ = tri.step({k: torch.tensor(v) for k, v in values.items()}, None, batch)
    assert len(launched) == 3, launched
    want, _ = ref.step(dict(values), None, batch)
    for k in ("W1", "b1", "W2", "b2"):
        _close(new[k], want[k], f"{k} after one Adam step")


def test_a_hidden_layer_times_a_vector_parameter_equals_numpy(rng):
    # h @ v with v of shape (H,): one number per example; the backward pass's ∂L/∂h = ḡ·vᵀ is a
    # per-example scalar times the parameter vector, elementwise in the rows kernel
    x, t = sg.tensor("x", (N, D)), sg.tensor("t", (N,))
    v, c = sg.tensor("v", (H,)), sg.tensor("c", ())
    loss = sg.mean((sp.tanh(x @ W1 + b1) @ v + c - t) ** 2)
    tri, ref = (sg.compile(loss, [W1, b1, v, c], [x, t], target=tg, optimizer=sg.optim.Adam(lr=0.05))
                for tg in ("triton", "numpy"))
    batch = {"x": rng.normal(size=(7, D)).astype(np.float32), "t": rng.normal(size=7).astype(np.float32)}
    _same_as_numpy(tri, ref, _values([W1, b1, v, c], rng), batch)
