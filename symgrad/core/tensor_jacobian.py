"""`sg.jacobian` and `sg.hessian` of tensors (`sg.tensor`, NumPy semantics), entry by entry.

Layout, as ``torch.autograd.functional.jacobian`` and ``jax.jacobian`` have it: the Jacobian of
F (shape S) with respect to w (shape K) is an array of shape S + K,

    J[i…, k…] = ∂F[i…] / ∂w[k…],

and the Hessian of a scalar f is the Jacobian of its gradient, of shape K + K (with several w, a
list of lists, H[a][b] of shape Kₐ + K_b). Entries are SymPy scalars over the entries x[0, 1] of
the tensors (SymPy's ``ArrayElement``, which ``sympy.diff`` takes as a variable), in an
``ImmutableDenseNDimArray``, as reverse mode writes them (not simplified: ``sp.simplify`` of an
entry with tanh or softmax in it takes seconds; apply it to the entries you print). Each row comes
from one reverse sweep of the IR, seeded with the one-hot cotangent of that output entry
(``mode="forward"``: one forward sweep per entry of w); the sweeps' variables are then written out
with `symgrad.core.explicit`. The sizes must be numbers: every entry is written out, so the tensors
must be small (`MAX_ENTRIES`).

>>> import sympy as sp, symgrad as sg
>>> x = sg.tensor("x", (2,))
>>> J = sg.jacobian(x * x[0], x)          # F[i] = x[i]·x[0]
>>> J.shape, J[1, 0], J[1, 1]
((2, 2), x[1], x[0])
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from . import array_rules as A
from . import rules as R
from ..errors import ArgumentError, ShapeError
from ..frontend.parse import as_expr
from ..frontend.tensor import Tensor, is_tensor_expr, shape_of
from .explicit import explicit
from .forward import forward as _forward
from .ir import Graph, format_shape
from .lower import Lowering
from .reverse import backward

MAX_ENTRIES = 4096        # entries of one Jacobian block written out (each is a SymPy expression)


def is_tensor_case(F, flat) -> bool:
    """Does this Jacobian or Hessian take the tensor path (a tensor among wrt, or a tensor F)?"""
    outs = F if isinstance(F, (list, tuple, sp.MatrixBase)) else [F]
    return (any(isinstance(w, Tensor) for w in flat)
            or any(isinstance(Fi, sp.Basic) and is_tensor_expr(Fi) for Fi in outs))


def _concrete(what: str, e, name: str) -> tuple:
    """The shape of ``e`` as ints; a ShapeError that says how to give sizes when one is a symbol."""
    shape = tuple(shape_of(e)) if is_tensor_expr(e) else ()
    sizes = sorted({s for d in shape for s in sp.sympify(d).free_symbols}, key=str)
    if sizes:
        fix = ", ".join(f"{s}: 3" for s in sizes)
        raise ShapeError(f"{what} of tensors writes every entry out, so it needs concrete sizes: {name} "
                         f"has the shape {format_shape(shape)} with the symbol(s) "
                         f"{', '.join(map(str, sizes))}. Declare the tensors with numbers "
                         f"(sg.tensor('x', (3, 2))), or substitute them in F and wrt alike: "
                         f"F.xreplace({{{fix}}}). For any size, take sg.grad of a reduction: "
                         + ("a Hessian-vector product, sg.grad(sg.sum(sg.grad(f, w) * u), w) with u "
                            "a tensor of w's shape" if what == "hessian" else
                            "a vector-Jacobian product, sg.grad(sg.sum(F * u), w)"))
    return tuple(int(d) for d in shape)


def _concrete_leaves(what: str, e) -> None:
    """Every tensor of ``e`` at concrete sizes (an input x of shape (N, 3) inside a scalar F too)."""
    for t in sorted(as_expr(e).atoms(Tensor), key=lambda t: t.name):
        _concrete(what, t, t.name)


def _one_hot_seed(graph: Graph, shape: tuple, idx: tuple):
    """A variable of ``shape`` that is 1 at ``idx`` and 0 elsewhere: a 1 padded into place."""
    if shape == ():
        return R.const(graph, 1, ())
    one = R.const(graph, 1, (1,) * len(shape))
    return A.pad(graph, one, shape, tuple((sp.Integer(i), sp.Integer(i + 1), sp.S.One) for i in idx))


def _block(graph, out, w_var, shape_out, shape_w, mode, memo):
    """The array ∂out/∂w of shape shape_out + shape_w, written out."""
    if int(np.prod(shape_out + shape_w, dtype=np.int64)) > MAX_ENTRIES:
        raise ShapeError(f"this Jacobian would have {format_shape(shape_out + shape_w)} entries, more "
                         f"than {MAX_ENTRIES} written out one by one: take smaller tensors, or "
                         f"sg.grad of a reduction (sg.sum(F * u)) for a vector-Jacobian product")
    J = np.full(shape_out + shape_w, sp.S.Zero, dtype=object)
    if mode == "reverse":                        # one sweep per entry of the output
        for i in np.ndindex(*shape_out):
            (ct,) = backward(graph, out, [w_var], seed=_one_hot_seed(graph, shape_out, i))
            if ct is not None:
                J[i] = explicit(graph, [ct], memo)[0]
    else:                                        # one sweep per entry of w
        for k in np.ndindex(*shape_w):
            (t,) = _forward(graph, [out], {w_var.id: _one_hot_seed(graph, shape_w, k)})
            if t is not None:
                J[(Ellipsis,) + k] = explicit(graph, [t], memo)[0]
    flat = [sp.sympify(e) for e in J.ravel()]
    if J.shape == ():
        return flat[0]
    return sp.ImmutableDenseNDimArray(flat, J.shape)


def _wrt_shapes(what: str, flat) -> list:
    for w in flat:
        if not isinstance(w, (Tensor, sp.Symbol)):
            raise ArgumentError(f"{what} of tensors takes tensors and scalar Symbols as wrt; {w} is a "
                                f"{type(w).__name__} (matrices and tensors do not mix)")
    return [_concrete(what, w, str(w)) for w in flat]


def tensor_jacobian(F, wrt, flat, mode, policy):
    """sg.jacobian of a tensor F (or with respect to tensors): one array per wrt entry, shaped
    F.shape + w.shape; the array itself when wrt is not a list."""
    shapes = _wrt_shapes("jacobian", flat)
    graph = Graph(policy)
    low = Lowering(graph, params=flat)
    if isinstance(F, (list, tuple, sp.MatrixBase)):     # scalars: one row each, as sg.stack(F)
        Fs = [as_expr(Fi, "F", symbols=flat) for Fi in F]
        for Fi in Fs:
            _concrete_leaves("jacobian", Fi)
        bad = [Fi for Fi in Fs if _concrete("jacobian", Fi, "an entry of F") != ()]
        if bad:
            raise ArgumentError(f"jacobian takes one tensor expression F, or a list of scalars; the "
                                f"list holds {bad[0]} of shape {format_shape(shape_of(bad[0]))}: "
                                f"stack the outputs (sg.stack, sg.concat) into one tensor")
        outs = [R.reduce_sum(graph, low(Fi), None) for Fi in Fs]      # a 1×1 matrix as a scalar
        out, shape_out = A.concat(graph, [A.reshape(graph, o, (1,)) for o in outs], 0), (len(outs),)
    else:
        F = as_expr(F, "F", symbols=flat)
        shape_out = _concrete("jacobian", F, "F")
        _concrete_leaves("jacobian", F)
        out = low(F)
    memo: dict = {}
    blocks = [_block(graph, out, low.leaf(w), shape_out, s, mode, memo) for w, s in zip(flat, shapes)]
    return type(wrt)(blocks) if isinstance(wrt, (list, tuple)) else blocks[0]


def tensor_hessian(f, wrt, flat, policy):
    """sg.hessian of a scalar with respect to tensors: H[a][b] = ∂(∂f/∂wₐ)/∂w_b of shape Kₐ + K_b
    (reverse over reverse, in one graph); the block itself when wrt is not a list."""
    shapes = _wrt_shapes("hessian", flat)
    graph = Graph(policy)
    low = Lowering(graph, params=flat)
    f = as_expr(f, "f", symbols=flat)
    if _concrete("hessian", f, "f") != ():
        raise ShapeError(f"hessian needs a scalar f; f has shape {format_shape(shape_of(f))}: reduce "
                         f"it (sg.sum), or take sg.jacobian of it")
    _concrete_leaves("hessian", f)
    out = low(f)
    wrt_vars = [low.leaf(w) for w in flat]
    grads = backward(graph, out, wrt_vars)
    memo: dict = {}
    rows = []
    for g, sa in zip(grads, shapes):
        row = []
        for w, sb in zip(wrt_vars, shapes):
            if g is None:
                z = np.full(sa + sb, sp.S.Zero, dtype=object)
                row.append(sp.ImmutableDenseNDimArray(z.ravel().tolist(), z.shape) if z.shape else sp.S.Zero)
            else:
                row.append(_block(graph, g, w, sa, sb, "reverse", memo))
        rows.append(row)
    return type(wrt)(type(wrt)(r) for r in rows) if isinstance(wrt, (list, tuple)) else rows[0][0]


__all__ = ["tensor_jacobian", "tensor_hessian", "is_tensor_case", "MAX_ENTRIES"]
