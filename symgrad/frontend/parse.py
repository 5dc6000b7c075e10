"""Text → SymPy, by one whitelisting parser: user text is parsed, never evaluated.

Every string a user hands symgrad (the command line's expressions, ``--wrt``, ``--claimed``, ``--at``
and ``--name``; a string claim or a string ``f`` given to ``sg.check``, ``sg.derive``, ``sg.grad``,
...) comes through here. Nothing reaches ``eval``, ``sympify`` of a string, or a SymPy function that
sympifies a string argument: the text is read by Python's ``ast`` parser, and the tree is walked
node by node against a whitelist; each allowed node is built by symgrad from SymPy objects it made
itself (symbols are ``sp.Symbol(name)``, numbers ``sp.Integer``/``sp.Float``).

The grammar (anything else is refused with `UnsafeInputError`, naming the offending token):

- numbers: integers and decimal floats (finite; no complex numbers); ``pi`` and ``E``;
- names: identifiers that start with a letter (ASCII or another script's, e.g. ``α``) and are their
  own NFKC normal form — Python would read the look-alike ``ｅｘｐ`` as ``exp``, symgrad refuses it;
  a name is a declared symbol (e.g. a ``--matrix``) or else a new scalar Symbol;
- operators: ``+ - * / **`` (``*`` of matrices is the matrix product), ``@`` (matrix product),
  unary ``-``/``+``, parentheses; comparisons ``< <= > >=`` and ``&``/``|`` of them, ``True``/``False``
  (for the conditions of ``Piecewise((expr, cond), ...)``, whose tuples are the only tuples);
- calls of the functions of `function_names()` by their bare name, positional arguments only, except the
  keywords a function lists (numbers only: ``leaky_relu(x, alpha=0.2)``);
- ``det(X)`` and ``inv(X)`` of a square matrix (``X**-1`` is inv(X) too; ``log(det(X))`` is
  computed as slogdet); ``DiagMatrix(v)`` of a column or row (XᵀSX with S = ``DiagMatrix(s)``),
  ``DiagonalOf(M)`` of a square matrix, and ``diag`` either, as ``np.diag`` by the argument's shape;
- ``M.T`` (the transpose: the only postfix; no other attribute is read) and ``M[i, j]`` (an entry,
  integer constants);
- tensors (`sg.tensor`): a declared tensor's name (and its symbolic sizes, N of (N, 3)) means it;
  ``@``, ``X.T``; ``axis=`` and ``keepdims=`` of ``sum mean max min logsumexp softmax log_softmax
  cross_entropy std`` of a tensor (std's ``ddof=``/``correction=``), ``one_hot(y, n)`` of integer
  labels, ``clip(x, lo, hi)`` (``min=``/``max=``, NumPy's ``a_min=``/``a_max=``; torch's
  ``clamp(x, min, max)``), ``maximum(a, b)``, ``minimum(a, b)``, ``where(c, a, b)`` (NumPy's, c a comparison of tensors),
  ``norm(x, p, axis)`` (`sg.norm`; ``norm(M)`` of a matrix is sqrt(Trace(Mᵀ·M)), of a scalar
  its Abs), and the methods ``.sum .mean
  .max .min .std .clip .clamp .reshape .transpose .dot`` — their arguments are constants read from the
  syntax tree (integers, tuples of them, True/False, a few string literals compared as written —
  ``reduction="sum"``, ``padding="same"`` —, the declaration's integer sizes; clip's bounds
  and ddof numbers such as ``-1``, ``1/2``, ``pi/4``, a bound also None, a scalar's name with
  + - * / and numbers, ``-c``, ``c/2``, or a tensor expression of this grammar), never evaluated; the
  method's name is checked against the whitelist before anything else of the call is read. These
  functions are registered by the tensor modules when imported (`register_tensor_function`);
- constant tensors: ``ones((N, 2))``, ``zeros(3)``, torch's ``ones(N, 2)``, ``full((N, 2), 0.5)``
  (the value a number or a scalar's name), their sizes integers and the declaration's integer sizes;
  ``tril(x, k)``, ``triu(x, k)`` of a tensor, k an integer constant
  (`register_tensor_constructor`, by symgrad/frontend/tensor_tri.py);
- bounds: at most `MAX_CHARS` characters, `MAX_NODES` syntax nodes nested at most `MAX_DEPTH` deep
  (a chain a + b - c + ... or a * b / c ... does not count as nesting: it is read without
  recursion), `MAX_ARGS` arguments per call (`MAX_BRANCHES` for Max, Min and Piecewise, nested Max
  counted as SymPy merges them), `MAX_PART` entries in any value the text computes on the way (x*x.T,
  a convolution's windows: `parse_sizes`), `MAX_ENTRIES` entries in a constant the text makes
  (Identity(n), OneMatrix(r, c), ones(...)); a constant exponent of a symbolic base at most `MAX_EXPONENT` in size,
  and a power of numbers at most `MAX_BITS` bits (so ``x*10**10**8`` is refused at once, before SymPy
  would compute it).

>>> import sympy as sp
>>> parse_expr("0.5*(y - w*x)**2")
0.5*(-w*x + y)**2
>>> W, x = sp.MatrixSymbol("W", 3, 2), sp.MatrixSymbol("x", 2, 1)
>>> parse_expr("2*W*x*x.T", symbols=[W, x])
2*W*x*x.T
>>> parse_expr("__import__('os').system('true')")
Traceback (most recent call last):
...
symgrad.errors.UnsafeInputError: the expression "__import__('os').system('true')": the attribute '.system' is not allowed (...)
"""
from __future__ import annotations

