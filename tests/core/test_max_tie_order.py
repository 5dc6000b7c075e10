"""Where Max's gradient goes at a tie (2026-11-30, tenth session). docs/core.md said "Max routes a
tie to its first argument", read as the first one written; SymPy sorts Max's arguments when it
builds it, so sg.grad(sp.Max(z, w), [z, w]) at z = w routes to w. The docs now say "first in
SymPy's order" and how to choose (w + relu(z − w)). The oracle for "first" is SymPy's own args; the
docs' statement about torch is checked against torch.autograd."""
from __future__ import annotations

import pytest
import sympy as sp

import symgrad as sg


@pytest.mark.parametrize("written", ["zw", "wz"])
def test_tie_goes_to_the_first_of_sympys_args_whatever_was_written(written):
    z, w = sp.symbols("z w")
    e = sp.Max(z, w) if written == "zw" else sp.Max(w, z)
    first, second = e.args                       # SymPy's order, the oracle
    grads = dict(zip([z, w], sg.grad(e, [z, w])))
    at_tie = {z: 2, w: 2}
    assert grads[first].subs(at_tie) == 1 and grads[second].subs(at_tie) == 0
    assert {first, second} == {z, w}


def test_min_too():
    a, b = sp.symbols("b a")                     # names chosen so the written and sorted orders differ
    e = sp.Min(a, b)
    first = e.args[0]
    assert first != a
    grads = dict(zip([a, b], sg.grad(e, [a, b])))
    assert grads[first].subs({a: 0, b: 0}) == 1


def test_relu_form_chooses_the_argument_as_the_docs_say():
    z, w = sp.symbols("z w")
    at_tie = {z: 1, w: 1}
    assert [g.subs(at_tie) for g in sg.grad(w + sg.relu(z - w), [z, w])] == [1, 0]
    zero = sg.Subgradients(relu_at_zero=0)
    assert [g.subs(at_tie) for g in sg.grad(w + sg.relu(z - w), [z, w], policy=zero)] == [0, 1]


def test_torch_splits_a_tie_as_the_docs_say():
    torch = pytest.importorskip("torch")
    z = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    w = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    torch.maximum(z, w).backward()
    assert z.grad.item() == 0.5 and w.grad.item() == 0.5
