"""The primitives and their rules: one row per primitive, the derivative next to the definition.

    leaves      param[s]  input[s]  const[value]
    ewise[body] one generic elementwise primitive; body is a SymPy expression of placeholders
                a0, a1, ...; its derivative is ``sympy.diff(body, ai)`` — no hand-written rule
    matmul      A·B                    vjp: ḡ·Bᵀ, Aᵀ·ḡ
    transpose   Aᵀ                     vjp: ḡᵀ
    sum[axis]   Σ over all / rows / columns          vjp: broadcast ḡ back
    broadcast[shape]  a scalar, row or column repeated to ``shape``   vjp: sum over the new axes
    logsumexp   log Σ exp(z), stable   vjp: ḡ · softmax(z)
    gather      z[k] at an integer label k        vjp: ḡ · e_k (one-hot)
    argmax_entry  the first k with z[k] = max z (an index)   no gradient
    take_row    M[k, :]ᵀ at an integer index k (an embedding)  vjp: e_k·ḡᵀ (ḡ in row k)

The matrix inverse, det and log det rows are in `symgrad.core.matrix_inverse` (registered into
``PRIMITIVES`` there); the N-d primitives of tensors in `symgrad.core.array_rules`.

``logsumexp`` is a primitive, a departure from the design's list (which composes it from sum, exp
and log and stabilises it by a rewrite): as a primitive it is stable by construction in every
backend, its VJP names softmax(z) so gradients read ``softmax(z) − t`` as on the slides, and the
teaching view can point at "the softmax Jacobian" as one step.

A scalar input of an ``ewise`` whose output is a matrix broadcasts implicitly; its cotangent is then
summed. Constant scalars are folded into ewise bodies, so ``2*x`` is one equation ``ewise[2*a0]``.
"""
from __future__ import annotations

import math
from functools import lru_cache

import mpmath
import numpy as np
import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from ..errors import ShapeError, UnsupportedError
from ..frontend.functions import Gather, LogSoftmax, LogSumExp, Softmax, Total, leaky_relu, relu
from ..frontend.functions import clip as Clip, clip_derivative
from .ewise_form import ewise_to_matrix_expr
from .ir import Eqn, Graph, Primitive, Var, check_same_shape, dims_equal, format_shape, shapes_equal
from .placeholders import _PH_SET, ph, placeholders  # noqa: F401 - the table's vocabulary
from .policy import Subgradients

def _ph_index(s) -> int:
    return int(s.name[1:])


# ===================================================================================================
# Leaves


def _leaf(name: str) -> Primitive:
    p = Primitive(name, leaf=True)
    p.shape = lambda shapes, params: params[1]
    p.impl = lambda args, params: None  # supplied by the evaluator from the values
    p.to_sympy = lambda args, params, shape: params[0]
    p.format_params = lambda params: str(params[0])
    p.rule = "leaf"
    return p


param_p = _leaf("param")
input_p = _leaf("input")

const_p = Primitive("const", leaf=True)
const_p.rule = "constant"
# params = (value, shape): value is a scalar when every entry is equal (a number, OneMatrix, c·1),
# else a SymPy matrix (Identity, an explicit ImmutableMatrix).
const_p.shape = lambda shapes, params: params[1]
const_p.format_params = lambda params: str(params[0])


def _const_to_sympy(args, params, shape):
    v, shape = params
    if shape == () or isinstance(v, (sp.MatrixExpr, sp.MatrixBase)):
        return v
    return sp.ZeroMatrix(*shape) if v == 0 else (sp.OneMatrix(*shape) if v == 1 else v * sp.OneMatrix(*shape))


def _const_impl(args, params):
    v, shape = params
    if isinstance(v, sp.Identity) and v.rows.is_Integer:   # as_explicit: n*n SymPy objects (minutes)
        return np.eye(int(v.rows))
    if isinstance(v, (sp.MatrixExpr, sp.MatrixBase)):   # an explicit one is read as it is (fast)
        a = np.array((v if isinstance(v, sp.MatrixBase) else v.as_explicit()).tolist(), dtype=float)
        dims = tuple(int(d) for d in shape) if all(getattr(sp.sympify(d), "is_Integer", False) for d in shape) else None
        # a vector's (or an N-d tensor's) entries held as a SymPy matrix (n, 1): read in its own shape
        return a.reshape(dims) if dims is not None and a.shape != dims and a.size == int(np.prod(dims)) else a
    return float(v) if shape == () else np.full(tuple(int(d) for d in shape), float(v))


const_p.to_sympy = _const_to_sympy
const_p.impl = _const_impl


