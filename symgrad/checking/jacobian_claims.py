"""`sg.check` of a second-derivative or Jacobian claim: a Hessian, a Jacobian, ∂(∇f)/∂x.

Two readings, both of a column ``wrt`` x (n×1) and a matrix claim:

- **a Hessian**: f a scalar and the claim n×n (x's gradient would be n×1) — the claim is compared
  with ``sg.hessian(f, x)``, ∂²f/∂x∂xᵀ (logistic regression's XᵀSX, xᵀAx's A + Aᵀ);
- **a Jacobian**: f a column m×1 (a gradient ``sg.grad(f, x)``, a softmax, residuals r(x)) and the
  claim m×n — compared with ``sg.jacobian(f, x)``, one row per output: J[i, j] = ∂fᵢ/∂xⱼ
  (a softmax's diag(p) − ppᵀ, a Newton step's Hessian written as the Jacobian of the gradient).

``wrt`` may also be two or more scalar Symbols (``[x, y]``, Rosenbrock's) with an explicit
``sp.Matrix`` claim: they are gathered into one column for the check, and named in its report.
So may columns and scalars together, ``[w, b]``, with one claim of their joint Hessian (an
``sp.BlockMatrix`` or explicit matrix, blocks in wrt's order, as ``sg.hessian(f, [w, b])`` gives it)
of at most `MOST_JOINT` entries.
A claim that is a Python function is called once at the declared shapes; one that returns a
Hessian's (a Jacobian's) shape is checked as one, any other as a gradient (`sg.check`'s own path).

The claim is evaluated at random points (standard normal, or the intervals in ``assumptions``;
``at=`` fixes values) and compared entry by entry; symgrad's own matrix is cross-checked by central
differences of f's gradient (of f, for a Jacobian). A wrong claim gets a counterexample (the worst
entry) and, where one fits, the slip's name: the transpose, the symmetrisation left out (A for
A + Aᵀ) or assumed (2A), a factor 2 or a sign, a weight that depends on x left out (S = σ(1 − σ)
of XᵀSX), the off-diagonal terms left out (diag(p) for diag(p) − ppᵀ), only the Gauss–Newton part
JᵀJ of a Hessian. ``sp.DiagMatrix(v)`` in a claim is read as the diagonal matrix of v.

>>> import sympy as sp, symgrad as sg
>>> A, x = sp.MatrixSymbol('A', 3, 3), sp.MatrixSymbol('x', 3, 1)
>>> f = (x.T * A * x)[0, 0]
>>> bool(sg.check(f, x, A + A.T))
True
>>> sg.check(f, x, A).hint.kind
'symmetrisation left out'
"""
from __future__ import annotations

from functools import lru_cache
from itertools import combinations
from typing import Mapping

import numpy as np
import sympy as sp

from ..core.differentiate import grad, hessian, jacobian
from ..core.evaluate import evaluate
from ..core.values import key_name
from ..frontend.matrix_functions import Total
from ..frontend import tensor as T
from ..frontend.parse import as_expr
from ..errors import ShapeError
from .hint_kind import Hint
from .sampling import draw, interval_of

RTOL = 1e-6
MOST_JOINT = 40     # the most entries of a joint [w, b] a Hessian claim is checked for (written out)
CLOSE = 1e-6         # two matrices "are" each other (a slip's form) when this close, relatively


def _shape(e):
    return tuple(int(d) for d in e.shape) if hasattr(e, "shape") else ()


def _column(w) -> bool:
    """A column MatrixSymbol of a fixed size, 2 or more (not a tensor: sg.tensor's have their own check)."""
    return isinstance(w, sp.MatrixSymbol) and not isinstance(w, T.Tensor) and len(w.shape) == 2 and w.shape[1] == 1 and \
        sp.sympify(w.shape[0]).is_Integer and int(w.shape[0]) > 1


