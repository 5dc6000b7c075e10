"""``symgrad check``: is a hand-derived gradient right?

    symgrad check "0.5*(y - w*x)**2" --wrt w --claimed "-(y - w*x)*x"
    symgrad check "sum(HadamardPower(W*x, 2))" --matrix W:3x2 --matrix x:2x1 --wrt W --claimed "2*W*x*x.T"
    symgrad check "cross_entropy(z, t)" --matrix z:4x1 --matrix t:4x1 --wrt z --claimed "softmax(z) - t" --at t=0,1,0,0

Exit status: 0 when the claim is right (or differs only where f is not differentiable), 1 when it is
wrong, 2 on bad input (an unparsable expression, a symbol f does not have, shapes that do not fit
together inside an expression) — with a message, never a traceback. A claim that has the wrong
shape for its variable is a wrong answer (exit 1, and the hint says both shapes).

Text is parsed, never evaluated: f, ``--wrt``, ``--claimed``, ``--at`` and ``--matrix`` go through
symgrad's whitelisting parser (its grammar is in docs/checking.md), so a
course can run this on its students' answers. Every name in the expressions is a real scalar
Symbol unless declared a matrix with ``--matrix NAME:RxC`` (repeatable); symgrad's functions
(sigmoid, relu, leaky_relu, softplus, softmax, log_softmax, logsumexp, sum, mse, l1, hinge, bce,
cross_entropy, kl_div) and SymPy's (exp, log, sqrt, Abs, Max, Min, Heaviside, Piecewise,
HadamardProduct, HadamardPower, ...) can be called; ``M.T`` (or ``transpose(M)``) is the transpose,
``M[i, j]`` an entry. ``--wrt`` and ``--claimed`` may be repeated, in the same order.
``--json`` prints the result as one JSON object (``CheckResult.to_dict()``), for an autograder; bad
input then prints ``{"verdict": null, "ok": false, "error": {"type", "text"}}`` too (and exits 2).
``--at NAME=V,...`` fixes a value (a matrix's entries row by row) instead of drawing it at random.
A ``--matrix`` side may be a size's name (``X:nx3``, ``A:nxn``, or ``X:n,3``): drawn, or chosen with
``--at n=3``, and f and the claims may read it (``sum(...)/n``).
``--tensor NAME:D,...`` declares an N-d tensor with NumPy's semantics (``X.T @ D``, ``sum(D, axis=0)``,
``D.sum(0)``, ``x.reshape(N, -1)``); a size given by name (``N``) is a batch size, drawn (or chosen
with ``--at N=2``), and may be
read in the claims; ``--labels y:N`` declares integer class labels (``one_hot(y, 4)`` in a claim).
``--convention row`` reads the claims in the numerator layout (sg.check's ``convention="row"``).
"""
from __future__ import annotations

import json
import re

from ..errors import ParseError, SymgradError
from ..frontend.parse import MAX_DIM, MAX_ENTRIES, parse_expr, parse_name, parse_number
from .command import int_at_least

# MAX_ENTRIES: entries of one --matrix or --tensor (per value of a named size): its values are drawn


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
                   help="declare NAME a matrix of R rows and C columns, each a number or a size's name, "
                        "e.g. W:3x2 or X:nx3 (n: drawn; repeatable)")
    p.add_argument("--tensor", action="append", default=[], metavar="NAME:D[,D...]",
                   help="declare NAME a tensor (NumPy semantics: @, X.T, sum(X, axis=0), X.sum(0), "
                        "...) of the sizes D, each an integer or a size's name, e.g. X:N,3 (N: a "
                        "batch size, drawn unless --at N=2 chooses it; repeatable)")
    p.add_argument("--labels", action="append", default=[], metavar="NAME:D[,D...]",
                   help="declare NAME an integer tensor of class labels (drawn in range), e.g. y:N for "
                        "cross_entropy(X @ W, y) (repeatable)")
    p.add_argument("--at", action="append", default=[], metavar="NAME=V[,V...]",
                   help="fix a value instead of drawing it: a number, a matrix's entries row by "
                        "row, e.g. t=0,1,0,0, or a named size, e.g. N=2 (repeatable)")
    p.add_argument("--seed", type=int_at_least(0), default=0, help="random seed of the test points")
    p.add_argument("--targets", choices=["distribution", "one-hot", "free"], default="distribution",
                   help="how the target t of a softmax cross-entropy is drawn (default: on the simplex)")
    p.add_argument("--convention", choices=["column", "row"], default="column",
                   help="the layout the claims are written in: column (default: a gradient has its "
                        "variable's shape) or row (the numerator layout, ∂f/∂x a row and ∂f/∂W shaped "
                        "like W.T, as CMU 11-785 writes it: each matrix claim is transposed first)")
    p.add_argument("--json", action="store_true",
                   help="print the result as one JSON object (CheckResult.to_dict(): verdict, ok, "
                        "counterexample, hint {kind, text}, kink, method, layout, errors) instead of "
                        "text; the exit status is the same")
    p.set_defaults(func=run)


