"""Convolutions of the input image and of the maps they make, for the kernel backends: kept as rows.

`kernel_form.AsColumns` hands this module every equation that reads an image input (an input of
three or more axes per example, (C, H, W) or (1, C, H, W)) or a value computed from one. The
convolution of the image (im2col, one output position at a time)

    conv2d(x, w)[f, oh, ow] = Σ_{c,i,j} x[c, oh·s + i·d − pad, ow·s + j·d − pad] · w[f, c, i, j]
                            = (W_mat · patch_p)[f],     p = (oh, ow),  W_mat = w.reshape(F, C·KH·KW)

is kept as its OH·OW rows, each a column (F, 1) per example (a "grid"): row p is the product of
the weight W_mat (the parameter w, the same numbers in memory) with ``patch(x)_p``, the C·KH·KW
entries of the example's image that window p covers, gathered by a static index table (zeros
outside the image: the padding). The kernels load a patch as they load a slice of an input's row,
with an offset computed from the entry's index, and run each row's product as a layer's. Reverse
mode then gives ∂L/∂W_mat = Σ_p δ_p · patch_pᵀ: a sum of outer products, which the scheduler sums
over the batch as one product over the B·P rows of the δs and the windows, stored side by side
(`codegen.kernel_schedule.Stack`; term by term when the rows are not one kernel). The image's own gradient
(as_torch with requires_grad) is Σ_p S_pᵀ·∂L/∂patch_p, S_p the window's constant 0/1 selection.

A second convolution reads such a map (after relu, pooling): its window at p is assembled from the
map's rows, Σ_k E_k·row_{p+k} (`_grid_patch`, E_k constant 0/1), so it runs as the first's does
(W2_mat · patch_p, the weight gradient one product over the stacked windows) and reverse mode gives
the first map's gradient as the transposed gather Σ_{p,k} E_kᵀ·(W2_matᵀ·δ_p), with no scatter.

On such a grid, kept as rows:

    + b.reshape(F, 1, 1), relu, …   elementwise, row by row (a bias per filter: the column b)
    max_pool2d(h, 2), avg_pool2d    windows of the grid (its rows re-indexed; padding rows absent),
                                    then a max (entry by entry, a strictly greater row replacing the
                                    running max: the first arg-max of the window, in row-major order,
                                    takes the gradient, as the NumPy target and torch) or a sum
    h.reshape(N, -1) @ W            flatten (NCHW order: entry f·P + p) and a dense layer:
                                    Σ_p row_pᵀ · W[p::P], P products with slices of the parameter
                                    (values of the parameters alone: the host's, and their adjoint)
    conv2d(h, w2, b2, …)            a second convolution of the map (`_grid_patch`), and so on

    Σ / logsumexp over the filters  a per-pixel loss (`kernel_pixels`): a reduction of each row

Anything else that reads the grid (a transpose, a max over the filters, an output) is an
`UnsupportedError` in the declaration's words, pointing to target='numpy'.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from ..core import array_rules as A
from ..core import rules as R
from ..core.ir import Graph, Var, format_shape
from ..errors import UnsupportedError

MAX_POSITIONS = 64      # output positions of a convolution per example: each is a product of its own
TARGET = "the kernel backends (target='triton')"
NUMPY = "compile it with target='numpy'"

# ===================================================================================================
# The patch primitive: an image's window at one output position, as a column


def patch_entries(params) -> list:
    """The flat index into the image (C·H·W entries, row-major) of each entry n = (c·KH + i)·KW + j
    of the patch, or −1 where the window lies outside the image (the padding: a zero)."""
    (C, H, W), (KH, KW), (r0, c0), (dh, dw) = params
    out = []
    for c in range(C):
        for i in range(KH):
            for j in range(KW):
                r, q = r0 + i * dh, c0 + j * dw
                out.append(c * H * W + r * W + q if 0 <= r < H and 0 <= q < W else -1)
    return out


def _patch_impl(args, params):
    x = np.asarray(args[0], float).reshape(-1)
    idx = np.array(patch_entries(params))
    return np.where(idx >= 0, x[np.maximum(idx, 0)], 0.0).reshape(-1, 1)


def _fmt(p):
    (C, H, W), (KH, KW), (r0, c0), (dh, dw) = p
    dil = f", dilation=({dh}, {dw})" if (dh, dw) != (1, 1) else ""
    return f"image=({C}, {H}, {W}), window=({KH}, {KW}) at ({r0}, {c0}){dil}"


patch_p = A._prim("patch", "the window of an image at one output position (im2col, one column)", _fmt)


def patch(g: Graph, x: Var, image, kernel, origin, dilation) -> Var:
    params = (tuple(int(d) for d in image), tuple(int(d) for d in kernel), tuple(int(d) for d in origin),
              tuple(int(d) for d in dilation))
    return g.bind(patch_p, (x,), params)


patch_p.shape = lambda shapes, params: (params[0][0] * params[1][0] * params[1][1], 1)
patch_p.impl = _patch_impl


def _patch_vjp(g, eqn, ct, want):
    """∂L/∂x of a window: Sᵀ·ct, S the constant 0/1 matrix (C·KH·KW, C·H·W) that picks the window's
    entries out of the image (S[n, k] = 1 where entry n reads x[k]; a row of 0s in the padding) — a
    product the kernels run as a layer's (exact in any precision), not a scatter-add. Summed over the
    output positions by reverse mode: the image's gradient (as_torch with requires_grad)."""
    (C, H, W) = eqn.params[0]
    at = {(k, n) for n, k in enumerate(patch_entries(eqn.params)) if k >= 0}
    n = int(eqn.out.shape[0])
    St = sp.ImmutableMatrix(C * H * W, n, lambda k, j: 1 if (int(k), int(j)) in at else 0)
    return [R.matmul(g, R.const(g, St, tuple(St.shape)), ct)]


