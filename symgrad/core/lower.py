"""Lowering: SymPy expressions (scalar ``Expr`` and ``MatrixExpr``) to IR equations.

One SymPy node becomes one equation: Add, Mul, Pow and every scalar function become a small
``ewise`` body (``a0 + a1``, ``sigmoid(a0)``); MatMul becomes ``matmul``; Transpose ``transpose``;
MatAdd and HadamardProduct ``ewise``; MatPow A**n repeated ``matmul`` (A**-n and Inverse of
``inverse``); Determinant ``det``, and log(det X) ``logdet`` (see `symgrad.core.matrix_inverse`); ``applyfunc`` lowers the
function's body with its variable bound to the matrix. Hash-consing in `Graph.bind` makes equal
subexpressions one equation.

Anything else is an `UnsupportedError` that names the node and lists what is supported.
"""
from __future__ import annotations

from typing import Callable

import sympy as sp
from sympy.core.function import AppliedUndef, Application
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.matexpr import MatrixElement

from . import diag_rules as DR
from . import matrix_inverse as MI
from . import rules as R
from ..errors import ShapeError, UnsupportedError
from ..frontend.functions import (Gather, LogSoftmax, LogSumExp, Map, Softmax, Total, XLogY, matrix_function_message,
                                  xlogy)
from ..frontend.parse import as_expr
from ..frontend.tensor import TensorExpr
from .ewise_form import Elementwise
from .ir import Graph, Var, format_shape

SUPPORTED = (
    "scalar: Symbol, numbers, Add, Mul, Pow, exp, log, sin, cos, tan, tanh, sinh, cosh, sqrt, Abs, "
    "sign, Max, Min, sigmoid, relu, leaky_relu, softplus (and other SymPy functions with a known "
    "derivative); matrix: MatrixSymbol, MatMul, MatAdd, Transpose, MatPow (A**n, n a nonzero "
    "integer; A**-1 and A.inv() the inverse), Determinant (det(A), log(det(A)) by slogdet), HadamardProduct, HadamardPower, "
    "applyfunc (ElementwiseApplyFunction), Trace, DiagMatrix(v), DiagonalOf(M), M[i, j], Identity, ZeroMatrix, OneMatrix, explicit "
    "matrices (Matrix), sg.sum, sg.softmax, sg.log_softmax, sg.logsumexp"
)


def _shape_of(expr) -> tuple:
    if isinstance(expr, (sp.MatrixExpr, sp.MatrixBase, TensorExpr)):
        return tuple(R._dim(d) for d in expr.shape)
    return ()


