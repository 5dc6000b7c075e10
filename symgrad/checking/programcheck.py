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

Kinks. A central difference whose interval [p − h, p + h] holds a kink (relu, |x|, max switching)
differences across it: it reads the mean of the two one-sided slopes, and a right gradient would
look wrong (torch.autograd.gradcheck's documentation warns of this, and leaves it to the user). So
an entry that disagrees is looked at again: first with smaller steps h/10, h/100, h/1000 (as long as
round-off allows), which step past a kink that is near but not at p; then, if it still disagrees, by
its one-sided slopes from the left and from the right (second-order one-sided differences over
p, p ± h, p ± 2h, which agree to O(h²) on a smooth loss). When these two differ by more than the
tolerance and round-off (a jump in the slope) and the program's value lies between them (one of
them, by the subgradient policy, or in between when several kinks meet at p), the entry is "at a
kink: not compared" and listed in the report with both slopes; any other disagreement is reported
as before.
A wrong gradient is therefore still found: away from kinks its entries disagree with both slopes,
and at a kink a value outside both is wrong.

Round-off. Each evaluation of the loss is off by about ε·|L|, so a central difference of step h is
good to about ε·|L|/h absolute: for a float32 program without a float64 twin (Triton) at h = 1e-2,
about 1e-5, which is a relative error of 1e-4 for an entry of 0.02. An entry whose program value and
central difference are closer than 4·ε·|L|/h is not counted as an error (the report says how many,
and their largest relative error); the smaller steps above are tried only while their round-off
stays below the difference being resolved.

Truncation (float32 only). The step of a float32 program is large (1e-2 … 3e-2) and chosen along
a random direction; along one entry the loss may bend more, and D(h)'s truncation error h²·L'''/6
reached 1e-3 relative on a right tanh network's W1. An entry that disagrees at h is compared again
with Richardson's extrapolation (4·D(h/2) − D(h))/3 (error O(h⁴), round-off 3·ε·|L|/h) before the
kink tests; float64's h (about 1e-5) leaves truncation below round-off, and it is not done there.
Last (float32 only), an entry next to a kink whose smaller steps round-off stopped short of it is
compared with the one-sided slope of the side without the kink (`_kink_free_side`).

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
from ..errors import ArgumentError, SymgradError
from .arguments import check_gradcheck_arguments
from .held_loss import held_loss, loss_note

NOT_COMPARED = "not compared: every entry checked is at a kink (or within round-off)"

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


def passed_band(rel: float, tol: float) -> str:
    """The words of a float32 parameter whose error is under the tolerance but above "fine": it
    passed, and by how much — a float32 central difference is good to about 1e-5 relative at best,
    so cs231n's "suspicious otherwise" (written for float64) would read a right gradient as doubtful.

    >>> passed_band(9.9e-5, 1e-4)
    'passed: below the tolerance 1e-04 by a factor of 1.01 (float32 round-off and truncation, not a wrong gradient)'
    """
    return (f"passed: below the tolerance {tol:.0e} by a factor of {tol / rel:.3g} (float32 round-off "
            f"and truncation, not a wrong gradient)")


def _entry(name: str, index) -> str:
    """W1[1, 0]; a scalar parameter by its name alone."""
    return name + (f"[{', '.join(map(str, index))}]" if index else "")


@dataclass
class Kink:
    """An entry whose central difference crosses a kink: not compared. ``left`` and ``right`` are
    the one-sided slopes at p from the left and from the right (second-order one-sided differences
    of step ``step``); the program's value ``analytic`` lies between them (a subgradient)."""
    index: tuple | None
    analytic: float
    left: float
    right: float
    step: float


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
    kinks: list = field(default_factory=list)     # Kink per entry not compared (at a kink)
    compared: int = 0                             # entries compared

    def __str__(self):
        if not np.isfinite(self.analytic):
            return f"{self.name}: {self.note} — {self.band}"
        if self.compared:
            s = (f"{self.name}: max relative error {self.max_rel_error:.2g} at {_entry(self.name, self.index)} "
                 f"(program {self.analytic:.6g}, central difference {self.numeric:.6g}) — {self.band}; "
                 f"step h = {self.step:.0e}")
        else:
            s = f"{self.name}: {self.band}"
        if self.taylor_order is not None:
            s += f", Taylor test order {self.taylor_order:.2f} (2 when the gradient is right"
            s += ("; a kink crossed along the test's direction makes it 1)" if self.kinks else ")")
        if self.kinks:
            k = self.kinks[0]
            s += (f"; {len(self.kinks)} entr{'y' if len(self.kinks) == 1 else 'ies'} at a kink: not "
                  f"compared, e.g. {_entry(self.name, k.index)} (program {k.analytic:.6g}, one-sided "
                  f"differences {k.left:.6g} from the left and {k.right:.6g} from the right, h = {k.step:.0e})")
        return s + (f". {self.note}" if self.note else "")