def _matrices(specs, sizes=None) -> dict:
    """--matrix NAME:RxC (repeatable) -> {name: MatrixSymbol}. R and C are each an integer or a size's
    name (X:nx3, A:nxn): a positive integer Symbol, shared with every --matrix and --tensor naming it
    (``sizes`` collects them, by name)."""
    import sympy as sp
    sizes = {} if sizes is None else sizes
    out = {}
    for spec in specs:
        name, colon, shape = spec.rpartition(":")
        sides = _sides(shape.replace(" ", "")) if colon else []
        if len(sides) > 1:
            raise SymgradError(f"--matrix {spec!r}: {shape!r} splits into rows and columns at more than one "
                               f"'x' ({' or '.join(f'{r} by {c}' for r, c in sides)}): write R,C instead, e.g. "
                               f"{name}:{sides[0][0]},{sides[0][1]}")
        if not sides:
            raise SymgradError(f"--matrix {spec!r}: expected NAME:RxC with R and C each a number or a size's "
                               f"name, e.g. W:3x2 or X:nx3")
        name = parse_name(name, "--matrix")
        dims = []
        for d in sides[0]:
            if d.isdigit():
                dims.append(int(d))
            else:
                dims.append(_named_size(d, "--matrix", sizes))
        known = [d for d in dims if isinstance(d, int)]
        if not all(1 <= d <= MAX_DIM for d in known) or (len(known) == 2 and known[0] * known[1] > MAX_ENTRIES):
            raise SymgradError(f"--matrix {spec!r}: the shape must be positive, each side at most "
                               f"{MAX_DIM} and at most {MAX_ENTRIES} entries")
        if name in out:
            raise SymgradError(f"--matrix {spec!r}: {name} is declared twice")
        out[name] = sp.MatrixSymbol(name, *dims)
    clash = sorted(set(sizes) & set(out))
    if clash:
        raise SymgradError(f"--matrix: {clash[0]} is both a size and a declared name")
    return out


def _sides(shape: str) -> list:
    """The ways "RxC" (or "R,C"; x, X or ×) splits into two sizes, each an integer or a name: one for
    3x2 and nxn, two for nxxn (n × xn or nx × n), none for 3 or n-1."""
    if "," in shape:
        parts = shape.split(",")
        return [tuple(parts)] if len(parts) == 2 and all(_SIZE.match(p) for p in parts) else []
    return [(shape[:i], shape[i + 1:]) for i, ch in enumerate(shape)
            if ch in "xX×" and _SIZE.match(shape[:i]) and _SIZE.match(shape[i + 1:])]


def _named_size(d: str, option: str, sizes: dict):
    """The size named ``d`` (n of X:nx3, N of X:N,3): a positive integer Symbol, one per name,
    shared by every --matrix and --tensor naming it (``sizes`` collects them)."""
    import sympy as sp
    d = parse_name(d, option)
    return sizes.setdefault(d, sp.Symbol(d, integer=True, positive=True))


_SIZE = re.compile(r"^(?:[0-9]{1,6}|[A-Za-z][A-Za-z0-9_]{0,30})$")
MAX_AXES = 8                     # axes of one --tensor


