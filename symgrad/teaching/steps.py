"""The steps of a derivation as the slides write them: one chain-rule equation per node.

Reverse mode (`symgrad.core.reverse.backward`) records, for every equation it visits, the output's
accumulated cotangent ḡ and the contribution it sends to each input (`Derivation.raw_steps`). Here
those records become steps in the notation of the lecture notes:

    ∂f/∂y = ∂f/∂q · ∂q/∂y = z · 1 = z = −4          sum rule: ∂q/∂y = 1

A node used by several others (fan-out) gets the sum over its paths, ∂a/∂e = ∂a/∂b·∂b/∂e +
∂a/∂c·∂c/∂e; matrix networks get matrix-level steps, ∂L/∂W₂ = δ₂·y₁ᵀ, never one step per scalar
weight. Nodes are named readably: the user's symbols keep their names, ``names={q: x + y}`` names an
intermediate, layers get z₁, y₁, ... (pre-activation, activation), anything else u₁, u₂, ...
The naming is `symgrad.teaching.node_naming`, the local rule of each edge
`symgrad.teaching.local_rules`, forward mode's steps `symgrad.teaching.forward_steps`.

>>> import sympy as sp, symgrad as sg
>>> x, y, z, q = sp.symbols('x y z q')
>>> s = sg.derive((x + y) * z, [x, y, z]).explain(names={q: x + y}, at={x: -2, y: 5, z: -4})
>>> print(s.find('y').text())
df/dy = df/dq * dq/dy = z * 1 = z = -4    [sum rule: dq/dy = 1]
"""
from __future__ import annotations

import math
import re
from collections import defaultdict
from typing import Any

import numpy as np
import sympy as sp

from ..core import array_rules as A
from ..core import rules as R
from ..errors import SymgradError
from ..core.evaluate import evaluate
from ..core.forward import sweeps as _sweeps
from ..frontend.parse import as_expr
from ..core.reverse import depends_on
from ..core.to_sympy import SympyBuilder
from . import cross_entropy_steps as _ce_steps
from .cross_entropy_header import data_loss_first, header as _ce_header
from .transposed_operand import transposes_distributed
from .uses_note import used_times
from . import statistics as _statistics
from .logistic import sigma_form
from .cancelled import cancelled
from .forward_forms import numbers_outside_in_steps, scalar_numbers_outside
from .negated_sum import minus_outside, sign_inside
from .recognise import recognise
from .notation import Chain, Value, decode, partial
from .row_sums import gather, known_row_sums
from .split_flag import is_split
from .loss_terms import data_terms, param_symbols, penalty_last, split_penalties, terms_in_turn, uses_in_turn
from .as_written import as_written as _as_written, in_shape, matvec_views_dropped, merge_reshapes, summed, written_shape
from .step_record import NodeStep, Rule, Steps  # noqa: F401  (Steps: imported from here too)
from .stop_steps import with_stop_gradient_steps
from .scaled_product import product_of, scaled_rule, scalars_outside
from .binary_gates import binary_gates, checked_gates, gated_names, products_flat
from .names import _fold_products, regroup  # noqa: F401  (_fold_products: graph_picture's import)
from .node_naming import Naming, _known
from .local_rules import (_definition, _is_tensor, _softmax_map, _softmax_named, _statistics_definitions,
                          _through_alias, _written_definition, local_rule)

SHORT_OPS = 8          # an expression this short (sympy.count_ops) is shown written out in full
LAYER_Z = re.compile(r"z(\^\(\d+\))?(_\d+)?")   # a layer's pre-activation as `Naming` calls it: z, z^(2), z^(1)_2
CLOSED_NODES = 600     # a Gradient line's closed form up to this many nodes (a deep fan-out doubles it per level)
_TREE_PER_OP = 20      # an expression tree with more nodes than this per operation is long (`_short`)
MAX_PATHS = 4          # the full chain (every path from the output) is shown up to this many paths


# ---------------------------------------------------------------------------------------------------
# Building the steps.

