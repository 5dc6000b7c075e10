"""One pass that rewrites a graph's elementwise equations: `rewrite_ewise` walks the equations some
outputs depend on, lets ``rewrite`` replace each elementwise one (given its inputs as rewritten so
far), and binds every other equation again on its rewritten inputs. The walk that the log-softmax
rewrite (`stable_logs.log_softmax_rewrite`) and the compiled programs' stability table
(`symgrad.compiling.rewrite.stabilize`) share; each says only how one equation changes."""
from __future__ import annotations

from typing import Callable, Sequence

from . import rules as R
from .ir import Eqn, Graph, Var


def rewrite_ewise(graph: Graph, outs: Sequence[Var],
                  rewrite: Callable[[Eqn, list], Var | None]) -> list[Var]:
    """The outputs of ``graph`` with each elementwise equation they depend on replaced by
    ``rewrite(eqn, ins)`` where that is not None (``ins``: the equation's inputs, rewritten), the
    equations after it bound again on the new values (hash-consing shares the rest); the same vars
    where nothing changed."""
    new: dict[int, Var] = {}
    for eqn in graph.ancestors(list(outs)):
        if eqn.prim.leaf:
            continue
        ins = [new.get(v.id, v) for v in eqn.inputs]
        if eqn.prim is R.ewise_p:
            r = rewrite(eqn, ins)
            if r is not None:
                new[eqn.out.id] = r
                continue
        if any(a is not b for a, b in zip(ins, eqn.inputs)):
            new[eqn.out.id] = graph.bind(eqn.prim, ins, eqn.params)
    return [new.get(o.id, o) for o in outs]
