"""The public differentiation functions `grad`, `jacobian`, `hessian`, and `differentiate`: the
record of one derivation (`Derived`), which teaching (`sg.derive`) and checking (`sg.check`) read.

>>> import sympy as sp, symgrad as sg
>>> x, y, z = sp.symbols('x y z')
>>> sg.grad((x + y) * z, [x, y, z])
[z, z, x + y]
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from . import rules as R
from ..errors import ArgumentError, IntegerTensorError, ShapeError, WrtError
from ..frontend.parse import as_expr
from ..frontend.tensor import Tensor
from .array_rules import as_tensor_form, tensor_zero
from .forward import forward as _forward
from .ir import Graph, Var, format_shape
from .lower import Lowering, as_maps
from .matrix_jacobian import jacobian_matrix
from .ones_matrix import show_ones
from .policy import DEFAULT, Subgradients, check_policy
from .reverse import backward
from .stable_logs import log_softmax_rewrite
from .tensor_jacobian import is_tensor_case, tensor_hessian, tensor_jacobian
from .to_sympy import Named, StraightLine, SympyBuilder, named_form, straight_line


@dataclass
class Step:
    """One equation visited by reverse (or forward) accumulation."""
    eqn: Any                  # the Eqn
    cotangent: Var            # ḡ of the equation's output (forward mode: its tangent)
    contributions: list       # per input: the Var contributed (None = zero); empty in forward mode


@dataclass
class Derived:
    """What one derivation made: the gradients, the CSE'd programs, the IR and the step record."""
    f: Any
    wrt: Any
    gradients: Any                    # SymPy expressions, nested like wrt
    program: StraightLine             # f and its gradients, CSE'd
    forward_program: StraightLine     # f alone, CSE'd
    ir: Graph                         # the IR graph: forward and gradient equations, hash-consed
    output: Var
    wrt_vars: list
    gradient_vars: list
    lowering: Any
    mode: str = "reverse"
    raw_steps: list = field(default_factory=list)

    def values(self, at) -> dict:
        """Every forward value and gradient of the graph at the point ``at`` (symbol or name -> value)."""
        from .evaluate import evaluate
        outs = [self.output] + [g for g in self.gradient_vars if g is not None]
        vals = evaluate(self.ir, outs, at)
        return {"f": vals[0], "gradients": vals[1:]}

    def named(self) -> Named:
        """The gradients over named intermediates (δ₁, δ₂, …) with their definitions: see `Named`."""
        return _named(self.ir, self.lowering, self.gradient_vars, _flatten_wrt(self.wrt), self.wrt)


# ---------------------------------------------------------------------------------------------------
# wrt: a Symbol, a MatrixSymbol, or (nested) lists / tuples of them


def _check_wrt_leaf(w):
    if isinstance(w, Tensor):
        if w.is_integer_tensor:
            raise IntegerTensorError(f"cannot differentiate with respect to {w}: it is an integer "
                                     f"tensor (labels, indices); declare it integer=False if it is real")
        return w
    if isinstance(w, (sp.Symbol, sp.MatrixSymbol)):
        return w
    kind = type(w).__name__
    if isinstance(w, str):      # a name, as at= and assumptions= take them: wrt takes the symbol
        raise WrtError(f"wrt takes the symbol itself, not its name: got the str {w!r}; pass "
                       f"sp.Symbol({w!r}) (equal to the {w} a text f is parsed into), or the MatrixSymbol or "
                       f"sg.tensor that f holds")
    raise WrtError(f"wrt must be a Symbol, a MatrixSymbol or a tensor (or a list of them); got {w!r} ({kind}). "
                   f"To differentiate with respect to an expression, name it with a new symbol.")


def _flatten_wrt(wrt) -> list:
    if isinstance(wrt, (list, tuple)):
        out = []
        for w in wrt:
            out.extend(_flatten_wrt(w))
        return out
    if isinstance(wrt, sp.MatrixBase):
        return [_check_wrt_leaf(w) for w in wrt]
    return [_check_wrt_leaf(wrt)]