def one_claim(f, wrt, claimed):
    """(f, x, claim) when there is one wrt, a MatrixSymbol, and one claim (``[x]`` and ``[claim]``
    as the command line passes them; text parsed, never evaluated), else None. A column f over
    several wrt may have its claim as one block per variable (``[J_x, J_y]``, as ``sg.check`` takes a
    gradient per variable): the blocks are put side by side, in wrt's order (`_side_by_side`)."""
    claimed = _side_by_side(f, wrt, claimed)
    scalars = _scalar_symbols(wrt)
    if scalars and _nested(claimed):            # [[fxx, fxy], [fxy, fyy]]: a Hessian as nested lists
        claimed = sp.ImmutableMatrix(claimed)
    if scalars and isinstance(claimed, (sp.MatrixBase, str)):   # [x, y] and a 2×2 Matrix: Rosenbrock's
        known = {s.name: s for s in scalars}
        try:
            f = (sp.ImmutableMatrix([as_expr(e, "f", symbols=scalars) for e in f])
                 if isinstance(f, (list, tuple)) else as_expr(f, "f", symbols=scalars))
            if isinstance(claimed, str):
                claimed = as_expr(claimed, "the claim", symbols=[*scalars, *_symbols([f])])
        except Exception:
            return None
        if not isinstance(claimed, sp.MatrixBase):
            return None
        v = _gathered(f, known, len(scalars))
        to_v = {sc: v[i, 0] for i, sc in enumerate(scalars)}
        return f.xreplace(to_v), v, claimed.xreplace(to_v), tuple((sc.name, 1) for sc in scalars)
    joint = _joint(f, wrt, claimed)
    if joint:
        return joint
    if isinstance(wrt, (list, tuple)) and len(wrt) == 1:
        wrt = wrt[0]
        if not (isinstance(claimed, (list, tuple)) and len(claimed) == 1):
            return None
        claimed = claimed[0]
    if not isinstance(wrt, sp.MatrixSymbol) or isinstance(claimed, (list, tuple, Mapping)):
        return None
    try:
        f = as_expr(f, "f", symbols=[wrt])
        if isinstance(claimed, str):
            claimed = as_expr(claimed, "the claim", symbols=[wrt, *_symbols([f])])
    except Exception:                       # the gradient path says what is wrong with them
        return None
    if callable(claimed) and not isinstance(claimed, sp.Basic):
        claimed = _probed(claimed, f, wrt)
        if claimed is None:
            return None
    return f, wrt, claimed, None


def _nested(claimed) -> bool:
    """A list of two or more rows (lists or tuples) of one length, none of them text or arrays."""
    return (isinstance(claimed, (list, tuple)) and len(claimed) >= 2
            and all(isinstance(r, (list, tuple)) for r in claimed) and len({len(r) for r in claimed}) == 1
            and len(claimed[0]) >= 1
            and all(isinstance(e, (sp.Basic, int, float)) for r in claimed for e in r))


def _side_by_side(f, wrt, claimed):
    """[J_w, J_b] for a column f (m×1, m ≥ 2) over [w, b] as the joint Jacobian [J_w J_b], each
    block m × (w's size) — a scalar's an m×1 column; ``claimed`` as it is for anything else. A block
    of another shape is a ShapeError naming its variable (a block written transposed, n×m)."""
    if not (isinstance(wrt, (list, tuple)) and len(wrt) >= 2 and isinstance(claimed, (list, tuple))
            and len(claimed) == len(wrt) and isinstance(f, (sp.MatrixBase, sp.MatrixExpr))
            and not isinstance(f, T.Tensor) and len(f.shape) == 2 and f.shape[1] == 1
            and sp.sympify(f.shape[0]).is_Integer and int(f.shape[0]) >= 2
            and all(_column(w) or (isinstance(w, sp.Symbol) and not isinstance(w, sp.Dummy)) for w in wrt)
            and all(isinstance(c, (sp.MatrixBase, sp.MatrixExpr)) for c in claimed)):
        return claimed
    m = int(f.shape[0])
    for w, c in zip(wrt, claimed):
        n = int(w.shape[0]) if isinstance(w, sp.MatrixSymbol) else 1
        if _shape(c) != (m, n):
            raise ShapeError(
                f"the claim for {w} is {'×'.join(map(str, _shape(c)))}, but the Jacobian block ∂f/∂{w} of "
                f"the {m}×1 f is {m}×{n}: one row per output of f, one column per entry of {w}"
                + (" (the block transposed?)" if _shape(c) == (n, m) else "")
                + ". Give one block per variable in wrt's order, or the joint Jacobian as one matrix.")
    if all(isinstance(c, sp.MatrixBase) for c in claimed):
        return sp.ImmutableMatrix(sp.Matrix.hstack(*claimed))
    return sp.BlockMatrix([[sp.ImmutableMatrix(c) if isinstance(c, sp.MatrixBase) else c for c in claimed]])


