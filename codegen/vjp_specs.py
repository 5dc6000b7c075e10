"""Two more lowerings of a compiled program, for `Program.as_torch()` as a torch layer.

A torch layer must pass gradients on to whatever came before it (an encoder, an input with
``requires_grad``), and its forward must return predictions that a torch loss differentiates.
Both need vector-Jacobian products the program's own lowerings do not have; they are derived here
by the same reverse-mode driver, on copies of the program's graphs (the program is left alone):

- `with_input_grads`: the training loss with, besides ∂L/∂p (summed over the batch), the
  per-example ∂L/∂x_b of every input (its adjoint is seeded with ``scale``, so it is the gradient
  of the batch's loss, 1/B · ∂L_b/∂x_b for the mean);
- `output_vjp`: for the ``outputs=[...]`` o_k and cotangents ḡ_k (new inputs, one per output,
  shaped like it), the scalar  V = Σ_k ⟨ḡ_k, o_k⟩  per example, summed over the batch
  (``reduction="sum"``): ∂V/∂p = Σ_b (∂o_b/∂p)ᵀ ḡ_b is what autograd's backward of the outputs
  must return for the parameters, and ∂V_b/∂x_b for the inputs.

>>> import sympy as sp, symgrad as sg
>>> from symgrad.compiling.compiler import specify
>>> net = sg.mlp([2, 3, 1]); t = sp.MatrixSymbol("t", 1, 1)
>>> spec = specify(sg.mse(net.output, t), net.params, [net.input, t],
...                outputs=[net.output])
>>> vspec, xgrads = output_vjp(spec)
>>> [x.name for x in vspec.inputs], vspec.reduction, xgrads[0] is not None, xgrads[1] is None
(['x', 't', 'cotangent0'], 'sum', True, True)
"""
from __future__ import annotations

import copy
import dataclasses

import sympy as sp

from symgrad.compiling.compiler import Lowered, Spec
from symgrad.core import array_rules as A
from symgrad.core import rules as R
from symgrad.core.placeholders import placeholders
from symgrad.core.reverse import backward
from symgrad.errors import UnsupportedError
from symgrad.frontend.tensor import tensor


def _copy(lw: Lowered) -> Lowered:
    """A deep copy of ``lw`` that shares the primitives (the schedulers test them by identity)."""
    memo = {id(p): p for p in R.PRIMITIVES.values()}
    for e in lw.graph.eqns:
        memo[id(e.prim)] = e.prim
    return copy.deepcopy(lw, memo)


def _leaf(lw: Lowered, vid):
    return None if vid is None else lw.graph.producer[vid].out


def with_input_grads(spec: Spec) -> tuple[Spec, list]:
    """(spec with a training lowering that also has the inputs' adjoints, [∂L/∂x_i var or None]).

    The second reverse pass reuses the first's equations (the graph hash-conses them), so the
    kernels compute the shared adjoints once."""
    lw = _copy(spec.train)
    g = lw.graph
    xs = [(i, _leaf(lw, vid)) for i, vid in enumerate(lw.inputs) if vid is not None]
    cts = backward(g, lw.loss, [x for _, x in xs], seed=_leaf(lw, lw.scale)) if xs else []
    input_grads = [None] * len(spec.inputs)
    for (i, _), c in zip(xs, cts):
        input_grads[i] = c
    return dataclasses.replace(spec, train=lw), input_grads