def _tensors(specs, taken, labels=(), sizes=None) -> dict:
    """--tensor NAME:D[,D...] (repeatable) -> {name: sg.tensor}; ``labels``: the --labels ones, integer
    tensors. A size named (N) is a positive integer Symbol shared by every tensor that names it."""
    from ..frontend.tensor import tensor
    out, sizes = {}, ({} if sizes is None else sizes)
    for spec, option in [(s, "--tensor") for s in specs] + [(s, "--labels") for s in labels]:
        name, colon, shape = spec.rpartition(":")
        dims = [d.strip() for d in shape.split(",")]
        if not colon or len(dims) > MAX_AXES:
            raise SymgradError(f"{option} {spec!r}: expected NAME:D[,D...] with each size an integer or "
                               f"a name, at most {MAX_AXES} of them, e.g. X:N,3")
        bad = next((d for d in dims if not _SIZE.match(d)), None)
        if bad is not None:
            raise SymgradError(f"{option} {spec!r}: the size {bad!r} is not an integer or a name (expected "
                               f"NAME:D[,D...], e.g. X:N,3)")
        name = parse_name(name, option)
        if name in out or name in taken:
            raise SymgradError(f"{option} {spec!r}: {name} is declared twice")
        shape_ = []
        for d in dims:
            if d.isdigit():
                if not 1 <= int(d) <= MAX_DIM:
                    raise SymgradError(f"{option} {spec!r}: each size must be 1 to {MAX_DIM}")
                shape_.append(int(d))
            else:
                shape_.append(_named_size(d, option, sizes))
        entries = 1
        for d in shape_:
            entries *= d if isinstance(d, int) else 1
        if entries > MAX_ENTRIES:
            raise SymgradError(f"{option} {spec!r}: {entries} entries (for each value of a named size); "
                               f"at most {MAX_ENTRIES} are drawn")
        out[name] = tensor(name, tuple(shape_), integer=option == "--labels")
    clash = sorted(set(sizes) & (set(out) | set(taken)))
    if clash:
        raise SymgradError(f"--tensor: {clash[0]} is both a size and a declared name")
    return out


def parse(text: str, symbols: dict, what: str):
    """A SymPy expression from user text, through symgrad's whitelisting parser: the declared
    matrices and f's symbols are themselves; every other name is a new real Symbol."""
    import sympy as sp
    try:
        expr = parse_expr(text, symbols=symbols, real=True, what=what)
    except ParseError as e:                 # a matrix left undeclared reads as a scalar
        tensor = re.search(r"\(sg\.tensor\); '([A-Za-z]\w*)' is not one", str(e))
        if tensor and tensor.group(1) not in symbols:
            raise type(e)(f"{e}; {tensor.group(1)} is a scalar because it is not declared: a tensor needs "
                          f"--tensor {tensor.group(1)}:D[,D...]") from None
        labels = re.search(r"declared sg\.tensor\('([A-Za-z]\w*)', \(([^)]*)\), integer=True\)", str(e))
        if labels:
            raise type(e)(f"{e}; on the command line: --labels {labels.group(1)}:"
                          f"{labels.group(2).replace(' ', '').rstrip(',')}") from None
        scalars = re.findall(r"'([A-Za-z]\w*)' \(a scalar\)", str(e))
        if not scalars or "shapes do not match" not in str(e):
            raise
        raise type(e)(f"{e}; {scalars[0]} is a scalar because it is not declared: a matrix needs "
                      f"--matrix {scalars[0]}:RxC") from None
    if not isinstance(expr, (sp.Expr, sp.MatrixExpr)):
        raise ParseError(f"{what} {text!r} is not an expression (it is {expr})")
    return expr


