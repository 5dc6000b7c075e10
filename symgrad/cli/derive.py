"""``symgrad derive``: print the derivation of a gradient, step by step.

    symgrad derive "sin(x**2)" --wrt x --style calculus
    symgrad derive "(x + y)*z" --at x=-2,y=5,z=-4 --name q="x + y" --graph xyz.svg
    symgrad derive model.py --format latex
    symgrad derive --expr "relu(w*x + b)" --wrt w
    symgrad derive "sum(HadamardPower(W*x - y, 2))" --matrix W:2x3 --matrix x:3x1 --matrix y:2x1 --wrt W
    symgrad derive "cross_entropy(z, t)" --matrix z:3x1 --matrix t:3x1 --wrt z --given "sum(t)=1"
    symgrad derive "1/(1+exp(-(w0*x0+w1*x1+w2)))" --at w0=2,x0=-1,w1=-3,x1=-2,w2=-3 --gates binary

Text is parsed, never evaluated: the expression, ``--wrt``, ``--at``, ``--name``, ``--matrix`` and
``--given`` go through symgrad's whitelisting parser (its grammar is in docs/checking.md). A name is
a Symbol unless declared a matrix with ``--matrix NAME:RxC`` (repeatable), as for ``symgrad check``;
``--at W=1,2,3,4,5,6`` gives a matrix's entries row by row. ``--given EXPR=VALUE`` (repeatable) is a
fact used to simplify the steps: ``--given "sum(t)=1"`` for a one-hot target.
A target ending in ``.py`` is different: it is a model file, a Python file that is run as such
(only pass files you trust). It defines ``loss`` (a SymPy expression) and ``params`` (the symbols to
differentiate by), and may define ``inputs``, ``names`` (intermediate names, {symbol:
subexpression}), ``given`` and ``at`` (a point: {symbol or name: value}). ``--expr EXPR`` takes
text that is never taken for a file name: use it for text you did not write.
"""
from __future__ import annotations

import runpy
import sys
from pathlib import Path

import sympy as sp

from ..errors import ParseError, SymgradError
from ..frontend.parse import parse_expr, parse_name, parse_names, parse_number
from .check import _matrices

FORMATS = {"text": "text", "unicode": "unicode", "latex": "latex-document", "md": "markdown",
           "markdown": "markdown"}


def register(subparsers):
    import argparse
    p = subparsers.add_parser("derive", help="print the steps of a derivation",
                              formatter_class=argparse.RawDescriptionHelpFormatter,
                              description=__doc__.split("\n\n", 1)[1])
    p.add_argument("target", nargs="?", metavar="EXPR|MODEL.py",
                   help="an expression (parsed, never run), or a model file MODEL.py: Python, run "
                        "as such, so only pass files you trust")
    p.add_argument("--expr", metavar="EXPR",
                   help="the expression, never taken for a file name (for text from others)")
    p.add_argument("--wrt", help="comma-separated symbols (default: all, or the model's params)")
    p.add_argument("--style", choices=["steps", "calculus"], default="steps",
                   help="steps: backprop's chain-rule steps over the computational graph (default); "
                        "calculus: the derivative narrated with a calculus course's rules")
    p.add_argument("--mode", choices=["reverse", "forward"], default="reverse",
                   help="reverse accumulation (backprop, default) or forward (one sweep per variable)")
    p.add_argument("--at", action="append", default=[], metavar="x=1,y=2",
                   help="a point: the steps then show the forward values and gradients there")
    p.add_argument("--matrix", action="append", default=[], metavar="NAME:RxC",
                   help="declare NAME a matrix of R rows and C columns, each a number or a size's name, "
                        "e.g. W:3x2 or X:nx3 (repeatable)")
    p.add_argument("--given", action="append", default=[], metavar='"sum(t)=1"',
                   help="a fact used to simplify the steps: EXPR=VALUE (repeatable)")
    p.add_argument("--name", action="append", default=[], metavar='q="x + y"',
                   help="name an intermediate: NAME=SUBEXPRESSION (repeatable)")
    p.add_argument("--format", choices=sorted(FORMATS), default="unicode",
                   help="unicode (default: σ, ∂, ·), text (ASCII), latex (a whole document), "
                        "markdown or md")
    p.add_argument("--gates", choices=["n-ary", "binary"], default="n-ary",
                   help="n-ary: one gate per sum or product (default); binary: each sum and product of "
                        "three or more operands as a chain of two-input gates, as cs231n's circuits "
                        "draw them (the steps, LaTeX and --graph alike)")
    p.add_argument("--graph", metavar="OUT.svg", help="write the computational graph (.svg, .png, .pdf, .dot)")
    p.set_defaults(func=run)


