"""A compiled program's stop-gradients, removed before its backend sees it.

``stop_gradient`` matters only to differentiation (`symgrad.core.stop_gradients`): once `specify`
has derived the gradients, every backend gets the spec with each stop_gradient replaced by its
argument. The `Spec` the `Program` keeps is left as it was, so that later derivations on it
(``Program.as_torch()``'s input gradients and output VJPs, `codegen.vjp_specs`) still send no
gradient through a stop_gradient.
"""
from __future__ import annotations

import dataclasses

from ..core.stop_gradients import strip_stop_gradients
from .optim_skip import paths_without_gradient

# (`Spec` and `Lowered` of `symgrad.compiling.backends` are read by their fields: backends imports this)


def stripped_lowering(lw):
    """The `Lowered` ``lw`` with no stop_gradient left in its loss, outputs and gradients (a copy
    when it had one; ``lw`` itself otherwise): for a backend function built from one lowering
    alone (``Program.as_torch()``'s kernels, `codegen.numpy_backend._one_function`)."""
    if lw is None:
        return None
    roots = [lw.loss] + list(lw.outputs) + list(lw.grads)
    notes = dict(lw.notes)
    done = strip_stop_gradients(lw.graph, roots, notes)
    if all(a is b for a, b in zip(done, roots)):
        return lw
    n = len(lw.outputs)
    # which parameters get no gradient is decided by the paths that the stop_gradients cut: now or never
    idle = lw.no_gradient if lw.no_gradient is not None else paths_without_gradient(lw)
    return dataclasses.replace(lw, loss=done[0], outputs=done[1:1 + n], grads=done[1 + n:], notes=notes,
                               no_gradient=idle)


def without_stop_gradients(spec):
    """``spec`` (a `Spec`) with no stop_gradient left in its lowerings (the same values); ``spec``
    itself when it has none."""
    if not dataclasses.is_dataclass(spec) or not hasattr(spec, "train"):
        return spec
    changes = {}
    for name in ("train", "eval", "train_outputs"):
        lw = getattr(spec, name, None)
        new = stripped_lowering(lw)
        if new is not lw:
            changes[name] = new
    return dataclasses.replace(spec, **changes) if changes else spec
