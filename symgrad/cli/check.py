"""``symgrad check``: is a hand-derived gradient right?

    symgrad check "0.5*(y - w*x)**2" --wrt w --claimed "-(y - w*x)*x"
    symgrad check "sum(HadamardPower(W*x, 2))" --matrix W:3x2 --matrix x:2x1 --wrt W --claimed "2*W*x*x.T"
    symgrad check "cross_entropy(z, t)" --matrix z:4x1 --matrix t:4x1 --wrt z --claimed "softmax(z) - t" --at t=0,1,0,0

Exit status: 0 when the claim is right (or differs only where f is not differentiable), 1 when it is
wrong, 2 on bad input (an unparsable expression, a symbol f does not have, shapes that do not fit
together inside an expression) — with a message, never a traceback. A claim that has the wrong
shape for its variable is a wrong answer (exit 1, and the hint says both shapes).

Names: every name in the expressions is a real scalar Symbol unless declared a matrix with
``--matrix NAME:RxC`` (repeatable); symgrad's functions (sigmoid, relu, leaky_relu, softplus,
softmax, log_softmax, logsumexp, sum, mse, l1, hinge, bce, cross_entropy, kl_div) and SymPy's (exp,
log, sqrt, Abs, Max, Heaviside, Piecewise, HadamardProduct, HadamardPower, ...) are known; ``M.T``
is the transpose. ``--wrt`` and ``--claimed`` may be repeated, in the same order. ``--at NAME=V,...``
fixes a value (a matrix's entries row by row) instead of drawing it at random.
"""
from __future__ import annotations

import re

from ..errors import SymgradError

_MATRIX = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*):([0-9]+)x([0-9]+)$")


def register(subparsers):
    import argparse
    p = subparsers.add_parser("check", help="check a hand-derived gradient",
                              formatter_class=argparse.RawDescriptionHelpFormatter,
                              description="Is a hand-derived gradient right? For example:\n\n"
                                          + __doc__.split("\n\n")[1],
                              epilog="Exit status: 0 right (or different only where f has no "
                                     "derivative), 1 wrong, 2 bad input. See docs/checking.md.")
    p.add_argument("f", help="the scalar function, e.g. \"0.5*(y - w*x)**2\"")
    p.add_argument("--wrt", action="append", required=True, metavar="NAME",
                   help="the variable (repeat for several)")
    p.add_argument("--claimed", action="append", required=True, metavar="EXPR",
                   help="the claimed gradient (repeat, in --wrt order)")
    p.add_argument("--matrix", action="append", default=[], metavar="NAME:RxC",
                   help="declare NAME a matrix of R rows and C columns, e.g. W:3x2 (repeatable)")
    p.add_argument("--at", action="append", default=[], metavar="NAME=V[,V...]",
                   help="fix a value instead of drawing it: a number, or a matrix's entries row by "
                        "row, e.g. t=0,1,0,0 (repeatable)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the test points")
    p.add_argument("--targets", choices=["distribution", "one-hot", "free"], default="distribution",
                   help="how the target t of a softmax cross-entropy is drawn (default: on the simplex)")
    p.set_defaults(func=run)


def _namespace(matrices):
    import sympy as sp

    from ..frontend import functions as F
    ns = {name: getattr(F, name) for name in (
        "sigmoid", "relu", "leaky_relu", "softplus", "softmax", "log_softmax", "logsumexp", "sum",
        "mse", "l1", "hinge", "bce", "cross_entropy", "kl_div")}
    for spec in matrices:
        m = _MATRIX.match(spec.replace(" ", ""))
        if not m:
            raise SymgradError(f"--matrix {spec!r}: expected NAME:RxC, e.g. W:3x2")
        name, r, c = m.group(1), int(m.group(2)), int(m.group(3))
        if r < 1 or c < 1:
            raise SymgradError(f"--matrix {spec!r}: the shape must be positive")
        ns[name] = sp.MatrixSymbol(name, r, c)
    return ns


# SymPy names the expressions may use; every other name is a Symbol (so β written "beta" is a
# variable, not SymPy's beta function).
_SYMPY_NAMES = ("exp", "log", "sqrt", "sin", "cos", "tan", "tanh", "sinh", "cosh", "Abs", "Max",
                "Min", "sign", "Heaviside", "Piecewise", "HadamardProduct", "HadamardPower",
                "OneMatrix", "ZeroMatrix", "Identity", "Trace", "Transpose", "Rational", "pi")


