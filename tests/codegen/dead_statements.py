"""Statements of a generated NumPy function whose value nothing reads afterwards (a test helper).

`dead_statements(function_source)` walks the function's top-level statements backwards, keeping
the names a later statement reads (live): a statement that binds a name (``v4 = …``) or writes into
an array in place (``v4 += …``, ``numpy.tanh(v4, out=v4)``, ``numpy.copyto(v4, …)``,
``numpy.add.at(v4.reshape(-1), …)``) is dead when none of those names is live then (``del`` reads
nothing). The arguments (p0, s0_1, x0, …) are always live: an update writes into them."""
from __future__ import annotations

import ast
import re

_WRITERS = {"copyto", "at", "put", "put_along_axis", "place", "putmask", "fill_diagonal"}
_ARGUMENTS = re.compile(r"(p\d+|s\d+_\d+|x\d+|params|slots|batch|t|rng)")


def _base(node):
    """The name whose array ``node`` (``a``, ``a[…]``, ``a.T``, ``a.reshape(…)``) is."""
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _made(st) -> tuple:
    """(names ``st`` binds, names whose arrays it writes into), or None for another statement."""
    if isinstance(st, ast.Assign):
        bound = {n.id for t in st.targets if isinstance(t, (ast.Name, ast.Tuple, ast.List))
                 for n in ast.walk(t) if isinstance(n, ast.Name)}
        return bound, {_base(t) for t in st.targets if not isinstance(t, (ast.Name, ast.Tuple, ast.List))}
    if isinstance(st, ast.AugAssign):
        return set(), {_base(st.target)}
    if isinstance(st, ast.Expr) and isinstance(st.value, ast.Call):
        c = st.value
        written = {_base(kw.value) for kw in c.keywords if kw.arg == "out"}
        name = c.func.attr if isinstance(c.func, ast.Attribute) else getattr(c.func, "id", "")
        if name in _WRITERS and c.args:
            written.add(_base(c.args[0]))
        return (set(), written) if written else None
    return None


def dead_statements(source: str) -> list:
    """The dead top-level statements of the one function in ``source``, as code, in order."""
    (fn,) = [f for f in ast.parse(source).body if isinstance(f, ast.FunctionDef)]
    live: set = set()
    dead = []
    for st in reversed(fn.body):
        if isinstance(st, ast.Delete) or (isinstance(st, ast.Expr) and isinstance(st.value, ast.Constant)):
            continue
        made = _made(st)
        reads = {n.id for n in ast.walk(st) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        if made is None:                # return, assert, raise, if: everything they name is live
            live |= {n.id for n in ast.walk(st) if isinstance(n, ast.Name)}
            continue
        bound, written = made
        names = (bound | written) - {None}
        if not (names & live or any(_ARGUMENTS.fullmatch(n) for n in names)):
            dead.append(ast.unparse(st))
            continue
        live = (live - bound) | reads | written
    return dead[::-1]


def functions(module_source: str) -> dict:
    """name -> source of each top-level function of a generated module."""
    tree = ast.parse(module_source)
    return {f.name: ast.get_source_segment(module_source, f) for f in tree.body if isinstance(f, ast.FunctionDef)}
