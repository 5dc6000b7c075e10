"""The generated NumPy code as a person reads it (2026-12-01): no parentheses around a method call or
a view (`codegen.schedule._atom`: ``((v7.reshape((64*d0, 128))).T) @ (v9.reshape((64*d0, 64)))`` is
``v7.reshape((64*d0, 128)).T @ v9.reshape((64*d0, 64))``), and a gradient that needs no broadcast
copied as it is (``numpy.array(v3.reshape((4,)), dtype=DTYPE)``, not through
``numpy.broadcast_to(v3.reshape((4,)), (4,))``), no parentheses around a statement's whole right
side or a positive constant (``v9 = 0.5*v8*(erf(…) + 1)``, not ``v9 = ((0.5)*v8*(erf(…) + 1))``),
and a gradient's note said once (``# ∂L/∂p2 (p2 is
the parameter 'W')`` over the statement that makes it, not again over ``g2 = v31``). The values
are torch.autograd's."""
from __future__ import annotations

import re

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from codegen.schedule import _atom
from tests.codegen.torch_agreement import assert_equals_torch

torch = pytest.importorskip("torch")
N = sp.Symbol("N", integer=True, positive=True)
T, D, C = 5, 4, 3


@pytest.mark.parametrize("code, want", [
    ("v7", "v7"), ("p0.T", "p0.T"), ("v3[:, None]", "v3[:, None]"),
    ("v7.reshape((d0, 64))", "v7.reshape((d0, 64))"),
    ("v7.reshape((d0, 64)).T", "v7.reshape((d0, 64)).T"),
    ("v7.transpose((0, 2, 1)).reshape((64 * d0, 128))", "v7.transpose((0, 2, 1)).reshape((64 * d0, 128))"),
    ("numpy.exp(v3)", "numpy.exp(v3)"), ("(v3 + v4)", "(v3 + v4)"),
    ("v3 + v4", "(v3 + v4)"), ("-v3", "(-v3)"), ("v3**2", "(v3**2)"), ("v3 @ v4", "(v3 @ v4)"),
    ("(v3) + (v4)", "((v3) + (v4))"), ("0.5", "(0.5)"), ("2", "(2)"),
    ("v3 if c else v4", "(v3 if c else v4)"),
])
def test_atom_parenthesizes_only_what_needs_it(code, want):
    assert _atom(code) == want
    # and the atom is one operand: ``atom.T`` and ``-atom`` parse with it whole
    import ast
    assert isinstance(ast.parse(f"{want}.T", mode="eval").body, ast.Attribute)


def _attention_mlp():
    x, Wq, Wk, W, b = (sg.tensor("x", (N, T, D)), sg.tensor("Wq", (D, D)), sg.tensor("Wk", (D, D)),
                       sg.tensor("W", (D, C)), sg.tensor("b", (C,)))
    s = (x @ Wq) @ (x @ Wk).swapaxes(-2, -1) / sp.sqrt(D)
    h = sg.softmax(s, axis=-1) @ x
    return sg.mean(sg.gelu(h @ W + b) ** 2), [Wq, Wk, W, b], [x]


def _torch(vals, x):
    t = {k: torch.tensor(v, requires_grad=True) for k, v in vals.items()}
    xt = torch.tensor(x)
    s = (xt @ t["Wq"]) @ (xt @ t["Wk"]).transpose(-2, -1) / D ** 0.5
    loss = (torch.nn.functional.gelu((s.softmax(-1) @ xt) @ t["W"] + t["b"]) ** 2).mean()
    loss.backward()
    return loss.item(), {k: v.grad.numpy() for k, v in t.items()}


def test_generated_code_has_no_parentheses_around_views_and_calls_and_equals_torch():
    loss, params, inputs = _attention_mlp()
    prog = sg.compile(loss, params, inputs, dtype="float64", optimizer=sg.optim.SGD(lr=0.1))
    src = prog.source
    call = r"v\d+\.(?:reshape|transpose)\((?:[^()]|\([^()]*\))*\)"     # v7.reshape((d0, 5)), one level inside
    wrapped = re.findall(rf"[^\w.]\({call}\)(?!\w)", src)
    assert not wrapped, wrapped
    assert not re.search(r"\(\(" + call, src), src
    assert re.search(call, src)                 # (there are views to read)
    # nor around a whole right side (v9 = (0.5*v8*(erf(0.7071067811865476*v8) + 1))), nor around a
    # positive constant ((0.5)*v8)
    whole = [ln for ln in src.splitlines() if re.fullmatch(r"\s+v\d+ = \((.*)\)", ln)
             and _atom(ln.split(" = ", 1)[1][1:-1]) != ln.split(" = ", 1)[1][1:-1]]
    assert not whole, whole
    assert "0.5*" in src and not re.search(r"\(\d+\.\d+\)\*", src), src
    # a gradient of its parameter's shape is copied, not broadcast to the shape it has
    same = re.findall(r"numpy\.broadcast_to\((v\d+\.reshape\((\([^()]*\))\)), \2\)", src)
    assert not same, same
    # each parameter's note once in each function, over the statement that makes its gradient
    for fn in ("grad", "step"):
        code = re.search(rf"^def {fn}\(.*?(?=^def |\Z)", src, re.M | re.S).group(0)
        for i in range(len(params)):
            assert code.count(f"# ∂L/∂p{i} (p{i} is the parameter") == 1, (fn, i, code)
        assert re.search(r"\n    g\d+ = v\d+\n", code)          # (a gradient handed on by name)
    rng = np.random.default_rng(0)
    vals = {"Wq": rng.normal(size=(D, D)), "Wk": rng.normal(size=(D, D)), "W": rng.normal(size=(D, C)),
            "b": rng.normal(size=C)}
    x = rng.normal(size=(3, T, D))
    want_loss, want = _torch(vals, x)
    assert_equals_torch(prog, vals, {"x": x}, want_loss, want, lr=0.1)   # (the step's update: SGD's)