def _joint(f, wrt, claimed):
    """[w, b] (columns of fixed sizes and scalar Symbols, a column among them) with one matrix claim,
    a joint Hessian's (``sg.hessian(f, [w, b])``, blocks in wrt's order) or a Jacobian's: gathered
    into one column v as the scalars are, w's entries and b each an entry of v; else None."""
    if not (isinstance(wrt, (list, tuple)) and len(wrt) >= 2 and any(_column(w) for w in wrt)
            and all(_column(w) or (isinstance(w, sp.Symbol) and not isinstance(w, sp.Dummy)) for w in wrt)
            and len({w.name for w in wrt}) == len(wrt)
            and isinstance(claimed, (sp.MatrixBase, sp.MatrixExpr)) and isinstance(f, (sp.Expr, sp.MatrixBase))):
        return None
    sizes = [int(w.shape[0]) if isinstance(w, sp.MatrixSymbol) else 1 for w in wrt]
    if sum(sizes) > MOST_JOINT:
        return None                             # the gradient path says a claim per variable
    if isinstance(claimed, sp.BlockMatrix):     # [[H_ww, H_wb], [H_bw, H_bb]]: written out (small)
        claimed = sp.ImmutableMatrix(claimed.as_explicit())
    v = _gathered(f, {w.name for w in wrt}, sum(sizes))
    to_v, o = {}, 0
    for w, n in zip(wrt, sizes):
        to_v[w] = sp.ImmutableMatrix([v[o + i, 0] for i in range(n)]) if isinstance(w, sp.MatrixSymbol) else v[o, 0]
        o += n
    return f.xreplace(to_v), v, claimed.xreplace(to_v), tuple((w.name, n) for w, n in zip(wrt, sizes))


def _gathered(f, names, size: int):
    """The column (size×1) that stands for the variables ``names`` gathered, named apart from them
    and from f's symbols."""
    taken = {a.name for a in f.atoms(sp.Symbol, sp.MatrixSymbol)} | set(names)
    return sp.MatrixSymbol(next(c for c in ("v", "u", "xi", "v_wrt") if c not in taken), size, 1)


class Function:
    """A claim that is a Python function of the values ({name: array}, at the declared shapes),
    with the shape it returned when called once (a NumPy Hessian: n×n where a gradient is n×1)."""

    def __init__(self, fn, shape):
        self.fn, self.shape = fn, shape

    def __call__(self, values):
        return self.fn(values)


def _probed(fn, f, wrt):
    """fn as a `Function` when, called at a random point with every symbol at its declared shape,
    it returns a matrix of a Hessian's or a Jacobian's shape (not wrt's); else None (a gradient)."""
    if not _column(wrt) or not all(sp.sympify(d).is_Integer for m in _symbols([f]) for d in _shape(m)):
        return None
    rng = np.random.default_rng(0)
    values = {s.name: draw(s, _shape(s) if isinstance(s, sp.MatrixSymbol) else (), rng, None)
              for s in _symbols([f, wrt])}
    try:
        out = np.asarray(fn(values), dtype=float)
    except Exception:                       # the gradient path calls it as it calls a backward
        return None
    n = int(wrt.shape[0])
    column = isinstance(f, (sp.MatrixExpr, sp.MatrixBase)) and _shape(f)[1:] == (1,) and _shape(f) != (1, 1)
    if out.shape != ((int(f.shape[0]), n) if column else (n, n)):
        return None
    return Function(fn, out.shape)


def _as_column(at, blocks, v):
    """at= with the values of the variables ``blocks`` ((name, size) each: a scalar's size is 1)
    gathered into the column v that stands for them."""
    if not at:
        return at
    names = [nm for nm, _ in blocks]
    given = {key_name(k): val for k, val in at.items()}
    if not any(nm in given for nm in names):
        return at
    if not all(nm in given for nm in names):
        return {k: val for k, val in at.items() if key_name(k) not in names}   # drawn: v as a whole
    return {**{k: val for k, val in at.items() if key_name(k) not in names},
            v.name: np.concatenate([np.asarray(given[nm], dtype=float).reshape(-1, 1) for nm in names])}


def _entries(blocks) -> list:
    """The names of v's entries: a scalar's own, w's as w₀, w₁, …"""
    return [nm if n == 1 else f"{nm}{sub(i)}" for nm, n in blocks for i in range(n)]


def _owner(blocks, j: int) -> str:
    """The variable whose entry is v's j-th."""
    for nm, n in blocks:
        if j < n:
            return nm
        j -= n
    raise IndexError(j)


def _scalar_symbols(wrt) -> list | None:
    """The scalar Symbols of a wrt of two or more of them ([x, y], or a Matrix column of them)."""
    if isinstance(wrt, sp.MatrixBase) and 1 in wrt.shape:
        wrt = list(wrt)
    if isinstance(wrt, (list, tuple)) and len(wrt) >= 2 and all(
            isinstance(w, sp.Symbol) and not isinstance(w, sp.Dummy) for w in wrt):
        return list(wrt)
    return None


