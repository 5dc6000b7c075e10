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

import re
import unicodedata

import numpy as np
import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.conventions import split_super_sub
from sympy.printing.pretty.pretty_symbology import pretty_symbol
from sympy.printing.str import StrPrinter

from .logistic import sigma_first
from .notation import Chain, Value, decode

FORMATS = ("text", "unicode", "markdown", "latex")


# ---------------------------------------------------------------------------------------------------
# Printers

_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


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
        from ..frontend.tensor import Tensor
        if type(expr) is Tensor:                # γ, x̂ as the symbols of the same names print
            return self._print_Symbol(sp.Symbol(expr.name))
        if type(expr).__name__ == "Full" and hasattr(self, "_print_Full"):    # before its _sympystr
            return self._print_Full(expr)
        return super()._print(expr, **kwargs)

    def _print_Mul(self, expr):              # σ(z)·(1 − σ(z)), as the slides write σ′
        return super()._print_Mul(sigma_first(expr))

    def _print_Transpose(self, expr):
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
        return self.parenthesize(v, 50) + self._TIMES + self._ONES

    def _print_HadamardPower(self, expr):
        return self.parenthesize(expr.base, 1000, strict=True) + ".^" + self._print(expr.exp)

    def _print_Heaviside(self, expr):
        return f"H({self._print(expr.args[0])})"

    def _print_Derivative(self, expr):
        e, v = expr.expr, expr.variable_count[0][0]
        inner, var = self._print(e), self._print(v)
        if e.is_Symbol:
            return f"d{inner}/d{var}"
        if isinstance(e, sp.Function) or (e.is_Pow and e.base.is_Symbol):
            return f"d/d{var} {inner}"
        return f"d/d{var} ({inner})"

    def _print_Total(self, expr):
        return f"sum({self._print(expr.arg)})"

    def _print_BatchSum(self, expr):       # sum_n(dL/dxhat_n*(x_n - mu))
        e, n = expr.args
        return f"sum_{n}({self._print(e)})"

    def _print_Piecewise(self, expr):       # (g if t = 1; else μ·b + g), as a slide's cases
        parts = [self._print(e) if c == sp.true else f"{self._print(e)} if {self._print(c)}" for e, c in expr.args]
        return "(" + "; else ".join(parts) + ")"

    def _print_Inverse(self, expr):
        return self.parenthesize(expr.arg, 1000, strict=True) + self._INV

    _INV = "^-1"

    def _print_MatrixBase(self, expr):       # an explicit matrix: [[a, b], [c, d]], as NumPy prints
        return "[" + ", ".join("[" + ", ".join(self._print(x) for x in expr.row(i)) + "]"
                               for i in range(expr.rows)) + "]"

    _print_ImmutableDenseMatrix = _print_MutableDenseMatrix = _print_MatrixBase

    def _print_Equality(self, expr):
        return f"{self._print(expr.lhs)} = {self._print(expr.rhs)}"

    # positive terms first: f − f*, not −f* + f
    def _print_Add(self, expr, order=None):
        return super()._print_Add(_positive_first(expr, sp.Add), order)

    def _print_MatAdd(self, expr):
        return _signed_sum(self, expr)


def _elementwise_product(expr):
    """(scalar factors, tensor factors) of a product of two or more tensors (`sg.tensor`), which
    NumPy multiplies entry by entry (printed ⊙); None for any other product."""
    from ..frontend.tensor import Tensor, TensorExpr
    tensors = [a for a in expr.args if isinstance(a, TensorExpr) or a.has(Tensor)]
    if len(tensors) < 2:
        return None
    return [a for a in expr.args if a not in tensors], tensors


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


