"""Check a hand-derived gradient: a verdict, a counterexample, and the kind of slip.

``sg.check(f, wrt, claimed)`` compares a claim about ∂f/∂wrt with symgrad's own reverse-mode
derivative. The claim may be

- a SymPy expression (scalar or matrix) — one ``wrt`` symbol;
- a list (in the order of ``wrt``) or a dict ``{symbol or name: expression}``;
- a Python callable, a hand-written backprop function, checked numerically. It is called as
  ``claimed(values)`` with ``values`` a dict of NumPy arrays keyed by symbol **name**: the ``wrt``
  parameters at their declared shape, every other symbol (the inputs) with a leading batch axis of
  ``batch`` examples (per-example shape (n, 1) or (n,) is passed as (B, n); a scalar as (B,)).
  It returns the gradient of the **mean** of f over the batch (as `Program.grad` does): an array
  when there is one ``wrt``, else a dict keyed by name (or symbol), or a list in ``wrt`` order.
  With ``batch=None`` it is called on one example, inputs at their declared shapes.

Layout convention: a gradient has the shape of its variable (∂f/∂W of a 3×2 W is 3×2); a column
vector's gradient may be given as a 1-D array.

How it is decided (`CheckResult.method`): a symbolic proof is attempted (simplify(claim − derived)
== 0), and a numeric comparison is always made too — simplification can answer "don't know", and
SymPy's own matrix derivatives can silently be 0. The numeric test evaluates the claim and symgrad's
gradient in float64 at random points inside f's domain and away from its kinks (`symgrad.checking.sampling`),
with every kink argument seen on both sides (`symgrad.checking.sides`: a claim wrong on one side of
relu(w·x + b) cannot hide), re-evaluates borderline scalar cases with mpmath, and cross-checks
symgrad's gradient against central differences of f. Kinks are then probed on purpose: a claim that
differs only there (and agrees just beside them) is "equal except at points where f is not
differentiable" (truthy), and the subgradient convention is named.

>>> import sympy as sp, symgrad as sg
>>> w, x, y = sp.symbols('w x y')
>>> bool(sg.check((y - w*x)**2 / 2, w, -(y - w*x)*x))
True
>>> r = sg.check((y - w*x)**2 / 2, w, (y - w*x)*x)
>>> r.verdict, r.hint.split(':')[0]
('not equal', 'flipped sign')
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Mapping

import numpy as np
import sympy as sp

from . import jacobian_claims, layer_outputs, sampling, sides, size_literals
from .arguments import check_arguments
from .matrix_sizes import fix_matrix_sizes
from .conditioned_draw import conditioned_words
from .tensors import concretize, declared_shapes, fixed_sizes, is_tensor_check, second_sizes, sizes_said, has_literal
from .claims import (_claim_values, _compare, _eval_claim, _inputs, _mp_recheck, _normalize_claims, problem_scale,
                     shape_text, _same_kind, _shape, _symbols, _truth, fit_shape, read_f, symbolic_zero)
from ..core.differentiate import _flatten_wrt, differentiate
from ..core.values import key_name as _key_name
from ..errors import ArgumentError, SymgradError
from ..frontend.keywords import keywords
from ..frontend.stop_gradient import without_stop_gradient
from ..core.policy import DEFAULT, Subgradients
from .hint_kind import Hint
from .sampling import _given, _Point
from ..teaching.display import md, short

EQUAL = "equal"
NOT_EQUAL = "not equal"
EQUAL_EXCEPT_KINKS = "equal except at points where f is not differentiable"
LAYOUT = "a gradient has the shape of its variable (∂f/∂W has W's shape)"
ONE_SIZE = "claim right at one size only"     # the kind of the sizes' hint: a literal where a size belongs
RTOL = 1e-6            # float64 evaluations of equal formulas agree to ~1e-12; 1e-6 leaves room
AGAIN_MARGIN = 1e-6    # distance from every kink of a point at the second sizes (`_at_other_sizes`)
ARRAYS_IN_FULL = "; the arrays in full: r.counterexample.point (in Python)"   # `symgrad check` passes its own
MAX_LITERAL_TRIES = 6  # sizes tried for a function that raised at the first ones (`_raised_at_first_size`)


@dataclass
class Counterexample:
    """Where the claim fails: the point, the parameter, the claimed and true value, the relative
    error, and for a matrix the index of the worst entry."""
    point: dict
    param: str
    claimed: Any
    true: Any
    rel_error: float
    index: tuple | None = None
    why: str | None = None           # why the claim is not finite there: "sqrt(x) is nan (...)"
    transposed: bool = False         # the claim was read in the row convention: ``claimed`` is its transpose
    what: str | None = None          # "Hessian" or "Jacobian": index is an entry of that matrix, not of ∂f/∂param
    entries: tuple | None = None     # ... and the names of wrt's entries, ("x₀", "x₁") or ("x", "y")

    def __repr__(self):
        return f"<Counterexample {short(self, 160)}>"

    def to_dict(self) -> dict:
        """Plain data: {variable, index, claimed, true, entry, relative_error, point, why}
        (`CheckResult.to_dict` says the encoding)."""
        from .report_dict import counterexample
        return counterexample(self)

    def __str__(self):
        return self.text()

    def text(self, arrays_note: str = ARRAYS_IN_FULL) -> str:
        """str(), with ``arrays_note`` after a point whose arrays are shown by their shape only
        (where to read them in full: the command line says its --seed, Python the attribute)."""
        if any(np.size(v) > 6 for v in self.point.values()):
            return self._text() + arrays_note
        return self._text()

    def _text(self):
        where = ", ".join(f"{k} = {_fmt(v)}" for k, v in self.point.items())
        cs, ts = np.shape(self.claimed), np.shape(self.true)
        if not np.isfinite(self.rel_error) and fit_shape(self.claimed, ts) is None:
            # both shapes in words: "is a scalar where W's shape (3, 2) is needed"
            claimed = "is a scalar" if cs == () else f"has shape {shape_text(cs)}"
            if self.transposed and len(cs) == 2:       # the user wrote its transpose
                claimed += f" (the transpose of the {shape_text(cs[::-1])} given, as the row convention reads it)"
            needed = (f"a scalar (like {self.param})" if ts == ()
                      else f"{self.param}'s shape {shape_text(ts)}")
            return f"at {where}: the claimed ∂f/∂{self.param} {claimed} where {needed} is needed"
        if self.why:                 # the claim leaves its real domain where f does not
            return (f"at {where}: the claimed ∂f/∂{self.param} is not finite, {self.why}, where the "
                    f"gradient is {_fmt(self.true)}")
        if self.what:                # an entry of a Hessian or a Jacobian (`symgrad.checking.jacobian_claims`)
            (i, j), x = self.index, self.param
            sub, e = jacobian_claims.sub, self.entries or tuple(f"{x}{jacobian_claims.sub(k)}" for k in range(j + 1))
            entry = f"∂²f/∂{e[i]}∂{e[j]}" if self.what == "Hessian" else f"∂f{sub(i)}/∂{e[j]}"
            return (f"at {where}: the worst entry [{i}, {j}] of the {self.what}, {entry}, is "
                    f"{_fmt(self.claimed[i, j])} claimed vs {_fmt(self.true[i, j])} true "
                    f"(relative error {self.rel_error:.2g})")
        if self.index is None:
            return (f"at {where}: ∂f/∂{self.param} is {_fmt(self.claimed)} claimed vs "
                    f"{_fmt(self.true)} true (relative error {self.rel_error:.2g})")
        i = ", ".join(map(str, self.index))
        c, t = np.asarray(self.claimed), np.asarray(self.true)
        ce = c[self.index] if c.shape == t.shape else "?"
        return (f"at {where}: the worst entry {self.param}[{i}] of ∂f/∂{self.param} is {_fmt(ce)} "
                f"claimed vs {_fmt(t[self.index])} true (relative error {self.rel_error:.2g})")


@dataclass
class CheckResult:
    """The outcome of `check`; truthy exactly when the claim is right (``verdict`` is "equal", or
    "equal except at points where f is not differentiable")."""
    verdict: str
    method: str
    counterexample: Counterexample | None = None
    hint: str | None = None
    layout: str = LAYOUT
    kink: str | None = None                  # what happens at the kinks, when the claim differs there
    errors: dict = field(default_factory=dict)   # param name -> max relative error over the points

    def __bool__(self):
        return self.verdict != NOT_EQUAL

    def to_dict(self) -> dict:
        """The result as plain data (JSON's types only), for a program to read: ``verdict`` (one of
        "equal", "not equal", "equal except at points where f is not differentiable"), ``ok``
        (bool(self)), ``wrong`` (the names of the variables whose claim is wrong, in wrt order; the
        counterexample shows the one that differs most; None when none is singled out), ``counterexample`` ({variable, index,
        claimed, true, entry, relative_error, point, why} or None), ``hint`` ({kind, text}, {text} or
        None), ``kink``, ``method``, ``layout`` and ``errors`` (each variable's largest relative
        error over the points compared). Arrays are {"shape", "values"}; a number that is not finite is
        "inf", "-inf" or "nan" (`symgrad.checking.report_dict` says the encoding).

        >>> import json, sympy as sp, symgrad as sg
        >>> w, x, y = sp.symbols('w x y')
        >>> d = sg.check((y - w * x) ** 2 / 2, w, (y - w * x) * x).to_dict()
        >>> d["verdict"], d["hint"]["kind"], json.loads(json.dumps(d)) == d
        ('not equal', 'flipped sign', True)
        """
        from .report_dict import check_result
        return check_result(self, RTOL)

    def report(self, arrays_note: str = ARRAYS_IN_FULL) -> str:
        """The same as str(), one part per line (the command line prints this, with its own
        ``arrays_note``: what follows a counterexample whose arrays are shown by their shapes)."""
        return "\n".join(self._parts(arrays_note))

    def __str__(self):
        return " ".join(self._parts())

    def __repr__(self):
        """One line: the verdict, and for a wrong claim where it differs most and the hint's first
        words (``print(result)`` gives everything, ``report()`` one part a line).

        >>> import sympy as sp, symgrad as sg
        >>> w, x, y = sp.symbols('w x y')
        >>> sg.check((y - w * x) ** 2 / 2, w, -(y - w * x) * x)
        <CheckResult: equal (symbolic: proved equal)>
        """
        if self.verdict == NOT_EQUAL:
            c = self.counterexample
            where = ((f": the {c.what} differs" if getattr(c, "what", None) else f": ∂f/∂{c.param} differs") + (f", most at [{', '.join(map(str, c.index))}]" if c.index else "")
                     + f" (relative error {c.rel_error:.2g})") if c is not None else ""
            hint = f"; hint: {short(self.hint, 70)}" if self.hint else ""
            return f"<CheckResult: {self.verdict}{where}{hint}>"
        how = short(self.method.split(";")[0], 40)
        return f"<CheckResult: {short(self.verdict, 60)} ({how})>"

    def _repr_markdown_(self):
        """The verdict in bold with a mark, then each part of the report as an item (Jupyter)."""
        mark = "✓" if self else "✗"
        lines = [f"**{mark} {md(self.verdict)}.**", ""]
        if self.counterexample is not None:
            lines.append(f"- **Counterexample** {md(self.counterexample)}.")
        if self.kink:
            lines.append(f"- {md(self.kink)}")
        if self.hint:
            lines.append(f"- **Hint:** {md(self.hint)}")
        lines.append(f"- Method: {md(self.method)}.")
        lines.append(f"- Layout: {md(self.layout)}.")
        return "\n".join(lines)

    def _parts(self, arrays_note: str = ARRAYS_IN_FULL) -> list:
        parts = [f"{self.verdict}."]
        if self.counterexample is not None:
            parts.append(f"Counterexample {self.counterexample.text(arrays_note)}.")
        if self.kink:
            parts.append(self.kink)
        if self.hint:
            parts.append(f"Hint: {self.hint}" + ("" if str(self.hint).rstrip().endswith((".", "?", "!")) else "."))
        parts.append(f"Method: {self.method}.")
        parts.append(f"Layout: {self.layout}.")
        return parts


# ---------------------------------------------------------------------------------------------------


def _column_claim(claimed, wrt, convention):
    """A claim in the row convention (gradients of matrices as their transposes) in symgrad's."""
    if convention == "column":
        return claimed
    if convention != "row":
        raise ArgumentError(f"convention must be 'column' or 'row', got {convention!r}")
    if callable(claimed) and not isinstance(claimed, sp.Basic):
        raise ArgumentError("convention='row' takes a SymPy claim, not a function: transpose its result")
    many = isinstance(wrt, (list, tuple))
    ws, cs = (list(wrt), list(claimed)) if many and isinstance(claimed, (list, tuple)) else ([wrt], [claimed])
    out = [c.T if isinstance(w, sp.MatrixSymbol) and isinstance(c, sp.MatrixExpr) else c for w, c in zip(ws, cs)]
    return type(claimed)(out) if many and isinstance(claimed, (list, tuple)) else out[0]


