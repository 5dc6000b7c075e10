"""How large the values a text computes on the way are: every matrix and tensor part of the built
expression, a matrix product's partial products (SymPy writes x*(x.T*x) as one product, computed
from the left), and the windows a convolution or a pool works on (im2col: (N, C, *O, *K)).

The text's declared inputs are bounded where they are declared (1,000,000 entries); this bounds
what the text builds from them, so ``2*x + 1e-30*x*x.T*x`` of a 10000×1 column (an outer product
of 10⁸ entries, 870 MB) is refused when it is read, not when it is computed. Only the text path
(`parse.parse_expr`) checks: an expression built in Python is the user's own program.

>>> import sympy as sp
>>> x = sp.MatrixSymbol("x", 10000, 1)
>>> largest_part(x * x.T * x)[1:3]
((10000, 10000), 100000000)
"""
from __future__ import annotations

import math

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixExpr

from .parse_grammar import _is_tensor, MAX_PART


def _entries(shape) -> int:
    """The number of entries, each symbolic size (N) counted as 1: the size per unit of it."""
    return math.prod(int(d) if getattr(d, "is_Integer", False) or isinstance(d, int) else 1
                     for d in shape)


def _shape(shape) -> tuple:
    return tuple(int(d) if getattr(d, "is_Integer", False) else d for d in shape)


def _windows(node):
    """(what, shape) of the windows a convolution or pool node (symgrad/frontend/conv.py) reads, or
    None for other nodes. Known by the properties only they have (parse*.py import no tensor module:
    tests/frontend/test_parse_tensors.py): a convolution's ``input_dilation`` (its args x, w), a
    pool's ``kernel``."""
    cls = type(node)
    if isinstance(getattr(cls, "input_dilation", None), property):
        x, w, out = node.args[0].shape, node.args[1].shape, node.shape
        return lambda: f"the windows of {_short(node)!r}", tuple(x[:2]) + tuple(out[2:]) + tuple(w[2:])
    if isinstance(getattr(cls, "kernel", None), property):
        return lambda: f"the windows of {_short(node)!r}", tuple(node.shape) + tuple(node.kernel)
    return None


def _short(node, limit=60) -> str:
    s = sp.sstr(node)
    return s if len(s) <= limit else s[:limit - 3] + "..."


def _parts(node):
    """(what, shape) of each value computing ``node`` makes, apart from its arguments; ``what()``
    names it (printed only for a message: printing every node is slow)."""
    if isinstance(node, MatrixExpr):
        if isinstance(node, sp.MatMul):
            mats = [a for a in node.args if isinstance(a, MatrixExpr)]
            for k in range(2, len(mats)):         # the partial products from the left, as lowered
                yield (lambda k=k: f"{_short(sp.MatMul(*mats[:k]))!r} (a product of matrices is computed "
                       f"from the left: SymPy writes x*(x.T*x) as x*x.T*x)"), (mats[0].shape[0], mats[k - 1].shape[1])
        yield (lambda: repr(_short(node))), node.shape
    elif _is_tensor(node):
        shape = getattr(node, "shape", None)        # an entrywise comparison of tensors has none
        if not isinstance(shape, tuple):
            return
        win = _windows(node)
        if win is not None:
            yield win
        yield (lambda: repr(_short(node))), shape


def largest_part(expr):
    """(what, shape, entries, node) of the first part past `MAX_PART` entries, else None."""
    stack, seen = [expr], set()
    while stack:
        node = stack.pop()
        if id(node) in seen or not isinstance(node, sp.Basic):
            continue
        seen.add(id(node))
        if isinstance(node, sp.Expr) or _is_tensor(node):     # a MatrixExpr is an Expr
            for what, shape in _parts(node):
                n = _entries(shape)
                if n > MAX_PART:
                    return what(), _shape(shape), n, node
        stack.extend(node.args)
    return None