def _positive_first(expr, cls):
    args = sorted(expr.args, key=_negative)
    return cls(*args, evaluate=False) if list(args) != list(expr.args) else expr


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

    _D = "∂"
    _DELTA = "δ"
    _SUB = _SUBSCRIPT
    _T = "ᵀ"
    _HAD = " ⊙ "
    _ONES = "𝟙"
    _INV = "⁻¹"
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
        n = expr.exp
        sup = str(n).translate(_SUPER) if n.is_Integer and 0 <= n <= 9 else "^" + self._print(n)
        base = self._print(expr.base)
        return (base if isinstance(expr.base, sp.MatrixSymbol) else f"({base})") + sup    # (Aᵀ)²

    def _print_Total(self, expr):
        return f"Σ({self._print(expr.arg)})"

    def _print_BatchSum(self, expr):
        e, n = expr.args
        inner = self._print(e)
        sub = {"n": "ₙ", "j": "ⱼ", "i": "ᵢ"}.get(str(n), "_" + str(n))
        return f"Σ{sub} " + (f"({inner})" if isinstance(e, sp.Add) else inner)

    def _print_Pow(self, expr, rational=False):
        b, n = expr.args
        if n.is_Integer and 2 <= n <= 9:
            return self.parenthesize(b, 59) + str(n).translate(_SUPER)
        if n is sp.S.Half:                                   # √v, √(1 − β₂ᵗ)
            return "√" + self.parenthesize(b, 1000, strict=True).replace("**", _STAR * 2)
        if n == -sp.S.Half:                                  # 1/√(σ² + ε)
            return "1/√" + self.parenthesize(b, 1000, strict=True).replace("**", _STAR * 2)
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

    def _print_Mul(self, expr):
        split = _elementwise_product(expr)
        if split:                                # tensors: dout ⊙ γ, 2·u ⊙ v
            scalars, tensors = split
            head = _scalar_head(self, scalars, "·")
            return head.replace("*", "·") + " ⊙ ".join(self.parenthesize(a, 50) for a in tensors)
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
        return super()._print_Function(expr)

    def _print(self, expr, **kwargs):
        # the sigmoid of a matrix is σ(W·x + b) too, as the slides and the picture's σ node write it
        # (the matrix map prints itself by its function's name, which comes first)
        from ..frontend.functions import Map
        if isinstance(expr, Map):
            form = expr._call_form()
            if form is not None and getattr(form[0], "__name__", "") == "sigmoid":
                return f"σ({self._print(expr.expr)})"
        return super()._print(expr, **kwargs)

    def doprint(self, expr):
        return super().doprint(expr).replace("-", "−").replace(_STAR, "*")


def _scalar_head(printer, scalars, dot) -> str:
    """The scalar factor in front of an elementwise product, with ``dot`` after it: "2·" in 2·u ⊙ v,
    and "-" alone for −1 (−g ⊙ s; a sum prints the sign, never g − 1·(g ⊙ s))."""
    if not scalars:
        return ""
    c = sp.Mul(*scalars)
    return "-" if c == -1 else printer._print(c) + dot


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

    def _print_Reshape(self, expr):          # b.reshape(2, 1, 1), as the text writes it (not Reshape(b, (2, 1, 1)))
        return r"%s.\operatorname{reshape}\left(%s\right)" % (
            self.parenthesize(expr.args[0], 1000, strict=True), ", ".join(self._print(d) for d in expr.shape))

    def _print_Float(self, expr):
        return _tiny_tex(expr) or super()._print_Float(expr)

    def _print_Mul(self, expr):
        split = _elementwise_product(expr)
        if split:                                # tensors: dout \odot \gamma
            scalars, tensors = split
            head = _scalar_head(self, scalars, r" \cdot ")
            return head + r" \odot ".join(self.parenthesize(a, 50) for a in tensors)
        return super()._print_Mul(sigma_first(expr))

    def _print_Add(self, expr, order=None):
        return super()._print_Add(_positive_first(expr, sp.Add), order)

    def _print_MatAdd(self, expr):
        return _signed_sum(self, expr)

    def _name(self, name):
        return self._print(sp.Symbol(name))

    def _print_Symbol(self, expr, style="plain"):
        if expr.name.isprintable() and _TEX_PLAIN.fullmatch(expr.name):
            tex = _greek_commands(super()._print_Symbol(expr, style=style))
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
        from ..frontend.tensor import Reduce, Tensor, Variance
        if type(expr) is Tensor:                # \gamma, \hat{x}
            return self._print_Symbol(sp.Symbol(expr.name))
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
        return self.parenthesize(v, 50) + r" \mathbf{1}"

    def _print_BatchSum(self, expr):       # \sum_{n} \frac{∂L}{∂\hat{x}_{n}} (x_{n} − μ)
        e, n = expr.args
        inner = self._print(e)
        if isinstance(e, sp.Add):
            inner = r"\left(%s\right)" % inner
        return r"\sum_{%s} %s" % (self._print(n), inner)

    def _print_Heaviside(self, expr, exp=None):
        return r"H\left(%s\right)" % self._print(expr.args[0])

    def _print_Derivative(self, expr):
        e, v = expr.expr, expr.variable_count[0][0]
        inner = self._print(e)
        if e.is_Add:
            inner = r"\left(%s\right)" % inner
        return r"\frac{d}{d %s} %s" % (self._print(v), inner)


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


