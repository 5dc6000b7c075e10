"""Factors constant along an axis, taken out of the loop over that axis: two exact rewrites of the
graph of a compiled program (the loss, its gradients and outputs), applied after reverse mode.

    Σₙ cⱼ·aₙⱼ      →  cⱼ · Σₙ aₙⱼ           a factor constant along the summed axis leaves the sum
    aₙⱼ·cⱼ·dⱼ·2    →  aₙⱼ · (2·cⱼ·dⱼ)       factors constant along an axis are multiplied once per
                                             column, and the product broadcast back once

Both are identities of real arithmetic (distributivity, associativity of ·), so the values agree to
round-off; what changes is how many passes over an (N, D) array the step makes. In a batch norm's
backward the chain rule gives Σₙ x̂ ⊙ ḡ = Σₙ (z − μ)·σ⁻¹·ḡ (for ∂L/∂γ) and Σₙ γ·(z − μ)·ḡ (for
∂L/∂σ⁻¹): after the first rewrite both are per-column factors times Σₙ (z − μ)·ḡ, which
hash-consing makes one sum — one pass where the chain rule wrote two, as the hand-written step
(cs231n's ``batchnorm_backward_alt``) and torch's kernel have it. The second keeps ``2·(z − μ)·k``
from being evaluated as two (N, D) products where one will do.

"Constant along axes A" is read off the graph, not guessed from names: a scalar, a uniform
constant, a broadcast (``expand``, or the matrix language's ``broadcast``) of something of size 1
on A, or an elementwise function of such values. Its value with size 1 on A is rebuilt from the
small operand (`_Pass.along`), so the pulled-out factor is computed at the small shape.

Two guards keep a rewrite from costing more than it saves: a sum whose product is also read
elsewhere keeps its sum when the product left inside would be a new (N, D) temporary; and a number
alone is not moved (the printers take a numeric coefficient out of a sum themselves). A 0/1 mask
left alone inside a sum is fine: the printers count it in the program's dtype.

>>> import numpy as np, sympy as sp
>>> from symgrad.core import array_rules as A, rules as R
>>> from symgrad.core.ir import Graph
>>> from symgrad.core.placeholders import ph
>>> N = sp.Symbol("N", integer=True, positive=True)
>>> g = Graph()
>>> a, b = g.bind(R.input_p, (), (sp.Symbol("a"), (N, 3))), g.bind(R.input_p, (), (sp.Symbol("b"), (N, 3)))
>>> c, d = g.bind(R.param_p, (), (sp.Symbol("c"), (3,))), g.bind(R.param_p, (), (sp.Symbol("d"), (3,)))
>>> C, D = A.expand(g, A.reshape(g, c, (1, 3)), (N, 3)), A.expand(g, A.reshape(g, d, (1, 3)), (N, 3))
>>> s1 = A.rsum(g, R.ewise(g, ph(0) * ph(1) * ph(2), a, b, C), (0,))     # Σₙ aₙ·bₙ·c
>>> s2 = A.rsum(g, R.ewise(g, ph(0) * ph(1) * ph(2), a, b, D), (0,))     # Σₙ aₙ·bₙ·d
>>> print(g.pretty(pull_factors(g, [s1, s2])))                            # c·Σₙ aₙ·bₙ, d·Σₙ aₙ·bₙ
v0 = input[a] : (N, 3)
v1 = input[b] : (N, 3)
v2 = param[c] : (3)
v3 = param[d] : (3)
v4 = reshape[(1, 3)](v2) : (1, 3)
v6 = reshape[(1, 3)](v3) : (1, 3)
v12 = ewise[a0*a1](v0, v1) : (N, 3)
v13 = rsum[axes=(0,)](v12) : (1, 3)
v14 = ewise[a0*a1](v4, v13) : (1, 3)
v15 = ewise[a0*a1](v6, v13) : (1, 3)
out v14, v15
"""
from __future__ import annotations