def build_steps(d, at=None, names=None, given=None, output_name=None, number_format=".4g",
                convention=None, gates=None) -> Steps:
    """The steps of the derivation ``d`` (a `Derivation`), with the numbers at ``at`` if given.

    ``names`` maps symbols (or strings) to subexpressions of f, to name intermediate nodes as the
    slide does; ``given`` maps expressions to values assumed when simplifying (``{sg.sum(t): 1}``
    for a one-hot target); ``convention`` ("row" or "column") adds the Jacobian form of the
    backward pass (`symgrad.teaching.jacobian_view`) to the views; ``gates="binary"`` writes each
    sum and product of three or more operands as a chain of two-input gates, as cs231n's circuits
    (`symgrad.teaching.binary_gates`).

    >>> import sympy as sp, symgrad as sg
    >>> x, y = sp.symbols('x y')
    >>> s = build_steps(sg.derive(x * y, [x, y]), at={x: 3, y: 4})
    >>> [(str(t.node), t.value) for t in s]
    [('f', 1.0), ('x', 4.0), ('y', 3.0)]
    """
    if convention not in (None, "row", "column"):
        raise SymgradError(f"convention must be 'row' or 'column', got {convention!r}")
    # x̂, μ, σ² of a batch norm named (unless the user named them), in f as it is once named
    auto, norms = _statistics.plan(recognise(d.f)) if d.mode == "reverse" else ({}, [])
    d = with_names(d, {**auto, **(names or {})}, checked_gates(gates), at)
    header = None
    if gates == "binary":     # x + y + z as two + gates: a named sum names its last gate, f reads as typed
        # (x·y·z, not (x·y)·z: the printers open a sum inside a sum, a product's chain is opened here)
        header = products_flat(d.f)
        names = gated_names(names, _known(d))
    d = split_penalties(d, names)      # L = cross_entropy(z, y) + 0.05·u₃, not u₁/4 + 0.05·u₃
    if d.mode == "forward":
        from .forward_steps import _forward_steps      # it builds on this module's Steps
        out = _forward_steps(d, at, names, output_name, number_format)
        out.f = header if header is not None else out.f
        return out
    # a variance the user named is taken as optional: with a number for N, var/4 + ε lowers to one
    # node and σ² has none (its name is then used in the statistics' steps alone)
    variances = [n.var for n in norms]
    strict = {k: v for k, v in (names or {}).items() if not any(v == w for w in variances)}
    loose = {k: v for k, v in (names or {}).items() if k not in strict}
    nm = Naming(d, strict, output_name, optional={**loose, **auto}, fold_statistics=bool(norms))
    g, disp = d.ir, nm.disp
    known = _known(d)
    given = {as_expr(k, "given", symbols=known): as_expr(v, f"given[{k}]", symbols=known)
             for k, v in (given or {}).items()}
    root = d.output
    out_sym = disp[root.id]
    out_name = str(out_sym)
    need = depends_on(g, d.wrt_vars)
    contribs: dict[int, list] = defaultdict(list)     # node id -> [(consumer eqn, index, contribution var)]
    cot: dict[int, Any] = {root.id: R.const(g, 1, root.shape)}
    for s in d.raw_steps:
        cot[s.eqn.out.id] = s.cotangent
        for i, (v, c) in enumerate(zip(s.eqn.inputs, s.contributions)):
            if c is not None and v.id in need:
                contribs[v.id].append((s.eqn, i, c))
    contribs = defaultdict(list, {v: uses_in_turn(d, ts) for v, ts in contribs.items()})
    if not is_split(d):
        contribs.update({v: _latest_use_first(ts, nm) for v, ts in contribs.items()
                         if len(ts) > 1 and g.producer[v].prim.leaf})
    pool_inner = set().union(*(p.inner for p in nm.pools.values()), *(sm.inner for sm in nm.softmaxes.values()),
                             *(ce.inner for ce in nm.ces.values()))
    hidden_names = {str(disp[h]) for h in nm.hidden if h in disp and h not in nm.pools}
    fwd_ids = {e.out.id for e in nm.fwd if not e.prim.leaf}
    order = [root.id] + sorted((vid for vid in contribs if vid not in nm.transparent and vid not in nm.alias
                                and vid not in pool_inner and vid not in nm.mean_entry), reverse=True)
    order = _leaves_after_their_gate(terms_in_turn(d, order), contribs, g, nm.consumers, [w.id for w in d.wrt_vars])

    # gradient symbols: ∂L/∂n, or δ_k for a layer's pre-activation z_k in a matrix network
    gsym: dict[int, Any] = {}
    deltas: set[int] = set()
    for vid in order:
        node = disp[vid]
        shape = g.producer[vid].out.shape
        is_z = bool(LAYER_Z.fullmatch(str(node))) and shape != () and vid not in nm.user_named
        gsym[vid] = partial(out_name, str(node), shape, delta=is_z, tensor=nm.tensor)
        if is_z:
            deltas.add(vid)
    for t, z in nm.transparent.items():
        gsym[t] = gsym.get(z)
    # a layer's δ passed on unchanged (the sum rule of a conv's z = conv2d(x, w) + b) is the same
    # value of the IR: the steps below it read δ⁽¹⁾, conv2d(x.transpose(…), δ⁽¹⁾.transpose(…)), not
    # ∂L/∂u₁, a second name for it
    passed_delta: dict[int, Any] = {}
    for vid in order:
        if vid in cot and vid in deltas:
            passed_delta.setdefault(cot[vid].id, gsym[vid])

    # numbers
    vals: dict[int, Any] = {}
    if at is not None:
        want = {e.out.id: e.out for e in nm.fwd}
        for vid, lst in contribs.items():
            for _, _, c in lst:
                want[c.id] = c
        for vid, c in cot.items():
            want[c.id] = c
        ids = list(want)
        try:
            vals = dict(zip(ids, evaluate(g, [want[i] for i in ids], at)))
        except (ZeroDivisionError, OverflowError, FloatingPointError) as e:    # log(x) at x = 0
            point = ", ".join(f"{getattr(k, 'name', k)} = {v}" for k, v in at.items())
            raise SymgradError(f"f or its derivative cannot be evaluated at {point} "
                               f"({type(e).__name__}: {e}): the point is outside their domain") from None
        # the core's evaluation gives nan/±inf outside the real domain (log(x) at x = 0 is −inf, its
        # derivative inf): a derivation of numbers that are not numbers teaches nothing, so say where
        # (a max pool's padded windows hold −∞ by design: they are inside the pool, and not shown)
        inside = set().union(*(p.inner for p in nm.pools.values()))
        if not all(np.all(np.isfinite(np.asarray(v, dtype=float))) for k, v in vals.items() if k not in inside):
            point = ", ".join(f"{getattr(k, 'name', k)} = {v}" for k, v in at.items())
            raise SymgradError(f"f or its derivative is not finite at {point} (nan or ±inf): the point is "
                               f"outside their domain; pick a point inside it") from None

    inline = _inline_map(nm, g)
    softmaxes = _softmax_map(nm)
    logistic = d.f.has(sp.exp)               # 1/(1 + exp(−s)) spelled out: closed forms written with σ
    definitions = {v: k for k, v in nm.user_exprs.items()} if nm.user_exprs else {}
    expand = SympyBuilder(g, d.lowering.exprs)     # gradients in the user's own symbols
    expanded: dict[int, Any] = {}
    ce_full: dict = {}            # a cross-entropy's δ -> its step's form in the user's symbols
    named: dict[int, Any] = {}        # ∂L/∂n in the names of the nodes (b + c)
    steps: list[NodeStep] = []
    penalized = is_split(d)      # L = L_data + L_reg, split (`loss_terms`)
    for vid in order:
        node, lhs = disp[vid], gsym[vid]
        shape = g.producer[vid].out.shape
        if vid == root.id:
            one = sp.S.One if shape == () else sp.OneMatrix(*shape)
            steps.append(NodeStep(node, lhs, [one], note="seed: reverse mode starts from the output",
                                  value=1.0 if at is not None else None, expr=one))
            expanded[vid] = named[vid] = one
            continue
        terms = contribs[vid]
        chain1, subst, rules, built = [], [], [], []
        known = dict(disp)
        named_too = {}          # the gradient a broadcast sums, named: used when the built form
        # into a softmax: one term, from the softmax's gradient (the logsumexp inside has no step)
        sm = nm.softmaxes.get(nm.softmax_entry.get(vid))
        ce = nm.ces.get(nm.ce_entry.get(vid))            # into a cross-entropy: one term, δ
        if sm is not None:
            terms_shown = [t for t in terms if t[0].out.id != sm.end and t[0].out.id not in sm.inner]
        elif ce is not None:
            terms_shown = [t for t in terms if t[0].out.id != ce.end and t[0].out.id not in ce.inner]
        else:
            terms_shown = terms
        for eqn, i, c in terms:  # would name a node no view shows (inside a max pool)
            if eqn.out.id in nm.pool_entry:          # its own step
                continue
            if sm is not None and (eqn.out.id == sm.end or eqn.out.id in sm.inner):
                continue
            if ce is not None and (eqn.out.id == ce.end or eqn.out.id in ce.inner):
                continue
            if eqn.out.id in nm.mean_entry:          # through a mean's Σ: from the mean's gradient
                o = nm.mean_entry[eqn.out.id]
                if o != root.id:
                    known[cot[o].id] = gsym[o]
                continue
            if eqn.out.id in nm.alias:     # through a broadcast: its cotangent is built, not named
                o = nm.owner(eqn.out.id)
                if o in cot and o in gsym:
                    named_too[cot[o].id] = gsym[o]
                continue
            o = nm.owner(eqn.out.id)
            if eqn.out.id in nm.scaled:    # S = Q @ K.T/√2: the product's gradient built from ∂L/∂S
                known[cot[o].id] = gsym[o]
                continue
            known[cot[eqn.out.id].id] = passed_delta.get(cot[eqn.out.id].id, gsym[o])
        build = SympyBuilder(g, known)
        build_named = SympyBuilder(g, {**known, **named_too}) if named_too else None
        # a gradient that is a forward value itself (∂(y²/2)/∂y = y: one var of the IR) is named
        # ∂L/∂y only where the expression uses that value once; where the value is used in both
        # roles (σ′ of y times ∂L/∂y = y) its forward name stays: ∂L/∂y⁽²⁾² ⊙ (1 − ∂L/∂y⁽²⁾)
        # would call the forward value a gradient
        both = {vid: disp[vid] for vid in known if vid in disp and known[vid] is not disp[vid]
                and vid in fwd_ids}
        build_fwd = SympyBuilder(g, {**known, **both}) if both else None
        if sm is not None:
            a, cname = disp[sm.end], str(disp[sm.end])
            chain1.append([gsym[sm.end], partial(cname, str(node), ())])
            rules.append(Rule(sm.rule(), partial(cname, str(node), ()), None))
            e = sm.backward(a, gsym[sm.end], disp[sm.z])
            subst.append([e])
            built.append(e)
        if ce is not None:
            cname = str(disp[ce.end])
            up = None if ce.end == root.id else gsym[ce.end]
            rule, e = _ce_steps.backward(ce, g, disp, given, up)
            chain1.append([gsym[ce.end], partial(cname, str(node), ())])
            rules.append(Rule(rule, partial(cname, str(node), ()), None))
            if e is None:             # pragma: no cover - every folded group has its δ
                e = _tidy(_matadd([build(c) for eqn, _, c in terms if eqn.out.id in ce.inner | {ce.end}]))
            subst.append([e])
            built.append(e)
        for eqn, i, c in terms:
            if sm is not None and (eqn.out.id == sm.end or eqn.out.id in sm.inner):
                continue
            if ce is not None and (eqn.out.id == ce.end or eqn.out.id in ce.inner):
                continue
            if eqn.out.id in nm.pool_entry:          # into a pool: one step, the pool's backward
                o = nm.pool_entry[eqn.out.id]
                pool, cname = nm.pools[o], str(disp[o])
                chain1.append([gsym[o], partial(cname, str(node), ())])
                rules.append(Rule(pool.rule(), partial(cname, str(node), ()), None))
                e = pool.backward(gsym[o], node)
                subst.append([e])
                built.append(e)
                continue
            if eqn.out.id in nm.mean_entry:          # a mean of every entry: one step, 1/N to each
                o = nm.mean_entry[eqn.out.id]
                cname = str(disp[o])
                chain1.append([gsym[o], partial(cname, str(node), ())])
                rules.append(Rule("mean: every entry receives the gradient divided by their count",
                                  partial(cname, str(node), ()), None))
                e = _tidy(build(c))
                subst.append([e])
                built.append(e)
                continue
            o = nm.owner(eqn.out.id)
            cname = str(disp[o])
            rname, local = local_rule(eqn, i, disp, g)
            if eqn.out.id in nm.alias:
                rname = _through_alias(nm, eqn, disp, g)
                if eqn.inputs[0].id in nm.matvec_shape:     # (W @ x) + b: the sum's rule, ∂z/∂u = 1
                    c_eqn = nm.consumers[eqn.out.id][0]
                    k = next(j for j, v in enumerate(c_eqn.inputs) if v.id == eqn.out.id)
                    rname, local = local_rule(c_eqn, k, disp, g)
            if product_of(nm, eqn) in nm.scaled:      # ∇Q = δ @ K/√2 for S = Q @ K.T/√2
                rname = scaled_rule(rname, nm.scaled[product_of(nm, eqn)])
            chain1.append([partial(out_name, cname, ()), partial(cname, str(node), ())]
                          if shape == () else [gsym[o], partial(cname, str(node), ())])
            rules.append(Rule(rname, partial(cname, str(node), ()), local))
            if local is not None and shape == () and g.producer[o].out.shape == ():
                gprev = named.get(o)
                gdisp = gprev if gprev is not None and _short(gprev) else gsym[o]
                subst.append([gdisp, local])
                built.append(gdisp * local)
            else:
                e = _tidy(build(c))
                if build_named is not None:
                    # through a broadcast: δ.sum(axis=0), as x.T @ δ beside it — not δ written out
                    en = _tidy(build_named(c))
                    ops, ops_named = sp.count_ops(e), sp.count_ops(en)
                    if _names_any(e, hidden_names) or ops_named < ops or (ops_named == ops and _names_delta(en)):
                        e = en
                if build_fwd is not None:
                    plain = _tidy(build_fwd(c))
                    if any(_uses(plain, sym) > 1 for sym in both.values()):
                        e = plain
                if eqn.out.id in nm.transposed:       # Q @ K.T: ∂L/∂K = (∂L/∂S).T @ Q
                    e = transposes_distributed(e)
                if product_of(nm, eqn) in nm.scaled:      # ((∂L/∂S).T @ Q)/√2, the scale outside
                    e = transposes_distributed(scalars_outside(e))
                if passed_delta and g.producer[vid].prim.leaf and o in nm.generic and eqn.prim is A.reshape_p:
                    e = _through_reshape(e, c, g, known, passed_delta, cot[eqn.out.id].id)
                subst.append([e])
                built.append(e)
        rhs: list = []
        paths = _paths(vid, contribs, nm, root.id) if shape == () else []
        if paths and len(paths) <= MAX_PATHS and any(len(p) > 2 for p in paths):
            rhs.append(Chain([[partial(a, b, ()) for a, b in p] for p in paths]))
        rhs.append(Chain(chain1))
        rhs.append(Chain(subst))
        total = _tidy(sp.Add(*built) if shape == () else _matadd(built, shape))
        total = _given(total.xreplace(inline) if inline else total, given)
        total = gather(_softmax_named(total, softmaxes))  # softmax(z⁽²⁾, axis=1), not exp(z⁽²⁾ − u₁)
        if shape == ():
            total = cancelled(total)             # ŷ − y, not (−y/ŷ − (y − 1)/(1 − ŷ))·ŷ·(1 − ŷ)
        written = written_shape(nm, vid)     # the node as the forward pass writes it: its gradient too
        if written is not None:
            total = in_shape(total, written)
            if len(subst) == 1 and len(subst[0]) == 1:     # one term: written in that shape too
                subst[0][0] = in_shape(subst[0][0], written)
        if penalized and g.producer[vid].prim.leaf:      # x.T @ δ + 0.1·W, the data term first
            total = penalty_last(total, node)
        named[vid] = total
        once = len(subst) == 1 and len(subst[0]) == 1 and sp.srepr(subst[0][0]) == sp.srepr(total)
        if ce is not None and once:
            rhs.pop()       # δ twice, (…)·∂L/∂u₁/4 then ∂L/∂u₁·(…)/4: written once, upstream first
        if not (sm is not None and once):   # a softmax's (∂L/∂A − (A ⊙ ∂L/∂A).sum(…)) ⊙ A once, not
            rhs.append(total)               # again as A ⊙ (…), the same product with its factors swapped
        full = _expand_in_user_symbols(expand, terms, g, given, shape, total)
        if full is not None and nm.user_exprs:
            full = _given(_fold_products(full.xreplace(nm.user_exprs), nm.user_exprs), given)
        if full is not None and nm.layer_exprs and shape != ():
            full = _given(full.xreplace(nm.layers_after_names()), given)
        if full is not None and shape == () and logistic and _within(full, CLOSED_NODES):
            full = sigma_form(full, definitions, derivative_only=True)      # x₀·σ(s)·(1 − σ(s)), not exp(−w₂ − …)/(1 + exp(−s))²
        if full is not None and shape == ():
            full = cancelled(full)
        if full is not None and _lowered(full):    # a pool's lowering (windows, fold): no view shows it
            full = None
        if full is not None and written is not None:
            full = in_shape(full, written)
        if full is not None and any(t[0].out.id in nm.transposed for t in terms):
            full = transposes_distributed(full)     # x @ W.T: ∂L/∂W = ((1 − y²) ⊙ dout).T @ x
        if ce is not None and ce.reduction == "example":
            full = total        # a column's δ as the slide writes it (not e_k's KroneckerDeltas, nor 2·t spread out)
        if ce is not None:
            ce_full[gsym[vid]] = full
        elif ce_full.get(total) is not None and not _has_adjoint(ce_full[total]):
            # ∂L/∂b₂ = δ⁽²⁾ = softmax(z⁽²⁾) − one_hot(k), as δ⁽²⁾'s own step writes it
            full = ce_full[total]
        if full is not None and penalized and g.producer[vid].prim.leaf:
            full = penalty_last(full, node)
        expanded[vid] = full
        if full is not None and full != total and (_short(full) or (
                shape == () and _short(full, 2 * SHORT_OPS) and sp.sympify(full).is_polynomial())):
            rhs.append(full)
        val = None
        if at is not None:
            val = _as_written(nm, vid, _sum_values([vals[c.id] for _, _, c in terms]))
            rhs.append(Value(val))
        n_edges = len(terms_shown) + (sm is not None) + (ce is not None)
        note = ["fan-out: ", node, " reaches ", out_sym, f" along {n_edges} edges, so their "
                "contributions add up"] if n_edges > 1 else ""
        if n_edges > 1 and g.producer[vid].prim.leaf:     # BPTT's W_hh, used at every time step
            note = used_times(node, [disp[nm.owner(t[0].out.id)] for t in terms_shown], n_edges)
        delta_of = partial(out_name, str(node), shape, tensor=nm.tensor) if getattr(lhs, "name", "").startswith("delta(") else None
        steps.append(NodeStep(node, lhs, rhs, rules, note, val, full, delta_of, total))

    # a node only a stop_gradient reads: its gradient through it is zero, said as a step
    steps = with_stop_gradient_steps(d, steps, disp, out_name, contribs, need, nm.tensor, at)
    if norms:              # batch statistics: cs231n's ∂L/∂σ², ∂L/∂μ, ∂L/∂x instead of the lowering's nodes
        steps = _statistics.rewrite(steps, norms, d, nm, out_name, gsym, vals, at, names)
    defs = []
    # a batch norm's statistics as the slide writes them: μ = x.mean(axis=0), u = x − μ,
    # σ² = (u²).mean(axis=0), not their lowering (Σ with keepdims, ÷N, −μ, x + (−μ), ...)
    stats, hidden, var_first = _statistics_definitions(g, nm, disp) if norms else ({}, set(), {})
    for e in nm.fwd:
        if (e.prim.leaf or e.out.id in nm.transparent or e.out.id in nm.alias or e.out.id in hidden
                or e.out.id in pool_inner or e.out.id in nm.constants):
            continue
        if e.out.id in nm.ces:                       # L = cross_entropy(z, y), as the user wrote it
            defs.append((disp[e.out.id], _ce_steps.definition(nm.ces[e.out.id], disp), vals.get(e.out.id)))
            continue
        if e.out.id in nm.softmaxes:                 # A = softmax(s, axis=1), as the user wrote it
            sm = nm.softmaxes[e.out.id]
            defs.append((disp[e.out.id], sm.display(disp[sm.z]), vals.get(e.out.id)))
            continue
        if e.out.id in nm.pools:                     # u = max_pool2d(y, 2), as the user wrote it
            pool = nm.pools[e.out.id]
            defs.append((disp[e.out.id], pool.display(disp[pool.windows.inputs[0].id]),
                         _as_written(nm, e.out.id, vals.get(e.out.id))))
            continue
        if e.out.id in var_first:                     # σ² = (u²).mean(axis=1), then σ² + ε
            var, mean, shift = var_first[e.out.id]
            v = vals.get(e.out.id)
            defs.append((var, mean, None if v is None else np.asarray(v, dtype=float) - float(shift)))
        shown = stats.get(e.out.id) or nm.written.get(e.out.id)
        if shown is None and e.prim is R.ewise_p:        # a₁ = u₁ + b₁, as w₁·x + b₁; σ² + 1e−5
            shown = _written_definition(g, e, disp, d.lowering.exprs)[1]
        defs.append((disp[e.out.id], shown or _definition(g, e, disp), _as_written(nm, e.out.id, vals.get(e.out.id))))
    defs = _gradient_names_defined(defs, nm, g, at, fwd_ids, root)
    grads, named_grads = [], {}
    # by name: a batch statistic's step writes ∂L/∂x̂ per entry (a scalar symbol) for the tensor ∂L/∂x̂
    adjoints = {s.lhs.name: s.result if s.result is not None else s.expr for s in steps
                if hasattr(s.lhs, "name")}
    short = _short_differences(defs, nm) if nm.tensor else {}     # once, for every parameter's closed form
    for w, gv in zip(d.wrt_vars, d.gradient_vars):
        if w.id not in disp:                            # f does not depend on w: ∂f/∂w = 0
            disp[w.id] = g.producer[w.id].params[0]
        st = next((s for s in steps if s.node == disp[w.id]), None)
        best = st and (st.expr if st.expr is not None and _short(st.expr, 5 * SHORT_OPS) else st.result)
        if st is not None and _has_adjoint(best):
            # δ·xᵀ names an adjoint: the Gradient section ends in the forward pass's names (the
            # adjoints written out by their steps), with the named form kept before it
            closed = _closed_form(best, adjoints, given)
            if closed is not None:
                closed = _short_differences_in(closed, short)
            if closed is not None:
                named_grads[disp[w.id]] = best
                best = closed
        if penalized and st is not None:
            best = penalty_last(best, disp[w.id])
            if disp[w.id] in named_grads:
                named_grads[disp[w.id]] = penalty_last(named_grads[disp[w.id]], disp[w.id])
        grads.append((disp[w.id], best if st else _zero(w.shape), st.value if st else
                      (0.0 if at is not None else None)))
    n_in = sum(int(np.prod([int(x) for x in w.shape])) if w.shape != () else 1 for w in d.wrt_vars) \
        if all(isinstance(x, int) for w in d.wrt_vars for x in w.shape) else len(d.wrt_vars)
    if nm.ces and defs and defs[-1][0] == out_sym:  # L = L_data + L_reg, the data loss first
        data = {disp[i] for i in nm.ces if i in disp}
        defs[-1] = (out_sym, data_loss_first(defs[-1][1], data), defs[-1][2])
    elif penalized and defs and defs[-1][0] == out_sym:     # ‖W @ x − y‖² + λ·Σ W²: u₄ + u₇, not u₇ + u₄
        data = {disp[i] for i in data_terms(d) if i in disp}
        defs[-1] = (out_sym, data_loss_first(defs[-1][1], data), defs[-1][2])
    # cross_entropy(z, y) as written, not its lowering; a penalty after the data term
    f = _ce_header(d.f if header is None else header, out_sym, defs, nm.ces, params=param_symbols(d))
    if nm.ces:                              # 0.5·(softmax(z) − one_hot(y, 3))/4, not 0.125·(…)
        steps, grads, named_grads = _scales_apart(steps, grads, named_grads, nm, g, disp, given)
    if nm.matvec_shape:                     # W @ x of a vector x: δ @ xᵀ, not δ.reshape(2, 1) @ x.reshape(3, 1).T
        steps, grads, named_grads = _fixed(matvec_views_dropped, steps, grads, named_grads)
    # 2·(w·x + b − y), not SymPy's 2·b + 2·w·x − 2·y: as forward mode writes it
    named_grads = numbers_outside_in_steps(steps, named_grads)
    grads = [(w, scalar_numbers_outside(e), v) for w, e, v in grads]
    return Steps(f, out_sym, defs, steps, grads, "reverse", _sweeps(n_in, 1), given, number_format, at,
                 nm, vals, dict(contribs), d, convention, named_grads)