def uniform_value(graph: Graph, v: Var):
    """The scalar every entry of ``v`` equals, when ``v`` is such a constant; None otherwise."""
    e = graph.producer[v.id]
    if e.prim is not const_p or isinstance(e.params[0], (sp.MatrixExpr, sp.MatrixBase)):
        return None
    return e.params[0]


def const(graph: Graph, value, shape=None) -> Var:
    value = sp.sympify(value)
    if shape is None:
        shape = tuple(_dim(d) for d in value.shape) if hasattr(value, "shape") else ()
    shape = tuple(shape)
    if isinstance(value, sp.OneMatrix):
        value = sp.S.One
    elif isinstance(value, sp.ZeroMatrix):
        value = sp.S.Zero
    elif isinstance(value, sp.MatMul) and len(value.args) == 2 and isinstance(value.args[1], sp.OneMatrix):
        value = value.args[0]
    elif isinstance(value, sp.MatrixBase):
        value = sp.ImmutableMatrix(value)
        if len(set(value)) == 1:
            value = value[0, 0]
    return graph.bind(const_p, (), (value, shape))


def _dim(d):
    d = sp.sympify(d)
    return int(d) if d.is_Integer else d


# ===================================================================================================
# ewise[body]: the one elementwise primitive.

ewise_p = Primitive("ewise")
ewise_p.rule = "elementwise"
ewise_p.format_params = lambda params: str(params[0])


def ewise(graph: Graph, body, *inputs: Var, shape=None) -> Var:
    """Bind ``ewise[body](*inputs)``; ``body`` is an expression of ``a0 … a{n-1}``."""
    if shape is None:
        shape = check_same_shape("elementwise operation", [v.shape for v in inputs])
    return graph.bind(ewise_p, inputs, (sp.sympify(body), shape))


def _ewise_shape(shapes, params):
    return params[1]


def _ewise_canonicalize(graph: Graph, inputs, params):
    """Fold constant scalars, inline broadcasts of scalars, merge repeated inputs, drop unused ones
    and number the placeholders in order; ``ewise[a0](x)`` of x's own shape is x itself."""
    body, shape = params
    new_inputs: list[Var] = []
    index: dict[int, int] = {}
    sub = {}
    for i, v in enumerate(inputs):
        e = graph.producer[v.id]
        u = uniform_value(graph, v)
        if u is not None:
            sub[ph(i)] = u
            continue
        if e.prim is broadcast_p and e.inputs[0].shape == ():
            v = e.inputs[0]                       # a scalar broadcast: ewise broadcasts by itself
            e = graph.producer[v.id]
        # c·u feeding a body that is affine in it folds c in: −(−t) is t, a + (−b) is a − b. Not
        # into products or functions: exp(−z) keeps its "×(−1)" gate as the slides draw it, and
        # ḡ·σ(1 − σ) with ḡ = f − y keeps reading (f − y)·σ(1 − σ).
        c = _constant_multiple(e)
        if c is not None and _affine_in(body, i):
            v = e.inputs[0]
            body = _replaced(body, ((ph(i), c * ph(i)),))
        if v.shape != () and not shapes_equal(v.shape, shape):
            raise ShapeError(f"elementwise operation: an operand of shape {format_shape(v.shape)} "
                             f"does not fit the result's shape {format_shape(shape)}")
        if v.id not in index:
            index[v.id] = len(new_inputs)
            new_inputs.append(v)
        sub[ph(i)] = ph(index[v.id])
    body = _replaced(body, tuple(sub.items()))
    # Keep the inputs the body uses, in graph order: a canonical form, so that a·b and b·a (and
    # any permutation of the same operands) hash-cons to one equation.
    # Not for Max/Min: which argument is "first" decides where a tie's gradient goes (the policy).
    order = sorted({_ph_index(s) for s in body.free_symbols if s in _PH_SET},
                   key=(lambda j: j) if body.has(sp.Max, sp.Min) else (lambda j: new_inputs[j].id))
    if order != list(range(len(new_inputs))):
        body = _replaced(body, tuple((ph(j), ph(k)) for k, j in enumerate(order)))
        new_inputs = [new_inputs[j] for j in order]
    if not new_inputs:
        return const(graph, body, shape)
    if body == ph(0) and len(new_inputs) == 1 and new_inputs[0].shape == shape:
        return new_inputs[0]
    return tuple(new_inputs), (body, shape)


@lru_cache(maxsize=4096)
def _replaced(body: sp.Expr, pairs: tuple) -> sp.Expr:
    """``body`` with the placeholders replaced simultaneously (xreplace does not replace within a
    replacement, so a0 -> a1, a1 -> a0 swaps). Cached: every layer of a network binds the same few
    bodies, and rebuilding one (Mul's flattening, Heaviside's eval) was most of grad's time."""
    return body.xreplace(dict(pairs))