class Lowering:
    """Lowers SymPy expressions into ``graph``. Symbols in ``params`` become ``param`` leaves, every
    other free symbol an ``input`` leaf. ``self.exprs`` maps each var it made back to its SymPy
    expression (the forward values keep the user's own form when converted back)."""

    def __init__(self, graph: Graph, params=(), *, diag_ops: bool = False):
        self.graph = graph
        self.params = set(params)
        # DiagMatrix / DiagonalOf as one diag / diagonal equation each (a derivation's steps, see
        # `symgrad.core.diag_rules`), else as the broadcast and ewise they compute (the compiler's)
        self.diag_ops = diag_ops
        self.memo: dict[sp.Basic, Var] = {}
        self.exprs: dict[int, sp.Basic] = {}
        self.sums: dict[frozenset, Var] = {}           # the terms of each sum lowered -> its var
        self.names: dict[str, sp.Basic] = {}            # each leaf's name -> its symbol

    # -- driver: iterative post-order, so deep expressions do not hit the recursion limit ----------
    def __call__(self, expr) -> Var:
        expr = as_expr(expr, symbols=self.params)      # text is parsed, never evaluated
        expr = as_maps(expr)
        memo = self.memo
        stack = [(expr, False)]
        while stack:
            e, ready = stack.pop()
            if e in memo:
                continue
            handler = self._handler(e)
            kids = handler.children(self, e)
            if ready or not kids:
                var = handler.build(self, e, [memo[k] for k in kids])
                memo[e] = var
                self.exprs.setdefault(var.id, e)
                continue
            stack.append((e, True))
            stack.extend((k, False) for k in kids if k not in memo)
        return memo[expr]

    def _handler(self, e):
        for cls in type(e).__mro__:
            h = _HANDLERS.get(cls)
            if h is not None:
                return h
        if isinstance(e, AppliedUndef):
            raise UnsupportedError(
                f"unknown function {e.func.__name__!r} in {e}: symgrad cannot differentiate an "
                f"undefined function. Define it as a SymPy Function subclass with fdiff, or use one "
                f"of the supported ones. Supported: {SUPPORTED}")
        if isinstance(e, Application) and any(isinstance(a, sp.MatrixExpr) for a in e.args):
            raise UnsupportedError(matrix_function_message(e))
        # Any applied SymPy function of scalars (exp, tanh, sigmoid, ...): one ewise equation.
        if isinstance(e, Application) and all(isinstance(a, sp.Expr) and not isinstance(a, sp.MatrixExpr)
                                              for a in e.args):
            return _SCALAR_NODE
        raise UnsupportedError(f"cannot lower {type(e).__name__} ({e}). Supported: {SUPPORTED}")

    # -- leaves -----------------------------------------------------------------------------------
    def leaf(self, s) -> Var:
        prim = R.param_p if s in self.params else R.input_p
        seen = self.names.setdefault(getattr(s, "name", None), s)
        if seen != s and not isinstance(s, sp.Dummy):   # two x's: one name, two values (printing, feeds)
            a, b = _shape_of(seen), _shape_of(s)
            how = (f"shapes {a} and {b}" if a != b
                   else f"shape {a} but different assumptions: {sp.srepr(seen)}, {sp.srepr(s)}")
            new = f"{'sg.tensor' if b else 'sp.Symbol'}('{s.name}2', ...)"
            raise ShapeError(f"two different symbols are both named {s.name!r} ({how}); values are "
                             f"given by name, so rename one ({new})")
        return self.graph.bind(prim, (), (s, _shape_of(s)))


def as_maps(expr):
    """SymPy's ``M.applyfunc(f)`` nodes as `Map`s, which print as ``f(M)`` in derivations and hints
    (SymPy prints ``Lambda(_d, f(_d)).(M)``); the rest of ``expr`` as it is."""
    if not isinstance(expr, sp.Basic) or not _has_applyfunc(expr):
        return expr
    return expr.replace(lambda e: type(e) is ElementwiseApplyFunction, lambda e: Map(e.function, e.expr))


def _has_applyfunc(expr) -> bool:
    # iterative, each shared subexpression once: a chain 3000 deep is no recursion
    stack, seen = [expr], {expr}
    while stack:
        e = stack.pop()
        if type(e) is ElementwiseApplyFunction:
            return True
        for a in e.args:
            if a not in seen:
                seen.add(a)
                stack.append(a)
    return False


class _Handler:
    def __init__(self, children: Callable, build: Callable):
        self.children = children
        self.build = build


_HANDLERS: dict[type, _Handler] = {}


def _on(*types):
    def deco(pair):
        for t in types:
            _HANDLERS[t] = pair
        return pair
    return deco


_no_children = lambda low, e: ()  # noqa: E731
_args = lambda low, e: e.args      # noqa: E731

# Leaves --------------------------------------------------------------------------------------------
_on(sp.Symbol, sp.MatrixSymbol)(_Handler(_no_children, lambda low, e, a: low.leaf(e)))


def _number(low, e, a):
    return R.const(low.graph, e, ())


_on(sp.Number, sp.NumberSymbol, sp.core.numbers.ImaginaryUnit)(_Handler(_no_children, _number))
def _explicit_children(low, e):
    if isinstance(e, sp.MatrixBase) and e.free_symbols:
        return tuple(dict.fromkeys(a for a in e if a.free_symbols))   # the distinct symbolic entries
    return ()


