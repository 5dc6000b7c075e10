"""Batch statistics written as cs231n and the slides write their gradients.

Batch norm (and layer norm) normalises with statistics of its own input, x̂ = (x − μ)/√(σ² + ε) with
μ = Σₙ xₙ/N and σ² = Σₙ (xₙ − μ)²/N. Reverse mode walks the lowering node by node (−μ, x − μ, its
square, its sum, ...); a slide skips those and writes the three gradients of the statistics' layer
(cs231n's ``batchnorm_backward``):

    ∂L/∂σ² = Σₙ ∂L/∂x̂ₙ·(xₙ − μ) · (−1/2)·(σ² + ε)^(−3/2)
    ∂L/∂μ  = −Σₙ ∂L/∂x̂ₙ/√(σ² + ε) + ∂L/∂σ² · (−2/N)·Σₙ (xₙ − μ)
    ∂L/∂x  = ∂L/∂x̂/√(σ² + ε) + ∂L/∂σ² · 2·(x − μ)/N + ∂L/∂μ/N

Here `find` recognises x̂ in f (the user's ``(x - x.mean(axis=0)) / sp.sqrt(x.var(axis=0) + eps)``,
or the variance spelled ``((x - μ)**2).mean(axis=0)``); `plan` names x̂, μ and σ² when the user has
not, so that they are nodes of the derivation; `rewrite` replaces reverse mode's steps between x
and x̂ by the three above, with their numbers at the point (computed from the formulas, and equal to
reverse mode's: tests/teaching/test_statistics_steps.py checks them against `sg.grad`).

>>> import sympy as sp, symgrad as sg
>>> x = sg.tensor("x", (4, 3))
>>> (n,) = find(sg.sum((x - x.mean(axis=0)) / sp.sqrt(x.var(axis=0) + sp.Rational(1, 10**5))))
>>> n.z, n.axes, n.eps
(x, (0,), 1/100000)
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from ..frontend import tensor as T
from .notation import BatchSum, Chain, Value, partial
from .render import show
from .step_record import NodeStep, Rule

_HALF = sp.Rational(-1, 2)


@dataclass
class Norm:
    """One normalisation x̂ = (z − mean)·(var + eps)^(−1/2) found in f, over ``axes`` of z."""
    z: Any
    axes: tuple
    eps: Any
    correction: Any
    xhat: Any          # the expression of x̂, as it is a part of f (a name makes it a node)
    mean: Any          # z.mean(axes)
    var: Any           # z.var(axes) (or ((z − mean)²).mean(axes) as the user wrote it)


def _deviation(node):
    """(z, the mean) when ``node`` is z − z.mean(axes) (in any order), else None."""
    if not isinstance(node, sp.Add):
        return None
    for k, b in enumerate(node.args):         # SymPy flattens (b + x@W) − mean(b + x@W) into one sum
        c, m = b.as_coeff_Mul() if isinstance(b, sp.Mul) else (sp.S.One, b)
        if c == -1 and isinstance(m, T.Reduce) and m.op == "mean":
            rest = node.args[:k] + node.args[k + 1:]
            z = rest[0] if len(rest) == 1 else sp.Add(*rest)
            if z == m.x or (T.is_tensor_expr(m.x) and sp.Add(*rest) == T._unwrap(m.x)):
                return m.x, m
    return None


def _variance(v, z, mean):
    """(axes, correction) when ``v`` is the variance of z over mean's axes, else None."""
    v = T._unwrap(v) if isinstance(v, T.Ewise) else v
    if isinstance(v, T.Variance) and v.x == z and v.axes == mean.axes:
        return v.axes, v.correction
    if isinstance(v, T.Reduce) and v.op == "mean" and v.axes == mean.axes:
        sq = T._unwrap(v.x)
        if isinstance(sq, sp.Pow) and sq.exp == 2 and _deviation(T._unwrap(sq.base)) == (z, mean):
            return v.axes, sp.S.Zero
    return None