def _model(path: Path) -> dict:
    try:
        ns = runpy.run_path(str(path))
    except Exception as e:
        raise SymgradError(f"{path}: running the model file failed: {type(e).__name__}: {e}") from None
    if "loss" not in ns or "params" not in ns:
        raise SymgradError(f"{path}: a model file must define `loss` (a SymPy expression) and `params` "
                           f"(a list of the symbols to differentiate by); it may define `inputs`, "
                           f"`names`, `given` and `at`")
    return ns


def _point(items, symbols) -> dict:
    """--at x=-2,y=5 -> {symbol: value}; names and values through the parser. A matrix takes its
    entries row by row, the values after NAME= up to the next NAME= (--at W=1,2,3,4,x=5)."""
    import numpy as np
    by_name = {str(s): s for s in symbols}
    at: dict = {}
    last = None
    for item in items:
        for pair in filter(None, item.split(",")):
            if "=" not in pair and isinstance(last, sp.MatrixSymbol):
                k, v = str(last), pair              # the next entry of a matrix
            elif "=" not in pair:
                raise SymgradError(f"--at takes NAME=VALUE pairs, got {pair!r}")
            else:
                k, v = pair.split("=", 1)
                k = parse_name(k, "--at")
                if k not in by_name:
                    raise SymgradError(f"--at: {k!r} is not a symbol of the expression "
                                       f"(symbols: {', '.join(sorted(by_name))})")
                if by_name[k] in at:
                    raise SymgradError(f"--at: {k!r} is given twice")
                last = by_name[k]
                at[last] = []
            try:
                at[by_name[k]].append(parse_number(v, f"--at {k}"))
            except ParseError as e:
                raise type(e)(f"--at: the value of {k} must be a number: {e}") from None
        last = None                                 # one --at per matrix
    for sym, vals in at.items():
        if isinstance(sym, sp.MatrixSymbol):
            if not all(d.is_Integer for d in sym.shape):
                raise SymgradError(f"--at: {sym} is {sym.shape[0]}x{sym.shape[1]}, of a named size: --at gives "
                                   f"the entries of a matrix of numbers (--matrix {sym}:3x2)")
            r, c = (int(d) for d in sym.shape)
            if len(vals) != r * c:
                raise SymgradError(f"--at: {sym} is {r}x{c}, so it needs {r * c} values (row by row), "
                                   f"got {len(vals)}")
            at[sym] = np.array(vals, float).reshape(r, c)
        else:
            at[sym] = vals[0]
    missing = sorted(str(s) for s in symbols if s not in at)
    if missing:                                 # named here, before any step is built
        raise SymgradError(f"--at gives no value for {', '.join(missing)}: a point gives every symbol "
                           f"of the expression ({', '.join(sorted(by_name))})")
    return at


def _split_fact(item: str) -> tuple:
    """EXPR=VALUE at its one "=" outside brackets that is not part of ==, <=, >=, != (a keyword
    argument, leaky_relu(x, alpha=0.1), is inside brackets); ("", "", item) when there is none."""
    depth = 0
    for i, ch in enumerate(item):
        depth += ch in "([{"
        depth -= ch in ")]}"
        if ch == "=" and depth == 0 and item[i - 1:i] not in ("=", "<", ">", "!", ":") \
                and item[i + 1:i + 2] != "=":
            return item[:i], "=", item[i + 1:]
    return "", "", item


