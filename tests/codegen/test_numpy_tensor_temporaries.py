"""The whole-batch printer's forms that save (N, D) temporaries (codegen/numpy_whole_batch.py):
Σ over an axis of a product of two arrays as one ``numpy.einsum`` contraction, and a sum of terms
``a + c⊙u`` as ``t = c⊙u; t += a`` (``u *= c; u += a`` when u dies there). Each form is seen firing in the generated source, and the
program's loss and gradients equal torch.autograd's in float64 — before the rewrite the same
declarations printed ``(u*w).sum(...)`` and ``a + c*u``, which torch checks just as well."""
import importlib.util
import pathlib
import re

import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)
ROOT = pathlib.Path(__file__).resolve().parents[2]
x = sg.tensor("x", (N, 3))
W, V = sg.tensor("W", (3, 4)), sg.tensor("V", (3, 4))
c = sg.tensor("c", (4,))


def _check(loss, params, torch_loss, rng, n=7):
    prog = sg.compile(loss, params, [x], dtype="float64")
    values = {p.name: rng.standard_normal(tuple(p.shape)) for p in params}
    batch = {"x": rng.standard_normal((n, 3))}
    t = {k: torch.tensor(a, requires_grad=True) for k, a in values.items()}
    want = torch_loss(t, torch.tensor(batch["x"]))
    want.backward()
    got = prog.grad(values, batch)
    assert prog.loss(values, batch) == pytest.approx(want.item(), rel=1e-10, abs=1e-12)
    for k in values:
        np.testing.assert_allclose(got[k], t[k].grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=k)
    return prog.source


@pytest.mark.parametrize("axis, subscripts", [(0, "ij,ij->j"), (1, "ij,ij->i")])
def test_sum_over_an_axis_of_a_product_is_one_einsum(axis, subscripts, rng):
    # Σ over one axis of −3·(x W)⊙(x V): the number stays a coefficient of the contraction
    loss = sg.sum(sg.sum(-3 * (x @ W) * (x @ V), axis=axis) ** 2)
    src = _check(loss, [W, V], lambda t, X: ((-3 * (X @ t["W"]) * (X @ t["V"])).sum(axis) ** 2).sum(), rng)
    assert re.search(rf"= -3\*numpy\.einsum\('{subscripts}', \w+, \w+\)\.reshape\(", src), src


def test_sum_of_a_square_is_the_contraction_of_an_array_with_itself(rng):
    loss = sg.sum(sg.sum((x @ W) ** 2, axis=0) * c)
    src = _check(loss, [W, c], lambda t, X: (((X @ t["W"]) ** 2).sum(0) * t["c"]).sum(), rng)
    assert re.search(r"numpy\.einsum\('ij,ij->j', (\w+), \1\)", src), src


def test_a_product_read_elsewhere_too_is_not_contracted(rng):
    # the product is needed by itself (its exp): Σ of it stays a sum of that named array
    loss = sg.sum(sg.sum((x @ W) * (x @ V), axis=0) ** 2) + sg.sum(sg.exp((x @ W) * (x @ V)))
    src = _check(loss, [W, V], lambda t, X: (((X @ t["W"]) * (X @ t["V"])).sum(0) ** 2).sum()
                 + torch.exp((X @ t["W"]) * (X @ t["V"])).sum(), rng)
    assert "einsum('ij,ij->j'" not in src


def test_a_sum_with_a_broadcast_term_is_added_into_the_product(rng):
    # relu(c + (x W)⊙(x V)): the product's array is the result, c added into it in place
    loss = sg.sum(sg.relu(c + (x @ W) * (x @ V)) ** 2)
    src = _check(loss, [W, V, c], lambda t, X: (torch.relu(t["c"] + (X @ t["W"]) * (X @ t["V"])) ** 2).sum(), rng)
    m = re.search(r"\n *(v\d+) = (v\d+\*v\d+)\n *\1 \+= p2\n", src)
    assert m, src


