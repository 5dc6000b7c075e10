"""GELU's Φ(x) = 0.5·erf(x/√2) + 0.5 in one helper call: ``v = gelu_phi(x, out=…)``.

The Φ that `codegen.numpy_shared_erf` shares between GELU's forward and backward is printed as four
passes over a (N, T, 4D) array — the scaling by 1/√2, erf (31 passes of its own, block by block of
64K entries so that its temporaries stay in the cache), ``*= 0.5`` and ``+= 0.5``:

    v = numpy.multiply(0.5 * 1.4142135623730951, x, out=scratch(ws, 'w9', (d0, 64, 512)))
    erf(v, out=v)
    v *= 0.5
    v += 0.5

(``loss``'s, ``grad``'s and ``forward``'s first line is ``v = erf(0.5*1.4142135623730951*x)``; an
array of fewer than 4096 entries an example is one expression, ``v = 0.5*erf(0.5*1.4142135623730951*x)
+ 0.5``; until 2026-12-01 the printer wrote ``(0.5)*``, the same statement to ``ast``.) `fuse_phi`
rewrites those lines into one call of the helper ``gelu_phi``.

For a float32 array the helper does not go through erf (2026-11-30, tenth session; until then it
made the four calls above on each of erf's blocks, 34 passes a block). Φ is the logistic function of
h(x) = log Φ(x) − log Φ(−x), an odd function that is nearly a polynomial, so

    Φ(x) = 1/(1 + exp2(x·R(min(x², 36))))       R: degree 6 in x², fitted to −log₂(e)·h(x)/x on (0, 6]

— square, clip, Horner's 12 passes, the product by x, exp2, + 1, the quotient: 18 passes a block of
64K entries, none over the whole array, where erf alone takes 31 (2.3 against 3.5 ms over (32, 64,
512), bench/gelu_phi.py). The coefficients were fitted for symgrad (bench/fit_gelu_phi_float32.py,
weighted by Φ(1 − Φ)·x, the error of Φ that an error of R makes). Its error is absolute, as that of
0.5·erf + 0.5 is: within 2.5·2⁻²⁴ of the true Φ (2⁻²⁴ is the spacing of float32 numbers in [1/2, 1)),
where the four calls were within 1.1·2⁻²⁴ — the rounding of 1 + e and of the quotient make most of
it; in the left tail, x ≤ −5, it is below 8e-9 (0.5·erf + 0.5 gives 0 or 3e-8 for Φ(−5.5) = 1.9e-8).
Past |x| = 6 the clipped x² makes h linear in x: Φ still goes to 0 and 1, within 1e-9 of the true Φ
(it is 1 from x ≈ 6 and 0 below x ≈ −40). Φ(±0) is 0.5, Φ(−∞) 0, Φ(∞) 1, NaN gives NaN, without
a floating-point warning (exp2 overflows to ∞ for x far below 0, and 1/∞ is the 0 wanted). Float64
arrays, and any other dtype, make the four calls above as they were: SciPy's erf, exact. An ``out``
that is not contiguous gets a copy of the result.

Only the exact forms above are taken: the constant is a product of number literals that Python folds
to 1/√2 before it meets the array (``0.5*x*1.414…`` would be two roundings: not taken), and ``v`` is
not read by the scaled operand.
"""
from __future__ import annotations

import ast
import math

from .lifetimes import names_in

INV_SQRT2 = 0.5 * math.sqrt(2)      # 0.7071067811865476, as the printer folds 0.5*1.4142135623730951
CLIP = 36.0                         # x² is clipped here (|x| = 6): R is fitted on (0, 6]

# R (highest power first), float32 numbers written out exactly; bench/fit_gelu_phi_float32.py
PHI_R = (-5.0672444018573515e-09, 3.816315654603386e-07, -1.1439837180660106e-05, 0.00015957995492499322,
         9.404919546796009e-05, -0.10483512282371521, -2.3022093772888184)


def helper_lines(coefficients=PHI_R) -> list:
    """The helper's source with R's ``coefficients`` (highest power first); it uses the float32 erf
    helper's block size and scratch (`codegen.numpy_erf_float32`), printed with it."""
    return [
        "# GELU's Φ of a float32 array: 1/(1 + exp2(x·R(min(x², 36)))), R fitted by symgrad",
        "# (codegen/numpy_gelu_phi.py, bench/fit_gelu_phi_float32.py): within 2.5·2**-24 of the true Φ",
        f"_PHI_R = {tuple(coefficients)!r}",
        "",
        "",
        "def gelu_phi(x, out=None):",
        '    """Φ(x) = 0.5·erf(x/√2) + 0.5 of each entry, into out (contiguous, of x\'s shape; x itself may be',
        "    it) or a new array. float32: 1/(1 + exp2(x·R(min(x², 36)))) on each block of _ERF_BLOCK entries",
        "    while it is in the cache, within 2.5·2**-24 of the true Φ; other dtypes: the four NumPy calls",
        '    ``numpy.multiply(0.7071067811865476, x)``, erf, ``*= 0.5``, ``+= 0.5`` (codegen/numpy_gelu_phi.py)."""',
        "    if out is not None and not out.flags.c_contiguous:      # (the blocks write a contiguous out only)",
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
        "    s, q = _erf_work(min(flat.size, _ERF_BLOCK))[:2]      # two of erf's temporaries of a block",
        "    with numpy.errstate(over='ignore'):               # (exp2 of x far below 0: ∞, and Φ 0)",
        "        for i in range(0, flat.size, _ERF_BLOCK):",
        "            block = flat[i:i + _ERF_BLOCK]",
        "            n = block.size",
        "            _phi_block(block, out.reshape(-1)[i:i + _ERF_BLOCK], s[:n], q[:n])",
        "    return out",
        "",
        "",
        "def _phi_block(x, out, s, q):",
        '    """Φ of the float32 entries x into out (x itself may be it: x is read before out is written);',
        '    s, q scratch arrays of x\'s size."""',
        "    numpy.square(x, out=s)",
        f"    numpy.minimum(s, {CLIP!r}, out=s)                  # NaN stays NaN",
        "    numpy.multiply(s, _PHI_R[0], out=q)",
        "    for c in _PHI_R[1:-1]:",
        "        q += c",
        "        q *= s",
        "    q += _PHI_R[-1]",
        "    q *= x                                      # −log2(e)·h(x), h(x) = log Φ(x) − log Φ(−x)",
        "    numpy.exp2(q, out=q)                        # e^(−h) = (1 − Φ)/Φ",
        "    q += 1",
        "    numpy.divide(1, q, out=out)",
    ]


# the helper's source, printed into the generated module after erf's (`codegen.numpy_whole_batch`)
HELPER_LINES = helper_lines()


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
    """``e`` is ``0.5*erf(…) + 0.5``."""
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
