"""Forward accumulation carries each tangent beside its value: a sweep's steps come in the order
the forward pass lists the nodes (u₁ = x₁·x₂, then u₂ = log(x₁)), and a sum's chain in its
operands' order, ∂y/∂u₁·∂u₁/∂x₁ + ∂y/∂u₂·∂u₂/∂x₁ (until 2026-12-01, thirteenth session, the
lowering's order: ∂u₂/∂x₁ first). The example is Baydin et al.'s f = ln x₁ + x₁x₂ − sin x₂; the
tangents' numbers are sympy.diff's (symgrad/teaching/forward_steps.py)."""
import sympy as sp

import symgrad as sg

x1, x2 = sp.symbols("x1 x2")
F = sp.log(x1) + x1 * x2 - sp.sin(x2)
AT = {x1: 2, x2: 5}


def test_each_sweep_follows_the_forward_pass():
    s = sg.derive(F, [x1, x2], mode="forward", at=AT, output_name="y").steps
    order = [str(sym) for sym, _, _ in s.definitions]
    sweeps, cur = [], None
    for st in s.steps:
        if str(st.note).startswith("['sweep"):
            cur = []
            sweeps.append(cur)
        else:
            cur.append(str(st.node))
    assert len(sweeps) == 2
    for nodes in sweeps:
        assert nodes == sorted(nodes, key=order.index), (nodes, order)
    text = s.render("unicode")
    assert "∂y/∂x₁ = ∂y/∂u₁ · ∂u₁/∂x₁ + ∂y/∂u₂ · ∂u₂/∂x₁ = 1 · x₂ + 1 · 1/x₁" in text, text


def test_the_tangents_are_sympys():
    s = sg.derive(F, [x1, x2], mode="forward", at=AT, output_name="y").steps
    defs = {str(sym): ex for sym, ex, _ in s.definitions}
    full = {"u1": x1 * x2, "u2": sp.log(x1), "u3": sp.sin(x2), "y": F}
    assert set(defs) == {"u1", "u2", "u3", "y"}
    k = 0
    for st in s.steps:
        if str(st.note).startswith("['sweep"):
            k += 1
            continue
        w = (x1, x2)[k - 1]
        name = str(st.node)
        want = float(sp.diff(full[name], w).subs(AT))
        assert abs(float(st.value) - want) < 1e-12, (st.node, w, st.value, want)
