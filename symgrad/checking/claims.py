"""The claim and the truth as numbers: reading a claim (expressions, a dict, a callable),
evaluating it and symgrad's gradient at a point, and comparing the two.

Layout convention: a gradient has the shape of its variable; a column vector's gradient may come
as a 1-D array (`fit_shape`). Relative errors have a floor so that round-off against an exact 0 does
not count (`rel_errors`).

>>> import numpy as np
>>> fit_shape(np.array([1.0, 2.0]), (2, 1)).shape
(2, 1)
>>> float(rel_errors(np.array(1.0), np.array(1.0 + 1e-12)))  < 1e-11
True
"""
from __future__ import annotations

from functools import lru_cache
from typing import Mapping

import numpy as np
import sympy as sp

from ..core.differentiate import _flatten_wrt
from ..errors import ArgumentError, SymgradError
from ..core.evaluate import evaluate
from ..frontend.parse import as_expr
from ..core.values import key_name
from ..frontend.tensor import Tensor, is_tensor_expr

# ---------------------------------------------------------------------------------------------------
# The claim: one expression or callable per wrt, or one callable for all.


def read_f(f, params):
    """``f`` as given to `sg.check`: text goes through symgrad's parser (never evaluated), its
    names meaning the wrt symbols where they match."""
    return as_expr(f, "f", symbols=params)


def _normalize_claims(claimed, params, f=None):
    """The claims, one per wrt symbol (or a callable). A claim given as text is parsed by symgrad's
    parser, never evaluated; its names mean f's symbols and the wrt symbols (so ``"2*x"`` is
    ``2*x`` for f's ``x``, whatever its assumptions)."""
    known = {**{s.name: s for s in (_symbols(f) if f is not None else ())},
             **{w.name: w for w in params}}

    def read(c, w=None):
        what = "the claimed gradient" + (f" for {w.name}" if w is not None else "")
        if c is None:
            raise SymgradError(f"{what} is None: give an expression (a SymPy expression, text, or an array), "
                               f"or a function of the values that returns the gradient")
        if isinstance(c, (list, tuple)) and isinstance(w, sp.Symbol):
            if len(c) == 1:                     # [[fx], [fy]]: a column written as nested lists
                c = c[0]
            else:
                raise SymgradError(f"{what} is a list of {len(c)} entries, but the gradient of a scalar symbol "
                                   f"is one expression; the Hessian of {len(params)} symbols is "
                                   f"{len(params)}×{len(params)}: [[…], […]] or an sp.Matrix")
        if isinstance(c, sp.Basic) and c.has(sp.Derivative):
            d = next(iter(c.atoms(sp.Derivative)))
            raise SymgradError(f"{what} holds an unevaluated derivative, {str(d)[:120]}: SymPy's diff "
                               f"could not differentiate it (as for most matrix expressions). Claim a "
                               f"formula — your derivation — or see symgrad's with sg.grad(f, wrt)")
        try:
            return as_expr(c, what, symbols=known)
        except SymgradError as e:
            unknown = _unknown_names(c, known) if isinstance(c, str) else []
            if not unknown:
                raise
            raise SymgradError(f"{what} {c!r} uses {', '.join(map(repr, unknown))}, which f does not "
                               f"contain (f's symbols are {sorted(known)}): a misspelt name? Read as a "
                               f"new scalar, it gives: {e}") from None
    if callable(claimed) and not isinstance(claimed, sp.Basic):
        return claimed
    if isinstance(claimed, Mapping):
        byname = {key_name(k): v for k, v in claimed.items()}
        missing = [w.name for w in params if w.name not in byname]
        extra = sorted(set(byname) - {w.name for w in params})
        if missing or extra:
            raise SymgradError(f"the claimed dict must have one entry per wrt symbol: "
                               f"missing {missing}, not in wrt {extra}")
        claimed = [byname[w.name] for w in params]
    if (isinstance(claimed, sp.MatrixBase) and 1 in claimed.shape and len(claimed) == len(params) > 1
            and all(isinstance(w, sp.Symbol) for w in params)):
        claimed = list(claimed)     # ∇f of [x, y] written as a column (or row) Matrix, as on the slide
    if isinstance(claimed, (list, tuple)):
        if len(claimed) != len(params):
            raise SymgradError(f"{len(claimed)} claimed gradients for {len(params)} wrt symbols")
        return [read(c, w) for c, w in zip(claimed, params)]
    if isinstance(claimed, sp.MatrixBase) and 1 in claimed.shape and len(params) > 1 \
            and all(isinstance(w, sp.Symbol) for w in params):
        raise SymgradError(f"the claim is a {claimed.shape[0]}×{claimed.shape[1]} Matrix, but wrt has "
                           f"{len(params)} symbols ({', '.join(w.name for w in params)}): the gradient has "
                           f"one entry per wrt symbol, in wrt's order")
    if len(params) != 1:
        raise SymgradError(f"one claimed expression for {len(params)} wrt symbols; pass a list or "
                           f"a dict {{symbol: expression}}")
    return [read(claimed)]