def _scales_apart(steps, grads, named_grads, nm, g, disp, given):
    """Every expression the views print with a float scale of a mean cross-entropy's δ kept apart
    from the batch's 1/N (`cross_entropy_steps.scale_apart`)."""
    return _fixed(_ce_steps.scale_apart(nm.ces, g, disp, given), steps, grads, named_grads)


def _fixed(fix, steps, grads, named_grads):
    """Every expression the views print, passed through ``fix``."""
    for st in steps:
        st.rhs = [Chain([[fix(x) for x in t] for t in r.terms]) if isinstance(r, Chain)
                  else r if isinstance(r, Value) else fix(r) for r in st.rhs]
        st.expr = fix(st.expr)
    grads = [(w, fix(e), v) for w, e, v in grads]
    return steps, grads, {w: fix(e) for w, e in named_grads.items()}


def _latest_use_first(terms: list, nm) -> list:
    """A parameter's uses in the order the backward pass meets them, the latest first: an unrolled
    RNN's W_xh as its W_hh and b, δ⁽³⁾·x₃ᵀ + δ⁽²⁾·x₂ᵀ + δ⁽¹⁾·x₁ᵀ (reverse mode had met W_xh's
    products, which no h feeds, in the order they were made)."""
    return sorted(terms, key=lambda t: -nm.owner(t[0].out.id))


