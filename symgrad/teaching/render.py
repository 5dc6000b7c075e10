"""Rendering derivations: plain text (ASCII), Unicode, Markdown and LaTeX.

Three SymPy printer subclasses do the expressions — only the structural differences get a method:
∂f/∂q is a fraction in LaTeX, ``df/dq`` in text; z₂ has a subscript in Unicode; Wᵀ, A ⊙ B, 𝟙.
The functions below lay the steps out: one line per node, the rule used at the right.

>>> import sympy as sp, symgrad as sg
>>> x, y, z = sp.symbols('x y z')
>>> print(render(sg.derive((x + y) * z, z).steps, "text"))       # doctest: +ELLIPSIS
f = z*(x + y)
Forward pass:
  u1 = x + y
  f = u1*z
Backward pass (...):
  df/df = 1    [seed: reverse mode starts from the output]
  df/dz = df/df * df/dz = 1 * u1 = x + y    [product rule: df/dz = u1]
Gradient:
  df/dz = x + y
"""
from __future__ import annotations

import contextvars
import functools
import re
import unicodedata

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.conventions import split_super_sub
from sympy.printing.pretty.pretty_symbology import pretty_symbol as _sympy_pretty_symbol, pretty_use_unicode
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.str import StrPrinter

from .latex_rows import _tex_equation, _text_mode
from .logistic import sigma_first
from .notation import BatchSum, Chain, Value, decode
from .numbers import number, tiny
from .root_scale import over_root, print_over_root
from .sum_order import as_written_sum, in_affine_order
from .uses_note import is_uses_note
from .rule_prose import _tex_escape, words
from .shape_notes import tex_shape, with_shapes
from .text_wrap import wrap_equation

FORMATS = ("text", "unicode", "markdown", "latex")


# ---------------------------------------------------------------------------------------------------
# Printers

_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


# the variable a calculus narration takes partial derivatives with respect to (`render_calculus`)
_PARTIAL_IN: contextvars.ContextVar = contextvars.ContextVar("partial_in", default=frozenset())


def inverse_transposed_power(expr):
    """(A, k) when expr is (Aᵀ)^−k (k a positive integer): a textbook writes it (A⁻ᵀ)^k; else None."""
    if not isinstance(expr, sp.MatPow) or not isinstance(expr.base, sp.Transpose):
        return None
    n = expr.exp
    if not (n.is_Integer and n < 0):
        return None
    return expr.base.arg, int(-n)


# A product of two sums over the batch is written (Σₙ a)·(Σₙ b): Σₙ a·Σₙ b would read as one sum
# over n of a·Σₙ b, the second n the first one's. The text view's sum_n(a) has its own brackets.
_SUM_IN_PRODUCT = contextvars.ContextVar("sum_in_product", default=False)


def _sums_bracketed(print_mul):
    def wrapped(self, expr):
        token = _SUM_IN_PRODUCT.set(sum(isinstance(a, BatchSum) for a in expr.args) > 1)
        try:
            return print_mul(self, expr)
        finally:
            _SUM_IN_PRODUCT.reset(token)
    return wrapped


def _sum_body(printer, e):
    """(whether this Σ is one of several factors of a product, the printed body ``e``)."""
    bracket = _SUM_IN_PRODUCT.get()
    token = _SUM_IN_PRODUCT.set(False)
    try:
        return bracket, printer._print(e)
    finally:
        _SUM_IN_PRODUCT.reset(token)


class TextPrinter(StrPrinter):
    """ASCII: df/dq, W^T, A .* B, ones."""

    # the signs that differ between ASCII and Unicode (`UnicodePrinter` sets its own)
    _D = "d"                # the partial-derivative sign
    _DELTA = "delta"
    _SUB = str.maketrans("", "")    # layer numbers as subscripts: none in ASCII
    _T = "^T"
    _TIMES = "*"
    _HAD = " .* "
    _ONES = "ones"

    # A Float prints as short as it reads, 0.5 — never SymPy's 15 digits 0.500000000000000, which
    # StrPrinter's full_prec="auto" gives a Float standing alone (a step's ∂L/∂u = 0.5)
    _default_settings = {**StrPrinter._default_settings, "full_prec": False}

    def _partial(self, expr):
        num, den, delta = decode(expr.name)
        if delta:             # δ⁽ᵏ⁾ of the layer z⁽ᵏ⁾ (δ₂ of an older z2), else δ_n
            m = re.fullmatch(r"z(\d*)", den)
            if m:
                return self._DELTA + m.group(1).translate(self._SUB)
            return self._name("delta" + den[1:]) if den.startswith("z") else self._DELTA + "_" + self._name(den)
        return f"{self._D}{self._name(num)}/{self._D}{self._name(den)}"

    def _name(self, name):
        return visible(name)

    def _print_Symbol(self, expr):
        return visible(expr.name)

    def _print_Rational(self, expr):
        return tiny(expr) or super()._print_Rational(expr)    # a batch norm's ε as code writes it: 1e-5

    def _print_Float(self, expr):
        return tiny(expr) or super()._print_Float(expr)

    _print_MatrixSymbol = _print_Symbol

    def _print_Partial(self, expr):
        return self._partial(expr)

    _print_MatPartial = _print_TensorPartial = _print_Partial

    def _print(self, expr, **kwargs):
        if type(expr) is sp.Symbol:             # most of a long product's factors: none of the forms below
            return self._print_Symbol(expr)
        from ..frontend.tensor import Tensor
        if type(expr) is Tensor:                # γ, x̂ as the symbols of the same names print
            return self._print_Symbol(sp.Symbol(expr.name))
        if type(expr).__name__ == "Full" and hasattr(self, "_print_Full"):    # before its _sympystr
            return self._print_Full(expr)
        ones = scalar_broadcast(expr)
        if ones is not None:                    # a sum's adjoint: ∂f/∂u₅·𝟙, not broadcast_to(∂f/∂u₅, (2,))
            return self._print_Full(ones)
        left = hadamard_times_matrix(expr)
        if left is not None:                    # (y ⊙ (1 − y) ⊙ (y − d)) @ x.T: not read as ... ⊙ ((y − d) @ x.T)
            return f"({self._print(left)}) @ " + self.parenthesize(expr.args[1], PRECEDENCE["Mul"])
        v = squared_norm_of(expr)
        if v is not None:                       # ‖W·x‖², as the notes write f(x, W) = ‖Wx‖²
            return self._NORM % self._print(v)
        vk = norm_power_of(expr)
        if vk is not None:                      # ‖b‖⁴, not ‖b‖²²; ‖x‖, not √‖x‖²
            bare, k = (self._NORM % self._print(vk[0]))[:-len(self._NORM_EXP)], vk[1]
            return bare if k == 1 else "1/" + bare if k == -1 else bare + self._norm_exp(k)
        return super()._print(expr, **kwargs)

    _NORM = "||%s||^2"
    _NORM_EXP = "^2"

    def _norm_exp(self, k):
        return f"^{k}" if k > 0 else f"^({k})"
    _ROOT = "/sqrt(%d)"

    def _print_Mul(self, expr):              # σ(z)·(1 − σ(z)), as the slides write σ′
        bare = unit_float_dropped(expr)
        if bare is not None:
            return self._print(bare)
        over = print_over_root(self, expr, "", self._ROOT)        # u/√2, not u·√2/2
        if over is not None:
            return over
        scaled = _scaled_tensor(expr)
        if scaled:                               # 2*lam*W, lam*b/||b||, as the unicode view
            return _over(self, scaled[0], scaled[1], "*")
        return super()._print_Mul(sigma_first(_monomial_ordered(expr)))

    def _print_Transpose(self, expr):
        if isinstance(expr.arg, sp.Inverse):               # (X⁻¹)ᵀ = X⁻ᵀ
            return self._print_Inverse(sp.Inverse(sp.Transpose(expr.arg.arg), evaluate=False))
        return self.parenthesize(expr.arg, 1000, strict=True) + self._T

    def _print_HadamardProduct(self, expr):
        return self._HAD.join(self.parenthesize(a, 50) for a in expr.args)

    def _print_OneMatrix(self, expr):
        return self._ONES

    def _print_MatMul(self, expr):
        expr = _scalars_joined(expr)
        c = expr.args[0]
        if not isinstance(c, sp.MatrixExpr) and c != -1 and _negative(c):       # −1/N·𝟙, not (−1/N)·𝟙
            return "-" + self._print_MatMul(sp.MatMul(-c, *expr.args[1:], evaluate=False))
        return super()._print_MatMul(expr)

    def _print_Full(self, expr):          # a tensor of one value v: v·𝟙 (1/N*ones), as the matrix form writes it
        v = expr.args[0]
        if v == 1 or v == 0:
            return self._ONES if v == 1 else "0"
        if _negative(v):                                  # −1/N·𝟙, not (−1/N)·𝟙
            return "-" + self.parenthesize(-v, 50) + self._TIMES + self._ONES
        return self.parenthesize(v, 50, strict=True) + self._TIMES + self._ONES     # 2·λ·‖b‖²·𝟙, 1/2·𝟙

    def _print_HadamardPower(self, expr):
        return self.parenthesize(expr.base, 1000, strict=True) + ".^" + self._print(expr.exp)

    def _print_Heaviside(self, expr):
        return f"H({self._print(expr.args[0])})"

    def _print_Derivative(self, expr):
        e, v = expr.expr, expr.variable_count[0][0]
        inner, var = self._print(e), self._print(v)
        d = self._D if v in _PARTIAL_IN.get() else "d"      # ∂/∂y of z⁴ − sin(y² + x)
        if e.is_Symbol:
            return f"{d}{inner}/{d}{var}"
        if isinstance(e, sp.Function) or (e.is_Pow and e.base.is_Symbol):
            return f"{d}/{d}{var} {inner}"
        return f"{d}/{d}{var} ({inner})"

    def _print_Total(self, expr):
        return f"sum({self._print(expr.arg)})"

    def _print_BatchSum(self, expr):       # sum_n(dL/dxhat_n*(x_n - mu))
        e, n = expr.args
        return f"sum_{n}({self._print(e)})"

    def _print_Piecewise(self, expr):       # (g if t = 1; else μ·b + g), as a slide's cases
        parts = [self._print(e) if c == sp.true else f"{self._print(e)} if {self._print(c)}" for e, c in expr.args]
        return "(" + "; else ".join(parts) + ")"

    def _print_Inverse(self, expr):
        if isinstance(expr.arg, sp.Transpose):             # X⁻ᵀ, as the Cookbook writes (X^-T)
            return self.parenthesize(expr.arg.arg, 1000, strict=True) + self._INV_T
        return self.parenthesize(expr.arg, 1000, strict=True) + self._INV

    _INV = "^-1"
    _INV_T = "^-T"

    def _print_MatPow(self, expr):           # (X^-T)**2, not X^T**(-2)
        it = inverse_transposed_power(expr)
        if it is None:
            return super()._print_MatPow(expr)
        a, k = it
        inv_t = self.parenthesize(a, 1000, strict=True) + self._INV_T
        return inv_t if k == 1 else f"({inv_t})**{k}"

    def _print_Determinant(self, expr):                    # det(X), not Determinant(X)
        return f"det({self._print(expr.arg)})"

    def _print_Trace(self, expr):                          # tr(A*X^-1), not Trace(A*X^-1)
        return f"tr({self._print(expr.arg)})"

    def _print_DiagMatrix(self, expr):       # diag(v), as a lecture writes it, not DiagMatrix(v)
        return f"diag({self._print(expr.args[0])})"

    def _print_DiagonalOf(self, expr):       # diag(M), np.diag's name for the diagonal of a square M
        return f"diag({self._print(expr.arg)})"

    def _print_MatrixBase(self, expr):       # an explicit matrix: [[a, b], [c, d]], as NumPy prints
        return "[" + ", ".join("[" + ", ".join(self._print(x) for x in expr.row(i)) + "]"
                               for i in range(expr.rows)) + "]"

    _print_ImmutableDenseMatrix = _print_MutableDenseMatrix = _print_MatrixBase

    def _print_Equality(self, expr):
        return f"{self._print(expr.lhs)} = {self._print(expr.rhs)}"

    # positive terms first: f − f*, not −f* + f
    def _print_Add(self, expr, order=None):
        return super()._print_Add(_positive_first(as_written_sum(expr), sp.Add), order)

    def _print_MatAdd(self, expr):
        return _signed_sum(self, expr)