def _unknown_names(text: str, known) -> list:
    """The names in the claim's text that are not f's symbols nor functions or constants of the
    grammar (read with Python's ast, as the parser reads it: nothing is evaluated)."""
    import ast
    from ..frontend.parse import function_names
    if len(text) > 10_000:            # the parser's own bound: such text never got this far
        return []
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    grammar = set(function_names()) | {"pi", "E", "True", "False"}
    return sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in called
                   and n.id not in known and n.id not in grammar})


def _symbols(expr) -> set:
    return {s for s in sp.sympify(expr).free_symbols if isinstance(s, (sp.Symbol, sp.MatrixSymbol, Tensor))
            and not isinstance(s, sp.Dummy)}


def _inputs(f, params, claims, at):
    """The non-wrt symbols the point needs: f's, and the claims' (which must be f's or given)."""
    fs = _symbols(f)
    names = {s.name for s in fs}
    given = {key_name(k) for k in (at or {})}
    for c in claims or ():
        for s in _symbols(c):
            if s.name not in names and s.name not in given:
                raise SymgradError(f"the claimed gradient uses {s.name!r}, which f does not contain; "
                                   f"f's symbols are {sorted(names)} (give {s.name!r} a value with at=)")
            if s.name not in names:
                fs.add(s)
    pnames = {w.name for w in params}
    return sorted((s for s in fs if s.name not in pnames), key=lambda s: s.name)


def shape_text(shape) -> str:
    """A shape as Python writes the tuple: (7,) for one axis, (3, 2), () for a scalar.

    >>> shape_text((7,)), shape_text((3, 2)), shape_text(())
    ('(7,)', '(3, 2)', '()')
    """
    return str(tuple(shape))


def _shape(sym):
    return tuple(int(d) for d in sym.shape) if isinstance(sym, (sp.MatrixSymbol, Tensor)) else ()



# ---------------------------------------------------------------------------------------------------
# Values


def _truth(D, pt) -> list:
    """symgrad's gradients at the point: per parameter, the mean over its examples."""
    outs = [g for g in D.gradient_vars if g is not None]
    wrt = _flatten_wrt(D.wrt)

    def gradients(vals):
        got = iter(evaluate(D.ir, outs, vals))
        return [np.asarray(next(got), float) if g is not None else np.zeros(_shape(w))
                for g, w in zip(D.gradient_vars, wrt)]
    return pt.mean(gradients)


