"""Bugs a docs trial found at the front end, each pinned: an error that names the problem and what
is supported instead of one about something the user never wrote, torch's keywords at their
default values accepted by the layers, grouped convolution checked against torch in float64."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch
import torch.nn.functional as F

import symgrad as sg
from symgrad.errors import ArgumentError, ShapeError

rng = np.random.default_rng(20261130)


def _raises(kind, fn, *words):
    with pytest.raises(kind) as e:
        fn()
    for word in words:
        assert word in str(e.value), (word, str(e.value))
    return str(e.value)


# ---------------------------------------------------------------------------------------------------
# 1. hessian / jacobian of tensors: of symbolic sizes refused up front, naming the tensor and the
#    workarounds (at concrete sizes they work: tests/core/test_tensor_jacobian.py)


def test_hessian_wrt_a_tensor_names_the_tensor_not_an_inner_F():
    N = sp.Symbol("N", integer=True, positive=True)
    v = sg.tensor("v", (N,))
    msg = _raises(ShapeError, lambda: sg.hessian(sg.sum(v ** 3), v),
                  "hessian", "v has the shape (N)", "concrete sizes", "sg.grad(sg.sum(sg.grad(f, w) * u), w)")
    assert "each entry of F" not in msg
    x = sp.Symbol("x")
    _raises(ShapeError, lambda: sg.hessian(sg.sum(v ** 3) * x, [x, v]), "hessian", "v has the shape")
    _raises(ShapeError, lambda: sg.jacobian(v ** 2, [x]), "jacobian", "F has the shape (N)", "concrete sizes")


def test_the_hessian_vector_product_is_torchs():
    v, u = sg.tensor("v", (3,)), sg.tensor("u", (3,))
    f = sg.sum(sg.exp(v) * v ** 3)
    hvp = sg.grad(sg.sum(sg.grad(f, v) * u), v)
    vv, uu = rng.normal(size=3), rng.normal(size=3)
    H = torch.autograd.functional.hessian(lambda t: (torch.exp(t) * t ** 3).sum(), torch.tensor(vv))
    got = np.asarray(sg.numeric(hvp, {"v": vv, "u": uu}), dtype=float)
    np.testing.assert_allclose(got, H.numpy() @ uu, rtol=1e-10)


def test_hessian_of_a_column_matrix_still_works():
    v = sp.MatrixSymbol("v", 3, 1)
    H = sg.hessian(sg.sum(sp.HadamardPower(v, 3)), v)
    assert H == sp.diag(*[6 * v[i, 0] for i in range(3)])


# ---------------------------------------------------------------------------------------------------
# 2. torch's keywords of the convolution and pooling layers


def _value_and_grads(out, dout_shape, inputs):
    """out's value and the gradients of Σ out·dout w.r.t. inputs (name -> array), by sg.numeric."""
    dout = sg.tensor("dout", dout_shape)
    vals = dict(inputs, dout=rng.normal(size=dout_shape))
    leaves = [sg.tensor(k, np.shape(v)) for k, v in inputs.items()]
    grads = sg.grad(sg.sum(out * dout), leaves)
    as_array = lambda e: np.asarray(sg.numeric(e, vals), dtype=float)     # noqa: E731
    return as_array(out), [as_array(g) for g in grads], torch.tensor(vals["dout"])


def _torch_value_and_grads(fn, dout, inputs):
    ts = [torch.tensor(v, requires_grad=True) for v in inputs.values()]
    out = fn(*ts)
    (out * dout).sum().backward()
    return out.detach().numpy(), [t.grad.numpy() for t in ts]


@pytest.mark.parametrize("groups,C,Fn,kw", [(2, 4, 6, dict()), (3, 3, 3, dict(padding=1)),
                                             (2, 4, 4, dict(stride=2, dilation=(1, 2), padding=(1, 2)))])
