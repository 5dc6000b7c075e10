"""Every N-d primitive compiled to NumPy (whole-batch declarations) against torch.autograd in float64.

Each case declares a small loss over the batch in symgrad and writes the same loss in torch, by hand;
the compiled program's loss and gradients must equal torch's to 1e-9, for two batch sizes of the
same program (N is bound from the arrays). The cases cover broadcasting in every direction, negative
axes, keepdims, strided slices, repeated gather indices and integer labels.
"""
import ast

import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)
F = torch.nn.functional

# the declaration's tensors: inputs carry N, parameters have fixed shapes
x = sg.tensor("x", (N, 3, 4))
y = sg.tensor("y", (N,), integer=True)            # class labels 0 … 4
idx = sg.tensor("idx", (N,), integer=True)        # rows of E, with repeats
k = sg.tensor("k", (2,), integer=True)            # [2, 2]: the same index twice
w = sg.tensor("w", (4, 5))
b = sg.tensor("b", (5,))
a = sg.tensor("a", (3, 1))
v = sg.tensor("v", (4,))
E = sg.tensor("E", (6, 4))
W12 = sg.tensor("W12", (12, 5))


def s_logits():
    return sg.mean(x, axis=1) @ w + b             # (N, 5)


def t_logits(t):
    return t["x"].mean(1) @ t["w"] + t["b"]


# name: (symgrad loss, torch loss of the dict of torch tensors)
CASES = {
    "matmul_3d_and_bias": (lambda: sg.sum(sp.sin(x @ w + b)),
                           lambda t: torch.sin(t["x"] @ t["w"] + t["b"]).sum()),
    "broadcast_every_direction": (
        lambda: sg.sum(sp.sin(x * a + v - sg.mean(x, axis=(1, 2), keepdims=True) * sg.sum(a))),
        lambda t: torch.sin(t["x"] * t["a"] + t["v"] - t["x"].mean((1, 2), keepdim=True) * t["a"].sum()).sum()),
    "negative_axes_keepdims": (
        lambda: sg.sum(sp.sin(sg.max(x * v, axis=-1, keepdims=True) + sg.sum(x * a, axis=-2, keepdims=True))),
        lambda t: torch.sin((t["x"] * t["v"]).amax(-1, keepdim=True)
                            + (t["x"] * t["a"]).sum(-2, keepdim=True)).sum()),
    "min_var_mean_axes": (
        lambda: sg.sum(sp.sin(sg.min(x * v, axis=1))) + sg.sum(sg.var(x * a, axis=0, correction=1))
        + sg.mean(x * v, axis=(0, -1)).sum(),
        lambda t: torch.sin((t["x"] * t["v"]).amin(1)).sum() + (t["x"] * t["a"]).var(0, correction=1).sum()
        + (t["x"] * t["v"]).mean((0, -1)).sum()),
    "strided_slices": (
        lambda: sg.sum(sp.sin((x * v)[:, ::2, 1:4:2])) + sg.sum((x * a)[:, -1] ** 2),
        lambda t: torch.sin((t["x"] * t["v"])[:, ::2, 1:4:2]).sum() + ((t["x"] * t["a"])[:, -1] ** 2).sum()),
    "reshape_transpose": (
        lambda: sg.sum(sp.sin((x * v).reshape(N, -1) @ W12)) + sg.sum((x * a).transpose((0, 2, 1)) * v.reshape(4, 1)),
        lambda t: torch.sin((t["x"] * t["v"]).reshape(-1, 12) @ t["W12"]).sum()
        + ((t["x"] * t["a"]).permute(0, 2, 1) * t["v"].reshape(4, 1)).sum()),
    "concat_stack": (
        lambda: sg.sum(sp.sin(sg.concat([x * v, x ** 2 * a], axis=-1)))
        + sg.sum(sg.stack([x * v, x * a], axis=1) ** 2),
        lambda t: torch.sin(torch.cat([t["x"] * t["v"], t["x"] ** 2 * t["a"]], -1)).sum()
        + (torch.stack([t["x"] * t["v"], t["x"] * t["a"]], 1) ** 2).sum()),
    "embedding_repeated_indices": (
        lambda: sg.sum(sp.sin(sg.embedding(E, idx) @ w)),
        lambda t: torch.sin(t["E"][t["idx"].long()] @ t["w"]).sum()),
    "take_repeated_along_axis": (
        lambda: sg.sum(sp.sin(sg.take(x * v, k, axis=1))),
        lambda t: torch.sin(torch.index_select(t["x"] * t["v"], 1, t["k"].long())).sum()),
    "cross_entropy_labels": (
        lambda: sg.cross_entropy(s_logits(), y),
        lambda t: F.cross_entropy(t_logits(t), t["y"].long())),
    "take_along_axis_labels": (
        lambda: sg.sum(sp.sin(sg.take_along_axis(s_logits(), y.reshape(N, 1), axis=1))),
        lambda t: torch.sin(torch.gather(t_logits(t), 1, t["y"].long().reshape(-1, 1))).sum()),
    "one_hot": (
        lambda: sg.sum(sp.sin(s_logits()) * sg.one_hot(y, 5)),
        lambda t: (torch.sin(t_logits(t)) * F.one_hot(t["y"].long(), 5)).sum()),
    "one_hot_on_the_first_axis": (
        lambda: sg.sum(sp.sin(s_logits().T) * sg.one_hot(y, 5, axis=0)),
        lambda t: (torch.sin(t_logits(t).T) * F.one_hot(t["y"].long(), 5).T).sum()),
    "softmax_family": (
        lambda: sg.sum(sg.softmax(s_logits(), axis=-1) * b) + sg.sum(sg.log_softmax(x * v, axis=1) ** 2)
        + sg.sum(sg.logsumexp(x * a, axis=2)),
        lambda t: (F.softmax(t_logits(t), -1) * t["b"]).sum() + (F.log_softmax(t["x"] * t["v"], 1) ** 2).sum()
        + torch.logsumexp(t["x"] * t["a"], 2).sum()),
    "batched_matmul": (
        lambda: sg.sum(sp.sin((x * v) @ (x * a).transpose((0, 2, 1)))),
        lambda t: torch.sin((t["x"] * t["v"]) @ (t["x"] * t["a"]).permute(0, 2, 1)).sum()),
    "where_and_relu": (
        lambda: sg.sum(sg.where(x * v > 0, (x * v) ** 2, -x * a) + sg.relu(x - v)),
        lambda t: (torch.where(t["x"] * t["v"] > 0, (t["x"] * t["v"]) ** 2, -t["x"] * t["a"])
                   + torch.relu(t["x"] - t["v"])).sum()),
}

