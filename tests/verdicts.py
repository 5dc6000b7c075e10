"""What the check_backward tests assert of a verdict, shared by the files that check layers."""
from __future__ import annotations

import sympy as sp

N = sp.Symbol("N", integer=True, positive=True)     # the batch size of every declaration over a batch


def wrong(r, named=None):
    """The verdict is "not equal", and the hint starts with ``named`` when one is given."""
    assert not r and r.verdict == "not equal", str(r)
    if named is not None:
        assert r.hint is not None and r.hint.startswith(named), r.hint
    return r