def _facts(items, symbols) -> dict:
    """--given "sum(t)=1" (repeatable) -> {expression: value}, both sides through the parser."""
    out = {}
    for item in items:
        left, eq, right = _split_fact(item)
        if not eq or not left.strip():
            raise SymgradError(f"--given takes EXPR=VALUE, e.g. --given \"sum(t)=1\", got {item!r}")
        k = parse_expr(left, symbols=symbols, what="--given")
        unknown = sorted(str(s) for s in k.free_symbols if str(s) not in symbols)
        if unknown:
            raise SymgradError(f"--given {item!r}: {', '.join(map(repr, unknown))} is not a symbol of the "
                               f"expression (symbols: {', '.join(sorted(symbols))})")
        out[k] = parse_expr(right, symbols=symbols, what=f"--given {left.strip()}")
    return out


def _target(args):
    """(f, wrt, options) from the model file or the parsed expression."""
    if (args.target is None) == (args.expr is None):
        raise SymgradError("give an expression (or a model file), or --expr EXPR: one of them")
    if args.expr is None and args.target.endswith(".py"):
        if args.matrix:
            raise SymgradError("--matrix declares the symbols of an expression; a model file declares "
                               "its own (sp.MatrixSymbol, sg.tensor)")
        path = Path(args.target)
        if not path.is_file():
            raise SymgradError(f"model file {args.target} not found")
        m = _model(path)
        return m["loss"], list(m["params"]), {k: m[k] for k in ("names", "given", "at")
                                              if m.get(k) is not None}
    text = args.expr if args.expr is not None else args.target
    sizes = {}                  # n of --matrix X:nx3: read in the expression as that size, no variable
    matrices = _matrices(args.matrix, sizes)
    f = parse_expr(text, symbols={**sizes, **matrices}, what="the expression")
    wrt = sorted(set(getattr(f, "free_symbols", ())) - set(sizes.values()), key=str)
    if not isinstance(f, sp.Expr) or not wrt:
        raise SymgradError(f"the expression {text!r} has no symbols to differentiate by")
    return f, wrt, {"sizes": sizes}


GRAPH_SUFFIXES = (".svg", ".png", ".pdf", ".dot", ".gv")


def run(args) -> int:
    import symgrad as sg
    if args.graph and Path(args.graph).suffix.lower() not in GRAPH_SUFFIXES:
        # said before the derivation is printed (it was refused after, the steps already on stdout)
        raise SymgradError(f"--graph {args.graph}: the picture is written as .svg, .png, .pdf or .dot "
                           f"(the file name's ending says which)")
    f, wrt, opts = _target(args)
    sizes = opts.pop("sizes", {})
    symbols = {str(s): s for s in sp.sympify(f).free_symbols}
    if args.wrt is not None:                  # --wrt "" is no name, not "every symbol"
        wrt = []
        for w in parse_names(args.wrt, "--wrt"):
            if w in sizes:
                raise SymgradError(f"--wrt: {w!r} is a size of a --matrix, not a variable to differentiate by")
            if w not in symbols:
                raise SymgradError(f"--wrt: {w!r} is not a symbol of the expression "
                                   f"(symbols: {', '.join(sorted(symbols))})")
            wrt.append(symbols[w])
    if args.at:
        opts["at"] = _point(args.at, symbols.values())
    names = dict(opts.get("names") or {})
    for item in args.name:
        if "=" not in item:
            raise SymgradError(f"--name takes NAME=SUBEXPRESSION, got {item!r}")
        k, v = item.split("=", 1)
        k = parse_name(k, "--name")
        names[sp.Symbol(k)] = parse_expr(v, symbols=symbols, what=f"--name {k}")
    if names:
        opts["names"] = names
    if args.given:
        opts["given"] = {**(opts.get("given") or {}), **_facts(args.given, symbols)}
    if args.style == "calculus":
        if len(wrt) != 1 or args.graph or args.name or args.gates != "n-ary":
            raise SymgradError("--style calculus narrates one derivative: give one --wrt symbol "
                               "(and no --graph, --name or --gates binary, which go with --style steps)")
        c = sg.derive(f, wrt[0], style="calculus", at=opts.get("at"))
        print(c.render(FORMATS[args.format]))
        return 0
    if args.gates != "n-ary":               # a default of every view: the text and the picture
        opts["gates"] = args.gates
    d = sg.derive(f, wrt, mode=args.mode, **opts)
    print(d.render(FORMATS[args.format]))
    if args.graph:
        from ..teaching.graph_picture import save
        out = save(d.graph(), args.graph)
        print(f"wrote {out}", file=sys.stderr)
    return 0