def _explicit_matrix(low, e, args):
    """A numeric matrix is a constant. A matrix of expressions (the gradient of terms in M[i, j] is
    one) is Σ_k entry_k ∘ mask_k, one term per distinct symbolic entry, plus its numeric part."""
    shape = _shape_of(e)
    if not args:
        return R.const(low.graph, e, shape)
    g = low.graph
    numeric_part = e.applyfunc(lambda a: 0 if a.free_symbols else a)
    terms = [R.const(g, numeric_part, shape)] if any(a != 0 for a in numeric_part) else []
    for entry, var in zip(_explicit_children(low, e), args):
        if var.shape != ():
            raise ShapeError(f"an entry of the explicit matrix {e} is not a scalar: {entry}")
        mask = sp.ImmutableMatrix(*e.shape, lambda i, j: 1 if e[i, j] == entry else 0)
        terms.append(R.ewise(g, R.ph(0) * R.ph(1), var, R.const(g, mask, shape), shape=shape))
    return R.add_n(g, terms, shape)


_on(sp.Identity, sp.ZeroMatrix, sp.OneMatrix, sp.ImmutableMatrix, sp.MutableDenseMatrix)(
    _Handler(_explicit_children, _explicit_matrix))


# Scalar nodes: one ewise equation each --------------------------------------------------------------


def _scalar_children(low, e):
    if e.is_number and not e.free_symbols and not e.has(sp.MatrixExpr):
        return ()
    for a in e.args:
        if not isinstance(a, sp.Expr):
            raise UnsupportedError(f"cannot lower {type(e).__name__} ({e}): its argument {a} is "
                                   f"not an expression. Supported: {SUPPORTED}")
    return e.args


def _scalar_build(low, e, args):
    if not args:
        return R.const(low.graph, e, ())
    if isinstance(e, sp.Add):
        return _sum(low, args, lambda n: sp.Add(*R.placeholders(n)), None)
    if isinstance(e, sp.log) and low.graph.producer[args[0].id].prim is MI.det_p:
        # log(det X) by slogdet: finite where det X under- or overflows; gradient X⁻ᵀ
        return MI.logdet(low.graph, low.graph.producer[args[0].id].inputs[0])
    if isinstance(e, sp.log) and _is_factorial(low.graph, args[0]):
        # log(y!) as loggamma(y + 1) (log |Γ|, torch's lgamma): the Poisson likelihood's log y!,
        # which both printers print and SymPy differentiates to digamma(y + 1); factorial they refuse
        return R.ewise(low.graph, sp.loggamma(R.ph(0) + 1), low.graph.producer[args[0].id].inputs[0])
    body = e.func(*R.placeholders(len(args)))
    return R.ewise(low.graph, body, *args)


def _is_factorial(graph, v) -> bool:
    """Whether ``v`` is factorial(u) entry by entry, of one input u."""
    eqn = graph.producer[v.id]
    return eqn.prim is R.ewise_p and len(eqn.inputs) == 1 and eqn.params[0] == sp.factorial(R.ph(0))


def _sum(low, args, body_of_n, shape):
    """a + b + c, reusing a + b when it was lowered already: SymPy flattens a residual network's
    h + f(h) into one sum of every layer's output, which would make the graph (and its gradient)
    quadratic in the depth."""
    ids = [v.id for v in args]
    terms = list(args)
    # the largest earlier sum of all terms but one or two (h - y, the loss, leaves out two)
    drops = [(k,) for k in range(len(args))]
    if len(args) <= 64:
        drops += [(j, k) for j in range(len(args)) for k in range(j + 1, len(args))]
    for drop in drops if len(args) > 2 else ():
        hit = low.sums.get(frozenset(i for k, i in enumerate(ids) if k not in drop))
        if hit is not None:
            terms = [hit] + [args[k] for k in drop]
            break
    out = R.ewise(low.graph, body_of_n(len(terms)), *terms, shape=shape)
    low.sums.setdefault(frozenset(ids), out)
    return out


_SCALAR_NODE = _Handler(_scalar_children, _scalar_build)
# Max and Min are LatticeOps, not Functions: they need their own entry.
_on(sp.Add, sp.Mul, sp.Pow, sp.Max, sp.Min)(_SCALAR_NODE)

# Matrix nodes --------------------------------------------------------------------------------------