def squared_norm_of(expr):
    """v where ``expr`` is sum(v∘²) of a column (or row) vector v: its squared norm ‖v‖², as the
    notes write ‖Wx‖² and ½‖y − t‖²; None otherwise (a matrix's sum(W∘²) stays as written)."""
    from ..frontend.matrix_functions import Total
    from ..frontend.tensor import Ewise, Reduce
    if (type(expr) is Reduce and expr.op == "sum" and not expr.keepdims and len(expr.x.shape) == 1
            and isinstance(expr.x, Ewise) and isinstance(expr.x.expr, sp.Pow) and expr.x.expr.exp == 2):
        return expr.x.expr.base             # a tensor vector's ((W @ x + b)²).sum() is ‖W @ x + b‖² too
    if type(expr) is not Total or not isinstance(expr.arg, sp.HadamardPower) or expr.arg.exp != 2:
        return None
    v = expr.arg.base
    return v if 1 in tuple(v.shape) else None


def _scalar_tensor(a) -> bool:
    """A tensor expression of shape (): a sum or a norm, ‖b‖² (4·λ·‖b‖²·b, not 4·λ·b ⊙ ‖b‖²)."""
    from ..frontend.tensor import shape_of
    try:
        return tuple(shape_of(a)) == ()
    except Exception:  # noqa: BLE001 - a shape the frontend cannot say: taken as a tensor's
        return False


def _scaled_matmul(expr) -> bool:
    """A matrix product whose left operand is a number times one tensor, 2·(W @ x + b) @ x.T: in
    LaTeX the product needs no bracket around it (numbers commute with matrices)."""
    from ..frontend.tensor import Ewise, TensorMatMul
    if type(expr) is not TensorMatMul:
        return False
    a = expr.args[0]
    inner = a.expr if isinstance(a, Ewise) else a
    if not isinstance(inner, sp.Mul):
        return False
    numbers = [f for f in inner.args if f.is_number]
    return len(numbers) == 1 and numbers[0].is_positive and len(inner.args) == 2


def hadamard_times_matrix(expr):
    """The left operand of a matrix product ``expr`` (a @ b) when it is an elementwise product of
    two or more tensors, which NumPy's a * b @ c multiplies first but a page's ⊙ and @ do not say;
    else None."""
    from ..frontend.tensor import Ewise, TensorMatMul
    if type(expr) is not TensorMatMul:
        return None
    a = expr.args[0]
    inner = a.expr if isinstance(a, Ewise) else a
    return a if isinstance(inner, sp.Mul) and _elementwise_product(inner) else None


def scalar_broadcast(expr):
    """v·𝟙 (a `Full` of v) where ``expr`` is broadcast_to(v, shape) of a scalar v — the gradient a
    sum hands each entry, as the matrix form writes it — else None."""
    from ..frontend.tensor import BroadcastTo, Full
    if type(expr) is not BroadcastTo or not _scalar_tensor(expr.args[0]):
        return None
    return Full(expr.args[0], expr.args[1])


def norm_power_of(expr):
    """(v, k) where ``expr`` is a squared norm ‖v‖² to the power k/2 (‖v‖⁴ of `sg.norm(v)**4`, ‖v‖
    of `sg.norm(v)`, k = 1; k = −1 in x/‖v‖), else None."""
    if not (isinstance(expr, sp.Pow) and (2 * expr.exp).is_Integer and expr.exp != 1):
        return None
    v = squared_norm_of(expr.base)
    return None if v is None else (v, int(2 * expr.exp))


def _tensor_factors(expr) -> list:
    """The factors of the product ``expr`` that are tensors (`sg.tensor`) of a shape, not () — a
    sum or a norm such as ‖b‖² is a scalar factor (4·λ·‖b‖²·b, not 4·λ·b ⊙ ‖b‖²)."""
    from ..frontend.tensor import Tensor, TensorExpr
    return [a for a in expr.args if (isinstance(a, TensorExpr) or a.has(Tensor)) and not _scalar_tensor(a)]


def _elementwise_product(expr):
    """(scalar factors, tensor factors) of a product of two or more tensors (`sg.tensor`), which
    NumPy multiplies entry by entry (printed ⊙); None for any other product."""
    tensors = _tensor_factors(expr)
    if len(tensors) < 2:
        return None
    return [a for a in expr.args if a not in tensors], _value_before_complement(tensors)


def _value_before_complement(tensors: list) -> list:
    """The factors of an elementwise product with y right before 1 − y, as the slides write σ′ =
    y ⊙ (1 − y) (SymPy orders them (1 − y) ⊙ y): the tensor `logistic.sigma_first`."""
    from ..frontend.tensor_expr import Ewise
    bare = lambda a: a.expr if isinstance(a, Ewise) else a          # noqa: E731
    out = list(tensors)
    for a in tensors:
        if isinstance(bare(a), sp.Add):          # 1 − y itself (1 − (1 − y) would be y)
            continue
        ones = [sp.Add(sp.S.One, sp.Mul(sp.S.NegativeOne, v)) for v in {a, bare(a)}]   # a tensor's − is NumPy's
        comp = next((c for c in out if c is not a and (c in ones or bare(c) in ones)), None)
        if comp is not None and out.index(a) != out.index(comp) - 1:
            out.remove(a)
            out.insert(out.index(comp), a)
    return out


def _scalars_joined(expr):
    """A matrix product's scalar factors as one: (−1)·(1/N)·𝟙 built unevaluated prints −1/N·𝟙."""
    scalars = [a for a in expr.args if not isinstance(a, sp.MatrixExpr)]
    if len(scalars) < 2:
        return expr
    mats = [a for a in expr.args if isinstance(a, sp.MatrixExpr)]
    return sp.MatMul(sp.Mul(*scalars), *mats, evaluate=False)