def test_a_named_elementwise_statement_and_a_total_read_without_outer_parentheses():
    """GELU read through a reshape gets a statement of its own: ``v5 = 0.5*v4*(erf(…) + 1)`` (it
    read ``v5 = (0.5*v4*(erf(…) + 1))``), and the total ``numpy.sum(v8.reshape(…)**2)`` (it read
    ``numpy.sum((v8.reshape(…)**2))``); the gradients are torch's."""
    x, W, V = sg.tensor("x", (N, 4)), sg.tensor("W", (4, 8)), sg.tensor("V", (4, 3))
    h = sg.gelu(x @ W).reshape((N, 2, 4))
    prog = sg.compile(sg.mean((h @ V) ** 2), [W, V], [x], dtype="float64")
    lines = prog.source.splitlines()
    gelu = [ln for ln in lines if re.fullmatch(r"\s+v\d+ = .*erf\(.*", ln)]
    assert gelu and not any(re.fullmatch(r"\s+v\d+ = \(.*\)", ln) for ln in gelu), gelu
    totals = [ln for ln in lines if "numpy.sum(" in ln]
    assert totals and not any("numpy.sum((" in ln for ln in totals), totals
    rng = np.random.default_rng(1)
    vals, xs = {"W": rng.normal(size=(4, 8)), "V": rng.normal(size=(4, 3))}, rng.normal(size=(5, 4))
    t = {k: torch.tensor(v, requires_grad=True) for k, v in vals.items()}
    ht = torch.nn.functional.gelu(torch.tensor(xs) @ t["W"]).reshape(5, 2, 4)
    want = ((ht @ t["V"]) ** 2).mean()
    want.backward()
    assert prog.loss(vals, {"x": xs}) == pytest.approx(want.item(), rel=1e-12)
    got = prog.grad(vals, {"x": xs})
    for k in vals:
        np.testing.assert_allclose(got[k], t[k].grad.numpy(), rtol=1e-10, atol=1e-14, err_msg=k)


@pytest.mark.parametrize("opt", ["momentum", "adam"])
def test_a_bias_gradient_is_its_sum_seen_in_the_bias_shape_and_steps_as_torch(opt):
    """The bias's gradient Σ over (N, T) is the sum's own array seen in b's shape, ``g3 =
    v9.reshape((3,))`` (it was copied: ``numpy.array(v9.reshape((3,)), dtype=DTYPE)``); an optimizer
    that works in the gradient's buffer (momentum's ``numpy.multiply(b, lr, out=g)``, Adam's) steps as
    torch's does, three steps."""
    loss, params, inputs = _attention_mlp()
    make = {"momentum": (lambda: sg.optim.SGD(lr=0.1, momentum=0.9),
                         lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9)),
            "adam": (lambda: sg.optim.Adam(lr=0.01), lambda ps: torch.optim.Adam(ps, lr=0.01))}[opt]
    prog = sg.compile(loss, params, inputs, dtype="float64", optimizer=make[0]())
    step = re.search(r"^def step\(.*?(?=^def |\Z)", prog.source, re.M | re.S).group(0)
    assert re.search(r"\n    g3 = v\d+\.reshape\(\(3,\)\)\n", step), step
    assert "numpy.array(v" not in step, step
    rng = np.random.default_rng(2)
    vals = {"Wq": rng.normal(size=(D, D)), "Wk": rng.normal(size=(D, D)), "W": rng.normal(size=(D, C)),
            "b": rng.normal(size=C)}
    t = {k: torch.tensor(v, requires_grad=True) for k, v in vals.items()}
    topt = make[1](list(t.values()))
    ours, state = {k: v.copy() for k, v in vals.items()}, None
    for n in (3, 4, 2):
        x = rng.normal(size=(n, T, D))
        ours, state = prog.step(ours, state, {"x": x})
        topt.zero_grad()
        xt = torch.tensor(x)
        s = (xt @ t["Wq"]) @ (xt @ t["Wk"]).transpose(-2, -1) / D ** 0.5
        (torch.nn.functional.gelu((s.softmax(-1) @ xt) @ t["W"] + t["b"]) ** 2).mean().backward()
        topt.step()
    for k in vals:
        np.testing.assert_allclose(ours[k], t[k].detach().numpy(), rtol=1e-9, atol=1e-12, err_msg=k)