def _values(specs, names, sizes=None) -> dict:
    """--at NAME=V[,V...] -> {name: float or array of the symbol's shape}; a named size of a --matrix
    (n of X:nx3) takes a whole number, and then a matrix of that size its entries."""
    import numpy as np
    import sympy as sp

    from ..frontend.tensor import Tensor
    sizes = sizes or {}
    out, given = {}, {}
    for spec in specs:                  # the sizes first: a matrix's --at may come before its size's
        name, eq, text = spec.partition("=")
        if not eq or name.strip() not in sizes:
            continue
        name = parse_name(name, "--at")
        v = parse_number(text, f"--at {name}") if "," not in text else None
        if v is None or v != int(v) or not 1 <= v <= MAX_DIM:
            raise SymgradError(f"--at {spec!r}: {name} is a size, so it takes a whole number from 1 to {MAX_DIM}")
        if name in given:
            raise SymgradError(f"--at {spec!r}: {name} is given twice")
        given[name] = out[name] = int(v)
    for spec in specs:
        name, eq, text = spec.partition("=")
        name = parse_name(name, "--at") if eq else name
        if eq and name in given:
            continue
        if not eq or name not in names:
            raise SymgradError(f"--at {spec!r}: expected NAME=VALUE with NAME one of f's symbols "
                               f"{sorted(names)}" + (f" or a size {sorted(sizes)}" if sizes else ""))
        try:
            vals = [parse_number(v, f"--at {name}") for v in text.split(",")]
        except ParseError as e:
            raise type(e)(f"--at {spec!r}: values must be numbers separated by commas: {e}") from None
        if name in out:
            raise SymgradError(f"--at {spec!r}: {name} is given twice")
        sym = names[name]
        if isinstance(sym, Tensor):
            raise SymgradError(f"--at {spec!r}: {name} is a tensor, and the command line fixes only "
                               f"numbers and --matrix values (sg.check(..., at={{{name!r}: array}}) "
                               f"takes a tensor's)")
        if isinstance(sym, sp.MatrixSymbol):
            shape = [d.xreplace({sizes[k]: sp.Integer(v) for k, v in given.items()}) for d in sym.shape]
            unsized = sorted({str(x) for d in shape for x in d.free_symbols})
            if unsized:
                raise SymgradError(f"--at {spec!r}: {name} is {sym.shape[0]}x{sym.shape[1]}, and its size "
                                   f"{unsized[0]} is drawn for the check unless given: add --at "
                                   f"{unsized[0]}=<number> to fix {name}'s entries")
            r, c = (int(d) for d in shape)
            if len(vals) != r * c:
                raise SymgradError(f"--at {spec!r}: {name} is {r}x{c}, so it needs {r * c} values, "
                                   f"got {len(vals)}")
            out[name] = np.array(vals).reshape(r, c)
        elif len(vals) != 1:
            raise SymgradError(f"--at {spec!r}: {name} is a scalar, so it needs one value")
        else:
            out[name] = vals[0]
    return out


def _refuse_large(declared: dict, sizes: dict, at: dict, args) -> None:
    """Each --matrix, --tensor and --labels has at most MAX_ENTRIES entries once --at fixes its named
    sizes (a size left to the draw is small): the declaration alone counts a named size as 1, so
    ``X:N,N --at N=5000`` drew 25 million entries (31 s, 2.8 GB) where ``X:5000,5000`` was refused,
    and ``X:N,N,N --at N=10000`` ran out of memory."""
    import sympy as sp
    fixed = {sizes[k]: sp.Integer(v) for k, v in at.items() if k in sizes}
    if not fixed:
        return
    for name, sym in declared.items():
        declared_shape = [sp.sympify(d) for d in sym.shape]
        shape = [d.xreplace(fixed) for d in declared_shape]
        entries = 1
        for d in shape:
            entries *= int(d) if d.is_Integer else 1
        if entries > MAX_ENTRIES:
            option = ("--matrix" if isinstance(sym, sp.MatrixSymbol) else
                      "--labels" if any(t.split(":")[0].strip() == name for t in args.labels) else "--tensor")
            given = " ".join(f"--at {k}={at[k]}" for k in sizes if k in at and any(sizes[k] in d.free_symbols
                                                                                  for d in declared_shape))
            said = ", ".join(str(d) for d in declared_shape)
            raise SymgradError(f"{given}: {option} {name} ({said}) would have {entries} entries "
                               f"({' x '.join(str(d) for d in shape)}); at most {MAX_ENTRIES} are drawn for "
                               f"one input: choose smaller sizes")


def run(args) -> int:
    try:
        r = _result(args)
    except Exception as e:     # noqa: BLE001 - re-raised: main says it on stderr, as without --json
        if args.json:          # bad input as data too: an unparsable student claim is a record to keep
            print(json.dumps({"verdict": None, "ok": False, "error": {"type": type(e).__name__, "text": str(e)}}))
        raise                  # main prints the message on stderr, exit 2
    if args.json:              # for a program to read (an autograder); allow_nan=False: strict JSON
        print(json.dumps(r.to_dict(), allow_nan=False))
        return 0 if r else 1
    # a counterexample's arrays are shown by their shapes; Python's way to read them in full
    # (r.counterexample.point) is not the command's
    print(r.report(arrays_note=f"; the arrays are those drawn with --seed {args.seed} "
                               f"(sg.check(...).counterexample.point holds them in Python)"))
    return 0 if r else 1