def _negative(a) -> bool:
    """Whether ``a`` prints with a leading minus (cheap for matrix products: no negation built)."""
    if isinstance(a, sp.MatrixExpr):
        return bool(isinstance(a, sp.MatMul) and a.args and a.args[0].is_number and a.args[0] < 0)
    return bool(isinstance(a, sp.Expr) and a.could_extract_minus_sign())


def unit_float_dropped(expr):
    """``expr`` (a product) without a float factor ±1.0, or None where it has none: 0.5·reg·Σ W²
    differentiates to 1.0·reg·W (0.5 times 2), which a lecture writes reg·W (cs231n's dW += reg * W).
    The value is the same; −1.0 leaves its sign, −reg·W."""
    ones = [a for a in expr.args if isinstance(a, sp.Float) and abs(float(a)) == 1.0]
    if not ones or len(expr.args) < 2:
        return None
    rest = [a for a in expr.args if not any(a is o for o in ones)]
    if sum(float(o) < 0 for o in ones) % 2:
        rest = [sp.S.NegativeOne] + rest
    return rest[0] if len(rest) == 1 else sp.Mul(*rest, evaluate=False)


def _monomial_ordered(expr):
    """A monomial (numbers, symbols and their integer powers) with its factors in SymPy's printing
    order, x²·y as the notes write x²y; the printers keep a product's stored order (y, x²) otherwise."""
    f = expr.args
    if not any(a.is_Pow and a.base.is_Symbol for a in f) or not all(
            a.is_number or a.is_Symbol or (a.is_Pow and a.base.is_Symbol and a.exp.is_Integer and a.exp > 0)
            for a in f):
        return expr
    numbers = [a for a in f if a.is_number]          # the coefficient as it is stored (−2/N stays)
    ordered = numbers + list(sp.Mul(*[a for a in f if not a.is_number]).as_ordered_factors())
    return expr if ordered == list(f) else sp.Mul(*ordered, evaluate=False)


def _positive_first(expr, cls):
    if _negated_log_likelihood(expr.args[0]):    # L = −sum(t ⊙ log_softmax(z)) + λ·sum(W∘²), the data term first
        return expr
    args = sorted(expr.args, key=_negative)
    return cls(*args, evaluate=False) if list(args) != list(expr.args) else expr


def _negated_log_likelihood(a) -> bool:
    """A MatrixSymbol column's cross-entropy −sum(t ⊙ log_softmax(z)): it heads a loss's sum as the
    slides write L = −Σ t·log softmax(z) + λ‖W‖² (`cross_entropy_header.data_loss_first` put it first)."""
    from ..frontend.matrix_functions import LogSoftmax
    return isinstance(a, sp.Expr) and _negative(a) and a.has(LogSoftmax)


def _signed_sum(printer, expr):
    """A matrix sum with its positive terms first and negative ones subtracted: f − f*."""
    from sympy.printing.precedence import precedence
    out = ""
    for i, a in enumerate(_positive_first(expr, sp.MatAdd).args):
        neg = _negative(a)
        s = printer.parenthesize(-a if neg else a, precedence(expr))
        out += ("-" if neg else "") + s if i == 0 else (" - " if neg else " + ") + s
    return out


_STAR = "\x00"          # a star inside a name (f^*), kept apart from the product sign
_SUPER = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_SUPER_LETTERS = {"t": "ᵗ", "n": "ⁿ", "k": "ᵏ", "i": "ⁱ", "j": "ʲ"}


class UnicodePrinter(TextPrinter):
    """Unicode: ∂f/∂q, z₂, Wᵀ, A ⊙ B, 𝟙, σ, x², products with ·."""

    _NORM = "‖%s‖²"
    _NORM_EXP = "²"

    def _norm_exp(self, k):
        return str(k).translate(_SUPER)

    _ROOT = "/√%d"

    _D = "∂"
    _DELTA = "δ"
    _SUB = _SUBSCRIPT
    _T = "ᵀ"
    _HAD = " ⊙ "
    _ONES = "𝟙"
    _INV = "⁻¹"
    _INV_T = "⁻ᵀ"
    _TIMES = "·"

    def _name(self, name):
        return _pretty_name(name)

    def _print_Symbol(self, expr):
        return _pretty_name(expr.name)

    def _print_MatrixSymbol(self, expr):
        return _pretty_name(expr.name)

    def _print_HadamardPower(self, expr):      # elementwise, as the rule at the right says
        n = expr.exp
        sup = str(n).translate(_SUPER) if n.is_Integer and 0 <= n <= 9 else "^" + self._print(n)
        return self.parenthesize(expr.base, 1000, strict=True) + "∘" + sup

    def _print_MatPow(self, expr):             # A² is the matrix product A·A (symgrad's gradients hold it)
        it = inverse_transposed_power(expr)
        if it is not None:                     # (X⁻ᵀ)², as a textbook writes it, not (Xᵀ)^−2
            a, k = it
            inv_t = self.parenthesize(a, 1000, strict=True) + self._INV_T
            return inv_t if k == 1 else f"({inv_t})" + str(k).translate(_SUPER)
        n = expr.exp
        sup = str(n).translate(_SUPER) if n.is_Integer and -9 <= n <= 9 else "^" + self._print(n)   # X⁻²
        base = self._print(expr.base)
        return (base if isinstance(expr.base, sp.MatrixSymbol) else f"({base})") + sup    # (Aᵀ)²

    def _print_Total(self, expr):
        return f"Σ({self._print(expr.arg)})"

    def _print_BatchSum(self, expr):
        e, n = expr.args
        bracket, inner = _sum_body(self, e)
        sub = {"n": "ₙ", "j": "ⱼ", "i": "ᵢ"}.get(str(n), "_" + str(n))
        out = f"Σ{sub} " + (f"({inner})" if isinstance(e, sp.Add) else inner)
        return f"({out})" if bracket else out

    def _print_Pow(self, expr, rational=False):
        b, n = expr.args
        if n.is_Integer and 2 <= n <= 9:
            return self.parenthesize(b, 59) + str(n).translate(_SUPER)
        if n is sp.S.Half:                                   # √v, √(1 − β₂ᵗ)
            return "√" + _under_root(self, b).replace("**", _STAR * 2)
        if n == -sp.S.Half:                                  # 1/√(σ² + ε)
            return "1/√" + _under_root(self, b).replace("**", _STAR * 2)
        if n.is_Symbol and n.name in _SUPER_LETTERS:          # β₁ᵗ
            return self.parenthesize(b, 59) + _SUPER_LETTERS[n.name]
        if n == -1:                       # 1/x (and ** protected from _print_Mul's * -> ·)
            return super()._print_Pow(expr, rational).replace("**", _STAR * 2)
        # never Python's **: x⁻², (σ² + ε)^(−3/2), xʸ written x^y (as ∘^ is written)
        base = self.parenthesize(b, 1000, strict=True)
        if n.is_Integer and -9 <= n <= 9:
            return base + str(n).translate(_SUPER)
        exp = self._print(n)
        return base + "^" + (exp if n.is_Symbol or (n.is_Integer and n > 0) else f"({exp})")

    @_sums_bracketed
    def _print_Mul(self, expr):
        bare = unit_float_dropped(expr)
        if bare is not None:
            return self._print(bare)
        split = _elementwise_product(expr)
        if split:                                # tensors: dout ⊙ γ, 2·u ⊙ v
            scalars, tensors = split
            head = _scalar_head(self, scalars, "·")
            return head.replace("*", "·") + _hadamard(self, tensors, " ⊙ ", lambda n, r: f"{n}/{r}")
        scaled = _scaled_tensor(expr)
        if scaled:                               # 2·lam·W, 4·lam·‖b‖²·b, λ·b/‖b‖: the scalars first, as λ·W
            scalars, t = scaled
            return _over(self, scalars, t, "·")
        return super()._print_Mul(sigma_first(expr)).replace("*", "·")

    def _print_MatMul(self, expr):
        return super()._print_MatMul(expr).replace("*", "·")

    def _print_Max(self, expr):
        return "max(%s)" % ", ".join(self._print(a) for a in expr.args)

    def _print_Min(self, expr):
        return "min(%s)" % ", ".join(self._print(a) for a in expr.args)

    def _print_Function(self, expr):
        if expr.func.__name__ == "sigmoid":
            return f"σ({self._print(expr.args[0])})"
        if expr.func is sp.log and isinstance(expr.args[0], sp.Determinant):   # log det X
            return "log " + self._print(expr.args[0])
        return super()._print_Function(expr)

    def _print_Determinant(self, expr):                    # det X; det(A·B)
        a = expr.arg
        return "det " + self._print(a) if isinstance(a, sp.MatrixSymbol) else f"det({self._print(a)})"

    def parenthesize(self, item, level, strict=False):
        # det X and log det X stand alone or in a sum; in a product or a power they take their
        # parentheses (det(X)·tr(A·X⁻¹), 1/det(X), log(det(X))·y: det X·y would read det(X·y))
        if level >= PRECEDENCE["Mul"] and _bare_det(item):
            return (f"log(det({self._print(item.args[0].arg)}))" if item.func is sp.log
                    else f"det({self._print(item.arg)})")
        return super().parenthesize(item, level, strict)

    def _print(self, expr, **kwargs):
        # the sigmoid of a matrix is σ(W·x + b) too, as the slides and the picture's σ node write it
        # (the matrix map prints itself by its function's name, which comes first)
        if type(expr) is sp.Symbol:
            return self._print_Symbol(expr)
        from ..frontend.functions import Map
        if isinstance(expr, Map):
            form = expr._call_form()
            if form is not None and getattr(form[0], "__name__", "") == "sigmoid":
                return f"σ({self._print(expr.expr)})"
        return super()._print(expr, **kwargs)

    def doprint(self, expr):
        return super().doprint(expr).replace("-", "−").replace(_STAR, "*")


