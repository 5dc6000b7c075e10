"""``symgrad derive``: print the derivation of a gradient, step by step.

    symgrad derive "sin(x**2)" --wrt x --style calculus
    symgrad derive "(x + y)*z" --at x=-2,y=5,z=-4 --name q="x + y" --graph xyz.svg
    symgrad derive model.py --format latex

A model file is a Python file that defines ``loss`` (a SymPy expression) and ``params`` (the symbols
to differentiate by); it may define ``inputs``, ``names`` (intermediate names, {symbol: subexpression}),
``given`` and ``at`` (a point: {symbol or name: value}).
"""
from __future__ import annotations

import runpy
import sys
from pathlib import Path

import sympy as sp

from ..errors import SymgradError

FORMATS = {"text": "text", "unicode": "unicode", "latex": "latex-document", "md": "markdown",
           "markdown": "markdown"}


def register(subparsers):
    p = subparsers.add_parser("derive", help="print the steps of a derivation",
                              description=__doc__.splitlines()[0])
    p.add_argument("target", metavar="EXPR|MODEL.py", help="a SymPy expression, or a model file")
    p.add_argument("--wrt", help="comma-separated symbols (default: all, or the model's params)")
    p.add_argument("--style", choices=["steps", "calculus"], default="steps")
    p.add_argument("--mode", choices=["reverse", "forward"], default="reverse")
    p.add_argument("--at", action="append", default=[], metavar="x=1,y=2", help="the point for the numbers")
    p.add_argument("--name", action="append", default=[], metavar='q="x + y"',
                   help="name an intermediate: NAME=SUBEXPRESSION (repeatable)")
    p.add_argument("--format", choices=sorted(FORMATS), default="unicode")
    p.add_argument("--graph", metavar="OUT.svg", help="write the computational graph (.svg, .png, .pdf, .dot)")
    p.set_defaults(func=run)


def _namespace() -> dict:
    import symgrad as sg
    ns = {n: getattr(sg, n) for n in ("sigmoid", "relu", "leaky_relu", "softplus", "softmax",
                                      "log_softmax", "logsumexp")}
    return ns


def _parse(text: str, ns: dict, what: str):
    from sympy.parsing.sympy_parser import parse_expr
    try:
        return parse_expr(text, local_dict=dict(ns))
    except Exception as e:       # TokenError, SyntaxError, NameError, ... from the parser
        raise SymgradError(f"cannot read {what} {text!r}: {type(e).__name__}: {e}") from None


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
    by_name = {str(s): s for s in symbols}
    at = {}
    for item in items:
        for pair in filter(None, item.split(",")):
            if "=" not in pair:
                raise SymgradError(f"--at takes NAME=VALUE pairs, got {pair!r}")
            k, v = (t.strip() for t in pair.split("=", 1))
            if k not in by_name:
                raise SymgradError(f"--at: {k!r} is not a symbol of the expression "
                                   f"(symbols: {', '.join(sorted(by_name))})")
            try:
                at[by_name[k]] = float(sp.sympify(v))
            except (TypeError, ValueError, sp.SympifyError):
                raise SymgradError(f"--at: the value of {k} must be a number, got {v!r}") from None
    return at


def run(args) -> int:
    import symgrad as sg
    ns = _namespace()
    target = args.target
    opts: dict = {}
    if target.endswith(".py"):
        path = Path(target)
        if not path.is_file():
            raise SymgradError(f"model file {target} not found")
        m = _model(path)
        f, wrt = m["loss"], list(m["params"])
        for k in ("names", "given", "at"):
            if m.get(k) is not None:
                opts[k] = m[k]
    else:
        f = _parse(target, ns, "the expression")
        if not isinstance(f, sp.Basic) or not f.free_symbols:
            raise SymgradError(f"the expression {target!r} has no symbols to differentiate by")
        wrt = sorted(f.free_symbols, key=str)
    symbols = {str(s): s for s in sp.sympify(f).free_symbols}
    if args.wrt:
        wrt = []
        for w in filter(None, (t.strip() for t in args.wrt.split(","))):
            if w not in symbols:
                raise SymgradError(f"--wrt: {w!r} is not a symbol of the expression "
                                   f"(symbols: {', '.join(sorted(symbols))})")
            wrt.append(symbols[w])
    if args.at:
        opts["at"] = _point(args.at, symbols.values())
    names = dict(opts.get("names") or {})
    local = {**ns, **symbols}
    for item in args.name:
        if "=" not in item:
            raise SymgradError(f"--name takes NAME=SUBEXPRESSION, got {item!r}")
        k, v = item.split("=", 1)
        names[sp.Symbol(k.strip())] = _parse(v, local, "the subexpression")
    if names:
        opts["names"] = names
    if args.style == "calculus":
        if len(wrt) != 1 or args.graph or args.name:
            raise SymgradError("--style calculus narrates one derivative: give one --wrt symbol "
                               "(and no --graph or --name)")
        c = sg.derive(f, wrt[0], style="calculus", at=opts.get("at"))
        print(c.render(FORMATS[args.format]))
        return 0
    d = sg.derive(f, wrt, mode=args.mode, **opts)
    print(d.render(FORMATS[args.format]))
    if args.graph:
        from ..teaching.graph_picture import save
        out = save(d.graph(), args.graph)
        print(f"wrote {out}", file=sys.stderr)
    return 0
