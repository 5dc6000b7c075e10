"""A normalisation layer's affine part as the slides write it: y = γ ⊙ x̂ + β is one node.

The lowering has two, u = x̂ ⊙ γ then u + β, so reverse mode reaches γ "via ∂L/∂u"; cs231n's
batchnorm_backward and Ioffe & Szegedy write both parameters' gradients from the layer's output,

    ∂L/∂γ = Σₙ ∂L/∂yₙ ⊙ x̂ₙ        ∂L/∂β = Σₙ ∂L/∂yₙ

(dgamma = (dout * xhat).sum(axis=0), dbeta = dout.sum(axis=0)). Here the product is made
transparent, as a matrix layer's W·y on its way into z = W·y + b (`node_naming.Naming`): it is
written x̂ ⊙ γ inside y's definition and has no step of its own, and the sum is named y (unless
a layer or the user names it: the z⁽ᵏ⁾ that a relu takes, or "y" is taken).

>>> import sympy as sp, symgrad as sg
>>> N = sp.Symbol("N", integer=True, positive=True)
>>> x, g, b, dout = sg.tensor("x", (N, 3)), sg.tensor("gamma", (3,)), sg.tensor("beta", (3,)), sg.tensor("dout", (N, 3))
>>> xhat = (x - x.mean(axis=0)) / sp.sqrt(x.var(axis=0) + 1e-5)
>>> s = sg.derive(sg.sum((g * xhat + b) * dout), [x, g, b], output_name="L").explain()
>>> print(s.find("gamma").text("unicode").split("    [")[0])
∂L/∂γ = ∂L/∂y · ∂y/∂γ = (dout ⊙ x̂).sum(axis=0)
"""
from __future__ import annotations

from ..core import rules as R
from .graph_folds import PASS_THROUGH


def _source(graph, v):
    """The value ``v`` shows as, behind the reshapes and broadcasts of NumPy's broadcasting."""
    e = graph.producer[v.id]
    while e.prim in PASS_THROUGH:
        v = e.inputs[0]
        e = graph.producer[v.id]
    return v


def _leaf(graph, v) -> bool:
    return graph.producer[_source(graph, v).id].prim.leaf


def norm_affine(nm, disp: dict) -> dict:
    """{the id of x̂ ⊙ γ: the id of its + β} for each normalised value x̂ (a node `statistics.plan`
    or the user named) scaled by a parameter and shifted by another (`Naming` names the sum y
    where it has no name and y is free)."""
    g, out = nm.graph, {}
    for e in nm.fwd:
        if e.prim is not R.ewise_p or len(e.inputs) != 2 or e.params[0] != R.ph(0) * R.ph(1):
            continue
        if e.out.id in disp or len(nm.consumers.get(e.out.id, ())) != 1:
            continue
        ins = [_source(g, v) for v in e.inputs]
        if not any(v.id in nm.user_named for v in ins) or not any(_leaf(g, v) for v in ins):
            continue
        add = nm.consumers[e.out.id][0]
        if add.prim is not R.ewise_p or len(add.inputs) != 2 or add.params[0] != R.ph(0) + R.ph(1):
            continue
        other = [v for v in add.inputs if v.id != e.out.id]
        if len(other) != 1 or not _leaf(g, other[0]) or add.out.shape != e.out.shape:
            continue
        out[e.out.id] = add.out.id
    return out
