"""A batched matrix product's right operand copied row-major first, in the step's workspace.

An attention's scores S = Q·Kᵀ and the backward's dP = dO·Vᵀ read K and V, (N, T, H, Dh) in memory,
as ``v45.reshape((d0, T, H, Dh)).transpose((0, 2, 3, 1))``: (N, H, Dh, T) matrices whose rows are
columns in memory. ``numpy.matmul`` hands each of its N·H small products to BLAS as "B transposed",
and OpenBLAS multiplies those (64 × 32 by 32 × 64, float32, one thread) at half the speed of row-major
ones: 0.71 ms for the (32, 4) batch against 0.35 once the operand is a contiguous (N, H, Dh, T) array,
and the copy costs 0.11 (bench/row_major_operand.py). So ``step`` writes

    v55_b = scratch(ws, 'w6', (d0, 4, 32, 64))
    v55_b[...] = v45.reshape((d0, 64, 4, 32)).transpose((0, 2, 3, 1))
    v55 = numpy.matmul(v51.reshape(…).transpose((0, 2, 1, 3)), v55_b, out=scratch(ws, 'w5', …))
    del v55_b

The copy changes no value; BLAS may sum an entry in another order for the other layout: in the
transformer's step (64 × 32 heads) and the tested attention the numbers are the same bit for bit, for
32 × 32 heads they moved by 2.6e-7 of the largest (float32 rounding). Taken for a product with a batch
(three axes or more) whose right operand is ``x.transpose(P)`` or ``x.reshape(S).transpose(P)`` of an
array x laid out in order (a product of the step written into a workspace buffer as it is), P putting
x's last axis second to last (the operand's matrices column-major), the matrices at most `LARGEST`
square (larger ones lost: the transposing copy costs more than it saves). Plain two-dimensional
products (``G @ W.T``) are left alone: BLAS takes a transposed 128 × 128 weight at full speed.
"""
from __future__ import annotations

import ast

# the largest rows and columns of the operand's matrices copied: up to 64 × 64 the copy paid in every
# shape timed (copy + product / product 0.76-0.99); (8, 8, 128, 64) heads took 1.43 times as long,
# their transposing copy alone 1.2 ms (bench/row_major_operand.py, 2026-12-01)
LARGEST = 64


def column_major_operand(e, shapes: dict, in_order: set) -> tuple[str, str] | None:
    """For the product ``e`` (``a @ b`` or ``numpy.matmul(a, b)``, an ast): (b's code, b's shape as code)
    when b is a column-major view of an array in ``in_order`` (module docstring); None else."""
    if isinstance(e, ast.BinOp) and isinstance(e.op, ast.MatMult):
        b = e.right
    elif isinstance(e, ast.Call) and ast.unparse(e.func) == "numpy.matmul" and len(e.args) == 2 and not e.keywords:
        b = e.args[1]
    else:
        return None
    if not (isinstance(b, ast.Call) and isinstance(b.func, ast.Attribute) and b.func.attr == "transpose"
            and len(b.args) == 1 and not b.keywords and isinstance(b.args[0], ast.Tuple)):
        return None
    try:
        perm = [int(ast.literal_eval(d)) for d in b.args[0].elts]
    except ValueError:
        return None
    inner = b.func.value
    if isinstance(inner, ast.Name):
        name, shape = inner.id, shapes.get(inner.id)
    elif isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute) and inner.func.attr == "reshape" \
            and isinstance(inner.func.value, ast.Name) and len(inner.args) == 1 and not inner.keywords:
        name, shape = inner.func.value.id, ast.unparse(inner.args[0])
    else:
        return None
    if name not in in_order or shape is None:
        return None
    node = ast.parse(shape, mode="eval").body
    dims = [ast.unparse(d) for d in (node.elts if isinstance(node, ast.Tuple) else [node])]
    if len(perm) < 3 or sorted(perm) != list(range(len(dims))) or perm[-2] != len(dims) - 1:
        return None
    laid = [dims[i] for i in perm]
    if not all(d.isdigit() and int(d) <= LARGEST for d in laid[-2:]):
        return None
    return ast.unparse(b), "(" + ", ".join(laid) + ")"


def with_row_major_operand(x: str, code: list, operand: str, buf: str) -> list:
    """The lines ``code`` of the product binding ``x``, its right operand ``operand`` (code) copied
    first into ``buf`` (``scratch(ws, …)``, code) as ``x_b``, deleted after the product."""
    b = f"{x}_b"
    first = code[0].replace(f", {operand}, out=", f", {b}, out=", 1)
    assert first != code[0], (code[0], operand)
    return [f"{b} = {buf}",
            f"{b}[...] = {operand}  # its matrices row-major: BLAS multiplies them faster",
            first, *code[1:], f"del {b}"]
