"""Slips of hand-written tensor backward functions (cs231n's layers): one example instead of the sum
over the batch, an index assignment instead of an accumulation, a recurrence without the gradient
from the next step, batch statistics taken as constants, a variance's correction flipped, the
upstream gradient dout left out."""
from __future__ import annotations

import numpy as np
import sympy as sp

from ..frontend.functions import relu
from .hint_kind import Hint
from .fanout_paths import _users
from .hint_case import Case, _claim_is_gradient_of, _fitted, _variances, all_same


def _gradient_eqns(D, k, prim_name):
    """The equations of ``prim_name`` that ∂f/∂wₖ is computed from."""
    g = D.gradient_vars[k]
    if g is None:
        return []
    return [e for e in D.ir.ancestors([g]) if e.prim.name == prim_name]


def one_example_hint(case: Case):
    """db = dout[0] for db = dout.sum(axis=0): a sum over axes (the adjoint of a broadcast) is in
    the gradient, and the claim is its first (or last) term where the gradient has the whole sum."""
    D = case.derivation
    Cs, Ts = _fitted(case)
    for e in _gradient_eqns(D, case.k, "rsum")[:8]:
        axes = tuple(e.params[0])
        vals = case.eval_vars(D.ir, [e.inputs[0], e.out])
        for which, at in (("first", 0), ("last", -1)):
            cand = []
            for (u, s), t in zip(vals, Ts):
                term = u[tuple(slice(at, at + 1 or None) if a in axes else slice(None) for a in range(u.ndim))]
                # T = (T − Σ) + one term: the other contributions to ∂f/∂w stay as they are
                cand.append(t - np.reshape(s, t.shape) + np.reshape(term, t.shape)
                            if s.size == t.size else None)
            if all(c is not None for c in cand) and all_same(Cs, cand):
                n = ", ".join(str(e.inputs[0].shape[a]) for a in axes)
                return Hint("one example instead of the sum over the batch",
                            f"the claim takes the {which} term "
                            f"(as dout[{at}]) where ∂f/∂{case.w.name} sums over axis {', '.join(map(str, axes))} "
                            f"(size {n}): {case.w.name} is broadcast over those axes, so every example "
                            f"contributes (dout.sum(axis=0), not dout[0]).")
    return None


def one_example_in_product_hint(case: Case):
    """A parameter's gradient from one example's dout alone where the batch sum sits inside a
    product (a convolution's dw loop with ``dw += x[0, window] * dout[0, f, i, j]``): f is linear in
    dout, so the claim is the true gradient at dout with every other example's rows zero."""
    from ..frontend import tensor as T
    from .hint_case import truth_with
    douts = [a for a in case.f.atoms(T.Tensor) if a.name.startswith("dout")]
    w = case.w
    if len(douts) != 1 or not isinstance(w, T.Tensor) or any(len(p.examples) != 1 for p in case.points):
        return None
    dout = douts[0]
    n = np.shape(case.points[0].example(0)[dout.name])[0] if np.ndim(case.points[0].example(0)[dout.name]) else 0
    if n < 2 or (len(w.shape) and int(w.shape[0]) == n):      # a batch-first input: its rows are examples
        return None
    for which, at in (("first", 0), ("last", -1)):
        def extra(vals, at=at):
            d = np.asarray(vals[dout.name], float)
            one = np.zeros_like(d)
            one[at] = d[at]
            return {dout.name: one}
        if truth_with(case, extra):
            return Hint("one example instead of the sum over the batch",
                        f"the claim for {w.name} is the gradient from the {which} example alone "
                        f"(dout[{at}] and its input's rows [{at}]) where every example contributes: "
                        f"d{w.name} sums every example's term — a loop over the windows must also run over "
                        f"the batch (x[:, …] with dout[:, …], summed over axis 0).")
    return None