@lru_cache(maxsize=None)
def _affine_in(body: sp.Expr, i: int) -> bool:
    """True when ∂body/∂a_i is a number (body = c·a_i + terms without a_i); False when it has no
    derivative there (clip(x, −c, c) in its bound −c: clip's fdiff refuses the bounds)."""
    try:
        return sp.diff(body, ph(i)).is_number
    except UnsupportedError:
        return False


def _constant_multiple(e):
    """c when the equation is ewise[c*a0](u) (a negation or scaling), else None."""
    if e.prim is not ewise_p or len(e.inputs) != 1 or e.inputs[0].shape != e.out.shape:
        return None
    c = e.params[0] / ph(0)
    return c if c.is_number else None


ewise_p.shape = _ewise_shape
ewise_p.canonicalize = _ewise_canonicalize

_RESULT = sp.Symbol("r", real=True)  # stands for the equation's own output in derivative bodies


def _diff(e: sp.Expr, s: sp.Symbol) -> sp.Expr:
    """``sympy.diff(e, s)``, the same expression, with the product rule taken over the factors
    that hold ``s``: SymPy's own (the Leibniz rule, Mul._eval_derivative_n_times) differentiates
    every factor for every term, n² derivatives for one partial of an n-factor product, so the n
    partials of a product of 150 factors took 30 s (trust review, 2026-12-01 twelfth session).
    Here a partial costs one product of n factors; a sum is differentiated term by term, as
    SymPy's Add does."""
    if e.is_Add:
        return sp.Add(*[_diff(t, s) for t in e.args if t.has(s)])
    if not (e.is_Mul and e.is_commutative):
        return sp.diff(e, s)
    args, terms = e.args, []
    for i, f in enumerate(args):
        if f.has(s):
            df = sp.diff(f, s)
            if df != 0:
                terms.append(sp.Mul(*args[:i], df, *args[i + 1:]))
    return sp.Add(*terms)


@lru_cache(maxsize=None)
def derivative_body(body: sp.Expr, i: int, policy: Subgradients) -> sp.Expr:
    """∂body/∂a_i by ``sympy.diff``, with the subgradient policy applied at kinks and the body
    itself replaced by ``r`` where it reappears (σ' = σ(1 − σ) reuses the forward's σ).
    Two-sided kinks: relu and leaky_relu take ``policy.relu_at_zero``; Max/Min route ties to the
    first argument of SymPy's sorted ``args`` (not the order written), or split them equally among
    the tied arguments under ``max_ties="split"``; Abs takes ``policy.abs_at_zero``; the derivative of a step (DiracDelta,
    floor, ceiling) is 0."""
    a = ph(i)
    tie_max, tie_min = (_SplitMax, _SplitMin) if policy.max_ties == "split" else (_RoutedMax, _RoutedMin)
    b = body.replace(sp.Max, tie_max).replace(sp.Min, tie_min)
    if policy.relu_at_zero != 1:
        b = b.replace(relu, _Relu0).replace(leaky_relu, _LeakyRelu0).replace(Clip, _Clip0)
    if policy.abs_at_zero != 0:
        b = b.replace(sp.Abs, _AbsAt(policy.abs_at_zero))
    rounded = [(f, g) for f, g in _ROUNDINGS if b.has(f)]
    for f, g in rounded:
        b = b.replace(f, g)
    d = _diff(b, a)
    for f, g in rounded:
        d = d.replace(g, f)
    d = d.replace(sp.DiracDelta, lambda *args: sp.S.Zero)
    d = d.replace(tie_max, sp.Max).replace(tie_min, sp.Min).replace(_Relu0, relu).replace(
        _LeakyRelu0, leaky_relu).replace(_Clip0, Clip)
    if policy.abs_at_zero != 0:
        d = d.replace(_AbsAt(policy.abs_at_zero), sp.Abs)
    if any(not p.exp.is_number for p in body.atoms(sp.Pow)):
        # SymPy writes ∂(xⁿ)/∂x = n·xⁿ/x for a symbolic n: 0/0 at x = 0 where n·xⁿ⁻¹ is 0 (n > 1).
        d = sp.powsimp(d)
    if d.has(sp.Derivative, sp.Subs):
        raise UnsupportedError(f"cannot differentiate {body} with respect to {a}: SymPy left "
                               f"{d}; symgrad supports functions whose derivative SymPy knows")
    if not body.is_Symbol and not body.is_Add and not body.is_Mul and body.has(a):
        d = d.xreplace({body: _RESULT})
    return d


