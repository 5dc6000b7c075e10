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
- ``M.T`` (the transpose: the only postfix; no other attribute is read) and ``M[i, j]`` (an entry,
  integer constants);
- tensors (`sg.tensor`): a declared tensor's name (and its symbolic sizes, N of (N, 3)) means it;
  ``@``, ``X.T``; ``axis=`` and ``keepdims=`` of ``sum mean max min logsumexp softmax log_softmax
  cross_entropy std`` of a tensor (std's ``ddof=``/``correction=``), ``one_hot(y, n)`` of integer
  labels, ``clip(x, lo, hi)`` (``min=``/``max=``, NumPy's ``a_min=``/``a_max=``; torch's
  ``clamp(x, min, max)``), ``maximum(a, b)``, ``minimum(a, b)``, and the methods ``.sum .mean
  .max .min .std .clip .clamp .reshape .transpose .dot`` — their arguments are constants read from the
  syntax tree (integers, tuples of them, True/False, the declaration's integer sizes; clip's bounds
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
  recursion), `MAX_ARGS` arguments per call, `MAX_ENTRIES` entries in a constant the text makes
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
import re
import unicodedata
from functools import lru_cache
from typing import Iterable, Mapping

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixExpr

from ..errors import ParseError, SymgradError, UnsafeInputError

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
    try:
        return sp.sympify(obj, strict=True)
    except sp.SympifyError:
        pass
    if _holds_text(obj):
        raise UnsafeInputError(f"{what}: {type(obj).__name__} holding text; pass each expression "
                               f"as a str or a SymPy expression")
    return sp.sympify(obj)


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
    return dtype is not None and getattr(dtype, "kind", "") in "USOV"


# ---------------------------------------------------------------------------------------------------
# Reading: characters, syntax, size


def _show(text, limit=80) -> str:
    """The text in a message: repr'd (control characters escaped), cut at ``limit``."""
    s = str(text)
    return repr(s if len(s) <= limit else s[:limit] + "...")


@lru_cache(maxsize=1)
def _python_keywords():
    import keyword
    return frozenset(keyword.kwlist)


def _characters(text, what):
    """Refuse what is not text, too-long text, control and invisible characters, and look-alikes
    (characters Python would replace by their NFKC form: ``ｅｘｐ`` reads as ``exp``, ``x²`` as ``x2``)."""
    if not isinstance(text, str):
        raise UnsafeInputError(f"{what} must be text (a str), got {type(text).__name__}")
    if len(text) > MAX_CHARS:
        raise UnsafeInputError(f"{what} {_show(text, 20)} is {len(text)} characters long; at most "
                               f"{MAX_CHARS} are read")
    for ch in text:
        if ch in _ASCII_OK or ch.isascii() and ch.isalpha():
            continue
        cat = unicodedata.category(ch)
        code = f"U+{ord(ch):04X}"
        if ch.isascii() and cat[0] != "C":
            continue                           # other ASCII punctuation: the syntax decides
        if cat[0] == "C" or cat[0] == "Z":
            raise UnsafeInputError(f"{what} {_show(text)}: the character {ch!r} ({code}, "
                                   f"{unicodedata.name(ch, 'a control character')}) is not allowed")
        norm = unicodedata.normalize("NFKC", ch)
        if norm != ch:
            raise UnsafeInputError(f"{what} {_show(text)}: {ch!r} ({code}) is a look-alike of "
                                   f"{norm!r}; write {norm!r} itself")
        if cat[0] not in "LMN":
            raise UnsafeInputError(f"{what} {_show(text)}: the character {ch!r} ({code}) is not "
                                   f"allowed (names are letters and digits)")
    if unicodedata.normalize("NFKC", text) != text:     # a composition of allowed characters
        raise UnsafeInputError(f"{what} {_show(text)}: the text is not in NFKC normal form "
                               f"(write composed letters as one character)")


def _syntax(text, what):
    _characters(text, what)
    stripped = text.strip()
    if not stripped:
        raise ParseError(f"{what} is empty")
    try:
        tree = ast.parse(stripped, mode="eval")
    except SyntaxError as e:
        bad = next((ch for ch in stripped if ch.isascii() and ch not in _ASCII_OK
                    and not ch.isalpha()), None)
        if bad is not None:
            kind = {"'": "string literals are", '"': "string literals are",
                    "\\": "escapes are", "^": "'^' is (write ** for a power)",
                    ":": "':' (slices, lambdas, :=) is", "#": "comments are"}
            raise UnsafeInputError(f"{what} {_show(text)}: the character {bad!r} is not allowed"
                                   + (f": {kind[bad]} not part of the grammar" if bad in kind else "")
                                   ) from None
        word = next((w for w in re.findall(r"[^\W\d]\w*", stripped) if w in _python_keywords()
                     and w not in ("True", "False")), None)
        if word is not None:
            raise UnsafeInputError(f"{what} {_show(text)}: {word!r} is a Python keyword and not "
                                   f"allowed ({word} is not part of the grammar, nor a name)") from None
        where = ""
        if e.offset and e.lineno:
            line = stripped.splitlines()[e.lineno - 1] if stripped.splitlines() else stripped
            where = f" at {line[e.offset - 1:e.offset + 9]!r}" if e.offset <= len(line) else " at the end"
        raise ParseError(f"cannot parse {what} {_show(text)}: {e.msg}{where}") from None
    except (RecursionError, MemoryError, ValueError, OverflowError) as e:
        raise UnsafeInputError(f"{what} {_show(text)}: too large or too deeply nested to read, "
                               f"from {stripped[:20]!r} on ({type(e).__name__})") from None
    if "#" in stripped:
        raise UnsafeInputError(f"{what} {_show(text)}: the character '#' is not allowed: comments "
                               f"are not part of the grammar")
    _size(tree, text, what)
    return tree, stripped


def _size(tree, text, what):
    """Count the nodes and the depth without recursion (the tree may be deep)."""
    stack, count = [(tree, 0)], 0
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise UnsafeInputError(f"{what} {_show(text)}: more than {MAX_NODES} syntax nodes, "
                                   f"at {_segment(text, node)!r}")
        if depth > MAX_DEPTH and not isinstance(node, ast.expr_context):   # named: not 'Load'
            raise UnsafeInputError(f"{what} {_show(text)}: nested more than {MAX_DEPTH} deep, at "
                                   f"{_segment(text, node)!r}")
        # a chain a + b - c + ... (or a * b / c ...) is left-nested in the tree, but it is built
        # without recursion (`_Builder.visit_BinOp`): its links do not count as nesting
        stack.extend((child, depth if _links(node, child) else depth + 1)
                     for child in ast.iter_child_nodes(node))


# The families of operators whose left-nested chains are built iteratively: + and -, * and /
_CHAIN = {ast.Add: 0, ast.Sub: 0, ast.Mult: 1, ast.Div: 1}


def _links(parent, child) -> bool:
    """Whether ``child`` is the left operand of ``parent`` in one chain (a + b + c: (a + b) of it)."""
    return (isinstance(parent, ast.BinOp) and child is parent.left and isinstance(child, ast.BinOp)
            and _CHAIN.get(type(child.op), -1) == _CHAIN.get(type(parent.op), -2))


def _segment(text, node, limit=30) -> str:
    s = ast.get_source_segment(text.strip(), node) or type(node).__name__
    return s if len(s) <= limit else s[:limit] + "..."


def _declared(symbols) -> dict:
    if isinstance(symbols, Mapping):
        items = dict(symbols)
    else:
        items = {}
        for s in symbols or ():
            if not isinstance(s, (sp.Symbol, sp.MatrixSymbol)) and not _is_tensor_symbol(s):
                continue
            items[s.name] = s
    # a declared tensor's symbolic sizes (N of (N, 3)) are declared too: x.reshape(N, -1) means them
    for s in list(items.values()):
        if _is_tensor_symbol(s):
            for d in s.shape:
                for n in getattr(d, "free_symbols", ()):
                    items.setdefault(n.name, n)
    return items


def _is_tensor_symbol(s) -> bool:
    cls = _TENSORS.get("cls")
    return cls is not None and isinstance(s, cls)


# ---------------------------------------------------------------------------------------------------
# Tensors: NumPy's keywords and methods, read from constants only

# The functions whose first argument may be a tensor, with NumPy's keywords: name -> `_TensorFn`,
# registered by the tensor modules when they are imported (`register_tensor_function`; this module
# imports none of them: no hidden import, no circle). A kind says what an argument may be: "axis"
# an integer constant or a tuple of them (or None), "bool" True or False, "dims_entry" an integer or
# a declared integer size, "number" a real number constant (1, -0.5, 1/3, pi/4: std's ddof=),
# "bound" a number or None (clip's bounds), "operand" any expression of the grammar (cross_entropy's
# target, maximum's second argument), "window" an integer constant 0 … MAX_WINDOW or a tuple of up to
# 3 of them (conv2d's stride= and padding=, a pool's kernel). Nothing else is read: no string, no name of a Python object,
# no call.
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
                ["cross_entropy"], "mse_loss": ["mse"], "tr": ["trace"]}