@keywords()
def check(f, wrt, claimed, *, at: Mapping | None = None, assumptions: Mapping | None = None,
          batch: int | None = 7, points: int = 3, seed: int = 0,
          policy: Subgradients = DEFAULT, targets: str = "distribution",
          convention: str = "column") -> CheckResult:
    """Is ``claimed`` the gradient of the scalar ``f`` with respect to ``wrt``?

    ``at`` fixes values of some symbols (keyed by symbol or name; the rest are drawn at random);
    ``assumptions`` gives sampling intervals ``{symbol or name: (lo, hi) | "positive" | "unit"}``;
    ``batch`` is the batch size a callable claim is called with (None: one example);
    ``targets`` is how the target t of a softmax cross-entropy is drawn: "distribution" (the
    default: on the simplex, entries > 0 summing to 1), "one-hot", or "free" (any real entries,
    like every other input). Every kink of f is tested on both sides before a claim is equal
    (`symgrad.checking.sides`). ``convention="row"``: the claim is written as 11-785 writes it, a
    gradient as a row (∂L/∂x is 1×n, ∂L/∂W = y·∂L/∂z shaped like Wᵀ); it is transposed first.

    A tensor claim over a symbolic size (N) is decided at two values of each size the check picks
    (`symgrad.checking.tensors.second_sizes`): a claim with a literal ``5`` where ``N`` belongs,
    equal at the first N = 5 only, is "not equal" with a hint that names it.

    >>> import sympy as sp, symgrad as sg
    >>> W, x = sp.MatrixSymbol('W', 3, 2), sp.MatrixSymbol('x', 2, 1)
    >>> f = sg.sum(sp.HadamardPower(W * x, 2))              # ‖Wx‖²
    >>> bool(sg.check(f, W, 2 * W * x * x.T))
    True
    >>> sg.check(f, W, 2 * x * x.T * W.T).hint.split(':')[0]
    'transpose'
    """
    try:
        return _check_all(f, wrt, claimed, at=at, assumptions=assumptions, batch=batch, points=points,
                          seed=seed, policy=policy, targets=targets, convention=convention)
    except OverflowError as e:
        # Python's float ** raises where NumPy's gives inf: ((x+1)**100+1)**100 at x = 0.5. A point
        # where f or its gradient overflows is skipped when points are drawn (sampling.usable); this
        # is one that a claim, or a hint's search, met
        raise SymgradError(f"f, its gradient or a claim overflows float64 at the points drawn "
                           f"(OverflowError: {e}: a value over 1.8e308): give sampling intervals where "
                           f"they stay finite with assumptions={{symbol: (lo, hi)}}, or values with at="
                           ) from None


