"""Independent oracles the tests compare symgrad with: central finite differences (float64, through
`sg.numeric` of f only), torch.autograd (float64), SymPy's own explicit-matrix algebra (substitute
explicit matrices, ``.doit()``), and high-precision evaluation with mpmath (``evalf``)."""
from __future__ import annotations

import numpy as np
import sympy as sp

import symgrad as sg


def is_matrix(s) -> bool:
    return isinstance(s, (sp.MatrixExpr, sp.MatrixBase))


def as_array(v) -> np.ndarray:
    return np.asarray(v, dtype=float)


def central_differences(f, syms, point, h=1e-6):
    """∂f/∂s for each symbol s at ``point`` by (f(p + h e) − f(p − h e)) / 2h, entry by entry;
    f is evaluated by `sg.numeric` (the forward pass only, no derivative code)."""
    from symgrad.core.evaluate import evaluate
    from symgrad.core.lower import lower
    graph, _, out = lower(sp.sympify(f))           # what sg.numeric does, lowered once

    def value(p):
        return float(np.asarray(evaluate(graph, [out], p)[0]).reshape(()))

    grads = []
    for s in syms:
        base = as_array(point[s])
        g = np.zeros_like(base)
        for idx in np.ndindex(*base.shape):
            vals = []
            for sgn in (1, -1):
                p = dict(point)
                v = base.copy()
                v[idx] += sgn * h
                p[s] = v if base.shape else float(v)
                vals.append(value(p))
            g[idx] = (vals[0] - vals[1]) / (2 * h)
        grads.append(g)
    return grads


def central_differences_of(fun, arr, h=1e-6) -> np.ndarray:
    """The gradient of the NumPy function ``fun`` (an array to a number) at ``arr``, entry by entry,
    by (fun(a + h e) − fun(a − h e)) / 2h: an oracle written without symgrad at all."""
    arr = as_array(arr)
    g = np.zeros_like(arr)
    for i in np.ndindex(arr.shape):
        e = np.zeros_like(arr)
        e[i] = h
        g[i] = (fun(arr + e) - fun(arr - e)) / (2 * h)
    return g


def torch_grads(torch_f, syms, point):
    """The gradient of ``torch_f(*tensors)`` by torch.autograd in float64, one tensor per symbol."""
    import torch
    ts = [torch.tensor(as_array(point[s]), dtype=torch.float64, requires_grad=True) for s in syms]
    out = torch_f(*ts)
    gs = torch.autograd.grad(out.sum(), ts, allow_unused=True)
    return [np.zeros(as_array(point[s]).shape) if g is None else g.detach().numpy()
            for s, g in zip(syms, gs)]


def substitute(expr, point):
    """Evaluate a SymPy expression by SymPy alone: explicit matrices in, ``.doit()``, explicit out."""
    sub = {s: (sp.ImmutableMatrix(as_array(v)) if is_matrix(s) else sp.Float(float(v), 30))
           for s, v in point.items()}
    r = expr.xreplace(sub) if not any(is_matrix(s) for s in sub) else expr.subs(sub)
    r = r.doit()
    if isinstance(r, sp.MatrixExpr):
        r = r.as_explicit()
    if isinstance(r, sp.MatrixBase):
        return np.array(r.evalf(30).tolist(), dtype=float)
    return float(sp.N(r, 30))


def hp_equal(a, b, points, digits=20) -> bool:
    """a == b at each point (symbol -> number), by evaluation with 30 significant digits."""
    for p in points:
        va = sp.N(sp.sympify(a).xreplace(p), 30)
        vb = sp.N(sp.sympify(b).xreplace(p), 30)
        if not (va.is_number and vb.is_number):
            raise AssertionError(f"not numbers after substitution: {va}, {vb}")
        if abs(complex(va) - complex(vb)) > 10 ** (-digits) * max(1.0, abs(complex(vb))):
            return False
    return True


def symbolically_equal(a, b, points) -> bool:
    """simplify(a − b) == 0, falling back to high-precision evaluation at ``points``."""
    d = sp.sympify(a) - sp.sympify(b)
    if d == 0:
        return True
    try:
        if sp.simplify(d) == 0:
            return True
    except Exception:  # noqa: BLE001 - simplify may give up; the evaluation decides then
        pass
    return hp_equal(a, b, points)


# symgrad's activations written out by hand, so that sympy.diff of them does not go through the
# ``fdiff`` under test.
_HAND = {sg.sigmoid: lambda a: 1 / (1 + sp.exp(-a)), sg.relu: lambda a: sp.Max(0, a),
         sg.softplus: lambda a: sp.log(1 + sp.exp(a)),
         sg.leaky_relu: lambda a, alpha: sp.Max(0, a) + alpha * sp.Min(0, a)}


def elementary(e):
    """``e`` with sigmoid, relu, softplus, leaky_relu replaced by their elementary definitions."""
    for cls, form in _HAND.items():
        e = e.replace(cls, form)
    return e