class _Routed(sp.Function):
    """Max (sign 1) or Min (sign −1) whose derivative routes a tie to the first argument (the
    subgradient policy): ∂/∂x_k = Π_{j<k} [s·(x_k − x_j) > 0] · Π_{j>k} [s·(x_k − x_j) ≥ 0]."""

    sign = 1

    def fdiff(self, argindex=1):
        k = argindex - 1
        x = self.args[k]
        return sp.Mul(*[sp.Heaviside(self.sign * (x - y), 0 if j < k else 1)
                        for j, y in enumerate(self.args) if j != k])


# Siblings, not one a subclass of the other: replace(cls, ...) matches subclasses too.
class _RoutedMax(_Routed):
    sign = 1


class _RoutedMin(_Routed):
    sign = -1


class _Split(sp.Function):
    """Max (sign 1) or Min (sign −1) whose derivative divides a tie's gradient equally among the
    tied arguments (``max_ties="split"``, torch's ``maximum``): with m_k = Π_{j≠k} [s·(x_k − x_j) ≥ 0]
    (x_k attains the max), ∂/∂x_k = m_k / Σ_i m_i; for two arguments that is H(s·(x_k − x_j), ½)."""

    sign = 1

    def fdiff(self, argindex=1):
        k, xs = argindex - 1, self.args
        if len(xs) == 2:
            return sp.Heaviside(self.sign * (xs[k] - xs[1 - k]), sp.S.Half)
        attains = [sp.Mul(*[sp.Heaviside(self.sign * (x - y), 1) for j, y in enumerate(xs) if j != i])
                   for i, x in enumerate(xs)]
        return attains[k] / sp.Add(*attains)


class _SplitMax(_Split):
    sign = 1


class _SplitMin(_Split):
    sign = -1


class _Clip0(sp.Function):
    """clip with the bounds excluded from its derivative (relu_at_zero=0, as relu'(0) = 0)."""

    def fdiff(self, argindex=1):
        return clip_derivative(*self.args, argindex, 0)


class _Step(sp.Function):
    """floor or ceiling while differentiating: a step, whose derivative is 0 almost everywhere,
    as a step's is taken here (SymPy has no rule and leaves Derivative(floor(x), x)): the
    straight-through estimator x + stop_gradient(floor(x) − x) differentiates."""
    def fdiff(self, argindex=1):
        return sp.S.Zero


# Siblings, not one a subclass of the other: replace(_Floor, floor) would also match a _Ceiling.
class _Floor(_Step):
    pass


class _Ceiling(_Step):
    pass


class _Frac(sp.Function):
    """frac(x) = x − floor(x) while differentiating: derivative 1 almost everywhere."""
    def fdiff(self, argindex=1):
        return sp.S.One


_ROUNDINGS = ((sp.floor, _Floor), (sp.ceiling, _Ceiling), (sp.frac, _Frac))


class _Relu0(sp.Function):
    def fdiff(self, argindex=1):
        return sp.Heaviside(self.args[0], 0)


class _LeakyRelu0(sp.Function):
    def fdiff(self, argindex=1):
        x, alpha = self.args
        if argindex == 1:
            return sp.Heaviside(x, 0) + alpha * sp.Heaviside(-x, 1)
        return x * sp.Heaviside(-x, 1)


@lru_cache(maxsize=None)
def _AbsAt(value):
    class _Abs(sp.Function):
        def fdiff(self, argindex=1):
            x = self.args[0]
            return sp.Heaviside(x, 0) - sp.Heaviside(-x, 0) + value * (1 - sp.Heaviside(x, 0) - sp.Heaviside(-x, 0))
    _Abs.__name__ = f"_AbsAt{value}"
    return _Abs


def _contribution(graph: Graph, eqn: Eqn, g: Var, d: sp.Expr) -> Var:
    """Bind g · d, where d is a derivative body over the eqn's placeholders and ``r``."""
    n = len(eqn.inputs)
    G, R = ph(n), ph(n + 1)
    return ewise(graph, G * d.xreplace({_RESULT: R}), *eqn.inputs, g, eqn.out, shape=eqn.out.shape)


def _ewise_vjp(graph: Graph, eqn: Eqn, g: Var, want):
    body, shape = eqn.params
    cts = []
    for i, x in enumerate(eqn.inputs):
        d = derivative_body(body, i, graph.policy) if want[i] else sp.S.Zero
        if d == 0:
            cts.append(None)
            continue
        c = _contribution(graph, eqn, g, d)
        if x.shape == () and shape != ():
            c = reduce_sum(graph, c, None)       # a broadcast scalar collects from every entry
        cts.append(c)
    return cts