from collections import Counter
from typing import Sequence

import sympy as sp

from ..core import array_rules as A
from ..core import rules as R
from ..core.ir import Eqn, Graph, Var, dims_equal, shapes_equal
from ..core.placeholders import ph

ALL = None      # "constant along every axis" (a scalar, a uniform constant)


def pull_factors(graph: Graph, outs: Sequence[Var | None], notes: dict | None = None) -> list:
    """The outputs ``outs`` (None entries kept) of the graph rewritten by both rules, bound in the
    same hash-consed graph (what is unchanged is shared). ``notes`` (var id → comment), when given,
    gets each rewritten variable's note copied to the variable that replaces it."""
    live = [o for o in outs if o is not None]
    p = _Pass(graph, live)
    for eqn in p.eqns:
        if eqn.prim.leaf:
            continue
        ins = [p.new.get(v.id, v) for v in eqn.inputs]
        r = None
        if eqn.prim is R.ewise_p:
            r = p.hoist(eqn, ins)
        elif eqn.prim is A.rsum_p or eqn.prim is R.sum_p:
            r = p.pull_out_of_sum(eqn, ins[0])
        if r is None and any(a is not b for a, b in zip(ins, eqn.inputs)):
            r = graph.bind(eqn.prim, ins, eqn.params)
        if r is not None and r is not eqn.out:
            p.new[eqn.out.id] = r
            if r.id not in p.uses:
                p.old_of.setdefault(r.id, eqn.out.id)
            if notes is not None and eqn.out.id in notes:
                notes.setdefault(r.id, notes[eqn.out.id])
    return [None if o is None else p.new.get(o.id, o) for o in outs]


def _uses(eqns: list[Eqn], outs) -> Counter:
    n = Counter(v.id for e in eqns for v in e.inputs)
    n.update(o.id for o in outs)
    return n


def _placeholders_in(f: sp.Expr, n: int) -> list[int]:
    return [i for i in range(n) if f.has(ph(i))]