def _leaves_after_their_gate(order: list, contribs: dict, g, consumers: dict, wrt: list) -> list:
    """``order`` with each input's and parameter's step moved right after the step of the last node
    it feeds, as the slides go gate by gate: a layer's δ, then its ∇W and ∇b, then the layer below
    (∂f/∂w₂ of the sigmoid neuron right after the + gate it enters, not after every other input).
    Any order in which a node comes after the nodes it feeds is reverse mode's; this one keeps the
    inner nodes' order and only moves the leaves, whose gradients nothing else uses; the leaves
    after one node come in the order of ``wrt`` (∇W, then ∇b, as the user listed them)."""
    leaves = [v for v in order[1:] if g.producer[v].prim.leaf]
    if not leaves:
        return order
    inner = [v for v in order if v not in set(leaves)]
    where = {v: k for k, v in enumerate(inner)}
    after: dict[int, list] = defaultdict(list)       # position in inner -> the leaves placed after it
    def shown(vid):            # the node a value feeds once the broadcasts shown as their input are passed
        for _ in range(len(g.producer)):
            if vid in where:
                return where[vid]
            nxt = consumers.get(vid, ())
            if len(nxt) != 1:
                return None
            vid = nxt[0].out.id
        return None

    for v in leaves:
        fed = [k for k in (shown(e.out.id) for e, _, _ in contribs[v]) if k is not None]
        after[max(fed) if fed else len(inner) - 1].append(v)
    rank = {v: k for k, v in enumerate(wrt)}
    out = []
    for k, v in enumerate(inner):
        out += [v] + sorted(after.get(k, []), key=lambda u: rank.get(u, len(rank)))
    return out