def _claim_values(claims, params, pt, B) -> list:
    if not callable(claims):
        vals = pt.example(0)
        return [_eval_claim(c, vals) for c in claims]
    # copies, params and inputs alike: a backward that works in place (cs231n's relu_backward,
    # dx = dout; dx[x <= 0] = 0) must not change the point the truth and the hints are read at
    arg = {**{k: np.array(v, dtype=float) for k, v in pt.params.items()},
           **{k: np.array(v) for k, v in (pt.batched if B else pt.examples[0]).items()}}
    _takes_values(claims)
    try:
        out = claims(arg)
    except Exception as e:  # noqa: BLE001 - the user's code: its own error goes on, said where it came from
        _note_call(e, claims, arg)
        raise
    if out is None:
        nones = [w.name for w in params]
    elif isinstance(out, Mapping):
        nones = [key_name(k) for k, v in out.items() if v is None]
    elif isinstance(out, (list, tuple)):
        nones = [w.name for w, o in zip(params, out) if o is None]
    else:
        nones = []
    if out is None or nones:
        raise SymgradError(f"the claim function returned None {'' if out is None else 'as the gradient '}for "
                           f"{', '.join(nones)}: a missing return statement, or a gradient never assigned")
    if isinstance(out, Mapping):
        byname = {key_name(k): v for k, v in out.items()}
        missing = [w.name for w in params if w.name not in byname]
        if missing:
            raise SymgradError(f"the callable's result has no gradient for {missing}; it returned "
                               f"keys {sorted(byname)}")
        return [_returned_array(byname[w.name], w.name) for w in params]
    if isinstance(out, (list, tuple)) and len(params) > 1:
        return [_returned_array(o, w.name) for o, w in zip(out, params)]
    if len(params) != 1:
        arr, n = _returned_array(out, ", ".join(w.name for w in params)), len(params)
        if arr.size == n and arr.ndim <= 2 and 1 in (arr.shape + (1,))[:2] and all(isinstance(w, sp.Symbol) for w in params):
            return list(arr.reshape(-1))       # ∇f of [x, y] returned as one vector, in wrt's order
        square = (" — an n×n array is a Hessian, which sg.check reads from an sp.Matrix claim of scalar "
                  "symbols, not from a function" if arr.shape == (n, n) else "")
        raise SymgradError(f"the callable returned one array of shape {arr.shape} for {n} wrt symbols "
                           f"({', '.join(w.name for w in params)}); return a dict {{name: gradient}} or a list "
                           f"in wrt's order{square}")
    return [_returned_array(out, params[0].name)]


def _returned_array(v, name):
    """What a claim function returned for ``name``, as a float array; a `SymgradError` naming the
    variable and what came back where it is no array of numbers (a student's function returning
    its formula as text, or a SymPy expression, ended in NumPy's "could not convert string to float")."""
    try:
        return np.asarray(v, dtype=float)
    except (TypeError, ValueError) as e:
        what = type(v).__name__
        text = (" (a claim written as text or SymPy is given to sg.check itself, not returned by a function)"
                if isinstance(v, (str, sp.Basic)) else "")
        raise SymgradError(f"the claim function returned a {what} for {name}, not an array of numbers: "
                           f"{str(v)[:80]!r}{text}") from e


def _note_call(e: BaseException, fn, arg) -> None:
    """The claim function's own exception gets a note saying how the check called it, so that a
    grader's log of a student's error says what the function was given (its own traceback stays)."""
    from .size_literals import ClaimRaised
    err = e.error if isinstance(e, ClaimRaised) else e
    if isinstance(err, SymgradError) or not hasattr(err, "add_note") or getattr(err, "_symgrad_called", False):
        return
    err._symgrad_called = True
    fn = getattr(fn, "claim_source", fn)
    name = getattr(fn, "__name__", type(fn).__name__)
    shapes = ", ".join(f"{k}: {np.shape(v)}" for k, v in arg.items())
    err.add_note(f"raised by the claim function {name}, called by sg.check as {name}(values) with the arrays "
                 f"{{{shapes}}} (shapes; a SymgradError is the check's own, any other error the function's)")


def _takes_values(fn) -> None:
    """Refuse, naming how it is called, a callable claim that cannot be called as ``fn(values)``
    (``lambda x, y: ...`` or ``lambda **v: ...`` ended in a TypeError from inside the check)."""
    import inspect
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):        # a builtin without a signature: call it and see
        return
    try:
        sig.bind({})
    except TypeError as e:
        name = getattr(fn, "__name__", type(fn).__name__)
        raise ArgumentError(f"a callable claim is called with one argument, a dict of the values by "
                            f"name, as claim(values) → values['x']; {name}{sig} cannot be ({e}). "
                            f"(sg.check_backward is the other way: it calls backward(dout, **values).)") from None


def _eval_claim(expr, vals):
    """A claimed expression at a point: by lowering (as symgrad evaluates anything), or — for scalar
    expressions the IR does not take, such as Piecewise — by sympy.lambdify. Each form is built once
    per expression and reused at every point."""
    kind, fn = _claim_function(expr)
    with np.errstate(all="ignore"):
        if kind == "graph":
            graph, out = fn
            return np.asarray(evaluate(graph, [out], vals)[0], dtype=float)
        if kind == "entries":
            return np.array([[float(_eval_claim(e, vals)) for e in row] for row in fn])
        syms, f = fn
        return np.asarray(f(*[vals[s.name] for s in syms]), dtype=float)


