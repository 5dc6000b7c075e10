"""The local rule of one (consumer, input) pair — ∂c/∂n and the rule's name — and the definitions
a step shows beside it (softmax, statistics, aliases). Moved out of `symgrad.teaching.steps`
unchanged."""
from __future__ import annotations

import sympy as sp

from ..core import array_rules as A
from ..core import rules as R
from ..core.to_sympy import eqn_to_sympy
from .as_written import leading_ones_dropped as _leading_ones_dropped
from .notation import rule_name
from .node_naming import _mk


# ---------------------------------------------------------------------------------------------------
# The local rule of one (consumer, input) pair.

def local_rule(eqn, i: int, disp: dict, graph):
    """(Rule, local) for ∂c/∂n where c = eqn's output and n = its i-th input. ``local`` is the
    scalar partial derivative for elementwise equations, None for matrix rules."""
    prim = eqn.prim
    policy = graph.policy
    sm = R.softmax_operands(graph, eqn)
    if sm is not None:
        # y = softmax(z) = exp(z − logsumexp(z)): its two edges together are the softmax Jacobian
        through_z = eqn.inputs[i].id == sm[0].id
        return ("softmax Jacobian ∂yⱼ/∂zᵢ = yᵢ(δᵢⱼ − yⱼ): the path through z" if through_z else
                "softmax Jacobian: the path through logsumexp(z)"), None
    if prim is R.ewise_p:
        body = eqn.params[0]
        if _is_broadcast(eqn):            # s·𝟙: a copy per entry, so the adjoint is the sum
            return "broadcast: the gradients of the copies are summed", None
        d = R.derivative_body(body, i, policy)
        sub = {R.ph(j): _scalarize(disp[v.id]) for j, v in enumerate(eqn.inputs)}
        sub[R._RESULT] = _scalarize(disp[eqn.out.id])
        local = d.xreplace(sub)
        name = _batch_division(eqn, i, graph) or rule_name(body, R.ph(i))
        if eqn.out.shape != ():       # relu's "... (subgradient convention), elementwise": one bracket
            name += ", elementwise" if name.endswith(")") else " (elementwise)"
        return name, local
    if prim is R.logsumexp_p:
        return "log-sum-exp: its gradient is softmax(z)", None
    if prim is R.matmul_p and _is_tensor(disp.get(eqn.inputs[0].id)):     # x @ W: the operands' names
        a, b = (_operand(disp[v.id]) for v in eqn.inputs)        # y⁽¹⁾, W₂, as the steps print them
        return (f"matrix product: ∇{a} = δ @ {_t(b)}" if i == 0 else f"matrix product: ∇{b} = {_t(a)} @ δ"), None
    if prim is A.take_p and i == 0:              # an embedding lookup W[ids]: where each δ row goes
        return _take_rule(eqn, disp), None
    return {
        "conv": ("convolution: ∇x is the full convolution of δ with the flipped kernel" if i == 0 else
                 "convolution: ∇w is the correlation of the input with δ"),
        "matmul": ("matrix product: ∇W = δ·yᵀ" if i == 0 else "matrix product: ∇y = Wᵀ·δ"),
        "transpose": "transpose: the gradient is transposed back",
        "sum": "sum: every entry receives the gradient (the Jacobian of a sum is a row of ones)",
        "broadcast": "broadcast: the gradients of the copies are summed",
    }.get(prim.name, prim.rule), None


def _size(graph, v):
    """The batch size N when ``v`` is the input N (an integer, positive symbol), 1/N when it is
    1/N of that input (a loss's mean, u/N, lowers to u·(1/N)), else None."""
    e = graph.producer[v.id]
    if e.prim is R.ewise_p and len(e.inputs) == 1 and e.params[0] == 1 / R.ph(0):
        n = _size(graph, e.inputs[0])
        return None if n is None or not n.is_Symbol else 1 / n
    n = e.params[0] if e.prim.leaf and e.params else None
    return n if isinstance(n, sp.Symbol) and n.is_integer and n.is_positive else None