def tiny(c) -> str | None:
    """A small constant (0 < |c| < 10⁻³: a batch norm's ε, an Adam ε) as a float literal, the way
    code writes it — 1e-5, 2.5e-8 — when its decimal form is short; None otherwise. SymPy keeps
    a Rational(1, 100000) (and the Float 1e-5 once made exact) as 1/100000, which no slide writes.

    >>> tiny(sp.Rational(1, 10**5)), tiny(sp.Float(1e-8)), tiny(sp.Rational(1, 3)), tiny(sp.Rational(1, 3000))
    ('1e-5', '1e-8', None, None)
    """
    c = sp.sympify(c)
    if not (c.is_Rational or c.is_Float) or c == 0 or abs(c) >= sp.Rational(1, 1000):
        return None
    text = f"{float(c):.6g}"
    if "e" not in text or sp.nsimplify(sp.Float(text, 30), rational=True) != sp.nsimplify(c, rational=True):
        return None                 # 1/3000 is no short decimal: left as SymPy writes it
    mant, exp = text.split("e")
    return f"{mant}e{int(exp)}"


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
        expr = expr.replace(sp.Heaviside, lambda *a: _H(a[0]))
    p = _PRINTERS["latex" if fmt in ("latex", "markdown", "latex-inline") else fmt]
    return p(dict(order="none")).doprint(expr)


# ---------------------------------------------------------------------------------------------------
# Rule texts are written in Unicode; ASCII and LaTeX get them through a small table.

_ASCII = {"∇": "grad ", "δ": "delta", "ᵀ": "^T", "·": "*", "σ": "sigma", "−": "-", "²": "^2",
          "≥": ">=", "α": "alpha", "∂": "d", "⊙": ".*", "Σ": "sum", "′": "'", "←": "<-", "⁻": "^-",
          "¹": "1", "ε": "epsilon", "μ": "mu", "ₙ": "_n", "ᵢ": "_i"}
# ᵀ is ^{T}, so that it joins a name's superscript, y⁽¹⁾ᵀ as ^{(1)T} (^{(1)}^T does not compile)
_TEX = {"∇": r"\nabla ", "δ": r"\delta ", "ᵀ": "^{T}", "·": r"\cdot ", "σ": r"\sigma ", "−": "-",
        "²": "^2", "≥": r"\geq ", "α": r"\alpha ", "∂": r"\partial ", "⊙": r"\odot ", "Σ": r"\Sigma ",
        "′": "'", "≤": r"\leq ", "→": r"\to ", "×": r"\times ", "∘": r"\circ ", "𝟙": r"\mathbf{1}",
        "ε": r"\epsilon ", "η": r"\eta ", "μ": r"\mu ", "β": r"\beta ", "γ": r"\gamma ",
        "λ": r"\lambda ", "θ": r"\theta ", "√": r"\surd ", "ŷ": r"\hat{y}", "←": r"\leftarrow "}


def _tex_char(c: str):
    """The LaTeX of one character of a rule's prose that is not plain text: the table's, or a
    sub/superscript letter or digit (yᵢ, δᵢⱼ, x⁽ᵏ⁾) as a math sub/superscript; None for plain text."""
    if c in _TEX:
        return _TEX[c]
    if c.isascii():
        return None
    dec = unicodedata.decomposition(c)
    for tag, mark in (("<sub>", "_"), ("<super>", "^")):
        if dec.startswith(tag):
            base = chr(int(dec.split()[1], 16))
            return "%s{%s}" % (mark, _TEX.get(base, base))
    return None


def _script(c: str):
    """("_" or "^", the plain character) for a sub/superscript character (₂, ⁽), else None."""
    dec = unicodedata.decomposition(c)
    for tag, mark in (("<sub>", "_"), ("<super>", "^")):
        if dec.startswith(tag):
            return mark, chr(int(dec.split()[1], 16))
    return None


def _ascii(s: str) -> str:
    """Rule prose in ASCII: the table's words, and a run of sub/superscripts as the text printer
    writes names: W₂ -> W2, y⁽¹⁾ -> y^(1), xₙ -> x_n."""
    out, k = [], 0
    while k < len(s):
        c = s[k]
        sc = _script(c)
        if sc is None:
            out.append(_ASCII.get(c, c))
            k += 1
            continue
        run = []
        while k < len(s) and _script(s[k]) and _script(s[k])[0] == sc[0]:
            run.append(_ASCII.get(_script(s[k])[1], _script(s[k])[1]))       # ⁻ is a superscript −
            k += 1
        body = "".join(run)
        out.append(body if sc[0] == "_" and body.isdigit() else sc[0] + body)
    return "".join(out)


