"""The training step's large temporaries come from a pool of dead buffers, not from the allocator.

A step of a whole-batch network makes dozens of (N, D) and (D, D) arrays and frees each after its
last use (`codegen.lifetimes`). Arrays that large are mapped by the C allocator page by page and
unmapped when freed, so every fresh one is page-faulted in on first touch — on a virtual machine
that costs about as much as the arithmetic that fills it (`bench/tensor_step.py --profile`: a fresh
256 × 512 float32 product took 4× the time of the same product into a warm buffer, and a ``del``
of a few such arrays 0.7 ms). This pass rewrites the step's statements (after `codegen.lifetimes`
has placed the ``del``s):

    v8 = x0 @ p0                 →  v8 = numpy.matmul(x0, p0, out=take((d0, 512), numpy.result_type(x0, p0)))
    v150 = v146*v8               →  v150 = numpy.multiply(v146, v8, out=take((d0, 512), ...))
    v150_ge0 = v150 >= 0         →  v150_ge0 = numpy.greater_equal(v150, 0, out=take((d0, 512), numpy.bool_))
    v152 += v168*v190            →  _t = numpy.multiply(v168, v190, out=take(...)); v152 += _t; give(_t); del _t
    del v8, v146                 →  give(v8); del v8, v146

``take(shape, dtype)`` pops a dead buffer of that shape and dtype from the module's POOL (or makes
one); ``give(a)`` puts ``a`` back — only when nothing else can read it: ``a`` owns its memory (not
a view), no view of it is alive and no other name or container holds it (its reference count is a
lone local's), it is C-contiguous and writable. So a name bound to the same array (``v151 =
numpy.maximum(v150, 0, out=v150)``), a view kept for later, a parameter or an input is never given.
Only operands that are names, ``.T`` of names and numbers are rewritten (they are evaluated twice:
for the result's dtype and for the product). The pool lives as long as the module, so the buffers
stay resident between steps: at most the step's peak of such temporaries; a call with another batch
size empties it first. ``loss``, ``grad`` and ``forward`` are left alone (grad returns its arrays).
"""
from __future__ import annotations

import ast
import re

POOL_HELPER = [
    "import sys",
    "",
    "# The training step's large temporaries are taken from POOL, buffers of dead temporaries kept",
    "# from one step to the next (codegen/numpy_buffer_pool.py): fresh large arrays are page-faulted in",
    "# on first touch, which costs about as much as the arithmetic that fills them.",
    "POOL = {}",
    "",
    "",
    "def take(shape, dtype):",
    '    """A buffer of ``shape`` and ``dtype`` (its contents undefined): a dead one from POOL, or new."""',
    "    free = POOL.get((shape, numpy.dtype(dtype)))",
    "    return free.pop() if free else numpy.empty(shape, dtype=dtype)",
    "",
    "",
    "def give(a):",
    '    """Put ``a`` back into POOL when nothing else can read it: it owns its memory, no view of it is',
    "    alive and no other name holds it (a lone local's reference count, _ALONE).\"\"\"",
    "    if (type(a) is numpy.ndarray and a.base is None and sys.getrefcount(a) <= _ALONE",
    "            and a.flags.c_contiguous and a.flags.writeable):",
    "        POOL.setdefault((a.shape, a.dtype), []).append(a)",
    "",
    "",
    "def _alone(a):",
    "    return sys.getrefcount(a)",
    "",
    "",
    "def _count_alone():",
    "    a = numpy.empty(0)",
    "    return _alone(a)",
    "",
    "",
    "_ALONE = _count_alone()   # the count of an array held by one local, seen from inside give",
    "",
    "",
    "def pool_batch(n):",
    '    """Empty POOL when the batch size changes (its buffers are shaped by the last one)."""',
    "    if POOL.get('batch') != n:",
    "        POOL.clear()",
    "        POOL['batch'] = n",
]

_UFUNCS = {ast.Mult: "multiply", ast.Add: "add", ast.Sub: "subtract", ast.Div: "true_divide"}
_COMPARE = {ast.GtE: "greater_equal", ast.Gt: "greater", ast.LtE: "less_equal", ast.Lt: "less"}


