"""An elementwise expression worked out in one array by in-place ufuncs, instead of NumPy's one new
temporary per operation.

``into(e, buf, arrays, printer)`` gives the lines that leave ``e`` in the array ``buf``: the first
operand is worked out into ``buf`` (recursively), the others applied in place (``buf *= …``,
``buf += …``), functions as ufuncs with ``out=buf``. The optimizer's update uses it with the
gradient's buffer as scratch (`codegen.numpy_backend`); the whole-batch schedule for a statement of
several passes, in the buffer of an operand that dies there or in a new array (`fresh_chain`),
whichever leaves the fewest temporaries (`cheapest`), as GELU's backward

    v760 = v757*(0.5*1.4142135623730951*v690*numpy.exp(-0.5*v690**2)/1.772453850905516 + 0.5*v691 + 0.5)

which NumPy evaluates with eight (N, T, 4D) temporaries, each written once and read once, and which
becomes

    v760 = numpy.empty((d0, 64, 512), dtype=DTYPE)
    numpy.square(v690, out=v760)
    v760 *= -0.5
    numpy.exp(v760, out=v760)
    ...

the same passes in one buffer that stays in the cache (a quarter less time for that statement,
float32, 1M entries). The order of the operations may differ from NumPy's left to right: the
values agree to rounding.
"""
from __future__ import annotations

import re

import numpy
import sympy as sp

from .printers.numpy_printer import NumpyPrinter


def num(x) -> str:
    return repr(float(x)) if x.is_Number else str(x)


def scratch_ok(e: sp.Expr, buf: sp.Symbol) -> bool:
    """Whether ``e`` can be worked out in ``buf``'s own buffer: ``e`` does not read ``buf``, or reads
    it in one term of a sum or one factor of a product only, itself such an expression, down to
    ``buf`` itself (worked out first: `into` starts from the operand that reads ``buf``)."""
    if buf not in e.free_symbols or e == buf:
        return True
    if e.is_Add or e.is_Mul:    # Nesterov's lr·g + lr·μ·b; the softmax's backward c·m⊙S⊙(ḡ + r)
        reading = [a for a in e.args if buf in a.free_symbols]
        return len(reading) == 1 and scratch_ok(reading[0], buf)
    return False


def pull_common_factors(e: sp.Expr, arrays: set) -> sp.Expr:
    """``e`` with every sum whose terms all have an array ``a`` among their factors written as ``a``
    times the sum of the rest, ``a⊙u + a⊙w → a⊙(u + w)``: the softmax's backward
    c·m⊙(S⊙ḡ + S⊙r) becomes c·m⊙S⊙(ḡ + r), one product fewer, and ḡ is then read in one place
    only, so the whole of it can be worked out in ḡ's buffer (`scratch_ok`) when ḡ dies there:
    ``ḡ += r; ḡ *= S; ...`` instead of a new array, two products and a temporary. The values agree
    to rounding (one product less is one rounding less)."""
    if e.is_Add:
        terms = [pull_common_factors(t, arrays) for t in e.args]
        common = set.intersection(*(set(sp.Mul.make_args(t)) for t in terms)) & arrays
        if common:
            a = sp.Mul(*sorted(common, key=str))
            return sp.Mul(a, sp.Add(*[t / a for t in terms]), evaluate=False)
        return sp.Add(*terms)
    if e.is_Mul:
        return sp.Mul(*[pull_common_factors(f, arrays) for f in e.args])
    return e


# f(x) into a buffer: numpy's ufuncs with out=
_UFUNCS = {sp.exp: "numpy.exp", sp.log: "numpy.log", sp.sign: "numpy.sign", sp.Abs: "numpy.abs",
           sp.tanh: "numpy.tanh"}
_POWERS = {sp.Rational(1, 2): "numpy.sqrt", 2: "numpy.square", -1: "numpy.reciprocal"}


