"""Which terms of a loss's sum are penalties, L = L_data + L_reg, wherever SymPy sorted them.

A penalty is a term of the parameters alone: every array it reads is a parameter derived for (W
of λ·Σ W², 0.1·(W²).sum()), with scalar hyperparameters (λ) beside them; a data term reads an
input array too (x, y of ‖W @ x − y‖²). A lecture writes the data term first, and SymPy's order
may put the penalty first (λ·(W²).sum() sorts before ‖W @ x − y‖²): `penalties_last` moves them.
Scalar networks (every input 0-d, L = (w·x − y)² + λ·w²) keep their order: there a penalty's λ and
a data term's x are alike.

>>> import sympy as sp, symgrad as sg
>>> W, x = sg.tensor("W", (2, 3)), sg.tensor("x", (3,))
>>> lam = sp.Symbol("lambda")
>>> penalties_last([lam * (W ** 2).sum(), sg.sum(W @ x)], lambda t: t.free_symbols, {W})
[(W @ x).sum(), lambda*(W**2).sum()]
"""
from __future__ import annotations


def _shaped(s) -> bool:
    shape = getattr(s, "shape", ())
    return shape is not None and tuple(shape) != ()


def is_penalty(symbols, params) -> bool:
    """Whether a term reading ``symbols`` is a penalty: it reads a parameter of ``params``, and every
    array it reads is one of them."""
    arrays = {s for s in symbols if _shaped(s)}
    return bool(arrays & set(params)) and arrays <= set(params)


def penalties_last(terms, symbols_of, params) -> list:
    """``terms`` with the penalties after the data terms, each group in its own order (stable);
    ``terms`` itself where all or none are penalties, or where no term reads an array."""
    flags = [is_penalty(symbols_of(t), params) for t in terms]
    if all(flags) or not any(flags):
        return list(terms)
    return [t for t, f in zip(terms, flags) if not f] + [t for t, f in zip(terms, flags) if f]


def leaf_symbols(g, var) -> set:
    """The symbols of the leaves (parameters and inputs) ``var`` of graph ``g`` is computed from."""
    return {eq.params[0] for eq in g.ancestors([var])
            if eq.prim.leaf and eq.params and eq.prim.name in ("param", "input")}