def _result(args):
    """The CheckResult of the command line's check; bad input raises a SymgradError."""
    import sympy as sp

    from ..checking.verdict import check
    sizes = {}                       # the named sizes of --matrix X:nx3 and --tensor X:N,3, shared
    matrices = _matrices(args.matrix, sizes)
    matrices.update(_tensors(args.tensor, matrices, args.labels, sizes))
    # a --matrix's named size read in f (sum(...) / n) is that size, fixed with it, not a scalar drawn
    sized = {k: v for k, v in sizes.items()
             if any(isinstance(m, sp.MatrixSymbol) and v in m.shape for m in matrices.values())}
    f = parse(args.f, {**sized, **matrices}, "f")
    if isinstance(f, sp.MatrixExpr) and f.shape != (1, 1):
        raise SymgradError(f"f must be a scalar; {args.f!r} has shape {f.shape} (wrap it in sum(...))")
    from ..frontend.tensor import Tensor
    names = {s.name: s for s in f.free_symbols if isinstance(s, (sp.Symbol, sp.MatrixSymbol, Tensor))
             and s not in sized.values()}
    wrt = []
    for w in args.wrt:
        w = parse_name(w, "--wrt")
        if w not in names:
            raise SymgradError(f"unknown symbol {w!r} in --wrt: f's symbols are {sorted(names)}")
        if names[w] in wrt:
            raise SymgradError(f"--wrt {w} is given twice")
        wrt.append(names[w])
    if len(args.claimed) != len(wrt):
        raise SymgradError(f"{len(args.claimed)} --claimed for {len(wrt)} --wrt; give one each, in order")
    # the named sizes (N of X:N,3, n of X:nx3) may be read in a claim: 2 * X.T @ (X @ W - Y) / N
    claims = []
    for text in args.claimed:
        c = parse(text, {**sized, **matrices, **names}, "--claimed")
        unknown = sorted(s.name for s in c.free_symbols
                         if isinstance(s, (sp.Symbol, sp.MatrixSymbol, Tensor))
                         and s.name not in names and s.name not in sizes)
        if unknown:
            raise SymgradError(f"unknown symbol(s) {unknown} in --claimed {text!r}: f's symbols are "
                               f"{sorted(names)}")
        claims.append(c)
    # a named size is chosen with --at n=3 (of a --matrix) or --at N=2 (of a --tensor), else drawn
    at = _values(args.at, names, sizes)
    _refuse_large(matrices, sizes, at, args)
    try:
        r = check(f, wrt, claims, at=at, seed=args.seed, targets=args.targets,
                  convention=args.convention)
    except SymgradError:
        raise
    except Exception as e:  # noqa: BLE001 - the command line shows a message, never a traceback
        raise SymgradError(f"{type(e).__name__}: {e}") from None
    return _flag_named(r, {k for k in at if k in sizes})


def _flag_named(r, given=()):
    """The result with sg.check's keywords in its hint, layout and method (convention='row',
    at={'n': 3}) said as this command's flags (--convention row, --at n=3), in the text and in --json
    alike; sizes that ``given`` names (by --at) were chosen, not drawn."""
    from dataclasses import replace

    from ..checking.hint_kind import rewritten

    def said(text):
        return text.replace("convention='row'", "--convention row").replace("as dims= or at= fixed", "as --at fixed")

    def chosen(m):          # at={'n': 3, 'm': 3} -> --at n=3 --at m=3
        return " ".join(f"--at {k}={v}" for k, v in re.findall(r"'(\w+)': (\d+)", m.group(1)))
    method = re.sub(r"at=\{([^}]*)\}", chosen, r.method) if isinstance(r.method, str) else r.method
    drawn = re.search(r"the symbolic sizes drawn at ([^(]*) \(choose them with [^)]*\)", method or "")
    method = method.replace(", as at= gave them", ", as --at gave them") if method else method
    if drawn and set(re.findall(r"(\w+) = \d+", drawn.group(1))) <= set(given):
        method = method.replace(drawn.group(0), f"the symbolic sizes at {drawn.group(1)}, as --at gave them")
    return replace(r, hint=rewritten(r.hint, said), layout=said(r.layout), method=method)

