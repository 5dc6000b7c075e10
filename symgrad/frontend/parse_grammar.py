"""The text grammar's tables: its limits (`MAX_CHARS`, `MAX_WINDOW`, ...), the whitelisted functions
(`register`, `function_names`), the tensor functions, methods and constructors the tensor modules
register, the operators, and the tests of what a built value is (scalar, matrix, tensor).

The grammar itself is described in `symgrad.frontend.parse`, which reads text with these tables.
"""
from __future__ import annotations

import ast
import math

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixExpr


MAX_CHARS = 10_000       # characters of one text
MAX_NODES = 5_000        # syntax nodes of one text
MAX_DEPTH = 200          # nesting of the syntax tree
MAX_ARGS = 100           # arguments of one call
MAX_EXPONENT = 100       # |n| in base**n for a symbolic base (and HadamardPower, MatPow)
MAX_BRANCHES = 16        # arguments of Max, Min, Piecewise (SymPy compares them pairwise)
MAX_BITS = 2048          # size of an integer: a literal, or an exact power of numbers |n|·bits(base)
                         # (SymPy's roots of a larger one search for factors for seconds)
MAX_DIM = 10_000         # a dimension given in the text: Identity(n), OneMatrix(r, c), ...
MAX_WINDOW = 1_000       # a kernel size, stride, padding or dilation given in the text (conv2d, max_pool2d)
MAX_WINDOW_AXES = 3      # entries of such a tuple
MAX_ENTRIES = 1_000_000  # entries of a constant the text makes (Identity(1000), ones((N, 1000)): per N)
MAX_PART = 10_000_000    # entries of any value the text computes on the way (x*x.T, a conv's windows): per N

# Punctuation the grammar uses; any other ASCII character is named when the text does not parse.
_ASCII_OK = set("+-*/()[],.=<>&|@ \t\n\r_") | set("0123456789")
_CONSTANTS = {"pi": sp.pi, "E": sp.E}


class _Fn:
    """One whitelisted function: its builder, how many positional arguments, which keywords."""

    def __init__(self, build, nargs=(1, 1), keywords=(), kind="expr"):
        self.build, self.nargs, self.keywords, self.kind = build, nargs, frozenset(keywords), kind


def _transpose(a):
    """Mᵀ for a matrix, x.T (the axes reversed, as NumPy's) for a tensor; a scalar is its own
    transpose."""
    return a.T if isinstance(a, (MatrixExpr, sp.MatrixBase)) or _is_tensor(a) else sp.transpose(a)


# What a tensor is, told by symgrad/frontend/tensor.py when it is imported (it imports this module,
# which therefore does not import it: no import circle): its test of an N-d expression and its class
_TENSORS: dict = {}


def register_tensors(is_tensor_expr, tensor_class) -> None:
    """Let the text read tensors (`sg.tensor`): called by the tensor module at its import."""
    _TENSORS.update(is_expr=is_tensor_expr, cls=tensor_class)


def _is_tensor(v) -> bool:
    """An N-d tensor expression (`sg.tensor`, NumPy semantics); none before the tensor module is
    imported (none can have been made)."""
    test = _TENSORS.get("is_expr")
    return test is not None and isinstance(v, sp.Basic) and test(v)


def is_vector(m) -> bool:
    """A column or a row (n×1 or 1×n, n possibly a symbol)."""
    return any(d == 1 for d in m.shape)


def _diag(a):
    """np.diag: the diagonal matrix of a column or row, the diagonal (a column) of a square matrix."""
    return sp.DiagMatrix(a) if is_vector(a) else sp.DiagonalOf(a)


_TABLE: dict = {}


def register(name: str, build, nargs=(1, 1), keywords=(), kind: str = "expr"):
    """Let the text call ``build`` as ``name``: ``nargs`` (least, most) positional arguments, the
    ``keywords`` it takes (numbers only). symgrad's functions register themselves
    (symgrad/frontend/functions.py), as this module sits below them in the pipeline."""
    _TABLE[name] = _Fn(build, nargs, keywords, kind)


def _functions() -> dict:
    return _TABLE