def _matmul(low, e, args):
    g = low.graph
    scalars = [a for a in args if a.shape == ()]
    mats = [a for a in args if a.shape != ()]
    acc = mats[0]
    for k, m in enumerate(mats[1:]):
        if not R.dims_equal(acc.shape[1], m.shape[0]):
            names = [str(x) for x in e.args if isinstance(x, sp.MatrixExpr)]   # printing is slow: only here
            # Not f"{e}": SymPy cannot print a product whose shapes do not align (it re-checks them).
            raise ShapeError(f"matrix product {' * '.join(names)}: {names[k + 1]} has shape {format_shape(m.shape)} but "
                             f"the product before it ({' * '.join(names[:k + 1])}) has "
                             f"{format_shape(acc.shape)}: inner dimensions {acc.shape[1]} and "
                             f"{m.shape[0]} differ")
        acc = R.matmul(g, acc, m)
    if scalars:
        acc = R.ewise(g, sp.Mul(*R.placeholders(len(scalars) + 1)), *scalars, acc, shape=acc.shape)
    return acc


def _elementwise_nary(what, body_of_n):
    def build(low, e, args):
        from .ir import check_same_shape
        shapes = [a.shape for a in args]
        try:
            shape = check_same_shape(what, shapes)
        except ShapeError:       # print the operands only now: printing every node is slow
            shape = check_same_shape(f"{what} {e}", shapes, [str(x) for x in e.args])
        if what == "matrix sum":
            return _sum(low, list(args), body_of_n, shape)
        return R.ewise(low.graph, body_of_n(len(args)), *args, shape=shape)
    return build


_on(sp.MatMul)(_Handler(_args, _matmul))
_on(sp.MatAdd)(_Handler(_args, _elementwise_nary("matrix sum", lambda n: sp.Add(*R.placeholders(n)))))
_on(sp.HadamardProduct)(_Handler(_args, _elementwise_nary("Hadamard product",
                                                          lambda n: sp.Mul(*R.placeholders(n)))))
_on(sp.HadamardPower)(_Handler(_args, lambda low, e, a: R.ewise(low.graph, R.ph(0) ** R.ph(1), *a,
                                                                shape=a[0].shape)))
_on(sp.Transpose)(_Handler(_args, lambda low, e, a: R.transpose(low.graph, a[0])))


# ∂ Σ(Aⁿ)/∂A = Σᵢ (Aᵀ)ⁱ·𝟙·(Aᵀ)ⁿ⁻¹⁻ⁱ has n terms when written back to SymPy: a bound, so that
# A**(2**40) is refused at once instead of building a trillion-term gradient.
MAX_MATRIX_POWER = 1024


def _matrix_power_exponent(e) -> int:
    """The exponent n of A**n when it is a nonzero integer (2.0 counts as 2) of magnitude up to
    ``MAX_MATRIX_POWER``; a negative one is a power of the inverse (A**-1 is SymPy's Inverse, a
    MatPow). Anything else — A**0, A**(1/2), A**k with a symbol k — is refused by name."""
    n = e.exp
    if (n.is_Integer or n.is_Float and n.is_finite) and n != 0 and float(n) == int(n):
        if abs(int(n)) > MAX_MATRIX_POWER:
            raise UnsupportedError(f"matrix power {e}: the exponent is above {MAX_MATRIX_POWER} in size, the "
                                   f"largest symgrad differentiates (its gradient has one term per power)")
        return int(n)
    raise UnsupportedError(f"matrix power {e} (exponent {n}): symgrad supports A**n for a nonzero "
                           f"integer n (a repeated matrix product; a negative n is a power of the "
                           f"inverse A**-1), not zero, fractional or symbolic exponents{_entrywise_hint(e)}. "
                           f"Supported: {SUPPORTED}")


def _entrywise_hint(e) -> str:
    # sp.sqrt(A) of a square A is SymPy's matrix square root; the researcher usually meant sg.sqrt(A)
    if e.exp == sp.S.Half:
        return f" (for the square root entry by entry write sg.sqrt({e.base}))"
    return f" (for the power entry by entry write sp.HadamardPower({e.base}, {e.exp}))"


