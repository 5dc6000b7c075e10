"""What a torch port writes that symgrad does not run: each refused before anything is compiled,
with an error that names the argument and what to write instead (never a silent difference)."""
from __future__ import annotations

import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import ArgumentError, ShapeError

N = sp.Symbol("N", integer=True, positive=True)
x4 = sg.tensor("x", (N, 3, 4, 4))
s2, y = sg.tensor("s", (N, 5)), sg.tensor("y", (N,), integer=True)


@pytest.mark.parametrize("call, kind, words", [
    (lambda: sg.nll_loss(s2, y, ignore_index="pad"), ArgumentError, ["ignore_index must be a Python integer"]),
    (lambda: sg.cross_entropy(s2, y, weight=sg.tensor("w", (4,))), ShapeError, ["weight w", "(5,)"]),
    (lambda: sg.cross_entropy(s2, y, weight=[1.0, 2.0]), ArgumentError, ["5 numbers"]),
    (lambda: sg.cross_entropy(s2, sg.tensor("p", (N, 5)), weight=[1.0] * 5), ArgumentError,
     ["integer labels", "t * w"]),
    (lambda: sg.embedding(sg.tensor("E", (9, 4)), y, padding_idx=9), ArgumentError,
     ["padding_idx=9", "9 rows", "-9 … 8"]),
    (lambda: sg.embedding(sg.tensor("E", (9, 4)), y, padding_idx=1.0), ArgumentError,
     ["padding_idx must be an integer"]),
    (lambda: sg.interpolate(x4, scale_factor=2, mode="bicubic"), ArgumentError,
     ["mode='bicubic'", "'nearest'", "'bilinear'", "conv_transpose2d"]),
    (lambda: sg.interpolate(x4, scale_factor=1.5), ArgumentError, ["scale_factor", "whole number", "1.5"]),
    (lambda: sg.interpolate(x4, size=(6, 8)), ArgumentError, ["size=(6, 8)", "whole multiples"]),
    (lambda: sg.interpolate(x4), ArgumentError, ["exactly one of size= and scale_factor="]),
    (lambda: sg.pad(x4, (1, 1), mode="edge"), ArgumentError, ["mode='edge'", "'reflect'", "'replicate'"]),
    (lambda: sg.pad(x4, (4, 0), mode="reflect"), ShapeError, ["at most 3", "axis 3"]),
    (lambda: sg.pad(x4, (1,)), ArgumentError, ["even number", "last axis"]),
    (lambda: sg.pad(x4, (0, 0, 0, 0, 0, 0, 1, 1)), ShapeError, ["symbolic size N"]),
    (lambda: sg.pad(x4, (-2, -2)), ShapeError, ["crop all of axis 3"]),
    (lambda: sg.conv2d(x4, sg.tensor("w", (2, 3, 3, 3)), stride=2, padding="same"), ArgumentError,
     ["padding='same' needs stride=1"]),
    (lambda: sg.conv2d(x4, sg.tensor("w", (2, 3, 3, 3)), padding="full"), ArgumentError, ["'same' or 'valid'"]),
    (lambda: sg.conv_transpose2d(x4, sg.tensor("w", (3, 2, 3, 3)), stride=2, output_padding=2), ArgumentError,
     ["output_padding", "smaller than the stride"]),
    (lambda: sg.conv_transpose2d(x4, sg.tensor("w", (2, 3, 3, 3))), ShapeError,
     ["first axis", "(C_in, C_out/groups, HH, WW)"]),
    (lambda: sg.conv_transpose2d(x4, sg.tensor("w", (3, 2, 3, 3)), padding="same"), ArgumentError,
     ["padding='same' is not supported"]),
    (lambda: sg.batch_norm(x4, sg.tensor("rm", (3,)), sg.tensor("rv", (3,)), training=True), ArgumentError,
     ["running_mean=None", "updates them in place"]),
    (lambda: sg.batch_norm(x4), ArgumentError, ["training=False", "running_mean and running_var"]),
    (lambda: sg.cumsum(s2, axis=0), ShapeError, ["symbolic size N", "fixed size"]),
    (lambda: s2.gather(1, sg.tensor("i", (N,), integer=True)), Exception, ["1 axes", "2"]),
    (lambda: sg.adaptive_avg_pool2d(x4, (2, 0)), ArgumentError, ["positive integers"]),
    (lambda: sg.dropout(s2, 0.5, training="no"), ArgumentError, ["training"]),
])
def test_refused_with_the_workaround_named(call, kind, words):
    with pytest.raises(kind) as e:
        call()
    for w in words:
        assert w in str(e.value), (w, str(e.value))