def reading(f, wrt, claimed, names=None) -> str | None:
    """"hessian", "jacobian" or None (an ordinary gradient claim): see the module's words."""
    if not (_column(wrt) and isinstance(claimed, (sp.MatrixExpr, sp.MatrixBase, Function))):
        return None
    if not all(sp.sympify(d).is_Integer for d in claimed.shape):
        return None
    n = int(wrt.shape[0])
    c = _shape(claimed)
    if isinstance(f, (sp.MatrixExpr, sp.MatrixBase)) and _shape(f)[1:] == (1,) and _shape(f) != (1, 1):
        return "jacobian"
    scalar = isinstance(f, sp.Expr) and not isinstance(f, sp.MatrixExpr)
    if scalar and c == (n, n):
        return "hessian"
    return None


class Lowered:
    """An expression lowered once, evaluated at each point: ``numeric(expr, pt)`` without building
    the graph again (symgrad's written-out Hessian is large; a check evaluates it at every point)."""

    def __init__(self, expr, symbols=()):
        from ..core import lower as lowering
        from ..core.stable_logs import log_softmax_rewrite
        self.graph, _, out = lowering.lower(as_expr(expr, "expr", symbols=list(symbols)))
        (self.out,) = log_softmax_rewrite(self.graph, [out])    # log(softmax(z)) finite, as numeric has it

    def __call__(self, values):
        return evaluate(self.graph, [self.out], values)[0]


def _symbols(exprs) -> list:
    out = {}
    for e in exprs:
        for a in e.atoms(sp.MatrixSymbol, sp.Symbol):
            if isinstance(a, sp.Dummy) or (isinstance(a, sp.Symbol) and a.is_integer):
                continue
            out.setdefault(a.name, a)
    return [out[k] for k in sorted(out)]


def _close(a, b) -> bool:
    scale = max(np.max(np.abs(b)), 1e-12)
    return a.shape == b.shape and np.max(np.abs(a - b)) <= CLOSE * scale


def _rel(c, t) -> tuple:
    err = np.abs(c - t)
    idx = np.unravel_index(int(np.argmax(err)), err.shape)
    scale = max(np.max(np.abs(t)), 1.0)
    return float(err[idx] / scale), tuple(int(i) for i in idx)


