"""`gradcheck`: compare a compiled program's gradient with central differences of its loss.

Works with anything that has ``.loss(values, batch) -> float`` and ``.grad(values, batch) -> {param:
array}`` (a `Program` from `sg.compile`, or a hand-written stand-in): values keyed by symbol or
name, gradients keyed like the values.

The step h is chosen per parameter by a Taylor-remainder test rather than a fixed eps. Along a random
direction v, the central difference D(h) = (L(p + hv) − L(p − hv)) / 2h has the Taylor expansion
D(h) = ⟨∇L, v⟩ + c·h² + O(h⁴), so its truncation error is about |D(h) − D(h/2)|·4/3, while
round-off grows like ε·|L|/h. Over the ladder h = 10⁻¹ … 10⁻⁸ (times max(1, |p|)) the h with the
smallest estimated total error is taken. The same ladder gives the classic Taylor test of
the program's own gradient g: the remainder |L(p + hv) − L(p) − h⟨g, v⟩| falls like h² when g is
right and only like h when it is wrong; its observed order is reported.

Each entry is then compared, relative error |a − n| / max(|a|, |n|), and described in the bands of
the cs231n notes: below 1e-7 fine; up to 1e-4 acceptable where the loss has kinks (relu, max),
suspicious otherwise; up to 1e-2 probably wrong; above 1e-2 wrong.

Dropout: a program's ``.grad`` draws fresh masks and its ``.loss`` runs with dropout off, so the two
describe different functions. When the program says it has dropout (``program.has_dropout``, as
`sg.compile`'s Program does) every ``.grad`` and ``.loss`` call is made with ``dropout_seed=seed``:
dropout on, the same masks in every call, so the gradient and the differenced loss are those of
one function, the training loss under fixed masks. The result says so (``masks_seed``).

>>> import numpy as np
>>> class Square:                       # L = mean over the batch of (w·x)²
...     def loss(self, v, b): return float(np.mean((v['w'] * b['x']) ** 2))
...     def grad(self, v, b): return {'w': np.mean(2 * v['w'] * b['x'] ** 2)}
>>> r = gradcheck(Square(), {'w': np.array(0.7)}, {'x': np.array([1.0, -2.0, 0.5])})
>>> bool(r), r.params['w'].band
(True, 'fine')
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from ..core.values import key_name, lookup
from ..errors import SymgradError
from .arguments import check_gradcheck_arguments

BANDS = [(1e-7, "fine"),
         (1e-4, "acceptable if the loss has kinks (relu, max, |x|), suspicious otherwise"),
         (1e-2, "uncomfortable: probably wrong"),
         (np.inf, "wrong")]


def band(rel: float) -> str:
    """The cs231n band of a relative error, in words."""
    for hi, words in BANDS:
        if rel < hi:
            return words
    return "wrong"


@dataclass
class ParamReport:
    name: str
    max_rel_error: float
    index: tuple | None
    analytic: float
    numeric: float
    step: float
    taylor_order: float | None
    band: str
    note: str = ""

    def __str__(self):
        if not np.isfinite(self.analytic):
            return f"{self.name}: {self.note} — {self.band}"
        at = f"[{', '.join(map(str, self.index))}]" if self.index else ""
        s = (f"{self.name}: max relative error {self.max_rel_error:.2g} at {self.name}{at} "
             f"(program {self.analytic:.6g}, central difference {self.numeric:.6g}) — {self.band}; "
             f"step h = {self.step:.0e}")
        if self.taylor_order is not None:
            s += f", Taylor test order {self.taylor_order:.2f} (2 when the gradient is right)"
        return s + (f". {self.note}" if self.note else "")


@dataclass
class GradcheckResult:
    params: dict = field(default_factory=dict)   # name -> ParamReport
    tol: float = 1e-4
    masks_seed: int | None = None   # dropout: the seed of the masks held fixed (None: no dropout)

    def __bool__(self):
        return all(p.max_rel_error < self.tol for p in self.params.values())

    @property
    def worst(self) -> ParamReport:
        return max(self.params.values(), key=lambda p: p.max_rel_error)

    def __str__(self):
        head = ("gradient ok" if self else f"gradient WRONG for "
                f"{', '.join(p.name for p in self.params.values() if p.max_rel_error >= self.tol)}")
        lines = [head] + ["  " + str(p) for p in self.params.values()]
        if self.masks_seed is not None:
            lines.append(f"  dropout masks held fixed (drawn from seed {self.masks_seed}): the gradient and the "
                         f"central differences are both of the training loss under the same masks")
        return "\n".join(lines)


def gradcheck(program, values: Mapping, batch: Mapping, *, max_entries: int = 200, seed: int = 0,
              tol: float = 1e-4) -> GradcheckResult:
    """Check ``program.grad(values, batch)`` against central differences of ``program.loss``.
    Reports per parameter the max relative error, the worst entry's index and its band in words;
    truthy when every parameter's error is below ``tol``. At most ``max_entries`` entries of each
    parameter are differenced (chosen at random when there are more). A program with dropout
    (``program.has_dropout``) is checked under fixed masks: ``.grad`` and ``.loss`` are called with
    ``dropout_seed=seed`` (see the module docstring); a stand-in with dropout takes part by having
    ``has_dropout = True`` and that keyword.

    >>> import numpy as np
    >>> class Wrong:
    ...     def loss(self, v, b): return float(np.mean((v['w'] * b['x']) ** 2))
    ...     def grad(self, v, b): return {'w': np.mean(v['w'] * b['x'] ** 2)}   # the 2 is missing
    >>> r = gradcheck(Wrong(), {'w': np.array(0.7)}, {'x': np.array([1.0, -2.0])})
    >>> bool(r), r.params['w'].band
    (False, 'wrong')
    """
    check_gradcheck_arguments(program, values, batch, max_entries, seed, tol)
    # A float32 program (sg.compile's default) is checked through its float64 twin: central
    # differences of a float32 loss are off by ~1e-3 relative, a right gradient would read "WRONG".
    twin = getattr(program, "in_float64", None)
    if twin is not None and np.dtype(getattr(program, "dtype", np.float64)).itemsize < 8:
        try:
            program = twin()
        except SymgradError:        # a backend without float64 (triton): differenced as it is
            pass
    # the loss's own precision sets the round-off of a difference (float32: ε ≈ 1.2e-7, not 2.2e-16)
    eps = float(np.finfo(np.dtype(getattr(program, "dtype", np.float64))).eps)
    low = "" if eps <= np.finfo(np.float64).eps else (
        f"The program computes in {np.dtype(program.dtype).name}: its central differences are good to "
        f"about {eps ** (2 / 3):.0e} relative at best, so errors near that are round-off")
    rng = np.random.default_rng(seed)
    base = {k: np.array(v, dtype=float) for k, v in values.items()}
    # dropout: the gradient and every differenced loss under the same masks, those of `seed`
    fixed = bool(getattr(program, "has_dropout", False))
    masks = {"dropout_seed": seed} if fixed else {}
    grads = program.grad(base, batch, **masks)
    res = GradcheckResult(tol=tol, masks_seed=seed if fixed else None)
    for k in base:
        name = key_name(k)
        p = base[k]
        try:
            g = np.asarray(lookup(grads, k), dtype=float)
        except KeyError:
            res.params[name] = _no_gradient(name, f"the program returned no gradient for {name}")
            continue
        if g.shape != p.shape:
            if g.size == p.size and g.squeeze().shape == p.squeeze().shape:
                g = g.reshape(p.shape)
            else:
                B = _batch_size(batch)
                res.params[name] = _no_gradient(
                    name, f"its gradient has shape {g.shape} but {name} has shape {p.shape}"
                    + (f": one row per example of the batch of {B} — a missing "
                       f"sum over the batch" if g.shape[:1] == (B,) else ""))
                continue

        def L(delta):
            vals = dict(base)
            vals[k] = p + delta
            return float(program.loss(vals, batch, **masks))

        h, order = _choose_step(L, p, g, rng, eps)
        flat = np.arange(p.size)
        if p.size > max_entries:
            flat = rng.choice(p.size, max_entries, replace=False)
        best = (-1.0, None, 0.0, 0.0)
        for i in flat:
            e = np.zeros(p.size)
            e[i] = h
            e = e.reshape(p.shape)
            n = (L(e) - L(-e)) / (2 * h)
            a = float(g.reshape(-1)[i])
            denom = max(abs(a), abs(n))
            rel = 0.0 if denom == 0 else abs(a - n) / denom
            if rel > best[0]:
                idx = tuple(int(j) for j in np.unravel_index(int(i), p.shape)) if p.shape else None
                best = (rel, idx, a, n)
        rel, idx, a, n = best
        res.params[name] = ParamReport(name, rel, idx, a, n, h, order, band(rel), low)
    return res


def _no_gradient(name, why) -> ParamReport:
    """The report of a parameter whose gradient is missing or cannot be compared: wrong, and why."""
    return ParamReport(name, np.inf, None, np.nan, np.nan, np.nan, None, "wrong", why)


def _batch_size(batch) -> int | None:
    for v in batch.values():
        a = np.asarray(v)
        if a.ndim:
            return a.shape[0]
    return None


def _choose_step(L, p, g, rng, eps=float(np.finfo(float).eps)):
    """(h, observed order of the Taylor remainder of g). See the module docstring."""
    v = rng.standard_normal(p.shape)
    v /= max(np.linalg.norm(v), 1e-300)
    scale = max(1.0, float(np.max(np.abs(p))) if p.size else 1.0)
    L0 = L(np.zeros_like(p))
    gv = float(np.sum(g * v))
    ladder = [scale * 10.0 ** -k for k in range(1, 9)]
    D = {h: (L(h * v) - L(-h * v)) / (2 * h) for h in ladder}
    D.update({h / 2: (L(h / 2 * v) - L(-h / 2 * v)) / h for h in ladder})
    # Estimated error of D(h): truncation |D(h) − D(h/2)|·4/3 plus round-off ε·|L|/h (ε of the loss's dtype).
    est = {h: abs(D[h] - D[h / 2]) * 4 / 3 + eps * max(abs(L0), 1e-300) / h for h in ladder}
    h = min(ladder, key=lambda s: (est[s], -s))
    # Taylor test of the program's gradient: remainders at h0, h0/2, h0/4 from a moderate h0.
    h0 = scale * 1e-2
    r = [abs(L(s * v) - L0 - s * gv) for s in (h0, h0 / 2, h0 / 4)]
    order = None
    if r[1] > 1e-13 * max(1.0, abs(L0)) and r[2] > 0:
        order = float(np.log2(r[1] / r[2]))
    return h, order
