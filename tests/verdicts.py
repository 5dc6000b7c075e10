"""What the check_backward tests assert of a verdict, and of the right backward before it (that it
returns torch.autograd's gradients), shared by the files that check layers."""
from __future__ import annotations

import sympy as sp

N = sp.Symbol("N", integer=True, positive=True)     # the batch size of every declaration over a batch


def wrong(r, named=None):
    """The verdict is "not equal", and the hint starts with ``named`` when one is given."""
    assert not r and r.verdict == "not equal", str(r)
    if named is not None:
        assert r.hint is not None and r.hint.startswith(named), r.hint
    return r


def check_slip(model, backward, slip=None):
    """`sg.check_backward`'s result for ``backward`` called with ``slip=slip`` (None: the right one),
    on the declaration ``model()`` returns as (out, wrt)."""
    import symgrad as sg
    out, wrt = model()
    return sg.check_backward(out, wrt, lambda *a, **k: backward(*a, **k, slip=slip))


def torch_grads(forward, arrays: dict, dout, names):
    """torch.autograd's gradients (float64) of Σ forward(**arrays) ⊙ dout with respect to ``names``."""
    import torch
    ts = {k: torch.tensor(v, requires_grad=k in names) for k, v in arrays.items()}
    forward(**ts).backward(torch.tensor(dout))
    return [ts[k].grad.numpy() for k in names]


def assert_torch_agrees(forward, backward, arrays: dict, dout, names=None, **extra):
    """A hand-written ``backward(dout, **arrays, **extra)`` returns torch.autograd's gradients of
    ``forward`` for ``names`` (every array by default), one for each and in that order: the right
    backward of a trial is checked against torch before symgrad's verdict on it is read."""
    import numpy as np
    names = list(arrays) if names is None else names
    got, want = backward(dout, **arrays, **extra), torch_grads(forward, arrays, dout, names)
    assert len(got) == len(want), (len(got), names)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12)