PARAMS = [w, b, a, v, E, W12]
INPUTS = [x, y, idx, k]


def _values(rng):
    return {p.name: rng.standard_normal(tuple(p.shape)) for p in PARAMS}


def _batch(rng, n):
    return {"x": rng.standard_normal((n, 3, 4)), "y": rng.integers(0, 5, n).astype(float),
            "idx": np.array([1, 4, 1, 1, 0, 4, 5][:n], dtype=float), "k": np.array([2.0, 2.0])}


def _torch(case, values, batch):
    t = {n: torch.tensor(a, dtype=torch.float64, requires_grad=n in values) for n, a in values.items()}
    t.update({n: torch.tensor(a, dtype=torch.float64) for n, a in batch.items()})
    loss = CASES[case][1](t)
    loss.backward()
    return loss.item(), {n: (t[n].grad.numpy() if t[n].grad is not None else np.zeros_like(values[n]))
                         for n in values}


@pytest.mark.parametrize("case", sorted(CASES))
def test_primitive_compiled_equals_torch(case, rng):
    loss = CASES[case][0]()
    used = [p for p in PARAMS if p in _atoms(loss)]
    inputs = [i for i in INPUTS if i in _atoms(loss)]
    prog = sg.compile(loss, used, inputs, dtype="float64")
    # (but step's entry check of the arguments' dtypes, a loop over the list of arrays, not their entries)
    computing = [f for f in ast.parse(prog.source).body
                 if not (isinstance(f, ast.FunctionDef) and f.name == "check_dtypes")]
    loops = [n for f in computing for n in ast.walk(f)
             if isinstance(n, (ast.For, ast.While, ast.comprehension))]
    assert not loops, "the generated code loops in Python"                  # vectorized
    values = _values(rng)
    for n in (7, 2):                                                 # one program, any N
        batch = {kk: vv for kk, vv in _batch(rng, n).items() if kk in {i.name for i in inputs}}
        want_loss, want = _torch(case, {p.name: values[p.name] for p in used}, batch)
        assert prog.loss(values, batch) == pytest.approx(want_loss, rel=1e-9, abs=1e-9)
        got = prog.grad(values, batch)
        for p in used:
            np.testing.assert_allclose(got[p.name], want[p.name], rtol=1e-9, atol=1e-9, err_msg=f"{case}: {p.name}")


