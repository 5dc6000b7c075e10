"""What every hint recogniser works on: the `Case` of a wrong claim (the function, the parameters,
the points, the true gradients and the claim's values) and the comparisons they share. Its own
module so that hints.py and the recognisers in their own modules (layer_hints.py) both import it,
and neither imports the other."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import sympy as sp

from ..core.evaluate import evaluate
from .claims import _eval_claim, _shape, fit_shape, rel_errors

TOL = 1e-6


@dataclass
class Case:
    f: Any
    params: list
    k: int                      # which parameter's claim is wrong
    derivation: Any
    points: list
    truths: list                # per point: per parameter, the true gradient
    claims: list                # per point: per parameter, the claim's value (as returned)
    batch: int | None
    claim_expr: Any = None      # the claimed SymPy expression (None for a callable)
    check: Any = None           # sg.check itself, for hints that re-check at a special point
    targets: str = "distribution"   # how the check drew softmax targets (see sg.check)
    sizes: dict = None          # {name: n}: the symbolic sizes of a tensor f, as the check fixed them
    shapes: dict = None         # {tensor name: shape as declared}: ints, and symbolic sizes by name
    outputs: Any = None         # [(out, dout tensor)]: the outputs check_backward made f of (layer_outputs.py)
    at_sizes: Any = None        # at_sizes({name: n}): the Case at other sizes (None where the claim is
                                # right there), for a hint that cannot tell two sizes apart at these
    convention: str = "column"  # sg.check's convention=: "row" when the claim was given as a row and transposed

    @property
    def w(self):
        return self.params[self.k]

    def C(self):
        return [np.asarray(c[self.k], float) for c in self.claims]

    def T(self):
        return [np.asarray(t[self.k], float) for t in self.truths]

    def eval_vars(self, graph, vars_, extra=None) -> list:
        """Per point, the values of ``vars_`` averaged over the point's examples."""
        return [self.eval_at(p, graph, vars_, extra) for p in self.points]

    def eval_at(self, p, graph, vars_, extra=None) -> list:
        """The values of ``vars_`` at the point ``p``, averaged over its examples."""
        def values(vals):
            if extra is not None:
                vals.update(extra(vals))
            return [np.asarray(v, float) for v in evaluate(graph, vars_, vals)]
        return p.mean(values)


def same(c, t, k=1.0) -> bool:
    """c ≈ k·t entrywise (relative, with a floor for entries that are 0 up to round-off)."""
    c, t = np.asarray(c, float), np.asarray(t, float)
    return c.shape == t.shape and bool(np.all(rel_errors(c, k * t) <= TOL))


def all_same(Cs, Ts, k=1.0) -> bool:
    return all(same(c, t, k) for c, t in zip(Cs, Ts))


def differs(Cs, Ts) -> bool:
    """The claim fits the variable's shape at every point (no None) and is not the truth there:
    what each slip recogniser asks before it tries its slip."""
    return not any(c is None for c in Cs) and not all_same(Cs, Ts)


def short_text(e, limit=60) -> str:
    """``e`` as printed, cut to ``limit`` characters with "…" where it is longer: how a hint quotes
    a piece of f (one helper for every recogniser, so that they all cut the same way)."""
    s = str(e)
    return s if len(s) <= limit else s[:limit - 1] + "…"


def _fitted(case):
    return [fit_shape(c, _shape(case.w)) for c in case.C()], case.T()


def _variances(f) -> list:
    """[(node, n, correction)]: each variance of f, the number n of entries it averages over, and
    the correction it divides n by (n − correction), as ints (the check has numeric sizes)."""
    from ..frontend import tensor as T
    out = []
    for v in dict.fromkeys(e for e in sp.preorder_traversal(f) if isinstance(e, T.Variance)):
        n = int(np.prod([int(v.x.shape[a]) for a in v.axes]))
        out.append((v, n, int(v.correction)))
    return out