def _matpow(low, e, args):
    """A**n as matrix products by square-and-multiply: A⁵ = A⁴·A with A⁴ = (A²)², so log₂ n
    squarings; hash-consing keeps each power once, and the gradient is that of the products."""
    n = _matrix_power_exponent(e)
    (a,) = args
    if not R.dims_equal(a.shape[0], a.shape[1]):
        raise ShapeError(f"matrix power {e} of a non-square matrix of shape {format_shape(a.shape)}")
    if n < 0:                           # A**-n = (A⁻¹)ⁿ: one inverse, then products
        a, n = MI.inverse(low.graph, a), -n
    acc, square = None, a
    while True:
        if n & 1:
            acc = square if acc is None else R.matmul(low.graph, acc, square)
        n >>= 1
        if not n:
            return acc
        square = R.matmul(low.graph, square, square)


def _matpow_children(low, e):
    n = _matrix_power_exponent(e)       # refuse before lowering the base
    if isinstance(e.base, sp.DiagMatrix):
        # diag(v)ⁿ = diag(vⁿ) entry by entry: diag(s)⁻¹ (a diagonal Gaussian's precision) is diag(1/s),
        # not a general n×n inverse whose gradient reads −Yᵀ·Ȳ·Yᵀ
        return (sp.DiagMatrix(sp.HadamardPower(e.base.args[0], n)),)
    return (e.base,)


def _matpow_or_diag(low, e, args):
    return args[0] if isinstance(e.base, sp.DiagMatrix) else _matpow(low, e, args)


_on(sp.MatPow)(_Handler(_matpow_children, _matpow_or_diag))


def _applyfunc_children(low, e):
    return (e.expr,)


def _applyfunc_build(low, e, args):
    """f applied to each entry of M: lower the scalar body f(t) with t bound to M's variable. Other
    symbols in the body (a slope α, say) become inputs of their own."""
    t = sp.Dummy("t", real=True)
    body = e.function(t)
    sub = Lowering(low.graph, low.params)
    sub.memo[t] = args[0]
    return sub(body)


_on(ElementwiseApplyFunction)(_Handler(_applyfunc_children, _applyfunc_build))


def _trace(low, e, args):
    (a,) = args
    m, n = a.shape
    if not R.dims_equal(m, n):
        raise ShapeError(f"trace of a non-square matrix {e.arg} of shape {format_shape(a.shape)}")
    masked = R.ewise(low.graph, R.ph(0) * R.ph(1), a, R.const(low.graph, sp.Identity(m), (m, n)),
                     shape=a.shape)
    return R.reduce_sum(low.graph, masked, None)


_on(sp.Trace)(_Handler(lambda low, e: (e.arg,), _trace))


def _diag_matrix(low, e, args):
    """DiagMatrix(v), the n×n diagonal matrix of a column or row v: v repeated along the rows,
    times the identity entry by entry (diag(v)·M is then each row of M scaled by its vᵢ)."""
    (a,) = args
    g = low.graph
    if a.shape == () or not (R.dims_equal(a.shape[1], 1) or R.dims_equal(a.shape[0], 1)):
        raise ShapeError(f"DiagMatrix takes a column or a row; {e.args[0]} has shape {format_shape(a.shape)}"
                         f" (the diagonal of a square matrix M is sp.DiagonalOf(M))")
    col = a if R.dims_equal(a.shape[1], 1) else R.transpose(g, a)
    if low.diag_ops:
        return DR.diag(g, col)
    n = col.shape[0]
    return R.ewise(g, R.ph(0) * R.ph(1), R.broadcast(g, col, (n, n)), R.const(g, sp.Identity(n), (n, n)),
                   shape=(n, n))


def _diagonal_of(low, e, args):
    """DiagonalOf(M), the diagonal of a square M as a column: M ⊙ I summed along each row."""
    (a,) = args
    if a.shape == () or not R.dims_equal(a.shape[0], a.shape[1]):
        raise ShapeError(f"DiagonalOf takes a square matrix; {e.arg} has shape {format_shape(a.shape)}")
    if low.diag_ops:
        return DR.diagonal(low.graph, a)
    masked = R.ewise(low.graph, R.ph(0) * R.ph(1), a, R.const(low.graph, sp.Identity(a.shape[0]), a.shape),
                     shape=a.shape)
    return R.reduce_sum(low.graph, masked, 1)