def _lowered(e) -> bool:
    """Whether ``e`` holds the windows or the fold a pooling layer lowers to."""
    from ..frontend import conv as C
    return isinstance(e, sp.Basic) and e.has(C.Windows, C.Fold)


def _uses(e, sym) -> int:
    """How many times ``e`` uses ``sym``, a power counted by its exponent (y² ⊙ (1 − y) uses y 3 times)."""
    if not isinstance(e, sp.Basic):
        return 0
    if e == sym:
        return 1
    if isinstance(e, (sp.Pow, sp.HadamardPower)) and e.base == sym and e.exp.is_Integer and e.exp > 0:
        return int(e.exp)
    return sum(_uses(a, sym) for a in e.args)


def _names_any(e, names: set) -> bool:
    """Whether ``e`` has a symbol (or tensor) called one of ``names``."""
    return bool(names) and isinstance(e, sp.Basic) and any(
        isinstance(getattr(a, "name", None), str) and a.name in names for a in sp.preorder_traversal(e))


def _adjoint_atoms(e) -> set:
    """The adjoint names (∂L/∂u₁, δ) in ``e``."""
    from .notation import MatPartial, Partial, TensorPartial
    if not isinstance(e, sp.Basic):
        return set()
    return {a for a in sp.preorder_traversal(e) if isinstance(a, (Partial, MatPartial, TensorPartial))}