def _register_sympy():
    for name in ("exp", "sqrt", "sin", "cos", "tan", "tanh", "sinh", "cosh", "asin", "acos", "atan",
                 "Abs", "sign", "Trace", "Transpose"):
        register(name, getattr(sp, name))
    register("Heaviside", sp.Heaviside, (1, 2))          # Heaviside(x, H0): H0 its value at 0
    register("abs", sp.Abs)
    register("trace", sp.Trace)
    register("det", sp.Determinant, kind="square")        # det(X), and log(det(X)) (slogdet)
    register("inv", sp.Inverse, kind="square")            # inv(X), as X**-1
    register("DiagMatrix", sp.DiagMatrix, kind="vector")  # the diagonal matrix of a column or row
    register("DiagonalOf", sp.DiagonalOf, kind="square")  # the diagonal of a square matrix, a column
    register("diag", _diag, kind="diag")                  # np.diag: either, by the argument's shape
    register("log", sp.log, (1, 2))
    for name, build in (("Max", sp.Max), ("max", sp.Max), ("Min", sp.Min), ("min", sp.Min)):
        register(name, build, (1, MAX_BRANCHES))
    register("transpose", _transpose)
    register("T", _transpose)
    register("HadamardProduct", sp.HadamardProduct, (2, MAX_ARGS))
    register("HadamardPower", sp.HadamardPower, (2, 2), kind="power")
    register("Piecewise", sp.Piecewise, (1, MAX_BRANCHES), kind="piecewise")
    register("Rational", sp.Rational, (1, 2), kind="integers")
    register("Identity", sp.Identity, kind="dims")
    register("OneMatrix", sp.OneMatrix, (2, 2), kind="dims")
    register("ZeroMatrix", sp.ZeroMatrix, (2, 2), kind="dims")


_register_sympy()


def function_names() -> list:
    """The names of the functions the text may call.

    >>> "relu" in function_names() and "eval" not in function_names()
    True
    """
    return sorted(_functions())


# ---------------------------------------------------------------------------------------------------
# Tensors: NumPy's keywords and methods, read from constants only

# The functions whose first argument may be a tensor, with NumPy's keywords: name -> `_TensorFn`,
# registered by the tensor modules when they are imported (`register_tensor_function`; this module
# imports none of them: no hidden import, no circle). A kind says what an argument may be: "axis"
# an integer constant or a tuple of them (or None), "bool" True or False, "dims_entry" an integer or
# a declared integer size, "number" a real number constant (1, -0.5, 1/3, pi/4: std's ddof=),
# "bound" a number or None (clip's bounds), "operand" any expression of the grammar (cross_entropy's
# target and weight=, maximum's second argument), "window" an integer constant 0 … MAX_WINDOW or a
# tuple of up to 3 of them (conv2d's stride= and padding=, a pool's kernel), "label" an integer
# constant, negative too (ignore_index=-100), "optional_window" a "window" or None (a pool's
# divisor_override=), and the kinds of `STRING_CHOICES`: one of a few string literals, compared as
# written (reduction="sum"; "padding" also a "window": padding="same" or padding=1). Nothing else is
# read: no other string, no name of a Python object, no call.
# interpolate's keywords: "size" a "window" of positive integers (size=(8, 8)), "scale" a "number"
# or a tuple of up to 3 of them (scale_factor=2, scale_factor=(2, 1.5)), "optional_bool" True,
# False or None (align_corners=), "mode" one of its `STRING_CHOICES`.
STRING_CHOICES = {"reduction": ("mean", "sum", "none"), "padding": ("same", "valid"),
                  "mode": ("nearest", "linear", "bilinear", "trilinear")}
MAX_LABEL = 2 ** 63 - 1  # |ignore_index|: torch's labels are int64
REDUCE_KEYWORDS = {"axis": "axis", "keepdims": "bool"}
CLIP_KEYWORDS = {"min": "bound", "max": "bound"}          # NumPy 2's and torch's names of the bounds
# clip(x, a_min=, a_max=) is np.clip's older spelling; {keyword: which bound, 0 lo or 1 hi}
_BOUND_OF = {"min": 0, "a_min": 0, "max": 1, "a_max": 1}
_CALL_BOUNDS = {"clip": {**CLIP_KEYWORDS, "a_min": "bound", "a_max": "bound"}, "clamp": CLIP_KEYWORDS}
_TENSOR_CALLS: dict = {}