def words(s: str, fmt: str) -> str:
    """Prose in the format ``fmt``: ASCII for text, \\text{...} with math for LaTeX."""
    if fmt == "text":
        return _ascii(s)
    if fmt not in ("latex", "markdown", "latex-inline"):
        return s
    out, run = [], []
    parts = _SCI.split(s)          # prose, then (mantissa, sign, exponent) of each number in e-notation
    for k, piece in enumerate(parts):
        if k % 4 == 0:
            _words_tex(piece, out, run)
            continue
        if k % 4 != 1:
            continue
        mant, sign, exp = parts[k:k + 3]
        if run:
            out.append(r"\text{%s}" % _tex_escape("".join(run)))
            run.clear()
        power = "10^{%s%s}" % ("-" if sign else "", int(exp))     # 1e−5 as 10^{-5}, as LaTeX writes ε
        out.append(power if mant == "1" else r"%s \cdot %s" % (mant, power))
    if run:
        out.append(r"\text{%s}" % _tex_escape("".join(run)))
    return "".join(out)


# a number as code writes it, 1e−5 or 2.5e-3 (not inside a name: x1e5 stays)
_SCI = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)e([−-]?)(\d+)(?![\w.])")


# a name with a subscript kept as written in Unicode (W_q, W_out: `_pretty_name`), in a rule's prose:
# one letter, then the subscript (log_softmax, max_pool2d are words, not names)
_KEPT_SUB = re.compile(r"(?<![A-Za-z0-9_])([A-Za-z])_([A-Za-z0-9]+)(?![A-Za-z0-9_])")


def _words_tex(s: str, out: list, run: list) -> None:
    """`words` of a piece with no number in e-notation: prose runs into ``run``, formulas into ``out``;
    a name W_q is W_{q}, as the formulas write it."""
    parts = _KEPT_SUB.split(s)
    for k, piece in enumerate(parts):
        if k % 3 == 0:
            _chars_tex(piece, out, run)
        elif k % 3 == 1:
            if run:
                out.append(r"\text{%s}" % _tex_escape("".join(run)))
                run.clear()
            out.append("%s_{%s}" % (piece, parts[k + 1]))


def _chars_tex(s: str, out: list, run: list) -> None:
    for c in s:
        tex = _tex_char(c)
        if tex is None:
            run.append(c)
            continue
        script = tex[:2] in ("_{", "^{")
        last = re.search(r"([_^])\{[^{}]*\}$", out[-1]) if out and not run else None
        if script and last and last.group(1) == tex[0]:
            out[-1] = out[-1][:-1] + tex[2:]            # δᵢⱼ: one subscript ij, not two; H⁻¹: ^{-1}
            continue
        if script and run and run[-1].isascii() and run[-1].isalpha() and (len(run) == 1 or not run[-2].isalnum()):
            tex = run.pop() + tex                       # W₁ in prose is W_{1}, as the formulas set it
        if run:
            out.append(r"\text{%s}" % _tex_escape("".join(run)))
            run.clear()
        out.append(tex)


def _tex_escape(s):
    for a, b in (("\\", r"\textbackslash{}"), ("_", r"\_"), ("^", r"\^{}"), ("%", r"\%"), ("&", r"\&"),
                 ("#", r"\#"), ("{", r"\{"), ("}", r"\}"), ("~", r"\~{}"), ("|", r"$|$")):
        s = s.replace(a, b)
    return s


# ---------------------------------------------------------------------------------------------------
# Numbers

NOISE = 1e-9          # |entry| below this times the largest entry of its matrix (or 1) prints as 0


def clean(a) -> np.ndarray:
    """The array without float noise: entries below `NOISE` × its largest entry (or × 1) are 0.

    >>> clean([[1.0, 2.109e-17], [-0.5, 0.25]]).tolist()
    [[1.0, 0.0], [-0.5, 0.25]]
    """
    a = np.array(a, dtype=float)
    finite = np.abs(a[np.isfinite(a)])
    scale = max(1.0, float(finite.max()) if finite.size else 1.0)
    a[np.abs(a) < NOISE * scale] = 0.0
    return a