def _check_arguments(what: str, f, wrt, mode: str, policy, vector: bool = False) -> list:
    """The arguments every entry point shares, checked before any work: ``wrt`` flattened (Symbols
    and MatrixSymbols, at least one), ``mode``, ``policy``, and ``f`` a SymPy expression (a list of
    them for the Jacobian). Strings are left to the caller's parser."""
    if mode not in ("reverse", "forward"):
        raise ArgumentError(f"{what}: mode must be 'reverse' or 'forward', got {mode!r}")
    check_policy(policy)
    fs = f if vector and isinstance(f, (list, tuple)) else [f]
    for fi in fs:
        if isinstance(fi, (list, tuple, set, dict)):
            raise ArgumentError(f"{what} takes one scalar expression f; got a {type(fi).__name__} "
                                f"{fi!r}" + ("" if vector else ": for several functions use sg.jacobian"))
        if not isinstance(fi, str):
            try:
                sp.sympify(fi, strict=True)
            except sp.SympifyError:
                raise ArgumentError(f"{what}: f must be a SymPy expression, got {fi!r} "
                                    f"({type(fi).__name__})") from None
    flat = _flatten_wrt(wrt)
    if not flat:
        raise WrtError(f"{what}: wrt is empty ({wrt!r}); give a Symbol, a MatrixSymbol, or a list of them")
    return flat


def _unflatten(wrt, flat_iter):
    if isinstance(wrt, (list, tuple)):
        return type(wrt)(_unflatten(w, flat_iter) for w in wrt)
    if isinstance(wrt, sp.MatrixBase):
        return sp.ImmutableMatrix(wrt.rows, wrt.cols, [next(flat_iter) for _ in range(len(wrt))])
    return next(flat_iter)


def _scalar_output(graph: Graph, v: Var, f) -> Var:
    if v.shape == ():
        return v
    if v.shape == (1, 1):
        return R.reduce_sum(graph, v, None)       # a 1×1 matrix (xᵀx) counts as a scalar
    raise ShapeError(f"grad needs a scalar f, but f has shape {format_shape(v.shape)}: {f}. "
                     f"Use sg.jacobian for vector-valued functions, or reduce f (sg.sum).")


def _zero(w):
    if isinstance(w, Tensor):
        return tensor_zero(w)
    return sp.ZeroMatrix(*w.shape) if isinstance(w, sp.MatrixSymbol) else sp.S.Zero


# ---------------------------------------------------------------------------------------------------


def _reverse(what: str, f, wrt, mode: str, policy: Subgradients):
    """Lower ``f`` and differentiate it in the IR: ``(flat wrt, graph, lowering, f, output var,
    wrt vars, gradient vars, steps)``; nothing is converted back to SymPy yet."""
    flat = _check_arguments(what, f, wrt, mode, policy)
    graph = Graph(policy)
    low = Lowering(graph, params=flat, diag_ops=True)
    f = as_maps(as_expr(f, "f", symbols=flat))   # text is parsed, never evaluated; applyfunc as f(M)
    out = _scalar_output(graph, low(f), f)
    if what in ("grad", "hessian"):   # log(softmax(z)) as log_softmax(z): finite where torch's is (sg.derive
        out = log_softmax_rewrite(graph, [out])[0]    # keeps the softmax the user wrote, to teach it)
    wrt_vars = [low.leaf(w) for w in flat]
    steps: list[Step] = []
    if mode == "reverse":
        grads = backward(graph, out, wrt_vars,
                         on_step=lambda e, g, cts: steps.append(Step(e, g, list(cts))))
    else:
        grads = []
        for w in wrt_vars:
            if w.shape != ():
                raise WrtError(f"mode='forward' takes scalar symbols; {graph.producer[w.id].params[0]} "
                               f"is a matrix. Use mode='reverse'.")
            (t,) = _forward(graph, [out], {w.id: R.const(graph, 1, ())},
                            on_step=lambda e, t: steps.append(Step(e, t, [])))
            grads.append(t)
    return flat, graph, low, f, out, wrt_vars, grads, steps