class _TensorFn:
    """One function of tensors the text may call: its builder, (least, most) positional arguments,
    the kinds of the positional arguments after the first, {keyword: kind}, and whether a tensor may
    be any operand (maximum(0, x)) rather than the first argument."""

    def __init__(self, build, nargs, rest, keywords, any_operand=False):
        self.build, self.nargs, self.rest, self.keywords = build, nargs, tuple(rest), dict(keywords)
        self.any_operand = any_operand


def register_tensor_function(name: str, build, nargs=(1, 2), rest=("axis",), keywords=None,
                             any_operand: bool = False) -> None:
    """Let the text call ``build`` as ``name`` when its first argument is a tensor (`sg.tensor`):
    ``nargs`` (least, most) positional arguments, ``rest`` the kind of each positional argument after
    the first, ``keywords`` {keyword: kind} (`REDUCE_KEYWORDS` unless given); ``any_operand``: the
    tensor may be any of the "operand" arguments (maximum(0, x)), not only the first. Called by the tensor
    modules at their import (symgrad/frontend/tensor.py, tensor_softmax.py, ...)."""
    if len(rest) < nargs[1] - 1:
        raise ValueError(f"{name}: a kind for each of its {nargs[1] - 1} arguments after the first")
    _TENSOR_CALLS[name] = _TensorFn(build, nargs, rest,
                                    REDUCE_KEYWORDS if keywords is None else keywords, any_operand)


# The constant tensors the text may make: name -> (builder, whether it takes a fill value), registered
# by symgrad/frontend/tensor_tri.py (ones, zeros, full) when it is imported. Their shape is read from
# the syntax tree as constants: integers and the declaration's integer sizes (N), never evaluated.
_CONSTRUCTORS: dict = {}


def register_tensor_constructor(name: str, build, value: bool = False) -> None:
    """Let the text call ``build(shape)`` as ``name`` (``value``: ``build(shape, value)``, as
    np.full): ``ones((N, 2))``, ``zeros(3)``, torch's ``ones(N, 2)``, ``full((N, 2), 0.5)``."""
    _CONSTRUCTORS[name] = (build, value)


# The methods a tensor may be called with: name -> (positional arguments (least, most), their
# kind, {keyword: kind}). "dims": integers or the declaration's integer sizes (N), or one tuple.
_METHODS = {
    "sum": ((0, 1), "axis", REDUCE_KEYWORDS), "mean": ((0, 1), "axis", REDUCE_KEYWORDS),
    "max": ((0, 1), "axis", REDUCE_KEYWORDS), "min": ((0, 1), "axis", REDUCE_KEYWORDS),
    "reshape": ((1, 32), "dims", {}), "transpose": ((0, 32), "axis", {}),
    "dot": ((1, 1), "tensor", {}),
    # x.std(axis=0, ddof=1): NumPy's ddof= (torch's correction=) a number constant
    "std": ((0, 1), "axis", {**REDUCE_KEYWORDS, "ddof": "number", "correction": "number"}),
    "var": ((0, 1), "axis", {**REDUCE_KEYWORDS, "ddof": "number", "correction": "number"}),
    # x.clip(-1, 1), x.clip(0, None), x.clip(-c, c), x.clip(min=0): bounds (NumPy's ndarray.clip);
    # x.clamp(min, max), x.clamp(min=0): torch's spelling of the same
    "clip": ((0, 2), "bound", CLIP_KEYWORDS), "clamp": ((0, 2), "bound", CLIP_KEYWORDS),
}
MAX_AXES = 32            # entries of an axis tuple or a shape
# The prefixes of NumPy-style code (np.sum(D, axis=0)): refused with what to write instead
_MODULES = frozenset({"np", "numpy", "torch", "math", "sp", "sympy", "sg", "symgrad", "jnp"})


# ---------------------------------------------------------------------------------------------------
# Building: one method per allowed node