def right_through(case: Case, fn) -> bool:
    """Another parameter whose claim is right at every point reaches f through ``fn`` (tanh,
    sigmoid): a slip in every fn′ — what sigmoid_hint and tanh_hint derive f again with, once a
    variant — would have made its gradient wrong too, so those hints need not derive anything
    (a wrong 3-step LSTM's dWh: 13 derivations saved). One fn′ of several wrong is
    activation_hints.py's."""
    from .claims import _shape as shape_of_param
    nodes = [n for n in dict.fromkeys(sp.preorder_traversal(case.f)) if isinstance(n, fn)]
    for j, p in enumerate(case.params):
        if j == case.k or not any(n.has(p) for n in nodes):
            continue
        try:
            Cs = [fit_shape(np.asarray(c[j], float), shape_of_param(p)) for c in case.claims]
        except Exception:   # noqa: BLE001 - a claim that is no array: not known to be right
            continue
        if all(c is not None for c in Cs) and all_same(Cs, [np.asarray(t[j], float) for t in case.truths]):
            return True
    return False


def _claim_is_gradient_of(case: Case, slipped, extra=None) -> bool:
    """Is the claim the gradient of ``slipped`` — f with one slip made on purpose (σ′ written wrong,
    relu′ left out, the other variance, ...)? The way every "derive it again with the slip" hint
    decides; ``extra``: values of the slip's own symbols, from the point's values."""
    graph, g = gradient_graph(slipped, case.params, case.k, case.derivation.ir.policy)
    return g is not None and _claim_is(case, graph, g, extra)


def _claim_is(case: Case, graph, var, extra=None) -> bool:
    """Is the claim ``var`` of ``graph`` at every point, ``extra`` giving the values of its own symbols?
    Point by point: most values tried differ at the first, and the others are never evaluated."""
    Cs, Ts = _fitted(case)
    for p, c, t in zip(case.points, Cs, Ts):
        if not same(c, np.broadcast_to(case.eval_at(p, graph, [var], extra)[0], t.shape)):
            return False
    return True


def gradient_graph(f, params, k, policy):
    """(graph, the IR var of ∂f/∂params[k]): reverse mode's record alone. `differentiate` also
    builds every gradient's SymPy form and the straight-line programs, which a hint that only
    evaluates the gradient does not read (they were three quarters of an LSTM's hint time).
    Kept for the same (f, params, policy): a recogniser that tries several slipped values in one
    slipped f (gate_factor_hint's candidates for one product hold them in the same fresh tensors)
    derives it once, not once a candidate."""
    graph, grads = _graph_and_grads(f, tuple(params), policy)
    return graph, grads[k]


@lru_cache(maxsize=32)
def _graph_and_grads(f, params: tuple, policy):
    from ..core.differentiate import _reverse
    _, graph, _, _, _, _, grads, _ = _reverse("differentiate", f, list(params), "reverse", policy)
    return graph, grads


def gradient_at_fresh(case: Case, f, U, value) -> list | None:
    """Per point, ∂f/∂U: ``f`` holds the fresh tensor ``U`` in the place of one of case.f's nodes
    (an upsampled input, a broadcast parameter), and ``value(vals)`` is U's value at an example's
    values (the node's); None where f does not depend on U."""
    graph, g = gradient_graph(f, [U], 0, case.derivation.ir.policy)
    if g is None:
        return None
    return [np.asarray(v[0], float) for v in case.eval_vars(graph, [g], lambda vals: {U.name: value(vals)})]


def claim_at_points(case: Case, e) -> list:
    """The claimed expression ``e`` (or a variant of it) at each of the check's points, as float
    arrays: the points of a formula's check have one example each (its callers ask for that)."""
    return [_eval_claim(e, p.example(0)) for p in case.points]


def variant_is_truth(case: Case, e, Ts) -> bool:
    """Whether the claim's variant ``e`` (its matrices transposed, its factors reordered) is the
    truth ``Ts`` at every point: what the recognisers of a rewritten claim ask of each candidate. A
    variant that does not evaluate (factors whose shapes do not fit) is no candidate, so False."""
    try:
        vals = claim_at_points(case, e)
    except Exception:   # noqa: BLE001 - a candidate that does not evaluate is no hint
        return False
    return all_same(vals, Ts)          # `same` asks for the truth's shape too


