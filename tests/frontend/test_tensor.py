"""N-d tensors with NumPy semantics: declarations as cs231n writes them, gradients in the same
vocabulary, symbolic sizes bound at run time, clear errors, and a hypothesis property test that
builds random tensor expressions and compares `sg.grad` with torch.autograd (float64)."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symgrad as sg
from symgrad.core.evaluate import numeric
from symgrad.errors import ShapeError

N = sp.Symbol("N", integer=True, positive=True)
rng = np.random.default_rng(11)


def _torch_grads(f, values, wrt):
    ts = {k: torch.tensor(v, dtype=torch.float64, requires_grad=k in wrt) if np.asarray(v).dtype.kind == "f"
          else torch.tensor(v) for k, v in values.items()}
    f(**ts).backward()
    return {k: ts[k].grad.numpy() for k in wrt}


# ---------------------------------------------------------------------------------------------------
# cs231n-style declarations: the forward reads as NumPy, the gradient as the hand derivation


def test_affine_layer_on_images_declared_as_cs231n():
    x, w, b = sg.tensor("x", (N, 3, 2)), sg.tensor("w", (6, 5)), sg.tensor("b", (5,))
    out = x.reshape(N, -1) @ w + b
    assert str(out) == "b + x.reshape(N, 6) @ w" and out.shape == (N, 5)
    dout = sg.tensor("dout", (N, 5))
    dx, dw, db = sg.grad(sg.sum(out * dout), [x, w, b])
    # the slides' answers: dx = (dout @ w.T).reshape(x.shape), dw = x.reshape(N, D).T @ dout, db = Σₙ dout
    assert str(dx) == "(dout @ w.T).reshape(N, 3, 2)"
    assert str(dw) == "x.reshape(N, 6).T @ dout"
    assert str(db) == "dout.sum(axis=0)"
    vals = {"x": rng.normal(size=(4, 3, 2)), "w": rng.normal(size=(6, 5)), "b": rng.normal(size=5),
            "dout": rng.normal(size=(4, 5))}
    xs, ws, douts = vals["x"], vals["w"], vals["dout"]
    np.testing.assert_allclose(sg.numeric(dx, vals), (douts @ ws.T).reshape(xs.shape), rtol=1e-12)
    np.testing.assert_allclose(sg.numeric(dw, vals), xs.reshape(4, -1).T @ douts, rtol=1e-12)
    np.testing.assert_allclose(sg.numeric(db, vals), douts.sum(0), rtol=1e-12)


def test_relu_and_softmax_loss_with_integer_labels():
    x, w, b = sg.tensor("x", (N, 6)), sg.tensor("w", (6, 3)), sg.tensor("b", (3,))
    y = sg.tensor("y", (N,), integer=True)
    scores = sg.relu(x @ w + b)
    loss = sg.cross_entropy(scores, y)
    dw, db = sg.grad(loss, [w, b])
    assert "one_hot(y, 3)" in str(db) and "softmax(" in str(db) and ".sum(axis=0)" in str(db)
    assert not dw.has(sp.KroneckerDelta)
    vals = {"x": rng.normal(size=(5, 6)), "w": rng.normal(size=(6, 3)), "b": rng.normal(size=3),
            "y": np.array([0, 2, 2, 1, 0])}
    want = _torch_grads(lambda x, w, b, y: torch.nn.functional.cross_entropy(torch.relu(x @ w + b), y),
                        vals, ["w", "b"])
    np.testing.assert_allclose(sg.numeric(dw, vals), want["w"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(sg.numeric(db, vals), want["b"], rtol=1e-9, atol=1e-12)


def test_cross_entropy_gradient_reads_softmax_minus_one_hot():
    s, y = sg.tensor("s", (N, 3)), sg.tensor("y", (N,), integer=True)
    g = sg.grad(sg.cross_entropy(s, y), s)
    assert str(g) == "-one_hot(y, 3)/N + softmax(s, axis=1)/N"
    want = (sg.softmax(s, axis=1) - sg.one_hot(y, 3)) / N
    vals = {"s": rng.normal(size=(5, 3)), "y": np.array([0, 2, 2, 1, 0])}
    np.testing.assert_allclose(sg.numeric(g, vals), sg.numeric(want, vals), rtol=1e-12)


def test_symbolic_batch_size_is_bound_from_the_arrays():
    x, w = sg.tensor("x", (N, 3)), sg.tensor("w", (3,))
    loss = sg.mean(sp.tanh(x @ w) ** 2)
    gw = sg.grad(loss, w)
    for n in (1, 2, 7):
        xv, wv = rng.normal(size=(n, 3)), rng.normal(size=3)
        want = _torch_grads(lambda x, w: (torch.tanh(x @ w) ** 2).mean(), {"x": xv, "w": wv}, ["w"])["w"]
        np.testing.assert_allclose(sg.numeric(gw, {"x": xv, "w": wv}), want, rtol=1e-10)


def test_tensors_substitute_and_keep_their_shape():
    x = sg.tensor("x", (N, 3))
    e = (x * 2).sum(axis=0)
    assert e.subs(N, 4).shape == (3,) and x.subs(N, 4).shape == (4, 3)
    y = sg.tensor("y", (N, 3))
    assert e.xreplace({x: y}) == (y * 2).sum(axis=0)
    assert e.free_symbols == {x}                       # N is a size, not a variable


def test_matrix_semantics_unchanged():
    W, v = sp.MatrixSymbol("W", 2, 3), sp.MatrixSymbol("v", 3, 1)
    assert isinstance(sg.sum(W * v), sg.frontend.functions.Total)
    assert isinstance(sg.softmax(W * v), sg.frontend.functions.Softmax)
    assert str(sg.grad(sg.sum(sp.HadamardPower(W * v, 2)), W)) == "2*W*v*v.T"


def test_sympy_functions_map_over_tensors():
    x = sg.tensor("x", (2, 3))
    assert sg.as_tensor(sp.tanh(x)).shape == (2, 3)
    assert str(sg.sum(sp.exp(x), axis=1)) == "exp(x).sum(axis=1)"
    assert str(sg.elementwise(sp.tanh, x).T) == "tanh(x).T"
    assert (sp.tanh(x) + sg.tensor("b", (3,))).shape == (2, 3)


def test_printing_reads_as_numpy():
    x = sg.tensor("x", (N, 8))
    assert str(x[:, 2:4]) == "x[:, 2:4]" and str(x[::2, 1]) == "x[::2, 1]" and str(x[-1]) == "x[N - 1]"
    assert str(x.T) == "x.T" and str(x.max(axis=1, keepdims=True)) == "x.max(axis=1, keepdims=True)"
    assert str(sg.var(x, axis=0, correction=1)) == "x.var(axis=0, correction=1)"
    assert str(sg.concat([x, x], axis=1)) == "concat([x, x], axis=1)"
    assert str((x + 1) @ sg.tensor("w", (8, 2))) == "(x + 1) @ w"


# ---------------------------------------------------------------------------------------------------
# Errors name the culprit


def test_broadcast_error_names_both_operands():
    with pytest.raises(sg.BroadcastError, match=r"x \+ w.*\(N, 3\).*\(2, 5\)"):
        sg.tensor("x", (N, 3)) + sg.tensor("w", (2, 5))
    with pytest.raises(sg.BroadcastError):
        sg.tensor("x", (N, 3)) * sg.tensor("c", (3, 1))      # N against 3: N is anything at run time


def test_axis_out_of_range():
    x = sg.tensor("x", (2, 3))
    for f in (lambda: x.sum(axis=2), lambda: x.max(axis=-3), lambda: sg.concat([x, x], axis=5),
              lambda: x.transpose(0, 2), lambda: x[0, 1, 2], lambda: x[2]):
        with pytest.raises(sg.AxisError, match="x"):
            f()


def test_reshape_of_the_wrong_size():
    x = sg.tensor("x", (N, 3, 2))
    with pytest.raises(sg.ReshapeError, match=r"x.*\(N, 3, 2\).*\(N, 5\)"):
        x.reshape(N, 5)
    with pytest.raises(sg.ReshapeError, match="multiple"):
        sg.tensor("z", (7,)).reshape(2, -1)


def test_integer_tensor_is_never_differentiated():
    y = sg.tensor("y", (N,), integer=True)
    s = sg.tensor("s", (N, 3))
    with pytest.raises(sg.IntegerTensorError, match="y"):
        sg.grad(sg.cross_entropy(s, y), [s, y])
    with pytest.raises(sg.IntegerTensorError, match="s"):
        sg.one_hot(s, 3)


def test_mixing_a_matrix_symbol_into_a_tensor_expression():
    W = sp.MatrixSymbol("W", 3, 3)
    x = sg.tensor("x", (2, 3))
    with pytest.raises(sg.MixedArrayError, match="W"):
        x + W
    with pytest.raises(sg.MixedArrayError, match="W"):
        x @ W


def test_softmax_of_a_2d_tensor_needs_an_axis():
    with pytest.raises(sg.AxisError, match="axis"):
        sg.softmax(sg.tensor("s", (N, 3)))
    assert sg.softmax(sg.tensor("v", (3,))).shape == (3,)


def test_label_out_of_range_and_wrong_array_shape_at_run_time():
    s, y = sg.tensor("s", (N, 3)), sg.tensor("y", (N,), integer=True)
    loss = sg.cross_entropy(s, y)
    with pytest.raises(sg.LabelRangeError, match="3"):
        sg.numeric(loss, {"s": np.zeros((2, 3)), "y": np.array([0, 3])})
    with pytest.raises(sg.ShapeError, match="y"):
        sg.numeric(loss, {"s": np.zeros((2, 3)), "y": np.array([0, 1, 2])})
    with pytest.raises(sg.ShapeError, match="labels"):
        sg.cross_entropy(s, sg.tensor("t", (N, 1), integer=True))


def test_a_label_or_index_that_is_not_a_whole_number_is_refused_not_truncated():
    s, y = sg.tensor("s", (N, 3)), sg.tensor("y", (N,), integer=True)
    loss = sg.cross_entropy(s, y)
    scores = np.array([[0.0, 1.0, 2.0], [2.0, 0.0, 1.0]])
    for bad in (0.5, np.nan):                      # astype(int) made 0.5 class 0
        with pytest.raises(sg.LabelRangeError, match="not a whole number"):
            sg.numeric(loss, {"s": scores, "y": np.array([bad, 1.0])})
    # whole numbers stored as floats are labels: the same loss as the integers, by hand
    want = np.mean([np.log(np.exp(r).sum()) - r[k] for r, k in zip(scores, [2, 0])])
    assert np.isclose(sg.numeric(loss, {"s": scores, "y": np.array([2.0, 0.0])}), want)
    W, idx = sg.tensor("W", (4, 2)), sg.tensor("i", (N,), integer=True)
    with pytest.raises(sg.LabelRangeError, match="not a whole number"):
        sg.numeric(sg.sum(W[idx]), {"W": np.ones((4, 2)), "i": np.array([1.5, 0.0])})


# ---------------------------------------------------------------------------------------------------
# Property: random tensor expressions, gradients equal torch's


LEAVES = {"x": (2, 3), "y": (3,), "z": (2, 1), "u": (1, 3)}


def _build(draw, depth):
    """A random expression as (symgrad, torch function of the leaves, shape); shapes stay within
    {(2, 3), (3,), (2, 1), (1, 3), ()} so every pair broadcasts."""
    if depth == 0 or draw(st.integers(0, 4)) == 0:
        k = draw(st.sampled_from(sorted(LEAVES)))
        return (lambda S: S[k]), (lambda t: t[k]), LEAVES[k]
    op = draw(st.sampled_from(["add", "mul", "sub", "div", "tanh", "sin", "sq", "sum0", "sum1", "sumall",
                               "mean1", "max1", "maxall", "reshapeT", "slicecat", "matmul"]))
    a, ta, sa = _build(draw, depth - 1)
    if op in ("add", "mul", "sub", "div"):
        b, tb, sb = _build(draw, depth - 1)
        shape = tuple(np.broadcast_shapes(sa, sb))
        f = {"add": lambda p, q: p + q, "mul": lambda p, q: p * q, "sub": lambda p, q: p - q,
             "div": lambda p, q: p / (q * q + 1)}[op]
        return (lambda S: f(a(S), b(S))), (lambda t: f(ta(t), tb(t))), shape
    if op in ("tanh", "sin", "sq"):
        fs = {"tanh": (sp.tanh, torch.tanh), "sin": (sp.sin, torch.sin), "sq": (lambda v: v ** 2, lambda v: v ** 2)}[op]
        return (lambda S: sg.as_tensor(fs[0](a(S))) if sa else fs[0](a(S))), (lambda t: fs[1](ta(t))), sa
    if sa != (2, 3):
        return a, ta, sa
    if op == "sum0":
        return (lambda S: a(S).sum(axis=0, keepdims=True)), (lambda t: ta(t).sum(0, keepdim=True)), (1, 3)
    if op == "sum1":
        return (lambda S: a(S).sum(axis=-1, keepdims=True)), (lambda t: ta(t).sum(-1, keepdim=True)), (2, 1)
    if op == "sumall":
        return (lambda S: a(S).sum()), (lambda t: ta(t).sum()), ()
    if op == "mean1":
        return (lambda S: a(S).mean(axis=0)), (lambda t: ta(t).mean(0)), (3,)
    if op == "max1":
        return (lambda S: a(S).max(axis=1, keepdims=True)), (lambda t: ta(t).max(1, keepdim=True).values), (2, 1)
    if op == "maxall":
        return (lambda S: a(S).max()), (lambda t: ta(t).max()), ()
    if op == "reshapeT":
        return (lambda S: a(S).reshape(3, 2).T), (lambda t: ta(t).reshape(3, 2).T), (2, 3)
    if op == "slicecat":
        return (lambda S: sg.concat([a(S)[:, 2:], a(S)[:, ::2]], axis=1)[:, :3]), \
            (lambda t: torch.cat([ta(t)[:, 2:], ta(t)[:, ::2]], 1)[:, :3]), (2, 3)
    return (lambda S: a(S) @ S["W"]), (lambda t: ta(t) @ t["W"]), (2, 3)


@st.composite
def expressions(draw):
    return _build(draw, 3)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions(), st.integers(0, 2 ** 31 - 1))
def test_random_tensor_expressions_match_torch(expr, seed):
    f, tf, shape = expr
    shapes = {**LEAVES, "W": (3, 3)}
    S = {k: sg.tensor(k, sh) for k, sh in shapes.items()}
    r = np.random.default_rng(seed)
    vals = {k: r.normal(size=sh) for k, sh in shapes.items()}
    D = r.normal(size=shape)                   # a cotangent that is not all ones
    vals["D"] = D
    out = f(S)
    loss = out * D.item() if shape == () else sg.sum(sg.as_tensor(out) * sg.tensor("D", shape))
    wrt = ["x", "y", "z", "u", "W"]
    grads = sg.grad(loss, [S[k] for k in wrt])
    ts = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in vals.items() if k != "D"}
    tw = (tf(ts) * torch.tensor(D)).sum()
    tgrads = torch.autograd.grad(tw, [ts[k] for k in wrt], allow_unused=True)
    for k, g, tg in zip(wrt, grads, tgrads):
        want = np.zeros(LEAVES.get(k, (3, 3))) if tg is None else tg.numpy()
        got = np.asarray(sg.numeric(g, vals), dtype=float) * np.ones(want.shape)
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-11, err_msg=f"∂/∂{k} of {loss}: {g}")


def test_jacobian_of_a_tensor_of_symbolic_size_is_a_clear_error():
    x, w = sg.tensor("x", (N, 3)), sg.tensor("w", (3,))
    with pytest.raises(sg.ShapeError, match="concrete sizes"):
        sg.jacobian([sg.sum(x @ w)], [w])


def test_numpy_functions_of_a_tensor_name_the_spelling_that_works():
    """A forward written as in NumPy — np.maximum(x, 0), np.exp(x), np.sum(x, axis=0) — used to die in
    SymPy ("cannot determine truth value of Relational"); it is refused naming symgrad's spelling.
    NumPy scalars still multiply a tensor as numbers; a NumPy array is refused, not made an object array."""
    x = sg.tensor("x", (N, 3))
    with pytest.raises(sg.SymgradError, match=r"np\.maximum .*sg\.relu\(x\)"):
        np.maximum(x, 0)
    with pytest.raises(sg.SymgradError, match=r"np\.exp .*sg\.exp\(x\)"):
        np.exp(x)
    with pytest.raises(sg.SymgradError, match=r"np\.sum .*x\.sum\(axis="):
        np.sum(x, axis=0)
    with pytest.raises(sg.SymgradError, match=r"NumPy array of shape \(3,\)"):
        np.ones(3) * x
    assert np.float64(2.0) * x == 2.0 * x and np.float32(4.0) / x == 4.0 / x and np.array(3.0) + x == 3.0 + x
    assert np.shape(x) == (N, 3)


def test_real_labels_in_cross_entropy_say_integer_true():
    """y declared without integer=True, shape (N,): the error says to declare the labels as integers,
    where it used to be 'cannot broadcast y (N,) and ... (N, 3)'."""
    s = sg.tensor("s", (N, 3))
    with pytest.raises(sg.SymgradError, match=r"sg\.tensor\('y', \(N,\), integer=True\)"):
        sg.cross_entropy(s, sg.tensor("y", (N,)))
    # one probability row broadcast over the batch is still a target (batch 3 = 3 classes)
    assert sg.cross_entropy(sg.tensor("s3", (3, 3)), sg.tensor("p", (3,))) is not None


# ---------------------------------------------------------------------------------------------------
# a user trial: a comparison in arithmetic, a size symbol without integer=True, two tensors named x


def test_a_comparison_in_arithmetic_is_its_0_1_mask_as_in_numpy():
    """(x > 0) * x raised SymPy's 'Relational cannot be used in Mul'; it is NumPy's boolean mask,
    where(x > 0, 1, 0), so (x > 0) * x is relu — values and gradient against NumPy."""
    x = sg.tensor("x", (3, 4))
    e = (x > 0) * x
    assert e.shape == (3, 4)
    v = np.random.default_rng(1).standard_normal((3, 4))
    assert np.array_equal(np.asarray(numeric(e, {"x": v}), float), (v > 0) * v)
    g = sg.grad(sg.sum(x * (x > 0.5)), x)
    assert np.array_equal(np.asarray(numeric(g, {"x": v}), float), (v > 0.5) * 1.0)


def test_a_size_symbol_must_be_declared_integer():
    M = sp.Symbol("M")
    with pytest.raises(ShapeError, match=r"M is a symbol with no integer assumption.*"
                                         r"sp\.Symbol\('M', integer=True, positive=True\)"):
        sg.tensor("x", (M, 3))
    assert sg.tensor("x", (sp.Symbol("M", integer=True, positive=True), 3)).ndim == 2


def test_two_tensors_of_one_name_are_refused_by_grad():
    a, b = sg.tensor("x", (3,)), sg.tensor("x", (4,))
    with pytest.raises(ShapeError, match=r"two different symbols are both named 'x' "
                                         r"\(shapes \([34],\) and \([34],\)\).*rename one"):
        sg.grad(sg.sum(a) + sg.sum(b), a)
    with pytest.raises(sg.SymgradError, match=r"two different symbols named 'x' \(shapes \(3,\) declared and "
                                              r"\(4,\) not\).*rename one"):
        sg.compile(sg.sum(a * a) + sg.sum(b), [a])