def output_vjp(spec: Spec, dropout: bool = False) -> tuple[Spec, list]:
    """(spec of V = Σ_k ⟨ḡ_k, o_k⟩ summed over the batch, [∂V/∂x_i var or None]) — see the module
    docstring. The cotangents are inputs appended after the program's, named ``cotangent0``, ... (a
    name no other input has). ``dropout``: of the outputs with dropout on (`Spec.train_outputs`),
    whose masks its kernels draw as the outputs' kernels do from the same seed.

    A NumPy tensor declaration (``spec.whole_batch``: over the batch, or per example and batched)
    keeps its kind: the cotangents are tensors (``sg.tensor``, one example's shape among
    ``declared_inputs`` for a per-example one), and the spec is the whole-batch writer's (the matrix
    writer has no rules for the N-d primitives). A per-example output that reads no input is one
    value, which the module repeats over the batch: its cotangent is one per example too."""
    ev = _copy(spec.train_outputs if dropout else spec.eval)
    g = ev.graph
    taken = {s.name for s in spec.params + spec.inputs}
    a0, a1 = placeholders(2)
    cot_syms, cot_ids, terms = [], [], []
    whole = getattr(spec, "whole_batch", False)      # a NumPy tensor declaration: its whole-batch graph
    each = getattr(spec, "declared_inputs", None) is not None     # ... of per-example tensors, batched
    B = _batch_size(spec) if each else None
    declared = []
    for k, o in enumerate(ev.outputs):
        name = f"cotangent{k}"
        while name in taken:
            name = "_" + name
        shape = tuple(o.shape)
        if each and not _batched(shape, B):
            # an output that reads no input is one value, repeated over the batch by the program:
            # its cotangent is still one per example, ⟨ḡ, o⟩ summed over them
            o = A.expand(g, o, (B,) + shape)
            shape = (B,) + shape
        if whole:
            sym = tensor(name, shape)
            declared.append(tensor(name, shape[1:]) if each else sym)
        else:
            sym = sp.MatrixSymbol(name, *shape) if shape != () else sp.Symbol(name, real=True)
        leaf = g.bind(R.input_p, (), (sym, shape))
        cot_syms.append(sym)
        cot_ids.append(leaf.id)
        terms.append(R.reduce_sum(g, R.ewise(g, a0 * a1, leaf, o)))
    V = R.add_n(g, terms, ())
    seed = g.bind(R.input_p, (), (sp.Dummy("scale", real=True), ()))
    wrt_p = [_leaf(ev, vid) for vid in ev.params]
    wrt_x = [_leaf(ev, vid) for vid in ev.inputs]
    wrt = [v for v in wrt_p + wrt_x if v is not None]
    cts = iter(backward(g, V, wrt, seed=seed))
    grads = [None if v is None else next(cts) for v in wrt_p]
    input_grads = [None if v is None else next(cts) for v in wrt_x]
    lw = Lowered(g, V, list(ev.params), list(ev.inputs) + cot_ids, list(ev.masks), scale=seed.id, grads=grads,
                 notes=dict(ev.notes))
    if not whole:
        return Spec(spec.params, list(spec.inputs) + cot_syms, lw, lw, spec.optimizer, spec.dtype, "sum"), input_grads
    # the whole-batch path's spec (its NumPy writer, its program's reading of the batch), the
    # cotangents among the inputs as declared
    out = Spec(spec.params, list(spec.inputs) + cot_syms, lw, lw, spec.optimizer, spec.dtype, "sum",
               whole_batch=True, declared_inputs=list(spec.declared_inputs) + declared if each else None)
    return out, input_grads


def _batch_size(spec):
    """The batch size B of a per-example tensor declaration, batched (the first axis of its inputs)."""
    from symgrad.compiling.batching import BatchSize
    for x in spec.inputs:
        for d in getattr(x, "shape", ()):
            if isinstance(d, BatchSize):
                return d
    raise UnsupportedError("the outputs' vector-Jacobian product needs an input to read the batch size from")


def _batched(shape, B) -> bool:
    return bool(shape) and sp.sympify(shape[0]) == B


def eval_grads(spec: Spec) -> tuple[Spec, list]:
    """(spec whose training lowering is the EVAL loss — dropout off — with its gradients, [∂L/∂x_i
    var or None]): what an ``as_torch()`` module in eval mode differentiates (torch's nn.Dropout
    drops nothing there). The seed is the loss's scale (1/B for the mean), as in training."""
    ev = _copy(spec.eval)
    g = ev.graph
    seed = g.bind(R.input_p, (), (sp.Dummy("scale", real=True), ()))
    wrt_p = [_leaf(ev, vid) for vid in ev.params]
    wrt_x = [_leaf(ev, vid) for vid in ev.inputs]
    cts = iter(backward(g, ev.loss, [v for v in wrt_p + wrt_x if v is not None], seed=seed))
    grads = [None if v is None else next(cts) for v in wrt_p]
    input_grads = [None if v is None else next(cts) for v in wrt_x]
    lw = Lowered(g, ev.loss, list(ev.params), list(ev.inputs), [], scale=seed.id, grads=grads,
                 notes=dict(ev.notes))
    return dataclasses.replace(spec, train=lw, eval=lw), input_grads
