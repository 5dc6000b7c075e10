"""The header line of a derivation whose loss is a folded cross-entropy, as the slide writes it.

The header prints f, the function derived; ``sg.cross_entropy(z, y)`` reaches it lowered,
(logsumexp(z, axis=1) − take_along_axis(z, …).reshape(N)).mean(), while the forward pass
below reads L = cross_entropy(z, y) (`symgrad.teaching.cross_entropy_steps`). Where the text
folds a cross-entropy, the header is the forward pass's definitions put into each other, so it
reads as the steps do: cross_entropy(relu(x @ W + b) @ V, y). A MatrixSymbol network's
cross-entropy keeps its header: sg.cross_entropy(z, t) of columns is −sum(t ⊙ log_softmax(z)), as
the user may have written it.

>>> import symgrad as sg
>>> z, y = sg.tensor("z", (4, 3)), sg.tensor("y", (4,), integer=True)
>>> print(sg.derive(sg.cross_entropy(2 * z, y), [z], output_name="L").render("unicode").splitlines()[0])
L = cross_entropy(2·z, y)
"""
from __future__ import annotations


def header(f, out_sym, defs, folded: dict, params=()):
    """f as the header prints it: ``f`` itself unless the text folds a cross-entropy (``folded``,
    `NodeNaming.ces`); then the definition of ``out_sym`` with every forward name (``defs``:
    (name, definition, value)) replaced by its definition, else ``f`` where that fails."""
    if not any(ce.reduction != "example" for ce in folded.values()):
        return data_loss_first(f, params=params)   # a MatrixSymbol column's −sum(t ⊙ log_softmax(z)) is the user's (and the slide's)
    sub = {sym: ex for sym, ex, _ in defs}
    if out_sym not in sub:
        return f
    e = definitions_put_in(sub[out_sym], sub)
    return f if e is None else data_loss_first(e, params=params)     # None: keep the lowered header


def definitions_put_in(e, sub: dict):
    """``e`` with the forward names of ``sub`` (name: its definition) replaced by their definitions
    until none is left, one layer a pass (the header here, `Derivation`'s summary lines); None where
    SymPy cannot rebuild a form with them, or where they do not run out."""
    for _ in range(len(sub) + 1):
        try:
            nxt = e.xreplace(sub)
        except Exception:  # noqa: BLE001 - a form SymPy cannot rebuild: the caller's own form
            return None
        if nxt == e:
            return e
        e = nxt
    return None


def data_loss_first(e, data=(), params=()):
    """A sum of a cross-entropy and a penalty written as the slides write it, L = L_data + L_reg:
    the terms holding the cross-entropy (a MatrixSymbol column's −sum(t ⊙ log_softmax(z)), or one of
    the symbols ``data``, its node's names) first; SymPy's order put 0.05·(W²).sum() first. With
    the parameters derived for (``params``), a penalty of them alone goes after the data terms
    without a cross-entropy too: ‖W @ x − y‖² + λ·(W²).sum() (`penalty_terms`).

    >>> import symgrad as sg
    >>> z, y, W = sg.tensor("z", (4, 3)), sg.tensor("y", (4,), integer=True), sg.tensor("W", (3, 3))
    >>> d = sg.derive(sg.cross_entropy(z @ W, y) + 0.05 * sg.sum(W * W), [W], output_name="L")
    >>> print(d.render("unicode").splitlines()[0])
    L = cross_entropy(z @ W, y) + 0.05·(W²).sum()
    """
    import sympy as sp
    from ..frontend.matrix_functions import LogSoftmax
    from ..frontend.tensor_expr import Ewise
    from .cross_entropy_steps import CrossEntropy
    if isinstance(e, Ewise) and params:          # a tensor loss's sum, λ·(W²).sum() + ‖W @ x − y‖²
        body = data_loss_first(e.expr, data, params)
        return e if body is e.expr else Ewise(body, e.shape)
    if not isinstance(e, sp.Add):
        return e
    data = set(data)
    terms = sorted(e.args, key=lambda t: not (t.has(CrossEntropy, LogSoftmax) or t.free_symbols & data))   # stable
    if params:
        from .penalty_terms import penalties_last
        terms = penalties_last(terms, lambda t: t.free_symbols, set(params))
    return e if list(terms) == list(e.args) else sp.Add(*terms, evaluate=False)