import ast
import math
from typing import Iterable, Mapping

import numpy as np
import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixExpr

from ..errors import ParseError, SymgradError, UnsafeInputError, UnsupportedError
# the grammar's tables; the names other modules import from here (register_tensor_function, MAX_DIM, ...)
from .parse_grammar import (  # noqa: F401
    _ALLOWED, _bits, _CALL_BOUNDS, CLIP_KEYWORDS, _CMP, _CONSTANTS, _CONSTRUCTORS, function_names,
    _functions, _is_matrix, _is_scalar, _is_tensor, is_vector, _known, MAX_ARGS, MAX_AXES, MAX_BITS, MAX_BRANCHES,
    MAX_CHARS, MAX_DEPTH, MAX_DIM, MAX_ENTRIES, MAX_EXPONENT, MAX_NODES, MAX_WINDOW, MAX_WINDOW_AXES,
    _METHODS, _MODULES, _OPS, _OTHER_NAMES, REDUCE_KEYWORDS, register, register_tensor_constructor,
    register_tensor_function, register_tensors, shape_message, _shape_words, _TENSOR_CALLS, _transpose,
    _WHAT_NODE)
from .parse_reading import _CHAIN, _characters, _declared, _links, _python_keywords, _show, _syntax  # noqa: F401
from .parse_tensor_calls import TensorCalls
from .parse_sizes import largest_part, MAX_PART
from .parse_sympy_guard import GUARDED  # noqa: F401,E402 - SymPy's eval refused when symgrad's code hands it text


# ---------------------------------------------------------------------------------------------------
# Public entry points


def parse_expr(text, *, symbols: Mapping | Iterable = (), real: bool = False,
               new_symbols: bool = True, what: str = "the expression"):
    """The SymPy expression written in ``text`` (see the module docstring for the grammar).

    ``symbols`` declares names (a mapping name → Symbol/MatrixSymbol, or the symbols themselves):
    a declared name means that object; any other name is a new ``sp.Symbol(name, real=real)``
    (refused when ``new_symbols`` is False). ``what`` names the text in messages (``"--claimed"``).

    >>> parse_expr("relu(w*x + b) + leaky_relu(x, alpha=0.2)")
    leaky_relu(x, 0.2) + relu(b + w*x)
    >>> parse_expr("x**10**10**8")
    Traceback (most recent call last):
    ...
    symgrad.errors.UnsafeInputError: the expression 'x**10**10**8': the power '10**10**8' is too large (...)
    """
    tree, text = _syntax(text, what)
    return _Builder(text, what, _declared(symbols), real, new_symbols).build(tree)


def parse_name(text, what: str = "the name") -> str:
    """A plain identifier: letters, digits and underscores, starting with a letter, in NFKC form.

    >>> parse_name(" W1 ")
    'W1'
    """
    _characters(text, what)
    name = text.strip()
    if not name:
        raise ParseError(f"{what} is empty: a name is expected")
    if not name.isidentifier() or name.startswith("_"):
        bad = next((ch for i, ch in enumerate(name) if not (ch.isalpha() or i and (ch.isdigit()
                                                                                  or ch == "_"))), "")
        raise UnsafeInputError(f"{what} {_show(text)}: not a name: the character {bad!r} is not "
                               f"allowed there (a name is letters, digits and '_', starting with a "
                               f"letter)")
    if name in ("True", "False", "None") or name in _python_keywords():
        raise UnsafeInputError(f"{what} {_show(text)}: {name!r} is a Python keyword, not a name")
    return name


def parse_names(text, what: str = "the list of names") -> list:
    """A comma-separated list of names (``--wrt x,y``).

    >>> parse_names("x, y")
    ['x', 'y']
    """
    _characters(text, what)
    names = [parse_name(t, what) for t in text.split(",") if t.strip()]
    if not names:
        raise ParseError(f"{what} {_show(text)}: no name given")
    twice = next((n for i, n in enumerate(names) if n in names[:i]), None)
    if twice is not None:
        raise ParseError(f"{what}: {twice!r} is given twice")
    return names


def parse_number(text, what: str = "the value") -> float:
    """A finite real number written as a constant expression (``-2``, ``1/3``, ``pi/4``, ``1e-3``).

    >>> parse_number("-1/4")
    -0.25
    """
    v = parse_expr(text, new_symbols=False, what=what)
    if not isinstance(v, sp.Expr) or not v.is_number:
        raise ParseError(f"{what} {_show(text)}: not a number")
    try:
        x = complex(v.evalf(20))
    except (TypeError, ValueError):
        raise ParseError(f"{what} {_show(text)}: not a number") from None
    except (ArithmeticError, RecursionError):   # exp(exp(exp(exp(10)))): OverflowError, decimal's
        raise ParseError(f"{what} {_show(text)}: not a finite real number (too large to "
                         f"evaluate)") from None
    if x.imag != 0 or not math.isfinite(x.real):     # str, not format: a Float of 10**434 digits
        raise ParseError(f"{what} {_show(text)}: not a finite real number ({str(v)[:40]})")
    return x.real