def number(v, fmt: str, spec: str = ".4g") -> str:
    """A value (float or small array) in the format ``fmt``, cleaned of float noise as the picture
    is (`clean`): a batch norm's ∂L/∂b₁ is [0, 0, 0], not [1.735e−17, −6.939e−18, 1.735e−18].

    >>> number(-0.19661, "unicode", ".2f"), number([[1.0, 2.0]], "text"), number([1.7e-17, -7e-18], "text")
    ('−0.20', '[[1, 2]]', '[0, 0]')
    """
    a = clean(v)
    one = lambda x: _num(x, spec, fmt)  # noqa: E731
    if a.ndim == 0:
        return one(float(a))
    if a.ndim > 2:
        return _n_d(a, fmt, spec)
    vector = a.ndim == 1                 # a tensor's vector (γ of shape (D,)): [a, b, c], as NumPy
    if vector:
        a = a[None, :]
    if a.size > 16:
        return _summary(a, fmt, spec)
    if fmt in ("latex", "markdown"):
        rows = r" \\ ".join(" & ".join(one(x) for x in row) for row in a)
        return r"\begin{bmatrix} %s \end{bmatrix}" % rows
    if vector:
        return "[" + ", ".join(one(x) for x in a[0]) + "]"
    return "[" + ", ".join("[" + ", ".join(one(x) for x in row) + "]" for row in a) + "]"


def _dims(shape, fmt: str) -> str:
    times = {"unicode": "×", "text": "x"}.get(fmt, r"$\times$")
    return times.join(str(n) for n in shape)


def _words(s: str, fmt: str) -> str:
    return r"\text{%s}" % s if fmt in ("latex", "markdown") else s


def _summary(a, fmt: str, spec: str) -> str:
    """Too many entries to print: the shape and what the entries span.

    >>> _summary(np.arange(20.0).reshape(4, 5), "unicode", ".4g")
    '(4×5 values: min 0, mean 9.5, max 19)'
    """
    finite = a[np.isfinite(a)]
    if not finite.size:
        return _words(f"({_dims(a.shape, fmt)} values, none finite)", fmt)
    if fmt in ("latex", "markdown"):
        stats = [r"\text{%s } %s" % (k, _num(float(f(finite)), spec, fmt))
                 for k, f in (("min", np.min), ("mean", np.mean), ("max", np.max))]
        return r"\text{(%s values: }%s\text{)}" % (_dims(a.shape, fmt), r"\text{, }".join(stats))
    stats = ", ".join(f"{k} {_num(float(f(finite)), spec, fmt)}"
                      for k, f in (("min", np.min), ("mean", np.mean), ("max", np.max)))
    return f"({_dims(a.shape, fmt)} values: {stats})"


def _n_d(a, fmt: str, spec: str) -> str:
    """A 3-d or 4-d array as the picture draws it: its first plane (image 0, channel 0 of a batch),
    said to be one; all of it, nested as NumPy lists, when its planes are single numbers (a bias of
    shape (1, C, 1, 1)) and it has at most 16 (in LaTeX its entries in a row, and its shape); else
    its shape and what its entries span.

    >>> _n_d(np.arange(8.0).reshape(2, 2, 2), "text", ".4g")
    '[[0, 1], [2, 3]] at [0, :, :] of 2x2x2'
    >>> _n_d(np.array([0.5, -1.0]).reshape(1, 2, 1, 1), "unicode", ".4g")
    '[[[[0.5]], [[−1]]]]'
    """
    plane = a.reshape((-1,) + a.shape[-2:])[0]
    if plane.size < 2 and a.size <= 16 and fmt not in ("latex", "markdown"):   # b of shape (1, C, 1, 1)
        def nest(x):
            return _num(float(x), spec, fmt) if x.ndim == 0 else "[" + ", ".join(nest(y) for y in x) + "]"
        return nest(a)
    if plane.size < 2 and a.size <= 16:      # LaTeX has no nested lists: the entries, then the shape
        return number(a.reshape(-1), fmt, spec) + _words(f" of shape {_dims(a.shape, fmt)}", fmt)
    if plane.size > 16 or plane.size < 2:
        return _summary(a, fmt, spec)
    index = ", ".join(["0"] * (a.ndim - 2) + [":", ":"])
    return number(plane, fmt, spec) + _words(f" at [{index}] of {_dims(a.shape, fmt)}", fmt)