def check_matrix_claim(kind: str, f, wrt, claimed, names=None, *, at: Mapping | None, assumptions: Mapping | None,
                       points: int, seed: int):
    """A Hessian or Jacobian claim (``kind`` from `reading`) decided, as the parts `sg.check` makes
    its `CheckResult` of: {right, method, layout, errors, counterexample (the fields of one, or
    None), hint}."""
    n = int(wrt.shape[0])
    blocks = names                              # (name, size) of each variable v stands for, or None
    name = wrt.name if blocks is None else "(" + ", ".join(nm for nm, _ in blocks) + ")"   # as given
    entries = [f"{wrt.name}{sub(i)}" for i in range(n)] if blocks is None else _entries(blocks)
    keys = [wrt.name] if blocks is None else [nm for nm, _ in blocks]   # the variables a report names
    if names is not None:                       # their values in at=: v's
        at = _as_column(at, blocks, wrt)
    if kind == "hessian":
        what, sym = "Hessian", f"∂²f/∂{name}∂{name}ᵀ"
        need = (n, n)
    else:
        what, sym = "Jacobian", f"∂f/∂{name}ᵀ"
        need = (int(f.shape[0]), n)
    c_shape = _shape(claimed)
    layout = (f"the {what} {sym} is {need[0]}×{need[1]}: row i, column j is "
              + (f"∂²f/∂{name}ᵢ∂{name}ⱼ" if kind == "hessian" else f"∂fᵢ/∂{name}ⱼ (one row per output)"))
    if c_shape != need:
        if c_shape == need[::-1]:
            hint = Hint("transpose", f"the claim is {c_shape[0]}×{c_shape[1]}, the shape of the {what}'s "
                        f"transpose: the {what} has one row per output fᵢ and one column per entry of {name}")
            return dict(right=False, method=f"shapes: the claim is {c_shape[0]}×{c_shape[1]}", hint=hint,
                        layout=layout, errors=dict.fromkeys(keys, float("inf")), counterexample=None)
        raise ShapeError(f"the claim is {c_shape} but the {what} {sym} is {need[0]}×{need[1]} "
                         f"(f is {'a scalar' if kind == 'hessian' else _shape(f)}, {name} is {n}×1)")
    claim = claimed                             # DiagMatrix(v) lowers as it is
    syms = _symbols([f, wrt, claim if isinstance(claim, sp.Basic) else sp.S.Zero])
    if isinstance(claim, Function):
        def value(pt):
            return claim({key_name(k): (np.array(v) if np.ndim(v) else v) for k, v in pt.items()})
    else:
        value = Lowered(claim, syms)
    truth, lowered_grad = _lowered(kind, f, wrt, tuple(syms))
    given = {key_name(k): v for k, v in (at or {}).items()}
    rng = np.random.default_rng(seed)
    worst, rows, errs = None, [], 0.0
    for p in range(points):
        pt = {}
        for s in syms:
            if s.name in given:
                pt[s] = np.asarray(given[s.name], dtype=float) if _shape(s) else float(given[s.name])
            else:
                pt[s] = draw(s, _shape(s) if isinstance(s, sp.MatrixSymbol) else (), rng,
                             interval_of(s, assumptions, 0))
        t = np.asarray(truth(pt), dtype=float).reshape(need)
        c = np.asarray(value(pt), dtype=float).reshape(need)
        rows.append((pt, c, t))
        rel, idx = _rel(c, t)
        errs = max(errs, rel)
        if rel > RTOL and (worst is None or rel > worst[0]):
            worst = (rel, idx, p)
    cross = _cross_check(lowered_grad, wrt, rows[0][0], rows[0][2])
    called = (f"the function called with the values at their declared shapes, read as a {what} (it "
              f"returned {need[0]}×{need[1]}); " if isinstance(claim, Function) else "")
    method = called + (f"numeric: the claim against symgrad's {what} ({'sg.hessian' if kind == 'hessian' else 'sg.jacobian'}) "
              f"in float64 at {points} random point(s); symgrad's {what} cross-checked by central "
              f"differences of {'∇f' if kind == 'hessian' else 'f'} ({cross})")
    if worst is None:
        return dict(right=True, method=method, layout=layout, errors=dict.fromkeys(keys, errs), counterexample=None,
                    hint=None)
    rel, idx, p = worst
    pt, c, t = rows[p]
    point = {key_name(k): v for k, v in pt.items()}
    if blocks is not None:                      # v's entries as the variables they stand for
        col, o, mine = point.pop(wrt.name), 0, {}
        for nm, k in blocks:
            mine[nm] = float(col[o, 0]) if k == 1 else col[o:o + k]
            o += k
        point = {**mine, **point}
    ce = dict(point=point, param=name if blocks is None else _owner(blocks, idx[1]), claimed=c, true=t,
              rel_error=rel, index=idx, what=what, entries=tuple(entries))
    hint = _slip(kind, what, f, wrt, value, truth, rows, name, entries, claim, syms)
    if hint is None and kind == "hessian" and isinstance(f, sp.Basic):
        from .hessian_activation_hint import hessian_activation_hint
        hint = hessian_activation_hint(f, wrt, lambda e: _fits(e, syms, [(pt, t, c) for pt, c, t in rows]))
    if hint is None and kind == "hessian" and isinstance(f, sp.Basic):
        from .hessian_term_hint import hessian_term_hint
        hint = hessian_term_hint(f, wrt, lambda e: _differences(e, syms, rows))
    if hint is None and kind == "jacobian" and blocks is not None:
        hint = _block_slip(rows, blocks)
    if hint is None and isinstance(claim, sp.MatrixExpr) and not isinstance(claim, sp.MatrixBase):
        hint = _rewritten_slip(what, f, wrt, claim, syms, rows)
    return dict(right=False, method=method, counterexample=ce, hint=hint, layout=layout, errors=dict.fromkeys(keys, errs))


@lru_cache(maxsize=16)
def _lowered(kind, f, wrt, syms):
    """(symgrad's matrix, ∇f — or f for a Jacobian —), each lowered once for a problem: an
    autograder checks one f against many students' claims, and lowering the written-out Hessian was
    two thirds of each check's time."""
    truth = hessian(f, wrt) if kind == "hessian" else jacobian(f, wrt)
    first = grad(f, wrt) if kind == "hessian" else f
    return Lowered(truth, syms), Lowered(first, syms)


def sub(i: int) -> str:
    """i in subscript digits: x₁₂."""
    return str(i).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


def _cross_check(g, wrt, pt, t, h: float = 1e-6) -> str:
    """symgrad's matrix against central differences of g (the gradient, or f, `Lowered`) in each entry of wrt."""
    x0 = np.asarray(pt[wrt], dtype=float)
    cols = []
    for j in range(x0.shape[0]):
        e = np.zeros_like(x0)
        e[j, 0] = h
        up = np.asarray(g({**pt, wrt: x0 + e}), dtype=float).reshape(-1)
        down = np.asarray(g({**pt, wrt: x0 - e}), dtype=float).reshape(-1)
        cols.append((up - down) / (2 * h))
    fd = np.stack(cols, axis=1)
    err = np.max(np.abs(fd - t)) / max(np.max(np.abs(t)), 1.0)
    return f"agree, max relative difference {err:.1g}" if err < 1e-4 else f"DISAGREEMENT {err:.2g}"