def into(e: sp.Expr, buf: sp.Symbol, arrays: set, printer: NumpyPrinter, spent: list | None = None,
         bind: set | None = None):
    """Lines that leave the elementwise expression ``e`` in the array ``buf``: its first operand is
    worked out into ``buf`` (recursively; the one of most passes, so that its temporaries are the
    ones saved, and never a piecewise function: numpy.where has no out=), the others are applied in place (``buf *= …``,
    ``buf += …``), functions as ufuncs with ``out=buf``. None where ``e`` has another form. ``buf``
    may be read only as described in `scratch_ok`; other arrays are read, never written. ``spent``,
    when given, gets the `passes` of each operand printed as an expression of its own (NumPy's
    temporaries that the lines still make: `cheapest` compares buffers by them). ``bind``, when
    given, says that ``buf`` is not made yet: the operand worked out first may then be a function
    NumPy has no ``out=`` for (erf, sigmoid: the module's helpers, which return a new array) of one
    of the arrays in ``bind`` (those of the result's full shape), and its line makes ``buf``:
    ``buf = erf(0.7071067811865476*v102)`` (`fresh_chain` then allocates nothing itself)."""
    pr = printer.doprint

    def printed(x):
        if spent is not None:
            spent.append(passes(x, arrays))
        return pr(x)

    def scalar(x):
        return not (x.free_symbols & arrays)

    if e == buf:
        return []
    if e.is_Symbol:
        return [f"numpy.copyto({buf}, {e})"]
    if e.is_Mul or e.is_Add:
        mul = e.is_Mul
        c = (sp.Mul if mul else sp.Add)(*[a for a in e.args if scalar(a)])
        ops = [a for a in e.args if not scalar(a)]
        if not ops:
            return None
        # the operand worked out into buf first: the one that reads buf, else one that is not a
        # plain array
        first = next((a for a in ops if buf in a.free_symbols), None) or \
            max((a for a in ops if not a.is_Symbol and not isinstance(a, sp.Piecewise)),
                key=lambda a: passes(a, arrays), default=ops[0])
        rest = list(ops)
        rest.remove(first)
        k = next((i for i, a in enumerate(rest) if isinstance(a, sp.Piecewise)
                  and all(v.is_number for v, _ in a.args)), None)
        if mul and c.is_number and c != 1 and k is not None:
            # c·[m] as numpy.where(m, c, 0): the number costs no pass of its own
            rest[k], c = sp.piecewise_fold(c * rest[k]), sp.S.One
        if mul and first.is_Pow and first.exp == -1 and first != buf:     # 1/x: x, then inverted
            lines = into(first.base, buf, arrays, printer, spent, bind)
            lines = None if lines is None else lines + [f"numpy.reciprocal({buf}, out={buf})"]
        elif mul and first.is_Symbol and first != buf and rest and not (rest[0].is_Pow and rest[0].exp == -1):
            # x·y into buf in one pass (a copy of x, then *= y, would be two)
            lines = [f"numpy.multiply({first}, {printed(rest.pop(0))}, out={buf})"]
        elif not mul and first.is_Symbol and first != buf and rest:
            # x + y (x − y) into buf in one pass (a copy of x, then += y, would be two)
            r = rest.pop(0)
            lines = [f"numpy.subtract({first}, {printed(-r)}, out={buf})" if r.could_extract_minus_sign()
                     else f"numpy.add({first}, {printed(r)}, out={buf})"]
        elif mul and first.is_Symbol and first != buf and c.is_Number and c != 1:
            lines, c = [f"numpy.multiply({first}, {num(c)}, out={buf})"], sp.S.One
        else:
            lines = into(first, buf, arrays, printer, spent, bind)
        if lines is None:
            return None
        for a in rest:
            if mul and a.is_Pow and a.exp == -1:
                lines.append(f"{buf} /= {printed(a.base)}")
            elif mul:
                lines.append(f"{buf} *= {printed(a)}")
            elif a.could_extract_minus_sign():
                lines.append(f"{buf} -= {printed(-a)}")
            else:
                lines.append(f"{buf} += {printed(a)}")
        if mul and c.is_Pow and c.exp == -1:
            lines.append(f"{buf} /= {_python_float(pr(c.base))}")
        elif mul and c != 1:
            lines.append(f"{buf} *= {num(c) if c.is_Number else _python_float(pr(c))}")
        elif not mul and c != 0:
            lines.append(f"{buf} += {num(c) if c.is_Number else _python_float(pr(c))}")
        return lines
    if e.is_Pow and e.exp in _POWERS:
        if e.base.is_Symbol:
            return [f"{_POWERS[e.exp]}({e.base}, out={buf})"]
        inner = into(e.base, buf, arrays, printer, spent, bind)
        return None if inner is None else inner + [f"{_POWERS[e.exp]}({buf}, out={buf})"]
    if isinstance(e, sp.Function) and e.func in _UFUNCS and len(e.args) == 1:
        (a,) = e.args
        if a.is_Symbol:
            return [f"{_UFUNCS[e.func]}({a}, out={buf})"]
        inner = into(a, buf, arrays, printer, spent, bind)
        return None if inner is None else inner + [f"{_UFUNCS[e.func]}({buf}, out={buf})"]
    if bind and isinstance(e, sp.Function) and e.free_symbols & bind:
        code = pr(e)
        if not _makes_new_array(code):
            return None
        if spent is not None:
            spent.append(passes(e, arrays) - 1)     # (its argument's temporaries; its result is buf)
        return [f"{buf} = {code}"]
    return None


