"""A sum in the order a slide writes it, for the printers and the forward pass's lines.

Three things SymPy does to a sum that a lecture does not:

- it brackets a sum inside a sum (``Add(Add(w₀x₀, w₁x₁), w₂, evaluate=False)``, the two + gates of
  the sigmoid neuron's circuit, prints (w₀·x₀ + w₁·x₁) + w₂, and −((w₀·x₀ + w₁·x₁) + w₂) under
  its minus): a sum is associative, and the slide writes w₀x₀ + w₁x₁ + w₂;
- it sorts a bare symbol before a product (σ(w₂ + w₀·x₀ + w₁·x₁), σ(b₁ + w₁·x)): an affine form
  reads weights times inputs, then the bias — w₀·x₀ + w₁·x₁ + w₂, w₁·x + b₁, as the user typed it
  (a bias by its name, `_is_bias`: x + y·z and the intercept first θ₀ + θ₁·x keep SymPy's order);
- it puts a number first, ε too: √(1e−5 + σ²), where the slides write σ² + ε (a small constant, one
  `numbers.tiny` writes as code does, goes last; 1 + exp(−x) keeps its 1 first).

The bias goes last only in an affine form: every term a number, a symbol or a product of symbols,
a lone symbol named as a bias, and the symbol moved no factor of any product (f + f·g stays, as does 2 + 5·g + 2·f·g²); and only
in a derivation's views (`affine_sums`, around them): an update rule p ← p + μ·v or g ← g + λ·p
reads the value updated first, and `symgrad.teaching.equations` orders those itself. The value
is unchanged: only the order of the terms and the brackets differ.

>>> import sympy as sp
>>> w0, x0, w1, x1, w2 = sp.symbols('w0 x0 w1 x1 w2')
>>> with affine_sums():
...     print(as_written_sum(w0 * x0 + w1 * x1 + w2).args)
(w0*x0, w1*x1, w2)
>>> as_written_sum(sp.Add(sp.Add(w0 * x0, w1 * x1, evaluate=False), w2, evaluate=False)).args
(w0*x0, w1*x1, w2)
"""
from __future__ import annotations

import contextvars
import functools
from contextlib import contextmanager

import sympy as sp

from .numbers import tiny

_AFFINE: contextvars.ContextVar = contextvars.ContextVar("affine_sums", default=False)


@contextmanager
def affine_sums():
    """Within it, an affine form prints with its bias last (a derivation's views)."""
    token = _AFFINE.set(True)
    try:
        yield
    finally:
        _AFFINE.reset(token)


def in_affine_order(fn):
    """``fn`` run within `affine_sums`."""
    @functools.wraps(fn)
    def run(*a, **kw):
        with affine_sums():
            return fn(*a, **kw)
    return run


def _flat_terms(expr) -> list:
    out = []
    for t in expr.args:
        out.extend(_flat_terms(t) if isinstance(t, sp.Add) else [t])
    return out


def _unsigned(t):
    """``t`` without its sign; a tensor's term held as an elementwise node read as its body (the
    −Y of y @ W₂ + b₂ − Y in a gradient's closed form: the bias was not read as one)."""
    from ..frontend.tensor_expr import Ewise
    if isinstance(t, Ewise):
        t = t.expr
    return -t if t.could_extract_minus_sign() else t


def _symbol_product(t) -> bool:
    t = _unsigned(t)
    if _tensor_product(t):
        return True
    factors = [a for a in t.args if not a.is_number] if isinstance(t, sp.Mul) else []
    return len(factors) >= 2 and all(isinstance(a, sp.Symbol) for a in factors)


def _lone(t) -> bool:
    """A lone symbol of a sum: a symbol, or a tensor's (b of W @ x + b)."""
    from ..frontend.tensor import Tensor
    return isinstance(_unsigned(t), (sp.Symbol, Tensor))


def _tensor_product(t) -> bool:
    """A matrix product of tensors: W @ x, x @ W.T, relu(X @ W₁ + b₁) @ W₂ (an affine layer's
    product, its bias last: W @ x + b, as typed; SymPy sorts b first)."""
    from ..frontend.tensor import TensorMatMul
    return isinstance(t, TensorMatMul)