patch_p.vjp = _patch_vjp
patch_p.jvp = lambda g, eqn, t: g.bind(patch_p, (t[0],), eqn.params)


# ===================================================================================================
# What an equation reading an image sees


@dataclass
class Image:
    """An image input per example: its entries, row-major, as the column ``x`` (numel, 1)."""
    x: Var


@dataclass
class Grid:
    """A value (1, …, F, *S) per example kept as rows: ``rows[s]`` is the column (F, 1) at spatial
    index s (absent: a window's entry outside the grid, which counts as ``fill``). ``lead`` −1: a map
    of one number per position with no channels' axis, shape S (a per-pixel loss, `kernel_pixels`)."""
    lead: int
    F: int
    S: tuple
    rows: dict
    fill: object = None

    @property
    def shape(self) -> tuple:
        if self.lead < 0:           # a map of one number per position, no channels' axis
            return tuple(self.S)
        return (1,) * self.lead + (self.F,) + tuple(self.S)

    def keys(self):
        return list(np.ndindex(*self.S)) if self.S else [()]


@dataclass
class Flat:
    """A grid flattened to one vector of F·P entries, in its row-major order f·P + p."""
    grid: Grid


def _nonunit(shape) -> list:
    return [int(d) for d in shape if int(d) != 1]


def refuse(ac, e, what: str) -> UnsupportedError:
    return UnsupportedError(
        f"{TARGET} cannot run {what}{ac.where(e)}: a convolution's output is kept as its rows (one per output "
        f"position), on which they take elementwise functions with a bias per filter, max_pool2d / avg_pool2d, "
        f"another conv2d, sg.interpolate (nearest, bilinear), sg.concat along the channels, a flatten "
        f"followed by a dense layer (h.reshape(N, -1) @ W), and per-pixel losses (a sum or softmax over the "
        f"channels at each position, a target image); {NUMPY}")