def _python_float(code: str) -> str:
    """A number worked out by NumPy's functions (Adam's ``1/numpy.sqrt(1 - 0.999**t)``) as a Python
    float: NumPy's float64 scalar would make ``g *= c`` over a float32 array run float64 loops and
    cast back (16 µs against 3.5 over 32 K entries, a third of an Adam pass's time), where a Python
    float is taken in the array's dtype, as ``0.001/(1 - 0.9**t)`` already is."""
    return f"float({code})" if "numpy." in code else code


def _makes_new_array(code: str) -> bool:
    """Whether ``code`` is a call that returns a new array, never one of its operands: a NumPy
    ufunc (no ``out=``) or a helper of the module (``NumpyPrinter.HELPERS``). Not an elementary form
    printed as an expression, which might be an operand itself (a view of it, once worked in
    place, would write into that operand)."""
    m = re.match(r"([A-Za-z_][\w.]*)\(", code)
    if m is None or not code.endswith(")"):
        return False
    depth = 0
    for k, ch in enumerate(code[m.end() - 1:], m.end() - 1):     # one call: its "(" closes at the end
        depth += (ch == "(") - (ch == ")")
        if depth == 0 and k != len(code) - 1:
            return False
    name = m.group(1)
    if name.startswith("numpy."):
        return isinstance(getattr(numpy, name[len("numpy."):], None), numpy.ufunc)
    return name in NumpyPrinter.HELPERS


def passes(e: sp.Expr, arrays: set) -> int:
    """The number of NumPy operations on arrays that printing ``e`` as one expression makes (each
    a new temporary): an operation counts when an array is among its operands."""
    if not (e.free_symbols & arrays) or e.is_Symbol:
        return 0
    if isinstance(e, sp.Piecewise):
        return 1                                    # one numpy.where
    if e.is_Add or e.is_Mul:
        ops = [a for a in e.args if a.free_symbols & arrays]
        return len(e.args) - 1 + sum(passes(a, arrays) for a in ops)
    return 1 + sum(passes(a, arrays) for a in e.args)


# A statement of this many passes or more is worked out in one new array (`fresh_chain`); with
# fewer, NumPy's one or two temporaries cost what the chain's own calls cost.
MIN_PASSES = 4

# The whole-batch schedule chains only statements of this many entries per example or more (a
# transformer's (N, T, 4D) GELU, its (N, H, T, T) attention): with a batch they outgrow the cache,
# where each temporary is a trip to memory. A (N, 64) layer's temporaries stay in the cache, and
# there the chain's extra statements cost more than they save (bench/port_step.py: lstm, bag).
CHAIN_MIN_ENTRIES = 4096