def _num(x: float, spec: str, fmt: str) -> str:
    if x == 0:
        x = 0.0                         # no "-0"
    s = format(x, spec)
    if "e" in s and fmt in ("latex", "markdown"):
        m, e = s.split("e")
        s = r"%s \times 10^{%d}" % (m, int(e))
    return s.replace("-", "−") if fmt == "unicode" else s


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
    for r in step.rules:
        n = words(r.name, fmt)
        if r.local is not None:
            sep = r"\text{: }" if fmt in ("latex", "markdown") else ": "
            n += sep + show(r.lhs, fmt) + " = " + show(r.local, fmt)
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
        for sym, ex, v in steps.definitions:
            line = f"  {show(sym, fmt)} = {show(ex, fmt)}"
            if v is not None:
                line += " = " + number(v, fmt, spec)
            out.append(line)
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
        segs = [x for x in (_named_grad(steps, w, fmt)[:-3], show(e, fmt)) if x]
        if v is not None and number(v, fmt, spec) != show(e, fmt):
            segs.append(number(v, fmt, spec))
        out += wrap_equation("  " + show(_grad_sym(steps, w), fmt), segs)
    return "\n".join(out)


TEXT_WIDTH = 100        # characters a Gradient line of the text form takes before it wraps

_OPERATOR = re.compile(r" (?=[+\-−⊙·=@] )|(?<=,) ")


def wrap_equation(lhs: str, segs: list, width: int = TEXT_WIDTH) -> list:
    """``lhs = seg₁ = seg₂ = ...`` as lines of at most ``width`` characters where it can: each
    segment that does not fit goes on a line of its own under the first =, and a segment longer
    than a line is broken before its outermost + and − (then ⊙, ·, and after commas, one level of
    brackets deeper at a time); a line never breaks inside a name or a number.

    >>> wrap_equation("  ∂f/∂x", ["a + b", "3"], width=40)
    ['  ∂f/∂x = a + b = 3']
    >>> wrap_equation("  ∂f/∂x", ["(a + b)·c + d·e − f", "3"], width=20)
    ['  ∂f/∂x = (a + b)·c', '          + d·e − f', '        = 3']
    """
    one = lhs + " = " + " = ".join(segs)
    if len(one) <= width:
        return [one]
    pad = " " * len(lhs)
    lines = []
    for k, seg in enumerate(segs):
        head = (lhs if k == 0 else pad) + " = "
        pieces = _break(seg, width - len(head))
        lines.append(head + pieces[0])
        lines += [pad + "   " + p for p in pieces[1:]]
    return lines


def _depths(s: str) -> list:
    """The bracket depth at each character of ``s``."""
    out, d = [], 0
    for c in s:
        if c in ")]}":
            d -= 1
        out.append(d)
        if c in "([{":
            d += 1
    return out


SHORT_GROUP = 24        # a bracket group this short with none inside is never broken: (1, 0, 2, 3), (N, 16)


def _short_groups(s: str) -> list:
    """(start, end) of each innermost bracket group of ``s`` of at most SHORT_GROUP characters: an
    axis tuple or a shape (transpose(1, 0, 2, 3), reshape(N, 16)) stays on one line.

    >>> _short_groups("f(a, b) + g(h(1, 2), c)")
    [(1, 6), (13, 18)]
    """
    out, opened = [], []
    for k, c in enumerate(s):
        if c in "([{":
            opened.append(k)
        elif c in ")]}" and opened:
            a = opened.pop()
            if k - a <= SHORT_GROUP and not any(ch in "([{" for ch in s[a + 1:k]):
                out.append((a, k))
    return out


def _break(s: str, width: int, depth: int = 0) -> list:
    """``s`` cut into pieces of at most ``width`` characters, at the spaces around operators (and
    after commas) of bracket depth ``depth``, then deeper; a piece with no such space stays whole."""
    if len(s) <= width or depth > 8:
        return [s]
    d = _depths(s)
    whole = _short_groups(s)
    cuts = [m.start() for m in _OPERATOR.finditer(s) if d[m.start()] == depth
            and not any(a < m.start() < b for a, b in whole)]
    if not cuts:
        return _break(s, width, depth + 1)
    parts, last = [], 0
    for c in cuts:
        parts.append(s[last:c])
        last = c + 1            # the space is dropped: the next piece starts with its operator
    parts.append(s[last:])
    lines = [""]
    for p in parts:
        if lines[-1] and len(lines[-1]) + 1 + len(p) > width:
            lines.append(p)
        else:
            lines[-1] = (lines[-1] + " " + p) if lines[-1] else p
    out = []
    for line in lines:
        out += _break(line, width, depth + 1) if len(line) > width else [line]
    return out


