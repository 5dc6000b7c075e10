"""A constant factor that is an average pool's window size: 11-785's MeanPool2d_stride1 backward
written `dA[:, :, i:i+k, j:j+k] += dZ[:, :, i:i+1, j:j+1]` without the 1/k², dividing twice, or
dividing by k (one side of the window) where k² belongs.
Named before the sizes of the problem, which a k² may equal by chance (a 2×2 window and a 4×4 image:
"4, the size of axes 2 and 3 of A" told the student nothing about the pool)."""
from __future__ import annotations

import numpy as np
import sympy as sp

from ..frontend import conv as C


def pool_factor(f, a: float) -> str:
    """The words for a claim ``a`` times the gradient, where ``a`` or 1/a is the entries of an
    average pool's window in ``f``; "" when it is not."""
    pools = [n for n in dict.fromkeys(sp.preorder_traversal(f)) if type(n) is C.AvgPool]
    for n in pools:
        k = int(np.prod(n.kernel))
        sizes = "·".join(str(d) for d in n.kernel)
        what = f"{k} = {sizes}, the entries of the average pool's window {tuple(n.kernel)}"
        if k > 1 and abs(a - k) < 1e-9:
            return (f" — {what}: the average's 1/{k} left out of the backward (each entry of the "
                    f"window gets dout / {k})")
        if k > 1 and abs(a - 1 / k) < 1e-9:
            return f" — 1/{k} with {what}: the average's 1/{k} applied twice"
        for j, side in enumerate(n.kernel):       # divided by one side of the window, not its entries
            part = k // int(side)
            if len(n.kernel) > 1 and part > 1 and abs(a - part) < 1e-9:
                return (f" — the backward divides by {side}, the window's size along one axis, where the "
                        f"average divides by {what}: each entry of the window gets dout / {k}")
    return ""
