"""The one recogniser of spatial batch norm's statistics (symgrad/checking/spatial_norm.py), which the
count hint and the channels-reshape hint both ask: over axes (0, 2, 3) of x, or over axis 0 of x's
rows with the channels last; not a layer norm's rows nor a batch norm of 2-d x."""

import symgrad as sg
from symgrad.checking.hint_case import _variances
from symgrad.checking.norm_dx_hints import _as_axes
from symgrad.checking.spatial_norm import spatial_input


def _var(v):
    (node, _, _), = _variances(v)
    return node


def test_spatial_statistics_are_found_in_each_way_a_forward_writes_them():
    x = sg.tensor("x", (4, 3, 2, 5))
    assert spatial_input(_var(x.var(axis=(0, 2, 3)))) == x
    assert spatial_input(_var(x.transpose(0, 2, 3, 1).reshape(-1, 3).var(axis=0))) == x
    assert spatial_input(_var(x.transpose(0, 3, 2, 1).reshape(-1, 3).var(axis=0))) == x
    assert spatial_input(_var(x.transpose(0, 2, 3, 1).reshape(-1, 3).var(axis=1))) is None   # per row
    assert spatial_input(_var(x.reshape(-1, 3).var(axis=0))) is None          # no transpose: not rows
    assert spatial_input(_var(x.var(axis=(1, 2, 3)))) is None                 # layer norm's axes
    assert spatial_input(_var(sg.tensor("z", (4, 3)).var(axis=0))) is None


def test_a_count_that_two_sets_of_axes_give_says_both():
    x = sg.tensor("x", (4, 3, 2, 2))
    assert _as_axes(x, 4) == " (x.shape[0])"
    assert _as_axes(x, 4, readings=[(0,), (2, 3)]) == " (x.shape[0], or x.shape[2] * x.shape[3]: equal here)"
    assert _as_axes(x, 4, readings=[(2, 3)]) == " (x.shape[2] * x.shape[3])"
    assert _as_axes(x, 7) == ""