def _atoms(e):
    return e.free_symbols


def test_label_out_of_range_is_a_label_range_error(rng):
    prog = sg.compile(sg.cross_entropy(s_logits(), y), [w, b], [x, y], dtype="float64")
    values = _values(rng)
    good = {"x": rng.standard_normal((3, 3, 4)), "y": np.array([0.0, 4.0, 2.0])}
    prog.loss(values, good)
    for bad in ([0.0, 5.0, 1.0], [-1.0, 0.0, 1.0], [0.0, 1.5, 1.0]):
        with pytest.raises(sg.errors.LabelRangeError, match="'y'"):
            prog.grad(values, dict(good, y=np.array(bad)))
        # the generated module checks on its own too (it runs without symgrad)
        with pytest.raises(AssertionError, match="labels"):
            prog.compiled.loss([values["w"], values["b"]], [good["x"], np.array(bad)])


def test_embedding_index_out_of_range_is_a_label_range_error(rng):
    prog = sg.compile(sg.sum(sg.embedding(E, idx) ** 2), [E], [idx], dtype="float64")
    with pytest.raises(sg.errors.LabelRangeError, match="'idx'"):
        prog.loss({"E": np.ones((6, 4))}, {"idx": np.array([0.0, 6.0])})
    with pytest.raises(sg.errors.LabelRangeError, match="'idx'.*negative"):      # torch's rule, not NumPy's
        prog.loss({"E": np.ones((6, 4))}, {"idx": np.array([0.0, -6.0])})


def test_wrong_batch_shapes_name_the_input(rng):
    prog = sg.compile(sg.cross_entropy(s_logits(), y), [w, b], [x, y], dtype="float64")
    values = _values(rng)
    with pytest.raises(sg.errors.ShapeError, match="'y'.*N = 3"):
        prog.loss(values, {"x": np.zeros((3, 3, 4)), "y": np.zeros(4)})
    with pytest.raises(sg.errors.ShapeError, match="'x'"):
        prog.loss(values, {"x": np.zeros((3, 4)), "y": np.zeros(3)})
    with pytest.raises(sg.errors.DataError, match="empty"):
        prog.loss(values, {"x": np.zeros((0, 3, 4)), "y": np.zeros(0)})


def test_triton_refuses_naming_the_primitive():
    # (the mean over an example's rows compiles for Triton since 2026-11-30: test_triton_matrix_rows.py)
    w3 = sg.tensor("w3", (3, 5))
    with pytest.raises(sg.errors.UnsupportedError, match=r"target='triton'.*transpose.*x\.transpose.*target='numpy'"):
        sg.compile(sg.cross_entropy(x.transpose(0, 2, 1).mean(axis=1) @ w3, y), [w3], [x, y], target="triton")


def test_fixed_shape_tensors_are_per_example():
    # no symbolic size: xs is one example's, arrays come (B, 8, 4) (tests/compiling/test_per_example_tensors.py)
    xs = sg.tensor("xs", (8, 4))
    prog = sg.compile(sg.sum(xs @ v), [v], [xs], dtype="float64")
    batch = np.arange(96.0).reshape(3, 8, 4)
    assert prog.loss({"v": np.ones(4)}, {"xs": batch}) == pytest.approx(batch.sum() / 3)


def test_whole_batch_refuses_a_reduction_and_integer_parameters():
    with pytest.raises(sg.errors.ArgumentError, match="reduction"):
        sg.compile(sg.sum(x @ w), [w], [x], reduction="sum")
    with pytest.raises(sg.errors.ArgumentError, match="integer tensor"):
        sg.compile(sg.sum(sg.embedding(E, k)), [k], [x])