def _bare_det(e) -> bool:
    """det X or log det X, of a matrix symbol X: what the Unicode text writes without parentheses."""
    if isinstance(e, sp.log):
        e = e.args[0]
    return isinstance(e, sp.Determinant) and isinstance(e.arg, sp.MatrixSymbol)


def _hadamard(printer, tensors, odot, over, tex=False) -> str:
    """The tensor factors of an elementwise product joined by ``odot``, as the slides write x̂ ⊙ γ with
    x̂ = (x − μ)/√(σ² + ε): a product inside it opened (its factors are this one's), and a factor
    1/√v the division of the first other factor, ``over(numerator, √v)`` — not
    (1/√v ⊙ (x − μ)) ⊙ γ."""
    from ..frontend.tensor_expr import Ewise
    flat = []
    for a in tensors:
        inner = _elementwise_product(a.expr) if isinstance(a, Ewise) and isinstance(a.expr, sp.Mul) else None
        flat.extend(inner[1] if inner and not inner[0] else [a])
    bare = [a.expr if isinstance(a, Ewise) else a for a in flat]
    roots = [k for k, a in enumerate(bare) if a.is_Pow and a.exp == -sp.S.Half]
    if len(roots) == 1 and len(flat) > 1:
        rest = flat[:roots[0]] + flat[roots[0] + 1:]
        root = printer._print(sp.Pow(bare[roots[0]].base, sp.S.Half, evaluate=False))
        num = printer._print(rest[0]) if tex else printer.parenthesize(rest[0], PRECEDENCE["Mul"], strict=True)
        return odot.join([over(num, root)] + [printer.parenthesize(a, 50) for a in rest[1:]])
    return odot.join(printer.parenthesize(a, 50) for a in flat)


def _under_root(printer, b) -> str:
    """The radicand of √: bracketed when it is no name and its printing does not open and close
    with one bracket pair — √((X²).sum(axis=1)), not √(X²).sum(axis=1), which reads as a sum of
    √(X²)."""
    from ..frontend.tensor import Tensor, TensorExpr
    s = printer.parenthesize(b, 1000, strict=True)
    if isinstance(b, TensorExpr) and type(b) is not Tensor and not _enclosed(s):
        return f"({s})"
    return s


def _enclosed(s: str) -> bool:
    """Whether ``s`` is one bracketed group, (…), its first bracket closed by its last character."""
    if not (s.startswith("(") and s.endswith(")")):
        return False
    depth = 0
    for k, c in enumerate(s):
        depth += (c == "(") - (c == ")")
        if depth == 0:
            return k == len(s) - 1
    return False


def _scaled_tensor(expr):
    """(scalar factors, the tensor) of a product of one tensor (`sg.tensor`, not of shape ()) and
    scalars of which one at least is a symbol or a scalar reduction (2·lam·W, not SymPy's 2·W·lam);
    None for any other product (2·W, u/4, x/N keep their printing)."""
    tensors = _tensor_factors(expr)
    if len(tensors) != 1:
        return None
    scalars = [a for a in expr.args if a is not tensors[0]]

    def plain(a):
        base, e = (a.base, a.exp) if isinstance(a, sp.Pow) else (a, sp.S.One)
        if a.is_number or e == 1 and isinstance(base, sp.Symbol):
            return True
        if e.is_Rational and e < 0 and (isinstance(base, sp.Symbol) or _scalar_tensor(base)):
            return True                  # λ·b/‖b‖: a divisor, written after the tensor (`_over`)
        return (e.is_Integer and e > 0 and isinstance(base, sp.Symbol)) or (_scalar_tensor(base) and e.is_positive)
    if not all(plain(a) for a in scalars) or all(a.is_number for a in scalars):
        return None
    over = lambda a: isinstance(a, sp.Pow) and a.exp.is_Rational and a.exp < 0        # noqa: E731
    if any(over(a) for a in scalars) and all(a.is_number for a in scalars if not over(a)):
        return None                      # 0.5·(…)/N, W/N: as SymPy prints them (a symbol on top only)
    return scalars, tensors[0]


def _over(printer, scalars, t, dot, frac=None) -> str:
    """A scaled tensor as a lecture writes it: its scalar factors in front, the divisors after it,
    λ·b/‖b‖ and 2·lam·W (not SymPy's b·λ/‖b‖); ``frac`` (LaTeX's "\\frac{%s}{%s}") for a fraction."""
    den = [a for a in scalars if isinstance(a, sp.Pow) and a.exp.is_Rational and a.exp < 0]
    num = [a for a in scalars if not any(a is d for d in den)]
    head = _scalar_head(printer, num, dot)
    top = (head.replace("*", "·") if dot == "·" else head) + printer.parenthesize(t, 50)
    if not den:
        return top
    below = sp.Mul(*[d.base ** -d.exp for d in den], evaluate=False) if len(den) > 1 else den[0].base ** -den[0].exp
    if frac is not None:
        return frac % (top, printer._print(below))
    shown = printer._print(below)
    return f"{top}/({shown})" if len(den) > 1 or isinstance(below, (sp.Add, sp.Mul)) else f"{top}/{shown}"


def _scalar_head(printer, scalars, dot) -> str:
    """The scalar factor in front of an elementwise product, with ``dot`` after it: "2·" in 2·u ⊙ v,
    and "-" alone for −1 (−g ⊙ s; a sum prints the sign, never g − 1·(g ⊙ s))."""
    if not scalars:
        return ""
    c = sp.Mul(*scalars)
    if c == -1:
        return "-"
    # a sum in front takes its brackets: (μ − x)·Σₙ …, never μ − x·Σₙ … (which reads μ − (x·Σₙ …))
    return (printer.parenthesize(c, PRECEDENCE["Mul"]) if isinstance(c, sp.Add) else printer._print(c)) + dot


def visible(name: str) -> str:
    """``name`` with its control characters written as escapes (a newline as \\n): a symbol may be
    named anything, and a view must neither break its lines nor send a terminal escape."""
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in name)


# A name LaTeX can take as SymPy prints it (x_1, W2, alpha, y'); anything else (a brace, a space, a
# control character) is set as escaped text.
_TEX_PLAIN = re.compile(r"[^\s\\{}$&#%~]+")


# Greek capitals LaTeX has no command for are the Latin letters they look like
_GREEK_LATIN = {"Alpha": "A", "Beta": "B", "Epsilon": "E", "Zeta": "Z", "Eta": "H", "Iota": "I",
                "Kappa": "K", "Mu": "M", "Nu": "N", "Omicron": "O", "Rho": "P", "Tau": "T", "Chi": "X",
                "omicron": "o", "final sigma": r"\varsigma", "lamda": r"\lambda", "Lamda": r"\Lambda"}


def _greek_commands(tex: str) -> str:
    r"""``tex`` with each Greek letter of a symbol's name (δ, Γ: pdflatex takes no Unicode in math)
    as its LaTeX command: a symbol may be named ``sg.tensor("δ", ...)`` as well as ``"delta"``.

    >>> _greek_commands("δ_{2}"), _greek_commands("Δ W"), _greek_commands("Ηx")
    ('{\\delta}_{2}', '{\\Delta} W', '{H}x')
    """
    out = []
    for c in tex:
        m = re.fullmatch(r"GREEK (SMALL|CAPITAL) LETTER (.+)", unicodedata.name(c, "")) if not c.isascii() else None
        if m is None:
            out.append(c)
            continue
        word = m.group(2).lower() if m.group(1) == "SMALL" else m.group(2).capitalize()
        cmd = _GREEK_LATIN.get(word, "\\" + word)
        out.append("{%s}" % cmd)
    return "".join(out)


# The letters a subscript may hold and still be set in subscript characters in Unicode: the indices
# of an entry (xᵢ, wᵢⱼ, Σₙ doutₙ·γ, as symgrad writes a batch's entries itself). Any other letter is
# kept as written, W_q, W_k, W_v, W_out: Unicode has subscripts for only some letters (none for q),
# and a formula that writes W_q beside Wₖ, or Wₒᵤₜ, reads worse than one that writes them alike.
# Numbers are always subscripts (W₁, z₁ₙ), and LaTeX sets every subscript (W_{q}, W_{1}).
_INDEX_LETTERS = frozenset("ijn")