def _batch_division(eqn, i: int, graph):
    """The rule of u/N, a sum divided by the batch size (a mean; u/(3·N) over the entries of an
    (N, 3) batch), where N is a symbol: "division by the batch size N (a mean)", not the product
    rule SymPy's u·(1/N) would be called by. None for anything else (u·v, u/2, u/x)."""
    body, a = eqn.params[0], R.ph(i)
    if not body.is_Mul or a not in body.args:
        return None
    factor = body / a
    sub = {}
    for j, v in enumerate(eqn.inputs):
        if j != i and factor.has(R.ph(j)):
            sub[R.ph(j)] = _size(graph, v)
            if sub[R.ph(j)] is None:
                return None
    count = sp.simplify(1 / factor.xreplace(sub))
    sign = ""
    if count.could_extract_minus_sign():
        count, sign = -count, ", and a minus sign"
    coeff, rest = count.as_coeff_Mul()
    symbols = rest.free_symbols
    if (not symbols or not (coeff.is_Integer and coeff > 0) or not rest.is_polynomial()
            or not all(x.is_integer and x.is_positive for x in symbols) or rest.is_Add):
        return None
    sizes = set().union(*(sp.Tuple(*e.out.shape).free_symbols for e in graph.producer.values()))
    if not symbols <= sizes:          # x/n of a scalar n: no batch there, the product rule it is
        return None
    # "the batch size" only for the leading axis of what was summed, "(a mean)" only when the sum
    # had as many entries as the divisor or the divisor is that batch size (the mean of per-example
    # sums): sum(x**2)/D of an (N, D) x is neither (a review found)
    src = graph.producer[eqn.inputs[i].id]
    summed = lead = None
    if src.prim in (R.sum_p, A.rsum_p):
        shape = tuple(src.inputs[0].shape)
        summed = sp.simplify(sp.Mul(*shape) / sp.Mul(*tuple(src.out.shape)))
        lead = shape[0] if shape else None
    mean = " (a mean)" if summed is not None and (sp.simplify(summed - count) == 0 or lead == count) else ""
    if count.is_Symbol:
        what = f"the batch size {count}" if lead == count else f"the size {count}"
    else:
        what = (f"the number of entries {count}" if mean else f"{count}").replace("*", "·")
    return f"division by {what}{mean}{sign}"


def _softmax_map(nm) -> dict:
    """{(z's name, u's name): (z, axis)} for each u = logsumexp(z, axis) of the forward pass: its
    gradient writes exp(z − u), which is softmax(z, axis) (the slides' δ = softmax(z) − Y)."""
    out = {}
    for e in nm.fwd:
        if e.prim is A.lse_p:
            z, u = nm.disp[e.inputs[0].id], nm.disp[e.out.id]
            if hasattr(z, "name") and hasattr(u, "name"):
                out[(z.name, u.name)] = (z, int(e.params[0]))
    return out


def _softmax_named(e, softmaxes: dict):
    """``e`` with each exp(z − u), u = logsumexp(z, axis) named in the forward pass, written
    softmax(z, axis) (`_softmax_map`); ``e`` itself when there is none."""
    if not softmaxes or not isinstance(e, sp.Basic) or not e.has(sp.exp):
        return e
    from ..frontend.tensor import Tensor
    from ..frontend.tensor_softmax import softmax as tensor_softmax
    sub = {}
    for ex in e.atoms(sp.exp):
        terms = sp.Add.make_args(ex.args[0])
        if len(terms) != 2:
            continue
        pos = [t for t in terms if isinstance(t, Tensor)]
        neg = [t.args[1] for t in terms if isinstance(t, sp.Mul) and t.args[0] == -1 and len(t.args) == 2
               and isinstance(t.args[1], Tensor)]
        if len(pos) == 1 and len(neg) == 1 and (pos[0].name, neg[0].name) in softmaxes:
            z, axis = softmaxes[(pos[0].name, neg[0].name)]
            sub[ex] = tensor_softmax(z, axis=axis)
    return e.xreplace(sub) if sub else e


def _statistics_definitions(g, nm, disp):
    """({id: definition}, the ids no longer shown, {id: (σ², its definition, ε)}) for the means,
    variances and subtractions of the forward pass (`symgrad.teaching.graph_folds`, as the picture
    draws them). A variance the lowering fused with ε (var/4 + ε, with a number of features) is
    two lines, σ² = (u²).mean(axis=1) and u = σ² + ε: the backward steps name σ², so the forward
    pass defines it."""
    from .graph_folds import _mean, _negated, statistics
    out, hidden, before = {}, set(), {}
    for vid, (label, folded, *_) in statistics(g, nm.consumers, nm.fwd).items():
        e = g.producer[vid]
        try:
            if label.startswith(("mean", "variance")):
                axes, z, _, ddof, shift = _mean(g, nm.consumers, e)
                if ddof or (shift and (not label.startswith("variance") or "sigma^2" in nm.used)):
                    continue
                inner = disp.get(z.id)
                if label.startswith("variance"):
                    inner = disp.get(g.producer[z.id].inputs[0].id)
                    inner = inner ** 2 if inner is not None else None
                if inner is None:
                    continue
                axis = axes[0] if len(axes) == 1 else axes
                out[vid] = inner.mean(axis=axis)
                if _leading_ones_dropped(out[vid].shape) != _leading_ones_dropped(e.out.shape):
                    # a layer norm's μ of shape (N, 1): x − μ broadcasts only with the axis kept
                    out[vid] = inner.mean(axis=axis, keepdims=True)
                if shift:
                    var = _mk(nm._free("sigma^2"), e.out.shape, nm.tensor)
                    before[vid] = (var, out[vid], shift)
                    out[vid] = sp.Add(var, shift, evaluate=False)
            else:
                b = next(_negated(g, nm.consumers, v)[0] for v in e.inputs if _negated(g, nm.consumers, v))
                a = next(v for v in e.inputs if not _negated(g, nm.consumers, v))
                out[vid] = sp.Add(disp[a.id], sp.Mul(-1, disp[b.id], evaluate=False), evaluate=False)
        except Exception:  # noqa: BLE001 - a form the tensor language cannot write: the lowering's
            out.pop(vid, None)
            continue
        hidden |= folded
    return out, hidden, before


