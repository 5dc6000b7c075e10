"""Resizing and re-reading a map kept as rows, for the kernel backends (`kernel_conv`; `of_image`
takes an equation that reads a map first, and hands `kernel_conv` what is not a resize's).

``sg.interpolate(h, size=..., mode="bilinear")`` (`symgrad.frontend.resize_linear`) is a constant
matrix along each spatial axis: ``A_H @ h`` along H (a batched product with the constant broadcast
over the channels) and ``h @ A_Wᵀ`` along W (lowered as ``h.reshape(C·H, W) @ A_Wᵀ``). On a map kept
as its rows (`kernel_conv.Grid`: a column of the F channels at each position) both are weighted sums
of rows with constant weights, known when compiling:

    A_H @ h       row (o, w) = Σ_h A_H[o, h] · row (h, w)
    h @ B         row (h, o) = Σ_w B[w, o] · row (h, w)        (B = A_Wᵀ)

The two are composed (`Mixed`: the weights of the map's rows, no row made) into one elementwise
equation of at most four rows per position, made when something else reads the map, so the resized
map is a grid like any other: a convolution, an elementwise function, pooling, or a flatten and a
dense layer read it, and reverse mode sends each row's gradient back with the same weights (no
scatter). ``h.reshape(C·H, W)`` of a grid is `Lines` (the same rows, read as a matrix per example
whose rows are the (channel, h) pairs), which only a product with a constant on the right and a
reshape back to the map or to a vector read. A weight that is not a constant (a parameter: a
learned mixing of the positions) is refused, naming the product.

Also here, the same kind of re-reading of a map's rows:

    nearest upsampling     a broadcast along spatial axes of size 1 (`expand`): the rows repeated
    the input image        read as rows, 1×1 windows (`kernel_conv.patch`: its VJP gives the image's
                           gradient) of its C channels at each position (`_image_grid`)
    sg.concat(axis=1)      maps of the same positions, their channels one after the other (`concat`)
    h.reshape(N, C, H, W)  an example's vector as a map, row p its entries c·P + p (`vector_as_map`)
    f(h.reshape(N, -1))    an elementwise function (a dropout) of a flattened map (`flat_ewise`)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from ..core import rules as R
from ..core.evaluate import evaluate
from ..core.ir import format_shape
from ..errors import UnsupportedError
from . import kernel_conv as KC


@dataclass
class Lines:
    """A grid (lead, F, (H, W)) read as the (F·H, W) matrix of its lines (one per channel and h)."""
    grid: KC.Grid


@dataclass
class Mixed:
    """A resized map not made yet: at each position the weights of the rows of ``base`` it sums
    (``forms[key]``: base key -> weight). A resize along H then W composes into one weighted sum of
    at most four of the base's rows per position, with no intermediate rows (each would be a value
    the rows kernel keeps); `_solid` makes the rows when anything else reads the map."""
    lead: int
    F: int
    S: tuple
    base: KC.Grid
    forms: dict

    @property
    def shape(self) -> tuple:
        return (1,) * self.lead + (self.F,) + tuple(self.S)


def _keep(ac, e, value):
    """``value`` (a Mixed map) as what ``e`` makes; a stand-in var (readers go through ``ac.grids``)."""
    ac.grids[e.out.id] = value
    return next(iter(value.base.rows.values()))


def _solid(ac, e, m: Mixed) -> KC.Grid:
    """The rows of the resized map ``m``: each a weighted sum of the base's rows (`_mix`)."""
    rows = {}
    for key, form in m.forms.items():
        parts = [(w, m.base.rows[k]) for k, w in form.items()]
        row = _mix(ac, parts, m.F)
        if row is None:
            raise KC.refuse(ac, e, f"a resize whose output position {key} reads no entry (a weight row of zeros)")
        if all(row is not r for _, r in parts):        # (a row taken as it is keeps its own words)
            ac.new_notes.setdefault(row.id, f"= the resized map at position {key} (sg.interpolate)")
        rows[key] = row
    return KC.Grid(m.lead, m.F, m.S, rows)