def test_grouped_conv2d_and_its_gradients_are_torchs(groups, C, Fn, kw):
    xs, ws, bs = (2, C, 6, 7), (Fn, C // groups, 3, 2), (Fn,)
    inputs = {"x": rng.normal(size=xs), "w": rng.normal(size=ws), "b": rng.normal(size=bs)}
    x, w, b = sg.tensor("x", xs), sg.tensor("w", ws), sg.tensor("b", bs)
    out = sg.conv2d(x, w, b, groups=groups, **kw)
    want = F.conv2d(torch.zeros(xs), torch.zeros(ws), groups=groups, **kw).shape
    assert out.shape == tuple(want)
    got, grads, dout = _value_and_grads(out, out.shape, inputs)
    t_out, t_grads = _torch_value_and_grads(lambda x, w, b: F.conv2d(x, w, b, groups=groups, **kw), dout, inputs)
    np.testing.assert_allclose(got, t_out, rtol=1e-10, atol=1e-12)
    for g, tg in zip(grads, t_grads):
        np.testing.assert_allclose(g, tg, rtol=1e-10, atol=1e-12)


def test_depthwise_conv1d_is_torchs():
    inputs = {"x": rng.normal(size=(2, 3, 9)), "w": rng.normal(size=(3, 1, 3))}
    out = sg.conv1d(sg.tensor("x", (2, 3, 9)), sg.tensor("w", (3, 1, 3)), groups=3)
    got, grads, dout = _value_and_grads(out, out.shape, inputs)
    t_out, t_grads = _torch_value_and_grads(lambda x, w: F.conv1d(x, w, groups=3), dout, inputs)
    np.testing.assert_allclose(got, t_out, rtol=1e-10)
    for g, tg in zip(grads, t_grads):
        np.testing.assert_allclose(g, tg, rtol=1e-10, atol=1e-12)


def test_conv_groups_one_is_the_plain_convolution_and_bad_groups_are_named():
    x, w = sg.tensor("x", (2, 4, 6, 6)), sg.tensor("w", (6, 2, 3, 3))
    assert sg.conv2d(x, sg.tensor("v", (6, 4, 3, 3)), groups=1) == sg.conv2d(x, sg.tensor("v", (6, 4, 3, 3)))
    _raises(ShapeError, lambda: sg.conv2d(x, w, groups=3), "groups=3", "(2, 4, 6, 6)", "(6, 2, 3, 3)")
    _raises(ShapeError, lambda: sg.conv2d(x, w), "channel mismatch", "(w is (F, C/groups")
    _raises(ShapeError, lambda: sg.conv2d(x, w, groups=4), "groups=4")
    for bad in (0, 2.0, True, "2"):
        _raises(ArgumentError, lambda b=bad: sg.conv2d(x, w, groups=b), "groups", repr(bad), "positive integer")


@pytest.mark.parametrize("layer,tfn,kw", [
    (sg.max_pool2d, F.max_pool2d, dict(dilation=1, ceil_mode=False, return_indices=False)),
    (sg.max_pool2d, F.max_pool2d, dict(ceil_mode=True)),                     # 8 = 4 windows of 2: exact
    (sg.avg_pool2d, F.avg_pool2d, dict(ceil_mode=True, count_include_pad=False)),
    (sg.avg_pool2d, F.avg_pool2d, dict(padding=1, count_include_pad=True, divisor_override=3)),
    (sg.avg_pool2d, F.avg_pool2d, dict(divisor_override=5)),
])
def test_pool_keywords_at_supported_values_are_torchs(layer, tfn, kw):
    inputs = {"x": rng.normal(size=(2, 3, 8, 6))}
    out = layer(sg.tensor("x", (2, 3, 8, 6)), 2, **kw)
    got, grads, dout = _value_and_grads(out, out.shape, inputs)
    t_out, t_grads = _torch_value_and_grads(lambda x: tfn(x, 2, **kw), dout, inputs)
    np.testing.assert_allclose(got, t_out, rtol=1e-10)
    np.testing.assert_allclose(grads[0], t_grads[0], rtol=1e-10, atol=1e-12)


def test_unsupported_pool_keywords_name_the_argument_value_and_what_is_supported():
    x = sg.tensor("x", (2, 3, 7, 6))
    # (max pooling's partial windows and count_include_pad=False with padding are supported since
    # 2026-11-30, sixth session: tests/frontend/test_torch_activations_shapes.py)
    _raises(ArgumentError, lambda: sg.avg_pool2d(x, 2, ceil_mode=True),
            "avg_pool2d", "ceil_mode=True", "partial window", "spatial axis 0", "size 7", "ceil_mode=False")
    _raises(ArgumentError, lambda: sg.avg_pool2d(x, 2, padding=1, count_include_pad=False, divisor_override=3),
            "avg_pool2d", "divisor_override", "count_include_pad=False")
    _raises(ArgumentError, lambda: sg.max_pool2d(x, 2, return_indices=True), "return_indices=True",
            "return_indices=False")
    _raises(ArgumentError, lambda: sg.max_pool2d(x, 2, dilation=2), "dilation=2", "dilation=1")
    _raises(ArgumentError, lambda: sg.avg_pool2d(x, 2, divisor_override=0), "divisor_override", "0")
    _raises(ArgumentError, lambda: sg.max_pool1d(sg.tensor("y", (2, 3, 7)), 2, ceil_mode=1), "ceil_mode", "1")
    assert sg.avg_pool1d(sg.tensor("y", (2, 3, 8)), 2, ceil_mode=True, count_include_pad=False).shape == (2, 3, 4)


# ---------------------------------------------------------------------------------------------------
# 3. x[x > 0]: a boolean mask, named as one, with the spelling that works


def test_boolean_mask_index_names_masks_and_sg_where():
    x, y = sg.tensor("x", (4,)), sg.tensor("y", (4,))
    msg = _raises(ShapeError, lambda: x[x > 0], "x[x > 0]", "boolean-mask indexing is not supported",
                  "sg.where(x > 0, x, 0)", "(x > 0) * x")
    assert "mixed with other indices" not in msg
    _raises(ShapeError, lambda: x[(x <= y,)], "boolean-mask", "sg.where(x <= y, x, 0)")
    _raises(ShapeError, lambda: x[y], "x[y]", "real tensor", "integer=True", "sg.where(y != 0, x, 0)")
    # the two spellings the message names compute NumPy's masked values with the shape kept
    xv = np.array([-1.0, 2.0, 0.0, 3.5])
    for e in (sg.where(x > 0, x, 0), (x > 0) * x):
        np.testing.assert_array_equal(np.asarray(sg.numeric(e, {"x": xv}), dtype=float), np.where(xv > 0, xv, 0))
    idx = sg.tensor("i", (2,), integer=True)
    assert x[idx] == sg.take(x, idx, 0)          # an integer tensor still takes entries


# ---------------------------------------------------------------------------------------------------
# 4. NumPy scalars in messages: their number (0.5), not NumPy 2's repr (np.float64(0.5))


def test_label_that_is_not_whole_is_shown_as_its_number():
    x, W, y = sg.tensor("x", (4, 3)), sg.tensor("W", (3, 3)), sg.tensor("y", (4,), integer=True)
    loss = sg.cross_entropy(x @ W, y)
    msg = _raises(sg.LabelRangeError, lambda: sg.check(loss, W, sg.grad(loss, W), at={"y": np.array([0, 1, 0.5, 2])}),
                  "label 0.5 is not a whole number")
    assert "np." not in msg
    msg = _raises(sg.LabelRangeError, lambda: sg.numeric(sg.take(x, y, 0), {"x": np.ones((4, 3)),
                                                                           "y": np.array([0, 1, np.nan, 2])}),
                  "index nan is not a whole number")
    assert "np." not in msg


@pytest.mark.parametrize("make,words", [
    (lambda: sg.optim.SGD(lr=np.float64(-1.0)), "invalid lr=-1.0"),
    (lambda: sg.optim.SGD(lr=0.1, nesterov=np.int64(1)), "invalid nesterov=1: must be True or False"),
    # a complex NumPy scalar was cast to its real part (with a warning) and evaluated
    (lambda: sg.numeric(sp.Symbol("s") + 1, {"s": np.complex128(1j)}), "must be a real number, got 1j"),
])
def test_numpy_scalar_arguments_are_shown_as_numbers(make, words):
    msg = _raises(sg.SymgradError, make, words)
    assert "np." not in msg


def test_show_value_unwraps_numpy_scalars_only():
    from symgrad.errors import show_value
    assert show_value(np.float64(0.5)) == "0.5" and show_value(np.int64(7)) == "7"
    assert show_value(np.array(2.5)) == "2.5" and show_value(np.bool_(True)) == "True"
    assert show_value("a") == "'a'" and show_value([1, 2]) == "[1, 2]"
    assert show_value(np.array([1.0, 2.0])) == repr(np.array([1.0, 2.0]))     # arrays keep their repr


# ---------------------------------------------------------------------------------------------------
# 5. a matrix of ones in a returned gradient prints as OneMatrix(m, n), not as the scalar 1


def _explicit_diff(f, M):
    """sympy.diff of f with M written out entry by entry: the gradient as an explicit matrix."""
    sym = M.as_explicit()
    fe = sp.expand(f.xreplace({s: s.as_explicit() for s in f.atoms(sp.MatrixSymbol)}).doit())
    return sp.Matrix(M.shape[0], M.shape[1], lambda i, j: sp.diff(fe, sym[i, j]))


@pytest.mark.parametrize("case", ["cube", "product", "sum"])
def test_ones_matrix_prints_unambiguously_and_equals_sympys_diff(case):
    A, W, x = sp.MatrixSymbol("A", 2, 2), sp.MatrixSymbol("W", 3, 2), sp.MatrixSymbol("x", 2, 1)
    f, M, printed = {
        "cube": (sg.sum(A ** 3), A, "A.T**2*OneMatrix(2, 2) + OneMatrix(2, 2)*A.T**2 + A.T*OneMatrix(2, 2)*A.T"),
        "product": (sg.sum(W * x), W, "OneMatrix(3, 1)*x.T"),
        "sum": (sg.sum(W), W, "OneMatrix(3, 2)"),
    }[case]
    g = sg.grad(f, M)
    assert str(g) == printed
    assert r"\mathbf{1}_{" in sp.latex(g) and "𝟙" in sp.pretty(g)
    # still SymPy's OneMatrix: equal to the expression SymPy builds, and to sympy.diff entry by entry
    J = sp.OneMatrix
    built = {"cube": A.T ** 2 * J(2, 2) + J(2, 2) * A.T ** 2 + A.T * J(2, 2) * A.T,
             "product": J(3, 1) * x.T, "sum": J(3, 2)}[case]
    assert g == built and built == g and hash(g) == hash(built)
    assert isinstance(g.atoms(sp.OneMatrix).pop(), sp.OneMatrix)
    got = sp.Matrix(g.xreplace({s: s.as_explicit() for s in g.atoms(sp.MatrixSymbol)}).doit())
    assert sp.simplify(got - _explicit_diff(f, M)) == sp.zeros(*M.shape)
    # the printed text, pasted back as a claim, is read as the same gradient
    assert sg.check(f, M, printed).verdict == "equal"


def test_named_gradient_and_teaching_keep_their_ones_notation():
    W, x = sp.MatrixSymbol("W", 3, 2), sp.MatrixSymbol("x", 2, 1)
    f = sg.sum(sg.tanh(W * x))
    assert "OneMatrix(3, 1)" in str(sg.grad(f, W, named=True))
    assert "𝟙·xᵀ" in str(sg.derive(sg.sum(W * x), W))


# ---------------------------------------------------------------------------------------------------
# 6. sg.where takes a real tensor as its condition (nonzero is true), as docs/layers.md says


def test_where_with_a_real_condition_is_numpys():
    x = sg.tensor("x", (5,))
    xv = np.array([0.5, 0.0, -2.0, np.nan, -0.0])
    got = np.asarray(sg.numeric(sg.where(x, 1, 0), {"x": xv}), dtype=float)
    np.testing.assert_array_equal(got, np.where(xv, 1, 0))
    from pathlib import Path
    row = next(line for line in (Path(__file__).parents[2] / "docs" / "layers.md").read_text().splitlines()
               if line.startswith("| `np.where("))
    assert "integer or real" in row and "nonzero" in row


def test_depthwise_conv_compiles_to_numpy_with_torchs_gradients():
    N = sp.Symbol("N", integer=True, positive=True)
    x, w = sg.tensor("x", (N, 4, 6, 6)), sg.tensor("w", (4, 1, 3, 3))
    y, W2 = sg.tensor("y", (N,), integer=True), sg.tensor("W2", (64, 3))
    loss = sg.cross_entropy(sg.relu(sg.conv2d(x, w, groups=4)).reshape(N, -1) @ W2, y)
    prog = sg.compile(loss, params=[w, W2], inputs=[x, y], dtype="float64")
    vals = {"w": rng.normal(size=(4, 1, 3, 3)), "W2": rng.normal(size=(64, 3))}
    batch = {"x": rng.normal(size=(5, 4, 6, 6)), "y": np.array([0, 1, 2, 0, 1])}
    got = prog.grad(vals, batch)
    tw, tW = (torch.tensor(vals[k], requires_grad=True) for k in ("w", "W2"))
    o = F.relu(F.conv2d(torch.tensor(batch["x"]), tw, groups=4))
    F.cross_entropy(o.reshape(5, -1) @ tW, torch.tensor(batch["y"])).backward()
    np.testing.assert_allclose(got["w"], tw.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got["W2"], tW.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_constant_arrays_as_indices_name_the_integer_tensor_to_declare():
    """x[np.array([True, False, True])] and x[[0, 2]] died in NumPy ("truth value of an array is
    ambiguous") or with an AttributeError."""
    x = sg.tensor("x", (3, 4))
    _raises(ShapeError, lambda: x[np.array([True, False, True])], "boolean mask", "NumPy array",
            "sg.where(m, x, 0)")
    _raises(ShapeError, lambda: x[[0, 2]], "list of indices", "sg.tensor('idx', (2,), integer=True)")
    _raises(ShapeError, lambda: x[:, np.array([1, 2, 3])], "NumPy array of indices", "(3,)")
    _raises(ShapeError, lambda: x[[[0, 1], [2]]], "list of indices")
