"""``gates="binary"``: every sum and product of three or more operands as a chain of two-input gates.

cs231n's circuit pictures draw x + y + z as two + gates and the sigmoid neuron's w₀x₀ + w₁x₁ + w₂ as
((w₀x₀ + w₁x₁) + w₂); SymPy (and symgrad's lowering) keeps one n-ary node. With ``gates="binary"``
every view of a derivation (text, LaTeX, the picture) reads f rewritten here: each scalar sum or
product of n > 2 operands becomes n − 1 two-input gates, taken left to right in the order the
printers write the operands (the user's written order as far as SymPy keeps it: an affine form's
bias last, positive terms first; a product's factors in SymPy's printing order), so each
intermediate gate is a node with its value and its gradient. A product's numeric coefficient is no
operand (2·x·y·z is 2·((x·y)·z)). A tensor declaration's elementwise expressions (`Ewise`)
are gated likewise, b + c + W @ x as (b + c) + W @ x; a matrix product, a MatrixSymbol expression
and a reduction are one gate each. The value of f is unchanged: only its tree is.

>>> import sympy as sp
>>> x, y, z = sp.symbols('x y z')
>>> binary_gates(x + y + z).args
(x + y, z)
>>> two, chain = binary_gates(2 * x * y * z).args
>>> two, chain.args, chain.args[0].args
(2, (x*y, z), (x, y))
"""
from __future__ import annotations

import sympy as sp

from ..errors import ArgumentError

GATES = ("n-ary", "binary")


def checked_gates(gates) -> str | None:
    """``gates`` itself when it is one the views know (None: as lowered, "n-ary"); a clear error
    otherwise."""
    if gates is not None and gates not in GATES:
        raise ArgumentError(f"gates must be 'binary' (sums and products as chains of two-input gates, "
                            f"as cs231n's circuits) or 'n-ary' (one gate per sum or product, the "
                            f"default), got {gates!r}")
    return gates


def binary_gates(f):
    """``f`` with each scalar sum and product of more than two operands written as a chain of
    two-input gates (unevaluated, so that the lowering keeps each gate); ``f`` itself (the same
    object) when there is none."""
    if not isinstance(f, sp.Basic):
        return f
    from ..frontend.tensor_expr import Ewise, TensorExpr

    def walk(node):
        if isinstance(node, Ewise):        # a tensor's elementwise body: its sums and products too
            body = walk(node.expr)
            return node if body is node.expr else Ewise(body, node.shape)
        if isinstance(node, TensorExpr) and node.args and not isinstance(node, sp.Symbol):
            new = [walk(a) if isinstance(a, sp.Basic) else a for a in node.args]
            return node if all(n is a for n, a in zip(new, node.args)) else node.func(*new)
        if not node.args or isinstance(node, (sp.Symbol, sp.MatrixExpr, TensorExpr)) or \
                getattr(node, "is_Matrix", False):
            return node
        new = {a: walk(a) if isinstance(a, sp.Basic) else a for a in node.args}
        if isinstance(node, sp.Add) and len(node.args) > 2:
            return _chain(sp.Add, [new[a] for a in _sum_order(node)])
        if isinstance(node, sp.Mul):
            numbers = [a for a in node.args if a.is_number]
            factors = [a for a in node.args if not a.is_number]
            if len(factors) > 2:
                chain = _chain(sp.Mul, [new[a] for a in _product_order(factors)])
                return sp.Mul(*numbers, chain, evaluate=False) if numbers else chain
        if all(new[a] is a for a in node.args):
            return node
        args = [new[a] for a in node.args]
        # rebuilt as it is: evaluating a sum or product around a chain would flatten it again
        if isinstance(node, (sp.Add, sp.Mul, sp.Pow)):
            return node.func(*args, evaluate=False)
        return node.func(*args)

    return walk(f)


def _chain(op, operands: list):
    """((a ∘ b) ∘ c) ∘ …, each ∘ a gate of two inputs."""
    out = operands[0]
    for b in operands[1:]:
        out = op(out, b, evaluate=False)
    return out


def _sum_order(node) -> list:
    """The terms of the sum ``node`` in the order the printers write them (`sum_order.written_order`)."""
    from .sum_order import written_order
    terms = list(written_order(node))
    return terms if sorted(terms, key=sp.default_sort_key) == sorted(node.args, key=sp.default_sort_key) \
        else list(node.args)


def _product_order(factors: list) -> list:
    """A product's factors in SymPy's printing order (x·y·z, w₀·x₀)."""
    return sorted(factors, key=lambda a: a.sort_key())


def gated_names(names: dict | None, known) -> dict | None:
    """``names`` (name -> expression of f) with each expression gated as f is, so that a named sum
    of three terms names its last gate; strings are parsed in ``known``, f's symbols."""
    if not names:
        return names
    from ..frontend.parse import as_expr
    return {k: binary_gates(as_expr(v, f"names[{k}]", symbols=known)) for k, v in names.items()}


def products_flat(f):
    """``f`` with a product inside a product written as one (a chain prints x·y·z, not (x·y)·z):
    f's header line reads as the user typed it."""
    if not isinstance(f, sp.Basic):
        return f

    def flat(m):
        args = [b for a in m.args for b in (a.args if isinstance(a, sp.Mul) else (a,))]
        return sp.Mul(*args, evaluate=False)
    return f.replace(lambda m: isinstance(m, sp.Mul) and any(isinstance(a, sp.Mul) for a in m.args), flat)