def value_at(e, vals, shape=None) -> np.ndarray:
    """The value of the expression ``e`` (a node of f) at a point's values ``vals``, as a float array:
    what a "held" tensor standing for ``e`` takes there; ``shape``: the tensor shape to read ``e``
    with where SymPy's expression has none of its own (a gate's σ(…) broadcast to its product's)."""
    from ..core.evaluate import numeric
    from ..frontend import tensor as T
    return np.asarray(numeric(T.as_tensor(e, shape), vals), float)


def _transposed_of(e):
    """X where ``e`` is X.T of a 2-d tensor X, else None (here, not in operand_hints, so that the
    recurrence hints can use it without the two modules importing each other)."""
    from ..frontend import tensor as T
    if isinstance(e, T.Permute) and isinstance(e.args[0], T.Tensor) and tuple(e.args[1]) == (1, 0):
        return e.args[0]
    return None


def right_products(f, P) -> list:
    """f's products u @ P — or all u @ P.T (torch's and 11-785's h @ W_hh.T) — in the order f holds
    them; [] where f has both (u @ P at some steps, u @ P.T at others: no recurrence)."""
    from ..frontend import tensor as T
    prods = list(dict.fromkeys(n for n in sp.preorder_traversal(f)
                               if isinstance(n, T.TensorMatMul) and n.args[0] != P
                               and (n.args[1] == P or _transposed_of(n.args[1]) == P)))
    return [] if len({n.args[1] for n in prods}) > 1 else prods


def middle_dout_axes(case: Case):
    """(dout's name, axis, its shape) for each axis of each ``dout`` other than the batch's and the
    last (time, for a sequence), at least 2 long — when the claim is drawn at every point and differs
    from the truth; nothing otherwise. The slips of a temporal layer's backward live there."""
    g = case.derivation.gradient_vars[case.k]
    Cs, Ts = _fitted(case)
    if g is None or not differs(Cs, Ts):
        return
    example = case.points[0].example()
    for d in (n for n in example if re.fullmatch(r"dout\d*", str(n))):
        shape = np.shape(example[d])
        for a in range(1, len(shape) - 1):
            if shape[a] >= 2:
                yield d, a, shape


def truth_with(case: Case, extra) -> bool:
    """Whether the claim is the true gradient evaluated with the values ``extra(vals)`` returns put
    in place of the drawn ones (dout summed, or zero but at one step: f is linear in dout)."""
    D = case.derivation
    return _claim_is(case, D.ir, D.gradient_vars[case.k], extra)



def scaled_params(case: Case, k: float) -> list:
    """The parameters whose claims are ``k`` times their gradients at every point, in wrt order."""
    from .claims import _shape as shape_of_param
    out = []
    for j, p in enumerate(case.params):
        try:
            Cs = [fit_shape(np.asarray(c[j], float), shape_of_param(p)) for c in case.claims]
        except Exception:   # noqa: BLE001 - a claim that is no array: not this relation
            continue
        if all(c is not None for c in Cs) and all_same(Cs, [np.asarray(t[j], float) for t in case.truths], k):
            out.append(p)
    return out


def claim_is(case: Case, k: float) -> tuple[str, str]:
    """How a scalar-relation hint names what is k times what: ("the claim is", "the gradient") for
    one variable; with several, the variables it holds for, so that a grader's student reads which
    one slipped: ("the claim for b is", "its gradient"), ("the claims for w and b are", "their
    gradients"), "(every variable)" added when it is all of them."""
    if len(case.params) == 1:
        return "the claim is", "the gradient"
    names = [p.name for p in scaled_params(case, k)]
    if case.w.name not in names:
        names = [case.w.name]
    if len(names) == 1:
        return f"the claim for {names[0]} is", "its gradient"
    every = " (every variable)" if len(names) == len(case.params) else ""
    return f"the claims for {', '.join(names[:-1])} and {names[-1]}{every} are", "their gradients"