def _through_reshape(e, c, g, known, passed_delta, via):
    """A parameter that a reshape puts in place (a conv's bias, b.reshape(4, 1, 1)) with its
    gradient written from the layer's δ, as the slides write ∂L/∂b = Σ δ: δ⁽¹⁾.sum(axis=(0, 2, 3)),
    not (∂L/∂u₂).reshape(4) of the reshape's own u; ``e`` where that does not name a δ."""
    through = {k: v for k, v in known.items() if k != via}
    through.update(passed_delta)
    try:
        e2 = merge_reshapes(_tidy(SympyBuilder(g, through)(c)))
    except Exception:  # noqa: BLE001 - a form SymPy cannot rebuild: the reshape's name stays
        return e
    return e2 if _names_delta(e2) and _short(e2) else e


def _names_delta(e) -> bool:
    """Whether ``e`` names a layer's δ (not an other adjoint ∂L/∂u)."""
    return any(decode(a.name)[2] for a in _adjoint_atoms(e))


def _has_adjoint(e) -> bool:
    return bool(_adjoint_atoms(e))


def _within(e, limit: int) -> bool:
    """True when the expression tree of ``e`` has at most ``limit`` nodes (counted lazily)."""
    for k, _ in enumerate(sp.preorder_traversal(e)):
        if k > limit:
            return False
    return True


def _varies_along(t, full, idx) -> bool:
    """Whether the tensor ``t``, broadcast against x̂'s shape ``full``, takes a different entry for
    each n (the batch axis, 0) or each i (the last axis, a layer norm's features): doutₙ, but γ is
    shared by the examples; doutᵢ and γᵢ, both per feature."""
    shape = tuple(t.shape)
    if idx == "n":
        return len(shape) == len(full) and shape[0] == full[0] and shape[0] != 1
    return len(shape) >= 1 and shape[-1] == full[-1] and shape[-1] != 1


def _entry_adjoint(a, adjoints: dict):
    """∂L/∂x̂ₙ, the entry n of an adjoint that a batch statistic's step writes (Σₙ ∂L/∂x̂ₙ·(xₙ − μ)):
    the closed form of ∂L/∂x̂ with each tensor that varies along the statistic's axis taken at its
    entry (doutₙ ⊙ γ: γ, shared by the examples, stays; a layer norm's doutᵢ·γᵢ); None when ``a``
    is no such entry."""
    from ..frontend.tensor import Tensor
    from .notation import decode
    num, den, _ = decode(a.name)
    for name, form in adjoints.items():
        knum, kden, kdelta = decode(name)
        for idx in ("n", "i"):
            if kdelta or knum != num or form is None or _statistics._indexed(kden, idx) != den:
                continue
            closed = _closed_form(form, {k: v for k, v in adjoints.items() if k != name}, {})
            if closed is None:
                return None
            full = tuple(_tensor_shape(closed))          # x̂'s shape, (N, D)
            return closed.xreplace({t: sp.Symbol(_statistics._indexed(t.name, idx))
                                    for t in closed.atoms(Tensor) if _varies_along(t, full, idx)})
    return None


def _tensor_shape(e):
    from ..frontend.tensor import shape_of
    try:
        return tuple(shape_of(e))
    except Exception:  # noqa: BLE001 - not a tensor expression
        return ()


def _closed_form(e, adjoints: dict, given: dict):
    """``e`` with every adjoint name replaced by what its step found, until none is left: a closed
    form in the user's symbols and the forward pass's names (None if some adjoint has no step)."""
    for _ in range(len(adjoints) + 1):
        if not _within(e, CLOSED_NODES):   # fan-out doubles the form at each level: keep δ-names then
            return None
        left = _adjoint_atoms(e)
        if not left:
            e = _unit_factors(_tidy(merge_reshapes(_flat_elementwise(e))))
            return _given(_doit_scaled(e) if isinstance(e, sp.MatrixExpr) else e, given)
        sub = {a: adjoints.get(a.name) if adjoints.get(a.name) is not None else _entry_adjoint(a, adjoints)
               for a in left}
        if any(v is None for v in sub.values()):
            return None
        from .notation import TensorPartial
        if any(isinstance(a, TensorPartial) and not _is_tensor(v) for a, v in sub.items()):
            return None     # a statistic's per-entry form (∂L/∂x̂ₙ) cannot stand inside a tensor sum
        try:
            e = e.xreplace(sub)
        except Exception:  # noqa: BLE001 - a form SymPy cannot rebuild with it: keep the named one
            return None
    return None


def with_names(d, names, gates=None, at=None):
    """``d``, or ``d`` derived again from f regrouped (`symgrad.teaching.names.regroup`) so that
    each part ``names`` names is a node of its own, as the slide writes it: W₂·y₁ + b₂ inside
    mse(W₂·y₁ + b₂, t), which SymPy flattened into W₂·y₁ + b₂ − t; and with the softmax the slide
    spells out recognised (`symgrad.teaching.recognise`). Every view goes through here, so they
    all show the same names."""
    known = _known(d)
    exprs = {k: as_expr(v, f"names[{k}]", symbols=known) for k, v in (names or {}).items()}
    f = regroup(minus_outside(recognise(d.f, at)), exprs)   # exp(−(w₀x₀ + w₁x₁ + w₂)), the slide's ×(−1)
    if gates == "binary":
        f = binary_gates(f)                              # regrouped first: names= name the user's sums
    if f is d.f:
        return d
    from ..core.differentiate import differentiate
    return differentiate(f, d.wrt, mode=d.mode, policy=d.ir.policy)


def _inline_map(nm, g) -> dict:
    """u-nodes whose definition is short (u₂ = y − ŷ) -> that definition, so that results read
    −(y − ŷ)·x rather than −u₂·x; and the one-hot of integer labels, softmax(z) − one_hot(y, 3)."""
    out: dict = {}
    generic = {nm.disp[i] for i in nm.generic}
    for e in nm.fwd:
        if (e.out.id in nm.generic and e.prim.name == "one_hot"
                and g.producer[e.inputs[0].id].prim.leaf):      # the labels' one_hot(y, 3): read as such
            out[nm.disp[e.out.id]] = _definition(g, e, nm.disp)   # in every line, as sg.grad writes it
            continue
        if e.out.id not in nm.generic or e.out.shape != ():
            continue
        ex = _definition(g, e, nm.disp).xreplace(out)
        if sp.count_ops(ex) <= 3 and not ex.atoms(sp.Function) and not ex.free_symbols & generic:
            out[nm.disp[e.out.id]] = ex
    return out