def _in_language(exprs, flat) -> list:
    """Each gradient in the language of its symbol: a tensor's gradient is a tensor expression, a
    matrix's prints its ones matrices as OneMatrix(m, n) (SymPy prints a plain 1)."""
    return [as_tensor_form(e, w.shape) if isinstance(w, Tensor) else show_ones(e) for e, w in zip(exprs, flat)]


def _plain(graph, low, grads, flat) -> list:
    build = SympyBuilder(graph, low.exprs)
    return _in_language([build(g) if g is not None else _zero(w) for g, w in zip(grads, flat)], flat)


def _named(graph, low, grads, flat, wrt) -> Named:
    definitions, exprs = named_form(graph, grads, low.exprs, zeros=[_zero(w) for w in flat])
    definitions = [(name, show_ones(e)) for name, e in definitions]
    return Named(definitions, _unflatten(wrt, iter(_in_language(exprs, flat))), wrt)


def differentiate(f, wrt, *, mode: str = "reverse", policy: Subgradients = DEFAULT) -> Derived:
    """Derive the gradient of the scalar ``f`` with respect to ``wrt`` by reverse accumulation
    (``mode="forward"``: one forward sweep per scalar of wrt), and keep the record: ``.gradients``
    (SymPy, nested like ``wrt``), ``.program`` (the CSE'd straight-line program of f and its
    gradients), ``.forward_program`` (f alone), the IR and the steps as they were made;
    ``.named()`` gives the gradients over named intermediates (`Named`).

    >>> import sympy as sp
    >>> w, x, y = sp.symbols('w x y')
    >>> differentiate((y - w * x) ** 2 / 2, w).gradients
    -x*(-w*x + y)
    """
    flat, graph, low, f, out, wrt_vars, grads, steps = _reverse("differentiate", f, wrt, mode, policy)
    gradients = _unflatten(wrt, iter(_plain(graph, low, grads, flat)))
    return Derived(f=f, wrt=wrt, gradients=gradients,
                   program=straight_line(graph, [out] + grads),
                   forward_program=straight_line(graph, [out]),
                   ir=graph, output=out, wrt_vars=wrt_vars, gradient_vars=grads,
                   lowering=low, mode=mode, raw_steps=steps)


def grad(f, wrt, *, policy: Subgradients = DEFAULT, mode: str = "reverse", named: bool = False):
    """The gradient of the scalar ``f`` with respect to ``wrt`` (a Symbol, a MatrixSymbol, a tensor,
    or a list of them), as SymPy expression(s) nested like ``wrt``; equal to ``sympy.diff``. For a
    MatrixSymbol the gradient is a matrix expression of the symbol's shape, for a tensor a tensor
    expression (``dout.sum(axis=0)``, ``x.reshape(N, 6).T @ dout``).

    ``named=True`` returns a `Named` instead: the gradients over named intermediates (δ₁, δ₂, …)
    with their definitions in order, linear in the depth where the plain form repeats a shared
    value (a residual network); ``.expand()`` gives the plain form back.

    >>> import sympy as sp, symgrad as sg
    >>> W, x, y = sp.MatrixSymbol('W', 2, 3), sp.MatrixSymbol('x', 3, 1), sp.MatrixSymbol('y', 2, 1)
    >>> sg.grad(sg.sum(sp.HadamardPower(W * x - y, 2)), W)       # = 2(Wx − y)xᵀ
    2*(W*x - y)*x.T
    """
    if not isinstance(named, bool):
        raise ArgumentError(f"grad: named must be True or False, got {named!r}")
    flat, graph, low, f, out, wrt_vars, grads, steps = _reverse("grad", f, wrt, mode, policy)
    if named:
        return _named(graph, low, grads, flat, wrt)
    return _unflatten(wrt, iter(_plain(graph, low, grads, flat)))