def of_image(ac, e) -> Var:
    """Equation ``e`` of `kernel_form.AsColumns` ``ac`` that reads an image or a grid: its value (a
    stand-in: the readers go through ``ac.grids``)."""
    name = e.prim.name
    rule = _RULES.get(name)
    if rule is None:
        raise refuse(ac, e, ac.term(name))
    return rule(ac, e)


def _stand_in(ac, e, value) -> Var:
    ac.grids[e.out.id] = value
    if isinstance(value, Image):
        return value.x
    if isinstance(value, Flat):
        value = value.grid
    return next(r for r in value.rows.values())


def _conv(ac, e) -> Var:
    g = ac.g
    x, w = e.inputs
    img = ac.grids.get(x.id)
    stride, pads, ldil, rdil = e.params
    if not isinstance(img, (Image, Grid)):
        _, C, H, W = (int(d) for d in x.shape)
        raise UnsupportedError(
            f"{TARGET} cannot run a convolution of a computed value{ac.where(e)}: of a value computed per example "
            f"({C} channels of {H}×{W}) that is not a convolution's output map (after elementwise functions and "
            f"pooling). They run convolutions of the input image and of the maps earlier convolutions make; "
            f"{NUMPY}")
    transposed = ac.kernel_views.get(w.id) is not None          # sg.conv_transpose2d's (`transposed_kernel`)
    if w.id in ac.batched or (ac.src.producer[w.id].prim is not R.param_p and not transposed):
        raise refuse(ac, e, "a convolution whose kernel is not a declared parameter (F, C, KH, KW)")
    if len(x.shape) != 4 or int(x.shape[0]) != 1:
        raise refuse(ac, e, f"a convolution over {len(x.shape) - 2} spatial axes (conv1d, conv3d)")
    if any(int(d) != 1 for d in ldil) and not isinstance(img, Grid):
        raise refuse(ac, e, "a transposed convolution of the input image (sg.conv_transpose2d, a convolution of "
                            "its input spread out by the stride; they run it on a convolution's map, or write "
                            "sg.conv2d(sg.interpolate(x, scale_factor=2), w, padding=1))")
    _, C, H, W = (int(d) for d in x.shape)
    F, _, KH, KW = (int(d) for d in w.shape)
    OH, OW = (int(d) for d in e.out.shape[2:])
    if OH * OW > MAX_POSITIONS:
        raise UnsupportedError(
            f"{TARGET} cannot run this convolution{ac.where(e)}: its output has {OH}×{OW} = {OH * OW} positions "
            f"per example, more than {MAX_POSITIONS} (each position is a product of its own in the kernels); use "
            f"a stride (stride=2) or a smaller image, or {NUMPY}")
    Wm = ac.env[w.id]
    if tuple(int(d) for d in Wm.shape) != (F, C * KH * KW):
        raise refuse(ac, e, "a convolution whose kernel is also read as a tensor elsewhere")
    if isinstance(img, Grid) and (img.lead != 1 or img.F != C or tuple(img.S) != (H, W)
                                  or any(img.rows.get(k) is None for k in img.keys())):
        raise refuse(ac, e, "a convolution of a map whose rows are not its channels at each position (a pooling's "
                            "windows before their reduction, a reshaped map)")
    rows = {}
    for oh in range(OH):
        for ow in range(OW):
            origin = (oh * stride[0] - pads[0][0], ow * stride[1] - pads[1][0])
            if isinstance(img, Image):
                pv = patch(g, img.x, (C, H, W), (KH, KW), origin, rdil)
                ac.new_notes.setdefault(pv.id, f"= the {KH}×{KW} window of {g.producer[img.x.id].params[0].name} "
                                               f"at {origin} (a patch)")
            else:
                pv = _grid_patch(ac, e, img, (KH, KW), origin, rdil, tuple(int(d) for d in ldil))
            rows[(oh, ow)] = R.matmul(g, Wm, pv)
    words = (ac.user_words(e) or "`conv2d`").strip("`")
    for (oh, ow), r in rows.items():
        ac.new_notes.setdefault(r.id, f"= {words}[:, {oh}, {ow}] (output position ({oh}, {ow}))")
    return _stand_in(ac, e, Grid(1, F, (OH, OW), rows))