def _zero(shape):
    """∂f/∂w = 0 for a w f does not use: 0, a zero matrix, or a zero tensor of another rank."""
    if shape == ():
        return sp.S.Zero
    if len(shape) == 2:
        return sp.ZeroMatrix(*shape)
    from ..frontend.tensor_movement import Full
    return Full(sp.S.Zero, sp.Tuple(*shape))


def _short(e, limit=SHORT_OPS) -> bool:
    """True when ``e`` has at most ``limit`` operations (sympy.count_ops). count_ops walks the
    expression as a tree, which a deep fan-out doubles at each level (a 6-level sin·cos chain spent
    20 of its 23 s here): a tree with more than `_TREE_PER_OP` nodes per operation allowed cannot be
    that short (every node but an atom is at least one operation, and no node has more than a few
    atoms as its arguments), so it is cut off lazily before anything is counted. A sum or product of
    k terms has at least k − 1 operations (one fewer where `sign_inside` takes its −1 into a factor):
    ∏_{j≠i} uⱼ of a 150-factor product is long without counting it (count_ops took 2 s over its steps)."""
    if isinstance(e, (sp.Add, sp.Mul)) and len(e.args) > limit + 2:
        return False
    if not _within(e, _TREE_PER_OP * (limit + 1)):
        return False
    try:
        return sp.count_ops(sign_inside(e)) <= limit
    except Exception:  # pragma: no cover - count_ops on exotic matrix nodes
        return False


def _gradient_names_defined(defs, nm, g, at, fwd_ids, root) -> list:
    """``defs`` with a line for each name the user gave a node only the gradient has — the lecture's
    f = softmax(z), which the backward pass writes δ = f − f* with though the forward pass computes
    log_softmax(z) — placed after the last node it is computed from, with its value given ``at``."""
    named = {v: k for k, v in nm.user_exprs.items()}
    for vid in sorted(nm.user_named):
        sym = nm.disp.get(vid)
        if vid in fwd_ids or vid == root.id or sym is None or sym not in named or vid not in g.producer:
            continue
        ex = named[sym]
        ex = ex.xreplace(nm.layer_exprs) if nm.layer_exprs else ex
        value = None
        if at is not None:
            value = evaluate(g, [g.producer[vid].out], at)[0]
        before = {str(nm.disp[e.out.id]) for e in g.ancestors([g.producer[vid].out]) if e.out.id in nm.disp}
        place = max((k + 1 for k, (s, _, _) in enumerate(defs) if str(s) in before), default=0)
        defs = defs[:place] + [(sym, ex, value)] + defs[place:]
    return defs


def _matadd(xs, shape=None):
    xs = [x for x in xs if not (isinstance(x, sp.ZeroMatrix) or x == 0)]
    if len(xs) == 1:
        return xs[0]
    from ..frontend.tensor import TensorExpr
    if any(isinstance(x, TensorExpr) for x in xs):     # tensors add with NumPy's broadcasting
        xs = [A.as_tensor_form(x) for x in xs]          # a matrix-language 𝟙 as a tensor of ones
        # (a weight decay beside W @ x, ∂L/∂W = 2·W + δ @ x.T, raised IndexError until 2026-12-01)
        return summed(xs, shape)
    return sp.MatAdd(*xs).doit(deep=False)


def _unbroadcast(e):
    """broadcast_to(γ, (N, D)) inside a sum or product written γ, as NumPy's broadcasting lets the
    slide write it: dout ⊙ γ."""
    from ..frontend.tensor import BroadcastTo
    if not isinstance(e, sp.Basic) or not e.has(BroadcastTo):
        return e

    def walk(n, inside):
        if isinstance(n, BroadcastTo) and inside:
            return walk(n.args[0], inside)
        if not n.args or isinstance(n, (sp.Symbol, sp.MatrixSymbol)):
            return n
        elementwise = isinstance(n, (sp.Add, sp.Mul))
        args = [walk(a, elementwise) if isinstance(a, sp.Basic) else a for a in n.args]
        return n.func(*args) if any(a is not b for a, b in zip(args, n.args)) else n

    return walk(e, False)


def _tidy(e):
    """Small clean-ups that SymPy leaves: 𝟙 ⊙ A = A, and products by 1."""
    if isinstance(e, sp.HadamardProduct):
        args = [a for a in e.args if not isinstance(a, sp.OneMatrix)]
        e = args[0] if len(args) == 1 else sp.HadamardProduct(*args) if args else e
    return _unbroadcast(e)


def _given(e, given):
    e = gather(known_row_sums(e, given))     # a one-hot's rows sum to 1: δ = (softmax(z) − one_hot(y))/N
    if not given:
        return e
    e2 = e.xreplace(given)
    if e2 == e:
        return e2
    e2 = _doit_scaled(e2) if isinstance(e2, sp.MatrixExpr) else e2.doit(deep=False) if hasattr(e2, "doit") else e2
    return _unit_factors(e2)


def _short_differences(defs, nm) -> dict:
    """{u-node: its definition} for each u-node of a tensor declaration that is a difference of two
    named values, to write out in a closed form (`_short_differences_in`)."""
    generic = {str(nm.disp[i]) for i in nm.generic}
    sub = {}
    for sym, ex, _ in defs:
        if str(sym) not in generic or not isinstance(getattr(ex, "expr", ex), sp.Add):
            continue
        terms = sp.Add.make_args(getattr(ex, "expr", ex))
        names = [t.as_coeff_Mul()[1] for t in terms]
        if (len(terms) == 2 and sorted(t.as_coeff_Mul()[0] for t in terms) == [-1, 1]
                and all(getattr(n, "name", None) and str(n) not in generic for n in names)):
            sub[sym] = ex
    return sub


def _short_differences_in(e, sub: dict):
    """``e`` with the u-nodes of ``sub`` (`_short_differences`) written out: cs231n's
    grad_w2 = h.T @ (2·(y_pred − y)), not h.T @ (2·u₅) with u₅ = y_pred − y lines above it."""
    if not sub:
        return e
    try:
        return gather(_flat_elementwise(e.xreplace(sub)))       # 2·(y_pred − y), not 2·y_pred − 2·y
    except Exception:  # noqa: BLE001 - a form SymPy cannot rebuild: keep the u-names
        return e