_on(sp.DiagMatrix)(_Handler(lambda low, e: (e.args[0],), _diag_matrix))
_on(sp.DiagonalOf)(_Handler(lambda low, e: (e.arg,), _diagonal_of))


def _determinant(low, e, args):
    (a,) = args
    if a.shape == ():
        raise ShapeError(f"determinant {e} of a scalar: det takes a square matrix")
    if not R.dims_equal(a.shape[0], a.shape[1]):
        raise ShapeError(f"determinant of a non-square matrix {e.arg} of shape {format_shape(a.shape)}")
    return MI.det(low.graph, a)


_on(sp.Determinant)(_Handler(lambda low, e: (e.arg,), _determinant))


def _element(low, e, args):
    (a,) = args
    i, j = e.i, e.j
    if not (i.is_Integer and j.is_Integer):
        raise UnsupportedError(f"matrix element {e} with a symbolic index; use integer indices")
    m, n = a.shape
    if not (isinstance(m, int) and isinstance(n, int)):
        raise UnsupportedError(f"matrix element {e} of a matrix with symbolic shape {format_shape(a.shape)}")
    if not (0 <= int(i) < m and 0 <= int(j) < n):
        raise ShapeError(f"index ({i}, {j}) is outside {e.parent} of shape {format_shape(a.shape)}")
    if (m, n) == (1, 1):
        return R.reduce_sum(low.graph, a, None)
    onehot = sp.ImmutableMatrix(m, n, lambda r, c: 1 if (r, c) == (int(i), int(j)) else 0)
    picked = R.ewise(low.graph, R.ph(0) * R.ph(1), a, R.const(low.graph, onehot, (m, n)), shape=a.shape)
    return R.reduce_sum(low.graph, picked, None)


_on(MatrixElement)(_Handler(lambda low, e: (e.parent,), _element))

# symgrad's own nodes -------------------------------------------------------------------------------
_on(Total)(_Handler(lambda low, e: (e.arg,), lambda low, e, a: R.reduce_sum(low.graph, a[0], None)))
_on(LogSumExp)(_Handler(lambda low, e: (e.arg,), lambda low, e, a: R.logsumexp(low.graph, a[0])))
def _elementwise(low, e, args):
    """f(A, B, ...) entry by entry (the written-back form of a gradient such as xdivy(T, Q)): one
    ewise equation whose body is f of the placeholders."""
    fn = e.function
    body = fn.expr.xreplace(dict(zip(fn.variables, R.placeholders(len(args)))))
    shape = next(a.shape for a in args if a.shape != ())
    return R.ewise(low.graph, body, *args, shape=shape)


_on(Elementwise)(_Handler(lambda low, e: e.args[1:], _elementwise))
_on(XLogY)(_Handler(_args, lambda low, e, a: R.ewise(low.graph, xlogy(R.ph(0), R.ph(1)), *a,
                                                     shape=a[0].shape)))
_on(Gather)(_Handler(_args, lambda low, e, a: R.gather(low.graph, a[0], a[1])))
_on(Softmax)(_Handler(lambda low, e: (e.arg,), lambda low, e, a: R.softmax(low.graph, a[0])))
_on(LogSoftmax)(_Handler(lambda low, e: (e.arg,), lambda low, e, a: R.ewise(
    low.graph, R.ph(0) - R.ph(1), a[0], R.logsumexp(low.graph, a[0]), shape=a[0].shape)))


def lower(exprs, params=(), graph: Graph | None = None):
    """Lower one expression or a list of them; returns (graph, lowering, vars)."""
    graph = graph or Graph()
    low = Lowering(graph, params)
    many = isinstance(exprs, (list, tuple))
    outs = [low(e) for e in (exprs if many else [exprs])]
    return graph, low, (outs if many else outs[0])