class _Pass:
    def __init__(self, graph: Graph, outs: list[Var]):
        self.g = graph
        self.eqns = graph.ancestors(outs)
        self.uses = _uses(self.eqns, outs)          # of the graph before the rewrite, by var id
        self.new: dict[int, Var] = {}               # var id -> its replacement
        self.old_of: dict[int, int] = {}            # replacement's id -> the replaced var's
        self._small: dict = {}

    # -- what is constant along which axes --------------------------------------------------------
    def along(self, v: Var, axes: tuple, small: tuple) -> Var | None:
        """``v`` as an array of shape ``small`` (v's shape with ``axes`` of size 1; () for a sum of
        every entry) when v is constant along ``axes``; None when it is not (or not provably)."""
        if v.shape == ():
            return v
        key = (v.id, axes, small)
        if key not in self._small:
            self._small[key] = self._along(v, axes, small)
        return self._small[key]

    def _along(self, v, axes, small):
        g, e = self.g, self.g.producer[v.id]
        u = R.uniform_value(g, v)
        if u is not None:
            return R.const(g, u, small)
        if small == ():
            return None
        if e.prim is A.expand_p or e.prim is R.broadcast_p:
            x = e.inputs[0]
            if x.shape == ():
                return x
            if len(x.shape) != len(v.shape) or not all(dims_equal(x.shape[a], 1) for a in axes):
                return None
            if shapes_equal(x.shape, small):
                return x
            return A.expand(g, x, small) if e.prim is A.expand_p else None
        if e.prim is R.ewise_p and all(w.shape == () for w in e.inputs):
            return R.ewise(g, e.params[0], *e.inputs, shape=())      # a scalar broadcast: the scalar
        if e.prim is R.ewise_p:
            ins = [self.along(w, axes, small) for w in e.inputs]
            if any(w is None for w in ins):
                return None
            return R.ewise(g, e.params[0], *ins, shape=small)
        return None

    def _leading_ones_off(self, v: Var, bare: tuple) -> Var:
        """v of shape (1, …, 1) + bare as an array of shape ``bare`` (a scalar stays one): the
        operand of the reshape that added the 1s when there is one, else such a reshape."""
        if v.shape == () or shapes_equal(v.shape, bare):
            return v
        e = self.g.producer[v.id]
        if e.prim is A.reshape_p and shapes_equal(e.inputs[0].shape, bare):
            return e.inputs[0]
        return A.reshape(self.g, v, bare)

    def const_axes(self, v: Var, shape: tuple):
        """The axes of ``shape`` (v's, or the result's when v is a scalar) along which ``v`` is
        a broadcast (``expand``) of something smaller: ALL for a scalar; a frozenset otherwise.
        Axes of size 1 are left out (constant along them is no saving)."""
        if v.shape == () or R.uniform_value(self.g, v) is not None:
            return ALL
        e = self.g.producer[v.id]
        if e.prim is A.expand_p:
            x = e.inputs[0]
            if x.shape == ():
                return ALL
            return frozenset(a for a, (d, D) in enumerate(zip(x.shape, v.shape))
                             if dims_equal(d, 1) and not dims_equal(D, 1))
        if e.prim is R.ewise_p and shapes_equal(e.out.shape, v.shape):
            ks = [self.const_axes(w, shape) for w in e.inputs]
            ks = [k for k in ks if k is not ALL]
            return frozenset.intersection(*ks) if ks else ALL
        return frozenset()

    def single_use(self, v: Var) -> bool:
        return self.uses.get(self.old_of.get(v.id, v.id), 0) == 1

    def product(self, x: Var) -> tuple[list, list[Var]]:
        """The factors of the elementwise product x, looking through the products feeding it that
        nothing else reads (Σ (s·m)·z is Σ s·m·z: the chain is one expression when printed):
        (the factors, over placeholders aᵢ, and the vars aᵢ stand for)."""
        leaves: list[Var] = []
        index: dict[int, int] = {}

        def leaf(v):
            if v.id not in index:
                index[v.id] = len(leaves)
                leaves.append(v)
            return ph(index[v.id])

        def walk(v):
            e = self.g.producer[v.id]
            out = []
            for f in sp.Mul.make_args(e.params[0]):
                i = next((i for i in range(len(e.inputs)) if f == ph(i)), None)
                if i is not None:
                    u = e.inputs[i]
                    pu = self.g.producer[u.id]
                    if pu.prim is R.ewise_p and pu.params[0].is_Mul and shapes_equal(u.shape, v.shape) \
                            and self.single_use(u):
                        out += walk(u)
                        continue
                out.append(f.xreplace({ph(j): leaf(w) for j, w in enumerate(e.inputs)}))
            return out
        return walk(x), leaves

    # -- Σ over axes of c·a  →  c·Σ a ------------------------------------------------------------
    def pull_out_of_sum(self, eqn: Eqn, x: Var) -> Var | None:
        """The sum ``eqn`` of ``x`` with the factors of x's product that are constant along the
        summed axes taken out, or None when there is none to take out."""
        g, p = self.g, self.g.producer[x.id]
        if p.prim is not R.ewise_p:
            return None
        if eqn.prim is A.rsum_p:
            axes = tuple(eqn.params[0])
            resum = lambda v: A.rsum(g, v, axes)                            # noqa: E731
        else:           # the matrix language's sum[axis]: axis 0, 1, or None (every entry)
            axes = tuple(range(len(x.shape))) if eqn.params[0] is None else (eqn.params[0],)
            resum = lambda v: R.reduce_sum(g, v, eqn.params[0])             # noqa: E731
        small = tuple(eqn.out.shape)
        factors, ins = self.product(x)
        smalls = [self.along(v, axes, small) for v in ins]
        outside, inside = [], []
        for f in factors:
            idx = _placeholders_in(f, len(ins))
            (outside if all(smalls[i] is not None for i in idx) else inside).append(f)
        if all(f.is_number for f in outside) and inside:
            # a number alone: the printers take a numeric coefficient out of a sum themselves
            # (``-2*numpy.einsum('bi->b', v)``); moved only along with a factor that is not one
            return None
        if not inside:
            # every factor is constant along the axes: Σ over them is (their size) · the value
            count = sp.Mul(*[sp.sympify(x.shape[a]) for a in axes])
            return R.ewise(g, sp.Mul(*factors) * count, *smalls, shape=small)
        # Cost: when x is used elsewhere too (so computed anyway) and the product left inside has
        # two operands or more, Σ of it would be one more (N, D) temporary: keep Σ x.
        if self.uses[eqn.inputs[0].id] > 1 and len(inside) > 1:
            return None
        s = resum(R.ewise(g, sp.Mul(*inside), *ins, shape=x.shape))
        filled = [s if w is None else w for w in smalls]            # unused placeholders: dropped
        return R.ewise(g, sp.Mul(*outside) * ph(len(ins)), *filled, s, shape=small)

    # -- a·c·d  →  a·(c·d), c and d broadcast along the same axes ---------------------------------
    def hoist(self, eqn: Eqn, ins: list[Var]) -> Var | None:
        """``eqn`` (an ewise) with the factors of each product in its body that are constant along
        the same axes multiplied at the small shape first; None when no product has two."""
        shape = tuple(eqn.out.shape)
        if shape == ():
            return None
        body = eqn.params[0]
        extra: list[Var] = []
        terms = sp.Add.make_args(body) if body.is_Add else (body,)
        new_terms = [self._regroup(t, ins, extra, shape) for t in terms]
        if not extra:
            return None
        return R.ewise(self.g, sp.Add(*new_terms), *ins, *extra, shape=shape)

    def _regroup(self, term: sp.Expr, ins: list[Var], extra: list[Var], shape: tuple) -> sp.Expr:
        factors = sp.Mul.make_args(term)
        if len(factors) < 3:             # a·c alone: no two factors to multiply first
            return term
        n = len(ins)
        free, groups, rest = [], {}, []
        for f in factors:
            idx = _placeholders_in(f, n)
            ks = [self.const_axes(ins[i], shape) for i in idx]
            ks = [k for k in ks if k is not ALL]
            k = frozenset.intersection(*ks) if ks else ALL
            if k is ALL:
                free.append(f)
            elif k:
                groups.setdefault(k, []).append(f)
            else:
                rest.append(f)
        if not groups or (not rest and len(groups) == 1):
            return term                     # nothing varies along the axes: no saving to make
        out = list(rest)
        for i, (k, members) in enumerate(sorted(groups.items(), key=lambda kv: -len(kv[1]))):
            if i == 0:
                members = free + members    # the numbers and scalars join the first group
            if len(members) < 2:
                out.extend(members)
                continue
            axes = tuple(sorted(k))
            small = tuple(1 if a in k else d for a, d in enumerate(shape))
            smalls = [self.along(v, axes, small) for v in ins]
            prod = sp.Mul(*members)
            used = _placeholders_in(prod, n)
            if any(smalls[j] is None for j in used):
                out.extend(members)
                continue
            # computed at the small shape less its leading 1s ((D,), not (1, D)): NumPy broadcasts
            # a (D,) against (N, D) by itself, and a (1, D) result of (D,) operands would be copied
            lead = next((a for a, d in enumerate(small) if not dims_equal(d, 1)), len(small))
            bare = small[lead:]
            smalls = [None if w is None else self._leading_ones_off(w, bare) for w in smalls]
            any_small = next(smalls[j] for j in used)
            filled = [any_small if w is None else w for w in smalls]
            c = A.reshape(self.g, R.ewise(self.g, prod, *filled, shape=bare), small)
            extra.append(A.expand(self.g, c, shape))
            out.append(ph(n + len(extra) - 1))
        return sp.Mul(*out)