def _check_all(f, wrt, claimed, *, at, assumptions, batch, points, seed, policy, targets, convention):
    """`check`, an OverflowError left to it to say."""
    drawn = {}
    given_sizes = {_key_name(k) for k in (at or {})} if isinstance(at, Mapping) else set()
    if not (isinstance(f, sp.Basic) and is_tensor_check(f)):   # Y of size n×n: drawn at n = 4
        f, wrt, claimed, at, drawn = fix_matrix_sizes(f, wrt, claimed, at)
    one = jacobian_claims.one_claim(f, wrt, claimed)
    second = jacobian_claims.reading(*one) if convention == "column" and one else None
    if second:                                  # a Hessian (n×n for x n×1) or a Jacobian (f a column)
        parts = jacobian_claims.check_matrix_claim(second, *one, at=at, assumptions=assumptions,
                                                   points=points, seed=seed)
        ce = parts["counterexample"]
        result = CheckResult(EQUAL if parts["right"] else NOT_EQUAL, parts["method"],
                             counterexample=ce and Counterexample(**ce), hint=parts["hint"],
                             layout=parts["layout"], errors=parts["errors"])
    else:
        result = _check_sized(f, wrt, claimed, at=at, assumptions=assumptions, batch=batch, points=points,
                              seed=seed, policy=policy, targets=targets, convention=convention)
    if drawn:
        result = replace(result, method=result.method + "; " + _sizes_words(drawn, given_sizes))
    return result


def _sizes_words(fixed: Mapping, given: set) -> str:
    """The symbolic sizes as the method says them: those the user gave in at= as given, the others
    as drawn, with how to choose them (a size given is never "drawn")."""
    needed = getattr(fixed, "needed", {})
    mine = {k: n for k, n in fixed.items() if k in given}
    picked = {k: n for k, n in fixed.items() if k not in given and k not in needed}
    parts = []
    if mine:
        parts.append("the symbolic sizes at " + ", ".join(f"{k} = {n}" for k, n in mine.items())
                     + ", as at= gave them")
    if picked:
        choose = ", ".join(f"{k!r}: 3" for k in picked)
        parts.append("the symbolic sizes drawn at "
                     + ", ".join(f"{k} = {n}" for k, n in picked.items()) + f" (choose them with at={{{choose}}})")
    parts += [f"the symbolic size {k} = {fixed[k]}, as {w} needs it" for k, w in needed.items()]
    return "; ".join(parts)


def _check_sized(f, wrt, claimed, *, at, assumptions, batch, points, seed, policy, targets,
                 convention) -> CheckResult:
    function = callable(claimed) and not isinstance(claimed, sp.Basic)
    movable = function and isinstance(f, sp.Basic) and is_tensor_check(f)
    raised = None
    try:
        first = _check_once(f, wrt, size_literals.raised_at_size(claimed) if movable else claimed,
                            at=at, assumptions=assumptions, batch=batch, points=points, seed=seed,
                            policy=policy, targets=targets, convention=convention)
    except size_literals.ClaimRaised as e:      # the function raised at the first sizes
        raised = e.error
    if raised is None and isinstance(f, sp.Basic) and is_tensor_check(f):
        said = sizes_said(f, wrt, at or {})      # which N the arrays of the report have
        first = replace(first, method=first.method + f"; {said}") if said else first
    if raised is not None:                      # outside the except: no ClaimRaised in its context
        return _raised_at_first_size(raised, f, wrt, claimed, at=at, assumptions=assumptions,
                                     seed=seed, policy=policy, targets=targets, convention=convention)
    return _at_other_sizes(first, f, wrt, claimed, at=at, assumptions=assumptions, points=points,
                           seed=seed, policy=policy, targets=targets, convention=convention)


def _at_other_sizes(first: CheckResult, f, wrt, claimed, *, at, **options) -> CheckResult:
    """``first`` (a tensor check at the sizes `concretize` picked) decided again at other values of
    the sizes it picked (`second_sizes`), when it found the claim equal: a claim with a literal
    where a size belongs (``/ 5`` for ``/ N``) holds at one N only. A function claim (a backward)
    is called again with the arrays of those sizes; raising there makes it wrong
    (`symgrad.checking.size_literals`). One more evaluation set, at ``points=1``."""
    function = callable(claimed) and not isinstance(claimed, sp.Basic)
    if (not first or not isinstance(f, sp.Basic) or not is_tensor_check(f)
            or (_has_callable(claimed) and not function)):
        return first
    at = dict(at or {})
    before = fixed_sizes(f, concretize(f, wrt, None, at)[0])
    other = second_sizes(f, wrt, at, before)
    if not other:
        return first
    options.update(points=1, again=True)
    was = ", ".join(f"{k} = {before[k]}" for k in other)
    now = ", ".join(f"{k} = {n}" for k, n in other.items())
    try:
        second = _check_once(f, wrt, size_literals.raised_at_size(claimed) if function else claimed,
                             at={**at, **other}, **options)
    except size_literals.ClaimRaised as e:
        if getattr(e.error, "forward", None) is not None:   # a torch Function's forward: its own error
            forward_at_second_size(e.error, f, wrt, before, other)
        err = e.error.__cause__ if e.error.__cause__ is not None else e.error   # check_backward's wrapping
        raised = f"{type(err).__name__}: {short(str(err), 160)}"
        second = CheckResult(NOT_EQUAL, first.method + f"; called again at {now}, where it raised {raised}",
                             hint=Hint(f"the function raised {type(err).__name__}", short(str(err), 160)),
                             layout=first.layout)
    if second:
        return replace(first, method=first.method + f"; decided again at {now}")
    if len(other) == 1:
        (name,) = other
        n = before[name]
        if function:
            line = size_literals.literal_line(claimed, n)
            reading = size_literals.size_reading(f, name, wrt if isinstance(wrt, (list, tuple)) else [wrt])
            said = "; ".join(p for p in (line, reading and f"read it off an array, {reading}") if p)
            why = (f"a literal {n} where the size {name} belongs" if line else
                   f"a number written where the size {name} belongs") + (f" ({said})?" if said else "?")
        else:
            why = (f"a literal {n} where the size {name} belongs (write {name}, or an array's .shape)?"
                   if has_literal(f, wrt, claimed, n) else f"a number written where the size {name} belongs?")
    else:
        why = f"a literal number where one of the sizes {', '.join(other)} belongs?"
    hint = f"the claim holds at {was} only, not at {now}: {why}"
    if second.hint:
        hint += f" ({second.hint})"
    hint = Hint.sentence(ONE_SIZE, hint)
    return replace(second, hint=hint, method=second.method + f" (the sizes {now}; equal at {was})")


def forward_at_second_size(error, f, wrt, before: Mapping, other: Mapping, first: str = ""):
    """A torch Function's forward that computes out at the sizes ``before`` and not at ``other``
    (`FunctionForwardError` there, or the forward raised): raised again as the forward's error,
    saying at which size it is wrong, where it was right, and the forward's line that writes the
    right size (``x.reshape(4, -1)`` where N belongs) — a wrong forward is not a wrong backward."""
    was = ", ".join(f"{k} = {before[k]}" for k in other)
    now = ", ".join(f"{k} = {n}" for k, n in other.items())
    why = ""
    if len(other) == 1:
        (name,) = other
        n = before[name]
        line = size_literals.literal_line(error.forward, n)
        reading = size_literals.size_reading(f, name, wrt if isinstance(wrt, (list, tuple)) else [wrt])
        said = "; ".join(p for p in (line, reading and f"read it off an array, {reading}") if p)
        why = ((f": a literal {n} where the size {name} belongs" if line else
                f": a number written where the size {name} belongs") + (f" ({said})?" if said else "?"))
    who = getattr(error.forward, "__qualname__", "the forward")
    raised = type(error)(f"{who} computes out at {was} and not at {now}{first}{why} At {now}: {error}")
    raised.forward = error.forward
    raise raised from error


def _forward_at_first_size(error, f, wrt, claimed, at, before, free, options):
    """A torch Function's forward wrong at the sizes the check picked first: is a number its source
    writes the size? Each (`size_literals.size_candidates`) is tried as the size; where the forward
    computes out, its error is raised again saying so (`forward_at_second_size`)."""
    tries = 0
    for name in free:
        n0 = before[name]
        for n in size_literals.size_candidates(error.forward, Exception(), exclude={n0}):
            if tries >= MAX_LITERAL_TRIES:
                return
            tries += 1
            try:
                _check_once(f, wrt, size_literals.raised_at_size(claimed),
                            at={**at, **before, name: n}, points=1, again=True, **options)
            except (size_literals.ClaimRaised, SymgradError):
                continue
            forward_at_second_size(error, f, wrt, {name: n}, {name: n0}, first=" (the check's first size)")


