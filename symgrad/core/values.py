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


class Named(dict):
    """A result dict keyed by name (``{"W1": ..., "b1": ...}``) that is also looked up by the symbol,
    as the dicts symgrad takes are: ``g[W1]`` is ``g["W1"]``. Printing, iterating, saving and
    comparing see the plain names.

    >>> import sympy as sp
    >>> W = sp.MatrixSymbol("W", 2, 2)
    >>> g = Named(W=1.0)
    >>> g[W], g["W"], W in g, g.get(sp.Symbol("b"), 0)
    (1.0, 1.0, True, 0)
    >>> g
    {'W': 1.0}
    """

    __slots__ = ()

    def __missing__(self, key):
        name = key_name(key)
        for k in self:                       # a symbol for a name, or a name for a symbol key
            if key_name(k) == name:
                return dict.__getitem__(self, k)
        raise KeyError(f"{name!r} is not among {sorted(map(key_name, self))}")

    def __contains__(self, key):
        return dict.__contains__(self, key) or any(key_name(k) == key_name(key) for k in self)

    def get(self, key, default=None):
        return self[key] if key in self else default
