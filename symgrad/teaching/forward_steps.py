"""Forward accumulation as steps (``style="forward"``): one sweep per input, each pushing ∂·/∂w
from the input to the output. Moved out of `symgrad.teaching.steps` unchanged."""
from __future__ import annotations

import sympy as sp

from ..core import rules as R
from ..core.evaluate import evaluate
from ..core.forward import forward as _forward_sweep
from ..core.forward import sweeps as _sweeps
from ..core.to_sympy import SympyBuilder
from .as_written import as_written as _as_written
from .cancelled import cancelled
from .local_rules import _definition, _written_definition, local_rule
from .node_naming import Naming
from .notation import Chain, Value, partial
from .step_record import NodeStep, Rule
from .forward_forms import slide_form
from .step_record import Steps


# ---------------------------------------------------------------------------------------------------
# Forward accumulation: one sweep per input, each pushing ∂·/∂w from the input to the output.

def _forward_steps(d, at, names, output_name, number_format) -> Steps:
    nm = Naming(d, names, output_name)
    g, disp = d.ir, nm.disp
    out_sym = disp[d.output.id]
    steps = []
    built = SympyBuilder(g, d.lowering.exprs)

    f_has_exp = d.f.has(sp.exp)       # only then can a tangent spell out 1/(1 + exp(−s)), σ

    def expand(v):
        """``v`` in the user's symbols, the nodes names= names by their names, as reverse mode
        writes them (∂f/∂z = q, not x + y), and as the slide does (2·(w·x + b − y))."""
        out = slide_form(built(v), nm.user_exprs, f_has_exp)
        return cancelled(out) if tuple(v.shape) == () else out      # ŷ − y, as reverse mode writes it
    out_tangent = {}        # w -> the value of ∂f/∂w, the output's tangent at the end of w's sweep
    for k, w in enumerate(d.wrt_vars, 1):
        if w.id not in disp:                            # f does not depend on w: its sweep is the seed
            disp[w.id] = g.producer[w.id].params[0]
        wname = str(disp[w.id])
        rec = []
        seed = R.const(g, 1, ())
        _forward_sweep(g, [d.output], {w.id: seed}, on_step=lambda e, t: rec.append((e, t)))
        # the tangents in the forward pass's order (u₁ = x₁·x₂ before u₂ = log(x₁), as it lists them):
        # forward mode carries each tangent beside its value (a reading order is topological too)
        pos = {e.out.id: k for k, e in enumerate(nm.fwd)}
        if all(e.out.id in pos for e, _ in rec):
            rec.sort(key=lambda et: pos[et[0].out.id])
        tan_of = {w.id: seed}
        for e, t in rec:
            tan_of[e.out.id] = t
        vals = {}
        if at is not None:
            ids = [v for v in tan_of]
            vals = dict(zip(ids, evaluate(g, [tan_of[i] for i in ids], at)))
            out_tangent[w.id] = vals.get(d.output.id, 0.0)
        steps.append(NodeStep(disp[w.id], partial(wname, wname, ()), [sp.S.One],
                              note=[f"sweep {k}: seed ", sp.Eq(partial(wname, wname, ()), 1, evaluate=False)], value=1.0 if at is not None else None))
        for e, t in rec:
            node = disp.get(e.out.id, sp.Symbol(f"v{e.out.id}"))
            chain, subst, rules = [], [], []
            # the terms in the forward pass's order too: ∂y/∂u₁·∂u₁/∂x₁ + ∂y/∂u₂·∂u₂/∂x₁ for y = u₁ + u₂
            for i in sorted(range(len(e.inputs)), key=lambda i: pos.get(e.inputs[i].id, -1)):
                v = e.inputs[i]
                if v.id not in tan_of:
                    continue
                name, local = local_rule(e, i, disp, g)
                chain.append([partial(str(node), str(disp[v.id]), ()), partial(str(disp[v.id]), wname, ())])
                rules.append(Rule(name, partial(str(node), str(disp[v.id]), ()), local))
                subst.append([local if local is not None else sp.Symbol("J"), expand(tan_of[v.id])])
            rhs = [Chain(chain), Chain(subst), expand(t)]
            if at is not None:
                rhs.append(Value(vals[e.out.id]))
            steps.append(NodeStep(node, partial(str(node), wname, e.out.shape), rhs, rules,
                                  value=vals.get(e.out.id)))
    fvals = {}
    if at is not None:
        fvals = dict(zip([e.out.id for e in nm.fwd], evaluate(g, [e.out for e in nm.fwd], at)))
    # with a point, the forward pass and the gradient carry their numbers, as in reverse mode
    defs = []
    for e in nm.fwd:
        if not e.prim.leaf and e.out.id not in nm.transparent:
            shown = nm.written.get(e.out.id)
            if shown is None and e.prim is R.ewise_p:       # u₂ = u₁ + b − y for w·x + b − y, as reverse mode
                shown = _written_definition(g, e, disp, d.lowering.exprs)[1]
            defs.append((disp[e.out.id], shown or _definition(g, e, disp),
                         _as_written(nm, e.out.id, fvals.get(e.out.id))))
    grads = [(disp[w.id], expand(gv) if gv is not None else sp.S.Zero, out_tangent.get(w.id))
             for w, gv in zip(d.wrt_vars, d.gradient_vars)]
    return Steps(d.f, out_sym, defs, steps, grads, "forward", _sweeps(len(d.wrt_vars), 1), {},
                 number_format, at, nm, fvals, {}, d)