def pretty_symbol(name: str) -> str:
    """SymPy's Unicode form of a symbol's name (beta_1 -> β₁), whatever SymPy's global switch says.

    SymPy draws Greek letters only while its module-wide ``_use_unicode`` is on, and it sets that
    from ``sys.stdout``'s encoding when it is first used: symgrad imported first under a doctest (its
    captured output) or a pipe with LANG=C then printed ``mu``, ``sigma^2`` and ``gamma`` in every
    ``render("unicode")`` of the process. The Unicode format asks for Unicode, so turn it on here.
    """
    before = pretty_use_unicode(True)
    try:
        return _sympy_pretty_symbol(name)
    finally:
        pretty_use_unicode(before)


@functools.lru_cache(maxsize=4096)      # a name's form depends on the name alone; a long product repeats them
def _pretty_name(name: str) -> str:
    """A symbol's name in Unicode: Greek letters and accents drawn (beta_1 -> β₁, xhat -> x̂), a
    subscript of digits and index letters set as one (W1 -> W₁, x_ij -> xᵢⱼ), any other kept as
    written (W_q, W_out).

    >>> [_pretty_name(n) for n in ("W_q", "W_k", "W1", "x_ij", "beta_1", "W_out", "xhat_n")]
    ['W_q', 'W_k', 'W₁', 'xᵢⱼ', 'β₁', 'W_out', 'x̂ₙ']
    """
    name = visible(name).replace("^*", "*")
    star = name.endswith("*")
    base = name.rstrip("*")
    try:
        head, sups, subs = split_super_sub(base)
        if subs and not sups:
            index = all(c.isdigit() or c in _INDEX_LETTERS for t in subs for c in t)
            p = pretty_symbol(head) + "".join(t.translate(_SUB_INDEX) if index else "_" + pretty_symbol(t) for t in subs)
        else:
            p = pretty_symbol(base)
    except Exception:  # pragma: no cover - exotic names
        p = base
    return unicodedata.normalize("NFC", p) + (_STAR if star else "")     # ŷ as one character


_SUB_INDEX = str.maketrans("0123456789ijn", "₀₁₂₃₄₅₆₇₈₉ᵢⱼₙ")


def _greek_name(w: str) -> bool:
    from sympy.printing.latex import greek_letters_set
    return w.lower() in greek_letters_set or w.lower() == "lamda"


def _map_standin():
    """The symbol a matrix map prints its function of, replaced by its argument's LaTeX after
    (`frontend.elementwise_map.Map._latex`): set as a word it wrapped tanh's argument in \\mathit."""
    from ..frontend.elementwise_map import _LATEX_STANDIN
    return _LATEX_STANDIN


@functools.lru_cache(maxsize=4096)      # the name alone decides it; a long product repeats its names
def _word(name: str) -> str:
    """The word a symbol's name starts with when it is one of several letters that is no Greek
    letter's name (cs231n's num, invden, dout), else "": LaTeX sets it \\mathit, as one word."""
    from sympy.printing.latex import modifier_dict
    m = re.match(r"[A-Za-z]+", name)
    w = m.group(0) if m else ""
    if any(w.lower().endswith(k) and w.lower() != k for k in modifier_dict):
        return ""                                  # xhat: SymPy's \hat{x}
    return w if len(w) > 1 and not _greek_name(w) else ""


class TeachLatexPrinter(LatexPrinter):
    """LaTeX: \\frac{\\partial f}{\\partial q}, \\delta_{2}, W^{T}, A \\odot B, \\mathbf{1}."""

    def _print_Rational(self, expr):
        return _tiny_tex(expr) or super()._print_Rational(expr)

    def _print_MaxPool(self, expr):          # max_pool2d(y, 2), as the text writes it
        text = expr._sympystr(_PRINTERS["text"](dict(order="none")))
        head, rest = text.split("(", 1)
        inner = self._print(expr.args[0])
        tail = rest[len(_PRINTERS["text"](dict(order="none")).doprint(expr.args[0])):-1]
        return r"\operatorname{%s}\left(%s%s\right)" % (head.replace("_", r"\_"), inner, tail)

    _print_AvgPool = _print_MaxPool

    def _print_DiagMatrix(self, expr):       # \operatorname{diag}(v), as the text's diag(v)
        return r"\operatorname{diag}\left(%s\right)" % self._print(expr.args[0])

    def _print_DiagonalOf(self, expr):
        return r"\operatorname{diag}\left(%s\right)" % self._print(expr.arg)

    def _print_Reshape(self, expr):          # b.reshape(2, 1, 1), as the text writes it (not Reshape(b, (2, 1, 1)))
        return r"%s.\operatorname{reshape}\left(%s\right)" % (
            self.parenthesize(expr.args[0], 1000, strict=True), ", ".join(self._print(d) for d in expr.shape))

    def _print_Float(self, expr):
        return _tiny_tex(expr) or super()._print_Float(expr)

    @_sums_bracketed
    def _print_Mul(self, expr):
        bare = unit_float_dropped(expr)
        if bare is not None:
            return self._print(bare)
        split = over_root(expr)                  # \frac{u}{\sqrt{2}}, not \frac{\sqrt{2} u}{2}
        if split is not None:
            num = self._print(split[0])
            if r"\frac" in num:     # \frac{1}{\sqrt{2}} \left(\frac{∂L}{∂S}\right)^{T} Q: no fraction set small inside another
                k, rest = split[0].as_coeff_Mul()
                body = self._print(rest)
                if isinstance(getattr(rest, "expr", rest), (sp.Add, sp.MatAdd)):
                    body = r"\left(%s\right)" % body
                return r"\frac{%s}{\sqrt{%d}} %s" % (self._print(k), split[1], body)
            return r"\frac{%s}{\sqrt{%d}}" % (num, split[1])
        split = _elementwise_product(expr)
        if split:                                # tensors: dout \odot \gamma
            scalars, tensors = split
            head = _scalar_head(self, scalars, r" \cdot ")
            return head + _hadamard(self, tensors, r" \odot ", lambda n, r: r"\frac{%s}{%s}" % (n, r), tex=True)
        scaled = _scaled_tensor(expr)
        if scaled:                               # 2 \cdot \mathit{lam} \cdot W, \frac{\lambda \cdot b}{‖b‖}
            return _over(self, scaled[0], scaled[1], r" \cdot ", frac=r"\frac{%s}{%s}")
        if (not any(_word(getattr(a.as_base_exp()[0], "name", "")) for a in expr.args)
                or sum(not a.is_number for a in expr.args) < 2):
            return super()._print_Mul(sigma_first(_monomial_ordered(expr)))
        # a product of named values, invden·num: a dot between them (juxtaposed: "invdennum")
        mul = self._settings["mul_symbol_latex"]
        self._settings["mul_symbol_latex"] = r" \cdot "
        try:
            return super()._print_Mul(sigma_first(expr))
        finally:
            self._settings["mul_symbol_latex"] = mul

    def _print_Add(self, expr, order=None):
        # a term SymPy cannot take the sign out of (a tensor's −one_hot(y, 3)) prints its own minus:
        # softmax − one_hot, not softmax + − one_hot
        return super()._print_Add(_positive_first(as_written_sum(expr), sp.Add), order).replace(" + - ", " - ")

    def _print_MatMul(self, expr):
        c = expr.args[0]
        if len(expr.args) == 2 and isinstance(expr.args[1], sp.OneMatrix) and isinstance(c, (sp.Float, sp.Integer)):
            if abs(c) == 1:                # −𝟙, not − 1 \cdot 𝟙 (the cross-entropy's ∂L/∂u₃)
                return ("- " if c < 0 else "") + r"\mathbf{1}"
            return ("- " if c < 0 else "") + self._print(abs(c)) + _times_ones(c)      # 0.05 \cdot \mathbf{1}
        if c.is_Rational and not c.is_Integer and c > 0 and len(expr.args) > 1:
            # \frac{1}{4} \left(A - B\right): a fraction needs no brackets of its own
            if len(expr.args) > 2:         # a product goes on: \frac{1}{4} \left(A - B\right) C
                return r"%s %s" % (self._print(c), self._print_MatMul(sp.MatMul(*expr.args[1:], evaluate=False)))
            return r"%s %s" % (self._print(c), self.parenthesize(expr.args[1], PRECEDENCE["Mul"], strict=False))
        return super()._print_MatMul(expr)

    def _print_MatAdd(self, expr):
        return _signed_sum(self, expr)

    def _name(self, name):
        return self._print(sp.Symbol(name))

    def _print_Symbol(self, expr, style="plain"):
        if expr.name.isprintable() and _TEX_PLAIN.fullmatch(expr.name):
            tex = _greek_commands(super()._print_Symbol(expr, style=style))
            word = _word(expr.name) if expr != _map_standin() else ""     # a map's argument: math, not a word
            if word and tex.startswith(word):     # cs231n's invden: \mathit{invden}, one word, not i·n·v·d·e·n
                tex = r"\mathit{%s}%s" % (word, tex[len(word):])
            # a subscript that is a word, L_data, W_out: upright, L_{\mathrm{data}}, as the slides set it
            # (two letters, W_hh, W_xh, stay indices)
            tex = re.sub(r"_\{([A-Za-z]{3,})\}", lambda m: m.group(0) if _greek_name(m.group(1))
                         else r"_{\mathrm{%s}}" % m.group(1), tex)
            # z^{(2)} braced, so that a transpose or a power after it is not a double superscript
            return "{%s}" % tex if "^" in tex else tex
        return r"\text{%s}" % _tex_escape(visible(expr.name))

    def _print_MatrixSymbol(self, expr):
        return self._print_Symbol(expr, style=self._settings["mat_symbol_style"])

    def _print_Partial(self, expr):
        num, den, delta = decode(expr.name)
        if delta:
            m = re.fullmatch(r"z(\d*)", den)
            if m:
                return r"\delta" + ("_{%s}" % m.group(1) if m.group(1) else "")
            return self._name("delta" + den[1:]) if den.startswith("z") else r"\delta_{%s}" % self._name(den)
        return r"\frac{\partial %s}{\partial %s}" % (self._name(num), self._name(den))

    _print_MatPartial = _print_TensorPartial = _print_Partial

    def _print(self, expr, **kwargs):
        if type(expr) is sp.Symbol:             # most of a long product's factors: none of the forms below
            return self._print_Symbol(expr)
        from ..frontend.tensor import Reduce, Tensor, Variance
        if type(expr) is Tensor:                # \gamma, \hat{x}
            return self._print_Symbol(sp.Symbol(expr.name))
        ones = scalar_broadcast(expr)
        if ones is not None:                    # v \cdot \mathbf{1}
            return self._print_Full(ones)
        if _scaled_matmul(expr):                # 2 \left(W x + b\right) x^{T}, not \left(2 \left(…\right)\right) x^{T}
            return "%s %s" % (self._print(expr.args[0]), self.parenthesize(expr.args[1], PRECEDENCE["Mul"]))
        v = squared_norm_of(expr)
        if v is not None:                       # \left\lVert W x \right\rVert^{2}
            return r"\left\lVert %s \right\rVert^{2}" % self._print(v)
        vk = norm_power_of(expr)
        if vk is not None:                      # \left\lVert b \right\rVert^{4}
            bare = r"\left\lVert %s \right\rVert" % self._print(vk[0])
            return bare if vk[1] == 1 else r"\frac{1}{%s}" % bare if vk[1] == -1 else bare + "^{%d}" % vk[1]
        if isinstance(expr, Variance) and expr.correction == 0:    # var_{axis=1} x, as mean_{axis=1} x
            return self._print(Reduce(expr.x, sp.core.symbol.Str("var"), expr.args[1], expr.args[2]))
        if _without_latex(self, expr):        # one_hot(y, 3), x[:, :2], take_along_axis(...), x.var(axis=0)
            return _code_form_tex(self, expr)
        if isinstance(expr, Reduce):            # Σ over axis 0 written with its axis, as NumPy's sum(axis=0)
            x = self._print(expr.x)
            if len(expr.args[0].free_symbols) > 1 or not isinstance(expr.x, (Tensor, sp.Symbol)):
                x = r"\left(%s\right)" % x
            axes = "" if len(expr.axes) == len(expr.x.shape) else r"_{\text{axis}=%s}" % ",".join(map(str, expr.axes))
            return r"\operatorname{%s}%s %s" % (expr.op, axes, x)
        return super()._print(expr, **kwargs)

    def _print_MatPow(self, expr):           # (X^{-T})^{2}, not \left(X^{T}\right)^{-2}
        it = inverse_transposed_power(expr)
        if it is None:
            return super()._print_MatPow(expr)
        a, k = it
        inv_t = self.parenthesize_super(self.parenthesize(a, 1000, strict=True)) + "^{-T}"
        return inv_t if k == 1 else r"\left(%s\right)^{%d}" % (inv_t, k)

    def _print_Pow(self, expr):
        from ..frontend.tensor import Tensor, TensorExpr
        b = expr.base
        if isinstance(b, TensorExpr) and type(b) is not Tensor:     # (x.T)², not x^{T}^{2}
            if expr.exp == sp.S.Half:
                return r"\sqrt{%s}" % self._print(b)
            return r"\left(%s\right)^{%s}" % (self._print(b), self._print(expr.exp))
        return super()._print_Pow(expr)

    def _print_OneMatrix(self, expr):
        return r"\mathbf{1}"

    def _print_Full(self, expr):          # v·𝟙 (Full(v, shape) is no LaTeX of SymPy's)
        v = expr.args[0]
        if v == 1 or v == 0:
            return r"\mathbf{1}" if v == 1 else "0"
        return self.parenthesize(v, 50) + _times_ones(v)

    def _print_BatchSum(self, expr):       # \sum_{n} \frac{∂L}{∂\hat{x}_{n}} (x_{n} − μ)
        e, n = expr.args
        bracket, inner = _sum_body(self, e)
        if isinstance(e, sp.Add):
            inner = r"\left(%s\right)" % inner
        out = r"\sum_{%s} %s" % (self._print(n), inner)
        return r"\left(%s\right)" % out if bracket else out

    def _print_Heaviside(self, expr, exp=None):
        return r"H\left(%s\right)" % self._print(expr.args[0])

    def _print_Derivative(self, expr):
        e, v = expr.expr, expr.variable_count[0][0]
        inner = self._print(e)
        if e.is_Add or (e.is_Mul and e.could_extract_minus_sign()):    # d/dy (−sin(…)), not d/dy − sin(…)
            inner = r"\left(%s\right)" % inner
        d = r"\partial" if v in _PARTIAL_IN.get() else "d"        # \frac{\partial}{\partial y}: a partial derivative
        return r"\frac{%s}{%s %s} %s" % (d, d, self._print(v), inner)