def _raised_at_first_size(error, f, wrt, claimed, *, at, **options) -> CheckResult:
    """A function claim (a backward) raised at the sizes the check picked first: is a number its
    source writes the size? Each (`size_literals.size_candidates`: the numbers of the line that
    raised first) is tried as the size. Where the function runs, the claim is "not equal" with
    the literal's line in the hint (and, when it is wrong there too, that check's counterexample
    and hint). Else — or when the user fixed the size (``dims=``, ``at=``), which stays as given —
    the error is raised again: a `BackwardError` with a sentence on the literal added."""
    err = error.__cause__ if error.__cause__ is not None else error      # check_backward's wrapping
    at = dict(at or {})
    before = fixed_sizes(f, concretize(f, wrt, None, at)[0])
    free = second_sizes(f, wrt, at, before)
    user_error = err is not error or not isinstance(error, SymgradError)
    advice, tries = None, 0
    names = list(free) or list(before)          # the sizes the check chose, else the user's (kept)
    forward = getattr(error, "forward", None)   # a torch Function's forward raised, not its backward
    if forward is not None and free:
        _forward_at_first_size(error, f, wrt, claimed, at, before, free, options)
    # the numbers tried are the raising code's own: a forward that raised is never judged by the
    # numbers of the backward (a "not equal" quoting the backward for a forward that failed)
    source = forward if forward is not None else claimed
    if user_error and size_literals.raising_line(err) is not None:
        raised = f"{type(err).__name__}: {short(str(err), 160)}"
        for name in names:
            n0 = before[name]
            reading = size_literals.size_reading(f, name, wrt if isinstance(wrt, (list, tuple)) else [wrt])
            for n in size_literals.size_candidates(source, err, exclude={n0}):
                if tries >= MAX_LITERAL_TRIES or advice:
                    break
                tries += 1
                try:
                    r = _check_once(f, wrt, size_literals.raised_at_size(claimed),   # the others kept
                                    at={**at, **before, name: n}, points=1, again=True, **options)
                except (size_literals.ClaimRaised, SymgradError):
                    continue
                line = _line_writing(err, n) or size_literals.literal_line(source, n)
                said = "; ".join(p for p in (line, reading and f"read it off an array, {reading}") if p)
                why = f"a literal {n} where the size {name} belongs" + (f" ({said})?" if said else "?")
                if not free or forward is not None:     # the user's size kept, or the forward failed:
                    advice = f"It runs at {name} = {n}: {why}"      # the error, and why
                    continue
                hint = Hint.sentence(ONE_SIZE, f"the claim holds at {name} = {n} only, not at {name} = {n0}, "
                                     f"where it raised {raised}: {why}")
                method = (f"called at {name} = {n0}, it raised {raised}; tried at {name} = {n}, "
                          f"a number its source writes: {r.method}")
                if r:
                    return CheckResult(NOT_EQUAL, method, hint=hint, layout=r.layout, errors=r.errors)
                return replace(r, hint=Hint.sentence(ONE_SIZE, hint + f" At {name} = {n} it is not equal "
                                                     f"either ({r.hint or 'no hint'})"), method=method)
    advice = advice or _literal_advice(err, f, wrt, before)
    if advice and err is not error and isinstance(error, SymgradError):   # check_backward's BackwardError
        raise type(error)(f"{error}. {advice}") from err
    if advice and hasattr(error, "add_note"):   # the function's own exception (sg.check): a note
        error.add_note(advice)
    raise error


def _line_writing(err, n) -> str | None:
    """The line that raised ``err``, when it writes the number n."""
    raised = size_literals.raising_line(err)
    return raised[0] if raised and n in raised[1] else None


def _literal_advice(err, f, wrt, sizes: Mapping) -> str | None:
    """A sentence for an error raised at the first sizes whose line writes a number that is none
    of f's fixed dimensions nor a size the check picked: it may stand for one of the sizes."""
    raised = size_literals.raising_line(err)
    if not raised or len(sizes) != 1:
        return None
    from .tensors import fixed_dims
    (name, n0), = sizes.items()
    numbers = [n for n in raised[1] if n >= 2 and n != n0 and n not in fixed_dims(f)]
    if not numbers:
        return None
    reading = size_literals.size_reading(f, name, wrt if isinstance(wrt, (list, tuple)) else [wrt])
    return (f"The line that raised, {raised[0]}, writes the number {numbers[0]}, and the size {name} "
            f"is {n0} here: if {numbers[0]} stands for {name}, read it off an array"
            + (f", {reading}" if reading else "") + " (the backward must work at any batch size)")


def _has_callable(claimed) -> bool:
    if isinstance(claimed, Mapping):
        return any(_has_callable(c) for c in claimed.values())
    if isinstance(claimed, (list, tuple)):
        return any(_has_callable(c) for c in claimed)
    return callable(claimed) and not isinstance(claimed, sp.Basic)