def _match(mul):
    """A `Norm` when the product ``mul`` has the factors (z − mean) and (var + eps)^(−1/2)."""
    if not isinstance(mul, sp.Mul):
        return None
    devs = [(a, _deviation(a)) for a in mul.args]
    factor, dev = next(((a, d) for a, d in devs if d is not None), (None, None))
    if dev is None:
        return None
    z, mean = dev
    for p in mul.args:
        if not (isinstance(p, sp.Pow) and p.exp == _HALF):
            continue
        base = T._unwrap(p.base)
        if not isinstance(base, sp.Add):
            continue
        # ε: a positive number, or the user's own scalar symbol (ε = sp.Symbol("epsilon"))
        eps = [a for a in base.args if a.is_number or (isinstance(a, sp.Symbol) and not T.is_tensor_expr(a))]
        rest = [a for a in base.args if a not in eps]
        if len(eps) != 1 or len(rest) != 1 or eps[0].is_positive is False or eps[0].is_zero:
            continue
        got = _variance(rest[0], z, mean)
        if got is None:
            continue
        xhat = T.Ewise(sp.Mul(factor, p), tuple(T.shape_of(z)))      # f's own factors: a name finds them
        return Norm(z, got[0], eps[0], got[1], xhat, mean, rest[0])
    return None


def find(f) -> list:
    """The normalisations in f (tensor declarations), each once, in the order met."""
    out, seen = [], set()
    if not (isinstance(f, sp.Basic) and f.has(T.Reduce)):     # no mean anywhere (a matrix network)
        return out
    for node in sp.preorder_traversal(f):
        n = _match(node) if isinstance(node, sp.Mul) and node.has(T.Reduce) else None
        if n is not None and (n.z, n.axes) not in seen:
            seen.add((n.z, n.axes))
            out.append(n)
    return out


def plan(f):
    """(names, norms): names for x̂, μ and σ² of each normalisation in f ({Tensor: expression}, the
    innermost layer first: a name of an outer layer holds the inner x̂ as a node, so they are
    applied in this order), and the normalisations as they are in f once named. A second layer
    is numbered (x̂₂, μ₂, σ²₂). The caller lets the user's own names take precedence."""
    from .names import occurs, regroup
    for _ in range(len(find(f))):           # one x̂ made a node per round, the innermost first
        todo = [n for n in find(f) if not occurs(f, n.xhat)]
        if not todo:
            break
        inner = [n for n in todo if not any(m is not n and n.z.has(m.mean) for m in todo)] or todo
        g = regroup(f, {T.Tensor("xhat", T.shape_of(inner[0].z)): inner[0].xhat})
        if g is f:
            break
        f = g
    norms = find(f)
    found = list(norms)                     # (list.sort empties the list while it sorts)
    norms.sort(key=lambda n: sum(n.z.has(m.mean) for m in found if m is not n))     # innermost first
    names = {}
    for k, n in enumerate(norms, 1):
        tag = f"_{k}" if len(norms) > 1 else ""
        names[T.Tensor(f"xhat{tag}", T.shape_of(n.z))] = n.xhat
        names[T.Tensor(f"mu{tag}", T.shape_of(n.mean))] = n.mean
        names[T.Tensor(f"sigma{tag}^2", T.shape_of(n.var))] = n.var
    return names, norms


# ---------------------------------------------------------------------------------------------------
# The steps.

def rewrite(steps: list, norms, d, nm, out_name, gsym, vals, at, names=None) -> list:
    """``steps`` with reverse mode's steps from x̂ down to its input z replaced by cs231n's three
    (∂L/∂σ², ∂L/∂μ, ∂L/∂z), for each normalisation whose nodes between z and x̂ serve x̂ alone;
    ``names``: the user's, which may name σ² even where it is no node of its own."""
    for n in norms:
        var_name = next((sp.Symbol(str(k)) for k, v in (names or {}).items() if v == n.var), None)
        steps = _rewrite_one(steps, n, d, nm, out_name, gsym, vals, at, var_name)
    return steps


def _region(nm, g, z, xh, mu):
    """The nodes strictly between z and x̂ (the lowering of μ, σ², x − μ, ...), or None when one
    of them, or z itself, feeds anything but x̂'s computation (then reverse mode's steps stay)."""
    below = {e.out.id for e in g.ancestors([xh])}
    above, todo = set(), [z.id]                      # what depends on z
    while todo:
        for e in nm.consumers.get(todo.pop(), ()):
            if e.out.id not in above:
                above.add(e.out.id)
                todo.append(e.out.id)
    region = (below & above) - {xh.id}
    if mu.id not in region or any(c.out.id not in region | {xh.id}
                                  for v in region | {z.id} for c in nm.consumers.get(v, ())):
        return None
    return region


