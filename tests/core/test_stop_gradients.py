"""symgrad.core.stop_gradients: removing the stop_gradients after differentiation keeps every value
(checked by the reference evaluator), leaves none in the graph the outputs read, and holding them
(frozen=) is what the derived gradient differentiates (checked by central differences)."""
from __future__ import annotations

import numpy as np
import sympy as sp

import symgrad as sg
from symgrad.core.evaluate import evaluate
from symgrad.core.lower import lower
from symgrad.core.reverse import backward
from symgrad.core.stop_gradients import (frozen_values, holds_stop_gradient, is_stop_gradient,
                                         strip_stop_gradients)

x, y = sp.symbols("x y", real=True)
SG = sg.stop_gradient


def _graph(f, wrt):
    graph, low, out = lower(f, params=wrt)
    return graph, out, backward(graph, out, [low.leaf(w) for w in wrt])


def test_strip_keeps_the_values_and_leaves_no_stop_gradient():
    f = (x + SG(sp.sign(x) - x)) ** 2 * y + SG(x * y) * sp.exp(SG(y) - x)
    graph, out, grads = _graph(f, [x, y])
    assert any(is_stop_gradient(e) for e in graph.ancestors([out] + grads))
    at = {x: 0.3, y: -1.2}
    before = evaluate(graph, [out] + grads, at)
    notes = {out.id: "the loss"}
    done = strip_stop_gradients(graph, [out] + grads + [None], notes)
    assert done[-1] is None
    assert not any(holds_stop_gradient(e) for e in graph.ancestors(done[:-1]))
    np.testing.assert_allclose(evaluate(graph, done[:-1], at), before, rtol=1e-15)
    assert notes.get(done[0].id) == "the loss"


def test_straight_through_sum_becomes_the_held_value_itself():
    """z + sg(h − z) is h once stripped: one equation, not a sum whose terms cancel later."""
    graph, out, _ = _graph(x + SG(sp.tanh(x * y) - x), [x])
    (done,) = strip_stop_gradients(graph, [out])
    e = graph.producer[done.id]
    assert e.prim.name == "ewise" and str(e.params[0]) == "tanh(a0)"


def test_without_stop_gradient_nothing_changes():
    graph, out, grads = _graph(x * y, [x])
    n = len(graph)
    assert strip_stop_gradients(graph, [out] + grads) == [out] + grads and len(graph) == n


def test_frozen_values_make_central_differences_agree_with_the_gradient():
    f = x * SG(sp.sin(x)) + SG(x ** 2) * y
    graph, out, (gx,) = _graph(f, [x])
    at = {x: 0.7, y: 0.4}
    held = frozen_values(graph, [out], at)
    assert len(held) == 2
    h = 1e-6
    fd = (evaluate(graph, [out], {**at, x: 0.7 + h}, frozen=held)[0]
          - evaluate(graph, [out], {**at, x: 0.7 - h}, frozen=held)[0]) / (2 * h)
    assert abs(fd - evaluate(graph, [gx], at)[0]) < 1e-8
    plain = (evaluate(graph, [out], {**at, x: 0.7 + h})[0] - evaluate(graph, [out], {**at, x: 0.7 - h})[0]) / (2 * h)
    assert abs(plain - fd) > 0.1           # without holding them, differences see through it