@dataclass
class GradcheckResult:
    params: dict = field(default_factory=dict)   # name -> ParamReport
    tol: float = 1e-4
    masks_seed: int | None = None   # dropout: the seed of the masks held fixed (None: no dropout)
    held: str | None = None         # stop_gradients held at the point (None: the program has none)

    def __bool__(self):
        return all(p.max_rel_error < self.tol for p in self.params.values())

    def to_dict(self) -> dict:
        """Plain data for a program to read (`symgrad.checking.report_dict.gradcheck_result`)."""
        from .report_dict import gradcheck_result
        return gradcheck_result(self)

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
        if self.held is not None:
            lines.append("  " + self.held)
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
    # a torch tensor (parameters that require grad too) by its values, without NumPy 2's __array__
    # DeprecationWarning: a copy, so the point never moves with the caller's tensor
    base = {k: np.array(v.detach().cpu().numpy() if hasattr(v, "detach") else v, dtype=float)
            for k, v in values.items()}
    # dropout: the gradient and every differenced loss under the same masks, those of `seed`
    fixed = bool(getattr(program, "has_dropout", False))
    masks = {"dropout_seed": seed} if fixed else {}
    # The program gets copies, of the values and of the batch, at every call: a .grad or .loss that
    # writes into its arguments (a hand-written program updating v['W'] in place) must not move the
    # point the central differences are taken at.
    grads = _as_dict(program.grad(_copies(base), _copies(batch), **masks), list(base))
    res = GradcheckResult(tol=tol, masks_seed=seed if fixed else None)
    # stop_gradients: the program's .loss sees through them (their value is their argument's); the
    # gradient is of the loss with each held at its value at the point, and that loss is differenced
    held = held_loss(program, base, batch)
    if held is not None:
        res.held = loss_note(held, float(program.loss(_copies(base), _copies(batch))), eps)
        if low:         # the differences are float64 now; the gradient is still the program's float32
            low = (f"The program computes in {np.dtype(program.dtype).name}: its gradient is compared with "
                   f"that precision's steps and round-off allowance, errors near {eps ** (2 / 3):.0e} are round-off")
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
            vals = _copies(base)
            vals[k] = p + delta
            if held is not None:
                return held(vals)
            return float(program.loss(vals, _copies(batch), **masks))

        h, order, L0 = _choose_step(L, p, g, rng, eps)
        flat = np.arange(p.size)
        if p.size > max_entries:
            flat = rng.choice(p.size, max_entries, replace=False)
        best = (-1.0, None, 0.0, 0.0, h)
        kinks, roundoff = [], []        # entries at a kink; entries apart by less than round-off
        for i in flat:
            idx = tuple(int(j) for j in np.unravel_index(int(i), p.shape)) if p.shape else None
            a = float(g.reshape(-1)[i])
            rel, n, at, kink, noisy = _compare_entry(L, L0, p.shape, int(i), a, h, eps, tol)
            if kink is not None:
                kinks.append(Kink(idx, a, *kink, at))
            elif noisy:
                roundoff.append(rel)
            elif rel > best[0]:
                best = (rel, idx, a, n, at)
        rel, idx, a, n, at = best
        note = low
        if roundoff:
            note = (f"{len(roundoff)} entr{'y' if len(roundoff) == 1 else 'ies'} (relative error up to "
                    f"{max(roundoff):.2g}) differ by less than the round-off of their central difference "
                    f"(4·ε·|L|/h): not counted" + (f". {low}" if low else ""))
        if rel < 0:                     # every entry checked is at a kink or within round-off
            res.params[name] = ParamReport(name, 0.0, None, kinks[0].analytic if kinks else 0.0, np.nan,
                                           h, order, NOT_COMPARED, note, kinks, 0)
        else:
            words = passed_band(rel, tol) if low and rel < tol and band(rel) != "fine" else band(rel)
            res.params[name] = ParamReport(name, rel, idx, a, n, at, order, words, note, kinks,
                                           len(flat) - len(kinks) - len(roundoff))
    return res