def parse(text: str, ns: dict, what: str):
    """A SymPy expression from user text, through ``sympy.parse_expr`` with a controlled namespace:
    symgrad's functions, a few SymPy ones, the declared matrices; every other name a real Symbol.
    Builtins are not reachable from the text."""
    import sympy as sp
    from sympy.parsing.sympy_parser import TokenError, parse_expr, standard_transformations

    if not text.strip():
        raise SymgradError(f"{what} is empty")
    local = {n: getattr(sp, n) for n in _SYMPY_NAMES}
    local.update(ns)
    for name in set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text)):
        if name not in local:
            if name.startswith("__"):
                raise SymgradError(f"{what} {text!r}: the name {name!r} is not allowed")
            local[name] = sp.Symbol(name, real=True)
    glob = {"__builtins__": {}, "Integer": sp.Integer, "Float": sp.Float, "Rational": sp.Rational,
            "Symbol": sp.Symbol}
    try:
        expr = parse_expr(text, local_dict=local, global_dict=glob,
                          transformations=standard_transformations)
    except (SyntaxError, TokenError) as e:
        raise SymgradError(f"cannot parse {what} {text!r}: {e}") from None
    except sp.ShapeError as e:
        raise SymgradError(f"shapes do not match in {what} {text!r}: {_shape_msg(e)}") from None
    except Exception as e:  # noqa: BLE001 - SymPy raises many kinds (TypeError, ValueError, ...)
        raise SymgradError(f"cannot build {what} {text!r}: {type(e).__name__}: {e}") from None
    if not isinstance(expr, sp.Basic):
        raise SymgradError(f"{what} {text!r} is not an expression (it is a {type(expr).__name__})")
    return expr


def _values(specs, names) -> dict:
    """--at NAME=V[,V...] -> {name: float or array of the symbol's shape}."""
    import numpy as np
    import sympy as sp
    out = {}
    for spec in specs:
        name, eq, text = spec.partition("=")
        name = name.strip()
        if not eq or name not in names:
            raise SymgradError(f"--at {spec!r}: expected NAME=VALUE with NAME one of f's symbols "
                               f"{sorted(names)}")
        try:
            vals = [float(v) for v in text.split(",")]
        except ValueError:
            raise SymgradError(f"--at {spec!r}: values must be numbers separated by commas") from None
        sym = names[name]
        if isinstance(sym, sp.MatrixSymbol):
            r, c = (int(d) for d in sym.shape)
            if len(vals) != r * c:
                raise SymgradError(f"--at {spec!r}: {name} is {r}x{c}, so it needs {r * c} values, "
                                   f"got {len(vals)}")
            out[name] = np.array(vals).reshape(r, c)
        elif len(vals) != 1:
            raise SymgradError(f"--at {spec!r}: {name} is a scalar, so it needs one value")
        else:
            out[name] = vals[0]
    return out


def _shape_msg(e) -> str:
    a = e.args
    if len(a) == 3 and isinstance(a[0], str):          # ('Matrices are not aligned', 2, 3)
        return f"{a[0].lower()}: inner dimensions {a[1]} and {a[2]} differ (check --matrix)"
    return str(e)


def run(args) -> int:
    import sympy as sp

    from ..checking.verdict import check
    ns = _namespace(args.matrix)
    f = parse(args.f, ns, "f")
    if isinstance(f, sp.MatrixExpr) and f.shape != (1, 1):
        raise SymgradError(f"f must be a scalar; {args.f!r} has shape {f.shape} (wrap it in sum(...))")
    names = {s.name: s for s in f.free_symbols if isinstance(s, (sp.Symbol, sp.MatrixSymbol))}
    wrt = []
    for w in args.wrt:
        if w not in names:
            raise SymgradError(f"unknown symbol {w!r} in --wrt: f's symbols are {sorted(names)}")
        wrt.append(names[w])
    if len(args.claimed) != len(wrt):
        raise SymgradError(f"{len(args.claimed)} --claimed for {len(wrt)} --wrt; give one each, in order")
    claims = []
    for text in args.claimed:
        c = parse(text, {**ns, **names}, "--claimed")
        unknown = sorted(s.name for s in c.free_symbols
                         if isinstance(s, (sp.Symbol, sp.MatrixSymbol)) and s.name not in names)
        if unknown:
            raise SymgradError(f"unknown symbol(s) {unknown} in --claimed {text!r}: f's symbols are "
                               f"{sorted(names)}")
        claims.append(c)
    at = _values(args.at, names)
    try:
        r = check(f, wrt, claims, at=at, seed=args.seed, targets=args.targets)
    except SymgradError:
        raise
    except Exception as e:  # noqa: BLE001 - the command line shows a message, never a traceback
        raise SymgradError(f"{type(e).__name__}: {e}") from None
    print(r.report())
    return 0 if r else 1

