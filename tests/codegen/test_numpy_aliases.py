"""An elementwise equation whose fused body is just another variable (t + (u − t) is u) in the NumPy
schedules: it must not become a second name of u's buffer that a later statement then overwrites
in place while the second name is still read (``v57 = v8``, then ``v8 *= -1``, then ``v57.T @ …``).

The graphs are built by hand (the frontend folds such a sum before it reaches the IR), scheduled
per example (`codegen.schedule.Scheduler`) and over the batch (`WholeBatchScheduler`), and the
statements run against the reference interpreter `symgrad.core.evaluate`."""
from __future__ import annotations

import ast

import numpy as np
import pytest
import sympy as sp

from codegen.numpy_backend import _Consts
from codegen.numpy_whole_batch import WholeBatchScheduler
from codegen.printers.numpy_printer import NumpyPrinter
from codegen.schedule import Scheduler
from symgrad.core import rules as R
from symgrad.core.evaluate import evaluate
from symgrad.core.ir import Graph
from symgrad.core.placeholders import ph
from tests.codegen.dead_statements import dead_statements, functions

a0, a1 = ph(0), ph(1)


def _graph():
    """p0, p1 (3, 3): u = p0 @ p1 (a fresh temporary), t = exp(p0) (named: read twice),
    v = t + (u − t) (= u once fused), w = u + p1 (u's last direct read: computed in its buffer),
    then v read twice after w. Outputs w, v @ p1, vᵀ @ p0."""
    g = Graph()
    P = [sp.MatrixSymbol(f"P{i}", 3, 3) for i in range(2)]
    p0, p1 = (g.bind(R.param_p, (), (s, (3, 3))) for s in P)
    u = R.matmul(g, p0, p1)
    t = R.ewise(g, sp.exp(a0), p0)
    d = R.ewise(g, a1 - a0, t, u)
    v = R.ewise(g, a0 + a1, t, d)
    w = R.ewise(g, a0 + a1, p1, u)
    r1 = R.matmul(g, v, p1)
    r2 = R.matmul(g, R.transpose(g, v), p0)
    assert g.producer[v.id].params[0] != a0 and g.producer[v.id].inputs == (t, d)  # not folded by bind
    return g, P, (p0, p1), (w, r1, r2)


def _scheduler(kind, g, leaves):
    names = {leaves[0].id: "p0", leaves[1].id: "p1"}
    if kind == "per example":
        return Scheduler(g, names, set(), {}, NumpyPrinter(), _Consts())
    return WholeBatchScheduler(g, names, {}, NumpyPrinter(), _Consts(), {})


@pytest.mark.parametrize("kind", ["per example", "whole batch"])
def test_a_value_equal_to_another_is_not_overwritten_through_its_other_name(kind):
    g, P, leaves, outs = _graph()
    sch = _scheduler(kind, g, leaves)
    keep = {o: f"o{i}" for i, o in enumerate(outs)}
    block = sch.schedule(keep, [])
    code = "\n".join(line for st in block.stmts for line in st.code)
    rng = np.random.default_rng(0)
    vals = {"P0": rng.normal(size=(3, 3)), "P1": rng.normal(size=(3, 3))}
    ns = {"numpy": np, "DTYPE": np.float64, "p0": vals["P0"].copy(), "p1": vals["P1"].copy()}
    exec(code, ns)
    want = evaluate(g, list(outs), vals)
    for i, w in enumerate(want):
        np.testing.assert_allclose(ns[f"o{i}"], w, rtol=1e-12, err_msg=f"o{i}\n{code}")
    # and no statement binds a bare second name of another array
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Name):
            assert node.targets[0].id.startswith("o"), code
    # nor computes t = exp(p0), which only the sum that is u read
    fn = "def f(p0, p1):\n" + "\n".join("    " + ln for ln in code.splitlines()) + "\n    return o0, o1, o2"
    assert dead_statements(fn) == [], code
    assert "exp" not in code