def _check_once(f, wrt, claimed, *, at: Mapping | None = None, assumptions: Mapping | None = None,
          batch: int | None = 7, points: int = 3, seed: int = 0,
          policy: Subgradients = DEFAULT, targets: str = "distribution",
          convention: str = "column", again: bool = False, case_only: bool = False) -> CheckResult:
    """`check` at the sizes `concretize` picks (or those given in ``at=``). ``again``: the claim was
    found equal at other sizes, and is now decided at second ones (`_at_other_sizes`) — at the
    random points only: the kinks' sides were covered and the ties compared the first time, and a
    literal size makes a claim wrong almost everywhere, not only on one side of a kink.
    ``case_only``: the hints' `Case` of the claim where it is wrong (None where it is right), for a
    hint that asks the claim at other sizes (``Case.at_sizes``), not a result."""
    from .hints import Case, find_hint
    declared_args = (f, wrt, claimed, at)

    def at_sizes(new: Mapping):
        """The `Case` at the sizes ``new`` (others as before), one point; None where the claim is right."""
        f0, wrt0, claimed0, at0 = declared_args
        return _check_once(f0, wrt0, claimed0, at={**(at0 or {}), **new}, assumptions=assumptions,
                           batch=batch, points=1, seed=seed, policy=policy, targets=targets,
                           convention=convention, again=True, case_only=True)
    claimed = _column_claim(claimed, wrt, convention)
    tensor_case = isinstance(f, sp.Basic) and is_tensor_check(f)
    label_ranges = {}                           # integer labels: drawn in the range their uses allow
    sizes = {}                                  # {N: 5}: symbolic sizes made numbers (for hints)
    shapes = {}                                 # {x: (N, 4)}: the shapes as declared (for hints)
    if tensor_case:                             # sizes made numbers, labels drawn in range
        declared = f
        f, wrt, claimed, at, ranges = concretize(f, wrt, claimed, at or {})
        sizes, shapes = fixed_sizes(declared, f), declared_shapes(declared)
        label_ranges = {k: ("integers", n) for k, n in ranges.items()}
        batch = None                            # a whole-batch declaration: one example is the batch
    params = _flatten_wrt(wrt)
    f = read_f(f, params)                       # text is parsed, never evaluated
    if not tensor_case:                         # cross_entropy(z, k), gather(z, k): k in 0 … n − 1
        label_ranges = sampling.gather_labels(f)
    if isinstance(wrt, sp.MatrixBase) and isinstance(claimed, sp.MatrixBase):
        if claimed.shape != wrt.shape:          # a Matrix of symbols: the claim entry by entry
            raise SymgradError(f"wrt is a {wrt.shape} Matrix of symbols but the claim is {claimed.shape}")
        claimed = list(claimed)
    claims = _normalize_claims(claimed, params, f)
    check_arguments(f, params, claims, at=at, assumptions=assumptions, batch=batch, points=points,
                    seed=seed, policy=policy)
    if label_ranges:                            # symgrad's own ranges, after the user's are checked
        assumptions = {**label_ranges, **(assumptions or {})}
    is_callable = callable(claims)
    try:                                        # only the key's hashability is tried here: a
        hash((f, tuple(params), policy))        # TypeError from inside differentiate must not
    except TypeError:                           # make it run a second time, uncached
        D = differentiate(f, params, policy=policy)
    else:
        D = _derivation(f, tuple(params), policy)
    inputs = _inputs(f, params, claims if not is_callable else None, at)
    B = batch if is_callable and batch else None
    if B and at:                                # batched inputs given: their batch size rules
        sizes = {np.shape(_given(at, s))[0] for s in inputs if _given(at, s) is not None}
        if len(sizes) > 1:
            raise SymgradError(f"the inputs given in at= have different batch sizes {sorted(sizes)}")
        B = sizes.pop() if sizes else B
    rng = np.random.default_rng(seed)
    sampler = sampling.Sampler(f, D, params, inputs, at or {}, assumptions, rng, B, targets)
    if not is_callable:                         # a matrix the claim alone inverts: drawn as f's are
        sampler.condition(claims if isinstance(claims, (list, tuple)) else [claims])
    if again:       # off the kinks only (no difference quotient reads this point): a conv layer's
        sampler.margin = AGAIN_MARGIN   # thousands of relu entries put some entry within 0.05 of 0
    pts, coverage = ((sampler.points(points), sides.Coverage()) if again
                     else sides.cover(sampler, sampler.points(points)))

    # The claim and the truth at every point (truth: mean over the examples of the point).
    truths = [_truth(D, p) for p in pts]
    claim_vals = [_claim_values(claims, params, p, B) for p in pts]
    cross = _cross_check(D, params, pts[0], truths[0], rng)
    # values given with at= can put the point on a kink (random points keep 0.05 away from them)
    given_on_kink = bool(at) and sides.on_kink(D, params, at, pts[0], sides.REACH) is not None
    if given_on_kink and cross.startswith("DISAGREEMENT"):
        cross = "at a kink: the difference quotient does not apply, the point given with at= is on a kink of f"

    errs, worst, used_mp = {}, None, False
    for k, w in enumerate(params):
        name = w.name
        for i, (c, t) in enumerate(zip(claim_vals, truths)):
            rel, idx, cn = _compare(c[k], t[k], w, problem_scale(t))
            # A float64 disagreement is re-evaluated at 30 digits (slow) only when it could raise
            # the largest error confirmed so far for this parameter.
            if rel > RTOL and not is_callable and np.isfinite(rel) and rel > errs.get(name, 0.0):
                rel2 = _mp_recheck(claims[k], D.gradients[k], pts[i], rel)
                if rel2 != rel:
                    used_mp = True
                    rel = rel2
            errs[name] = max(errs.get(name, 0.0), rel)
            if rel > RTOL and (worst is None or rel > worst[0]):
                worst = (rel, k, i, idx, cn, t[k])
    at_kink = None      # the claim differs only at a point given with at= that is on a kink
    off_kink = None     # ... and is outside f's subdifferential there
    if worst is not None and at and not case_only:
        at_kink = _at_given_kink(f, D, params, at, pts, claim_vals, truths, policy, seed)
        if isinstance(at_kink, _OffKink):       # outside f's subdifferential there: wrong, said so
            off_kink, at_kink = at_kink, None
        if at_kink is not None:
            worst = None
    symbolic = ("not attempted (a callable claim)" if is_callable else
                "not attempted (the claim differs at a kink)" if at_kink is not None else
                "not attempted (the claim differs numerically)" if worst is not None else
                _symbolic(claims, D, params))
    hidden = None           # a term float64 rounds away (∂f/∂x + 1 where ∂f/∂x is 10⁹⁷)
    if worst is None and symbolic == "undecided" and not case_only:
        hidden = _hidden_term(claims, D, params, pts)
        if hidden is not None:
            symbolic = f"undecided; claim − gradient computed {hidden[4]} at the drawn points, beyond float64"
    drawn = [f"{t} drawn as a {kind} (targets={kind!r})" for t, kind in sampler.targets.items()] + [
        f"{m} drawn as a dropout mask (entries 0, or 1/(1 − p) = {1 / (1 - p):.4g} with probability "
        f"1 − p = {1 - p:g})" for m, p in sampler.masks.items()] + [conditioned_words(sampler.conditioned, sampler.conditioned_sizes())]
    # a claim equal to symgrad's convention at a kink given with at= (at_kink None) is on it too
    away = ("on a kink of f, by the values given with at=" if at_kink is not None or given_on_kink
            else "away from its kinks")
    # every value given with at=: one point, the user's, not drawn (and maybe on a kink)
    all_given = bool(at) and all(_given(at, s) is not None for s in [*params, *inputs])
    where = (f"the point given with at=, {'on a kink of f' if at_kink is not None or given_on_kink else 'away from its kinks'}"
             if all_given else f"{len(pts)} random point(s) inside f's domain, {away}")
    method = (f"symbolic: {symbolic}; numeric: float64 at {where}{' (batches of %d)' % B if B else ''}"
              + "".join(f"; {part}" for part in [coverage.describe()] + drawn if part)
              + f"; symgrad's gradient cross-checked by central differences of f ({cross})"
              + ("; float64 disagreements re-evaluated with mpmath at 30 digits" if used_mp else ""))
    layout = "a gradient has the shape of its variable: " + ", ".join(
        f"∂f/∂{w.name} is {shape_text(_shape(w))} like {w.name}" for w in params)
    rows = [w.name for w in params if convention == "row" and isinstance(w, sp.MatrixSymbol)
            and tuple(w.shape) != (1, 1)]
    if rows:
        layout += (f"; the claim for {', '.join(rows)} was read in the row convention (convention='row', "
                   f"the numerator layout: a gradient as a row, ∂f/∂W shaped like Wᵀ) and transposed first: "
                   f"equal means equal up to that convention")

    if hidden is not None:
        k, i, d, t, how = hidden
        c = float(np.asarray(claim_vals[i][k], float))
        rel = float(abs(d) / max(abs(t), abs(t + d)))
        errs[params[k].name] = max(errs.get(params[k].name, 0.0), rel)
        cx = Counterexample(_as_declared(f, pts[i].shown()), params[k].name, c, float(t), rel)
        return CheckResult(NOT_EQUAL, method, cx, Hint("term lost in rounding", (
            f"the claim differs from the gradient by {float(d):.4g} here ({how}), where the gradient is "
            f"{float(t):.4g}: float64, whose relative precision is 1e-16, rounds the difference away, "
            f"so the claim has a term too small to see next to the others, or one too many")),
            layout, errors=errs)
    if worst is not None and tensor_case and at and not again and not case_only:
        # a max over an axis or a max pool tied at the point given with at=: the routings of ties.py
        differing = {i for k, w in enumerate(params) for i, (c, t) in enumerate(zip(claim_vals, truths))
                     if _compare(c[k], t[k], w, problem_scale(t))[0] > RTOL}
        if differing == {worst[2]}:
            tied = _tie_check(f, D, params, claims, sampler, pts, B, policy, dict(errs), method, layout, check,
                              targets, sizes, shapes, given=pts[worst[2]])
            if isinstance(tied, CheckResult):
                return tied
    if worst is not None:
        rel, k, i, idx, cn, t = worst
        cx = Counterexample(_as_declared(f, pts[i].shown()), params[k].name, cn, t, rel, idx,
                            transposed=params[k].name in rows)
        if not is_callable and not np.all(np.isfinite(claim_vals[i][k])) and np.all(np.isfinite(t)):
            cx.why = sampling.not_finite_part([claims[k]], pts[i].example())
        case = Case(f=f, params=params, k=k, derivation=D, points=pts, truths=truths,
                    claims=claim_vals, batch=B, claim_expr=None if is_callable else claims[k],
                    check=check, targets=targets, sizes=sizes, shapes=shapes,
                    outputs=layer_outputs.recorded(claims, sizes) if is_callable else None,
                    at_sizes=at_sizes if sizes else None, convention=convention)
        if case_only:
            return case
        if off_kink is not None:
            hint = _off_kink_hint(f, D, params, off_kink, off_kink.claim, case, policy)
        else:
            hint = _every_tied_hint(f, D, params, claim_vals[i], pts[i], policy) if at and not tensor_case else None
        return CheckResult(NOT_EQUAL, method, cx, hint or find_hint(case), layout, errors=errs)
    if case_only:
        return None
    if at_kink is not None:
        return CheckResult(EQUAL_EXCEPT_KINKS, method + "; the claim at the kink compared with the limits of "
                           "the gradient on the sides of it (f's subdifferential)", layout=layout, kink=at_kink,
                           errors=errs)

    if tensor_case and not again:               # a max at a tie: a point made with ties on purpose
        tied = _tie_check(f, D, params, claims, sampler, pts, B, policy, errs, method, layout, check, targets, sizes,
                           shapes)
        if isinstance(tied, CheckResult):
            return tied
        method += tied or ""
    if not tensor_case:                         # a Max over symbols or matrix entries, at a tie
        tied = _scalar_tie_check(f, D, params, claims, sampler, pts, B, policy, errs, method, layout)
        if isinstance(tied, CheckResult):
            return tied
        method += tied or ""
    # kinks of tensor expressions are not probed yet (issue 11, point 5)
    kink = None if is_callable or tensor_case else _probe_kinks(f, D, params, claims, pts[0], policy,
                                                                np.random.default_rng(seed + 1),
                                                                fixed=_given_names(at))
    if isinstance(kink, _OffKink):
        # The claim differs only at the kink, but is no subgradient there: wrong, not a convention.
        t, c = _truth(D, kink.point), _claim_values(claims, params, kink.point, None)
        k, (rel, idx, cn) = max(enumerate(_compare(c[j], t[j], w, problem_scale(t)) for j, w in enumerate(params)),
                                key=lambda kr: kr[1][0])
        errs[params[k].name] = max(errs.get(params[k].name, 0.0), rel)
        cx = Counterexample(_as_declared(f, kink.point.shown()), params[k].name, cn, t[k], rel, idx)
        case = Case(f=f, params=params, k=k, derivation=D, points=[kink.point], truths=[t], claims=[c],
                    batch=None, claim_expr=claims[k], check=check, targets=targets)
        return CheckResult(NOT_EQUAL, method + "; a point on a kink of f, where the claim is outside f's "
                           "subdifferential (the convex hull of the gradient's limits on the sides of the kink)",
                           cx, _off_kink_hint(f, D, params, kink, c, case, policy), layout, errors=errs)
    if isinstance(kink, _Point):
        # The claim differs at the kink and also just beside it, on a side the random points
        # missed: not a convention at the kink, a wrong claim.
        t, c = _truth(D, kink), _claim_values(claims, params, kink, None)
        k, (rel, idx, cn) = max(enumerate(_compare(c[j], t[j], w, problem_scale(t)) for j, w in enumerate(params)),
                                key=lambda kr: kr[1][0])
        errs[params[k].name] = max(errs.get(params[k].name, 0.0), rel)
        cx = Counterexample(_as_declared(f, kink.shown()), params[k].name, cn, t[k], rel, idx)
        case = Case(f=f, params=params, k=k, derivation=D, points=[kink], truths=[t], claims=[c],
                    batch=None, claim_expr=claims[k], check=check, targets=targets)
        return CheckResult(NOT_EQUAL, method + "; a point just beside a kink, where the claim differs",
                           cx, find_hint(case), layout, errors=errs)
    return CheckResult(EQUAL_EXCEPT_KINKS if kink else EQUAL, method, layout=layout, kink=kink, errors=errs)



