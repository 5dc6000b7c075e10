"""GELU's Φ(x) = 0.5·erf(x/√2) + 0.5 in the float32 erf helper's blocks: ``v = gelu_phi(x, out=…)``.

The Φ that `codegen.numpy_shared_erf` shares between GELU's forward and backward is printed as four
passes over a (N, T, 4D) array — the scaling by 1/√2, erf (31 passes of its own, block by block of
64K entries so that its temporaries stay in the cache), ``*= 0.5`` and ``+= 0.5``:

    v = numpy.multiply(0.5 * 1.4142135623730951, x, out=scratch(ws, 'w9', (d0, 64, 512)))
    erf(v, out=v)
    v *= 0.5
    v += 0.5

(``loss``'s, ``grad``'s and ``forward``'s first line is ``v = erf((0.5)*1.4142135623730951*x)``; an
array of fewer than 4096 entries an example is one expression, ``v = (0.5)*erf((0.5)*1.4142135623730951*x)
+ 0.5``: the same operations, each into a new array.)
The three passes around erf read and write 4 MB each from memory (0.42 ms a layer of the transformer
step's 90, docs/benchmarks.md, speed2). `fuse_phi` rewrites those lines into one call of the helper
``gelu_phi``, which does the same NumPy operations in the same order on each block of erf's, while
it is in the cache: the same float32 numbers bit for bit (a product, erf and two exact-order ufuncs
entry by entry do not depend on how the array is cut). For any other dtype the helper makes the
four calls above as they were; an ``out`` that is not contiguous gets a copy of the result.

Only the exact forms above are taken: the constant is a product of number literals that Python folds
to 1/√2 before it meets the array (``0.5*x*1.414…`` would be two roundings: not taken), and ``v`` is
not read by the scaled operand.
"""
from __future__ import annotations

import ast
import math

from .lifetimes import names_in

INV_SQRT2 = 0.5 * math.sqrt(2)      # 0.7071067811865476, as the printer folds 0.5*1.4142135623730951

HELPER_LINES = [
    "def gelu_phi(x, out=None):",
    '    """Φ(x) = 0.5·erf(x/√2) + 0.5 of each entry, into out (contiguous, of x\'s shape; x itself may be',
    "    it) or a new array: the four NumPy calls ``numpy.multiply(0.7071067811865476, x)``, erf, ``*= 0.5``,",
    "    ``+= 0.5`` in that order, for a float32 array on each of erf's blocks while it is in the cache",
    '    (codegen/numpy_gelu_phi.py): the same numbers bit for bit."""',
    "    if out is not None and not out.flags.c_contiguous:      # (erf writes a contiguous out only)",
    "        numpy.copyto(out, gelu_phi(x))",
    "        return out",
    "    if x.dtype != numpy.float32:",
    f"        out = numpy.multiply({INV_SQRT2!r}, x, out=out)",
    "        erf(out, out=out)",
    "        out *= 0.5",
    "        out += 0.5",
    "        return out",
    "    flat = numpy.ascontiguousarray(x).reshape(-1)",
    "    if out is None:",
    "        out = numpy.empty(x.shape, dtype=x.dtype)",
    "    work = _erf_work(min(flat.size, _ERF_BLOCK))      # erf's three temporaries of a block",
    "    with numpy.errstate(invalid='ignore'):",
    "        for i in range(0, flat.size, _ERF_BLOCK):",
    "            block = flat[i:i + _ERF_BLOCK]",
    "            o = out.reshape(-1)[i:i + _ERF_BLOCK]",
    f"            s = numpy.multiply({INV_SQRT2!r}, block, out=o)     # x/√2, read by erf before it writes o",
    "            _erf_block(s, o, *(w[:block.size] for w in work))",
    "            o *= 0.5",
    "            o += 0.5",
    "    return out",
]


def _is_inv_sqrt2_times(e, target: str):
    """The operand ``x`` of ``e`` = (number literals folding to 1/√2) * x, x not reading ``target``;
    None else."""
    if not (isinstance(e, ast.BinOp) and isinstance(e.op, ast.Mult)):
        return None
    try:
        k = _literal_product(e.left)
    except ValueError:
        return None
    if k != INV_SQRT2 or target in names_in(e.right):
        return None
    return e.right


def _literal_product(e) -> float:
    """The value of a product of number literals, folded as Python folds it; ValueError for anything else."""
    if isinstance(e, ast.Constant) and type(e.value) in (int, float):
        return e.value
    if isinstance(e, ast.BinOp) and isinstance(e.op, ast.Mult):
        return _literal_product(e.left) * _literal_product(e.right)
    raise ValueError("not a product of literals")


def _is_half_erf_plus_half(e) -> bool:
    """``e`` is ``(0.5)*erf(…) + 0.5``."""
    half = lambda n: isinstance(n, ast.Constant) and n.value == 0.5 and type(n.value) is float  # noqa: E731
    return isinstance(e, ast.BinOp) and isinstance(e.op, ast.Add) and half(e.right) \
        and isinstance(e.left, ast.BinOp) and isinstance(e.left.op, ast.Mult) and half(e.left.left) \
        and isinstance(e.left.right, ast.Call) and ast.unparse(e.left.right.func) == "erf" \
        and len(e.left.right.args) == 1 and not e.left.right.keywords


def _phi_at(lines: list, i: int):
    """(the number of lines, the line replacing them) of a Φ starting at ``lines[i]``; None."""
    try:
        first = ast.parse(lines[i]).body
    except SyntaxError:
        return None
    if len(first) != 1 or not isinstance(first[0], ast.Assign) or len(first[0].targets) != 1 \
            or not isinstance(first[0].targets[0], ast.Name):
        return None
    v, e = first[0].targets[0].id, first[0].value
    f = ast.unparse(e.func) if isinstance(e, ast.Call) else None
    if f == "numpy.multiply" and len(e.args) == 2 and [k.arg for k in e.keywords] == ["out"]:
        x = _is_inv_sqrt2_times(ast.BinOp(e.args[0], ast.Mult(), e.args[1]), v)
        rest, out = [f"erf({v}, out={v})", f"{v} *= 0.5", f"{v} += 0.5"], f", out={ast.unparse(e.keywords[0].value)}"
        if v in names_in(e.keywords[0].value):
            return None
    elif _is_half_erf_plus_half(e):                 # one expression: NumPy's three new arrays
        x = _is_inv_sqrt2_times(e.left.right.args[0], v)
        return None if x is None else (1, f"{v} = gelu_phi({ast.unparse(x)})")
    elif f == "erf" and len(e.args) == 1 and not e.keywords:
        x = _is_inv_sqrt2_times(e.args[0], v)
        rest, out = [f"{v} *= 0.5", f"{v} += 0.5"], ""
    else:
        return None
    if x is None or [s.strip() for s in lines[i + 1:i + 1 + len(rest)]] != rest:
        return None
    return 1 + len(rest), f"{v} = gelu_phi({ast.unparse(x)}{out})"


def fuse_phi(lines: list) -> tuple:
    """(``lines`` with each Φ of the forms in the module docstring one ``gelu_phi`` call, whether any
    was); ``lines`` are a function body's statements, unindented, one a line."""
    new, i, hit = [], 0, False
    while i < len(lines):
        found = _phi_at(lines, i) if lines[i] and not lines[i].startswith((" ", "#")) else None
        if found is None:
            new.append(lines[i])
            i += 1
            continue
        n, line = found
        new.append(line)
        i += n
        hit = True
    return new, hit