@pytest.mark.parametrize("kind", ["per example", "whole batch"])
def test_an_operand_a_fused_body_simplifies_away_is_not_computed(kind):
    """exp(t + (u − t)) is exp(u): t = sin(p0) (named, read twice before fusion) is read by nothing
    once the bodies are fused, and neither is its own operand c = p0 @ p0."""
    g = Graph()
    P = [sp.MatrixSymbol(f"P{i}", 3, 3) for i in range(2)]
    p0, p1 = (g.bind(R.param_p, (), (s, (3, 3))) for s in P)
    u = R.matmul(g, p0, p1)
    c = R.matmul(g, p0, p0)
    t = R.ewise(g, sp.sin(a0), c)
    d = R.ewise(g, a1 - a0, t, u)
    w = R.ewise(g, sp.exp(a0 + a1), t, d)
    sch = _scheduler(kind, g, (p0, p1))
    block = sch.schedule({w: "o0"}, [])
    code = "\n".join(line for st in block.stmts for line in st.code)
    assert "sin" not in code and "p0 @ p0" not in code, code
    fn = "def f(p0, p1):\n" + "\n".join("    " + ln for ln in code.splitlines()) + "\n    return o0"
    assert dead_statements(fn) == [], code
    rng = np.random.default_rng(1)
    vals = {"P0": rng.normal(size=(3, 3)), "P1": rng.normal(size=(3, 3))}
    ns = {"numpy": np, "DTYPE": np.float64, "p0": vals["P0"], "p1": vals["P1"]}
    exec(code, ns)
    np.testing.assert_allclose(ns["o0"], evaluate(g, [w], vals)[0], rtol=1e-12)


# -------------------------------------------------------------------------------------------------
# The same through a compiled program: VQ-VAE's straight-through z_e + sg(e − z_e), with
# `strip_stop_gradients`' own inlining of the stop_gradient's argument turned off, so that the
# writer gets the sum whose terms cancel only once fused (the program that printed ``v57 = v8``).


def _without_argument_inlining(monkeypatch):
    """`symgrad.core.stop_gradients._inline` doing nothing when called on a stop_gradient's own
    argument (``_inline(body, inputs, inputs, made)``: the same tuple twice), as before that
    workaround; its other call (readers of a stop_gradient) passes the old and new inputs."""
    from symgrad.core import stop_gradients as S
    real = S._inline

    def inline(body, old_inputs, inputs, held):
        return (body, inputs) if old_inputs is inputs else real(body, old_inputs, inputs, held)
    monkeypatch.setattr(S, "_inline", inline)


def _vq_vae(per_example: bool):
    import symgrad as sg
    D, H, K = 4, 3, 5
    N = sp.Symbol("N", integer=True, positive=True)
    x = sg.tensor("x", (D,) if per_example else (N, D))
    ids = sg.tensor("ids", () if per_example else (N,), integer=True)
    We, Wd, E = sg.tensor("We", (D, H)), sg.tensor("Wd", (H, D)), sg.tensor("E", (K, H))
    z_e = sg.tanh(x @ We)
    e = E[ids]
    z_q = z_e + (e - z_e).detach()
    loss = (((z_q @ Wd - x) ** 2).mean() + ((z_e.detach() - e) ** 2).mean()
            + 0.25 * ((z_e - e.detach()) ** 2).mean())
    return sg.compile(loss, [We, Wd, E], [x, ids], dtype="float64", optimizer=sg.optim.Adam(lr=0.02)), (D, H, K)


@pytest.mark.parametrize("per_example", [False, True], ids=["whole batch", "per example"])
def test_vq_vae_straight_through_sum_that_cancels_against_torch(monkeypatch, per_example):
    torch = pytest.importorskip("torch")
    _without_argument_inlining(monkeypatch)
    prog, (D, H, K) = _vq_vae(per_example)
    rng = np.random.default_rng(2)
    vals = {"We": rng.normal(size=(D, H)), "Wd": rng.normal(size=(H, D)), "E": rng.normal(size=(K, H))}
    X = rng.normal(size=(6, D))
    data = {"x": X, "ids": rng.integers(0, K, 6)}
    t = {k: torch.tensor(v, requires_grad=True) for k, v in vals.items()}
    tx = torch.tensor(X)
    ze = torch.tanh(tx @ t["We"])
    ee = t["E"][torch.tensor(data["ids"])]
    zq = ze + (ee - ze).detach()
    loss = (((zq @ t["Wd"] - tx) ** 2).mean() + ((ze.detach() - ee) ** 2).mean()
            + 0.25 * ((ze - ee.detach()) ** 2).mean())
    loss.backward()
    assert prog.loss(vals, data) == pytest.approx(loss.item(), rel=1e-12)
    got = prog.grad(vals, data)
    for k in vals:
        np.testing.assert_allclose(got[k], t[k].grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=k)
