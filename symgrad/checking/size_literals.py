"""A function claim (a backward, a backprop ``claimed(values)``) run again at a second batch size.

A tensor check fixes each symbolic size to a small number (N = 4) and decides a claim again at a
second one (`symgrad.checking.tensors.second_sizes`), so that ``/ 4`` written where ``/ N`` belongs
cannot pass. A function is called again with the arrays of the second size. Two things are new
for a function:

- it may *raise* there (``x.reshape(4, -1)`` of a (5, 3, 2) array): the claim is then wrong, not
  the check's input — `raised_at_size` marks such an exception, so that the check can tell it
  from a bad argument of its own;
- its literal is in its source, not in an expression: `literal_line` finds the line that writes
  it, reading the source as tokens (never running it), so the hint can point at it.

A function may also raise at the *first* size (``.reshape(4, 2, 3)`` when the check drew N = 5):
`size_candidates` lists the numbers its source writes — those of the line that raised first
(`raising_line`, read off the traceback) — and the check tries each as the size: a backward that
runs, and is right, at N = 4 only has a literal 4 where N belongs.

>>> def backward(dout, x):
...     return x.T @ dout / 4
>>> literal_line(backward, 4)
"backward, line 2: 'return x.T @ dout / 4'"
"""
from __future__ import annotations

import ast
import inspect
import io
import linecache
import tokenize
import types

import sympy as sp

from ..frontend import tensor as T
from ..frontend.parse import MAX_DIM, as_expr


class ClaimRaised(Exception):
    """The claim function raised when it was called at the second sizes; ``error`` is what it raised."""

    def __init__(self, error: BaseException):
        super().__init__(str(error))
        self.error = error


def raised_at_size(fn):
    """``fn`` whose exceptions come out as `ClaimRaised` (the check's own errors raised around the
    call stay what they are). ``claim_source`` keeps the function, whose source a hint reads (not
    ``__wrapped__``: `inspect.signature` would follow it to a signature the check does not call)."""
    def claim(values):
        try:
            return fn(values)
        except Exception as e:  # noqa: BLE001 - the user's code: any error is the claim failing
            raise ClaimRaised(e) from e
    claim.claim_source = fn
    return claim


def _user_function(fn):
    """The user's function behind ``fn``: check_backward's adapter and `raised_at_size` keep it as
    ``claim_source``."""
    seen = 0
    while callable(getattr(fn, "claim_source", None)) and seen < 8:
        fn, seen = fn.claim_source, seen + 1
    return fn


def _number(text: str):
    """A NUMBER token's value as a float (``4``, ``0.25``, ``1e-1``, ``0x10``); None for an imaginary
    one. `ast.literal_eval` of one number token reads a literal, it runs nothing."""
    try:
        v = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None
    return float(v) if isinstance(v, (int, float)) else None


def literal_line(fn, n: int) -> str | None:
    """Where the source of the function behind ``fn`` writes the number n or 1/n (``/ 4``,
    ``* 0.25``, ``reshape(4, -1)``): "affine_backward, line 12: '...'" (the line in its file) — or
    None when it does not, or its source cannot be read (a builtin, a function typed into a
    console). When the function's own source does not write it, the functions it calls by name
    are read the same way (`_called`): cs231n's backward is checked through a wrapper,
    ``lambda dout, x, w, b: affine_backward(dout, affine_forward(x, w, b)[1])``. Sources are read
    as tokens, never run."""
    for f in _functions_read(fn):
        found = _literal_in(f, n)
        if found:
            return found
    return None


MAX_FUNCTIONS = 8      # functions whose source `literal_line` reads: the backward and what it calls


def _functions_read(fn):
    """The function behind ``fn``, then those it calls by name (`_called`), breadth first, each
    once, at most MAX_FUNCTIONS: the sources a literal is looked for in."""
    todo, seen = [_user_function(fn)], set()
    while todo and len(seen) < MAX_FUNCTIONS:
        f = todo.pop(0)
        if id(f) in seen:
            continue
        seen.add(id(f))
        yield f
        todo.extend(_called(f))


def _literal_in(fn, n: int) -> str | None:
    for v, row, where in _numbers_in(fn):
        if v and (abs(v - n) < 1e-12 or abs(1 / v - n) < 1e-9):
            return where
    return None