def _ewise_jvp(graph: Graph, eqn: Eqn, tangents):
    body, shape = eqn.params
    terms = []
    for i, t in enumerate(tangents):
        if t is None:
            continue
        d = derivative_body(body, i, graph.policy)
        if d != 0:                            # a scalar tangent of a matrix body broadcasts in ewise
            terms.append(_contribution(graph, eqn, t, d))
    return add_n(graph, terms, shape)


class _ExactFloats(NumPyPrinter):
    """NumPy's printer with each float constant printed as Python's repr (17 significant digits where
    needed), not SymPy's 15: torch.finfo(torch.float64).min printed as -1.79769313486232e+308 is
    past the largest double, so it read as -inf (HF's additive attention mask became NaN), and 1/3
    lost its last digits."""

    def _print_Float(self, expr):
        v = float(expr)
        return repr(v) if math.isfinite(v) else super()._print_Float(expr)


@lru_cache(maxsize=None)
def _lambdified(body: sp.Expr, n: int):
    printer = _ExactFloats({"fully_qualified_modules": False, "inline": True, "allow_unknown_functions": True,
                            "user_functions": {}})
    # mpmath (a dependency) after NumPy: the functions NumPy has no name for (polygamma, LambertW,
    # zeta, Si: loggamma's and digamma's derivatives) evaluate by mpmath's, entry by entry below;
    # with NumPy's namespace alone they were a NameError
    return sp.lambdify(placeholders(n), body, modules=["numpy", "mpmath"], printer=printer)


def _at_a_point(f):
    """f of numbers as a complex (mpmath's may be mpc); nan at a pole, where math and mpmath raise
    (lgamma(−1), polygamma(1, 0)) and NumPy would give nan or inf."""
    def at(*a):
        try:
            return complex(f(*a))
        except (ValueError, ZeroDivisionError, OverflowError):
            return complex(math.nan)
    return at


def _ewise_impl(args, params):
    body, shape = params
    f = _lambdified(body, len(args))
    # Outside the real domain the value is nan (±inf at a pole), as NumPy gives it, with no warning:
    # the caller judges it (the checker draws another point). Python floats would raise at a pole
    # (1/0.0) or turn complex ((-8.0)**(1/3), SymPy's principal root), so those are redone in NumPy.
    with np.errstate(all="ignore"):
        try:
            out = f(*args)
        except ZeroDivisionError:
            try:
                out = f(*[np.float64(a) if isinstance(a, float) else a for a in args])
            except (ZeroDivisionError, ValueError):   # mpmath's at a pole (polygamma(1, 0))
                out = _at_a_point(f)(*args)
        except (TypeError, ValueError):       # a function NumPy lacks (erf: math.erf) on arrays, or
                                              # one lambdify writes with `if` (KroneckerDelta)
            out = np.vectorize(_at_a_point(f), otypes=[complex])(*args)
    if isinstance(out, (mpmath.mpf, mpmath.mpc)):   # an mpmath function of numbers
        out = complex(out)
    if np.iscomplexobj(out):
        out = np.where(np.imag(out) == 0, np.real(out), np.nan)
    return np.broadcast_to(np.asarray(out, dtype=float), tuple(shape)).copy() if shape != () else float(out)


def _ewise_to_sympy(args, params, shape):
    body, _ = params
    if shape == ():
        return body.xreplace(dict(zip(placeholders(len(args)), args)))
    return ewise_to_matrix_expr(body, args, shape)


ewise_p.vjp = _ewise_vjp
ewise_p.jvp = _ewise_jvp
ewise_p.impl = _ewise_impl
ewise_p.to_sympy = _ewise_to_sympy


def add_n(graph: Graph, terms, shape) -> Var | None:
    """The sum of ``terms`` as one equation (the sum over paths when a value fans out)."""
    terms = [t for t in terms if t is not None]
    if not terms:
        return None
    if len(terms) == 1:
        return terms[0]
    return ewise(graph, sp.Add(*placeholders(len(terms))), *terms, shape=shape)


# ===================================================================================================
# matmul


matmul_p = Primitive("matmul")
matmul_p.rule = "matrix product"


def matmul(graph: Graph, a: Var, b: Var) -> Var:
    return graph.bind(matmul_p, (a, b))


def _matmul_shape(shapes, params):
    (m, k1), (k2, n) = shapes
    if not dims_equal(k1, k2):
        raise ShapeError(f"matrix product: inner dimensions differ: ({m}, {k1}) times ({k2}, {n})")
    return (m, n)