def transposed_kernel(ac, e):
    """The kernel w (C_in, C_out, KH, KW) of ``sg.conv_transpose2d`` (groups=1), read ONLY as
    permute(flip(w, (2, 3)), (1, 0, 2, 3)), the kernel of a convolution of the input dilated by the
    stride: w is bound as its matrix M (C_in, C_out·KH·KW) (the same numbers in memory, so its
    gradient is w's), and the convolution's kernel matrix W′ (C_out, C_in·KH·KW) is

        W′ = (Q · (M.reshape(C_in·C_out, KK) · J)).reshape(C_out, C_in·KK),     KK = KH·KW

    with J the KK × KK anti-identity (the flip of both spatial axes) and Q the permutation of the
    C_in·C_out windows from (c, f) to (f, c): W′[f, c·KK + k] = w[c, f, KK − 1 − k]. A value of the
    parameter alone, which the host computes before the launches (reshapes and products with
    constants), and whose adjoints it applies to the weight gradient's sums (each linear, read
    once: Σ_b L(t_b) = L(Σ_b t_b)). None when w is read otherwise (then refused as before)."""
    readers = lambda v: [u for u in ac.src.eqns if any(i.id == v.id for i in u.inputs)]   # noqa: E731
    flips = readers(e.out)
    if len(e.out.shape) != 4 or len(flips) != 1 or flips[0].prim.name != "flip" or tuple(flips[0].params[0]) != (2, 3):
        return None
    perms = readers(flips[0].out)
    if len(perms) != 1 or perms[0].prim.name != "permute" or tuple(perms[0].params[0]) != (1, 0, 2, 3):
        return None
    convs = readers(perms[0].out)
    if not convs or any(u.prim.name != "conv" or u.inputs[1].id != perms[0].out.id or u.inputs[0].id == perms[0].out.id
                        for u in convs):
        return None
    g = ac.g
    sym, shape = e.params
    cin, cout, KH, KW = (int(d) for d in shape)
    KK = KH * KW
    M = g.bind(e.prim, (), (sym, (cin, cout * KK)))
    J = R.const(g, sp.ImmutableMatrix(KK, KK, lambda r, c: 1 if r + c == KK - 1 else 0), (KK, KK))
    ac.new_notes[J.id] = f"= J: the {KH}×{KW} window's entries reversed (a transposed convolution's flipped kernel)"
    n = cin * cout          # Q: row c·C_out + f to row f·C_in + c
    Q = R.const(g, sp.ImmutableMatrix(n, n, lambda r, q: 1 if r == (q % cout) * cin + q // cout else 0), (n, n))
    ac.new_notes[Q.id] = f"= Q: the rows (c, f) of the kernel's {cin}×{cout} windows in the order (f, c)"
    Wt = A.reshape(g, R.matmul(g, Q, R.matmul(g, A.reshape(g, M, (n, KK)), J)), (cout, cin * KK))
    ac.new_notes.setdefault(Wt.id, f"= {sym.name}.flip((2, 3)).permute(1, 0, 2, 3) as the kernel's matrix "
                                   f"({cout}, {cin * KK})")
    ac.kernel_views[flips[0].out.id] = None
    ac.kernel_views[perms[0].out.id] = Wt
    return M


def _grid_patch(ac, e, grid: Grid, kernel, origin, dilation, spread=(1, 1)) -> Var:
    """The window of a map kept as rows (a second convolution's input) at ``origin``, as the column
    (C·KH·KW, 1) in the order of the kernel's matrix, entry (c·KH + i)·KW + j:

        patch_p = Σ_{k = (i, j) inside the map} E_k · row_{origin + k·d},   E_k[c·KH·KW + k, c] = 1

    products with constant 0/1 matrices (`_selection`; exact in any precision, as a slice's); an
    offset in the padding adds nothing (a zero). Reverse mode makes the map's gradient of them: row
    q gets Σ E_kᵀ · ∂L/∂patch_p over the windows p and offsets k that read it — the transposed
    convolution, as selections of the windows' gradients W_matᵀ·δ_p.

    ``spread``: the input's dilation (sh, sw) (a transposed convolution's stride): the map spread out
    with sh − 1 zero rows between its rows, so an offset at (r, c) of the spread map reads row
    (r/sh, c/sw) where sh and sw divide r and c, and nothing (a zero) elsewhere."""
    (KH, KW), (r0, c0), (dh, dw), (sh, sw) = kernel, origin, dilation, spread
    C, KK = grid.F, KH * KW
    parts = []
    for i in range(KH):
        for j in range(KW):
            r, c = r0 + i * dh, c0 + j * dw
            row = grid.rows.get((r // sh, c // sw)) if r % sh == 0 and c % sw == 0 else None
            if row is not None and C == 1:      # one channel (an image resized, `kernel_resize`): a number
                parts.append(ac._place(ac.as_shape(row, (), e), {0: i * KW + j}, KK))     # placed at entry k
            elif row is not None:
                parts.append(R.matmul(ac.g, _selection(ac, C, KH, KW, i, j), row))
    if not parts:
        raise refuse(ac, e, f"a convolution whose window at {origin} lies wholly in the padding")
    pv = parts[0] if len(parts) == 1 else R.ewise(ac.g, sp.Add(*[R.ph(i) for i in range(len(parts))]), *parts,
                                                  shape=(C * KK, 1))
    ac.new_notes.setdefault(pv.id, f"= the {KH}×{KW} window of the map at {origin} (a patch)")
    return pv


def _selection(ac, C: int, KH: int, KW: int, i: int, j: int) -> Var:
    """E_k (C·KH·KW, C), k = i·KW + j: channel c of a map's row to entry c·KH·KW + k of a window; one
    constant per offset, shared by every window (one pointer for the kernels, not one per position)."""
    key = (C, KH, KW, i, j)
    if key not in ac.selections:
        KK, k = KH * KW, i * KW + j
        E = sp.ImmutableMatrix(C * KK, C, lambda r, c: 1 if r == c * KK + k else 0)
        ac.selections[key] = R.const(ac.g, E, tuple(E.shape))
        ac.new_notes[ac.selections[key].id] = (f"= E_{i}{j}: channel c of the map at offset ({i}, {j}) of a "
                                               f"{KH}×{KW} window to its entry c·{KK} + {k}")
    return ac.selections[key]


def _reshape(ac, e) -> Var:
    (u,) = e.inputs
    src, out = ac.grids[u.id], tuple(int(d) for d in e.out.shape)
    if isinstance(src, Image):
        if len(_nonunit(out)) <= 1:             # the image as a vector: its column
            return ac.as_shape(src.x, ac.column_shape(out), e)
        return _stand_in(ac, e, Image(src.x))
    if isinstance(src, Flat):
        if len(_nonunit(out)) <= 1:
            return _stand_in(ac, e, src)
        raise refuse(ac, e, f"a reshape of the flattened convolution output to {format_shape(out)}")
    P = int(np.prod(src.S)) if src.S else 1
    if any(r is None for r in (src.rows.get(k) for k in src.keys())):
        raise refuse(ac, e, "a reshape of the windows of a padded pooling")
    if _nonunit(out) == [src.F * P] and P == 1 and len(out) <= 2:    # one position (a global pooling): its
        return ac.as_shape(next(iter(src.rows.values())), ac.column_shape(out), e)   # row, read as any vector
    if _nonunit(out) == [src.F * P] and P > 1:       # (one position: (1, F, 1, 1) is a grid)
        return _stand_in(ac, e, Flat(src))
    j = channel_axis(out, src.F, P)
    if j is None and src.F == 1 and int(np.prod(out)) == P:     # one channel, its axis dropped (`kernel_pixels`)
        return _stand_in(ac, e, Grid(-1, 1, out, {n: src.rows[o] for o, n in zip(src.keys(), np.ndindex(*out))}))
    if j is None:
        raise refuse(ac, e, f"a reshape of {format_shape(src.shape)} to {format_shape(out)} that moves the filters' "
                            f"axis{_groups_note(src.F, out)}")
    old, new = src.keys(), list(np.ndindex(*out[j + 1:])) if out[j + 1:] else [()]
    rows = {n: src.rows[o] for o, n in zip(old, new)}
    return _stand_in(ac, e, Grid(j, src.F, out[j + 1:], rows, src.fill))


def _groups_note(F: int, out) -> str:
    """What a map reshaped to (G, rest) — sg.group_norm's grouping of its channels — can be written as."""
    dims = [int(d) for d in out]
    if len(dims) != 2 and dims != [1] or dims and F % dims[0]:
        return ""
    return (" (sg.group_norm's grouping of the channels, G groups: not taken; sg.instance_norm (G = C) is, and "
            "for G = 1 sg.layer_norm(z, (C, H, W)) * g.reshape(C, 1, 1) + b.reshape(C, 1, 1) is the same "
            "numbers)")


def channel_axis(shape, F: int, P: int):
    """The axis of the F channels in ``shape``, a map of P positions per channel: only 1s before it and
    P entries after it (with one channel, the last such axis: the fewest unit axes among the
    positions); None when there is none."""
    dims = [int(d) for d in shape]
    fits = [j for j in range(len(dims)) if all(d == 1 for d in dims[:j]) and dims[j] == F
            and int(np.prod(dims[j + 1:])) == P]
    return fits[-1] if fits else None


def _channel_column(ac, u, grid: Grid):
    """The column (F, 1) of a value of the parameters alone broadcast over the grid along the filters'
    axis only (a bias b.reshape(F, 1, 1)), or the number itself; None for another broadcast."""
    if u.shape == ():
        return ac.env[u.id]
    v = u
    while ac.src.producer[v.id].prim.name in ("expand", "broadcast"):
        v = ac.src.producer[v.id].inputs[0]
    if v.id in ac.channel_masks:        # dropout2d's mask: one example's column (F, 1), drawn in the kernels
        col = ac.env[v.id]
        return col if int(col.shape[0]) == grid.F else None
    if u.id in ac.batched and all(int(d) == 1 for d in v.shape) and ac.env.get(v.id) is not None:
        # one number per example broadcast over the map (its mean over every axis, a layer norm's)
        n = ac.env[v.id]
        return n if n.shape == () else R.reduce_sum(ac.g, n, None) if tuple(n.shape) == (1, 1) else None
    if u.id in ac.batched or grid.lead < 0:
        return None
    full, shape = grid.shape, tuple(int(d) for d in v.shape)
    while len(shape) > len(full) and shape[0] == 1:
        shape = shape[1:]       # (the batch axis of batch_norm's rm.reshape(1, F, 1, 1))
    if len(shape) > len(full):
        return None
    shape = (1,) * (len(full) - len(shape)) + shape
    if any(d != 1 for i, d in enumerate(shape) if i != grid.lead) or shape[grid.lead] not in (1, grid.F):
        return None
    while ac.env.get(v.id) is None and ac.src.producer[v.id].prim.name == "reshape":
        v = ac.src.producer[v.id].inputs[0]         # b.reshape(F, 1, 1): b itself
    pe = ac.src.producer[v.id]
    if ac.env.get(v.id) is None and pe.prim is R.ewise_p:
        # a function of such columns, (b − rm.reshape(F, 1, 1)) / sqrt(rv.reshape(F, 1, 1) + eps) (an
        # eval-mode batch norm's): the same function of the columns
        cols = [_channel_column(ac, u, grid) for u in pe.inputs]
        if any(c is None for c in cols):
            return None
        cols = [R.reduce_sum(ac.g, c, None) if c.shape == (1, 1) else c for c in cols]
        return R.ewise(ac.g, pe.params[0], *cols, shape=(grid.F, 1) if any(c.shape != () for c in cols) else ())
    col = ac.env.get(v.id)
    if col is None or len(_nonunit(col.shape)) > 1:
        return None
    if col.shape == ():
        return col
    if int(col.shape[1]) != 1:
        col = R.transpose(ac.g, col)
    return col if int(col.shape[0]) in (1, grid.F) else None


def _ewise(ac, e, as_grids=None) -> Var:
    """Row by row; ``as_grids``: operands read as grids in place of ``ac.grids`` (a target image's rows,
    `kernel_pixels`)."""
    grids = [(as_grids or {}).get(u.id, ac.grids.get(u.id)) for u in e.inputs]
    if any(isinstance(s, (Image, Flat)) for s in grids):
        raise refuse(ac, e, "an elementwise operation on the input image or on the flattened convolution output")
    grid = next(s for s in grids if s is not None)
    if any(s is not None and (s.shape != grid.shape or set(s.rows) != set(grid.rows)) for s in grids):
        raise refuse(ac, e, "an elementwise operation of two maps of different shapes")
    if any(r is None for r in grid.rows.values()) or len(grid.rows) != len(grid.keys()):
        raise refuse(ac, e, "an elementwise operation on the windows of a padded pooling")
    args = []
    for u, s in zip(e.inputs, grids):
        if s is not None:
            args.append(s.rows)
            continue
        col = _channel_column(ac, u, grid)
        if col is None:
            raise refuse(ac, e, f"an elementwise operation with a value of shape {format_shape(u.shape)} that is "
                                f"not one number per filter (a bias b.reshape(F, 1, 1))")
        args.append(col)
    rows = {k: R.ewise(ac.g, e.params[0], *[a[k] if isinstance(a, dict) else a for a in args], shape=(grid.F, 1))
            for k in grid.keys()}
    return _stand_in(ac, e, Grid(grid.lead, grid.F, grid.S, rows))


def _windows(ac, e) -> Var:
    (u,) = e.inputs
    grid = ac.grids[u.id]
    kernel, stride, pads, dil, fill = e.params
    if not isinstance(grid, Grid) or len(grid.S) != len(kernel) or grid.lead != 1:
        raise refuse(ac, e, "pooling of the input image")
    O = tuple(int(d) for d in e.out.shape[2:2 + len(kernel)])
    rows = {}
    for o in np.ndindex(*O):
        for k in np.ndindex(*kernel):
            at = tuple(oi * s + ki * d - p[0] for oi, ki, s, d, p in zip(o, k, stride, dil, pads))
            if all(0 <= a < n for a, n in zip(at, grid.S)):
                rows[o + k] = grid.rows[at]
    return _stand_in(ac, e, Grid(1, grid.F, O + tuple(kernel), rows, fill))


def _reduce(ac, e) -> Var:
    (u,) = e.inputs
    grid = ac.grids[u.id]
    axes = set(e.params[0]) if e.prim.name == "rsum" else {e.params[0]}
    if not isinstance(grid, Grid) or any(a <= grid.lead for a in axes) or len(e.out.shape) != len(grid.shape):
        what = "a max" if e.prim.name == "rmax" else "a sum"
        raise refuse(ac, e, f"{what} over the filters' axis" if isinstance(grid, Grid) else
                     f"{what} of the flattened convolution output{_groups_note(1, u.shape)}" if isinstance(grid, Flat)
                     else f"{what} of the input image")
    want = -sp.oo if e.prim.name == "rmax" else 0
    spatial = {a - grid.lead - 1 for a in axes}
    out_S = tuple(1 if i in spatial else d for i, d in enumerate(grid.S))
    rows = {}
    for key in np.ndindex(*out_S):
        ranges = [range(grid.S[i]) if i in spatial else [key[i]] for i in range(len(grid.S))]
        parts = []
        for k in np.ndindex(*[len(r) for r in ranges]):
            at = tuple(r[i] for r, i in zip(ranges, k))
            r = grid.rows.get(at)
            if r is None:
                if sp.sympify(grid.fill) != want:
                    raise refuse(ac, e, "a reduction over the windows of a pooling padded with another value")
                continue
            parts.append(r)
        if e.prim.name == "rsum":
            rows[key] = R.ewise(ac.g, sp.Add(*[R.ph(i) for i in range(len(parts))]), *parts, shape=(grid.F, 1)) \
                if len(parts) > 1 else parts[0]
            continue
        top = parts[0]      # strictly greater replaces: ties keep the earlier entry (the first arg-max)
        for r in parts[1:]:
            top = R.ewise(ac.g, sp.Piecewise((R.ph(1), R.ph(1) > R.ph(0)), (R.ph(0), True)), top, r,
                          shape=(grid.F, 1))
        rows[key] = top
    return _stand_in(ac, e, Grid(grid.lead, grid.F, out_S, rows))


def _matmul(ac, e) -> Var:
    """A dense layer of the flattened grid: flat @ W = Σ_p row_pᵀ · W[p::P] (W (F·P, n)), or
    W @ flat = Σ_p W[:, p::P] · row_p (W (n, F·P)); the running sum adds one product at a time."""
    g = ac.g
    a, b = e.inputs
    fa, fb = ac.grids.get(a.id), ac.grids.get(b.id)
    flat = fa if fa is not None else fb
    other = b if fa is not None else a
    if not isinstance(flat, Flat) or (fa is not None and fb is not None) or other.id in ac.batched \
            or len(other.shape) != 2:
        raise refuse(ac, e, "a matrix product of the convolution output other than a dense layer of its flattened "
                            "form with a parameter")
    grid = flat.grid
    P = int(np.prod(grid.S)) if grid.S else 1
    M = ac.env[other.id]
    leaf = ac.src.producer[other.id]
    mname = leaf.params[0].name if leaf.prim.leaf else "the weight"
    n_all = grid.F * P
    total = None
    for p, key in enumerate(grid.keys()):
        row = grid.rows[key]
        if fa is not None:      # (1, F·P) @ (F·P, n): the rows of M at f·P + p
            if int(a.shape[0]) != 1:
                raise refuse(ac, e, "a product of the flattened convolution output laid out as a column on the left")
            Mp = A.slice_(g, M, ((sp.Integer(p), sp.Integer(n_all), sp.Integer(P)),
                                 (sp.S.Zero, sp.Integer(int(M.shape[1])), sp.S.One)))
            ac.new_notes.setdefault(Mp.id, f"= {mname}[{p}::{P}] (the rows position {p} of the flattened map meets)")
            term = R.matmul(g, R.transpose(g, row), Mp)
        else:                   # (n, F·P) @ (F·P, 1): the columns of M at f·P + p
            if int(b.shape[-1]) != 1 if len(b.shape) == 2 else False:
                raise refuse(ac, e, "a product of the flattened convolution output laid out as a row on the right")
            Mp = A.slice_(g, M, ((sp.S.Zero, sp.Integer(int(M.shape[0])), sp.S.One),
                                 (sp.Integer(p), sp.Integer(n_all), sp.Integer(P))))
            ac.new_notes.setdefault(Mp.id, f"= {mname}[:, {p}::{P}] (the columns position {p} of the flattened "
                                           f"map meets)")
            term = R.matmul(g, Mp, row)
        total = term if total is None else R.ewise(g, R.ph(0) + R.ph(1), total, term, shape=tuple(term.shape))
    return ac.as_shape(total, ac.column_shape(e.out.shape), e)


_RULES = {
    "conv": _conv,
    "reshape": _reshape,
    "ewise": _ewise,
    "windows": _windows,
    "rmax": _reduce,
    "rsum": _reduce,
    "matmul": _matmul,
}