def _rel(a: float, n: float) -> float:
    denom = max(abs(a), abs(n))
    return 0.0 if denom == 0 else abs(a - n) / denom


def _compare_entry(L, L0, shape, i, a, h, eps, tol):
    """(relative error, central difference, the step it was taken at, kink, within round-off) for
    entry ``i`` of a parameter whose program gradient there is ``a``. ``kink`` is None, or (left,
    right): the one-sided slopes, when the entry is at a kink and not compared; ``within round-off``
    is True when the difference |a − n| is below the round-off of the central difference itself
    (4·ε·|L|/h: a float32 loss differenced at h = 1e-2 is good to about 1e-5 absolute). See the
    module docstring."""
    def at(s):
        e = np.zeros(int(np.prod(shape, dtype=int)))
        e[i] = s
        return L(e.reshape(shape))

    def central(s):
        return (at(s) - at(-s)) / (2 * s)

    roundoff = eps * max(abs(L0), 1e-300)        # of one evaluation of the loss

    def verdict(n_s, s, noise=1.0):
        # noise: the round-off of n_s in units of roundoff / s (1 for one central difference)
        rel_s = _rel(a, n_s)
        if rel_s < tol:
            return rel_s, n_s, s, None, False
        if abs(a - n_s) <= 4 * noise * roundoff / s:
            return rel_s, n_s, s, None, True
        return None

    n = central(h)
    done = verdict(n, h)
    if done:
        return done
    # Truncation. h was chosen along a random direction; along one entry the loss may bend more
    # (a tanh layer's W1: D(1e-2) off by 1e-4 ... 5e-3 relative). Richardson's extrapolation
    # (4·D(h/2) − D(h))/3 removes the h² term of the central difference (its error is O(h⁴)), at a
    # round-off of (4·2 + 1)/3 = 3 central differences' round-off (ε·|L|/h). Across a kink it is no
    # better than D(h), and the entry goes on to the kink's tests below.
    # Only below float64: there h is small enough (about 1e-5) that truncation is below round-off.
    if eps > np.finfo(np.float64).eps:
        n_rich = (4 * central(h / 2) - n) / 3
        done = verdict(n_rich, h, noise=3.0)
        if done:
            return done
    # A kink near p (not at it): smaller steps step past it, while their round-off stays below
    # the difference to be resolved.
    s = h
    while s > h * 1e-3 and 4 * roundoff / (s / 10) < 0.5 * abs(a - n):
        s /= 10
        done = verdict(central(s), s)
        if done:
            return done
    # Still apart at the smallest step. The one-sided slopes from each side, to second order (p,
    # p ± s, p ± 2s: exact for a quadratic, so that on a smooth loss the two sides agree to O(s²)
    # even where s must be large, as in float32). At a kink they differ by a jump, and the
    # program's value is one side's slope (the side p is on, or by the subgradient policy when p
    # is on the kink) or between them. Anything else is a wrong gradient.
    up, down, up2, down2 = at(s), at(-s), at(2 * s), at(-2 * s)
    left, right = (3 * L0 - 4 * down + down2) / (2 * s), (-3 * L0 + 4 * up - up2) / (2 * s)
    jump = abs(left - right)
    noise = tol * max(abs(left), abs(right), abs(a)) + 8 * roundoff / s
    if jump > noise and min(left, right) - noise - 0.1 * jump <= a <= max(left, right) + noise + 0.1 * jump:
        return _rel(a, n), n, s, (left, right), False
    if eps > np.finfo(np.float64).eps:
        done = _kink_free_side(at, L0, h, roundoff, a, tol)
        if done:
            return done
    return _rel(a, n), n, h, None, False