matmul_p.shape = _matmul_shape


def _matmul_canonicalize(graph: Graph, inputs, params):
    """1 · B = B for a (1, 1) constant 1: the reverse pass's seed of a vector dot x @ y (reshaped to
    (1, 1)) times yᵀ, so that sg.grad(x @ y, x) reads y, not (ones((1, 1)) @ y.reshape(3, 1).T).reshape(3)."""
    a, b = inputs
    for one, other in ((a, b), (b, a)):
        if tuple(one.shape) == (1, 1) and uniform_value(graph, one) == 1:
            return other
    return inputs, params


matmul_p.canonicalize = _matmul_canonicalize
matmul_p.impl = lambda args, params: args[0] @ args[1]
matmul_p.to_sympy = lambda args, params, shape: sp.MatMul(args[0], args[1]).doit(deep=False)
matmul_p.vjp = lambda graph, eqn, g, want: [
    matmul(graph, g, transpose(graph, eqn.inputs[1])) if want[0] else None,   # ∂L/∂A = ḡ·Bᵀ
    matmul(graph, transpose(graph, eqn.inputs[0]), g) if want[1] else None,   # ∂L/∂B = Aᵀ·ḡ
]
matmul_p.jvp = lambda graph, eqn, t: add_n(graph, [
    matmul(graph, t[0], eqn.inputs[1]) if t[0] is not None else None,
    matmul(graph, eqn.inputs[0], t[1]) if t[1] is not None else None], eqn.out.shape)


# ===================================================================================================
# transpose

transpose_p = Primitive("transpose")
transpose_p.rule = "transpose"


def transpose(graph: Graph, a: Var) -> Var:
    e = graph.producer[a.id]
    if e.prim is transpose_p:
        return e.inputs[0]                    # (Aᵀ)ᵀ = A
    if a.shape == () or (len(a.shape) == 2 and a.shape[0] == 1 == a.shape[1]):
        return a
    u = uniform_value(graph, a)
    if u is not None:
        return const(graph, u, (a.shape[1], a.shape[0]))
    return graph.bind(transpose_p, (a,))


transpose_p.shape = lambda shapes, params: (shapes[0][1], shapes[0][0])
transpose_p.impl = lambda args, params: args[0].T
transpose_p.to_sympy = lambda args, params, shape: args[0].T
transpose_p.vjp = lambda graph, eqn, g, want: [transpose(graph, g)]
transpose_p.jvp = lambda graph, eqn, t: transpose(graph, t[0])


# ===================================================================================================
# sum[axis]: axis None sums every entry to a scalar; 0 sums the rows (-> (1, n)); 1 the columns.

sum_p = Primitive("sum")
sum_p.rule = "sum"
sum_p.format_params = lambda params: f"axis={params[0]}"


def reduce_sum(graph: Graph, a: Var, axis=None) -> Var:
    if a.shape == ():
        return a
    return graph.bind(sum_p, (a,), (axis,))


def _sum_shape(shapes, params):
    if params[0] is None:
        return ()                             # Σ of every entry, of a matrix or an N-d tensor
    (m, n), axis = shapes[0], params[0]
    return (1, n) if axis == 0 else (m, 1)


def _sum_to_sympy(args, params, shape):
    a, axis = args[0], params[0]
    if axis is None:
        if isinstance(a, sp.MatMul) and len(a.args) == 2 and isinstance(a.args[1], sp.OneMatrix) \
                and not isinstance(a.args[0], (sp.MatrixExpr, sp.MatrixBase)):
            m, n = a.args[1].shape
            return m * n * a.args[0]              # Σ s·𝟙 = m·n·s, as the gradients of s·B have it
        return Total(a)
    m, n = a.shape
    return sp.OneMatrix(1, m) * a if axis == 0 else a * sp.OneMatrix(n, 1)


sum_p.shape = _sum_shape
sum_p.impl = lambda args, params: (float(np.sum(args[0])) if params[0] is None
                                   else np.sum(args[0], axis=params[0], keepdims=True))
sum_p.to_sympy = _sum_to_sympy
sum_p.vjp = lambda graph, eqn, g, want: [broadcast(graph, g, eqn.inputs[0].shape)]
sum_p.jvp = lambda graph, eqn, t: reduce_sum(graph, t[0], eqn.params[0])


# ===================================================================================================
# broadcast[shape]: repeat a scalar, a row (1, n) or a column (m, 1) to ``shape``.

broadcast_p = Primitive("broadcast")
broadcast_p.rule = "broadcast"
broadcast_p.format_params = lambda params: format_shape(params[0])