def _slip(kind, what, f, wrt, value, truth, rows, name, entries, claim=None, syms=()) -> Hint | None:
    """The slip the claim's values show at every point, if one of the usual ones does."""
    def every(test):
        return all(test(c, t) for _, c, t in rows)
    square = rows[0][1].shape[0] == rows[0][1].shape[1]
    if square and every(lambda c, t: _close(c.T, t)) and not every(lambda c, t: _close(t.T, t)):
        return Hint("transpose", f"the claim is the transpose of the {what}: its row i is ∂fᵢ/∂{name} "
                    f"(one row per output), not its column i")
    if square and every(lambda c, t: _close(c + c.T, t)) and not every(lambda c, t: _close(c, c.T)):
        return Hint("symmetrisation left out", f"the claim plus its transpose is the {what}: "
                    f"∂²(xᵀAx)/∂x² is A + Aᵀ, not A — 2A only when A is symmetric")
    if square and every(lambda c, t: _close((c + c.T) / 2, t)) and not every(lambda c, t: _close(c, c.T)):
        return Hint("symmetric A assumed", f"the claim's symmetric part (C + Cᵀ)/2 is the {what}, but the claim "
                    f"is not symmetric: 2A is ∂²(xᵀAx)/∂x² only for a symmetric A; in general it is A + Aᵀ")
    scaled = _scaled(what, rows)
    if scaled is not None:
        return scaled
    if square and every(lambda c, t: _close(c, np.diag(np.diag(t)))) and not every(lambda c, t: _close(t, np.diag(np.diag(t)))):
        return Hint("off-diagonal terms left out", f"the claim is the {what}'s diagonal only: a softmax's "
                    f"Jacobian is diag(p) − ppᵀ, every output depends on every input")
    # an entry and its mirror are one slip in a square matrix (a Hessian's symmetric pair); in an m×n
    # Jacobian [0, 1] and [1, 0] are two entries (a block transposed), not one
    wrong = {frozenset({(i, j), (j, i)} if square else {(i, j)}) for _, c, t in rows for i, j in zip(*np.nonzero(
        np.abs(c - t) > CLOSE * max(np.max(np.abs(t)), 1.0))) for i, j in [(int(i), int(j))]}
    if len(wrong) == 1:
        (pair,) = wrong
        (i, j) = min(pair)
        e = list(entries)
        at_ = (f"∂²f/∂{e[i]}∂{e[j]}" if kind == "hessian" else f"∂f{sub(i)}/∂{e[j]}")
        mirror = f" (and its mirror [{j}, {i}])" if i != j and square and all(
            abs(c[i, j] - t[i, j]) > 0 and abs(c[j, i] - t[j, i]) > 0 for _, c, t in rows) else ""
        return Hint("one entry wrong", f"the claim differs from the {what} only in the entry [{i}, {j}], "
                    f"{at_}{mirror}: re-derive that one")
    if square and every(_rank_one):
        if _outer_product_off(claim, syms, rows):   # (I + xxᵀ/r²)/r, (I − xxᵀ)/r: the term is there, but wrong
            return Hint("rank-one term wrong", f"the claim differs from the {what} by a symmetric rank-one "
                        f"matrix uuᵀ: its outer-product term is there, but with the wrong sign or scale (for "
                        f"‖x‖'s Hessian (I − xxᵀ/‖x‖²)/‖x‖, a softmax's diag(p) − ppᵀ).")
        soft = " (a softmax's Jacobian is diag(p) − ppᵀ: the −ppᵀ term left out?)" if "softmax" in str(f) else ""
        return Hint("rank-one term left out", f"the claim differs from the {what} by a symmetric rank-one "
                    f"matrix uuᵀ{soft}.")
    if kind == "hessian" and isinstance(f, sp.Basic):
        gn = _gauss_newton(f, wrt, rows)
        if gn:
            return gn
    pt, c, t = rows[0]
    there = {**pt, wrt: pt[wrt] + 1.0}          # wrt moved, the rest kept: does the claim follow?
    if _close(np.asarray(value(there), dtype=float).reshape(t.shape), c):
        moved = np.asarray(truth(there), dtype=float).reshape(t.shape)
        if not _close(moved, t):
            sig = " (logistic regression's XᵀSX needs S = diag(σ ⊙ (1 − σ)) of σ = σ(Xw))" \
                if "sigmoid" in str(f) or "softplus" in str(f) else ""
            return Hint("weight left out", f"the claim does not depend on {name}, but the {what} does: "
                        f"a factor that varies with {name} is left out{sig}")
    return None


