"""``sg.einsum``: NumPy's and torch's Einstein summation, written with the tensor operations symgrad
already has — transposes, reshapes, sums over axes and the batched matrix product ``@`` — so that
its gradient is theirs (no primitive of its own).

>>> import sympy as sp, symgrad as sg
>>> N = sp.Symbol("N", integer=True, positive=True)
>>> q, k = sg.tensor("q", (N, 2, 4, 8)), sg.tensor("k", (N, 2, 5, 8))
>>> s = sg.einsum("bhqd,bhkd->bhqk", q, k)       # attention scores, q @ kᵀ per head
>>> s.shape
(N, 2, 4, 5)
>>> s
q @ k.transpose(0, 1, 3, 2)

Two operands contract as one ``@``: their indices are sorted into batch indices (in both and in
the output), contracted ones (in both, not in the output) and each operand's free ones; each
operand is transposed to (batch, free, contracted) or (batch, contracted, free), its groups merged
by a reshape, multiplied, and the result reshaped and transposed to the output's order. An index
of one operand only that the output drops is summed first. More operands contract from the left,
each step keeping the indices that a later operand or the output reads. Without ``->`` the output
is NumPy's: the indices that appear once, in alphabetical order.

``...`` stands for the leading axes an operand has beyond its letters, NumPy's broadcasting axes:
``"...d,de->...e"`` is a linear layer on any leading axes, ``"...ij,...jk->...ik"`` a batched matrix
product whose batch axes broadcast (a size 1 against n). It is written out as fresh letters, one per
such axis, aligned from the right; without ``->`` they lead the output, as NumPy's.

An index repeated in one operand reads its diagonal, as NumPy's and torch's: ``"ii->i"`` is the
diagonal, ``"ii->"`` (or ``"ii"``) the trace, ``"bii->bi"`` a batch of diagonals. It is written as
the operand times an identity mask on those two axes, summed over the second: its gradient is the
output's gradient on the diagonal, 0 elsewhere (n² entries: fine for the sizes of a layer's
matrices). An index repeated in the output (``"i->ii"``) is refused, as by NumPy.

The subscripts are parsed (letters, ``...``, one optional ``->``, commas, spaces).

>>> a = sg.tensor("a", (3, 3))
>>> sg.einsum("ii->i", a).shape, sg.einsum("ii->", a).shape
((3,), ())

>>> x, w = sg.tensor("x", (N, 5, 3)), sg.tensor("w", (3, 4))
>>> sg.einsum("...d,de->...e", x, w).shape
(N, 5, 4)
"""
from __future__ import annotations

import sympy as sp

from ..errors import ArgumentError, ShapeError
from . import tensor as T

__all__ = ["einsum"]


def _parse(subscripts, n, shown=None):
    """The operands' index strings and the output's; errors quote ``shown`` (the user's subscripts,
    before '...' was written out)."""
    if not isinstance(subscripts, str):
        raise ArgumentError(f"einsum: the subscripts must be a string such as 'bij,bjk->bik', got {subscripts!r}")
    text = subscripts.replace(" ", "")
    subscripts = subscripts if shown is None else shown
    if text.count("->") > 1:
        raise ArgumentError(f"einsum {subscripts!r}: one '->' at most")
    lhs, arrow, out = text.partition("->")
    terms = lhs.split(",")
    for part in terms + ([out] if arrow else []):
        bad = [ch for ch in part if not ch.isascii() or not ch.isalpha()]
        if bad:
            raise ArgumentError(f"einsum {subscripts!r}: {bad[0]!r} is not an index; indices are the letters "
                                f"a-z, A-Z, operands separated by ',', the output after '->'")
    if len(terms) != n:
        raise ArgumentError(f"einsum {subscripts!r} names {len(terms)} operand(s) but {n} were given")
    twice = sorted({ch for ch in out if out.count(ch) > 1})
    if arrow and twice:
        raise ArgumentError(f"einsum {subscripts!r}: the output index {twice[0]!r} appears twice in {out!r}; "
                            f"an output names each index once (as NumPy's). A diagonal matrix of v is "
                            f"v[:, None] * sg.eye(n)")
    if not arrow:
        every = "".join(terms)
        out = "".join(sorted(ch for ch in set(every) if every.count(ch) == 1))
    for ch in out:
        if not any(ch in t for t in terms):
            raise ArgumentError(f"einsum {subscripts!r}: the output index {ch!r} is in no operand")
    return terms, out