def broadcast(graph: Graph, a: Var, shape) -> Var:
    if shapes_equal(a.shape, shape):
        return a
    u = uniform_value(graph, a)
    if u is not None:
        return const(graph, u, shape)
    return graph.bind(broadcast_p, (a,), (tuple(shape),))


def _broadcast_shape(shapes, params):
    s, shape = shapes[0], params[0]
    if s != () and not (dims_equal(s[0], 1) and dims_equal(s[1], shape[1])
                        or dims_equal(s[1], 1) and dims_equal(s[0], shape[0])):
        raise ShapeError(f"cannot broadcast {format_shape(s)} to {format_shape(shape)}")
    return shape


def _broadcast_to_sympy(args, params, shape):
    a, (m, n) = args[0], params[0]
    if not isinstance(a, sp.MatrixExpr):
        return a * sp.OneMatrix(m, n)
    return sp.OneMatrix(m, 1) * a if a.shape[0] == 1 and m != 1 else a * sp.OneMatrix(1, n)


def _broadcast_vjp(graph, eqn, g, want):
    s = eqn.inputs[0].shape
    if s == ():
        return [reduce_sum(graph, g, None)]
    return [reduce_sum(graph, g, 0 if dims_equal(s[0], 1) and not dims_equal(eqn.out.shape[0], 1) else 1)]


broadcast_p.shape = _broadcast_shape
broadcast_p.impl = lambda args, params: np.broadcast_to(np.asarray(args[0], float), params[0]).copy()
broadcast_p.to_sympy = _broadcast_to_sympy
broadcast_p.vjp = _broadcast_vjp
broadcast_p.jvp = lambda graph, eqn, t: broadcast(graph, t[0], eqn.params[0])


# ===================================================================================================
# logsumexp: log Σ exp(z) over every entry of z, computed stably (max-shifted).

logsumexp_p = Primitive("logsumexp")
logsumexp_p.rule = "log-sum-exp (its gradient is softmax)"


def logsumexp(graph: Graph, z: Var) -> Var:
    return graph.bind(logsumexp_p, (z,))


def softmax(graph: Graph, z: Var) -> Var:
    """softmax(z) = exp(z − logsumexp(z)): the same equation whether the user wrote softmax(z) or
    it arises as the gradient of logsumexp, so hash-consing shares it."""
    return ewise(graph, sp.exp(ph(0) - ph(1)), z, logsumexp(graph, z), shape=z.shape)


def softmax_operands(graph: Graph, eqn):
    """(z, logsumexp(z)) when ``eqn`` is the IR's softmax exp(z − logsumexp(z)) (see `softmax`),
    its two inputs in either order; None otherwise. The one test for it: the steps, the conversion
    back to SymPy and the code generator's scheduler all ask it."""
    if eqn.prim is not ewise_p or len(eqn.inputs) != 2:
        return None
    for i, j in ((0, 1), (1, 0)):
        z, lse = eqn.inputs[i], eqn.inputs[j]
        pe = graph.producer[lse.id]
        if pe.prim is logsumexp_p and pe.inputs[0].id == z.id and eqn.params[0] == sp.exp(ph(i) - ph(j)):
            return z, lse
    return None


def _lse_impl(args, params):
    z = np.asarray(args[0], float)
    m = np.max(z)
    m = m if np.isfinite(m) else 0.0        # z of −inf only: log 0 = −inf, as torch's, not NaN
    return float(m + np.log(np.sum(np.exp(z - m))))


def _lse_vjp(graph, eqn, g, want):
    z = eqn.inputs[0]
    return [ewise(graph, ph(0) * ph(1), g, softmax(graph, z), shape=z.shape)]   # ḡ · softmax(z)


def _lse_jvp(graph, eqn, t):
    z = eqn.inputs[0]
    return reduce_sum(graph, ewise(graph, ph(0) * ph(1), t[0], softmax(graph, z), shape=z.shape), None)


logsumexp_p.shape = lambda shapes, params: ()
logsumexp_p.impl = _lse_impl
logsumexp_p.to_sympy = lambda args, params, shape: LogSumExp(args[0])
logsumexp_p.vjp = _lse_vjp
logsumexp_p.jvp = _lse_jvp


# ===================================================================================================
# gather: z[k], the entry of a column z (n, 1) at an integer label k (a scalar).

gather_p = Primitive("gather")
gather_p.rule = "gather (indexing by a class label)"


def gather(graph: Graph, z: Var, k: Var) -> Var:
    if k.shape != () or len(z.shape) != 2 or not dims_equal(z.shape[1], 1):
        raise ShapeError(f"gather takes a column (n, 1) and a scalar label; got {format_shape(z.shape)} "
                         f"and {format_shape(k.shape)}")
    return graph.bind(gather_p, (z, k))


