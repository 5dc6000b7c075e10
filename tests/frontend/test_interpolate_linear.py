"""sg.interpolate with mode="linear" / "bilinear" / "trilinear" against torch's F.interpolate in
float64: the loss and the gradient by torch.autograd (and central differences), size= and
scale_factor= forms, align_corners False and True, up- and downsampling; a mode symgrad does not
have is refused naming those it has."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import ArgumentError, ShapeError
from torch_port import compare_with_torch

torch = pytest.importorskip("torch")
F = torch.nn.functional

CASES = [   # (mode, input shape, interpolate's keywords)
    ("bilinear", (2, 2, 3, 4), dict(scale_factor=2)),
    ("bilinear", (2, 2, 3, 4), dict(scale_factor=2, align_corners=True)),
    ("bilinear", (1, 2, 4, 5), dict(size=(7, 3))),                       # up on H, down on W
    ("bilinear", (1, 2, 4, 5), dict(size=(7, 3), align_corners=True)),
    ("bilinear", (1, 1, 5, 4), dict(scale_factor=(1.5, 0.5))),           # the step is 1/scale, not S/O
    ("bilinear", (1, 1, 5, 3), dict(scale_factor=1.7, recompute_scale_factor=True)),
    ("bilinear", (1, 1, 1, 3), dict(size=(3, 1), align_corners=True)),   # a size-1 axis, a size-1 output
    ("linear", (2, 3, 5), dict(size=9)),
    ("linear", (2, 3, 5), dict(scale_factor=0.6, align_corners=False)),
    ("trilinear", (1, 1, 2, 3, 2), dict(size=(3, 4, 5), align_corners=True)),
]


@pytest.mark.parametrize("mode, shape, kw", CASES, ids=[f"{m}-{s}-{k}" for m, s, k in CASES])
def test_forward_and_gradient_match_torch(mode, shape, kw):
    """A batch of inputs x times a parameter w of one example's shape, resized: ∂/∂w is the
    transposed map applied to the output's gradient, entry by entry (checked against torch.autograd
    and central differences)."""
    rng = np.random.default_rng(len(shape) + sum(shape))
    N = sp.Symbol("N", integer=True, positive=True)
    x, w = sg.tensor("x", (N,) + shape[1:]), sg.tensor("w", shape[1:])
    out_shape = tuple(F.interpolate(torch.zeros(shape, dtype=torch.float64), mode=mode, **kw).shape)
    out = sg.interpolate(x * w, mode=mode, **kw)
    assert tuple(out.shape) == (N,) + out_shape[1:]
    c = sg.tensor("c", out_shape[1:])
    loss = sg.sum(out * c) + sg.sum(out ** 2) / 2          # a gradient that depends on w itself too
    vals, data = {"w": rng.normal(size=shape[1:])}, {"x": rng.normal(size=shape), "c": rng.normal(size=out_shape[1:])}

    def twin(t, d):
        o = F.interpolate(d["x"] * t["w"], mode=mode, **kw)
        return (o * d["c"]).sum() + (o ** 2).sum() / 2
    compare_with_torch(torch, (loss, [w], [x, c], vals, data, twin), rng)


def test_the_matrix_is_constant_and_the_gradient_is_its_transpose():
    """The map along an axis is a fixed (O, S) matrix: its rows sum to 1 (an average of neighbours),
    and ∂/∂x of sum(interpolate(x) * c) is the transposed map applied to c."""
    from symgrad.frontend.resize_linear import resize_matrix
    A = np.asarray(sg.numeric(resize_matrix(4, 7, False), {}), dtype=float)
    assert A.shape == (7, 4)
    np.testing.assert_allclose(A.sum(axis=1), 1, atol=1e-15)
    eye = torch.eye(4, dtype=torch.float64).reshape(4, 1, 4)          # torch's map, column by column
    want = F.interpolate(eye, size=7, mode="linear").reshape(4, 7).T.numpy()
    np.testing.assert_allclose(A, want, atol=1e-15)


@pytest.mark.parametrize("call, kind, words", [
    (lambda x: sg.interpolate(x, scale_factor=2, mode="bicubic"), ArgumentError,
     ["mode='bicubic' is not supported", "'bilinear'", "'linear'", "'nearest'"]),
    (lambda x: sg.interpolate(x, scale_factor=2, mode="area"), ArgumentError, ["mode='area'", "supported"]),
    (lambda x: sg.interpolate(x, scale_factor=0.5, mode="bilinear", antialias=True), ArgumentError,
     ["antialias=True", "antialias=False"]),
    (lambda x: sg.interpolate(x, scale_factor=2, mode="linear"), ShapeError,
     ["mode='linear' takes an input with 1 spatial axes", "mode='bilinear'"]),
    (lambda x: sg.interpolate(x, scale_factor=2, mode="bilinear", align_corners="yes"), ArgumentError,
     ["align_corners must be True, False or None"]),
    (lambda x: sg.interpolate(x, scale_factor=0, mode="bilinear"), ArgumentError, ["positive number"]),
    (lambda x: sg.interpolate(x, scale_factor=0.1, mode="bilinear"), ArgumentError, ["leaves no entry"]),
    (lambda x: sg.interpolate(x, mode="bilinear"), ArgumentError, ["exactly one of size= and scale_factor="]),
    (lambda x: sg.interpolate(x, size=(0, 3), mode="bilinear"), ArgumentError, ["positive integers"]),
    (lambda x: sg.interpolate(x, scale_factor=2, align_corners=True), ArgumentError,
     ["align_corners and antialias are for the linear modes"]),
])
def test_unsupported_input_is_refused_naming_what_is_supported(call, kind, words):
    with pytest.raises(kind) as e:
        call(sg.tensor("x", (2, 3, 4, 5)))
    for w in words:
        assert w in str(e.value), str(e.value)