def _solidify(ac, e) -> None:
    """Make the rows of every resized map ``e`` reads, for readers other than a resize."""
    for u in e.inputs:
        src = ac.grids.get(u.id)
        if isinstance(src, Mixed):
            ac.grids[u.id] = _solid(ac, e, src)
        elif isinstance(src, Lines) and isinstance(src.grid, Mixed):
            ac.grids[u.id] = Lines(_solid(ac, e, src.grid))


def _constant(ac, v):
    """The value of ``v`` of the source graph as an array when it depends on no parameter or input
    (the resize's weights), else None."""
    eqns = ac.src.ancestors([v])
    if any(u.prim is R.param_p or u.prim is R.input_p for u in eqns):
        return None
    return np.asarray(evaluate(ac.src, [v], {})[0], dtype=float)


def _matrix(ac, e, v, rows: int, cols: int):
    """The (rows, cols) constant matrix that ``v`` holds, the same for every leading index (it is
    broadcast over the channels); an error naming the product otherwise."""
    value = _constant(ac, v)
    if value is not None:
        value = value.reshape((-1,) + value.shape[-2:]) if value.ndim >= 2 else None
    if value is None or value.shape[1:] != (rows, cols) or np.any(value != value[:1]):
        raise KC.refuse(ac, e, "a matrix product of a convolution's map with a value that is not a constant "
                               "matrix (sg.interpolate's linear resizing is one: a constant per spatial axis)")
    return value[0]


def _image_grid(ac, e, img, shape) -> KC.Grid:
    """The image input (C, H, W) per example, viewed with ``shape`` (a reshape of it), as rows: the
    column of its C channels at each position p, the slice x[p :: P] of the example's row (P = H·W)."""
    sym, (numel, _) = ac.g.producer[img.x.id].params
    C = int(sym.shape[-3])
    P = numel // C
    j = KC.channel_axis(shape, C, P)
    if j is None:
        raise KC.refuse(ac, e, f"a view of the input image as {format_shape(shape)}")
    S = tuple(int(d) for d in shape[j + 1:])
    _positions(ac, e, S, "the input image")
    H, W = (int(d) for d in sym.shape[-2:])
    rows = {key: KC.patch(ac.g, img.x, (C, H, W), (1, 1), divmod(at, W), (1, 1))
            for at, key in enumerate(np.ndindex(*S))}
    return KC.Grid(j, C, S, rows)


def expand(ac, e):
    """A map (or the image) repeated along spatial axes of size 1 (sg.interpolate's nearest
    upsampling: (C, H, 1, W, 1) → (C, H, 2, W, 2), then a reshape to (C, 2H, 2W)): each position's row
    is the row it repeats, so the gradient of a row adds up those of its copies (reverse mode)."""
    (u,) = e.inputs
    src = ac.grids[u.id]
    grid = _image_grid(ac, e, src, u.shape) if isinstance(src, KC.Image) else src
    s, t = tuple(int(d) for d in u.shape), tuple(int(d) for d in e.out.shape)
    if not isinstance(grid, KC.Grid) or grid.shape != s or len(t) != len(s) \
            or any(a != b and (i <= grid.lead or a != 1) for i, (a, b) in enumerate(zip(s, t))) \
            or len(grid.rows) != len(grid.keys()) or any(r is None for r in grid.rows.values()):
        raise KC.refuse(ac, e, f"a broadcast of {format_shape(s)} to {format_shape(t)} other than along a map's "
                               f"spatial axes of size 1 (sg.interpolate's nearest upsampling)")
    S = t[grid.lead + 1:]
    _positions(ac, e, S, "the upsampled map")
    rows = {key: grid.rows[tuple(0 if d == 1 else k for k, d in zip(key, grid.S))] for key in np.ndindex(*S)}
    return KC._stand_in(ac, e, KC.Grid(grid.lead, grid.F, S, rows))