def _bench():
    spec = importlib.util.spec_from_file_location("tensor_step", ROOT / "bench" / "tensor_step.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_batch_norm_step_contracts_its_two_sums_a_layer_and_equals_torch():
    ts = _bench()
    layers = 2
    loss, params, inputs = ts.declare(layers, 6)
    prog = sg.compile(loss, params, inputs, optimizer=sg.optim.SGD(lr=ts.LR), dtype="float64")
    step = prog.source[prog.source.index("def step("):]
    # Σ(z − μ)² (the variance) and Σ(z − μ)⊙ḡ, two a layer; and z·γ' + β as one temporary
    assert step.count("numpy.einsum('ij,ij->j'") == 2 * layers, step
    assert len(re.findall(r"\n *(v\d+) = v\d+\*v\d+\n *\1 \+= p\d+\n", step)) == layers, step
    # backward, z̄ = (z − μ)·s + γ'·ḡ: into the buffer of a temporary that dies there, no new array,
    # and the second product in the buffer of another that dies there (ḡ's, or z − μ's)
    # (the cross-entropy's softmax − one-hot, times the mean's seed, is such a sum too, its factors
    # one number each, ``v49 = DTYPE(-v46)``: not counted)
    numbers = set(re.findall(r"\n *(v\d+) = DTYPE\(", step))
    pairs = re.findall(r"\n *(v\d+) \*= (v\d+)\n *(v\d+) \*= (v\d+)\n *\1 \+= \3\n", step)
    assert len([m for m in pairs if not {m[1], m[3]} <= numbers]) == layers, step
    assert len(pairs) == layers + 1 and len(numbers) == 2, step
    rng = np.random.default_rng(3)
    P = {k: v.astype(np.float64) + 0.1 * rng.standard_normal(v.shape) for k, v in ts.init(params, rng).items()}
    x_, y_ = rng.standard_normal((11, 6)) + 3.0, rng.integers(0, ts.CLASSES, 11)
    T = {k: torch.tensor(v, requires_grad=True) for k, v in P.items()}
    h = torch.tensor(x_)
    F = torch.nn.functional
    for i in range(layers):
        h = F.relu(F.batch_norm(h @ T[f"W{i}"], None, None, T[f"g{i}"], T[f"b{i}"], training=True, eps=ts.EPS))
    want = F.cross_entropy(h @ T["Wo"] + T["bo"], torch.tensor(y_))
    want.backward()
    new, _ = prog.step({k: v.copy() for k, v in P.items()}, None, {"x": x_, "y": y_.astype(float)})
    assert prog.last_loss == pytest.approx(want.item(), rel=1e-12)
    for k, t in T.items():   # SGD: p − lr·∂L/∂p, torch's gradient
        np.testing.assert_allclose(new[k], P[k] - ts.LR * t.grad.numpy(), rtol=1e-12, atol=1e-14, err_msg=k)


def test_a_mask_summed_alone_is_counted_in_floats(rng):
    # ∂/∂b of Σ relu(x W + b) is Σₙ [z ≥ 0]: a count, in the program's dtype (NumPy's .sum of a
    # boolean array gives integers; einsum, a logical or)
    b = sg.tensor("b", (4,))
    prog = sg.compile(sg.sum(sg.relu(x @ W + b)), [W, b], [x], dtype="float32")
    values = {"W": rng.standard_normal((3, 4)), "b": rng.standard_normal(4)}
    batch = {"x": rng.standard_normal((9, 3))}
    got = prog.grad(values, batch)
    assert got["b"].dtype == np.float32
    assert re.search(r"= \(v\d+_ge0\)\.sum\(\(0,\), keepdims=True, dtype=DTYPE\)", prog.source), prog.source
    want = ((batch["x"] @ values["W"] + values["b"]) >= 0).sum(0)
    np.testing.assert_array_equal(got["b"], want)


def test_a_dot_product_of_a_column_sum_with_a_parameter_reshapes_the_seed(rng):
    # (Σₙ relu(x W + b)) · b: the seed of reverse mode (a Python float) is reshaped to (1, 1)
    b = sg.tensor("b", (4,))
    loss = sg.sum(sg.relu(x @ W + b), axis=0) @ b
    src = _check(loss, [W, b], lambda t, X: torch.relu(X @ t["W"] + t["b"]).sum(0) @ t["b"], rng)
    assert "numpy.reshape(scale, (1, 1))" in src