def assignment_hint(case: Case):
    """dW[idx] = dout for np.add.at(dW, idx, dout): with a repeated index, assignment keeps one
    row where the gradient adds them all (an embedding, a gather of class scores)."""
    D = case.derivation
    eqns = _gradient_eqns(D, case.k, "scatter_add")
    if not eqns:
        return None
    Cs, Ts = _fitted(case)
    vals = case.eval_vars(D.ir, [v for e in eqns for v in (e.inputs[0], e.inputs[1], e.out)])
    cand = []
    for i, t in enumerate(Ts):
        c = np.array(t, float)
        for j, e in enumerate(eqns):
            ct, idx, total = vals[i][3 * j:3 * j + 3]
            ax = e.params[0]
            idx = np.asarray(np.rint(idx), int)
            assigned = np.zeros(total.shape)
            moved = np.moveaxis(assigned, ax, 0)
            moved[idx] = np.moveaxis(ct, tuple(range(ax, ax + idx.ndim)), tuple(range(idx.ndim)))
            if total.size != c.size:
                return None
            c = c - total.reshape(c.shape) + assigned.reshape(c.shape)
        cand.append(c)
    if all_same(Cs, cand) and not all_same(Cs, Ts):
        return Hint("assignment instead of accumulation",
                    f"the claim writes d{case.w.name}[idx] = dout (or "
                    f"d{case.w.name}[idx] += dout: NumPy's += on a fancy index also writes each repeated "
                    f"index once), so a repeated index keeps only one of its rows; the gradient adds every row "
                    f"that index picked — "
                    f"np.add.at(d{case.w.name}, idx, dout) (a take's adjoint is a scatter-add).")
    return None


def _fits_without(case: Case, drop) -> bool:
    """Is the claim ∂f/∂w derived again with the contributions ``drop(v, eqn)`` picks left out (the
    reverse pass skipping them), at every point? What upstream_hint and statistics_hint both ask."""
    from ..core.reverse import backward
    D = case.derivation
    g = backward(D.ir, D.output, D.wrt_vars, drop=drop)[case.k]
    if g is None:
        return False
    Cs, Ts = _fitted(case)
    vals = case.eval_vars(D.ir, [g])
    return all_same(Cs, [np.broadcast_to(v[0], t.shape) for v, t in zip(vals, Ts)])


def upstream_hint(case: Case):
    """A recurrence's backward without the gradient from the next step: each hidden state that is
    both an output and the next step's input gets only its own dout term (dprev left out)."""
    D = case.derivation
    graph = D.ir
    eqns = graph.ancestors([D.output])
    users = _users(eqns)
    def stacked(e):                       # e joins step outputs: a concat, or a reshape into one
        return e.prim.name == "concat" or (e.prim.name == "reshape" and any(
            u.prim.name == "concat" for u in users.get(e.out.id, ())))
    # a state: a step's output both stacked into the layer's output and multiplied in the next step
    states = {i for i, es in users.items() if not graph.producer[i].prim.leaf
              and any(stacked(e) for e in es) and any(e.prim.name in ("matmul", "bmatmul") for e in es)}
    if len(states) < 2:                   # a recurrence of one step has no upstream to forget
        return None

    def drop(v, eqn):
        return v.id in states and eqn.prim.name in ("matmul", "bmatmul")
    if _fits_without(case, drop):
        return Hint("missing upstream gradient",
                    "each hidden state gets only its own output's gradient "
                    "(dh[:, t]); it also feeds the next step, so the gradient flowing back from that step "
                    "must be added first — dh_t = dh[:, t] + dprev_h — before going through the step.")
    return None


def statistics_hint(case: Case):
    """Batch (or layer) statistics taken as constants: μ and σ² are sums over an axis that are
    broadcast back over it, and the claim has none of the gradient that flows into them (batch
    norm's dx = dx̂/σ). The single forgotten path is the fan-out hint's; this one is all of them."""
    D = case.derivation
    graph = D.ir
    eqns = graph.ancestors([D.output])
    users = _users(eqns)

    def broadcast_back(e) -> bool:        # e's value reaches an expand through elementwise steps
        todo, seen = [e.out.id], set()
        while todo:
            for u in users.get(todo.pop(), ()):
                if u.prim.name == "expand":
                    return True
                if u.prim.name in ("ewise", "reshape") and u.out.id not in seen:
                    seen.add(u.out.id)
                    todo.append(u.out.id)
        return False
    stats = {id(e) for e in eqns if e.prim.name == "rsum" and broadcast_back(e)}
    if len(stats) < 2:                    # one statistic left out is a single path: fanout_hint's
        return None
    if _fits_without(case, lambda v, eqn: id(eqn) in stats):
        return Hint("statistics taken as constants",
                    "the claim has no gradient through the statistics (the "
                    "means and variances over an axis, broadcast back over it), as if they did not depend on "
                    f"{case.w.name}; they do — {_norm_dx_words(case)}.")
    return None


