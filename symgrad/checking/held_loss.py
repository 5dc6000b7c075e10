"""The loss `gradcheck` differences for a program that holds a stop_gradient.

A compiled program's ``.loss`` sees through a stop_gradient: its forward value is its argument's,
so a central difference of it includes the path the stop_gradient holds, and a right gradient reads
wrong. The gradient such a program defines is the derivative with each held value fixed at its value
at the point (torch's ``.detach()``): L(p) = f(p, s(p₀)), not f(p, s(p)).

So, as `sg.check` does for a claim (`symgrad.checking.verdict._cross_check`), each stop_gradient's
value is computed once at the point (`symgrad.core.stop_gradients.frozen_values`) and held there
while the parameters move: the loss is then evaluated by symgrad's reference interpreter
(`symgrad.core.evaluate.evaluate`, float64) from the program's own spec — the lowering it keeps with
its stop_gradients, `Program.spec.eval` — in the program's batch convention:

- a whole-batch spec (a symbolic batch size, or a per-example tensor declaration batched by
  symgrad): the graph over the arrays as passed, its reduction inside it;
- a per-example spec (matrix symbols or scalars per example): the graph once per example, then the
  mean over the examples (or their sum, ``reduction="sum"``); each example's held values are its own.

Read by its fields (``spec.eval.graph``, ``.loss``, ``.inputs``; ``spec.params``, ``.inputs``,
``.whole_batch``, ``.reduction``): checking does not import compiling. A stand-in wrapping a
program takes part by handing its ``spec`` on.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np

from ..core.evaluate import evaluate
from ..core.stop_gradients import frozen_values, holds_stop_gradient, is_stop_gradient
from ..core.values import key_name, lookup
from ..errors import UnsupportedError


class HeldLoss:
    """``L(values) -> float``: the program's loss at ``values`` (keyed by symbol or name) with each
    stop_gradient held at its value at the point the object was made at. ``count`` is the number of
    stop_gradient nodes held; ``at_point`` the loss at the point (for the report's comparison with the
    program's own loss)."""

    def __init__(self, spec, values: Mapping, batch: Mapping):
        lw = spec.eval
        self.graph, self.out = lw.graph, lw.loss
        eqns = self.graph.ancestors([self.out])
        self.count = sum(1 for e in eqns if is_stop_gradient(e))
        self.params = list(spec.params)
        self.reduction = getattr(spec, "reduction", "mean")
        used = {vid for vid in lw.inputs if vid is not None}
        leaves = {e.out.id: e for e in eqns if e.prim.leaf}
        # the inputs the loss reads, by their symbol in the spec (the batched tensor of a per-example
        # tensor declaration is named as declared, so the batch's keys find it)
        self.inputs = [x for x, vid in zip(spec.inputs, lw.inputs) if vid in used and vid in leaves]
        # each one's shape in the graph (a kernel target's per-example (n,) tensor is an (n, 1) leaf)
        self.shapes = {x.name: leaves[vid].params[1] for x, vid in zip(spec.inputs, lw.inputs)
                       if vid in used and vid in leaves}
        # and each parameter's (a kernel target's per-example bias (n,) is an (n, 1) leaf too)
        self.param_shapes = {p.name: leaves[vid].params[1] for p, vid in zip(spec.params, getattr(lw, "params", ()))
                             if vid is not None and vid in leaves}
        self.whole = bool(getattr(spec, "whole_batch", False))
        self.examples = self._examples(batch)
        self.held = [frozen_values(self.graph, [self.out], ex) for ex in self._points(values)]
        self.at_point = self(values)

    def __call__(self, values: Mapping) -> float:
        losses = [float(evaluate(self.graph, [self.out], ex, frozen=held)[0])
                  for ex, held in zip(self._points(values), self.held)]
        if self.whole:
            return losses[0]
        return float(np.sum(losses) if self.reduction == "sum" else np.mean(losses))

    def _examples(self, batch) -> list:
        """The batch's values of the inputs: one dict for a whole-batch spec, one per example else."""
        arrays = {x.name: lookup(batch, x) for x in self.inputs}
        if self.whole:
            return [arrays]
        sizes = {int(np.shape(a)[0]) for a in arrays.values() if np.ndim(a)}
        B = sizes.pop() if sizes else 1
        return [{x.name: _one_example(arrays[x.name], i, self.shapes[x.name]) for x in self.inputs}
                for i in range(B)]

    def _points(self, values) -> list:
        """The values the interpreter is given: the parameters' (by name) with each example's inputs."""
        ps = {key_name(k): v for k, v in values.items()}
        ps = {p.name: _in_leaf_shape(lookup(ps, p), self.param_shapes.get(p.name)) for p in self.params if p.name in ps}
        return [{**ps, **ex} for ex in self.examples]


def _in_leaf_shape(v, shape):
    """A parameter's value ``v`` as its leaf in the graph has it: reshaped where only the shape differs
    ((3,) given for a (3, 1) leaf); as it is otherwise (the interpreter then names the mismatch)."""
    if shape is None or any(not isinstance(d, int) and not getattr(d, "is_Integer", False) for d in shape):
        return v
    want = tuple(int(d) for d in shape)
    if tuple(np.shape(v)) == want:
        return v
    a = np.asarray(v)                   # gradcheck hands NumPy copies of the point (torch's converted there)
    return a.reshape(want) if a.size == int(np.prod(want, dtype=int)) else v


def _one_example(a, i, shape):
    """Example ``i`` of a batch array ``a`` (B, ...) in ``shape``, its leaf's in the graph: a number
    for a scalar, (n, 1) for a column passed as (B, n)."""
    row = np.asarray(a)[i]
    if shape == () or row.ndim == 0:
        return float(row)
    want = tuple(int(d) for d in shape)
    return row.reshape(want) if row.size == int(np.prod(want)) else row


def held_loss(program, values: Mapping, batch: Mapping) -> HeldLoss | None:
    """The loss with each stop_gradient held at ``values`` (a `HeldLoss`), for a program whose spec
    holds one; None for any other program (differenced through its own ``.loss``)."""
    spec = getattr(program, "spec", None)
    lw = getattr(spec, "eval", None)
    if lw is None or not hasattr(lw, "graph") or not hasattr(lw, "loss"):
        return None
    eqns = lw.graph.ancestors([lw.loss])
    if not any(holds_stop_gradient(e) for e in eqns):
        return None
    if any(holds_stop_gradient(e) and not is_stop_gradient(e) for e in eqns):
        raise UnsupportedError("gradcheck holds a stop_gradient by its node (ewise[stop_gradient(a0)]); this "
                               "program's spec has one inside a larger elementwise body, which it cannot hold "
                               "— please report this")
    if getattr(program, "has_dropout", False):
        raise UnsupportedError("gradcheck of a program with both dropout and a stop_gradient is not supported: "
                               "the held values would have to be taken under the dropout masks. Check it with "
                               "dropout p=0, or check the declaration with sg.check (it holds stop_gradients)")
    return HeldLoss(spec, values, batch)


def loss_note(held: HeldLoss, program_loss: float, eps: float) -> str:
    """The report's line on the held loss: how many stop_gradients are held, and whether the
    program's own loss at the point is the interpreter's (it must be: a stop_gradient's value is its
    argument's)."""
    n = held.count
    s = (f"{n} stop_gradient{'s' if n != 1 else ''} held at {'their' if n != 1 else 'its'} value at the "
         f"point: the central differences are of the loss with {'them' if n != 1 else 'it'} fixed "
         f"(symgrad's float64 interpreter of the program's spec), the gradient the program defines")
    ref = held.at_point
    if abs(program_loss - ref) > max(1e3 * eps, 1e-6) * max(abs(ref), 1.0):
        s += (f"; the program's own loss at the point, {program_loss:.9g}, is not the interpreter's "
              f"{ref:.9g} — the compiled loss is wrong, not only its gradient")
    return s

__all__ = ["HeldLoss", "held_loss", "loss_note"]