# what the chain does not take: masks and relations (booleans), pieces (numpy.where of its own)
REFUSED = (sp.Heaviside, sp.KroneckerDelta, sp.Piecewise, sp.core.relational.Relational,
           sp.logic.boolalg.BooleanFunction)


def unmasked(e: sp.Expr) -> sp.Expr:
    """``e`` with each piecewise function a placeholder: its conditions are relations, but the
    function is one numpy.where of floats, which the chain applies as it is."""
    return e.replace(lambda x: isinstance(x, sp.Piecewise), lambda x: sp.Dummy())


def fresh_chain(name: str, e: sp.Expr, shape: str, arrays: set, printer: NumpyPrinter, full: set = frozenset(),
                spent: list | None = None) -> list | None:
    """Lines that make ``name`` a new array of the program's DTYPE and ``shape`` (code) holding
    ``e``, worked out in it by in-place ufuncs (`into`); None when ``e`` takes fewer than
    `MIN_PASSES` operations, holds a mask or relation (outside a piecewise function's conditions),
    or has a form `into` does not take (a piecewise function is applied, never worked out in it).
    ``e`` must broadcast to ``shape`` (the statement's full shape). ``full``: the arrays of that
    shape; a function of one of them that NumPy has no ``out=`` for, worked out first, makes the
    array itself (GELU's Φ = 0.5·erf(x/√2) + 0.5: ``t = erf(0.7071067811865476*x); t *= 0.5;
    t += 0.5``, not NumPy's three new arrays after erf's)."""
    if not (e.is_Add or e.is_Mul) or passes(e, arrays) < MIN_PASSES:
        return None
    if unmasked(e).atoms(*REFUSED):
        return None         # (a piecewise factor is one numpy.where of floats: applied as it is)
    buf = sp.Symbol(name)
    if buf in e.free_symbols:
        return None
    lines = into(e, buf, arrays, printer, spent, set(full))
    if lines is None:
        return None
    if lines and lines[0].startswith(f"{name} = "):
        return lines
    return [f"{name} = numpy.empty({shape}, dtype=DTYPE)"] + lines


def read_through_another_name(e: sp.Expr, buf: sp.Symbol) -> bool:
    """Whether ``e`` reads ``buf``'s array through another symbol too (a view printed as
    ``v7.reshape((d0, 64, 512))`` or ``v7.T``): worked out in ``buf``'s buffer, the chain would
    overwrite what that view reads before it is read. `scratch_ok` sees only ``buf`` itself."""
    word = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(str(buf))}(?![A-Za-z0-9_])")
    return any(s != buf and word.search(str(s)) for s in e.free_symbols)


def cheapest(e: sp.Expr, bufs: list, arrays: set, printer: NumpyPrinter, fresh: tuple | None = None,
             full: set = frozenset()):
    """(the buffer, its lines) of working ``e`` out in one of ``bufs`` (each allowed by `scratch_ok`)
    or, with ``fresh`` = (a name, the code of its shape), in a new array (the buffer None then; ``full``
    as `fresh_chain` takes it): the one that leaves NumPy the fewest temporaries (`into`'s ``spent``;
    the new array counts as one), a buffer before the new array and the earlier buffer on a tie;
    None when none takes ``e``.
    The softmax's backward c·m⊙S⊙(ḡ + r) in ḡ's buffer is ``ḡ += r; ḡ *= S; ...``, none; in S's it
    would be ``S *= ḡ + r; ...``, one; GELU's backward ḡ⊙(Φ + x·φ(x)) in Φ's buffer would print
    x·φ(x) as NumPy's five temporaries: it goes to a new array."""
    best = None
    for buf in bufs:
        spent: list = []
        lines = into(e, buf, arrays, printer, spent)
        if lines is not None and (best is None or sum(spent) < best[0]):
            best = (sum(spent), buf, lines)
    if fresh is not None:
        spent = []
        name, shape = fresh
        lines = fresh_chain(name, e, shape, arrays, printer, full, spent)
        if lines is not None and (best is None or 1 + sum(spent) < best[0]):
            best = (1 + sum(spent), None, lines)
    return None if best is None else best[1:]