def _times_ones(v) -> str:
    r"""The vector of ones after its factor v: a dot after a number written with digits (0.05·𝟏,
    2·𝟏: juxtaposed, 0.05\mathbf{1} reads as the number 0.051), none after a fraction or a
    symbol (\frac{1}{20} \mathbf{1}, \eta \mathbf{1})."""
    return r" \cdot \mathbf{1}" if isinstance(v, (sp.Float, sp.Integer)) else r" \mathbf{1}"


def _without_latex(printer, expr) -> bool:
    """A tensor node of symgrad's with no LaTeX form of its own (no ``_latex``, no ``_print_<name>``
    here): SymPy would print its class and raw arguments, OneHot(y, 3, 1), or — for `Variance` —
    sympy.stats' Var(x), which drops the axis."""
    from ..frontend.tensor import TensorExpr
    if not isinstance(expr, TensorExpr):
        return False
    for cls in type(expr).__mro__:
        if cls is TensorExpr:
            return True
        if "_latex" in vars(cls) or hasattr(type(printer), "_print_" + cls.__name__) and \
                not hasattr(LatexPrinter, "_print_" + cls.__name__):
            return False
    return False


_SLOT = re.compile("\x00(\\d+)\x00")
_WORD = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")


def _code_form_tex(printer, expr) -> str:
    """The node as the text writes it (one_hot(y, 3), x[:, :2], take_along_axis(a, i, axis=1)), its
    operands in LaTeX: the text is printed with a slot for each operand, its words set upright."""
    slots = []

    class Slots(_PRINTERS["text"]):
        def _print(self, e, **kw):
            if e is expr or not isinstance(e, sp.Basic) or not e.free_symbols or isinstance(e, sp.Tuple):
                return super()._print(e, **kw)
            slots.append(e)
            return "\x00%d\x00" % (len(slots) - 1)

    text = expr._sympystr(Slots(dict(order="none")))
    out, at = [], 0
    for m in _SLOT.finditer(text):
        out.append(_code_tex(text[at:m.start()]))
        out.append(printer._print(slots[int(m.group(1))]))
        at = m.end()
    out.append(_code_tex(text[at:]))
    return "".join(out)


def _code_tex(s: str) -> str:
    """Code text between operands in LaTeX: words upright (\\operatorname{take\\_along\\_axis}), the
    rest escaped, brackets sized."""
    out, at = [], 0
    for m in _WORD.finditer(s):
        out.append(_tex_punct(s[at:m.start()]))
        word, after = m.group(), s[m.end():m.end() + 1]
        if after in ("(", "=") or s[m.start() - 1:m.start()] == ".":      # a function, method or keyword
            out.append(r"\operatorname{%s}" % word.replace("_", r"\_"))
        else:                                                              # a dimension: N
            out.append(_PRINTERS["latex"]()._print(sp.Symbol(word)))
        at = m.end()
    out.append(_tex_punct(s[at:]))
    return "".join(out)


def _tex_punct(s: str) -> str:
    for a, b in (("\\", r"\backslash "), ("%", r"\%"), ("&", r"\&"), ("#", r"\#"), ("{", r"\{"),
                 ("}", r"\}"), ("~", r"\sim "), ("^", r"\wedge "), ("$", r"\$"), (" ", r"\ ")):
        s = s.replace(a, b)
    return s


_PRINTERS = {"text": TextPrinter, "unicode": UnicodePrinter, "latex": TeachLatexPrinter}