@lru_cache(maxsize=256)
def _claim_function(expr):
    from ..errors import UnsupportedError
    from ..core.lower import lower
    try:
        graph, _, out = lower(expr)
        return "graph", (graph, out)
    except UnsupportedError:
        if isinstance(expr, sp.MatrixExpr) and not isinstance(expr, sp.MatrixBase):
            raise
    if isinstance(expr, sp.MatrixBase):
        return "entries", tuple(tuple(row) for row in expr.tolist())
    syms = sorted(_symbols(expr), key=lambda s: s.name)
    return "lambdify", (syms, sp.lambdify(syms, expr, modules="numpy"))


def fit_shape(c: np.ndarray, shape: tuple) -> np.ndarray | None:
    """The claim value in the variable's shape, if it is that shape up to a 1-D column vector or a
    1×1 matrix; None when it cannot be the gradient's shape."""
    c = np.asarray(c, dtype=float)
    if c.shape == shape:
        return c
    if c.size == 1 and int(np.prod(shape or (1,))) == 1:
        return c.reshape(shape)
    if c.ndim == 1 and len(shape) == 2 and 1 in shape and c.size == max(shape):
        return c.reshape(shape)
    return None


def rel_errors(c, t, problem: float = 0.0):
    """Entrywise |c − t| / max(|c|, |t|, floor), floor = max(1e-6·(largest |entry| of c and t), 1e-9):
    relative, with a floor so that entries that are 0 up to round-off (1e-17 against an exact 0) do
    not count. Test points are O(1), so an absolute 1e-15 is round-off. ``problem``: the largest
    |entry| of every variable's gradient at the point; the floor is at least 1e-6 of it too, for a
    gradient that is 0 but computed from the others' terms (attention's key bias: softmax does not
    see a constant added to a row, and bk's 1e-14 is the round-off of O(1) terms cancelling)."""
    c, t = np.asarray(c, float), np.asarray(t, float)
    scale = max(float(np.max(np.abs(t))) if t.size else 0.0, float(np.max(np.abs(c))) if c.size else 0.0,
                problem if np.isfinite(problem) else 0.0)
    floor = max(1e-6 * scale if np.isfinite(scale) else 0.0, 1e-9)
    with np.errstate(all="ignore"):
        r = np.abs(c - t) / np.maximum(np.maximum(np.abs(c), np.abs(t)), floor)
    return np.where(np.isnan(r), np.inf, r)


def problem_scale(truth) -> float:
    """The largest |entry| of the true gradients at a point (every variable's), for `rel_errors`."""
    sizes = [float(np.max(np.abs(np.asarray(t, float)))) for t in truth if np.size(t)]
    finite = [s for s in sizes if np.isfinite(s)]
    return max(finite, default=0.0)


def _compare(c, t, w, problem: float = 0.0):
    """(max relative error, index of the worst entry or None, claim in w's shape or as given);
    ``problem``: `problem_scale` of the point's gradients."""
    shape = _shape(w)
    cf = fit_shape(c, shape)
    if cf is None:
        return np.inf, None, np.asarray(c)
    r = rel_errors(cf, t, problem)
    if shape == ():
        return float(r), None, float(cf)
    idx = tuple(int(i) for i in np.unravel_index(int(np.argmax(r)), r.shape))
    return float(r[idx]), idx, cf


def _mp_recheck(claim, truth_expr, pt, rel):
    """Re-evaluate a scalar disagreement with mpmath at 30 digits: cancellation in float64 can make
    equal formulas differ by more than round-off (the float64 answer stands if that fails)."""
    if isinstance(claim, (sp.MatrixExpr, sp.MatrixBase)) or isinstance(truth_expr, (sp.MatrixExpr, sp.MatrixBase)) \
            or is_tensor_expr(claim) or is_tensor_expr(truth_expr):
        return rel
    vals = pt.example(0)
    try:
        c, t = _mp_value(sp.sympify(claim), vals), _mp_value(sp.sympify(truth_expr), vals)
    except Exception:  # noqa: BLE001 - a node evalf cannot do: keep the float64 answer
        return rel
    return abs(c - t) / max(abs(c), abs(t), 1e-30)