def of_image(ac, e):
    """Equation ``e`` of `kernel_form.AsColumns` ``ac`` that reads an image or a map: a resize's
    (``A @ h``, ``h.reshape(C·H, W)`` and what reads those lines, a broadcast along spatial axes),
    else `kernel_conv.of_image`'s."""
    lined = next((ac.grids[u.id] for u in e.inputs if isinstance(ac.grids.get(u.id), Lines)), None)
    if lined is not None:
        return of_lines(ac, e, lined)
    if e.prim.name == "bmatmul":
        return bmatmul(ac, e)
    if e.prim.name == "reshape" and isinstance(ac.grids.get(e.inputs[0].id), Mixed):
        stand_in = lines(ac, e, ac.grids[e.inputs[0].id])
        if stand_in is not None:
            return stand_in
    _solidify(ac, e)
    if e.prim.name in ("expand", "broadcast"):
        return expand(ac, e)
    if e.prim.name == "concat":
        return concat(ac, e)
    if e.prim.name == "ewise" and any(isinstance(ac.grids.get(u.id), KC.Flat) for u in e.inputs) \
            and not any(isinstance(ac.grids.get(u.id), (KC.Image, KC.Grid)) for u in e.inputs):
        return flat_ewise(ac, e)
    if e.prim.name == "reshape":
        (u,) = e.inputs
        src = ac.grids[u.id]
        stand_in = image_lines(ac, e, src, u.shape) if isinstance(src, KC.Image) else lines(ac, e, src)
        if stand_in is not None:
            return stand_in
    return KC.of_image(ac, e)


def _map(ac, e, u) -> KC.Grid:
    """The grid that operand ``u`` of ``e`` is: a map kept as rows, or the input image read as rows."""
    src = ac.grids[u.id]
    if isinstance(src, KC.Image):
        return _image_grid(ac, e, src, u.shape)
    if isinstance(src, Mixed) and len(src.S) == 2:
        return src
    if not isinstance(src, KC.Grid) or len(src.S) != 2 or len(src.rows) != len(src.keys()) \
            or any(r is None for r in src.rows.values()):
        raise KC.refuse(ac, e, "a matrix product of a convolution's map other than a resize along its height or "
                               "width (sg.interpolate)")
    return src


def _positions(ac, e, S, what: str) -> None:
    """At most `kernel_conv.MAX_POSITIONS` rows a map (each resized row is equations of its own, and
    what reads the map — a convolution, a flatten — a product per row)."""
    P = int(np.prod(S)) if S else 1
    if P > KC.MAX_POSITIONS:
        raise UnsupportedError(
            f"{KC.TARGET} cannot run this resize{ac.where(e)}: {what} has {' × '.join(str(d) for d in S if d != 1)} "
            f"= {P} positions per example, more than {KC.MAX_POSITIONS} (a map is kept as one row per position); "
            f"resize to a smaller size, pool first, or {KC.NUMPY}")


def _mix(ac, parts, F: int):
    """Σ_k c_k · row_k over the (weight, row) pairs with a weight ≠ 0."""
    parts = [(float(c), r) for c, r in parts if c != 0]
    if not parts:
        return None
    if len(parts) == 1 and parts[0][0] == 1.0:
        return parts[0][1]
    body = sp.Add(*[sp.Float(c) * R.ph(i) if c != 1.0 else R.ph(i) for i, (c, _) in enumerate(parts)])
    return R.ewise(ac.g, body, *[r for _, r in parts], shape=(F, 1))