_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.MatMult: "@",
        ast.Mod: "%", ast.FloorDiv: "//", ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>",
        ast.BitAnd: "&", ast.BitOr: "|"}
_CMP = {ast.Lt: sp.Lt, ast.LtE: sp.Le, ast.Gt: sp.Gt, ast.GtE: sp.Ge}
_WHAT_NODE = {
    ast.Lambda: "a lambda", ast.ListComp: "a comprehension", ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension", ast.GeneratorExp: "a generator expression",
    ast.JoinedStr: "an f-string", ast.FormattedValue: "an f-string", ast.NamedExpr: "':=' (walrus)",
    ast.Starred: "'*' unpacking", ast.Dict: "a dict", ast.Set: "a set", ast.List: "a list",
    ast.Tuple: "a tuple (tuples are only the (value, condition) pairs of Piecewise)",
    ast.Slice: "a slice", ast.IfExp: "'... if ... else ...'", ast.BoolOp: "'and'/'or' (write & or |)",
    ast.Await: "'await'", ast.Yield: "'yield'", ast.YieldFrom: "'yield'",
}
_ALLOWED = ("allowed: numbers, names, + - * / ** @, parentheses, comparisons, M.T, M[i, j] and calls "
            "of symgrad's and SymPy's functions by name")


# Names other tools give functions symgrad knows by another name (NumPy, LaTeX, torch).
_OTHER_NAMES = {"ln": ["log"], "arctan": ["atan"], "arcsin": ["asin"], "arccos": ["acos"],
                "sgn": ["sign"], "fabs": ["abs"], "logistic": ["sigmoid"], "expit": ["sigmoid"],
                "step": ["Heaviside"], "heaviside": ["Heaviside"], "maximum": ["Max"],
                "minimum": ["Min"], "eye": ["Identity"], "cross_entropy_loss":
                ["cross_entropy"], "mse_loss": ["mse"], "tr": ["trace"],
                "determinant": ["det"], "Determinant": ["det"], "inverse": ["inv"],
                "Inverse": ["inv"], "pinv": ["inv"]}


def _is_scalar(v) -> bool:
    """A scalar SymPy expression: no matrix, no tensor, no condition."""
    return isinstance(v, sp.Expr) and not isinstance(v, MatrixExpr) and not _is_tensor(v)


def _is_scalar_of_symbols(v) -> bool:
    """A scalar expression of scalar symbols (a clip bound c, -c, c/2): no tensor, no matrix, not a
    number (numbers are checked as numbers), and not known to be complex."""
    return (isinstance(v, sp.Expr) and not v.is_number and not _is_tensor(v) and not isinstance(v, MatrixExpr)
            and not v.has(sp.MatrixSymbol) and v.is_extended_real is not False
            and all(isinstance(s, sp.Symbol) and not _is_tensor(s) for s in v.free_symbols))


def _bits(x) -> float:
    """How many bits the number x takes, for the cost of x**n."""
    if isinstance(x, sp.Rational):
        return max(1, int(x.p).bit_length(), int(x.q).bit_length())
    try:
        v = abs(float(x))
    except (TypeError, ValueError, OverflowError):
        return math.inf
    if not math.isfinite(v):
        return math.inf
    return max(1.0, abs(math.log2(v))) if v else 1.0


def _is_matrix(v) -> bool:
    return isinstance(v, (MatrixExpr, sp.MatrixBase))


def _known(m) -> bool:
    """Whether both sizes of the matrix ``m`` are numbers (not symbols such as n)."""
    return all(isinstance(d, int) or getattr(d, "is_Integer", False) for d in m.shape)


def _shape_words(m) -> str:
    """A matrix's shape as ``--matrix`` writes it: 3x2."""
    return "x".join(str(d) for d in m.shape)


def shape_message(e) -> str:
    """SymPy's ShapeError in words."""
    a = e.args
    if len(a) == 3 and isinstance(a[0], str):          # ('Matrices are not aligned', 2, 3)
        return f"{a[0].lower()}: inner dimensions {a[1]} and {a[2]} differ (check --matrix)"
    return str(e)