@lru_cache(maxsize=256)
def _mp_function(expr):
    """``expr`` as an mpmath function of its symbols (sorted by name), or None when lambdify
    cannot print it; built once per expression (the same claim comes back at every point)."""
    syms = tuple(sorted(_symbols(expr), key=lambda s: s.name))
    try:
        return syms, sp.lambdify(syms, expr, modules="mpmath")
    except Exception:  # noqa: BLE001 - a function mpmath's printer does not know: evalf instead
        return syms, None


def _mp_value(expr, vals) -> complex:
    """``expr`` at ``vals`` (the floats' exact binary values) with 50 working digits — through the
    lambdified mpmath function, or evalf at 30 digits when that fails."""
    import mpmath
    syms, fn = _mp_function(expr)
    if fn is not None:
        try:
            with mpmath.workdps(50):
                return complex(fn(*[mpmath.mpf(float(vals[s.name])) for s in syms]))
        except Exception:  # noqa: BLE001 - e.g. a symgrad function mpmath has no name for
            pass
    subs = {s: sp.Float(vals[s.name], 30) for s in _symbols(expr)}
    return complex(expr.evalf(30, subs=subs))


def _same_kind(c, t):
    if is_tensor_expr(c) or is_tensor_expr(t):
        return False                            # tensors: the numeric comparison decides
    return isinstance(c, (sp.MatrixExpr, sp.MatrixBase)) == isinstance(t, (sp.MatrixExpr, sp.MatrixBase))


EXPAND_LIMIT = 5000      # terms sp.expand may produce before symbolic_zero gives up (undecided)


def expanded_terms(e, limit: int = EXPAND_LIMIT) -> int:
    """An upper bound of the number of terms ``sp.expand(e)`` makes, at any level of e, capped at
    ``limit + 1``: a sum adds its terms, a product multiplies them, (a₁ + ... + a_k)ⁿ has
    C(n + k − 1, k − 1) (multinomial) terms; a claim such as (w + x + y + z)¹⁰⁰ (176,851 terms)
    would keep expand busy for minutes.

    >>> import sympy as sp
    >>> a, b = sp.symbols("a b")
    >>> expanded_terms((a + b) ** 3 * (a - b)), expanded_terms((a + b + 1) ** 100 * a) > EXPAND_LIMIT
    (8, True)
    """
    import math
    seen: dict = {}

    def terms(x) -> int:
        if x in seen:
            return seen[x]
        inner = [terms(a) for a in x.args]              # expand works inside function arguments too
        if isinstance(x, sp.Add):
            n = sum(inner)
        elif isinstance(x, sp.Mul):
            n = math.prod(inner)
        elif isinstance(x, sp.Pow) and x.exp.is_Integer and int(x.exp) > 1:
            k, p = inner[0], int(x.exp)
            n = math.comb(p + k - 1, k - 1) if k <= limit and p <= limit else limit + 1
        else:
            n = 1
        seen[x] = n = min(n, limit + 1)
        if n > limit:
            raise OverflowError
        return n
    try:
        return terms(sp.sympify(e))
    except OverflowError:
        return limit + 1


def symbolic_zero(d) -> bool | None:
    """True when simplification shows ``d`` is 0; None when it cannot tell (never a disproof).
    Large expressions are not simplified (simplify's time grows quickly with size), nor expanded
    when the expansion would be large (`expanded_terms`)."""
    if expanded_terms(d) > EXPAND_LIMIT:
        return None
    try:
        if isinstance(d, (sp.MatrixExpr, sp.MatrixBase)):
            e = sp.expand(d)
            if getattr(e, "is_ZeroMatrix", False) or e == 0:
                return True
            e = e.doit()
            return True if getattr(e, "is_ZeroMatrix", False) or e == 0 else None
        e = sp.expand(d)
        if e == 0:
            return True
        if sp.count_ops(e) > 120:
            return None
        from ..frontend.functions import sigmoid, softplus
        from .time_bound import OutOfTime, at_most
        try:
            with at_most():     # simplify has no time limit of its own (minutes on a tanh² sin / (1 + w²))
                e = sp.simplify(e.replace(sigmoid, lambda u: 1 / (1 + sp.exp(-u))).replace(
                    softplus, lambda u: sp.log(1 + sp.exp(u))))
        except OutOfTime:
            return None
        return True if e == 0 else None
    except Exception:  # noqa: BLE001 - simplification failing is "undecided", not an error
        return None