def _kink_free_side(at, L0, h, roundoff, a, tol):
    """A float32 entry next to a kink (not on it) that the steps above could not step past: the
    kink is nearer than h/1000, or round-off (ε·|L|/s, large when |L| is) stops the steps short of
    it. The side of p without the kink is smooth: there the one-sided slope from p, p ± s, p ± 2s
    is taken at s = h, h/2, … h/32, and at the largest s where two successive ones agree (no kink
    within 2s on that side; exact for a relu network's loss, quadratic in one entry between kinks)
    it is the derivative at p, good to its round-off 4·ε·|L|/s at a step large enough to make that
    small. The verdict, as for a central difference, or None when no side is smooth or the
    program's value agrees with neither."""
    steps = [h / 2 ** k for k in range(6)]
    best = None
    for sign in (-1, 1):
        cache = {}

        def f(x):
            if x not in cache:
                cache[x] = at(x)
            return cache[x]

        slope = [sign * (-3 * L0 + 4 * f(sign * s) - f(sign * 2 * s)) / (2 * s) for s in steps]
        for k in range(len(steps) - 1):
            s, d, d2 = steps[k], slope[k], slope[k + 1]
            noise = 16 * roundoff / steps[k + 1]        # 4 × the round-off of the smaller step's slope
            if abs(d - d2) <= tol * max(abs(d), abs(d2)) + noise:
                rel = _rel(a, d)
                if rel < tol:
                    return rel, d, s, None, False
                if abs(a - d) <= 16 * roundoff / s:
                    best = best or (rel, d, s, None, True)
                break
    return best


def _as_dict(grads, names) -> Mapping:
    """.grad's return by parameter: a dict as it is; a lone array for one parameter (cs231n's grad
    returns dW itself) or a list or tuple in values' order, as sg.check reads a callable claim's."""
    if isinstance(grads, Mapping):
        return grads
    if isinstance(grads, (list, tuple)) and any(isinstance(g, Mapping) for g in grads):
        raise ArgumentError(f"the program's .grad returned a {type(grads).__name__} holding a dict — cs231n's "
                            f"(loss, grads)? .grad returns the dict {{name: gradient}} alone: "
                            f"grad=lambda v, b: f(v, b)[1]")
    if isinstance(grads, (list, tuple)) and len(grads) == len(names) and len(names) > 1:
        return dict(zip(names, grads))
    if len(names) == 1 and not isinstance(grads, (list, tuple, str)) and grads is not None:
        return {names[0]: grads}
    what = (f"a {type(grads).__name__} of {len(grads)}" if isinstance(grads, (list, tuple))
            else type(grads).__name__)
    raise ArgumentError(f"the program's .grad returned {what}; it returns a dict {{name: gradient}} for "
                        f"the parameters {', '.join(map(str, names))} (one array alone for one "
                        f"parameter, or a list in values' order)")


def _copies(d: Mapping) -> dict:
    """The same mapping, each NumPy array copied and each torch tensor cloned."""
    return {k: v.copy() if isinstance(v, np.ndarray) else v.clone() if hasattr(v, "clone") else v
            for k, v in d.items()}


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
    """(h, observed order of the Taylor remainder of g, L(p)). See the module docstring."""
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
    # Taylor test of the program's gradient: remainders at h0, h0/2, h0/4, from the smallest h0 of
    # 10⁻⁵ … 10⁻² (times the scale) whose remainders stand well above round-off: the larger the
    # steps, the likelier they cross a kink of a relu network's batch (order 1 for a right gradient).
    order = None
    floor = 1e3 * eps * max(1.0, abs(L0))
    for h0 in (scale * 10.0 ** -k for k in (5, 4, 3, 2)):
        r = [abs(L(s * v) - L0 - s * gv) for s in (h0, h0 / 2, h0 / 4)]
        if r[2] > floor:
            order = float(np.log2(r[1] / r[2]))
            break
    return h, order, L0