_H = sp.Function("H")     # the unit step, written H(z) as in the notes (SymPy: Heaviside(z, 1))


class _Above(sp.Function):
    """[a > b]: the strict step Heaviside(a − b, 0), 0 at a tie — max's second argument, which a
    tie does not route to (written H(a − b), it read 1 at the tie the text gave 0 for)."""
    nargs = 1

    def _sides(self):
        x = self.args[0]
        neg = [t for t in sp.Add.make_args(x) if t.could_extract_minus_sign()]
        pos = [t for t in sp.Add.make_args(x) if not t.could_extract_minus_sign()]
        return (sp.Add(*pos), -sp.Add(*neg)) if pos and neg else (x, sp.S.Zero)

    def _sympystr(self, printer):
        a, b = self._sides()
        return "[%s > %s]" % (printer._print(a), printer._print(b))

    def _latex(self, printer):
        a, b = self._sides()
        return r"\left[%s > %s\right]" % (printer._print(a), printer._print(b))


def _step(x, h0=None):
    """Heaviside(x, h0) as the notes write it: H(x) (H(0) = 1), or [a > b] where it is 0 at 0."""
    return _Above(x) if h0 is not None and h0 == 0 else _H(x)


def _tiny_tex(c) -> str | None:
    """``tiny(c)`` in LaTeX: 10^{-5}, 2.5 \\cdot 10^{-8}."""
    t = tiny(c)
    if t is None:
        return None
    mant, exp = t.split("e")
    sign = "-" if mant.startswith("-") else ""
    mant = mant.lstrip("-")
    return sign + ("" if mant == "1" else mant + r" \cdot ") + "10^{%s}" % exp


def show(expr, fmt: str) -> str:
    """One SymPy expression in the format ``fmt`` (text, unicode or latex).

    >>> W, y = sp.MatrixSymbol('W2', 3, 3), sp.MatrixSymbol('y1', 3, 1)
    >>> show(W.T * y, "unicode"), show(W.T * y, "text"), show(W.T * y, "latex")
    ('W₂ᵀ·y₁', 'W2^T*y1', 'W_{2}^{T} y_{1}')
    """
    if isinstance(expr, sp.Basic) and expr.has(sp.Heaviside):
        # a sum's terms kept in their order (X.T @ (H(z) ⊙ …) + 0.1·W, the data term first; SymPy's
        # replace re-sorted it, 0.1·W first, until 2026-12-01)
        from .as_written import terms_kept_in_order
        expr = terms_kept_in_order(lambda e: e.replace(sp.Heaviside, lambda *a: _step(*a)), expr)
    p = _PRINTERS["latex" if fmt in ("latex", "markdown", "latex-inline") else fmt]
    return p(dict(order="none")).doprint(expr)


# ---------------------------------------------------------------------------------------------------
# Steps

def _factor(e, fmt, alone=False):
    s = show(e, fmt)
    if alone:
        return s
    if isinstance(e, (sp.Add, sp.MatAdd)) or _negative(e):
        s = (r"\left(%s\right)" if fmt in ("latex", "markdown") else "(%s)") % s
    return s


def _chain(c: Chain, fmt: str) -> str:
    times = {"text": " * ", "unicode": " · ", "latex": r" \cdot ", "markdown": r" \cdot "}[fmt]
    return " + ".join(times.join(_factor(f, fmt, len(t) == 1) for f in t) for t in c.terms)


def _segment(x, fmt, spec):
    if isinstance(x, Chain):
        return _chain(x, fmt)
    if isinstance(x, Value):
        return number(x.value, fmt, spec)
    return show(x, fmt)


def step_parts(step, fmt: str, spec: str = ".4g"):
    """(lhs, [right-hand sides, duplicates dropped], rule note) of one step."""
    lhs = show(step.lhs, fmt)
    segs = []
    if step.delta_of is not None:
        segs.append(show(step.delta_of, fmt))
    prev = None
    for x in step.rhs:
        s = _segment(x, fmt, spec)
        if (not segs or segs[-1] != s) and not _reordered_sum(prev, x):
            segs.append(s)
        prev = x
    notes = []
    same: dict = {}          # one rule and one local derivative at every use (b in each z⁽ᵗ⁾ of an RNN)
    for r in step.rules:
        if r.local is not None and is_uses_note(step.note):     # a parameter's; the slide's ∂b/∂e = 1 stays
            same.setdefault((r.name, show(r.local, fmt)), []).append(show(r.lhs, fmt))
    for r in step.rules:
        n = words(r.name, fmt)
        if r.local is not None:
            sep = r"\text{: }" if fmt in ("latex", "markdown") else ": "
            lhss = same.get((r.name, show(r.local, fmt)), [show(r.lhs, fmt)])    # ∂z⁽³⁾/∂b = ∂z⁽²⁾/∂b = 1
            n += sep + " = ".join(dict.fromkeys(lhss)) + " = " + show(r.local, fmt)
        if n not in notes:
            notes.append(n)
    if step.note:
        parts = [step.note] if isinstance(step.note, str) else step.note
        notes.insert(0, "".join(words(p, fmt) if isinstance(p, str) else show(p, fmt) for p in parts))
    joiner = r"\text{; }" if fmt in ("latex", "markdown") else "; "
    return lhs, segs, joiner.join(notes)


def _reordered_sum(chain, x) -> bool:
    """Whether ``x`` is the sum the chain's terms already wrote, in another order (a + b = b + a:
    a step writes it once)."""
    if not isinstance(chain, Chain) or not isinstance(x, sp.Basic) or len(chain.terms) < 2 \
            or any(len(t) != 1 for t in chain.terms):
        return False
    terms = [t[0] for t in chain.terms]
    if not isinstance(x, (sp.Add, sp.MatAdd)) or len(x.args) != len(terms):
        return False
    return sorted(map(sp.srepr, x.args)) == sorted(map(sp.srepr, terms))


def render_step(step, fmt: str = "text", spec: str = ".4g") -> str:
    lhs, segs, note = step_parts(step, fmt, spec)
    if fmt in ("latex", "markdown"):
        return lhs + " = " + " = ".join(segs) + (r" \quad " + note if note else "")
    return lhs + " = " + " = ".join(segs) + (f"    [{note}]" if note else "")


def _check_format(fmt):
    if fmt not in FORMATS + ("latex-inline", "latex-document"):
        raise ValueError(f"format must be one of {', '.join(FORMATS)}; got {fmt!r}")


# A backward step's rule note, set as a slide would: small italic, right under its own equation,
# starting where that equation's = starts (the rhs column of the align*: it explains the right-hand
# side), never centred on the page where it floats free of both equations; no page break between
# them (the row before ends with \\*) and a \bigskipamount before the next step, so that a reader
# cannot take it for a lead-in to the equation below. The note is a row of its own whose text is a
# zero-width \rlap: it wraps at half the line, and a long note cannot widen the column and push the
# equations aside. A block that uses it defines it first (\providecommand: pasted into a document
# that has one, it keeps that).
STEP_NOTE = "stepnote"
STEP_NOTE_DEF = (r"\providecommand{\%s}[1]{&\mskip\thickmuskip\rlap{\parbox[t]{.5\linewidth}{\normalbaselines\raggedright"
                 r"\small\itshape#1}}\\[\bigskipamount]}" % STEP_NOTE)


def _step_note(note: str) -> str:
    r"""A row holding ``note`` (math-mode LaTeX, rewritten for text mode) as ``\stepnote{...}``."""
    return r"\%s{%s}" % (STEP_NOTE, _text_mode(note))


def _tex_block(body: str, fmt: str) -> str:
    """LaTeX lines as an ``aligned`` block ("latex-inline"), an ``align*`` block ("latex") or a
    whole document ("latex-document"); the latter two open with ``STEP_NOTE_DEF`` when they use it."""
    if fmt == "latex-inline":
        return r"\begin{aligned}" + "\n" + body + "\n" + r"\end{aligned}"
    block = r"\begin{align*}" + "\n" + body + "\n" + r"\end{align*}"
    if "\\%s{" % STEP_NOTE in body:
        block = STEP_NOTE_DEF + "\n" + block
    return latex_document(block) if fmt == "latex-document" else block


@in_affine_order
def render(steps, fmt: str = "unicode", extra=None) -> str:
    """The whole derivation: the function, the forward pass, the backward pass, the gradient.
    ``extra``: (heading, lines already in ``fmt``), a section after the backward pass (the
    Jacobian form, which `symgrad.teaching.derivation` adds)."""
    _check_format(fmt)
    if fmt in ("latex", "latex-inline", "latex-document"):
        return _tex_block(_latex_lines(steps, inline=fmt == "latex-inline", scale=fmt == "latex-document",
                                       extra=extra), fmt)
    if fmt == "markdown":
        return _markdown(steps, extra)
    spec = steps.number_format
    out = [f"{show(steps.out, fmt)} = {show(steps.f, fmt)}"]
    if steps.definitions:
        out.append("Forward pass:")
        lines = []
        for sym, ex, v in steps.definitions:
            line = f"  {show(sym, fmt)} = {show(ex, fmt)}"
            if v is not None:
                line += " = " + number(v, fmt, spec)
            lines.append(line)
        if getattr(steps, "shapes", False):        # Q = X @ W_q    (3×2)
            lines = with_shapes(lines, [sym for sym, _, _ in steps.definitions], fmt, show)
        out += lines
    out.append(words(_sweep_sentence(steps), fmt) + ":")
    for s in steps.steps:
        out.append("  " + render_step(s, fmt, spec))
    if extra:
        out.append(words(extra[0], fmt) + ":")
        out += ["  " + line for line in extra[1]]
    if steps.given:
        out.append(words("given " + ", ".join(f"{show(k, fmt)} = {show(v, fmt)}"
                                              for k, v in steps.given.items()), fmt))
    out.append("Gradient:")
    for w, e, v in steps.gradients:
        out += wrap_equation("  " + show(_grad_sym(steps, w), fmt), _gradient_segments(steps, w, e, v, fmt))
    return "\n".join(out)