def _scaled(what, rows) -> Hint | None:
    """The claim is k times the matrix at every point, k a simple fraction: the gradient hints'
    kinds ("flipped sign", "constant factor", "flipped sign and constant factor") and words."""
    from fractions import Fraction
    tt = sum(float(np.sum(t * t)) for _, _, t in rows)
    if tt == 0:
        return None
    k = sum(float(np.sum(c * t)) for _, c, t in rows) / tt
    fr = Fraction(k).limit_denominator(64)
    if fr == 0 or fr == 1 or abs(float(fr) - k) > 1e-6 * abs(k) or not all(_close(c, float(fr) * t) for _, c, t in rows):
        return None
    ks = str(fr).replace("-", "−")
    if fr == -1:
        return Hint("flipped sign", f"the claim is −1 times the {what}.")
    why = {2: " (a factor 2 too many: the ½ of ½(…)² dropped, or a square's 2 counted twice)",
           Fraction(1, 2): " (a factor 2 missing: the 2 from differentiating a square)"}.get(abs(fr), "")
    return Hint(f"{'flipped sign and ' if fr < 0 else ''}constant factor", f"the claim is {ks} times the {what}{why}.")


def _block_slip(rows, blocks) -> Hint | None:
    """A joint Jacobian [J_w J_b] whose blocks are right but one: that block named, as the transpose
    of ∂f/∂w, a multiple of it, or just wrong (its columns said)."""
    spans, o = [], 0
    for nm, n in blocks:
        spans.append((nm, o, o + n))
        o += n
    wrong = [(nm, a, b) for nm, a, b in spans if not all(_close(c[:, a:b], t[:, a:b]) for _, c, t in rows)]
    if len(wrong) != 1 or len(spans) < 2:
        return None
    (nm, a, b), right = wrong[0], ", ".join(f"∂f/∂{n}" for n, _, _ in spans if n != wrong[0][0])
    tail = f"; the blocks {right} are right" if len(spans) > 2 else f"; the block {right} is right"
    blk = [(c[:, a:b], t[:, a:b]) for _, c, t in rows]
    if blk[0][0].shape[0] == blk[0][0].shape[1] and all(_close(c.T, t) for c, t in blk) \
            and not all(_close(t.T, t) for _, t in blk):
        return Hint("transpose", f"the claim's block for {nm} (columns {a}–{b - 1}) is the transpose of "
                    f"∂f/∂{nm}: its row i is ∂fᵢ/∂{nm} (one row per output){tail}.")
    for k in (2, 0.5, -1):
        if all(_close(c, k * t) for c, t in blk):
            return Hint("flipped sign" if k == -1 else "constant factor",
                        f"the claim's block for {nm} (columns {a}–{b - 1}) is {'−1' if k == -1 else '½' if k == 0.5 else k} "
                        f"times ∂f/∂{nm}{tail}.")
    return Hint("one block wrong", f"the claim differs from the Jacobian only in its block for {nm} "
                f"(columns {a}–{b - 1}), ∂f/∂{nm}{tail}: re-derive that one.")


def _fits(e, syms, rows) -> bool:
    """The expression e evaluates to the third of each (point, claim, truth) of ``rows``, at every point."""
    try:
        low = Lowered(e, syms)
        return all(_close(np.asarray(low(pt), dtype=float).reshape(t.shape), t) for pt, _, t in rows)
    except Exception:   # noqa: BLE001 - a candidate that does not evaluate is no slip
        return False


def _differences(e, syms, rows) -> list | None:
    """Per point, (claim − truth, e's value): how a term's matrix e is read against the claim's error."""
    try:
        low = Lowered(e, syms)
        return [(c - t, np.asarray(low(pt), dtype=float).reshape(t.shape)) for pt, c, t in rows]
    except Exception:   # noqa: BLE001 - a term that does not evaluate is no slip
        return None