def as_expr(obj, what: str = "the expression", symbols: Mapping | Iterable = ()):
    """``obj`` as a SymPy object for the Python API: text goes through `parse_expr` (names that
    are ``symbols`` mean those), anything else through ``sympify`` — which is refused for
    containers holding text, since SymPy would evaluate that text.

    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> as_expr("2*x", symbols=[x]) == 2 * x
    True
    >>> as_expr(3)
    3
    """
    if isinstance(obj, (str, bytes)):
        if isinstance(obj, bytes):
            raise UnsafeInputError(f"{what}: bytes are not an expression; pass a str or a SymPy "
                                   f"expression")
        return parse_expr(obj, symbols=symbols, what=what)
    progression = _arange_values(obj)    # torch.arange(4), np.arange(0, 8, 2): sg.arange(...)
    if progression is not None and _ARANGE:
        return _ARANGE[0](*progression)
    if _is_torch_tensor(obj):         # x * torch.ones(4): SymPy would fail on float() of it, unclearly
        shape = tuple(obj.shape)
        raise UnsupportedError(
            f"a torch tensor of shape {shape} in {what}: a declaration is symbolic and takes no constant "
            f"arrays. A causal mask is sg.tril(sg.ones((T, T))) (torch.tril(torch.ones(T, T))); any other "
            f"array: declare it as a tensor (sg.tensor(name, {shape})) and give its value (t.numpy()) with "
            f"the other inputs")
    if _holds_text(obj):     # before sympify: SymPy runs a str inside a tuple, dict or set, strict or not
        raise UnsafeInputError(f"{what}: {type(obj).__name__} holding text; pass each expression "
                               f"as a str or a SymPy expression")
    try:
        return sp.sympify(obj, strict=True)
    except sp.SympifyError:
        pass
    return sp.sympify(obj)


def _is_torch_tensor(obj) -> bool:
    """A torch.Tensor of one axis or more, known without importing torch (a 0-d one is its number)."""
    return ((type(obj).__module__ or "").split(".")[0] == "torch" and callable(getattr(obj, "dim", None))
            and obj.dim() > 0)


_ARANGE: list = []          # sg.arange, registered by tensor_arange.py (which imports this module)


def register_arange(arange) -> None:
    """Make ``arange(start, stop, step)`` the reading of a constant array of whole numbers in steps."""
    _ARANGE[:] = [arange]


def _is_arange(obj) -> bool:
    return _arange_values(obj) is not None


def _arange_values(obj):
    """(start, stop, step) of a 1-D integer NumPy array or torch tensor holding whole numbers in
    steps (``torch.arange(n)``, ``torch.arange(0, Dh, 2)``, ``np.arange(5, 1, -1)``): the same
    values as ``sg.arange(start, stop, step)``, so it is read as that; None for any other value
    (another constant array is refused)."""
    if not (isinstance(obj, np.ndarray) or _is_torch_tensor(obj)) or obj.ndim != 1 or not len(obj):
        return None
    dtype = str(obj.dtype)
    if "int" not in dtype or len(obj) > 10**7:            # int64, uint8, torch.int64, ...
        return None
    values = obj.tolist()
    step = values[1] - values[0] if len(values) > 1 else 1
    stop = values[0] + step * len(values)
    return (values[0], stop, step) if step and values == list(range(values[0], stop, step)) else None


def _holds_text(obj, depth=0) -> bool:
    if isinstance(obj, (str, bytes)):
        return True
    if depth > 20:
        return True
    if isinstance(obj, Mapping):
        return any(_holds_text(k, depth + 1) or _holds_text(v, depth + 1) for k, v in obj.items())
    if isinstance(obj, (list, tuple, set, frozenset)):
        return any(_holds_text(v, depth + 1) for v in obj)
    dtype = getattr(obj, "dtype", None)
    return getattr(dtype, "kind", None) in ("U", "S", "O", "V")   # NumPy's text/object kinds (torch's dtypes have none)


def _outside_matrices(a, functions: str) -> str | None:
    """What ``a`` is when the matrix language's ``functions`` (det and inv, DiagMatrix and diag)
    cannot take it — a tensor, a scalar —, or None for a matrix."""
    if _is_tensor(a):
        return (f"a tensor ({functions} are of the matrix language: declare it with --matrix, "
                f"sp.MatrixSymbol)")
    return None if _is_matrix(a) else "a scalar"