def _tie_check(f, D, params, claims, sampler, pts, B, policy, errs, method, layout, check, targets, sizes,
                           shapes, given=None):
    """The claim at a point where a max of f is tied (`symgrad.checking.ties`): None when f has no
    max or no such point is found; a note for the method when the claim routes δ as the policy
    does there; else the CheckResult —
    "not equal" (δ to every tied entry, or something else), or "equal except at points where f is
    not differentiable" for another subgradient (the last arg-max, an even split)."""
    from . import ties
    from .hints import Case, find_hint
    if not ties.max_nodes(f):
        return None
    alt = {m: ties.routed_derivation(f, tuple(params), policy, m) for m in ties.ROUTINGS}
    if given is not None:           # the point given with at= (``given``), where the claim differs
        found = ties.tied_here(given, params, alt, _truth(D, given))
    else:
        found = ties.tie_point(sampler, pts, params, alt, lambda p: _truth(D, p))
    if found is None:
        return None
    tp, truth, routed = found
    claim = _claim_values(claims, params, tp, B)
    where = ("; the point given with at= has tied maxima" if given is not None else
             "; compared also at a point with tied maxima (made on purpose: random points never tie)")
    if ties.matches(claim, truth, params, RTOL):
        return where
    for mode in ("last", "even"):
        if ties.matches(claim, routed[mode], params, RTOL):
            return CheckResult(EQUAL_EXCEPT_KINKS, method + where, layout=layout,
                               kink=ties.kink_sentence(mode, given is not None), errors=errs)
    try:
        other = (ties.other_subgradient(f, params, claim, truth, tp, RTOL)
                 or ties.mixed_subgradient(f, params, claim, truth, tp))
    except (SymgradError, ArithmeticError, ValueError, TypeError):
        other = False
    if other:
        return CheckResult(EQUAL_EXCEPT_KINKS, method + where, layout=layout,
                           kink=ties.kink_sentence("other", given is not None), errors=errs)
    k, (rel, idx, cn) = max(enumerate(_compare(c, t, w, problem_scale(truth)) for c, t, w in zip(claim, truth, params)),
                            key=lambda kr: kr[1][0])
    errs[params[k].name] = max(errs.get(params[k].name, 0.0), rel)
    cx = Counterexample(_as_declared(f, tp.shown()), params[k].name, cn, truth[k], rel, idx)
    if ties.matches(claim, routed["all"], params, RTOL):
        hint = ties.ALL_HINT
    else:
        case = Case(f=f, params=params, k=k, derivation=D, points=[tp], truths=[truth], claims=[claim],
                    batch=B, claim_expr=None if callable(claims) else claims[k], check=check,
                    targets=targets, sizes=sizes, shapes=shapes)
        hint = find_hint(case)
    return CheckResult(NOT_EQUAL, method + where + ", where the claim differs", cx, hint, layout, errors=errs)


def _every_tied_hint(f, D, params, claim, pt, policy):
    """`ties.ALL_HINT` when a Max of f is tied at ``pt`` (a point given with at=) and the claim
    sends δ to every tied argument there (`symgrad.checking.scalar_ties`); else None."""
    from . import scalar_ties, ties
    if not scalar_ties.max_nodes(f):
        return None
    try:
        routed = scalar_ties.tied_derivations(f, tuple(params), policy)
        with np.errstate(all="ignore"):
            every, truth = _truth(routed["all"], pt), _truth(D, pt)
    except (SymgradError, ArithmeticError, ValueError, TypeError):
        return None
    if ties.matches(every, truth, params, RTOL) or not ties.matches(claim, every, params, RTOL):
        return None
    return ties.ALL_HINT


