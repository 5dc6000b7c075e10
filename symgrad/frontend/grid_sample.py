"""``sg.grid_sample`` and ``sg.affine_grid``: torch's ``F.grid_sample`` / ``F.affine_grid`` (a spatial
transformer network's sampler), for small images, written with symgrad's own operations so that the
rule table does not grow and the gradients reach both the image and the grid.

Bilinear sampling at a position (ix, iy) in pixels is a weighted sum over every pixel with the
weights of a "tent": w(ix − j) = max(0, 1 − |ix − j|), which is 1 − (ix − ⌊ix⌋) at j = ⌊ix⌋,
ix − ⌊ix⌋ at j = ⌊ix⌋ + 1 and 0 elsewhere — torch's bilinear weights, and a neighbour outside the
image simply is not in the sum (``padding_mode="zeros"``). So, with Wx (N, Ho, Wo, W) and Wy
(N, Ho, Wo, H) the tents of each output position along each axis,

    out[n, c, h, w] = Σ_i Σ_j x[n, c, i, j] · Wy[n, h, w, i] · Wx[n, h, w, j]       (one sg.einsum)

and the gradient with respect to the grid is the tents' slopes, −sign(ix − j) inside the tent:
x[⌊ix⌋ + 1] − x[⌊ix⌋] along x, as torch computes it. The work is dense — N·C·H·W·Ho·Wo products:
meant for the small images a spatial transformer sees in a test or a course (28 × 28), not for
ImageNet. ``mode="nearest"`` reads the nearest pixel (a tent of width ½: no gradient to the grid, as
torch); ``padding_mode="border"`` clamps the coordinates into the image first (torch's: no gradient
to a clamped coordinate).

>>> import sympy as sp, symgrad as sg
>>> N = sp.Symbol("N", integer=True, positive=True)
>>> theta = sg.tensor("theta", (N, 2, 3))
>>> grid = sg.affine_grid(theta, (N, 1, 5, 6), align_corners=False)
>>> grid.shape, sg.grid_sample(sg.tensor("img", (N, 1, 8, 8)), grid, align_corners=False).shape
((N, 5, 6, 2), (N, 1, 5, 6))
"""
from __future__ import annotations

import sympy as sp

from ..errors import ArgumentError, ShapeError
from . import tensor as T
from .functions import relu
from .tensor_arange import arange
from .tensor_bounds import clip
from .tensor_einsum import einsum
from .tensor_tri import ones

__all__ = ["grid_sample", "affine_grid"]

MODES = ("bilinear", "nearest")
PADDING = ("zeros", "border")


def _pixels(g, size: int, align_corners: bool):
    """A normalised coordinate in [−1, 1] as a pixel position along an axis of ``size`` pixels,
    as torch's grid_sampler_unnormalize."""
    if align_corners:
        return (g + 1) / 2 * (size - 1)
    return ((g + 1) * size - 1) / 2


def _flag(v, who) -> bool:
    if v is None:            # torch's default (it warns): False
        return False
    if not isinstance(v, bool):
        raise ArgumentError(f"{who}: align_corners must be True, False or None (torch's default, False), got {v!r}")
    return v


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """torch's ``F.grid_sample(input, grid, mode="bilinear", padding_mode="zeros",
    align_corners=None)`` of a 4-D input (N, C, H, W) and a grid (N, Ho, Wo, 2) of (x, y) positions
    normalised to [−1, 1]; H and W numbers (the module docstring has the formula and its cost)."""
    x = T._tensor_arg(input, "grid_sample")
    g = T._tensor_arg(grid, "grid_sample")
    if mode not in MODES:
        raise ArgumentError(f"grid_sample: mode={mode!r} is not supported; the modes are {', '.join(map(repr, MODES))} "
                            f"('bicubic' is not)")
    if padding_mode not in PADDING:
        raise ArgumentError(f"grid_sample: padding_mode={padding_mode!r} is not supported; the padding modes are "
                            f"{', '.join(map(repr, PADDING))} ('reflection' is not)")
    align = _flag(align_corners, "grid_sample")
    if x.ndim != 4 or g.ndim != 4 or not T.dims_equal(g.shape[3], 2):
        raise ShapeError(f"grid_sample: input {x} {T.fmt(x.shape)} and grid {g} {T.fmt(g.shape)}: it takes a 4-D "
                         f"input (N, C, H, W) and a grid (N, Ho, Wo, 2) (a 5-D volume is not supported)")
    if not T.dims_equal(x.shape[0], g.shape[0]):
        raise ShapeError(f"grid_sample: input {x} and grid {g} have different batch sizes, "
                         f"{x.shape[0]} and {g.shape[0]}")
    H, W = x.shape[2], x.shape[3]
    if not (isinstance(H, int) and isinstance(W, int)):
        raise ShapeError(f"grid_sample: the image's height and width must be numbers, got {H} × {W}")
    tents = []
    for k, size in ((1, H), (0, W)):                      # grid[..., 0] is x (width), [..., 1] is y
        pos = _pixels(g[..., k], size, align)             # (N, Ho, Wo)
        if padding_mode == "border":
            pos = clip(pos, 0, size - 1)
        dist = T.as_tensor(pos[..., None] - arange(size))   # (N, Ho, Wo, size)
        if mode == "bilinear":
            tents.append(relu(1 - abs(dist)))
        else:                                             # the nearest pixel: |dist| < ½ (ties: measure 0)
            tents.append(T.where(abs(dist).detach() < sp.Rational(1, 2), 1.0, 0.0))
    return einsum("ncij,nhwi,nhwj->nchw", x, tents[0], tents[1])


def affine_grid(theta, size, align_corners=None):
    """torch's ``F.affine_grid(theta, size, align_corners=None)``: for theta (N, 2, 3) and size
    (N, C, H, W), the grid (N, H, W, 2) of the positions θ·(x, y, 1) of the output pixels' normalised
    coordinates (x along the width)."""
    th = T._tensor_arg(theta, "affine_grid")
    align = _flag(align_corners, "affine_grid")
    if not isinstance(size, (tuple, list)) or len(size) != 4:
        raise ArgumentError(f"affine_grid: size must be (N, C, H, W), got {size!r} (a 5-D size is not supported)")
    n, _, H, W = size
    if th.ndim != 3 or tuple(th.shape[1:]) != (2, 3) or not T.dims_equal(th.shape[0], n):
        raise ShapeError(f"affine_grid: theta {th} has shape {T.fmt(th.shape)}; for size {tuple(size)} it must be "
                         f"({n}, 2, 3)")
    if not (isinstance(H, int) and isinstance(W, int)) or H < 1 or W < 1:
        raise ShapeError(f"affine_grid: the height and width must be positive numbers, got {H} × {W}")

    def coords(m):                                        # torch's linspace_from_neg_one
        if m == 1:
            return T.as_tensor(arange(1) * 0)
        if align:
            return T.as_tensor(arange(m) * sp.Rational(2, m - 1) - 1)
        return T.as_tensor((2 * arange(m) + 1) * sp.Rational(1, m) - 1)
    xs = T.broadcast(coords(W)[None, :], (H, W))
    ys = T.broadcast(coords(H)[:, None], (H, W))
    base = T.stack([xs, ys, ones((H, W))], axis=-1).reshape(1, H * W, 3)   # (1, H·W, 3)
    return (base @ th.transpose(0, 2, 1)).reshape(n, H, W, 2)