def _simple(node) -> bool:
    """A name, ``name.T`` or a number: cheap and side-effect free to evaluate twice."""
    if isinstance(node, ast.Name):
        return True
    if isinstance(node, ast.Attribute) and node.attr == "T":
        return isinstance(node.value, ast.Name)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return isinstance(node.operand, ast.Constant)
    return isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
        and not isinstance(node.value, bool)


def _rewrite(line: str, shapes: dict) -> str | None:
    """The pooled form of one assignment ``name = a ∘ b``, or None when it is not one to pool."""
    try:
        tree = ast.parse(line)
    except SyntaxError:
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Assign):
        return None
    st = tree.body[0]
    if len(st.targets) != 1 or not isinstance(st.targets[0], ast.Name) or st.targets[0].id not in shapes:
        return None
    name, v = st.targets[0].id, st.value
    return _rewrite_value(name, v, shapes[name])


def _accumulate(line: str, shapes: dict) -> list | None:
    """``a += b*c`` (a pooled ``a``): the product into a pooled temporary, given back at once."""
    try:
        tree = ast.parse(line)
    except SyntaxError:
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.AugAssign):
        return None
    st = tree.body[0]
    if not (isinstance(st.target, ast.Name) and st.target.id in shapes and type(st.op) in (ast.Add, ast.Sub)):
        return None
    v, shape = st.value, shapes[st.target.id]
    if not (isinstance(v, ast.BinOp) and isinstance(v.op, ast.Mult)
            and any(isinstance(u, ast.Name) and shapes.get(u.id) == shape for u in (v.left, v.right))):
        return None                 # the product of the target's shape (not a smaller one broadcast into it)
    product = _rewrite_value("_t", v, shape)
    if product is None:
        return None
    return [product, f"{st.target.id} {'+' if isinstance(st.op, ast.Add) else '-'}= _t", "give(_t)", "del _t"]


def _rewrite_value(name: str, v, shape: str) -> str | None:
    if isinstance(v, ast.BinOp) and (isinstance(v.op, ast.MatMult) or type(v.op) in _UFUNCS) \
            and _simple(v.left) and _simple(v.right):
        a, b = ast.unparse(v.left), ast.unparse(v.right)
        fn = "matmul" if isinstance(v.op, ast.MatMult) else _UFUNCS[type(v.op)]
        if fn == "matmul" and not (isinstance(v.left, (ast.Name, ast.Attribute))
                                   and isinstance(v.right, (ast.Name, ast.Attribute))):
            return None
        return f"{name} = numpy.{fn}({a}, {b}, out=take({shape}, numpy.result_type({a}, {b})))"
    if isinstance(v, ast.Compare) and len(v.ops) == 1 and type(v.ops[0]) in _COMPARE \
            and _simple(v.left) and _simple(v.comparators[0]):
        a, b = ast.unparse(v.left), ast.unparse(v.comparators[0])
        return f"{name} = numpy.{_COMPARE[type(v.ops[0])]}({a}, {b}, out=take({shape}, numpy.bool_))"
    return None


_DEL = re.compile(r"del ([\w, ]+)")


def pool_buffers(lines: list, shapes: dict) -> list:
    """The step's ``lines`` with its large temporaries (``shapes``: name → the shape's code, e.g.
    ``(d0, 512)``, for every name whose array is large enough to be worth pooling) taken from and
    given back to the pool (see the module)."""
    out = []
    for line in lines:
        m = _DEL.fullmatch(line)
        if m:
            names = [n.strip() for n in m.group(1).split(",")]
            out += [f"give({n})" for n in names if n in shapes]
            out.append(line)
            continue
        acc = _accumulate(line, shapes)
        if acc:
            out += acc
            continue
        out.append(_rewrite(line, shapes) or line)
    return out


def large(shape, dims: dict, least: int = 16384) -> bool:
    """Worth pooling: an array of at least ``least`` entries (64 KiB of float32), counting each
    symbolic size (the batch) as 1 — its fixed sizes alone say so — or with a symbolic size and at
    least 128 entries per example."""
    fixed, symbolic = 1, False
    for d in shape:
        if getattr(d, "free_symbols", None):
            symbolic = True
        else:
            fixed *= int(d)
    return fixed >= least or (symbolic and fixed >= 128)