def _named_grad(steps, w, fmt) -> str:
    """The gradient in adjoint names (δ·xᵀ) and " = ", before its closed form; "" when there is none."""
    named = getattr(steps, "named_gradients", {}).get(w)
    return "" if named is None else show(named, fmt) + " = "


def _grad_sym(steps, w):
    from .notation import partial
    return partial(str(steps.out), str(w))


def _sweep_sentence(steps) -> str:
    sw = steps.sweeps
    if steps.mode == "forward":
        return (f"Forward accumulation ({sw['forward']} sweeps, one per input; "
                f"reverse mode needs {sw['reverse']}, one per output)")
    return (f"Backward pass (reverse accumulation: {sw['reverse']} sweep for the whole gradient; "
            f"forward accumulation would need {sw['forward']}, one per input)")


# The width of a landscape page with 1.5 cm margins, in "glyphs" as `_tex_width` counts them: an
# equation wider than this is broken at its = signs, and a single side still wider is scaled down.
TEX_LINE = 88


_MATRIX = re.compile(r"\\begin\{([pbBvV]?matrix)\}(.*?)\\end\{\1\}", re.S)


def _tex_width(s: str) -> int:
    """A generous estimate of the printed width of math-mode LaTeX, in glyphs: commands that draw
    nothing count 0, other commands one glyph, a fraction its numerator and denominator together
    (an over-estimate, so what fits by this count fits on the page); a matrix its widest row, its
    columns two glyphs apart (not all its entries in a row: a 4×4 grid of values was scaled to a
    third)."""
    s = _MATRIX.sub(lambda m: "x" * max(_tex_width(r) + 2 * r.count("&") for r in m.group(2).split("\\\\")), s)
    s = re.sub(r"\\(left|right|bigl|bigr|operatorname|text|mathbf|mathrm|textstyle|displaystyle|frac)(?![a-zA-Z])",
               "", s)
    s = re.sub(r"\\(quad|qquad)(?![a-zA-Z])", "xx", s)
    s = re.sub(r"\\[a-zA-Z]+|\\.", "x", s)
    return len(re.sub(r"[{}^_&\s]", "", s))


def _fit(tex: str, scale: bool) -> str:
    """``tex`` scaled down to the line when it is wider (in a document, which loads graphicx)."""
    w = _tex_width(tex)
    if not scale or w <= TEX_LINE:
        return tex
    return r"\scalebox{%.3f}{$\displaystyle %s$}" % (TEX_LINE / w, tex)


def _tex_equation(lhs: str, segs: list, scale: bool) -> list:
    """``lhs = seg₁ = seg₂ ...`` as align rows: one row when it fits the line, else one row per = ,
    a side still wider in rows of its own, broken before a + or − (`_tex_rows`)."""
    if _tex_width(lhs + " = ".join(segs)) <= TEX_LINE:
        return [r"%s &= %s" % (lhs, " = ".join(segs))]
    out = []
    for k, seg in enumerate(segs):
        first, *rest = _tex_rows(seg)
        out.append(r"%s &= %s" % (lhs if k == 0 else "", _fit(first, scale)))
        out += [r"&\quad %s" % _fit(r, scale) for r in rest]
    return out


# the brackets `_tex_rows` reads: \left( … \right), \left[ … \right], \left\{ … \right\}, ...
_OPEN = re.compile(r"\\left(\\\{|\\langle|\\lvert|\\lVert|[(\[|.])")
_CLOSE = re.compile(r"\\right(\\\}|\\rangle|\\rvert|\\rVert|[)\]|.])")