def _gradient_segments(steps, w, e, v, fmt) -> list:
    """The right-hand sides of a Gradient line, in every view: the gradient in adjoint names (δ·xᵀ)
    if it has them, its closed form ``e``, and its value ``v`` unless the closed form is that number
    already (∂f/∂z = 1 for x + y + z, not 1 = 1)."""
    named = getattr(steps, "named_gradients", {}).get(w)
    segs = ([show(named, fmt)] if named is not None else []) + [show(e, fmt)]
    if v is not None and number(v, fmt, steps.number_format) != segs[-1]:
        segs.append(number(v, fmt, steps.number_format))
    return segs


def _grad_sym(steps, w):
    from .notation import partial
    return partial(str(steps.out), str(w))


def _sweep_sentence(steps) -> str:
    sw = steps.sweeps
    if steps.mode == "forward":
        return (f"Forward accumulation ({sw['forward']} sweep{'' if sw['forward'] == 1 else 's'}, one per input; "
                f"reverse mode needs {sw['reverse']}, one per output)")
    return (f"Backward pass (reverse accumulation: {sw['reverse']} sweep for the whole gradient; "
            f"forward accumulation would need {sw['forward']}, one per input)")


def _sweep_heading(steps, inline: bool) -> str:
    """The backward pass's heading, bold as the text form's "Backward pass (...):" line."""
    head, _, rest = _sweep_sentence(steps).partition(" (")
    rest = " (" + rest if rest else ""
    return _tex_heading(head, rest, inline)


def _tex_heading(head: str, rest: str = "", inline: bool = False) -> str:
    if inline:            # MathJax and nbconvert both take \textbf in math; \intertext only in align
        return r"\rlap{\textbf{%s}%s} &" % (_tex_escape(head), r"\text{%s}" % _tex_escape(rest) if rest else "")
    return r"\intertext{\textbf{%s}%s}" % (_tex_escape(head), _tex_escape(rest))


def _latex_lines(steps, inline: bool = False, scale: bool = False, extra=None) -> str:
    """The rows of the LaTeX form: the function, then "Forward pass", "Backward pass" and "Gradient"
    headed as in the text form. In a document (``inline`` False) a step's rule note is a paragraph
    of its own right under its equation (``STEP_NOTE_DEF``), which wraps at the page's edge; in
    Jupyter (an ``aligned`` block, for MathJax and nbconvert) it is a row of its own."""
    fmt, spec = "latex", steps.number_format
    rows = _tex_equation(show(steps.out, fmt), [show(steps.f, fmt)], scale)
    if steps.definitions:
        rows.append(_tex_heading("Forward pass", inline=inline))
        for sym, ex, v in steps.definitions:
            segs = [show(ex, fmt)] + ([number(v, fmt, spec)] if v is not None else [])
            if getattr(steps, "shapes", False):
                segs[-1] += tex_shape(sym, show)
            rows += _tex_equation(show(sym, fmt), segs, scale)
    rows.append(_sweep_heading(steps, inline))
    for s in steps.steps:
        lhs, segs, note = step_parts(s, fmt, spec)
        rows += _tex_equation(lhs, segs, scale)
        if note:
            rows.append(r"&\qquad %s" % note if inline else _step_note(note))
    if extra:
        head, _, rest = extra[0].partition(" (")
        rows.append(_tex_heading(head, " (" + words(rest, "text") if rest else "", inline))
        rows += [r"%s &= %s" % tuple(line.split(" = ", 1)) for line in extra[1]]
    rows.append(_tex_heading("Gradient", inline=inline))
    for w, e, v in steps.gradients:
        rows += _tex_equation(show(_grad_sym(steps, w), fmt), _gradient_segments(steps, w, e, v, fmt), scale)
    # \intertext and a step's note (a \noalign) start a row themselves: the row before must end
    # with \\, and they must not end one; the row before a note ends with \\* (no page break there:
    # \allowdisplaybreaks let a note open the next page, away from its equation)
    note = "\\" + STEP_NOTE + "{"
    out = []
    for k, r in enumerate(rows):
        if k == len(rows) - 1 or r.startswith((r"\intertext", note)):
            out.append(r)
        else:
            out.append(r + (r" \\*" if rows[k + 1].startswith(note) else r" \\"))
    return "\n".join(out)


def _markdown(steps, extra=None) -> str:
    fmt, spec = "markdown", steps.number_format
    out = [_markdown_header(show(steps.out, fmt), show(steps.f, fmt)), "", "**Forward pass**", ""]
    for sym, ex, v in steps.definitions:
        tail = " = " + number(v, fmt, spec) if v is not None else ""
        tail += tex_shape(sym, show) if getattr(steps, "shapes", False) else ""
        out.append(f"- ${show(sym, fmt)} = {show(ex, fmt)}{tail}$")
    out += ["", f"**{_sweep_sentence(steps)}**", ""]
    for s in steps.steps:
        lhs, segs, note = step_parts(s, fmt, spec)
        line = f"- ${lhs} = {' = '.join(segs)}$"
        if note:
            line += f" — ${note}$"
        out.append(line)
    if extra:
        out += ["", f"**{extra[0]}**", ""]
        out += [f"- ${line}$" for line in extra[1]]
    out += ["", "**Gradient**", ""]
    for w, e, v in steps.gradients:
        out.append(f"- ${show(_grad_sym(steps, w), fmt)} = {' = '.join(_gradient_segments(steps, w, e, v, fmt))}$")
    return "\n".join(out)


def _markdown_header(lhs: str, rhs: str) -> str:
    """f's header as a display block: one $$ … $$ line when it fits, else its rows as the LaTeX
    output breaks them (`_tex_equation`), in an aligned block (MathJax, as Jupyter and GitHub
    render Markdown, has no align*)."""
    rows = _tex_equation(lhs, [rhs], scale=False)
    if len(rows) == 1:
        return f"$${lhs} = {rhs}$$"
    return "$$\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}$$"


def latex_document(body: str) -> str:
    """A complete LaTeX document around ``body`` (compiles with pdflatex, amsmath and amssymb:
    SymPy writes an identity matrix \\mathbb{I})."""
    return ("\\documentclass{article}\n\\usepackage[margin=1.5cm,landscape]{geometry}\n"
            "\\usepackage{amsmath}\n\\usepackage{amssymb}\n\\usepackage{graphicx}\n\\begin{document}\n\\allowdisplaybreaks\n" + body +
            "\n\\end{document}\n")


# ---------------------------------------------------------------------------------------------------
# Calculus narration

def render_calculus(c, fmt: str = "unicode") -> str:
    """A `symgrad.teaching.calculus.Calculus` narration in ``fmt``: a function of several variables
    differentiated with respect to one of them is a partial derivative, ∂/∂y, as the notes write it."""
    _check_format(fmt)
    several = len(getattr(c.f, "free_symbols", ())) > 1
    token = _PARTIAL_IN.set(frozenset([c.x]) if several else frozenset())
    try:
        return _render_calculus(c, fmt)
    finally:
        _PARTIAL_IN.reset(token)


def _render_calculus(c, fmt):
    from .notation import D
    tex = fmt in ("latex", "markdown", "latex-inline", "latex-document")
    f = "latex" if tex else fmt

    def line(parts):
        return "".join(words(p, f) if isinstance(p, str) else show(p, f) for p in parts)

    head = show(D(c.f, c.x), f)
    lines = [line(l.parts) for l in c.lines]
    if c.value is not None:
        at = ", ".join(f"{show(k if not isinstance(k, str) else sp.Symbol(k), f)} = {v}" for k, v in c.at.items())
        lines.append(words(f"at {at}: ", f) if not tex else r"\text{at }" + at + r"\text{: }")
        lines[-1] += show(D(c.f, c.x), f) + " = " + number(c.value, f)
    if c.missing:
        lines.append(words("missing rules: " + ", ".join(c.missing), f))
    if fmt == "markdown":
        return f"$${head}$$\n\n" + "\n".join(f"1. ${l}$" for l in lines)
    if tex:
        return _tex_block("\n".join(r"&\quad %s \\" % l for l in [head] + lines).rstrip("\\ \n"), fmt)
    return "\n".join([head] + lines)