def _rewrite_one(steps, n, d, nm, out_name, gsym, vals, at, given_var=None):
    g, low = d.ir, d.lowering
    try:
        z, xh, mu = low(n.z), low(n.xhat), low(n.mean)
    except Exception:       # pragma: no cover - a part of f lowers again without error
        return steps
    fwd = {e.out.id for e in nm.fwd}
    if xh.id not in nm.user_named or z.id not in fwd or mu.id not in fwd:
        return steps
    if z.id not in gsym:        # no gradient flows to the input (wrt γ, β only): no steps below x̂
        return steps
    region = _region(nm, g, z, xh, mu)
    if region is None:
        return steps

    def sym(e, default):            # the name of μ or σ² (the user's, or ours); σ² may be no node
        try:                        # (x.var(axis=0)/4 + ε lowers to one node with a number for N)
            vid = low(e).id
        except Exception:  # pragma: no cover - a part of f lowers again without error
            return sp.Symbol(default)
        return sp.Symbol(str(nm.disp[vid]) if vid in nm.user_named else default)
    zname, xname = str(nm.disp[z.id]), str(nm.disp[xh.id])
    M, S = sym(n.mean, "mu"), given_var or sym(n.var, "sigma^2")
    idx = "n" if n.axes == (0,) else "i"         # the examples of a batch; the entries a layer norm takes
    zn, z0 = sp.Symbol(_indexed(zname, idx)), sp.Symbol(zname)
    count = sp.Mul(*[T.shape_of(n.z)[a] for a in n.axes])
    div = count - n.correction
    eps = n.eps if isinstance(n.eps, sp.Symbol) else sp.Symbol("epsilon")     # the user's ε, if declared
    shifted = sp.Add(S, eps, evaluate=False)                      # σ² + ε, in that order
    inv_root = sp.Pow(shifted, -sp.S.Half, evaluate=False)         # printed 1/√(σ² + ε)
    over_root = lambda e: sp.Mul(e, inv_root, evaluate=False)     # noqa: E731
    per = lambda e: sp.Pow(e, -1, evaluate=False)                 # noqa: E731 - 1/N, N kept
    dx_n, dx = partial(out_name, _indexed(xname, idx)), partial(out_name, xname)
    dS, dM = partial(out_name, str(S)), partial(out_name, str(M))
    dev_n = sp.Add(zn, -M, evaluate=False)
    dev = sp.Add(z0, -M, evaluate=False)
    over_n = lambda e: BatchSum(e, sp.Symbol(idx))  # noqa: E731 - Σₙ e
    prod = lambda *a: sp.Mul(*a, evaluate=False)    # noqa: E731 - kept as written
    part = partial

    # ∂L/∂σ² = Σₙ ∂L/∂x̂ₙ·(xₙ − μ) · (−1/2)·(σ² + ε)^(−3/2)
    pow32 = sp.Pow(shifted, sp.Rational(-3, 2), evaluate=False)
    s_form = [over_n(prod(dx_n, dev_n)), _HALF, pow32]
    # ∂L/∂μ = −Σₙ ∂L/∂x̂ₙ/√(σ² + ε) + ∂L/∂σ² · (−2/N)·Σₙ (xₙ − μ)
    m_form = [[prod(-1, over_root(over_n(dx_n)))], [dS, prod(-2, per(div)), over_n(dev_n)]]
    # ∂L/∂z = ∂L/∂x̂/√(σ² + ε) + ∂L/∂σ² · 2·(z − μ)/N + ∂L/∂μ/N
    z_form = [[over_root(dx)], [dS, prod(2, dev, per(div))], [dM, per(count)]]

    over = "every example n of the batch" if n.axes == (0,) else "every entry i it normalises"
    pretty = lambda e: show(e, "unicode")           # noqa: E731 - names in the rules' prose
    eps_note = "" if isinstance(n.eps, sp.Symbol) else f"; ε = {show(n.eps, 'unicode')}"   # 1e−5, as written
    vs = _values(n, z.id, steps, xname, vals, div, count, at) if at is not None else None
    sub = _sub(idx)
    s_step = NodeStep(S, dS, [Chain([[over_n(prod(dx_n, part(_indexed(xname, idx), str(S))))]]), Chain([s_form])]
                      + ([Value(vs["S"])] if vs else []),
                      [Rule(f"the variance {pretty(S)} is shared by {over}, so its gradient "
                            f"sums over {idx}{eps_note}", part(_indexed(xname, idx), str(S)),
                            prod(dev_n, _HALF, pow32))],
                      value=vs and vs["S"], result=prod(*s_form))
    m_step = NodeStep(M, dM, [Chain([[over_n(prod(dx_n, part(_indexed(xname, idx), str(M))))],
                                     [dS, part(str(S), str(M))]]),
                              Chain(m_form)] + ([Value(vs["M"])] if vs else []),
                      [Rule(f"the mean {pretty(M)} is shared by {over}, so its gradient sums "
                            f"over {idx}", part(_indexed(xname, idx), str(M)), prod(-1, inv_root)),
                       Rule(f"{pretty(S)} = Σ{sub} ({pretty(zn)} − {pretty(M)})²/{pretty(div)} depends on "
                            f"{pretty(M)} too", part(str(S), str(M)), prod(-2, per(div), over_n(dev_n)))],
                      value=vs and vs["M"], result=sp.Add(*[prod(*t) for t in m_form], evaluate=False))
    z_step = NodeStep(nm.disp[z.id], gsym[z.id],
                      [Chain([[dx, part(xname, zname)], [dS, part(str(S), zname)], [dM, part(str(M), zname)]]),
                       Chain(z_form)] + ([Value(vs["z"])] if vs else []),
                      [Rule(f"directly ({pretty(M)} and {pretty(S)} held)", part(xname, zname), inv_root),
                       Rule("through the variance", part(str(S), zname), prod(2, dev, per(div))),
                       Rule("through the mean", part(str(M), zname), per(count))],
                      note=["fan-out: ", nm.disp[z.id], " reaches ", sp.Symbol(out_name), " directly and through ",
                            M, " and ", S, ", so the three contributions add up"],
                      value=vs and vs["z"], result=sp.Add(*[prod(*t) for t in z_form], evaluate=False))
    new = []
    gone = {str(nm.disp[v]) for v in region} | {zname}
    for s in steps:
        if str(s.node) == zname:
            new += [s_step, m_step, z_step]
        elif str(s.node) not in gone or str(s.node) == xname:
            new.append(s)
    return new