_BIAS_NAMES = {"b", "c", "beta", "β", "bias"}


def _letter_index(sym):
    """(letter, subscript) of a symbol's name: w2 → ('w', '2'), b_h → ('b', 'h'), beta → ('beta', '')."""
    from sympy.printing.conventions import split_super_sub
    base, _, subs = split_super_sub(sym.name)
    return base, "".join(subs)


def _is_bias(sym, products) -> bool:
    """Whether a lone symbol of an affine form is its bias: named as one (b, b₁, c, β, bias), or the
    next of the weights' letter (w₂ after w₀·x₀ + w₁·x₁; θ₀ before θ₁·x is an intercept written
    first, and x of x + y·z a term like the others)."""
    letter, index = _letter_index(sym)
    if letter.lower() in _BIAS_NAMES:
        return True
    same = [_letter_index(f)[1] for p in products for f in p.free_symbols if _letter_index(f)[0] == letter]
    if not same:
        return False
    if index.isdigit() and all(i.isdigit() for i in same):
        return int(index) > max(int(i) for i in same)
    return True


def _scaled_tensor(t) -> bool:
    """A tensor times scalars, lam·b of W @ x + b + lam·b (a penalty's gradient): after the bias."""
    from ..frontend.tensor import Tensor
    t = _unsigned(t)
    if not isinstance(t, sp.Mul):
        return False
    rest = [a for a in t.args if not a.is_number]
    return (sum(isinstance(a, Tensor) for a in rest) == 1
            and all(isinstance(a, (sp.Symbol, Tensor)) for a in rest))


def _bias_last(terms: list) -> list:
    products = [t for t in terms if _symbol_product(t)]
    scaled = [t for t in terms if t not in products and _scaled_tensor(t)]
    if not products or not all(t.is_number or _lone(t) or t in products or t in scaled for t in terms):
        return terms
    inside = set().union(*(p.free_symbols for p in products))
    moved = [t for t in terms if _lone(t) and _unsigned(t) not in inside]
    if not any(_is_bias(_unsigned(t), products) for t in moved):
        return terms
    return [t for t in terms if t not in moved and t not in scaled] + moved + scaled


def as_written_sum(expr):
    """``expr`` (a SymPy Add) with its nested sums opened and an affine form's bias last (see the
    module); ``expr`` itself when nothing changes."""
    if not isinstance(expr, sp.Add):
        return expr
    terms = _flat_terms(expr)
    if _AFFINE.get():              # an ε last, √(x.var(axis=0) + 1e−5), as σ² + ε is written
        terms = _bias_last([t for t in terms if not _tiny(t)]) + [t for t in terms if _tiny(t)]
    return expr if tuple(terms) == expr.args else sp.Add(*terms, evaluate=False)


def _tiny(t) -> bool:
    return t.is_number and tiny(t) is not None


def operands_as_written(defn, user, operands: dict, constants=frozenset()):
    """A forward-pass line ``defn`` (a sum or a product of the operands' names) with its operands in
    the order the user's expression ``user`` prints them: a₁ = u₁ + b₁ for w₁·x + b₁, not SymPy's
    order of the names, b₁ + u₁; a small constant last, u₂ = σ² + 1e−5 (σ² + ε, as the slides
    write it); a product's factors likewise (`_factors_as_written`): a₂ = w₂·f₁ for w₂·σ(a₁), not
    the names' order f₁·w₂. ``operands``: {the user's expression of an operand: its name}; a
    tensor's line (an `Ewise`) likewise; ``constants``: the names of the leaves not differentiated (a
    hyperparameter λ, reg). ``defn`` itself where the operands do not match one to one."""
    from ..frontend.tensor_expr import Ewise
    inner = defn.expr if isinstance(defn, Ewise) else defn
    user = user.expr if isinstance(user, Ewise) else user
    if isinstance(inner, sp.Mul) and isinstance(user, sp.Mul):
        out = _factors_as_written(inner, user, operands, constants)
    elif isinstance(inner, sp.MatAdd) and isinstance(user, sp.MatAdd):    # u₂ = u₁ + b₂ − t, as the header
        out = _terms_as_written(inner, user, operands, sp.MatAdd)
    elif isinstance(inner, sp.Add) and isinstance(user, sp.Add):
        out = _terms_as_written(inner, user, operands)
    else:
        return defn
    if out is inner:
        return defn
    return Ewise(out, defn.shape) if isinstance(defn, Ewise) else out


