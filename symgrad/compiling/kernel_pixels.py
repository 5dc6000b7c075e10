"""Per-pixel losses on a map kept as rows, for the kernel backends (`kernel_conv.Grid`).

A segmentation head ends in a map of C class scores at every position, and its loss is a mean over
the positions of a per-position loss; a denoiser's or a mask's compares the map with a target image
entry by entry. On a map kept as its rows (row p: the column of the F channels at position p, one
per example) each is a reduction of a row, or an elementwise operation of rows, then a sum of P
numbers:

    sg.cross_entropy(z, y, axis=1)      at each p: logsumexp(row_p) − gather(row_p, y_p), the label
    (labels y (N, H, W))                y_p loaded from the example's labels at offset p and checked
                                        on the device as a class label (`_labels`, `_channel_sum`)
    sg.softmax / log_softmax(z, axis=1) logsumexp of each row (a number per position)
    f(h, t), t an input (N, C, H, W)    the target read as rows: 1×1 windows of it (`_image_rows`)
    Σ over the channels                 1ᵀ·row_p, a product with a row of ones (a map of one channel)
    Σ over every entry, mean            the sum of the rows' numbers: a number per example

so the loss is P row reductions and a sum in the rows kernel, and reverse mode gives each row's
gradient (softmax(row_p) − e_{y_p}, divided by N·H·W) back to the convolution that made it.
`kernel_form.AsColumns` hands `of_map` every equation that reads a map or the image first; what is
not a per-pixel form goes on to `kernel_resize.of_image` (and from there to `kernel_conv`).
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from ..core import rules as R
from ..core.ir import format_shape
from . import kernel_conv as KC
from . import kernel_resize as KR

ph = R.ph


class Labels(KC.Grid):
    """one_hot(y) of per-pixel labels y (H, W): a grid whose row p is [c = y_p] for c = 0 … C − 1, and
    ``at[p]`` the label y_p itself (one integer per example, loaded at offset p of the labels' row)."""

    def __init__(self, lead, F, S, rows, at):
        super().__init__(lead, F, S, rows)
        self.at = at


class Picked(KC.Grid):
    """z ⊙ one_hot(y) of a map z and per-pixel labels: its rows are the products, and ``picks[p]`` is
    (row_p of z, y_p), which a sum over the channels reads as gather(row_p, y_p) (the label checked on
    the device), as `kernel_form` reads Σ_c z_c · one_hot(y)_c of a vector."""

    def __init__(self, lead, F, S, rows, picks):
        super().__init__(lead, F, S, rows)
        self.picks = picks


def of_map(ac, e):
    """Equation ``e`` of `kernel_form.AsColumns` ``ac`` that reads a map, the image or per-pixel labels."""
    name = e.prim.name
    if name == "one_hot" and e.inputs[0].id in ac.bags:
        return _labels(ac, e)
    if name == "reshape" and e.inputs[0].id in ac.bags:     # labels (H, W) read as (1, H, W): the same row
        ac.bags[e.out.id] = ac.bags[e.inputs[0].id]
        return ac.env[e.inputs[0].id]
    if name not in ("matmul", "reshape"):
        _lines_as_map(ac, e)
    if any(isinstance(ac.grids.get(u.id), KR.Mixed) for u in e.inputs) and name in ("lse", "rsum", "sum", "ewise"):
        KR._solidify(ac, e)
    if name == "ewise" and _reads_a_target(ac, e):
        return _ewise(ac, e)
    if name in ("lse", "rsum", "sum") and isinstance(ac.grids.get(e.inputs[0].id), KC.Grid) \
            and _over_channels(ac.grids[e.inputs[0].id], e):
        return _channel_reduction(ac, e)
    return KR.of_image(ac, e)


def labels_reshaped(ac, e) -> bool:
    """``e`` is a reshape of an example's labels (H, W) (a matrix per example, `ac.bags`) that only adds
    or drops unit axes, read by one_hot (a per-example declaration's y.reshape(1, H, W))."""
    if e.prim.name != "reshape" or e.inputs[0].id not in ac.bags:
        return False
    nonunit = lambda shape: [int(d) for d in shape if int(d) != 1]      # noqa: E731
    return nonunit(e.out.shape) == nonunit(e.inputs[0].shape) and \
        any(r.prim.name == "one_hot" for r in ac.src.eqns if any(i.id == e.out.id for i in r.inputs))


# ---------------------------------------------------------------------------------------------------
# operands


def _lines_as_map(ac, e) -> None:
    """A map of one channel reshaped to (H, W) (its channels' axis dropped: the per-position losses
    of `sg.cross_entropy(z, y, axis=1)` read so) is also its lines (`kernel_resize.Lines`, which only a
    resize along W and a reshape read); for any other reader it is the map of H·W numbers."""
    for u in e.inputs:
        src = ac.grids.get(u.id)
        if isinstance(src, KR.Lines) and src.grid.F == 1:
            grid = KR._solid(ac, e, src.grid) if isinstance(src.grid, KR.Mixed) else src.grid
            ac.grids[u.id] = KC.Grid(-1, 1, tuple(grid.S), grid.rows)


def _labels(ac, e):
    """one_hot(y, C) of an example's labels (H, W) (a matrix per example, kept as its row in memory):
    row p is [c = y_p], y_p the entry p of the labels' row."""
    (u,) = e.inputs
    n, axis = int(e.params[0]), e.params[1]
    shape = tuple(int(d) for d in u.shape)
    S = shape[axis:]            # (the classes' axis at ``axis``: the map's channels, after unit axes only)
    x = ac.env[u.id]
    if any(d != 1 for d in shape[:axis]) or int(np.prod(S)) > KC.MAX_POSITIONS:
        raise KC.refuse(ac, e, f"one_hot of labels {format_shape(S)} per example with the classes on another axis "
                               f"than the map's channels (axis=1 over the batch), or more than {KC.MAX_POSITIONS} "
                               f"labels per example")
    iota = R.const(ac.g, sp.ImmutableMatrix(n, 1, lambda i, j: i), (n, 1))
    rows, at = {}, {}
    for p, key in enumerate(np.ndindex(*S)):
        at[key] = ac._entry(x, p)
        ac.new_notes.setdefault(at[key].id, f"= the label at position {key}")
        rows[key] = R.ewise(ac.g, sp.KroneckerDelta(ph(0), ph(1)), at[key], iota, shape=(n, 1))
    return KC._stand_in(ac, e, Labels(axis, n, S, rows, at))


def _image_rows(ac, e, u) -> KC.Grid:
    """Operand ``u`` of ``e`` as a grid: a map as it is, an input image (a target) as rows."""
    src = ac.grids[u.id]
    return KR._image_grid(ac, e, src, u.shape) if isinstance(src, KC.Image) else src


def _reads_a_target(ac, e) -> bool:
    """``e`` combines a map with an input image (a target), or with per-pixel labels."""
    kinds = [ac.grids.get(u.id) for u in e.inputs]
    maps = [s for s in kinds if isinstance(s, KC.Grid)]
    return (bool(maps) and any(isinstance(s, (KC.Image, Labels)) for s in kinds)) or \
        any(isinstance(s, Picked) for s in maps)


def _ewise(ac, e):
    """An elementwise operation of a map with a target image or labels, row by row (`kernel_conv`'s
    rule, with the target read as rows); z ⊙ one_hot(y) keeps the rows of z and the labels."""
    grids = {u.id: _image_rows(ac, e, u) for u in e.inputs if u.id in ac.grids}
    stand_in = KC._ewise(ac, e, grids)
    labels = next((s for s in grids.values() if isinstance(s, Labels)), None)
    if labels is not None and e.params[0] == ph(0) * ph(1) and len(grids) == 2:
        z, out = next(s for s in grids.values() if s is not labels), ac.grids[e.out.id]
        ac.grids[e.out.id] = Picked(out.lead, out.F, out.S, out.rows,
                                    {k: (z.rows[k], labels.at[k]) for k in out.keys()})
    return stand_in


# ---------------------------------------------------------------------------------------------------
# reductions over the channels


def _over_channels(grid: KC.Grid, e) -> bool:
    """Reduction ``e`` of ``grid`` takes in its channels' axis (a map without one: always)."""
    return grid.lead < 0 or grid.lead in _axes(grid, e)


def _axes(grid, e) -> set:
    """The axes of ``grid``'s shape that reduction ``e`` (sum, rsum or lse) takes in."""
    if e.prim.name == "sum":
        return set(range(len(grid.shape))) if e.params[0] is None else {e.params[0]}
    return set(e.params[0]) if e.prim.name == "rsum" else {e.params[0]}


def _ones_row(ac, F: int):
    """The constant (1, F) row of ones, one per F (`ac.selections`), that sums a row's channels."""
    key = ("ones", F)
    if key not in ac.selections:
        ac.selections[key] = R.const(ac.g, sp.ImmutableMatrix(1, F, lambda i, j: 1), (1, F))
        ac.new_notes[ac.selections[key].id] = f"= a row of {F} ones (a sum over the channels)"
    return ac.selections[key]


def _as_column(ac, v):
    """A row's reduction as the (1, 1) column a grid's row is (a logsumexp or a gather is a scalar)."""
    return ac.as_shape(v, (1, 1), None) if tuple(v.shape) == () else v


def _channel_reduction(ac, e):
    """A sum or log-sum-exp over the channels of a map: one number per position (a row reduction of
    each row: Σ_c, logsumexp, or gather at the label for Σ_c z_c · one_hot(y)_c), then a sum over the
    spatial axes also reduced (every entry: a number per example)."""
    g, grid = ac.g, ac.grids[e.inputs[0].id]
    if any(r is None for r in grid.rows.values()) or len(grid.rows) != len(grid.keys()):
        raise KC.refuse(ac, e, "a reduction over the channels of a padded pooling's windows")
    picks = grid.picks if isinstance(grid, Picked) and e.prim.name != "lse" else None
    rows = {}
    for k in grid.keys():
        r = grid.rows[k]
        if e.prim.name == "lse":
            v = R.logsumexp(g, r) if grid.F > 1 else r
        elif picks is not None:
            v = R.gather(g, *picks[k]) if grid.F > 1 else r
        else:       # 1ᵀ·row, a product (its VJP 1·ḡ a product too, which a convolution's weight gradient
            #         takes as a δ; a row sum's VJP, ḡ broadcast, it does not)
            v = R.matmul(g, _ones_row(ac, grid.F), r) if grid.F > 1 else r
        rows[k] = _as_column(ac, v)
    axes = _axes(grid, e)
    spatial = {a - grid.lead - 1 for a in axes if a != grid.lead}     # (all of them without a channel axis)
    out_shape = tuple(int(d) for d in e.out.shape)
    if e.prim.name == "lse" and spatial:
        raise KC.refuse(ac, e, "a log-sum-exp over the channels and the positions of a map together")
    if spatial:
        S = tuple(1 if i in spatial else d for i, d in enumerate(grid.S))
        summed = {}
        for key in np.ndindex(*S):
            parts = [rows[at] for at in grid.keys() if all(at[i] == key[i] for i in range(len(S)) if i not in spatial)]
            summed[key] = parts[0] if len(parts) == 1 else \
                R.ewise(g, sp.Add(*[ph(i) for i in range(len(parts))]), *parts, shape=(1, 1))
        rows, grid = summed, KC.Grid(grid.lead, 1, S, summed)
        if len(summed) == 1 and sum(d != 1 for d in out_shape) == 0:    # every entry: a number per example
            return ac.as_shape(next(iter(summed.values())), ac.column_shape(out_shape), e)
    S = tuple(grid.S)
    if out_shape == (1,) * (grid.lead + 1) + S:
        return KC._stand_in(ac, e, KC.Grid(grid.lead, 1, S, rows))
    # the channels' axis dropped (keepdims=False): a map of one number per position and no channel axis
    return KC._stand_in(ac, e, KC.Grid(-1, 1, out_shape, dict(zip(np.ndindex(*out_shape), rows.values(), strict=True))))
