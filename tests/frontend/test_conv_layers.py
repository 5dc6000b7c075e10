"""The convolution and pooling layers at the door: shapes as torch computes them, printing, and bad
input refused with an error that names the layer and the shapes."""
from __future__ import annotations

import pytest
import sympy as sp
import torch
import torch.nn.functional as F

import symgrad as sg
from symgrad.errors import ArgumentError, ShapeError

N = sp.Symbol("N", integer=True, positive=True)


@pytest.mark.parametrize("kw", [dict(), dict(stride=2), dict(padding=(2, 1)), dict(dilation=2, padding=1),
                                dict(stride=(3, 1), padding=1, dilation=(1, 2))])
def test_conv2d_shape_is_torchs(kw):
    x, w = sg.tensor("x", (2, 3, 11, 8)), sg.tensor("w", (5, 3, 3, 2))
    want = F.conv2d(torch.zeros(2, 3, 11, 8), torch.zeros(5, 3, 3, 2), **kw).shape
    assert sg.conv2d(x, w, **kw).shape == tuple(want)


@pytest.mark.parametrize("layer,tfn", [(sg.max_pool2d, F.max_pool2d), (sg.avg_pool2d, F.avg_pool2d)])
@pytest.mark.parametrize("args", [(2,), (3, 2, 1), ((3, 2), (1, 2), (1, 0))])
def test_pool_shape_is_torchs(layer, tfn, args):
    assert layer(sg.tensor("x", (2, 3, 9, 7)), *args).shape == tuple(tfn(torch.zeros(2, 3, 9, 7), *args).shape)


def test_printing_shows_only_what_differs_from_the_defaults():
    x, w, b = sg.tensor("x", (N, 3, 8, 8)), sg.tensor("w", (4, 3, 3, 3)), sg.tensor("b", (4,))
    assert str(sg.conv2d(x, w)) == "conv2d(x, w)"
    assert str(sg.conv2d(x, w, stride=(2, 1), padding=1, dilation=2)) == \
        "conv2d(x, w, stride=(2, 1), padding=1, dilation=2)"
    assert str(sg.conv2d(x, w, b)) == "conv2d(x, w) + b.reshape(4, 1, 1)"
    assert str(sg.max_pool2d(x, 2)) == "max_pool2d(x, 2)"
    assert str(sg.avg_pool2d(x, 3, 2, 1)) == "avg_pool2d(x, 3, stride=2, padding=1)"
    assert sg.conv2d(x, w).free_symbols == {x, w}


def _raises(kind, fn, *words):
    with pytest.raises(kind) as e:
        fn()
    for word in words:
        assert word in str(e.value), (word, str(e.value))


def test_channel_mismatch_names_the_layer_and_both_shapes():
    x, w = sg.tensor("x", (N, 3, 8, 8)), sg.tensor("w", (4, 2, 3, 3))
    _raises(ShapeError, lambda: sg.conv2d(x, w), "conv2d", "channel", "(N, 3, 8, 8)", "(4, 2, 3, 3)")
    _raises(ShapeError, lambda: sg.conv1d(sg.tensor("x", (2, 3, 9)), sg.tensor("w", (4, 1, 3))),
            "conv1d", "channel", "(2, 3, 9)", "(4, 1, 3)")


def test_kernel_larger_than_the_padded_input():
    x = sg.tensor("x", (2, 1, 4, 6))
    _raises(ShapeError, lambda: sg.conv2d(x, sg.tensor("w", (1, 1, 7, 3)), padding=1),
            "conv2d", "(1, 1, 7, 3)", "(2, 1, 4, 6)", "padding 1")
    _raises(ShapeError, lambda: sg.conv2d(x, sg.tensor("w", (1, 1, 3, 3)), dilation=3),
            "conv2d", "dilation 3", "(2, 1, 4, 6)")
    sg.conv2d(x, sg.tensor("w", (1, 1, 6, 3)), padding=1)              # 6 ≤ 4 + 2: fits


@pytest.mark.parametrize("kw,word", [(dict(stride=0), "stride"), (dict(stride=(1, 0)), "stride"),
                                     (dict(padding=-1), "padding"), (dict(dilation=0), "dilation"),
                                     (dict(stride=1.5), "stride"), (dict(stride=(1, 2, 3)), "stride"),
                                     (dict(padding=True), "padding")])
def test_bad_stride_padding_dilation_are_argument_errors(kw, word):
    x, w = sg.tensor("x", (2, 3, 8, 8)), sg.tensor("w", (4, 3, 3, 3))
    _raises(ArgumentError, lambda: sg.conv2d(x, w, **kw), "conv2d", word)


def test_pool_window_that_does_not_fit():
    x = sg.tensor("x", (2, 3, 4, 9))
    _raises(ShapeError, lambda: sg.max_pool2d(x, 5), "max_pool2d", "(5, 5)", "(2, 3, 4, 9)")
    _raises(ShapeError, lambda: sg.avg_pool2d(x, (3, 10)), "avg_pool2d", "(3, 10)", "(2, 3, 4, 9)")
    _raises(ArgumentError, lambda: sg.max_pool2d(x, 2, padding=2), "max_pool2d", "half the kernel")
    _raises(ArgumentError, lambda: sg.max_pool2d(x, 2, stride=0), "max_pool2d", "stride")
    _raises(ArgumentError, lambda: sg.avg_pool2d(x, 0), "avg_pool2d", "kernel")


def test_wrong_ranks_and_bias():
    _raises(ShapeError, lambda: sg.conv2d(sg.tensor("x", (2, 3, 8)), sg.tensor("w", (4, 3, 3, 3))),
            "conv2d", "(N, C, H, W)", "(2, 3, 8)")
    _raises(ShapeError, lambda: sg.conv2d(sg.tensor("x", (2, 3, 8, 8)), sg.tensor("w", (4, 3, 3))),
            "conv2d", "(F, C, HH, WW)")
    _raises(ShapeError, lambda: sg.conv2d(sg.tensor("x", (2, 3, 8, 8)), sg.tensor("w", (4, 3, 3, 3)),
                                          sg.tensor("b", (3,))), "conv2d", "bias", "(4,)")
    _raises(ShapeError, lambda: sg.conv2d(sg.tensor("x", (2, N, 8, 8)), sg.tensor("w", (4, 3, 3, 3))),
            "conv2d", "integers")