def _flat_elementwise(e):
    """``e`` with each elementwise expression inside another of the same shape merged into it, so
    that SymPy's algebra reaches across them: the adjoints put into each other left
    −(−u₄⁻² ⊙ ∂L/∂h) ⊙ u₃ (three nested tensor expressions), which reads u₄⁻² ⊙ ∂L/∂h ⊙ u₃."""
    from ..frontend.tensor_expr import Ewise
    if not isinstance(e, sp.Basic) or not e.has(Ewise):
        return e

    def strip(x, shape):
        if isinstance(x, Ewise) and tuple(x.shape) == shape:
            return strip(x.expr, shape)
        if isinstance(x, (sp.Add, sp.Mul, sp.Pow)):
            return x.func(*[strip(a, shape) for a in x.args])
        return x
    try:
        return e.replace(lambda n: isinstance(n, Ewise), lambda n: Ewise(strip(n.expr, tuple(n.shape)), n.shape))
    except Exception:  # noqa: BLE001 - a form SymPy cannot rebuild: keep it as it was
        return e


def _doit_scaled(e):
    """``e.doit(deep=False)``, but a scaled sum stays one: SymPy's MatMul distributes a rational,
    (1/4)·(softmax(z) − t) into (1/4)·softmax(z) − (1/4)·t, where a float or a symbol stays
    outside; the slides write δ = f − f* once, scaled."""
    if isinstance(e, sp.MatMul):
        scalars = [a for a in e.args if not isinstance(a, sp.MatrixExpr)]
        mats = [a for a in e.args if isinstance(a, sp.MatrixExpr)]
        if len(mats) == 1 and isinstance(mats[0], sp.MatAdd) and all(a.is_Rational for a in scalars):
            return sp.MatMul(sp.Mul(*scalars), mats[0].doit(deep=False), evaluate=False)
    return e.doit(deep=False)


def _unit_factors(e):
    """1·A written A: Σt = 1 leaves 1·softmax(z) inside a matrix product, which SymPy keeps."""
    if not isinstance(e, sp.Basic) or not e.has(sp.MatMul):
        return e
    return e.replace(lambda n: isinstance(n, sp.MatMul) and len(n.args) > 1 and n.args[0] == 1,
                     lambda n: n.args[1] if len(n.args) == 2 else sp.MatMul(*n.args[1:]))


def _expand_in_user_symbols(expand, terms, g, given, shape, named=None):
    """∂L/∂n written in the user's symbols (None when that is long). A polynomial is multiplied out
    where that closes a sum over paths (the influence slide's c + gc + gb = 2 + 5g + 2fg + 2fg²) or
    is no longer than the ``named`` form; else it stays factored (the perceptron's x·(ŷ − y), not
    w·x² − x·y, which is longer and undoes the name ŷ)."""
    if shape != () and any(len(g.ancestors([c])) > 24 for _, _, c in terms):
        return None                   # deep in a matrix network: long for sure, so not built at all
    parts = [expand(c) for _, _, c in terms]
    if shape != () and not all(_short(p) for p in parts):
        return None
    e = sp.Add(*parts) if shape == () else _matadd(parts)
    e = _given(_tidy(e), given)
    # (a tree past CLOSED_NODES is not multiplied out: is_polynomial alone walks all of it)
    if shape == () and _within(e, CLOSED_NODES) and sp.sympify(e).is_polynomial() and _small_expansion(e):
        multiplied = sp.expand(e)      # 2 + 5g + 2fg + 2fg², as the influence example writes it
        if len(terms) > 1 or named is None or sp.count_ops(multiplied) <= sp.count_ops(named):
            e = multiplied
    return e


def _small_expansion(e, limit: int = 200) -> bool:
    """False when multiplying e out would make more than ``limit`` terms (`expanded_terms`):
    (a₁ + … + a_k)ⁿ alone has C(n + k − 1, k − 1) ((w + x + y + z)¹⁰⁰: 176,851), and a product or a
    nesting multiplies them ((x + 1)¹⁰⁰·(y + 2)¹⁰⁰: 10,201; ((x + 1)¹⁰⁰ + 1)¹⁰⁰: past 10²⁰⁰) —
    ``symgrad derive`` ran for minutes expanding them for a step nobody reads."""
    return expanded_terms(e, limit) <= limit


def expanded_terms(e, limit: int = 200) -> int:
    """An upper bound on the number of terms of ``sp.expand(e)``, or ``limit + 1`` once it is past
    ``limit``: a sum's terms add up, a product's multiply, a power n of a sum of t terms has at most
    C(n + t − 1, t − 1), nestings compose. A function's argument counts as a whole expression of its
    own (expand multiplies it out too) and the call as one term. Linear in the size of ``e``."""
    over = limit + 1
    seen: dict = {}

    def terms(x) -> int:
        if x in seen:
            return seen[x]
        if isinstance(x, sp.Add):
            n = sum(terms(a) for a in x.args)
        elif isinstance(x, sp.Mul):
            n = 1
            for a in x.args:
                n *= terms(a)
                if n > limit:
                    break
        elif isinstance(x, sp.Pow) and x.exp.is_Integer:
            t, k = terms(x.base), abs(int(x.exp))
            # a negative power's base is multiplied out too, under the fraction bar
            n = 1 if t == 1 else over if k >= limit else math.comb(k + t - 1, t - 1) if k else 1
        else:
            n = 1
            for a in getattr(x, "args", ()):
                if isinstance(a, sp.Basic) and terms(a) > limit:
                    n = over
        n = min(n, over)
        seen[x] = n
        return n
    return terms(sp.sympify(e))


def _paths(vid, contribs, nm, root):
    """Every path from the output down to node ``vid``, through the nodes with names of their own
    (u₁, u₂, ... are skipped: the chain rule holds on the coarser graph too), as name pairs."""
    seqs = []

    def walk(v, below):
        if len(seqs) > MAX_PATHS:
            return
        if v == root:
            seqs.append([v] + below)
            return
        for eqn, _, _ in contribs.get(v, ()):
            walk(nm.owner(eqn.out.id), [v] + below)

    walk(vid, [])
    out = []
    for seq in seqs:
        kept = [u for k, u in enumerate(seq) if k in (0, len(seq) - 1) or u not in nm.generic]
        path = [(str(nm.disp[a]), str(nm.disp[b])) for a, b in zip(kept, kept[1:])]
        # paths that differ only in skipped u's are one path of the coarser graph, already summed
        # in its first factor: logistic regression's ŷ feeds log(ŷ) and 1 − ŷ, and ∂L/∂b is
        # ∂L/∂ŷ · ∂ŷ/∂z · ∂z/∂b once, not that product written twice (which would double it)
        if path not in out:
            out.append(path)
    return out


def _sum_values(xs):
    tot = None
    for x in xs:
        x = np.asarray(x, dtype=float)
        tot = x if tot is None else (tot.sum() + x if tot.shape != x.shape and tot.shape != () and x.shape == ()
                                     else tot + x)
    return float(tot) if tot.shape == () else tot