def _outputs(F, low) -> list:
    """Lower the outputs of a vector function: a list/tuple/Matrix of scalars or a matrix expr."""
    if isinstance(F, (list, tuple, sp.MatrixBase)):
        outs = [(low(as_expr(Fi, "F", symbols=low.params)), Fi) for Fi in F]
        for v, Fi in outs:
            if v.shape != ():
                raise ShapeError(f"each entry of F must be a scalar; {Fi} has shape {format_shape(v.shape)}")
        return [v for v, _ in outs]
    return [low(as_expr(F, "F", symbols=low.params))]


def jacobian(F, wrt, *, mode: str = "reverse", policy: Subgradients = DEFAULT) -> sp.ImmutableMatrix:
    """The Jacobian ∂Fᵢ/∂wⱼ as a SymPy matrix, one row per output and one column per scalar of wrt.

    ``F`` is a list (or SymPy Matrix) of scalar expressions, or a column MatrixExpr; ``wrt`` a list
    of Symbols, or a column MatrixSymbol. ``mode="reverse"`` makes one reverse sweep per output,
    ``mode="forward"`` one forward sweep per input; the two agree.

    Tensors (`sg.tensor`, concrete sizes): ``F`` one tensor expression of shape S, ``wrt`` a tensor
    of shape K (or a list of tensors and Symbols): an ``ImmutableDenseNDimArray`` of shape S + K,
    J[i…, k…] = ∂F[i…]/∂w[k…], as ``torch.autograd.functional.jacobian`` lays it out (a list of
    them for a list wrt); see `symgrad.core.tensor_jacobian`.

    >>> import sympy as sp, symgrad as sg
    >>> s, t = sp.symbols('s t')
    >>> sg.jacobian([sp.sin(t) + s, sp.cos(t), 6 * t / sp.pi], [s, t])
    Matrix([
    [1,  cos(t)],
    [0, -sin(t)],
    [0,    6/pi]])
    """
    flat = _check_arguments("jacobian", F, wrt, mode, policy, vector=True)
    if is_tensor_case(F, flat):               # tensors: an array shaped F.shape + w.shape
        return tensor_jacobian(F, wrt, flat, mode, policy)
    graph = Graph(policy)
    low = Lowering(graph, params=flat, diag_ops=True)
    outs = _outputs(F, low)
    wrt_vars = [low.leaf(w) for w in flat]
    return jacobian_matrix(graph, low.exprs, outs, wrt_vars, mode)


def hessian(f, wrt, *, policy: Subgradients = DEFAULT) -> sp.ImmutableMatrix:
    """The Hessian of the scalar ``f``: the Jacobian of its gradient (reverse over reverse).
    Newton's method in the lecture notes steps by −H⁻¹∇f. With respect to a tensor w of shape K
    (concrete sizes): an array of shape K + K (a list of lists of blocks for a list wrt), as
    ``torch.autograd.functional.hessian`` lays it out.

    >>> import sympy as sp, symgrad as sg
    >>> x, y = sp.symbols('x y')
    >>> sg.hessian(x**2 * y + y**3, [x, y])
    Matrix([
    [2*y, 2*x],
    [2*x, 6*y]])
    """
    flat = _check_arguments("hessian", f, wrt, "reverse", policy)
    if is_tensor_case(f, flat):               # tensors: an array shaped w.shape + w.shape
        return tensor_hessian(f, wrt, flat, policy)
    # reverse over reverse in one graph: the gradient's variables differentiated where they are
    # (converting the gradient to SymPy and lowering it again, then simplifying every entry, took
    # seconds for a 4×3 logistic regression)
    flat, graph, low, f, out, wrt_vars, grads, steps = _reverse("hessian", f, flat, "reverse", policy)
    return jacobian_matrix(graph, low.exprs, grads, wrt_vars, "reverse")