def _tex_rows(tex: str, width: int = TEX_LINE) -> list:
    """``tex`` broken into rows of at most ``width`` glyphs where it can be: before a + or − outside
    every brace group and environment (a matrix keeps its rows), inside brackets too — a \\left …
    \\right pair that a break splits becomes \\bigl … \\bigr, which may span rows. A piece with no
    such + or − stays whole (and is scaled)."""
    cuts, pairs, stack, depth, env, i = [], [], [], 0, 0, 0
    while i < len(tex):
        m_open, m_close = _OPEN.match(tex, i), _CLOSE.match(tex, i)
        c = tex[i]
        if m_open:
            stack.append((i, m_open.end()))
            i = m_open.end()
            continue
        if m_close:
            if stack:
                pairs.append((stack.pop(), (i, m_close.end())))
            i = m_close.end()
            continue
        if c == "\\":
            command = re.match(r"\\([a-zA-Z]+|.?)", tex[i:]).group()        # a command, or an escaped sign
            env += (command == "\\begin") - (command == "\\end")          # never inside a matrix's rows
            i += len(command)
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif c in "+-" and depth == 0 and env == 0 and i > 0 and tex[:i].rstrip()[-1:] not in ("", "(", "[", ",", "=", "+", "-", "{"):
            cuts.append((i, len(stack)))
        i += 1
    if _tex_width(tex) <= width or not cuts or len(pairs) != len(re.findall(r"\\left(?![a-zA-Z])", tex)):
        return [tex]          # (a bracket of a kind not read here: breaking could unbalance it)
    rows, start = [], 0
    while _tex_width(tex[start:]) > width:
        after = [(c, d) for c, d in cuts if c > start]
        if not after:
            break
        fits = [(c, d) for c, d in after if _tex_width(tex[start:c]) <= width]
        # the shallowest break that fits (the latest of those), else the first one there is
        c = max(fits, key=lambda t: (-t[1], t[0]))[0] if fits else after[0][0]
        rows.append((start, c))
        start = c
    rows.append((start, len(tex)))
    if len(rows) == 1:
        return [tex]
    bounds = [b for _, b in rows[:-1]]
    spanning = {p for p in pairs if any(p[0][0] < b < p[1][0] for b in bounds)}
    edits = {}
    for (o0, o1), (c0, c1) in spanning:
        edits[o0] = (o1, r"\bigl" + tex[o0 + 5:o1] if tex[o0 + 5:o1] != "." else "")
        edits[c0] = (c1, r"\bigr" + tex[c0 + 6:c1] if tex[c0 + 6:c1] != "." else "")

    def piece(a, b):
        out, j = [], a
        while j < b:
            if j in edits:
                end, rep = edits[j]
                out.append(rep)
                j = end
            else:
                out.append(tex[j])
                j += 1
        return "".join(out).strip()
    return [piece(a, b) for a, b in rows]


def _tex_close(s: str, i: int) -> int:
    """The index of the brace closing the one at ``s[i]`` (escaped braces skipped)."""
    depth = 0
    while i < len(s):
        c = s[i]
        if c == "\\":
            i += 2
            continue
        depth += (c == "{") - (c == "}")
        if depth == 0:
            return i
        i += 1
    raise ValueError(f"unbalanced braces in {s!r}")


def _text_mode(s: str) -> str:
    r"""Math-mode LaTeX made of \text{...} prose and formulas, rewritten for text mode (prose as is,
    formulas in $...$), so that a paragraph can wrap it at the line's end."""
    out, math, i, depth = [], [], 0, 0

    def flush():
        run = "".join(math).strip()
        if run:
            out.append("$%s$" % run)
        math.clear()

    while i < len(s):
        if depth == 0 and s.startswith(r"\text{", i):      # prose at the top level (not a symbol's
            j = _tex_close(s, i + 5)                        # \text name inside a fraction)
            flush()
            out.append(s[i + 6:j])
            i = j + 1
        elif s[i] == "\\":
            math.append(s[i:i + 2])
            i += 2
        else:
            depth += (s[i] == "{") - (s[i] == "}")
            math.append(s[i])
            i += 1
    flush()
    return "".join(out)


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
        named = getattr(steps, "named_gradients", {}).get(w)
        segs = ([show(named, fmt)] if named is not None else []) + [show(e, fmt)] + \
            ([number(v, fmt, spec)] if v is not None else [])
        rows += _tex_equation(show(_grad_sym(steps, w), fmt), segs, scale)
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
        tail = " = " + number(v, fmt, spec) if v is not None else ""
        out.append(f"- ${show(_grad_sym(steps, w), fmt)} = {_named_grad(steps, w, fmt)}{show(e, fmt)}{tail}$")
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
    """A complete LaTeX document around ``body`` (compiles with pdflatex and amsmath)."""
    return ("\\documentclass{article}\n\\usepackage[margin=1.5cm,landscape]{geometry}\n"
            "\\usepackage{amsmath}\n\\usepackage{graphicx}\n\\begin{document}\n\\allowdisplaybreaks\n" + body +
            "\n\\end{document}\n")


# ---------------------------------------------------------------------------------------------------
# Calculus narration

def render_calculus(c, fmt: str = "unicode") -> str:
    """A `symgrad.teaching.calculus.Calculus` narration in ``fmt``."""
    _check_format(fmt)
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