def _ellipsis(subscripts, xs):
    """The subscripts with each ``...`` written out as letters the subscripts do not use, one per
    broadcast axis (aligned from the right), and the operands broadcast where those axes are 1
    against n. Subscripts without ``...`` come back as they are."""
    text = subscripts.replace(" ", "") if isinstance(subscripts, str) else subscripts
    if not isinstance(text, str) or "..." not in text:
        return subscripts, xs
    lhs, arrow, out = text.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(xs):
        return subscripts, xs          # _parse names the miscount
    for part in terms + [out]:
        if part.count("...") > 1 or "." in part.replace("...", ""):
            raise ArgumentError(f"einsum {subscripts!r}: '...' at most once per operand, and no other '.'")
    extra = []
    for t, x in zip(terms, xs):
        named = len(t.replace("...", ""))
        if "..." in t and x.ndim < named:
            raise ShapeError(f"einsum {subscripts!r}: {t!r} names {named} axes but {x} has {x.ndim} "
                             f"(shape {T.fmt(x.shape)})")
        extra.append(x.ndim - named if "..." in t else 0)
    m = max(extra)
    free = [ch for ch in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" if ch not in text]
    if m > len(free):
        raise ArgumentError(f"einsum {subscripts!r}: '...' stands for {m} axes, more than the free letters")
    letters = "".join(free[:m])
    sizes = [1] * m                    # the broadcast size of each '...' axis
    for x, e in zip(xs, extra):
        for j, d in enumerate(x.shape[:e]):
            k = m - e + j
            if sizes[k] == 1:
                sizes[k] = d
            elif d != 1 and not T.dims_equal(sizes[k], d):
                raise ShapeError(f"einsum {subscripts!r}: the '...' axes of the operands do not broadcast: "
                                 f"{sizes[k]} against {d} (in {x} of shape {T.fmt(x.shape)})")
    new_terms, new_xs = [], []
    for t, x, e in zip(terms, xs, extra):
        want = tuple(sizes[m - e:]) + tuple(x.shape[e:])
        if e and tuple(x.shape) != want:
            x = T.broadcast(x, want)
        new_terms.append(t.replace("...", letters[m - e:]))
        new_xs.append(x)
    if arrow:
        out = out.replace("...", letters)
    else:                              # NumPy's implicit output: the broadcast axes, then the others
        rest = "".join(t for t in new_terms)
        out = letters + "".join(sorted(ch for ch in set(rest) if rest.count(ch) == 1 and ch not in letters))
    return ",".join(new_terms) + "->" + out, new_xs


def _diagonals(x, idx, subscripts):
    """x with each index repeated in ``idx`` read on its diagonal: x ⊙ I on the first two axes of that
    index, summed over the second (``"ii"`` → the diagonal ``"i"``), until every index is once."""
    from .tensor_tri import eye
    while len(set(idx)) < len(idx):
        ch = next(c for c in idx if idx.count(c) > 1)
        p = idx.index(ch)
        q = idx.index(ch, p + 1)
        if not T.dims_equal(x.shape[p], x.shape[q]):
            raise ShapeError(f"einsum {subscripts!r}: the index {ch!r} is repeated in {idx!r} (a diagonal) over "
                             f"axes of sizes {x.shape[p]} and {x.shape[q]} of {x}; a diagonal takes equal sizes")
        n = x.shape[p]
        mask = T.reshape(eye(n), tuple(n if k in (p, q) else 1 for k in range(x.ndim)))
        x, idx = T.sum(x * mask, axis=q), idx[:q] + idx[q + 1:]
    return x, idx


def _sum_out(x, idx, keep):
    """Σ over x's indices that are not in ``keep``."""
    drop = tuple(i for i, ch in enumerate(idx) if ch not in keep)
    if not drop:
        return x, idx
    return T.sum(x, axis=drop), "".join(ch for ch in idx if ch in keep)


def _arrange(x, idx, order):
    """x transposed so that its indices read ``order`` (a permutation of idx)."""
    if idx == order:
        return x
    return T.permute(x, tuple(idx.index(ch) for ch in order))


def _size(sizes, group):
    return sp.Mul(*[sp.sympify(sizes[ch]) for ch in group])


def _pair(a, ia, b, ib, keep, sizes):
    """a ⊗ b contracted over their shared indices that ``keep`` does not hold: one ``@``."""
    a, ia = _sum_out(a, ia, set(ib) | keep)
    b, ib = _sum_out(b, ib, set(ia) | keep)
    batch = "".join(ch for ch in ia if ch in ib and ch in keep)
    con = "".join(ch for ch in ia if ch in ib and ch not in keep)
    fa = "".join(ch for ch in ia if ch not in ib)
    fb = "".join(ch for ch in ib if ch not in ia)
    A = _arrange(a, ia, batch + fa + con)
    B = _arrange(b, ib, batch + con + fb)
    bshape = tuple(T._dim(sizes[ch]) for ch in batch)
    A = T.reshape(A, bshape + (_size(sizes, fa), _size(sizes, con)))
    B = T.reshape(B, bshape + (_size(sizes, con), _size(sizes, fb)))
    out = T.reshape(A @ B, bshape + tuple(T._dim(sizes[ch]) for ch in fa + fb))
    return out, batch + fa + fb


def einsum(subscripts, *operands):
    """np.einsum / torch.einsum of tensors (see the module docstring): ``sg.einsum("ij,jk->ik", a, b)``
    is ``a @ b``; ``sg.einsum("bhqk,bhkd->bhqd", att, v)`` is ``att @ v``."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise ArgumentError("einsum takes one operand or more after the subscripts")
    xs = [T._tensor_arg(x, "einsum") for x in operands]
    written, xs = _ellipsis(subscripts, xs)
    terms, out = _parse(written, len(xs), subscripts)
    sizes: dict = {}
    for j, (x, t) in enumerate(zip(xs, terms)):
        if len(t) != x.ndim:
            raise ShapeError(f"einsum {subscripts!r}: {t!r} names {len(t)} axes but {x} has {x.ndim} "
                             f"(shape {T.fmt(x.shape)})")
        given = x                                   # the operand as the user wrote it, for the message
        xs[j], terms[j] = x, t = _diagonals(x, t, subscripts)
        for ch, d in zip(t, x.shape):
            if ch in sizes and not T.dims_equal(sizes[ch], d):
                raise ShapeError(f"einsum {subscripts!r}: the index {ch!r} has size {sizes[ch]} in one operand "
                                 f"and {d} in {given}")
            sizes.setdefault(ch, d)
    acc, ia = xs[0], terms[0]
    for j in range(1, len(xs)):
        later = set(out).union(*terms[j + 1:])
        acc, ia = _pair(acc, ia, xs[j], terms[j], later, sizes)
    acc, ia = _sum_out(acc, ia, set(out))
    return _arrange(acc, ia, out)