def _rewritten_slip(what, f, wrt, claim, syms, rows) -> Hint | None:
    """A matrix claim right once rewritten: some square matrices exchanged with their transposes
    (A(…)Aᵀ for Aᵀ(…)A: transposes_dropped_hint's candidates), or the chain rule's matrix M of
    f(Mx + b) left out on both sides (∇²g for Mᵀ∇²g M)."""
    from .transposes_dropped_hint import _candidates, _square_symbols, _toggled, exchanged_words

    def fits(e):
        try:
            low = Lowered(e, syms)
            return all(_close(np.asarray(low(pt), dtype=float).reshape(t.shape), t) for pt, _, t in rows)
        except Exception:   # noqa: BLE001 - a candidate that does not evaluate is no slip
            return False
    for tried, group in enumerate(_candidates([m for m in _square_symbols(claim) if m != wrt])):
        if tried >= 12:
            break
        new = _toggled(claim, group)
        if new != claim and fits(new):
            return Hint("transposes left out", f"the claim is the {what} once {exchanged_words(group)}: "
                        f"{new} — for f(Mx), the chain rule brings Mᵀ on the left and M on the right.")
    if isinstance(claim, sp.MatMul):        # A(…)Aᵀ for Aᵀ(…)A: the outer factors only, f's inner A kept
        args = list(claim.args)
        spots = [i for i, a in enumerate(args) if (isinstance(a, sp.MatrixSymbol) or isinstance(a, sp.Transpose)
                 and isinstance(a.arg, sp.MatrixSymbol)) and a.shape[0] == a.shape[1] and a != wrt]
        for k in (1, 2):
            for group in combinations(spots, k):
                new = sp.MatMul(*[a.T if i in group else a for i, a in enumerate(args)])
                if new != claim and fits(new):
                    return Hint("transposes left out", f"the claim is the {what} once its factors "
                                f"{', '.join(str(args[i]) for i in group)} are transposed: {new} — for f(Mx), "
                                f"the chain rule brings Mᵀ on the left and M on the right.")
    n = int(wrt.shape[0])
    for M in sorted((m for m in f.free_symbols if isinstance(m, sp.MatrixSymbol) and m != wrt
                     and m.shape[1] == n and m.shape[0] == claim.shape[0]), key=lambda m: m.name):
        new = M.T * claim * M
        if fits(new):
            return Hint("matrix factor left out", f"the claim is the {what} of the outer function only: "
                        f"for f(u) with u = {M}·{wrt.name} + …, the {what} is {M.T}·(…)·{M} — {new}.")
    return None


def _outer_product_off(claim, syms, rows) -> bool:
    """The claim's expression holds a product u·vᵀ of a column and a row (xxᵀ, ppᵀ) and, at every
    point, the claim differs from the truth by a multiple of that product: the term is there with the
    wrong sign or scale. A difference along another direction is a term left out (‖x‖ + (aᵀx)²'s
    Hessian without 2aaᵀ holds ‖x‖'s xxᵀ, right)."""
    if not isinstance(claim, sp.Basic):
        return False
    for m in dict.fromkeys(sp.preorder_traversal(claim)):
        if not isinstance(m, sp.MatMul):
            continue
        mats = [a for a in m.args if isinstance(a, sp.MatrixExpr)]
        if not any(a.shape[1] == 1 and b.shape[0] == 1 for a, b in zip(mats, mats[1:])):
            continue
        try:
            low = Lowered(m, syms)
            outer = [np.asarray(low(pt), dtype=float).reshape(c.shape) for pt, c, _ in rows]
        except Exception:   # noqa: BLE001 - a term that does not evaluate alone says nothing here
            continue
        if all(_along(c - t, o) for (_, c, t), o in zip(rows, outer)):
            return True
    return False


def _along(d, o) -> bool:
    """Whether the matrix ``d`` is a multiple of ``o`` (|cos| of their angle 1, up to CLOSE)."""
    nd, no = np.linalg.norm(d), np.linalg.norm(o)
    return bool(nd > 0 and no > 0 and abs(np.sum(d * o)) >= (1 - CLOSE) * nd * no)


def _rank_one(c, t) -> bool:
    d = c - t
    sv = np.linalg.svd(d, compute_uv=False)
    return _close(d, d.T) and sv[0] > 0 and (len(sv) < 2 or sv[1] <= CLOSE * sv[0])


def _gauss_newton(f, wrt, rows) -> Hint | None:
    """f = ½‖r‖² (sg.sum of r ⊙ r, halved) with a claim equal to JᵀJ: the Gauss–Newton part only."""
    body = f
    coeff = sp.S.One
    if isinstance(body, sp.Mul):
        coeff, rest = body.as_coeff_Mul()
        body = rest
    args = getattr(body, "args", ())
    if not args or not isinstance(body, Total):
        return None
    inner = args[0]
    if isinstance(inner, sp.HadamardPower) and inner.args[1] == 2:
        r = inner.args[0]
    elif isinstance(inner, sp.HadamardProduct) and len(inner.args) == 2 and inner.args[0] == inner.args[1]:
        r = inner.args[0]
    else:
        return None
    if not (isinstance(r, sp.MatrixExpr) and r.shape[1] == 1):
        return None
    J = Lowered(jacobian(r, wrt), [k for k in rows[0][0] if isinstance(k, sp.Basic)])
    for pt, c, _ in rows:
        j = np.asarray(J(pt), dtype=float).reshape(int(r.shape[0]), -1)
        if not _close(c, 2 * float(coeff) * j.T @ j):
            return None
    return Hint("Gauss–Newton part only", "the claim is JᵀJ (J = ∂r/∂xᵀ) for f = ½‖r‖²: the Hessian is JᵀJ "
                "+ Σᵢ rᵢ ∇²rᵢ, equal to JᵀJ only where r is linear in x (or r = 0)")


__all__ = ["reading", "check_matrix_claim"]