def _resized(ac, e, grid, M, axis: int) -> Mixed:
    """``grid`` (a map, or a resized one not made yet) with its spatial ``axis`` (0: H, 1: W) mapped
    by the constant M: along H, row (o, w) = Σ_h M[o, h]·row (h, w); along W, row (h, o) =
    Σ_w M[w, o]·row (h, w) — as weights of the base map's rows (`Mixed`)."""
    H, W = grid.S
    O = M.shape[0] if axis == 0 else M.shape[1]
    S = (O, W) if axis == 0 else (H, O)
    _positions(ac, e, S, "its output")
    base, forms = (grid.base, grid.forms) if isinstance(grid, Mixed) else \
        (grid, {k: {k: 1.0} for k in grid.keys()})
    out = {}
    for key in np.ndindex(*S):
        srcs = [(M[key[0], h], (h, key[1])) for h in range(H)] if axis == 0 else \
            [(M[w, key[1]], (key[0], w)) for w in range(W)]
        form: dict = {}
        for c, k in srcs:
            if c == 0:
                continue
            for b, w in forms[k].items():
                form[b] = form.get(b, 0.0) + float(c) * w
        out[key] = {b: w for b, w in form.items() if w != 0}
    return Mixed(grid.lead, grid.F, S, base, out)


def bmatmul(ac, e):
    """``A @ h`` (along H) or ``h @ B`` (along W) of a map h (…, F, H, W) and a constant broadcast
    over its leading axes."""
    a, b = e.inputs
    if a.id in ac.grids and b.id not in ac.grids:
        grid = _map(ac, e, a)
        H, W = grid.S
        M = _matrix(ac, e, b, W, int(e.out.shape[-1]))
        return _keep(ac, e, _resized(ac, e, grid, M, 1))
    if b.id in ac.grids and a.id not in ac.grids:
        grid = _map(ac, e, b)
        H, W = grid.S
        M = _matrix(ac, e, a, int(e.out.shape[-2]), H)
        return _keep(ac, e, _resized(ac, e, grid, M, 0))
    raise KC.refuse(ac, e, "a matrix product of two maps")


def lines(ac, e, grid) -> object:
    """``h.reshape(F·H, W)`` of a map h (lead, F, H, W): its lines, or None when ``e`` is another reshape."""
    out = tuple(int(d) for d in e.out.shape)
    if isinstance(grid, Mixed):
        if len(grid.S) != 2 or out != (grid.F * grid.S[0], grid.S[1]):
            return None
        ac.grids[e.out.id] = Lines(grid)
        return next(iter(grid.base.rows.values()))
    if not isinstance(grid, KC.Grid) or len(grid.S) != 2 or any(r is None for r in grid.rows.values()) \
            or len(grid.rows) != len(grid.keys()):
        return None
    H, W = grid.S
    if out != (grid.F * H, W):
        return None
    ac.grids[e.out.id] = Lines(grid)
    return next(iter(grid.rows.values()))       # (a stand-in: readers go through ``ac.grids``)


def image_lines(ac, e, img, shape):
    """``x.reshape(C·H, W)`` of the image input x (C, H, W): its lines (of its rows, `_image_grid`), or
    None when ``e`` is another reshape."""
    dims = [int(d) for d in shape]
    if len(dims) < 3 or tuple(int(d) for d in e.out.shape) != (int(np.prod(dims[:-1])), dims[-1]):
        return None
    return lines(ac, e, _image_grid(ac, e, img, shape))


