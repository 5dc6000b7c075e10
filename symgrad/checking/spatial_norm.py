"""Spatial batch norm as the hints recognise it — one recogniser, for every hint that names its slips.

cs231n's spatial_batchnorm_forward normalises x (N, C, H, W) per channel: its statistics average over
the N·H·W entries of each channel. A declaration writes them over axes (0, 2, 3) of x, or as the
forward computes them, over axis 0 of the rows ``x.transpose(0, 2, 3, 1).reshape(-1, C)`` (one
position's C channels a row; any order of N, H and W before the channels reads the same).
"""
from __future__ import annotations


def rows_of(e):
    """w where ``e`` is w.transpose(...).reshape(...) of a tensor w (a norm layer's rows), else None."""
    from ..frontend import tensor as T
    if isinstance(e, T.Reshape) and isinstance(e.args[0], T.Permute) and isinstance(e.args[0].args[0], T.Tensor):
        return e.args[0].args[0]
    return None


def spatial_input(v):
    """The (N, C, H, W) input whose per-channel statistics the variance (or mean) ``v`` is: ``v.x``
    for statistics over its axes (0, 2, 3); x for statistics over axis 0 of the rows of x with the
    batch axis first and the channels last (cs231n's ``x.transpose(0, 2, 3, 1).reshape(-1, C)``);
    None otherwise."""
    if len(v.x.shape) == 4 and tuple(v.axes) == (0, 2, 3):
        return v.x
    x = rows_of(v.x)
    if x is None or len(v.x.shape) != 2 or tuple(v.axes) != (0,) or len(x.shape) != 4:
        return None
    perm = tuple(int(a) for a in v.x.args[0].args[1])
    return x if perm[0] == 0 and perm[-1] == 1 and v.x.shape[1] == x.shape[1] else None