def _scalar_tie_check(f, D, params, claims, sampler, pts, B, policy, errs, method, layout):
    """The claim at a point where a Max (or Min) of a scalar or matrix f is tied
    (`symgrad.checking.scalar_ties`): "not equal" with the max-ties hint when it sends δ to every
    tied argument; a note for the method when it routes δ as the policy does; None otherwise (the
    kink probe that follows judges other routings)."""
    from . import scalar_ties, ties
    if not scalar_ties.max_nodes(f):
        return None
    try:
        routed = scalar_ties.tied_derivations(f, tuple(params), policy)
    except SymgradError:
        return None
    found = scalar_ties.tie_point(sampler, pts, f, params, routed, lambda p, d=D: _truth(d, p))
    if found is None:
        return None
    tp, truth, every = found
    claim = _claim_values(claims, params, tp, B)
    where = "; compared also at a point where a Max is tied (made on purpose: random points never tie)"
    if ties.matches(claim, truth, params, RTOL):
        return where
    if not ties.matches(claim, every, params, RTOL):
        return None
    k, (rel, idx, cn) = max(enumerate(_compare(c, t, w, problem_scale(truth)) for c, t, w in zip(claim, truth, params)),
                            key=lambda kr: kr[1][0])
    errs[params[k].name] = max(errs.get(params[k].name, 0.0), rel)
    cx = Counterexample(_as_declared(f, tp.shown()), params[k].name, cn, truth[k], rel, idx)
    return CheckResult(NOT_EQUAL, method + where + ", where the claim differs", cx, ties.ALL_HINT, layout,
                       errors=errs)


@lru_cache(maxsize=64)
def _derivation(f, params, policy):
    """symgrad's derivative of f, built once per (f, wrt, policy): a claim is often checked at many
    seeds, or several claims against one f (the derivation is only read afterwards)."""
    return differentiate(f, list(params), policy=policy)


def _cross_check(D, params, pt, truth, rng) -> str:
    """Central difference of f along a random direction v vs ⟨∇f, v⟩ (mean over the examples); each
    stop_gradient in f held at its value at the point, as the gradient treats it."""
    from ..core.evaluate import evaluate as ev
    from ..core.stop_gradients import frozen_values, is_stop_gradient
    dirs = {w.name: rng.standard_normal(_shape(w) or None) for w in params}
    slope = sum(float(np.sum(np.asarray(t) * dirs[w.name])) for w, t in zip(params, truth))
    # whether f holds a stop_gradient, asked once, not by a walk of the graph per example and step
    stops = any(is_stop_gradient(e) for e in D.ir.ancestors([D.output]))

    def fval(h):
        def moved(vals):
            held = frozen_values(D.ir, [D.output], vals) if stops else {}   # held at the point
            for w in params:
                vals[w.name] = np.asarray(vals[w.name], float) + h * dirs[w.name]
                if _shape(w) == ():
                    vals[w.name] = float(vals[w.name])
            return [float(ev(D.ir, [D.output], vals, frozen=held)[0])]
        return pt.mean(moved)[0]

    h = 1e-5
    with np.errstate(all="ignore"):
        fd = (fval(h) - fval(-h)) / (2 * h)
    err = abs(fd - slope) / max(abs(fd), abs(slope), 1e-8)
    return f"agreement {err:.1g}" if err < 1e-4 else f"DISAGREEMENT {err:.2g} — please report this"


def _hidden_term(claims, D, params, pts):
    """(k, point index, claim − gradient, the gradient, how computed) of the first scalar claim that
    differs from the gradient at a drawn point when computed beyond float64 (`hidden_terms`); None
    when none does (or it cannot be told)."""
    from .hidden_terms import hidden_difference
    for k, (c, t) in enumerate(zip(claims, D.gradients)):
        for i, pt in enumerate(pts):
            if len(pt.examples) != 1:
                return None
            found = hidden_difference(c, t, pt.example(0))
            if found is not None:
                return (k, i, *found)
    return None


def _symbolic(claims, D, params) -> str:
    """"proved equal" when every claim simplifies to symgrad's gradient; "undecided" as soon as one
    does not (the rest are not simplified: the answer cannot change)."""
    for c, t in zip(claims, D.gradients):
        if _proved_zero(c, t) is not True:
            return "undecided"
    return "proved equal"


_PROVED: dict = {}     # (claim, gradient) -> simplify's answer: the same claim is checked at many seeds


def _proved_zero(c, t):
    try:
        key = (c, t)
        hash(key)
    except TypeError:           # a mutable Matrix: not cached
        key = None
    if key is not None and key in _PROVED:
        return _PROVED[key]
    try:                        # a stop_gradient's value is its argument's (its derivative is f's)
        c, t = without_stop_gradient(c), without_stop_gradient(t)
        z = symbolic_zero(c - t) if _same_kind(c, t) else None
    except Exception:  # noqa: BLE001 - shapes that do not subtract: the numeric test says why
        z = None
    if key is not None:
        if len(_PROVED) > 512:
            _PROVED.clear()
        _PROVED[key] = z
    return z


def _differs(D, params, claims, values) -> tuple | None:
    """(k, rel, idx, claim, truth) for the first parameter whose claim differs from symgrad's gradient at
    ``values`` (one example); None when they agree or cannot be evaluated there."""
    pt = _Point({w.name: values[w.name] for w in params}, [dict(values)], None)
    try:
        with np.errstate(all="ignore"):
            t = _truth(D, pt)
            c = [_eval_claim(cl, values) for cl in claims]
    except (SymgradError, KeyError, TypeError, ValueError):
        return None
    if not all(np.all(np.isfinite(v)) for v in t):
        return None
    for k, w in enumerate(params):
        rel, idx, cn = _compare(c[k], t[k], w, problem_scale(t))
        if rel > RTOL:
            return k, rel, idx, cn, t[k]
    return None


def _beside(kp, base, tau):
    """The point kp + tau·(base − kp): on the segment from the kink point towards the random point
    it came from (tau > 0, base's side of the kink), or past the kink (tau < 0)."""
    out = {}
    for name, v in kp.items():
        b = base.get(name, v)
        if np.ndim(v) == 0:
            out[name] = float(v) + tau * (float(b) - float(v))
        else:
            out[name] = np.asarray(v, float) + tau * (np.asarray(b, float).reshape(np.shape(v)) - np.asarray(v, float))
    return out


SIDE_STEP = 1e-3     # how far beside a kink the claim is compared, as a fraction of the way back to the random point


def _probe_kinks(f, D, params, claims, pt, policy, rng=None, fixed=()):
    """Compare claim and derivative on f's kinks. A sentence when they differ there and only there
    (they agree just beside the kink, on both sides: kp ± `SIDE_STEP`·(base − kp)) and the claim
    is a subgradient there (inside the convex hull of the gradient's limits on the sides of the
    kink, `_subdifferential`); a `_Point` beside a kink when they differ there too (the claim is
    wrong, not a convention); an `_OffKink` when the claim is outside the subdifferential at the
    kink (δ sent to neither argument of a tied Max: (0, 0) where the sides give (2m, 0) and
    (0, 2m)); else None. A kink reached only by moving a value given with at= (named in ``fixed``)
    is not probed: the user fixed it."""
    base = pt.example(0)
    rng = np.random.default_rng(1) if rng is None else rng
    for kp, u, what, entry in sampling.kink_points(f, set(params), base):
        if any(n in base and not np.array_equal(np.asarray(kp[n]), np.asarray(base[n])) for n in fixed):
            continue
        hit = _differs(D, params, claims, kp)
        if hit is None:
            continue
        for tau in (SIDE_STEP, -SIDE_STEP):
            near = _beside(kp, base, tau)
            if _differs(D, params, claims, near) is not None:
                return _Point({w.name: near[w.name] for w in params}, [near], None)
        kpt = _Point({w.name: kp[w.name] for w in params}, [kp], None)
        try:
            with np.errstate(all="ignore"):
                inside, V = _subdifferential(D, params, kpt, _claim_values(claims, params, kpt, None), rng)
        except (SymgradError, ArithmeticError, ValueError, TypeError, KeyError):
            inside = None
        if inside is False:
            words = (f"entry [{', '.join(map(str, entry))}] of {u}" if entry is not None else str(u))
            return _OffKink(kpt, what, words, V)
        k, rel, idx, cn, tk = hit
        w, conv = params[k], convention(what, policy)
        if entry is not None:
            e = ", ".join(map(str, entry))
            return (f"At a point where entry [{e}] of {u} is 0 (a kink of {what}) f is not "
                    f"differentiable: there the claim's ∂f/∂{w.name}{list(idx) if idx else ''} is "
                    f"{_fmt(np.asarray(cn)[idx] if idx else cn)} and symgrad's subgradient "
                    f"convention ({conv}) gives {_fmt(np.asarray(tk)[idx] if idx else tk)}; both are "
                    f"valid choices there, and everywhere else the claim is equal.")
        where = ", ".join(f"{kk} = {_fmt(v)}" for kk, v in kp.items() if kk in {s.name for s in _symbols(u)})
        why = f"a kink of {what}" if u.is_Symbol else f"where {u} = 0, a kink of {what}"
        return (f"At {where} ({why}) f is not differentiable: the claim gives {_fmt(cn)} and "
                f"symgrad's subgradient convention ({conv}) gives {_fmt(tk)}; both are valid choices "
                f"there, and everywhere else the claim is equal.")
    return None


