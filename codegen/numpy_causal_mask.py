"""A causal mask written row by row in the NumPy target.

An attention's ``sg.where(sg.tril(sg.ones((T, T))) > 0, s, -inf)`` is, in the whole-batch writer, a
masked copy ``numpy.copyto(s, -numpy.inf, where=numpy.logical_not(numpy.greater(m, 0)))`` with m the
(T, T) lower triangle (`codegen.numpy_whole_batch.WholeBatchScheduler._masked_fill`). When m is known
to be that triangle, the entries above the diagonal are set by slices instead,

    for row in range(T - 1): s[..., row, row + 1:] = -numpy.inf

the same entries set to the same number (bit for bit the same array), in half the time: copyto's
``where=`` over the (N, H, T, T) scores of bench/transformer_step.py took 0.32 ms, the T − 1 slices
0.16 (`bench/causal_mask.py`). Only ``tril`` with k = 0 of a constant 1 takes this form, compared
so that the fill goes where it is 0 (``where(m > 0, s, -inf)``, torch's ``masked_fill(m == 0, -inf)``).
"""
from __future__ import annotations

import sympy as sp

from symgrad.core import rules as R
from symgrad.core.tri_rules import tril_p

# the loop's variable: no name symgrad gives a value (v7, p0, x1, g3, d0, ws ...)
ROW = "row"


def causal_rows(graph, var: int, cond, fill_where_false: bool, result_shape) -> int | None:
    """T when the fill of ``where(cond, ·, k)`` (``fill_where_false``) or ``where(cond, k, ·)`` goes
    exactly above the diagonal of the result's last two axes: ``cond`` is over one symbol, that
    of ``var``, a (T, T) lower triangle of ones (``tril`` with k = 0 of a constant 1), and the fill
    goes where it is 0 and not where it is 1 (``m > 0``, ``m > 0.5``, ``m == 0``, ``m < 1`` ...);
    else None."""
    if not isinstance(cond, sp.core.relational.Relational) or len(cond.free_symbols) != 1:
        return None
    e = graph.producer.get(var)
    if e is None or e.prim is not tril_p or e.params[0] != 0:
        return None
    c = graph.producer[e.inputs[0].id]
    if c.prim is not R.const_p or not (sp.sympify(c.params[0]) == 1):
        return None
    shape = tuple(e.out.shape)
    if len(shape) != 2 or shape[0] != shape[1] or not sp.sympify(shape[0]).is_Integer \
            or tuple(result_shape[-2:]) != shape or int(shape[0]) < 2:
        return None
    (m,) = cond.free_symbols
    holds = {value: cond.subs(m, value) for value in (0, 1)}
    if any(h not in (sp.true, sp.false) for h in holds.values()):
        return None
    filled = {value: (h is sp.false) == fill_where_false for value, h in holds.items()}
    return int(shape[0]) if filled[0] and not filled[1] else None


def causal_fill(name: str, T: int, fill: str) -> str:
    """The one statement that sets the entries above the diagonal of ``name``'s last two axes."""
    return f"for {ROW} in range({T - 1}): {name}[..., {ROW}, {ROW} + 1:] = {fill}"