def test_nll_loss_of_log_softmax_is_cross_entropy():
    # the two spellings are one loss: the same expression after lowering, here compared as values
    import numpy as np
    W = sg.tensor("W", (5, 5))
    prog_a = sg.compile(sg.nll_loss(sg.log_softmax(s2 @ W, axis=1), y), [W], [s2, y], dtype="float64")
    prog_b = sg.compile(sg.cross_entropy(s2 @ W, y), [W], [s2, y], dtype="float64")
    rng = np.random.default_rng(3)
    v, d = {"W": rng.normal(size=(5, 5))}, {"s": rng.normal(size=(4, 5)), "y": rng.integers(0, 5, 4)}
    assert abs(prog_a.loss(v, d) - prog_b.loss(v, d)) < 1e-12
    np.testing.assert_allclose(prog_a.grad(v, d)["W"], prog_b.grad(v, d)["W"], rtol=1e-12, atol=1e-14)


def test_dropout_in_eval_mode_is_the_identity_and_adaptive_global_pool_is_a_mean():
    h = sg.tensor("h", (N, 4))
    assert sg.dropout(h, 0.5, training=False) == h
    assert sg.adaptive_avg_pool2d(x4, 1) == x4.mean(axis=(2, 3), keepdims=True)
    assert sg.adaptive_max_pool2d(x4, (1, 1)) == x4.max(axis=(2, 3), keepdims=True)
    assert sg.adaptive_avg_pool2d(x4, 2) == sg.avg_pool2d(x4, 2)


def test_torchs_max_pair_and_one_hot_num_classes():
    import numpy as np
    x = sg.tensor("x", (N, 4))
    assert x.max(axis=1).values == x.max(axis=1)
    assert x.min(axis=1).values == x.min(axis=1)
    rng = np.random.default_rng(4)
    X = rng.normal(size=(5, 4))
    X[0, 1] = X[0, 3] = X[0].max() + 1                   # a tie: the first arg-max, as torch
    np.testing.assert_array_equal(sg.numeric(x.max(axis=1).indices, {"x": X}), X.argmax(axis=1))
    np.testing.assert_array_equal(sg.numeric(x.min(axis=1).indices, {"x": X}), X.argmin(axis=1))
    with pytest.raises(AttributeError, match="only a max or min"):
        x.sum(axis=1).values
    y = sg.tensor("y", (N,), integer=True)
    assert sg.one_hot(y, num_classes=3) == sg.one_hot(y, 3)
    for call in (lambda: sg.one_hot(y), lambda: sg.one_hot(y, -1)):
        with pytest.raises(ArgumentError, match="num_classes=n"):
            call()


def test_a_structural_comparison_in_arithmetic_is_refused_naming_sp_ne():
    # (ids != 0) * x in torch is a mask; here != of two expressions is SymPy's structural one, the
    # Python bool True: it was x * True, refused only at compile time, naming neither == nor the fix
    ids, x = sg.tensor("ids", (N, 4), integer=True), sg.tensor("x", (N, 4))
    for call in (lambda: (ids != 0) * x, lambda: x * (ids == 0), lambda: x + (ids != 0)):
        with pytest.raises(ArgumentError, match=r"sp\.Ne\(ids, 0\) \* x"):
            call()
    assert str(sp.Ne(ids, 0) * x) == str(sg.where(sp.Ne(ids, 0), 1, 0) * x)


def test_torchs_dtype_casts():
    import numpy as np
    y, s = sg.tensor("y", (N, 3), integer=True), sg.tensor("s", (N, 3))
    assert s.float() is s and s.double() is s and y.long() is y and y.int() is y
    assert not y.float().is_integer_tensor                 # labels as reals: a target for bce
    Y = np.array([[0, 1, 1], [1, 0, 0]])
    np.testing.assert_array_equal(sg.numeric(y.float() * 2, {"y": Y}), 2.0 * Y)
    with pytest.raises(sg.IntegerTensorError, match="rounding to integers has no gradient"):
        s.long()


def test_cross_entropy_of_n_c_t_logits_names_torchs_class_axis():
    # torch's F.cross_entropy takes the classes on dim 1, symgrad's on the last axis: (N, 4, 4) logits
    # with (N, 4) labels fit both and give different losses — refused, asking for the axis
    s, y = sg.tensor("s", (N, 4, 4)), sg.tensor("y", (N, 4), integer=True)
    with pytest.raises(ArgumentError, match="pass axis=1 or axis=-1"):
        sg.cross_entropy(s, y)
    assert sg.cross_entropy(s, y, axis=1) != sg.cross_entropy(s, y, axis=-1)
    with pytest.raises(ShapeError, match="torch's F.cross_entropy takes the classes on axis 1: pass axis=1"):
        sg.cross_entropy(sg.tensor("s5", (N, 4, 5)), sg.tensor("y5", (N, 5), integer=True))
    assert sg.cross_entropy(sg.tensor("s5", (N, 4, 5)), sg.tensor("y4", (N, 4), integer=True)).shape == ()