def _terms_as_written(inner, user, operands: dict, cls=sp.Add):
    """The sum line ``inner`` (of the operands' names) with its terms in the order the user's sum
    ``user`` prints them (`written_order`), a small constant last; ``inner`` itself where the terms
    do not match one to one."""
    terms = written_order(user)
    names = [t if t.is_number else _operand(t, operands) for t in terms]
    if None in names or len(set(names)) != len(names) or set(names) != set(inner.args):
        return inner
    names = [n for n in names if not _tiny(n)] + [n for n in names if _tiny(n)]
    if list(names) == list(inner.args):
        return inner
    return cls(*names, evaluate=False)


def _factors_as_written(inner, user, operands: dict, constants=frozenset()):
    """The product line ``inner`` (of the operands' names) with its factors in the order the user's
    product ``user`` prints them, as its header does: w₂·σ(w₁·x + b₁) is a₂ = w₂·f₁ (the notes'
    order; SymPy's order of the names is f₁·w₂). A product holding a sum keeps the names' order:
    SymPy prints a sum last whatever was typed — (x + y)·z arrives as z·(x + y) — and the slide's
    f = q·z is the names' order (typed sp.Mul(x + y, z, evaluate=False), the header reads (x + y)·z
    too). Its numbers and hyperparameters (``constants``, leaves not differentiated) come first
    still, as a lecture writes them: 0.5·reg·(Σ W₁² + Σ W₂²) is u₆ = 0.5·reg·u₅, not 0.5·u₅·reg.
    A tensor's elementwise product likewise: b ⊙ c ⊙ (W @ x) is u₄ = b ⊙ c ⊙ u₃. ``inner`` itself
    where the factors do not match one to one."""
    if any(isinstance(t, sp.Add) for t in user.args):
        first = [t for t in inner.args if t.is_number or t in constants]
        names = first + [t for t in inner.args if t not in first]
        return inner if names == list(inner.args) else sp.Mul(*names, evaluate=False)
    names = [t if t.is_number else operands.get(t) for t in user.args]     # as printed (a gate's typed order)
    if None in names or len(set(names)) != len(names) or set(names) != set(inner.args):
        return inner
    if names == list(inner.args):
        return inner
    return sp.Mul(*names, evaluate=False)


def written_order(user) -> list:
    """The terms of the sum ``user`` in the order the printers write it: nested sums opened, an
    affine form's bias and a small constant last, and the positive terms first (z³ + cos(x) − x²·y).
    A sum that holds a sum (a chain of two-input gates, `binary_gates`, or a part ``names``
    regrouped) keeps its own terms: its line names the inner sum's node."""
    if any(isinstance(t, sp.Add) for t in user.args):
        terms = user.args
    else:
        with affine_sums():
            terms = as_written_sum(user).args
    return sorted(terms, key=lambda t: bool(isinstance(t, sp.Expr) and t.could_extract_minus_sign()))


def _operand(t, operands: dict):
    """The name of the term ``t``: its operand's, or minus the operand's where the line subtracts it
    (−w₂ of u₁ + u₂ − w₂, whose operand is w₂), or a multiple of it; None if none is an operand."""
    if t in operands:
        return operands[t]
    if isinstance(t, sp.Expr) and t.could_extract_minus_sign() and -t in operands:
        return -operands[-t]
    c, core = t.as_coeff_Mul() if isinstance(t, sp.Expr) else (1, t)
    if c != 1 and core in operands:           # 2·u₃ of exp(u₆) + 2·u₃, u₃ the last gate of x·y·z
        return c * operands[core]
    return None


def written_terms(e) -> list:
    """The terms of a line `operands_as_written` wrote, in its order."""
    from ..frontend.tensor_expr import Ewise
    return list((e.expr if isinstance(e, Ewise) else e).args)
