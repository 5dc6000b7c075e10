"""Values keyed by a SymPy symbol or by its name — the one convention of every dict symgrad takes
(``{W: ..., "x": ...}``) and returns.

>>> import sympy as sp
>>> key_name(sp.Symbol("w")), lookup({"w": 1.5}, sp.Symbol("w"))
('w', 1.5)
"""
from __future__ import annotations

from collections.abc import Mapping


def key_name(key) -> str:
    """The name of a key: a symbol's ``name``, or the string itself."""
    return getattr(key, "name", str(key))


def lookup(d: Mapping, key):
    """d[key], where key and d's keys may be symbols or names; KeyError naming the keys there are."""
    if key in d:
        return d[key]
    for k, v in d.items():
        if key_name(k) == key_name(key):
            return v
    raise KeyError(f"{key_name(key)!r} is not among {sorted(key_name(k) for k in d)}")