def _pretty(node) -> str:
    """A node's name in a rule's prose (Unicode; `rule_prose.words` turns it to ASCII or LaTeX)."""
    from .render import show
    if not isinstance(node, (sp.Symbol, sp.MatrixSymbol)) and isinstance(getattr(node, "name", None), str):
        node = sp.Symbol(node.name)              # a tensor's name, subscripted as the others
    return show(node, "unicode")


def _take_rule(eqn, disp) -> str:
    """The rule of x[ids] (an embedding lookup) as a lecture says it: row k of ∇x is the sum of δ's
    rows whose id is k — a row looked up twice adds up, a row never looked up gets 0."""
    x, ids = (_pretty(disp[v.id]) for v in eqn.inputs)
    axis = eqn.params[0]
    part = "row" if axis == 0 else f"slice along axis {axis}"
    return (f"take ({x}[{ids}] with integer ids): {part} k of ∇{x} is the sum of the {part}s of δ whose "
            f"id is k (a {part} looked up twice adds up, one never looked up gets 0)")


def _operand(node) -> str:
    """A product's operand in a rule: K.T as Kᵀ, so that ∇Q = δ @ (Kᵀ)ᵀ prints δ @ K."""
    from .transposed_operand import operand
    return operand(node, _pretty)


def _t(name: str) -> str:
    """Kᵀ for K, K for Kᵀ."""
    return name[:-1] if name.endswith("ᵀ") else name + "ᵀ"


def _through_alias(nm, eqn, disp, g) -> str:
    """The rule of an edge that enters its node through reshapes and broadcasts shown as their input:
    γ broadcast over the batch sums its gradient over the batch; a reshape that only adds 1-axes
    (x viewed as (1, 1, H, W) for a one-image convolution) is no step, and the rule is the node's."""
    from .transposed_operand import rule
    transposed = rule(nm, eqn, disp, _pretty)       # Q @ K.T: ∇K = δᵀ @ Q
    if transposed is not None:
        return transposed
    chain, vid = [eqn], eqn.out.id
    while vid in nm.alias:
        nxt = nm.consumers[vid][0]
        k = next(j for j, v in enumerate(nxt.inputs) if v.id == vid)
        if nxt.out.id not in nm.alias:
            if all(e.prim is A.reshape_p for e in chain):
                return local_rule(nxt, k, disp, g)[0]
            break
        chain.append(nxt)
        vid = nxt.out.id
    return "broadcast: the gradient is summed over the axes the value was repeated along"


def _is_tensor(x) -> bool:
    from ..frontend.tensor import TensorExpr
    return isinstance(x, TensorExpr)


def _is_broadcast(e) -> bool:
    """An elementwise identity from a scalar to a matrix: the broadcast s·𝟙 of the slide's softmax
    exp(z) ⊙ (1/Σ exp(z))·𝟙."""
    return (e.prim is R.ewise_p and len(e.inputs) == 1 and e.params[0] == R.ph(0)
            and e.inputs[0].shape == () and e.out.shape != ())


def _definition(g, e, disp):
    """n = its operation on the named inputs; an elementwise body that mixes a scalar into a matrix
    is written entry by entry (z₃ − u₁, not (−u₁)·𝟙 + z₃); a scalar broadcast is s·𝟙."""
    if _is_broadcast(e):
        s = disp[e.inputs[0].id]
        if len(e.out.shape) == 2:
            return sp.MatMul(s, sp.OneMatrix(*e.out.shape), evaluate=False)
    if e.prim is R.ewise_p and e.out.shape != () and any(v.shape == () for v in e.inputs):
        return e.params[0].xreplace({R.ph(j): _scalarize(disp[v.id]) for j, v in enumerate(e.inputs)})
    return eqn_to_sympy(g, e, [disp[v.id] for v in e.inputs])


def _written_definition(g, e, disp, exprs):
    """(`_definition` of ``e``, that line with its terms in the order the user's expression prints
    them, `operands_as_written`: a₁ = u₁ + b₁ for w₁·x + b₁); ``exprs``: the lowering's var id ->
    the user's expression. The steps' forward line and the picture's order of its inputs."""
    from .sum_order import operands_as_written
    whole = _definition(g, e, disp)
    constants = {disp[v.id] for v in e.inputs if v.id in disp and v.id in g.producer
                 and g.producer[v.id].prim.name in ("input", "const")}         # λ of λ·(a² + b²)
    return whole, operands_as_written(whole, exprs.get(e.out.id),
                                      {exprs.get(v.id): disp[v.id] for v in e.inputs if v.id in disp},
                                      constants)


def _scalarize(e):
    """In an elementwise derivative a matrix node stands for its entry: write z for the matrix z."""
    if isinstance(e, sp.MatrixSymbol):
        return sp.Symbol(e.name)
    if isinstance(e, (sp.MatrixExpr, sp.MatrixBase)):
        return sp.Symbol(str(e))
    return e