def _shown(name: str) -> str:
    return "the lambda" if name == "<lambda>" else name


def _numbers_in(fn) -> list:
    """[(value, row, "name, line k: 'text'")] for the NUMBER tokens of fn's source, in order (the
    tokens read before a tokenizer error are kept: a lambda's line may end inside a call)."""
    try:
        lines, start = inspect.getsourcelines(fn)
    except (OSError, TypeError):
        return []
    name = _shown(getattr(fn, "__name__", "the function"))
    out = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO("".join(lines)).readline):
            if tok.type == tokenize.NUMBER:
                v, row = _number(tok.string), tok.start[0]
                line = start + row - 1 if start else row
                out.append((v, line, f"{name}, line {line}: {lines[row - 1].strip()!r}"))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return out


def raising_line(err: BaseException):
    """(where, numbers) of the line of the user's code that raised ``err``: the innermost frame of
    its traceback outside installed packages and symgrad — "affine_backward, line 3: 'dx = ...'" and
    the integers that line writes (``reshape(4, 2, 3)``: [4, 2, 3]); None when no such frame is
    found. The line is read from its file (linecache) and tokenized, never run."""
    tb, found = err.__traceback__, None
    while tb is not None:
        frame = tb.tb_frame
        if (frame.f_globals.get("__name__", "") or "").split(".")[0] not in _PACKAGES:
            found = (frame.f_code, tb.tb_lineno)
        tb = tb.tb_next
    if found is None:
        return None
    code, row = found
    text = linecache.getline(code.co_filename, row).strip()
    if not text:
        return None
    numbers = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text + "\n").readline):
            if tok.type == tokenize.NUMBER:
                numbers.append(_number(tok.string))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    ints = [int(v) for v in numbers if v is not None and v == int(v)]
    return f"{_shown(code.co_name)}, line {row}: {text!r}", ints


def size_candidates(fn, err: BaseException, exclude=(), limit: int = 4) -> list:
    """The whole numbers from 2 to MAX_DIM that the source of the function behind ``fn`` (and the
    functions it calls by name) writes, those of the line that raised ``err`` first; without the
    values in ``exclude`` (the size it raised at); at most ``limit``: the sizes the check tries as a
    literal batch size."""
    raised = raising_line(err)
    found = list(raised[1]) if raised else []
    for f in _functions_read(fn):
        found += [int(v) for v, _, _ in _numbers_in(f) if v is not None and v == int(v)]
    out = []
    for n in found:
        if 2 <= n <= MAX_DIM and n not in exclude and n not in out:
            out.append(n)
    return out[:limit]


def _called(fn) -> list:
    """The Python functions ``fn``'s code names (its globals and closure, by the names its code
    object lists; nothing is called): where a wrapper's literal lives. Functions of installed
    packages (NumPy's, symgrad's own) are left out."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return []
    scope = dict(getattr(fn, "__globals__", {}))
    for name, cell in zip(code.co_freevars, getattr(fn, "__closure__", None) or ()):
        try:
            scope[name] = cell.cell_contents
        except ValueError:                     # an empty cell
            continue
    out = []
    for name in code.co_names + code.co_freevars:
        g = scope.get(name)
        if isinstance(g, types.FunctionType) and not _installed(g):
            out.append(g)
    return out


_PACKAGES = ("numpy", "scipy", "sympy", "symgrad", "torch")


def _installed(fn) -> bool:
    module = getattr(fn, "__module__", "") or ""
    return module.split(".")[0] in _PACKAGES


def size_reading(f, size: str, first=()) -> str | None:
    """How a function reads the size named ``size`` off its arrays: "x.shape[0]" for the first
    tensor with that size as an axis — of ``first`` (wrt, in order), else of f by name; None when
    no tensor has it as an axis of its own."""
    others = sorted(as_expr(f).atoms(T.Tensor), key=lambda t: t.name)
    for t in [*(w for w in first if isinstance(w, T.Tensor)), *others]:
        for axis, d in enumerate(t.shape):
            d = as_expr(d)
            if isinstance(d, sp.Symbol) and d.name == size:
                return f"{t.name}.shape[{axis}]"
    return None


__all__ = ["ClaimRaised", "raised_at_size", "literal_line", "size_reading", "raising_line",
           "size_candidates"]