def of_lines(ac, e, src: Lines):
    """What reads a map's lines: ``lines @ B`` with a constant B (a resize along W), or a reshape back
    to the map (lead, F, H, W) or to a vector (F·H·W entries, NCHW order: a flatten)."""
    grid = src.grid
    H, W = grid.S
    if e.prim.name == "matmul" and e.inputs[0].id in ac.grids and e.inputs[1].id not in ac.grids:
        M = _matrix(ac, e, e.inputs[1], W, int(e.out.shape[-1]))
        resized = _resized(ac, e, grid, M, 1)
        ac.grids[e.out.id] = Lines(resized)
        return next(iter(resized.base.rows.values()))
    if e.prim.name == "reshape":
        out = tuple(int(d) for d in e.out.shape)
        nonunit = [d for d in out if d != 1]
        if nonunit == [grid.F * H * W]:
            solid = _solid(ac, e, grid) if isinstance(grid, Mixed) else grid
            return KC._stand_in(ac, e, KC.Flat(solid))
        if len(out) >= 3 and out[-3:] == (grid.F, H, W) and all(d == 1 for d in out[:-3]):
            if isinstance(grid, Mixed):
                return _keep(ac, e, Mixed(len(out) - 3, grid.F, (H, W), grid.base, grid.forms))
            return KC._stand_in(ac, e, KC.Grid(len(out) - 3, grid.F, (H, W), grid.rows))
    raise KC.refuse(ac, e, f"{ac.term(e.prim.name)} of a map's lines ({format_shape(e.inputs[0].shape)}: the "
                           f"channels' rows, as sg.interpolate reads them) other than a resize along the width and a "
                           f"reshape back to the map or to a vector")


def concat(ac, e):
    """sg.concat([h1, h2], axis=1) of maps of the same positions along their channels (a U-Net's skip
    connection): at each position the column of h1's channels then h2's, Σ_i P_i·row_i with the
    constant 0/1 matrices that put each at its offset (`kernel_form.AsColumns._concat_rows`: products
    run as a layer's, exact); reverse mode hands each map its channels' gradient back (P_iᵀ)."""
    grids = []
    for u in e.inputs:
        src = ac.grids.get(u.id)
        grids.append(_image_grid(ac, e, src, u.shape) if isinstance(src, KC.Image) else src)
    first = grids[0] if all(isinstance(g, KC.Grid) for g in grids) else None
    if first is None or e.params[0] != first.lead or any(
            g.lead != first.lead or tuple(g.S) != tuple(first.S) or len(g.rows) != len(g.keys())
            or any(r is None for r in g.rows.values()) for g in grids):
        raise KC.refuse(ac, e, "sg.concat of maps other than along the channels of maps of the same positions "
                               "(sg.concat([h1, h2], axis=1))")
    F = sum(g.F for g in grids)
    rows = {}
    for key in first.keys():
        parts = [g.rows[key] if tuple(int(d) for d in g.rows[key].shape) != (1, 1) else ac.as_shape(g.rows[key], (), e)
                 for g in grids]
        rows[key] = ac._concat_rows(parts, [g.F for g in grids])
    return KC._stand_in(ac, e, KC.Grid(first.lead, F, first.S, rows))


def vector_as_map(ac, e):
    """``h.reshape(N, C, H, W)`` of an example's vector h (a decoder's dense layer, then convolutions or
    an upsampling): the map kept as rows, row p the column of h's entries c·P + p (NCHW order, P =
    H·W), S_p·h with the constant 0/1 matrix S_p (`kernel_form.AsColumns._place`: a product run as a
    layer's, exact); reverse mode hands h the rows' gradients back (S_pᵀ)."""
    out = tuple(int(d) for d in e.out.shape)
    # one example's (C, H, W) (or (C, H, 1, W, 1), a nearest upsampling's split), or (1, C, …) of a
    # per-example declaration: the channels' axis is the first, after a leading 1 for the latter
    lead = 1 if len(out) in (4, 6) and out[0] == 1 else 0
    v = ac.env.get(e.inputs[0].id)
    if len(out) - lead not in (3, 5) or v is None or v.shape == () \
            or tuple(int(d) for d in v.shape) != (int(np.prod(out)), 1):
        raise KC.refuse(ac, e, f"a reshape of an example's value to {format_shape(out)} other than a vector to a "
                               f"map (C, H, W)")
    C, S = out[lead], out[lead + 1:]
    P = int(np.prod(S))
    _positions(ac, e, S, "the map")
    rows = {}
    for p, key in enumerate(np.ndindex(*S)):
        if C == 1:
            rows[key] = R.broadcast(ac.g, R.gather(ac.g, v, R.const(ac.g, p, ())), (1, 1))
        else:
            rows[key] = ac._place(v, {c * P + p: c for c in range(C)}, C)
        ac.new_notes.setdefault(rows[key].id, f"= the channels of {(ac.user_words(e) or '`the map`').strip('`')} "
                                              f"at position {key}")
    return KC._stand_in(ac, e, KC.Grid(lead, C, S, rows))