class _Builder:
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
        if isinstance(out, sp.Basic) and (out.has(sp.zoo, sp.nan) or out.has(sp.oo, -sp.oo)):
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
        return out

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
        a = self.visit(node.left)
        b = self.visit(node.right)
        if op is ast.Pow:
            self.check_shapes(op, a, b, node)
            self.check_power(a, b, node)
            return a ** b
        if op in (ast.BitAnd, ast.BitOr):
            if not (isinstance(a, sp.logic.boolalg.Boolean) and isinstance(b, sp.logic.boolalg.Boolean)):
                raise self.refuse(f"{_OPS[op]!r} in {self.seg(node)!r} joins conditions (comparisons), "
                                  f"not numbers")
            return sp.And(a, b) if op is ast.BitAnd else sp.Or(a, b)
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
            conds.append(_CMP[type(op)](a, b))
        return conds[0] if len(conds) == 1 else sp.And(*conds)

    def visit_Attribute(self, node):
        if node.attr in _METHODS:
            raise self.fail(f"the method {'.' + node.attr!r} in {self.seg(node)!r} must be called, as in "
                            f"x.{node.attr}(...)")
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

    def method_call(self, node):
        """x.sum(axis=0), x.reshape(N, -1), x.T.dot(w): a whitelisted method of a tensor, its
        arguments read as constants (never evaluated); no attribute of a Python object is read."""
        name = node.func.attr
        (lo, hi), kind, keywords = _METHODS[name]
        args, kw = self.arguments(node, name, keywords)
        if not lo <= len(args) <= hi:
            count = str(lo) if lo == hi else f"{lo} to {hi}"
            raise self.fail(f".{name}(...) takes {count} positional argument(s), got {len(args)} in "
                            f"{self.seg(node)!r}")
        # the arguments first, the receiver last: whatever a text holds is refused before it is used
        if kind == "tensor":
            vals = [self.visit(a) for a in args]
            bad = next((a for a, v in zip(args, vals) if not _is_tensor(v)), None)
            if bad is not None:
                raise self.fail(f".{name}(...) in {self.seg(node)!r} takes a tensor; {self.seg(bad)!r} "
                                f"is not one")
        elif name in ("reshape", "transpose"):    # x.reshape(N, -1) or x.reshape((N, -1))
            if len(args) == 1 and isinstance(args[0], ast.Tuple):
                vals = list(self.static(args[0], kind))
            else:
                vals = [self.static(a, kind + "_entry") for a in args]
        else:                                      # x.sum(0), x.sum((0, 1)): the axis; clip's bounds
            vals = [self.static(a, kind) for a in args]
        x = self.visit(node.func.value)
        if not _is_tensor(x):
            raise self.fail(f".{name}(...) in {self.seg(node)!r} is a method of tensors (sg.tensor); "
                            f"{self.seg(node.func.value)!r} is not one")
        if name == "dot":
            return x @ vals[0]
        if name in ("clip", "clamp"):
            return x.clip(*self.bounds(node, vals, kw))
        if name in ("reshape", "transpose"):
            return getattr(x, name)(*vals)
        if vals:                               # x.sum(0): the axis, as NumPy's
            if "axis" in kw:
                raise self.fail(f"the axis is given twice in {self.seg(node)!r}")
            kw["axis"] = vals[0]
        return getattr(x, name)(**kw)

    def arguments(self, node, name, keywords, form=None) -> tuple:
        """(the positional argument nodes, {keyword: its constant value}) of a call; '*' and '**'
        unpacking and keywords ``name`` does not take are refused (``form``, when given, is the
        spelling the refusal shows). A keyword whose kind is None keeps its syntax-tree node."""
        for a in node.args:
            if isinstance(a, ast.Starred):
                self.visit(a)                  # refused, naming it
        kw = {}
        for k in node.keywords:
            if k.arg is None or k.arg not in keywords:
                what = "'**' unpacking" if k.arg is None else f"the keyword {k.arg!r}"
                allowed = ", ".join(sorted(keywords)) or "none"
                write = f"; write {form}" if form else ""
                raise self.refuse(f"{what} in {self.seg(node)!r} is not allowed ({name} takes the "
                                  f"keywords: {allowed}{write})")
            if k.arg in kw:
                raise self.fail(f"the keyword {k.arg}= is given twice in {self.seg(node)!r}")
            kind = keywords[k.arg]
            kw[k.arg] = k.value if kind is None else self.static(k.value, kind, k.arg)
        return list(node.args), kw

    def static(self, node, kind, keyword=None):
        """A constant argument: "axis" an integer (negative counts from the end), a tuple of them or
        None; "bool" True or False; "dims" a tuple of "dims_entry"s, each an integer or an integer
        size of the declaration (N, N*3). Read from the syntax tree, never evaluated."""
        named = f"{keyword}= takes" if keyword else "the argument is"
        if kind in ("axis", "dims"):
            if isinstance(node, ast.Tuple):
                if len(node.elts) > MAX_AXES:
                    raise self.refuse(f"{self.seg(node)!r}: at most {MAX_AXES} entries")
                return tuple(self.static(e, kind + "_entry", keyword) for e in node.elts)
            if kind == "axis" and isinstance(node, ast.Constant) and node.value is None:
                return None
            return self.static(node, kind + "_entry", keyword)
        if kind == "bool":
            if isinstance(node, ast.Constant) and isinstance(node.value, bool):
                return node.value
            raise self.refuse(f"{named} True or False, not {self.seg(node)!r}")
        if kind in ("number", "bound"):
            if kind == "bound" and isinstance(node, ast.Constant) and node.value is None:
                return None
            words = ("a bound is a number constant or None (clip(x, -1, 1), clip(x, 0, None)), a "
                     "scalar's name (clip(x, -c, c)) or a tensor (clip(x, lo, hi))" if kind == "bound"
                     else f"{keyword or 'the argument'}= takes a number constant")
            # numbers, pi and E (a bound also a scalar's name), with + - * /: read from the tree (no
            # attribute, no call, no string)
            if not all(isinstance(n, (ast.Constant, ast.UnaryOp, ast.BinOp, ast.Name, ast.operator,
                                      ast.unaryop, ast.expr_context)) for n in ast.walk(node)) or any(
                    isinstance(n, ast.Constant) and type(n.value) not in (int, float)
                    or isinstance(n, ast.Name) and n.id not in _CONSTANTS and kind != "bound"
                    or isinstance(n, ast.BinOp) and type(n.op) not in (ast.Add, ast.Sub, ast.Mult, ast.Div)
                    or isinstance(n, ast.UnaryOp) and type(n.op) not in (ast.USub, ast.UAdd)
                    for n in ast.walk(node)):
                if kind == "bound":                  # a tensor bound (np.clip's, torch.clamp's):
                    v = self.tensor_bound(node)      # an expression of the grammar itself
                    if v is not None:
                        return v
                raise self.refuse(f"{words}, not {self.seg(node)!r}")
            v = self.visit(node)
            if kind == "bound" and (_is_scalar_of_symbols(v) or _is_tensor(v)):
                return v
            if not (isinstance(v, sp.Expr) and v.is_number and v.is_extended_real and v.is_finite):
                raise self.fail(f"{words}, not {self.seg(node)!r}")
            return v
        if kind == "window":    # conv2d's stride= / padding=, a pool's kernel: an integer or a tuple of them
            named = f"{keyword}= takes" if keyword else "the kernel size takes"
            parts = node.elts if isinstance(node, ast.Tuple) else [node]
            if isinstance(node, ast.Tuple) and not 1 <= len(parts) <= MAX_WINDOW_AXES:
                raise self.refuse(f"{named} an integer constant or a tuple of 1 to {MAX_WINDOW_AXES} of them, "
                                  f"not {self.seg(node)!r}")
            vals = []
            for e in parts:
                neg = isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.USub)
                c = e.operand if neg else e
                if not (isinstance(c, ast.Constant) and type(c.value) is int):
                    raise self.refuse(f"{named} integer constants (stride=2, padding=(1, 0)), not {self.seg(node)!r}")
                if neg or not 0 <= c.value <= MAX_WINDOW:
                    raise self.refuse(f"{named} integers 0 ... {MAX_WINDOW} (a window, a stride, a padding), "
                                      f"not {self.seg(e)!r}")
                vals.append(c.value)
            return tuple(vals) if isinstance(node, ast.Tuple) else vals[0]
        if kind in ("diagonal", "axis_entry"):  # tril(x, k)'s k, an axis: a small integer constant
            v = node.operand if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) else node
            if isinstance(v, ast.Constant) and type(v.value) is int and abs(v.value) <= MAX_DIM:
                return -v.value if v is not node else v.value
            what = ("the diagonal is an integer constant (0 the main one, 1 above, -1 below)"
                    if kind == "diagonal" else
                    "an axis is an integer constant, or a tuple of them (axis=0, axis=(1, 2))")
            raise self.refuse(f"{what}, not {self.seg(node)!r}")
        if kind == "dims_entry":
            shape_words = "a shape is integers and the declaration's integer sizes (N, -1, N*3)"
            if not all(isinstance(n, (ast.Constant, ast.Name, ast.BinOp, ast.UnaryOp, ast.operator,
                                      ast.unaryop, ast.expr_context)) for n in ast.walk(node)):
                raise self.refuse(f"{shape_words}, not {self.seg(node)!r}")
            v = self.visit(node)
            unit = v.subs({s: 1 for s in v.free_symbols}) if isinstance(v, sp.Expr) else v
            if isinstance(unit, sp.Integer) and abs(int(unit)) > MAX_DIM * MAX_DIM:   # N*10**9 too
                raise self.refuse(f"the size {self.seg(node)!r} is too large (a size is at most "
                                  f"{MAX_DIM * MAX_DIM})")
            if isinstance(v, sp.Expr) and v.is_integer and not _is_tensor(v):
                return v
            raise self.fail(f"{shape_words}, not {self.seg(node)!r}")
        raise AssertionError(kind)

    def tensor_bound(self, node):
        """A clip bound that is a tensor expression of the grammar (``clip(X, L, U)``, ``X.clamp(min=
        b - 1)``), parsed as any operand is (never evaluated), or None when it is no tensor or is not
        in the grammar (the caller then refuses it as a bound)."""
        try:
            v = self.visit(node)
        except SymgradError:
            return None
        return v if _is_tensor(v) else None

    def bounds(self, node, positional, kw) -> list:
        """[lo, hi] of clip / clamp from its positional bounds and its keywords (min=, max=; np.clip's
        a_min=, a_max=), None where not given; a bound given twice is refused."""
        out = list(positional) + [None] * (2 - len(positional))
        for k, v in kw.items():
            i = _BOUND_OF[k]
            if i < len(positional) or (v is not None and out[i] is not None):
                raise self.fail(f"the {'lower' if i == 0 else 'upper'} bound is given twice in "
                                f"{self.seg(node)!r}")
            out[i] = v
        return out

    def constructor_call(self, node, n):
        """ones((N, 2)), zeros(3), torch's ones(N, 2), full((N, 2), 0.5), full((N, 2), c): the shape
        and the value read from the syntax tree as constants (never evaluated), then built."""
        build, takes_value = _CONSTRUCTORS[n]
        form = f"{n}((N, 2), 0.5)" if takes_value else f"{n}((N, 2)), {n}(3) or {n}(N, 2)"
        keywords = ("shape", "fill_value") if takes_value else ("shape",)
        args, kw = self.arguments(node, n, dict.fromkeys(keywords), form)   # the nodes, read below
        if "shape" in kw:
            if args and not (takes_value and len(args) == 1 and "fill_value" not in kw):
                raise self.fail(f"the shape of {n}(...) is given twice in {self.seg(node)!r} (by "
                                f"position and by shape=); write {form}")
            args.insert(0, kw.pop("shape"))
        if "fill_value" in kw:
            if len(args) > 1:
                raise self.fail(f"the value of {n}(...) is given twice in {self.seg(node)!r} (by "
                                f"position and by fill_value=); write {form}")
            args.append(kw.pop("fill_value"))
        if takes_value:
            if len(args) != 2:
                raise self.fail(f"{n}(...) takes a shape and a value, as in {form}; got {len(args)} "
                                f"argument(s) in {self.seg(node)!r}")
            args, value = args[:1], args[1]
        if not args:
            raise self.fail(f"{n}(...) takes a shape, as in {form}; none is given in {self.seg(node)!r}")
        if len(args) == 1 and isinstance(args[0], (ast.Tuple, ast.List)):
            args = args[0].elts                # ones((N, 2)), ones([N, 2])
        if not 1 <= len(args) <= MAX_AXES:
            raise self.refuse(f"{self.seg(node)!r}: a shape has 1 to {MAX_AXES} sizes")
        dims = []
        for a in args:
            d = self.static(a, "dims_entry")
            if not d.is_positive:
                raise self.fail(f"the size {self.seg(a)!r} of {n}(...) in {self.seg(node)!r} must be "
                                f"positive: a shape is positive integers and the declaration's integer "
                                f"sizes (N, N*3), as in {form}")
            dims.append(d)
        # the entries counted with every symbolic size at 1 ("per unit": ones((N, 1000)) is 1000),
        # and at most quadratic in the sizes (ones((N, T, 3)) is; ones((N**10,)) or
        # ones((N*10**8, 1000)) would allocate gigabytes at the sizes a check draws)
        count = sp.expand(sp.Mul(*dims))
        unit = count.subs({s: 1 for s in count.free_symbols})
        if count.free_symbols and (not count.is_polynomial(*count.free_symbols)
                                   or sp.Poly(count, *count.free_symbols).total_degree() > 2):
            raise self.refuse(f"{self.seg(node)!r} has {count} entries; a constant made by the text "
                              f"has at most two symbolic sizes' product of them (ones((N, T, 3)))")
        if unit > MAX_ENTRIES:
            raise self.refuse(f"{self.seg(node)!r} has {unit} entries (for each unit of its symbolic "
                              f"sizes); a constant made by the text has at most {MAX_ENTRIES}")
        if not takes_value:
            return build(tuple(dims))
        return build(tuple(dims), self.fill_value(value, n))

    def fill_value(self, node, n):
        """full's value: a number constant (0.5, -1/3, pi) or a scalar's name with + - * / and
        numbers (c, -c, 2*c), read from the tree like a clip bound; no tensor, no call."""
        if all(isinstance(m, (ast.Constant, ast.UnaryOp, ast.BinOp, ast.Name, ast.operator, ast.unaryop,
                              ast.expr_context)) for m in ast.walk(node)) and not any(
                isinstance(m, ast.BinOp) and type(m.op) not in (ast.Add, ast.Sub, ast.Mult, ast.Div)
                or isinstance(m, ast.UnaryOp) and type(m.op) not in (ast.USub, ast.UAdd)
                for m in ast.walk(node)):
            v = self.visit(node)
            if (isinstance(v, sp.Expr) and v.is_number and v.is_extended_real and v.is_finite
                    or _is_scalar_of_symbols(v)):
                return v
        raise self.refuse(f"the value of {n}(...) is a number constant or a scalar's name (full((N, 2), "
                          f"0.5), full((N, 2), c)), not {self.seg(node)!r}")

    def clip_call(self, node, n):
        """clip(x, lo, hi), clip(x, min=0), np.clip's clip(x, a_min=, a_max=), torch's clamp(x, min,
        max): the bounds read as constants of the tree (numbers, scalar names, None) before x."""
        args, kw = self.arguments(node, n, _CALL_BOUNDS[n])
        if not 1 <= len(args) <= 3:
            raise self.fail(f"{n}(...) takes x and at most two bounds, got {len(args)} positional "
                            f"argument(s) in {self.seg(node)!r}")
        lo_hi = self.bounds(node, [self.static(a, "bound") for a in args[1:]], kw)
        x = self.visit(args[0])
        if not _is_tensor(x):
            raise self.fail(f"{n}(...) in {self.seg(node)!r} is for tensors (sg.tensor); "
                            f"{self.seg(args[0])!r} is not one")
        return _TENSOR_CALLS["clip"].build(x, *lo_hi)

    def tensor_call(self, node, n):
        """sum(x, axis=0), softmax(s, axis=1), cross_entropy(s, y): a function whose first argument
        is a tensor, with NumPy's keywords; None when the first argument is not a tensor."""
        fn = _TENSOR_CALLS[n]
        (lo, hi), keywords = fn.nargs, fn.keywords
        if not node.args or isinstance(node.args[0], ast.Starred):
            return None
        first = self.visit(node.args[0])
        if fn.any_operand and not _is_tensor(first):      # maximum(0, x): the tensor second
            self.arguments(node, n, keywords)              # '*' unpacking refused first
            others = [a for a, kind in zip(node.args[1:], fn.rest) if kind == "operand"]
            if not any(_is_tensor(self.visit(a)) for a in others):
                scalar = " or ".join(_OTHER_NAMES.get(n, []))
                raise self.fail(f"{n}(...) in {self.seg(node)!r} is for tensors (sg.tensor); none of "
                                f"its arguments is one" + (f" (of scalars write {scalar}(a, b))"
                                                           if scalar else ""))
        elif not _is_tensor(first):
            if any(k.arg in keywords for k in node.keywords) or n not in _functions():
                args, _ = self.arguments(node, n, keywords)  # a keyword's value is refused first,
                for a, kind in zip(args[1:], fn.rest):       # and a bound's (clip(w, __import__...))
                    if kind in ("number", "bound"):
                        self.static(a, kind)
                raise self.fail(f"{n}(...) in {self.seg(node)!r}"
                                + (" with " + ", ".join(f"{k.arg}=" for k in node.keywords if k.arg in keywords)
                                   if node.keywords else "")
                                + f" is for tensors (sg.tensor); {self.seg(node.args[0])!r} is not one")
            return None
        args, kw = self.arguments(node, n, keywords)
        if not lo <= len(args) <= hi:
            count = str(lo) if lo == hi else f"{lo} to {hi}"
            raise self.fail(f"{n}(...) of a tensor takes {count} argument(s), got {len(args)} in "
                            f"{self.seg(node)!r}")
        rest = [self.visit(a) if kind == "operand" else self.static(a, kind)
                for a, kind in zip(args[1:], fn.rest)]   # cross_entropy's target; one_hot's n; an axis
        return fn.build(first, *rest, **kw)

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
        if n in _CONSTRUCTORS:
            return self.constructor_call(node, n)
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
            lower = {k.lower(): k for k in known}
            near = ([lower[n.lower()]] if n.lower() in lower else _OTHER_NAMES.get(n.lower())
                    or [lower[m] for m in difflib.get_close_matches(n.lower(), list(lower), n=2,
                                                                   cutoff=0.75)])
            guess = f" — did you mean {' or '.join(map(repr, near))}?" if near else ""
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
        for a, sub in zip(args, node.args):
            if not isinstance(a, (sp.Basic, tuple)):
                raise self.refuse(f"the argument {self.seg(sub)!r} is not allowed")
        return fn.build(*args, **kw)

    def piece(self, node):
        if not (isinstance(node, ast.Tuple) and len(node.elts) == 2):
            raise self.fail(f"Piecewise takes (value, condition) pairs; {self.seg(node)!r} is not one")
        return (self.visit(node.elts[0]), self.visit(node.elts[1]))


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