def _indexed(name, idx):
    """The name of entry ``idx`` of a node: x -> x_n (xₙ), z1 or z_1 -> z_1n (z₁ₙ, not z₁ ₙ)."""
    m = re.fullmatch(r"(.*?)_?(\d+)", name)
    return f"{m.group(1)}_{m.group(2)}{idx}" if m else f"{name}_{idx}"


def _sub(idx):
    return {"n": "ₙ", "i": "ᵢ"}[idx]


def _values(n, zid, steps, xname, vals, div, count, at):
    """The three gradients at the point, from the formulas (float64)."""
    zv = np.asarray(vals[zid], dtype=float)
    dxv = next((s.value for s in steps if str(s.node) == xname), None)
    if dxv is None:
        return None
    dxv = np.broadcast_to(np.asarray(dxv, dtype=float), zv.shape)
    ax = n.axes
    N = float(math.prod(zv.shape[a] for a in ax))       # N from the arrays given (N may be a symbol)
    D = N - float(n.correction)
    mu = zv.mean(axis=ax, keepdims=True)
    var = ((zv - mu) ** 2).sum(axis=ax, keepdims=True) / D
    # ε: a number, or the user's symbol with its value in ``at`` (keyed by the symbol or its name)
    eps = float(n.eps) if n.eps.is_number else next(
        (float(v) for k, v in at.items() if k == n.eps or str(getattr(k, "name", k)) == n.eps.name), None)
    if eps is None:
        return None
    dvar = (dxv * (zv - mu)).sum(axis=ax, keepdims=True) * -0.5 * (var + eps) ** -1.5
    dmu = -(dxv / np.sqrt(var + eps)).sum(axis=ax, keepdims=True) + dvar * (-2.0 / D) * (zv - mu).sum(
        axis=ax, keepdims=True)
    dz = dxv / np.sqrt(var + eps) + dvar * 2 * (zv - mu) / D + dmu / N
    shape = tuple(int(a) for a in np.shape(mu.squeeze(axis=ax))) if not n.mean.keepdims else mu.shape
    return {"S": dvar.reshape(shape), "M": dmu.reshape(shape), "z": dz}