class _Builder(TensorCalls):
    def __init__(self, text, what, declared, real, new_symbols):
        self.text, self.what, self.declared = text, what, declared
        self.real, self.new_symbols = real, new_symbols
        self.made: dict = {}
        # what each syntax node built, by the node's id (the tree outlives the walk): a node is
        # built once even when it is read twice — sum(x) reads x to learn whether it is a tensor,
        # and without this, sum(sum(...sum(x)...)) took time doubling with each level
        self.built: dict = {}

    # -- messages -----------------------------------------------------------------------------------
    def seg(self, node) -> str:
        s = ast.get_source_segment(self.text, node) or type(node).__name__
        return s if len(s) <= 60 else s[:57] + "..."

    def refuse(self, why) -> UnsafeInputError:
        return UnsafeInputError(f"{self.what} {_show(self.text)}: {why}")

    def fail(self, why) -> ParseError:
        return ParseError(f"{self.what} {_show(self.text)}: {why}")

    # -- the walk -----------------------------------------------------------------------------------
    def build(self, tree):
        out = self.visit(tree.body)
        if isinstance(out, sp.Basic) and (out.has(sp.zoo, sp.nan) or _infinite(out)):
            raise self.fail("the value is not finite (a division by zero?)")
        if isinstance(out, sp.Basic):
            # SymPy combines factors: (x + y)**60*(x + y)**60 is (x + y)**120, past the bound.
            for p in sp.preorder_traversal(out):
                if isinstance(p, (sp.Pow, sp.MatPow, sp.HadamardPower)) and len(p.args) == 2:
                    base, n = p.args
                    if (isinstance(n, sp.Expr) and n.is_Number and not base.is_Number
                            and abs(float(n)) > MAX_EXPONENT):
                        raise self.refuse(f"the power {sp.sstr(p)[:60]!r} has an exponent larger "
                                          f"than {MAX_EXPONENT} (after SymPy combines factors)")
            self.check_parts(out)
        return out

    def check_parts(self, out):
        """Refuse a value computed on the way past `MAX_PART` entries (x*x.T of a long column, a
        convolution's windows): the inputs are bounded where they are declared, this bounds what the
        text makes of them."""
        big = largest_part(out)
        if big is not None:
            what, shape, n, _ = big
            per = " per unit of a symbolic size" if any(not isinstance(d, int) for d in shape) else ""
            raise self.refuse(f"{what}: shape {shape}, {n:,} entries{per}; a value the text computes "
                              f"has at most {MAX_PART:,} (10 times a declared input's bound)")

    def visit(self, node):
        key = id(node)
        if key in self.built:
            return self.built[key]
        self.built[key] = out = self._visit(node)
        return out

    def _visit(self, node):
        method = getattr(self, "visit_" + type(node).__name__, None)
        if method is None:
            kind = _WHAT_NODE.get(type(node), f"the construct {type(node).__name__}")
            raise self.refuse(f"{kind} {self.seg(node)!r} is not allowed; {_ALLOWED}")
        try:
            return method(node)
        except ParseError:                     # UnsafeInputError too: already names the text
            raise
        except RecursionError:                 # the tree is at most MAX_DEPTH deep: SymPy's own
            raise self.refuse(f"SymPy could not evaluate {self.seg(node)!r} (its recursion went too "
                              f"deep: a number too large?)") from None
        except sp.ShapeError as e:
            raise ParseError(f"shapes do not match in {self.what} {_show(self.text)} at "
                             f"{self.seg(node)!r}: {shape_message(e)}") from None
        except Exception as e:  # noqa: BLE001 - SymPy raises many kinds (TypeError, ValueError, ...)
            if isinstance(e, SymgradError):
                raise ParseError(f"{self.what} {_show(self.text)} at {self.seg(node)!r}: {e}") from None
            raise ParseError(f"cannot build {self.what} {_show(self.text)} at {self.seg(node)!r}: "
                             f"{type(e).__name__}: {e}") from None

    def visit_Constant(self, node):
        v = node.value
        if isinstance(v, bool):
            return sp.true if v else sp.false
        if isinstance(v, int):
            if v.bit_length() > MAX_BITS:
                raise self.refuse(f"the number {self.seg(node)!r} is too large (integers have at most "
                                  f"{MAX_BITS} bits)")
            return sp.Integer(v)
        if isinstance(v, float):
            if not math.isfinite(v):
                raise self.refuse(f"the number {self.seg(node)!r} is not finite")
            return sp.Float(v)
        if isinstance(v, (str, bytes)):
            raise self.refuse(f"the string literal {self.seg(node)!r} is not allowed: text is never "
                              f"evaluated; {_ALLOWED}")
        if isinstance(v, complex):
            raise self.refuse(f"the complex number {self.seg(node)!r} is not allowed (real numbers only)")
        raise self.refuse(f"{self.seg(node)!r} is not allowed; {_ALLOWED}")

    def name(self, node) -> str:
        n = node.id
        if n.startswith("_"):
            raise self.refuse(f"the name {n!r} is not allowed: names start with a letter")
        return n

    def visit_Name(self, node):
        n = self.name(node)
        if n in self.declared:
            return self.declared[n]
        if n in _CONSTANTS:
            return _CONSTANTS[n]
        if n in _functions():
            raise self.refuse(f"{n!r} is a function: call it, as in {n}(x)")
        if not self.new_symbols:
            raise self.refuse(f"the name {n!r} is not allowed here: a number is expected")
        if n not in self.made:
            self.made[n] = sp.Symbol(n, real=True) if self.real else sp.Symbol(n)
        return self.made[n]

    def visit_UnaryOp(self, node):
        if isinstance(node.op, ast.USub):
            return -self.visit(node.operand)
        if isinstance(node.op, ast.UAdd):
            return +self.visit(node.operand)
        op = {ast.Not: "not", ast.Invert: "~"}[type(node.op)]
        raise self.refuse(f"the operator {op!r} in {self.seg(node)!r} is not allowed; {_ALLOWED}")

    def visit_BinOp(self, node):
        """a + b - c + ... (a chain of 400 terms is 400 deep in the tree) is read without recursion
        down the chain: its operands first; of scalars, one sp.Add (sp.Mul for * and /) of them all
        (adding one term at a time took seconds: SymPy re-sorts the sum at each); else (matrices,
        tensors) link by link from the innermost out, each on the one before it, already built."""
        chain = [node]
        while _links(chain[-1], chain[-1].left) and id(chain[-1].left) not in self.built:
            chain.append(chain[-1].left)
        if len(chain) == 1:
            return self.binop(node)
        first = self.visit(chain[-1].left)
        rest = [(type(link.op), self.visit(link.right)) for link in reversed(chain)]
        if all(_is_scalar(v) for v in [first] + [v for _, v in rest]):
            if _CHAIN[type(node.op)] == 0:
                return sp.Add(first, *[v if op is ast.Add else -v for op, v in rest])
            return sp.Mul(first, *[v if op is ast.Mult else 1 / v for op, v in rest])
        if len(chain) > MAX_DEPTH and any(_is_tensor(v) for v in [first] + [v for _, v in rest]):
            # each link rebuilds a growing tensor node: the time grows as the chain's length squared
            raise self.refuse(f"a chain of {len(chain) + 1} terms with tensors in {_show(self.seg(node))} "
                              f"(at most {MAX_DEPTH}; of scalars or matrices any number)")
        for link in reversed(chain[1:]):
            self.visit(link)
        return self.binop(node)

    def binop(self, node):
        op = type(node.op)
        if op not in (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.MatMult, ast.BitAnd, ast.BitOr):
            hint = " (write ** for a power)" if op is ast.BitXor else ""
            raise self.refuse(f"the operator {_OPS.get(op, op.__name__)!r} in {self.seg(node)!r} is "
                              f"not allowed{hint}; {_ALLOWED}")
        if op in (ast.BitAnd, ast.BitOr):
            return self.conditions(node, op)
        a = self.visit(node.left)
        b = self.visit(node.right)
        if op is ast.Pow:
            self.check_shapes(op, a, b, node)
            self.check_power(a, b, node)
            return a ** b
        if op is ast.MatMult and (_is_tensor(a) or _is_tensor(b)):
            if not (_is_tensor(a) and _is_tensor(b)):
                raise self.fail(f"'@' in {self.seg(node)!r} is the matrix product of two tensors (or of "
                                f"two matrices); {self.seg(node.left if _is_tensor(b) else node.right)!r} "
                                f"is not a tensor")
            return a @ b
        if op is ast.MatMult:
            if not (isinstance(a, MatrixExpr) and isinstance(b, MatrixExpr)):
                raise self.fail(f"'@' in {self.seg(node)!r} is the product of two matrices")
            op = ast.Mult                       # a @ b is a * b of matrices
        self.check_shapes(op, a, b, node)
        return {ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b,
                ast.Div: lambda: a / b}[op]()

    def conditions(self, node, op):
        """c1 & c2 & ... (or |): one And of all the conditions however they are grouped. Built one
        & at a time, SymPy re-read the growing And at each: 190 conditions took 7 s."""
        leaves, stack = [], [node]
        while stack:
            n = stack.pop()
            if isinstance(n, ast.BinOp) and type(n.op) is op:
                stack += [n.right, n.left]
            else:
                leaves.append(n)
        values = [self.visit(n) for n in leaves]
        if not all(isinstance(v, sp.logic.boolalg.Boolean) for v in values):
            raise self.refuse(f"{_OPS[op]!r} in {self.seg(node)!r} joins conditions (comparisons), "
                              f"not numbers")
        return sp.And(*values) if op is ast.BitAnd else sp.Or(*values)

    def check_shapes(self, op, a, b, node):
        """Matrix operands whose shapes do not fit ``op``, refused with both operands, their shapes
        and what would fit (SymPy's own messages name one shape, or none: 'Mix of Matrix and Scalar
        symbols'). Symbolic sizes are left to SymPy."""
        if not (_is_matrix(a) or _is_matrix(b)):
            return
        left, right = self.operand(node.left, a), self.operand(node.right, b)
        where = f"shapes do not match: {_OPS[type(node.op)]!r} in {self.seg(node)!r}"
        if op is ast.Pow:
            if _is_matrix(b):
                raise self.fail(f"{where} raises to {right}: a power has a scalar exponent")
            if _known(a) and a.shape[0] != a.shape[1]:
                raise self.fail(f"{where} is a matrix power of {left}, defined only for a square "
                                f"matrix; HadamardPower({self.seg(node.left)}, "
                                f"{self.seg(node.right)}) raises each entry")
        elif op in (ast.Add, ast.Sub):
            joins = (f"adds {left} and {right}" if op is ast.Add
                     else f"subtracts {right} from {left}")
            if _is_matrix(a) and _is_matrix(b):
                if _known(a) and _known(b) and a.shape != b.shape:
                    raise self.fail(f"{where} {joins}: + and - need matrices of the same shape")
                return
            m, m_node = (a, node.left) if _is_matrix(a) else (b, node.right)
            if _known(m) and tuple(m.shape) == (1, 1):
                fix = f"sum({self.seg(m_node)}) is the entry of the 1x1 matrix as a scalar"
            else:
                fix = (f"a scalar times a matrix is written with *; the {_shape_words(m)} matrix of "
                       f"equal entries c is c*OneMatrix({m.shape[0]}, {m.shape[1]})")
            raise self.fail(f"{where} {joins}: a scalar is not added to a matrix ({fix})")
        elif op is ast.Mult:
            if _is_matrix(a) and _is_matrix(b) and _known(a) and _known(b) and a.shape[1] != b.shape[0]:
                raise self.fail(f"{where} is the matrix product of {left} and {right}: the left's "
                                f"columns ({a.shape[1]}) must equal the right's rows ({b.shape[0]}); "
                                f"HadamardProduct(A, B) multiplies entry by entry, .T transposes")
        elif op is ast.Div and _is_matrix(b):
            raise self.fail(f"{where} divides by {right}: only a division by a scalar is defined; "
                            f"HadamardProduct(A, HadamardPower(B, -1)) divides entry by entry")

    def operand(self, node, value) -> str:
        """'W' (3x2), '1' (a scalar): an operand as a message names it."""
        return f"{self.seg(node)!r} ({_shape_words(value) if _is_matrix(value) else 'a scalar'})"

    def check_power(self, base, exp, node):
        """Refuse powers too big to build: symbolic base, |n| ≤ MAX_EXPONENT; numbers, ≤ MAX_BITS."""
        if not (isinstance(exp, sp.Expr) and exp.is_number):
            return
        try:
            size = abs(float(exp))
        except (TypeError, ValueError):
            return
        if isinstance(base, sp.Expr) and base.is_Number:
            cost = size * _bits(base)
            if cost > MAX_BITS or not math.isfinite(cost):
                raise self.refuse(f"the power {self.seg(node)!r} is too large (a power of numbers may "
                                  f"have at most {MAX_BITS} bits)")
        elif size > MAX_EXPONENT or not math.isfinite(size):
            raise self.refuse(f"the exponent in {self.seg(node)!r} is too large (at most "
                              f"{MAX_EXPONENT} in size)")

    def visit_Compare(self, node):
        parts = [self.visit(node.left)] + [self.visit(c) for c in node.comparators]
        conds = []
        for op, a, b in zip(node.ops, parts, parts[1:]):
            if type(op) not in _CMP:
                sym = {ast.Eq: "==", ast.NotEq: "!=", ast.Is: "is", ast.IsNot: "is not",
                       ast.In: "in", ast.NotIn: "not in"}.get(type(op), type(op).__name__)
                raise self.refuse(f"the comparison {sym!r} in {self.seg(node)!r} is not allowed "
                                  f"(conditions use < <= > >=)")
            for m in (a, b):
                if _is_matrix(m):    # SymPy's own "Invalid comparison of non-real x" named nothing to do
                    raise self.fail(self._matrix_compared(node, m))
            conds.append(_CMP[type(op)](a, b))
        return conds[0] if len(conds) == 1 else sp.And(*conds)

    def _matrix_compared(self, node, m) -> str:
        rows, cols = m.shape
        name = m.name if isinstance(m, sp.MatrixSymbol) else "M"
        size, shape = (f"{rows}", f"({rows},)") if cols == 1 else (f"{rows},{cols}", f"({rows}, {cols})")
        return (f"the comparison {self.seg(node)!r} compares the {rows}×{cols} matrix "
                f"{name if isinstance(m, sp.MatrixSymbol) else repr(str(m))}: a condition compares scalars, "
                f"or tensors entry by entry; declare it as a tensor (--tensor {name}:{size} on the command "
                f"line, sg.tensor({name!r}, {shape}) in Python), where where(...) and relu's masks work")

    def visit_Attribute(self, node):
        if node.attr in _METHODS:
            raise self.fail(f"the method {'.' + node.attr!r} in {self.seg(node)!r} must be called, as in "
                            f"x.{node.attr}(...)")
        if node.attr == "shape":        # "... / X.shape[0]": the size is a symbol of the declaration
            raise self.refuse(f"the attribute '.shape' is not allowed in {self.seg(node)!r}: write the size's "
                              f"symbol instead (N for a batch declared with N = sp.Symbol('N', integer=True, "
                              f"positive=True), or the number)")
        if node.attr in ("inv", "I", "det"):  # SymPy's X.inv(), X.I, X.det(): functions in the text
            inner = self.seg(node.value)
            instead = f"det({inner})" if node.attr == "det" else f"inv({inner}) (or {inner}**-1)"
            raise self.refuse(f"the attribute {'.' + node.attr!r} is not allowed in {self.seg(node)!r}: "
                              f"write {instead}")
        if node.attr != "T":
            raise self.refuse(f"the attribute {'.' + node.attr!r} is not allowed (no attribute is "
                              f"read; the only postfix is .T, the transpose, and a tensor's methods are "
                              f"{', '.join('.' + m + '(...)' for m in _METHODS)})")
        return _transpose(self.visit(node.value))

    def module_prefix(self, node) -> str:
        """Why np.sum(D, axis=0) is refused, and what to write: no module is read, a function is
        called by its bare name (np.sum(D, axis=0) was read as the method .sum of a name np, and
        refused as 'an axis is an integer constant … not D')."""
        f = node.func
        if f.attr in ("dot", "matmul"):
            instead = "A @ B (or A.dot(B))"
        elif f.attr == "transpose":
            instead = "X.T (or X.transpose(...))"
        elif f.attr in _CALL_BOUNDS:                 # torch.clamp(x, 0, 1), np.clip(x, a_min=0)
            instead = f"{f.attr}(...), or x.{f.attr}(...)"
        elif f.attr in _CONSTRUCTORS:                # np.ones((N, 2)), torch.zeros(N, 2)
            instead = f"{f.attr}(...)"
        elif f.attr in _TENSOR_CALLS:
            instead = f"{f.attr}(...)" + (", with axis= and keepdims= as NumPy's"
                                          if "axis" in _TENSOR_CALLS[f.attr].keywords else "")
        elif f.attr in _functions() or f.attr.lower() in _OTHER_NAMES:
            instead = f"{(_OTHER_NAMES.get(f.attr.lower()) or [f.attr])[0]}(...)"
        else:
            instead = f"one of the functions: {', '.join(function_names())}"
        return (f"{f.value.id + '.'!r} in {self.seg(node)!r}: no module is read; a function is called "
                f"by its bare name: write {instead}")

    def visit_Subscript(self, node):
        idx = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        ints = []
        for i in idx:                          # the indices first: they are where tricks hide
            if not (isinstance(i, ast.Constant) and type(i.value) is int):
                raise self.refuse(f"the index {self.seg(i)!r} is not allowed: indices are integer "
                                  f"constants, as in M[0, 1]")
            ints.append(i.value)
        M = self.visit(node.value)
        if not isinstance(M, (MatrixExpr, sp.MatrixBase)):
            raise self.fail(f"{self.seg(node.value)!r} is not a matrix, so it has no entries to index")
        r, c = M.shape
        if len(ints) == 1 and (r == 1 or c == 1):
            ints = [ints[0], 0] if c == 1 else [0, ints[0]]
        if len(ints) != 2:
            raise self.fail(f"{self.seg(node)!r}: a matrix entry takes two indices, M[i, j]")
        for k, n in zip(ints, (r, c)):
            if not (0 <= k and (not n.is_number or k < n)):
                raise self.fail(f"the index {k} in {self.seg(node)!r} is outside the shape {(r, c)}")
        return M[ints[0], ints[1]]

    def visit_Call(self, node):
        f = node.func
        if (isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id in _MODULES
                and f.value.id not in self.declared):
            raise self.refuse(self.module_prefix(node))
        if isinstance(node.func, ast.Attribute) and node.func.attr in _METHODS:
            return self.method_call(node)
        if isinstance(node.func, ast.Attribute) and node.func.attr != "T":
            return self.visit_Attribute(node.func)
        if not isinstance(node.func, ast.Name):
            raise self.refuse(f"the call {self.seg(node)!r} is not allowed: functions are called by "
                              f"their bare name, as in exp(x)")
        n = self.name(node.func)
        # eye(N) and arange(N) are tensors' (NumPy's names); in a text of matrices eye(3) stays the
        # "did you mean 'Identity'" below (a matrix would not mix with a tensor eye)
        if n in _CONSTRUCTORS and (n not in ("eye", "arange")
                                   or any(_is_tensor(v) for v in self.declared.values())):
            return self.constructor_call(node, n)
        if n == "where" and "where" in _TENSOR_CALLS:
            return self.where_call(node)
        if n in _CALL_BOUNDS and "clip" in _TENSOR_CALLS:
            return self.clip_call(node, n)
        if n in _TENSOR_CALLS:
            built = self.tensor_call(node, n)
            if built is not None:
                return built
        fn = _functions().get(n)
        if fn is None:
            # most often a misspelling (sigmod, Sigmoid, softmx): the nearest known names first
            import difflib
            known = function_names()
            if any(_is_tensor(v) for v in self.declared.values()):   # maximum, one_hot, where, ones ...
                known = sorted(set(known) | set(_TENSOR_CALLS) | set(_CALL_BOUNDS) | set(_CONSTRUCTORS))
            lower = {k.lower(): k for k in known}
            near = ([lower[n.lower()]] if n.lower() in lower else _OTHER_NAMES.get(n.lower())
                    or [lower[m] for m in difflib.get_close_matches(n.lower(), list(lower), n=2,
                                                                   cutoff=0.75)])
            guess = f" — did you mean {' or '.join(map(repr, near))}?" if near else ""
            if n == "len":              # "... / len(X)": the size is a symbol of the declaration
                guess = " — write the size's symbol instead (N for a batch declared with N), or the number"
            raise self.refuse(f"unknown function {n!r}{guess} (only these are known: "
                              f"{', '.join(known)})")
        for a in node.args:
            if isinstance(a, ast.Starred):
                self.visit(a)                  # refused, naming it
        kw = {}
        for k in node.keywords:
            if k.arg is None or k.arg not in fn.keywords:
                what = "'**' unpacking" if k.arg is None else f"the keyword {k.arg!r}"
                allowed = ", ".join(sorted(fn.keywords)) or "none"
                raise self.refuse(f"{what} in {self.seg(node)!r} is not allowed ({n} takes the "
                                  f"keywords: {allowed})")
            if k.arg in kw:                    # ast keeps both of f(alpha=1, alpha=2); Python refuses it
                raise self.fail(f"the keyword {k.arg}= is given twice in {self.seg(node)!r}")
            v = self.visit(k.value)
            if not (isinstance(v, sp.Expr) and v.is_Number):
                raise self.refuse(f"the keyword {k.arg}= in {self.seg(node)!r} takes a number")
            kw[k.arg] = v
        lo, hi = fn.nargs
        if not lo <= len(node.args) <= hi:
            count = str(lo) if lo == hi else f"{lo} to {hi}"
            raise self.fail(f"{n}(...) takes {count} argument(s), got {len(node.args)} in "
                            f"{self.seg(node)!r}")
        if fn.kind == "piecewise":
            args = [self.piece(a) for a in node.args]
        else:
            args = [self.visit(a) for a in node.args]
        if fn.kind in ("dims", "integers"):
            for a, sub in zip(args, node.args):
                if not (isinstance(a, sp.Integer)):
                    raise self.fail(f"{n}(...) takes integers; {self.seg(sub)!r} is not one")
                if fn.kind == "dims" and not 1 <= int(a) <= MAX_DIM:
                    raise self.refuse(f"the dimension {self.seg(sub)!r} of {n} must be 1 to {MAX_DIM}")
        if fn.kind == "dims":                  # Identity(n) has n*n entries
            entries = math.prod(int(a) for a in args) ** (2 if len(args) == 1 else 1)
            if entries > MAX_ENTRIES:
                raise self.refuse(f"{self.seg(node)!r} has {entries} entries; a constant matrix made by "
                                  f"the text has at most {MAX_ENTRIES} (Identity(1000), "
                                  f"OneMatrix(1000, 1000))")
        if fn.kind == "power":
            self.check_power(args[0], args[1], node)
        if fn.kind == "square":
            self.check_square(n, args[0], node)
        if fn.kind in ("vector", "diag"):
            self.check_vector(n, args[0], node, square_too=fn.kind == "diag")
        for a, sub in zip(args, node.args):
            if not isinstance(a, (sp.Basic, tuple)):
                raise self.refuse(f"the argument {self.seg(sub)!r} is not allowed")
        if fn.build in (sp.Max, sp.Min):
            self.check_branches(fn.build, args, node)
        return fn.build(*args, **kw)

    def check_branches(self, head, args, node):
        """Max(a, Max(b, ...)) is one Max of all the arguments to SymPy, which compares them
        pairwise at each level: counted after that flattening, before SymPy builds it (48 levels
        took 40 s to parse)."""
        count = sum(len(a.args) if isinstance(a, head) else 1 for a in args)
        if count > MAX_BRANCHES:
            raise self.refuse(f"{self.seg(node)!r} is a {head.__name__} of {count} arguments after "
                              f"nesting (SymPy merges a {head.__name__} inside a {head.__name__} into one "
                              f"and compares its arguments pairwise); at most {MAX_BRANCHES}")
        # Min(a1, Max(b1, Min(a2, ...))) is not merged, but SymPy looks through every Max and Min
        # inside the arguments at each level: 90 such pairs took 18 s
        inner = set().union(*[a.atoms(sp.Max, sp.Min) for a in args if isinstance(a, sp.Basic)])
        if len(inner) > MAX_BRANCHES:
            raise self.refuse(f"{self.seg(node)!r} has {len(inner)} Max and Min inside its arguments (SymPy "
                              f"compares through each of them); at most {MAX_BRANCHES}")

    def check_square(self, n, a, node):
        """det and inv take a square matrix (of a --matrix declaration, or built of them)."""
        what = _outside_matrices(a, "det and inv")
        if what is None and _known(a) and a.shape[0] != a.shape[1]:
            what = f"a {_shape_words(a)} matrix, not square"
        if what is not None:
            raise self.fail(f"{n}(...) takes a square matrix; {self.seg(node.args[0])!r} in "
                            f"{self.seg(node)!r} is {what}")

    def check_vector(self, n, a, node, square_too=False):
        """DiagMatrix takes a column or a row; diag (np.diag) a square matrix too."""
        takes = "a column, a row or a square matrix" if square_too else "a column or a row"
        what = _outside_matrices(a, "DiagMatrix and diag")
        if what is None and not is_vector(a) and _known(a) and not (square_too and a.shape[0] == a.shape[1]):
            what = f"a {_shape_words(a)} matrix" + ("" if square_too else " (the diagonal of a square "
                                                    "matrix M is DiagonalOf(M))")
        if what is not None:
            raise self.fail(f"{n}(...) takes {takes}; {self.seg(node.args[0])!r} in {self.seg(node)!r} "
                            f"is {what}")

    def piece(self, node):
        if not (isinstance(node, ast.Tuple) and len(node.elts) == 2):
            raise self.fail(f"Piecewise takes (value, condition) pairs; {self.seg(node)!r} is not one")
        return (self.visit(node.elts[0]), self.visit(node.elts[1]))


def _infinite(e) -> bool:
    """Whether ±∞ is in e other than as a padding's fill value: a node names the argument that is
    one in ``_fill_arg`` (max_pool2d(x, 2, ceil_mode=True) pads its last window with −∞, on purpose)."""
    stack = [e]
    while stack:
        v = stack.pop()
        if v is sp.oo or v is sp.S.NegativeInfinity:
            return True
        skip = getattr(v, "_fill_arg", None)
        stack.extend(a for i, a in enumerate(v.args) if i != skip and isinstance(a, sp.Basic))
    return False