def _norm_dx_words(case: Case) -> str:
    """The norm layer's ∂L/∂x with its paths through μ and σ², in the words of its axes: batch norm's
    over the examples (axis 0, N), a layer norm's over each example's features (the last axes, D)."""
    vs = _variances(case.f)
    if vs and 0 not in tuple(vs[0][0].axes):
        v, n, _ = vs[0]
        axes = tuple(v.axes)
        ax = axes[0] if len(axes) == 1 else axes
        return (f"a layer norm's ∂L/∂x (its statistics per example, over axis {ax}: D = {n} entries) has "
                f"the terms through μ and σ² as well, (D·dx̂ − Σ dx̂ − x̂·Σ dx̂⊙x̂)/(D·σ) with the sums over "
                f"axis {ax} (dxhat.sum(axis={ax}, keepdims=True))")
    return "batch norm's ∂L/∂x has the terms through μ and σ² as well, (N·dx̂ − Σ dx̂ − x̂·Σ dx̂⊙x̂)/(N·σ)"


def variance_hint(case: Case):
    """A variance divided by N − 1 where f divides by N (np.var(x, ddof=1), torch's default), or by
    N where f has correction=1: derive f again with each variance's correction flipped, and compare.
    (A constant factor N/(N − 1) is factor_hint's; this is the backward that is consistent with the
    other variance throughout, as batch norm's staged backward is.)"""
    from ..frontend import tensor as T
    vs = [(v, c) for v, n, c in _variances(case.f) if c in (0, 1) and n > 1]
    if not vs:
        return None
    sub = {v: T.Variance(v.x, v.args[1], v.args[2], sp.Integer(1 - c)) for v, c in vs}
    Cs, Ts = _fitted(case)
    if _claim_is_gradient_of(case, case.f.xreplace(sub)) and not all_same(Cs, Ts):
        used, has = 1 - vs[0][1], vs[0][1]
        how = ("unbiased, np.var(x, ddof=1) or torch's x.var() default, dividing by N − 1" if used
               else "biased, np.var's default ddof=0, dividing by N")
        return Hint("variance correction",
                    f"the claim is the gradient of f with a variance of correction={used} "
                    f"({how}) where f has correction={has}; the factor N/(N − 1) between them reaches every "
                    f"term through σ, so use the same variance as the forward pass (x.var(correction="
                    f"{has}) in f).")
    return None


def dout_hint(case: Case):
    """check_backward's upstream gradient left out: f = Σ out ⊙ dout, and the claim is ∂f/∂w at
    dout = 1 (relu_backward returning the mask (x > 0) alone, not dout ⊙ (x > 0))."""
    from ..frontend import tensor as T
    import re
    douts = [t.name for t in case.f.atoms(T.Tensor) if re.fullmatch(r"dout\d*", t.name)
             and t.name not in {p.name for p in case.params}]
    if not douts:
        return None
    D = case.derivation
    g = D.gradient_vars[case.k]
    if g is None:
        return None
    Cs, Ts = _fitted(case)
    vals = case.eval_vars(D.ir, [g], lambda vals: {d: np.ones(np.shape(vals[d])) for d in douts})
    if all_same(Cs, [np.broadcast_to(v[0], t.shape) for v, t in zip(vals, Ts)]) and not all_same(Cs, Ts):
        d = " and ".join(douts)
        eg = (": for relu, dx = dout * (x > 0), not (x > 0)" if case.f.has(relu) or case.f.has(sp.Max)
              else f": d{case.w.name} = dout * ∂out/∂{case.w.name} (entry by entry, or summed as the shapes need)")
        return Hint("upstream gradient left out",
                    f"the claim is the gradient with {d} = 1 everywhere — the "
                    f"local derivative alone, not multiplied by the gradient coming from above; the chain rule "
                    f"multiplies them{eg}.")
    return None
