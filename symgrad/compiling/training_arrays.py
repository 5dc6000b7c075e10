"""NumPy arrays and torch tensors alike, for the training loop: a tensor (the Triton target's values)
is recognised without importing torch.

>>> import numpy as np
>>> all_finite({"w": np.ones(2), "s": [np.array(np.inf)]}), num_samples({"x": np.zeros((5, 2))})
(False, 5)
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np


def num_samples(data: Mapping) -> int:
    """The number of samples of ``data`` (a dict of arrays with a leading sample axis)."""
    return len(next(iter(data.values())))


def is_tensor(x) -> bool:
    """A torch tensor (the Triton target's values), recognised without importing torch."""
    return hasattr(x, "detach") and hasattr(x, "clone")


def to_numpy(x):
    """An ndarray of ``x``; a tensor is copied off its device first (np.asarray fails on CUDA)."""
    return x.detach().cpu().numpy() if is_tensor(x) else np.asarray(x)


def all_finite(x) -> bool:
    """Whether every float entry of ``x`` (an array, a tensor, or dicts, lists and tuples of them) is finite."""
    if isinstance(x, np.ndarray):           # the common case first: this runs on every step
        return x.dtype.kind not in "fc" or bool(np.isfinite(x).all())
    if is_tensor(x):
        return not x.is_floating_point() or bool(x.isfinite().all())
    if isinstance(x, Mapping):
        return all(all_finite(v) for v in x.values())
    if isinstance(x, (list, tuple)):
        return all(all_finite(v) for v in x)
    a = np.asarray(x)
    return a.dtype.kind not in "fc" or bool(np.isfinite(a).all())


def copied(x):
    """A copy of ``x`` (arrays and tensors copied, dicts, lists and tuples rebuilt), so that a step that
    updates what it is given in place leaves ``x`` alone."""
    if isinstance(x, np.ndarray):
        return x.copy()
    if is_tensor(x):                       # an in-place step must not touch the kept values
        return x.detach().clone()
    if isinstance(x, Mapping):
        return {k: copied(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(copied(v) for v in x)
    return x