def _gather_vjp(graph, eqn, g, want):
    """∂z[k]/∂z is the one-hot column e_k: ḡ·[i = k] for i = 0 … n−1 (the label gets none)."""
    z, k = eqn.inputs
    n = int(z.shape[0])
    iota = const(graph, sp.ImmutableMatrix(n, 1, lambda i, j: i), (z.shape[0], 1))
    onehot_g = ewise(graph, ph(1) * sp.KroneckerDelta(ph(0), ph(2)), k, g, iota, shape=z.shape)
    return [onehot_g if want[0] else None, None]


gather_p.shape = lambda shapes, params: ()
gather_p.impl = lambda args, params: float(args[0][int(args[1]), 0])
gather_p.to_sympy = lambda args, params, shape: Gather(*args)
gather_p.vjp = _gather_vjp
gather_p.jvp = lambda graph, eqn, t: gather(graph, t[0], eqn.inputs[1]) if t[0] is not None else None


# ===================================================================================================
# argmax_entry: the index of the first largest entry of a column z (n, 1), a scalar (no gradient).
# The kernel form of a tensor declaration's max over a vector (symgrad.compiling.kernel_form) is
# z[argmax_entry(z)]: a gather, whose VJP ḡ·e_k routes the gradient to the first arg-max, the
# subgradient policy (`policy.Subgradients.max_ties`), ties included.

argmax_entry_p = Primitive("argmax_entry")
argmax_entry_p.rule = "arg-max (an index: no gradient)"


def argmax_entry(graph: Graph, z: Var) -> Var:
    if len(z.shape) != 2 or not dims_equal(z.shape[1], 1):
        raise ShapeError(f"argmax_entry takes a column (n, 1); got {format_shape(z.shape)}")
    return graph.bind(argmax_entry_p, (z,))


argmax_entry_p.shape = lambda shapes, params: ()
argmax_entry_p.impl = lambda args, params: float(np.argmax(np.asarray(args[0])[:, 0]))
argmax_entry_p.to_sympy = lambda args, params, shape: sp.Function("argmax")(args[0])
argmax_entry_p.vjp = lambda graph, eqn, g, want: [None]
argmax_entry_p.jvp = lambda graph, eqn, t: None


# ===================================================================================================
# take_row: row k of a matrix M (n, d) as a column (d, 1), at an integer index k (a scalar): an
# embedding's lookup in the matrix language (symgrad.compiling.kernel_form's form of E[ids]).


take_row_p = Primitive("take_row")
take_row_p.rule = "take (a row at an integer index)"


def take_row(graph: Graph, M: Var, k: Var) -> Var:
    if k.shape != () or len(M.shape) != 2:
        raise ShapeError(f"take_row takes a matrix (n, d) and a scalar index; got {format_shape(M.shape)} "
                         f"and {format_shape(k.shape)}")
    return graph.bind(take_row_p, (M, k))


def _take_row_vjp(graph, eqn, g, want):
    """∂(M[k]ᵀ)/∂M: ḡ placed in row k, the outer product e_k·ḡᵀ (the index gets none)."""
    M, k = eqn.inputs
    n = int(M.shape[0])
    iota = const(graph, sp.ImmutableMatrix(n, 1, lambda i, j: i), (M.shape[0], 1))
    e_k = ewise(graph, sp.KroneckerDelta(ph(0), ph(1)), k, iota, shape=(M.shape[0], 1))
    return [matmul(graph, e_k, transpose(graph, g)) if want[0] else None, None]


take_row_p.shape = lambda shapes, params: (shapes[0][1], 1)
take_row_p.impl = lambda args, params: np.asarray(args[0])[int(args[1]), :][:, None]
take_row_p.to_sympy = lambda args, params, shape: sp.Function("take_row")(*args)
take_row_p.vjp = _take_row_vjp
take_row_p.jvp = lambda graph, eqn, t: take_row(graph, t[0], eqn.inputs[1]) if t[0] is not None else None


PRIMITIVES = {p.name: p for p in (param_p, input_p, const_p, ewise_p, matmul_p, transpose_p, sum_p,
                                  broadcast_p, logsumexp_p, gather_p, argmax_entry_p, take_row_p)}

__all__ = ["PRIMITIVES", "ewise", "matmul", "transpose", "reduce_sum", "broadcast", "logsumexp", "gather",
           "argmax_entry", "take_row",
           "softmax", "softmax_operands", "const", "add_n", "derivative_body", "ph", "placeholders", "uniform_value",
           "Softmax", "LogSoftmax"]
