"""max_ties="split" (2026-11-30, eleventh session): a researcher checking symgrad against
torch.autograd at ties. torch's maximum / minimum (and torch.max(a, b)) divide a tie's gradient ½
to each argument; symgrad's only rule was "first" (the first of SymPy's sorted args takes all of
it), and Subgradients(max_ties="split") was refused. Oracle: torch.autograd at the same points, in
float64; the default policy is still checked against SymPy's own argument order."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import ArgumentError

torch = pytest.importorskip("torch")
SPLIT = sg.Subgradients(max_ties="split")


def _torch_grads(f, *values):
    ts = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in values]
    f(*ts).sum().backward()
    return [t.grad.numpy() for t in ts]


@pytest.mark.parametrize("op, sym", [(torch.maximum, sp.Max), (torch.minimum, sp.Min),
                                     (torch.max, sp.Max), (torch.min, sp.Min)])
def test_scalar_split_equals_torch_at_a_tie_and_off_it(op, sym):
    z, w = sp.symbols("z w")
    for point in [(1.0, 1.0), (2.0, -1.0), (-3.0, 0.5)]:
        want = _torch_grads(op, *point)
        got = [float(g.subs({z: point[0], w: point[1]})) for g in sg.grad(sym(z, w), [z, w], policy=SPLIT)]
        assert got == [float(a) for a in want], point


def test_default_is_still_first_in_sympys_order_not_torchs_split():
    z, w = sp.symbols("z w")
    e = sp.Max(z, w)
    first = e.args[0]
    got = dict(zip([z, w], sg.grad(e, [z, w])))
    assert got[first].subs({z: 1, w: 1}) == 1 and sum(g.subs({z: 1, w: 1}) for g in got.values()) == 1
    assert sg.Subgradients().max_ties == "first"


def test_three_way_tie_divides_in_thirds_and_a_pair_in_halves():
    a, b, c = sp.symbols("a b c")
    g = sg.grad(sp.Max(a, b, c), [a, b, c], policy=SPLIT)
    assert [x.subs({a: 1, b: 1, c: 1}) for x in g] == [sp.Rational(1, 3)] * 3
    assert [x.subs({a: 1, b: 0, c: 1}) for x in g] == [sp.S.Half, 0, sp.S.Half]
    assert [x.subs({a: 0, b: 2, c: 1}) for x in g] == [0, 1, 0]
    m = sg.grad(sp.Min(a, b, c), [a, b, c], policy=SPLIT)
    assert [x.subs({a: 1, b: 1, c: 2}) for x in m] == [sp.S.Half, sp.S.Half, 0]


def _tensor_case():
    x, y = sg.tensor("x", (3, 2)), sg.tensor("y", (2,))
    xv = np.array([[1.0, 2.0], [0.5, -1.0], [3.0, 0.0]])
    yv = np.array([1.0, 0.0])                  # ties at (0, 0), (1, 1)... and (2, 1)
    return x, y, xv, yv


@pytest.mark.parametrize("which", ["maximum", "minimum"])
def test_tensor_broadcast_grad_and_numeric_equal_torch(which):
    x, y, xv, yv = _tensor_case()
    f = (getattr(sg, which)(x, y) * sg.tensor("c", (3, 2))).sum()
    cv = np.arange(1.0, 7.0).reshape(3, 2)
    want = _torch_grads(lambda a, b: getattr(torch, which)(a, b) * torch.tensor(cv), xv, yv)
    gx, gy = sg.grad(f, [x, y], policy=SPLIT)
    values = {x: xv, y: yv, sg.tensor("c", (3, 2)): cv}
    np.testing.assert_allclose(np.asarray(sg.numeric(gx, values), float), want[0])
    np.testing.assert_allclose(np.asarray(sg.numeric(gy, values), float).reshape(-1), want[1])


def test_compiled_numpy_program_honours_split_and_default_first():
    z, w = sp.MatrixSymbol("z", 3, 1), sp.MatrixSymbol("w", 3, 1)
    loss = sum(sp.Max(z[i, 0], w[i, 0]) * (i + 1) for i in range(3))
    zv, wv = np.array([[1.0], [2.0], [0.0]]), np.array([[1.0], [0.0], [0.0]])
    want = _torch_grads(lambda a, b: torch.maximum(a, b) * torch.tensor([[1.0], [2.0], [3.0]]), zv, wv)
    prog = sg.compile(loss, params=[z, w], dtype="float64", reduction="sum", policy=SPLIT)
    got = prog.grad({z: zv, w: wv}, {})
    np.testing.assert_allclose(got[z], want[0])
    np.testing.assert_allclose(got[w], want[1])
    first = sg.compile(loss, params=[z, w], dtype="float64", reduction="sum").grad({z: zv, w: wv}, {})
    assert first[z][0, 0] + first[w][0, 0] == 1 and {first[z][0, 0], first[w][0, 0]} == {0.0, 1.0}


def test_clamp_is_not_a_max_tie_it_keeps_torchs_bound_inclusive_rule():
    """torch.clamp(x, min=m) at x = m gives x the whole gradient (its bounds are inclusive) whatever
    max_ties says; so does sg.clip, under both policies (its kink follows relu_at_zero)."""
    x, lo = sp.symbols("x lo")
    want = _torch_grads(lambda a, m: torch.clamp(a, min=m), 1.0, 1.0)
    assert [float(v) for v in want] == [1.0, 0.0]
    for policy in (sg.Subgradients(), SPLIT):
        got = [float(g.subs({x: 1, lo: 1})) for g in sg.grad(sg.clip(x, lo), [x, lo], policy=policy)]
        assert got == [1.0, 0.0]


def test_an_unknown_rule_names_both_supported_ones():
    with pytest.raises(ArgumentError, match="'first'.*'split'"):
        sg.Subgradients(max_ties="even")


def test_triton_target_honours_split_and_default_first():
    """The Triton kernels (TRITON_INTERPRET=1 on the CPU) print the same derivative body."""
    pytest.importorskip("triton")
    x, w, c = sg.tensor("x", (4,)), sg.tensor("w", (4,)), sg.tensor("c", (4,))
    loss = (sg.maximum(x, w) * c).sum()
    xv, cv = np.array([[1.0, 2.0, 0.0, 3.0]]), np.array([[1.0, 2.0, 3.0, 4.0]])
    wv = np.array([1.0, 0.0, 0.0, 3.0])                     # ties at entries 0, 2 and 3
    want = _torch_grads(lambda a, b: torch.maximum(a, b) * torch.tensor(cv), xv, wv)[1]
    for policy in (SPLIT, sg.Subgradients()):
        prog = sg.compile(loss, params=[w], inputs=[x, c], target="triton", reduction="sum", policy=policy)
        got = np.asarray(prog.grad({w: wv.astype(np.float32)},
                                   {x: xv.astype(np.float32), c: cv.astype(np.float32)})["w"].cpu(), float)
        if policy is SPLIT:
            np.testing.assert_allclose(got, want)
        else:                       # each tie wholly to one argument: w's share is 0 or all of c
            assert all(got[i] in (0.0, cv[0, i]) for i in (0, 2, 3)) and not np.allclose(got, want)


def test_a_max_over_an_axis_keeps_the_first_arg_max_under_split_as_documented():
    """docs/core.md: x.max(axis) routes a tie to the first arg-max under either policy — torch's
    max(x, dim) (one index), not its amax (split evenly)."""
    x = sg.tensor("x", (2, 3))
    xv = np.array([[1.0, 1.0, 0.0], [2.0, 3.0, 3.0]])
    by_index = _torch_grads(lambda a: torch.max(a, 1).values, xv)[0]
    by_amax = _torch_grads(lambda a: torch.amax(a, 1), xv)[0]
    assert not np.allclose(by_index, by_amax)
    for policy in (sg.Subgradients(), SPLIT):
        (gx,) = sg.grad(x.max(axis=1).sum(), [x], policy=policy)
        np.testing.assert_allclose(np.asarray(sg.numeric(gx, {x: xv}), float), by_index)


def test_compiled_numpy_program_with_batched_inputs_honours_split():
    x, w, c = sg.tensor("x", (4,)), sg.tensor("w", (4,)), sg.tensor("c", (4,))
    xv, cv = np.array([[1.0, 2.0, 0.0, 3.0]]), np.array([[1.0, 2.0, 3.0, 4.0]])
    wv = np.array([1.0, 0.0, 0.0, 3.0])
    want = _torch_grads(lambda a, b: torch.maximum(a, b) * torch.tensor(cv), xv, wv)[1]
    prog = sg.compile((sg.maximum(x, w) * c).sum(), params=[w], inputs=[x, c], dtype="float64",
                      reduction="sum", policy=SPLIT)
    np.testing.assert_allclose(prog.grad({w: wv}, {x: xv, c: cv})["w"], want)