# ===================================================================================================
# An elementwise function of a flattened map (relu, or sg.dropout, between the flatten and the
# classifier): not a resize, but the same kind of re-reading of a map's rows


def gathered(ac, flat, e):
    """The flattened map ``flat`` (F channels, P positions) as one column of F·P entries, NumPy's
    flatten order f·P + p: Σ_p Q_p·row_p, Q_p the constant 0/1 matrix putting channel f at entry
    f·P + p (P products the kernels run as a layer's, exact); ``e``: the equation it is for (errors)."""
    grid = flat.grid
    P = len(grid.keys())
    n = grid.F * P
    parts = []
    for p, key in enumerate(grid.keys()):
        row = grid.rows[key]
        if tuple(int(d) for d in row.shape) == (1, 1):
            row = ac.as_shape(row, (), e)
        parts.append(ac._place(row, {f: f * P + p for f in range(grid.F)}, n))
    return parts[0] if len(parts) == 1 else R.ewise(ac.g, sp.Add(*[R.ph(i) for i in range(len(parts))]), *parts,
                                                    shape=(n, 1))


def flat_ewise(ac, e):
    """f(h.reshape(N, -1), …) of a flattened map h (F channels, P positions; entry f·P + p): with
    numbers (one per example, or constants) as the other operands, f of each row, still a flattened
    map (a dense layer of it stays P products with slices of the weight); with a vector of the same
    F·P entries (a dropout mask, a parameter vector), the map is first gathered into one column,
    Σ_p Q_p·row_p with the constant 0/1 matrix Q_p that puts channel f at entry f·P + p (P products
    the kernels run as a layer's, exact), and f applies to that column as to any vector."""
    flat = next(ac.grids[u.id] for u in e.inputs if isinstance(ac.grids.get(u.id), KC.Flat))
    grid = flat.grid
    P = len(grid.keys())
    n = grid.F * P
    out = tuple(int(d) for d in e.out.shape)
    if [d for d in out if d != 1] != [n] or any(r is None for r in grid.rows.values()):
        raise KC.refuse(ac, e, "an elementwise operation on the flattened convolution output laid out as a row")
    others = [u for u in e.inputs if not isinstance(ac.grids.get(u.id), KC.Flat)]
    if all(u.shape == () for u in others):
        rows = {k: R.ewise(ac.g, e.params[0], *[grid.rows[k] if isinstance(ac.grids.get(u.id), KC.Flat)
                                                 else ac.env[u.id] for u in e.inputs],
                           shape=tuple(grid.rows[k].shape))
                for k in grid.keys()}
        return KC._stand_in(ac, e, KC.Flat(KC.Grid(grid.lead, grid.F, grid.S, rows)))
    if any(isinstance(ac.grids.get(u.id), KC.Flat) and ac.grids[u.id] is not flat for u in e.inputs):
        raise KC.refuse(ac, e, "an elementwise operation of two flattened maps")
    col = gathered(ac, flat, e)
    ac.new_notes.setdefault(col.id, f"= {(ac.user_words(e) or '`the flattened map`').strip('`')} (its operand: "
                                     f"the flattened map gathered into one column)")
    args = []
    for u in e.inputs:
        v = col if isinstance(ac.grids.get(u.id), KC.Flat) else ac.env.get(u.id)
        if v is None or v.shape != () and tuple(int(d) for d in v.shape) != (n, 1):
            raise KC.refuse(ac, e, f"an elementwise operation of the flattened convolution output with a value of "
                                   f"shape {format_shape(u.shape)}")
        args.append(v)
    return R.ewise(ac.g, e.params[0], *args, shape=(n, 1))