def _at_given_kink(f, D, params, at, pts, claim_vals, truths, policy, seed):
    """A sentence when the claim differs from symgrad's gradient only at points that lie on a kink
    of f (a kink argument within round-off of 0: a point given with at=, random points keep away),
    and is a subgradient there: inside the convex hull of the gradient's limits on the sides of the
    kink (`sides.limit_gradients`: another routing of a Max tie, relu'(0) = 0, ...). An `_OffKink`
    when it differs only on kinks and is outside the subdifferential at one (|z| claimed 2 at
    z = 0). Else None."""
    first, off = None, None
    rng = np.random.default_rng(seed + 1)
    for i, (c, t) in enumerate(zip(claim_vals, truths)):
        if all(_compare(c[k], t[k], w, problem_scale(t))[0] <= RTOL for k, w in enumerate(params)):
            continue
        hit = sides.on_kink(D, params, at, pts[i])
        if hit is None:
            return None
        try:
            inside, V = _subdifferential(D, params, pts[i], c, rng)
        except (SymgradError, ArithmeticError, ValueError, TypeError):
            return None
        if inside is None:
            return None
        if not inside:
            off = off or _OffKink(pts[i], hit[1][3], sides.site_text(D, hit[1], hit[2]), V, c)
            continue
        first = first or (i, hit)
    if off is not None:
        return off
    if first is None:
        return None
    i, (_, site, entry) = first
    what = site[3]
    u = sides.site_text(D, site, entry)
    where = ", ".join(f"{k} = {_fmt(v)}" for k, v in _as_declared(f, pts[i].shown()).items())
    differ = [k for k, w in enumerate(params)
              if _compare(claim_vals[i][k], truths[i][k], w, problem_scale(truths[i]))[0] > RTOL]
    said = lambda vals: ", ".join(f"∂f/∂{params[k].name} = {_fmt(vals[k])}" for k in differ)  # noqa: E731
    rest = len(pts) > 1 and any(j != i for j in range(len(pts)))
    return (f"At {where}, the point given with at= (where {u} = 0, a kink of {what}), f is not "
            f"differentiable: there the claim gives {said(claim_vals[i])} and symgrad's subgradient "
            f"convention ({convention(what, policy)}) gives {said(truths[i])}; both are valid choices "
            f"there (subgradients: convex combinations of the gradient's limits on the sides of the kink)"
            + (", and at the other points tested the claim is equal." if rest else "."))


def _given_names(at) -> set:
    """The names of the values given with at= (keyed by symbol or name)."""
    return {k if isinstance(k, str) else getattr(k, "name", str(k)) for k in (at or {})}


@dataclass
class _OffKink:
    """A claim outside f's subdifferential at a point on a kink: the point, the kink's function
    (``what``), its argument in words (``u``), and the gradient's limits on its sides (rows)."""
    point: Any
    what: str
    u: str
    limits: np.ndarray
    claim: Any = None          # the claim's values there, one per parameter (at= only)


def _flat_claim(params, claim) -> np.ndarray:
    return np.concatenate([np.ravel(np.asarray(fit_shape(c, _shape(w)) if fit_shape(c, _shape(w)) is not None
                                               else c, float)) for c, w in zip(claim, params)])


def _subdifferential(D, params, pt, claim, rng):
    """(inside, limits): is ``claim`` (one value per parameter) inside f's subdifferential at ``pt``
    — the convex hull of the gradient's limits on the sides of a kink there
    (`sides.limit_gradients`, `sides.in_hull`)? ``inside`` is None when that cannot be decided
    (no finite limits, or more than `in_hull` takes)."""
    flat = _flat_claim(params, claim)
    V = sides.limit_gradients(params, pt, lambda p: _truth(D, p), rng)
    if V.size == 0 or V.shape[1] != flat.size or len(V) > 10 or not np.all(np.isfinite(flat)):
        return None, V
    tol = RTOL * (1.0 + float(np.abs(V).max(initial=0.0)))
    return sides.in_hull(V, flat, tol), V


def _off_kink_hint(f, D, params, off: _OffKink, claim, case, policy) -> str:
    """The hint for a claim outside f's subdifferential at a kink: the max-ties hints when it sends
    δ to every tied argument or to none; else the valid values there, and the claim's."""
    from .hints import try_hint
    from .tie_dropped_hint import tie_dropped_hint
    hint = _every_tied_hint(f, D, params, claim, off.point, policy)
    if hint is None:
        hint = try_hint(tie_dropped_hint, case)
    if hint:
        return hint
    V = np.array(sorted(map(tuple, off.limits)))
    c = _flat_claim(params, claim)
    scalars = all(_shape(w) == () for w in params)
    of = (f"∂f/∂{params[0].name}" if len(params) == 1 else
          "(" + ", ".join(f"∂f/∂{w.name}" for w in params) + ")" if scalars else "the gradient")
    if V.shape[1] == 1:
        valid, gives = f"[{_fmt(V.min())}, {_fmt(V.max())}]", _fmt(c[0])
    elif V.shape[1] <= 6 and len(V) <= 4:
        valid, gives = "the convex combinations of " + " and ".join(_fmt(r) for r in V), _fmt(c)
    else:
        valid = f"the convex combinations of the gradient's {len(V)} limits on the sides of the kink"
        gives = _fmt(c)
    return Hint("outside the subdifferential",
                f"at this kink of {off.what} (where {off.u} = 0) f is not differentiable, and the valid "
                f"values of {of} there are {valid} (subgradients: convex combinations of the gradient's "
                f"limits on the sides of the kink); the claim gives {gives}, which is none of them.")


def convention(what: str, policy: Subgradients) -> str:
    """The subgradient convention for the kink of ``what``, in words."""
    if what in ("relu", "leaky_relu", "Heaviside", "Piecewise"):
        return f"relu'(0) = {policy.relu_at_zero}"
    if what in ("Abs", "sign"):
        return f"|x|'(0) = {policy.abs_at_zero}"
    if getattr(policy, "max_ties", "first") == "split":
        return ("max/min split the gradient equally among the arguments that attain it, "
                "torch's rule under max_ties='split'")
    return "max/min route the gradient to the first argument that attains it"


def _as_declared(f, point: dict) -> dict:
    """The point's values as f declares them: an integer tensor's (labels, indices), drawn and held
    as floats, shown as integers — y = [1, 2, 0], not [1., 2., 0.]."""
    from ..frontend import tensor as T
    ints = {t.name for t in sp.sympify(f).atoms(T.Tensor) if t.is_integer_tensor}
    return {k: (np.rint(np.asarray(v, float)).astype(np.int64) if k in ints else v) for k, v in point.items()}


def _fmt(v) -> str:
    a = np.asarray(v)
    if a.ndim == 0:
        return f"{float(a) + 0.0:.4g}"
    if a.size <= 6:   # each number as the scalars are, "[-0.922, 0.22]" (not NumPy's padded "0.22 ")
        return np.array2string(a.reshape(-1) if 1 in a.shape else a, separator=", ",
                               formatter={"float_kind": lambda v: f"{v + 0.0:.3g}"}).replace("\n", "")
    return f"<{'×'.join(map(str, a.shape))} array>"


__all__ = ["check", "CheckResult", "Counterexample", "EQUAL", "NOT_EQUAL", "EQUAL_EXCEPT_KINKS",
           "LAYOUT"]
