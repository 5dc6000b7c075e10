"""The Jacobian view of backpropagation, as 11-785 teaches it: each backward step multiplies the
gradient above by the Jacobian of one layer, ∂L/∂z = ∂L/∂y · J, with

    y = f(z) elementwise     J = diag f′(z)
    y = softmax(z)           J = diag(y) − y·yᵀ
    z = W·y + b              J = W  (w.r.t. y),   ∂L/∂W = ∂L/∂zᵀ·yᵀ  (w.r.t. W)
    s = Σ u                  J = 𝟙ᵀ (a row of ones)

``convention="row"`` writes gradients as rows (11-785: ∂L/∂x is 1×n, J multiplies on the right);
``convention="column"`` as columns (the steps' δ = Jᵀ·∂L/∂y, J on the left, transposed).

>>> import sympy as sp, symgrad as sg
>>> W, x, t = sp.MatrixSymbol('W', 2, 2), sp.MatrixSymbol('x', 2, 1), sp.MatrixSymbol('t', 2, 1)
>>> d = sg.derive(sg.mse(sg.sigmoid(W * x), t), W)
>>> print([l for l in jacobian_lines(d.steps, "unicode", "row") if l.startswith("δ")][0])
δ = ∂L/∂y · diag(y·(1 − y))
"""
from __future__ import annotations

from ..core import rules as R
from .notation import partial
from .render import _check_format, show
from .rule_prose import words
from .local_rules import local_rule
from .node_naming import _is_plain_sum

CONVENTIONS = ("row", "column")


def _fmt_parts(fmt):
    tex = fmt in ("latex", "markdown", "latex-inline", "latex-document")
    return ("latex" if tex else fmt), tex


def _jacobian(eqn, i, nm, g, fmt):
    """(kind, J as text in ``fmt``) of the edge from the i-th input of ``eqn`` to its output, or
    None when this edge is folded into another (the log-sum-exp path of a softmax)."""
    f, tex = _fmt_parts(fmt)
    disp = nm.disp
    dot = r" \cdot " if tex else (" * " if fmt == "text" else "·")
    diag = r"\operatorname{diag}" if tex else "diag"
    sm = R.softmax_operands(g, eqn)
    if sm is not None:
        if eqn.inputs[i].id != sm[0].id:
            return None
        y = show(disp[nm.owner(eqn.out.id)], f)
        T = "^{T}" if tex else ("^T" if fmt == "text" else "ᵀ")
        if tex:
            return "softmax", rf"{diag}\left({y}\right) - {y}{dot}{y}{T}"
        return "softmax", f"{diag}({y}) {'-' if fmt == 'text' else '−'} {y}{dot}{y}{T}"
    if eqn.prim is R.logsumexp_p:
        cons = [e for e in nm.consumers.get(eqn.out.id, ()) if R.softmax_operands(g, e) is not None]
        if cons and len(cons) == len(nm.consumers.get(eqn.out.id, ())):
            return None                                    # folded into the softmax's Jacobian
        z = show(disp[eqn.inputs[0].id], f)
        return "logsumexp", (r"\operatorname{softmax}\left(%s\right)^{T}" % z if tex else
                             f"softmax({z})" + ("^T" if fmt == "text" else "ᵀ"))
    if eqn.prim is R.matmul_p:
        other = show(disp[nm.owner(eqn.inputs[0].id)], f)
        return ("weight", show(disp[eqn.inputs[1].id], f)) if i == 0 else ("matrix", other)
    if eqn.prim is R.sum_p and eqn.params[0] is None:
        return "ones", (r"\mathbf{1}^{T}" if tex else ("ones^T" if fmt == "text" else "𝟙ᵀ"))
    if eqn.prim is R.ewise_p and eqn.out.shape != ():
        _, local = local_rule(eqn, i, disp, g)
        if local is None:
            return None
        if _is_plain_sum(eqn) or local == 1:
            return "identity", None
        if local.is_number:
            return "scalar", show(local, f)
        return "diag", (r"%s\left(%s\right)" % (diag, show(local, f)) if tex else f"{diag}({show(local, f)})")
    return "rule", words(local_rule(eqn, i, disp, g)[0], fmt)


def jacobian_lines(steps, fmt: str = "unicode", convention: str = "column") -> list:
    """The backward steps of ``steps`` (a `symgrad.teaching.steps.Steps`) as products with layer
    Jacobians, one line per vector node, in ``fmt``, row or column ``convention``."""
    _check_format(fmt)
    if convention not in CONVENTIONS:
        from ..errors import ArgumentError
        raise ArgumentError(f"convention must be 'row' or 'column', got {convention!r}")
    f, tex = _fmt_parts(fmt)
    nm, d = steps.naming, steps.source
    _refuse_tensors(d, convention)
    g = d.ir
    dot = r" \cdot " if tex else (" * " if fmt == "text" else " · ")
    T = "^{T}" if tex else ("^T" if fmt == "text" else "ᵀ")
    lines = []
    for step in steps.steps:
        vid = next((v for v, s in nm.disp.items() if s == step.node and v in steps.contribs), None)
        if vid is None or g.producer[vid].out.shape == ():
            continue
        terms = []
        for eqn, i, _ in steps.contribs[vid]:
            got = _jacobian(eqn, i, nm, g, fmt)
            if got is None:
                continue
            kind, J = got
            c = nm.owner(eqn.out.id)
            up = show(_grad_symbol(steps, c), f)
            if kind == "weight":          # ∂L/∂W: an outer product, not a Jacobian product
                terms.append(f"{J}{dot}{up}" if convention == "row" else f"{up}{dot}{J}{T}")
            elif kind == "identity":
                terms.append(up)
            elif kind == "rule":
                terms.append(f"{up}{dot}J" + (r"\quad\text{(%s)}" % J if tex else f"  ({J})"))
            elif convention == "row":
                paren = kind == "softmax"
                terms.append(f"{up}{dot}" + ((r"\left(%s\right)" if tex else "(%s)") % J if paren else J))
            else:                         # column: Jᵀ on the left (diag and softmax's are symmetric)
                sym = kind in ("diag", "softmax", "scalar")
                Jt = J if sym else (f"{J}{T}" if kind == "matrix" else
                                    ("\\mathbf{1}" if tex else ("ones" if fmt == "text" else "𝟙")))
                if kind == "logsumexp":
                    z = show(nm.disp[eqn.inputs[0].id], f)
                    Jt = r"\operatorname{softmax}\left(%s\right)" % z if tex else f"softmax({z})"
                terms.append(f"{Jt}{dot}{up}" if kind != "softmax" else
                             (r"\left(%s\right)%s%s" % (J, dot, up) if tex else f"({J}){dot}{up}"))
        if terms:
            lines.append(f"{show(step.lhs, f)} = " + " + ".join(terms))
    return lines


def _refuse_tensors(d, convention: str) -> None:
    """The Jacobian form is the view of one example's vectors (W·y + b, J = W, diag f′(z)); a
    derivation of tensors (sg.tensor: NumPy semantics, x @ w with a batch axis) has other shapes —
    its lines would read ∂f/∂w = δ · x — so it is refused, naming what to do instead."""
    from ..core.differentiate import _flatten_wrt
    from ..errors import UnsupportedError
    from ..frontend.tensor import Tensor, is_tensor_expr
    if is_tensor_expr(d.f) or any(isinstance(w, Tensor) for w in _flatten_wrt(d.wrt)):
        raise UnsupportedError(
            f"the Jacobian form (convention={convention!r}) is written for one example's vectors and "
            f"matrices (MatrixSymbols: z = W·y + b, J = diag f′(z), W, diag(y) − y·yᵀ); this derivation "
            f"is of tensors (sg.tensor, NumPy semantics, a batch axis), whose backward steps print "
            f"without convention=. For a tensor layer's full Jacobian array, take sg.jacobian(out, w) "
            f"at small concrete sizes (shape out.shape + w.shape)")


def _grad_symbol(steps, vid):
    """The symbol of ∂L/∂c the steps use (δ⁽ᵏ⁾ for a layer's pre-activation)."""
    for s in steps.steps:
        if s.node == steps.naming.disp[vid]:
            return s.lhs
    node = steps.naming.disp[vid]
    return partial(str(steps.out), str(node), getattr(node, "shape", ()))


def heading(convention: str) -> str:
    """The sentence that says which way the Jacobian view writes gradients."""
    if convention == "row":
        return ("Jacobian form (row convention, as 11-785: ∂L/∂x is a row vector 1×n, "
                "∂L/∂z = ∂L/∂y · J; ∂L/∂W is y·∂L/∂z, shaped like Wᵀ)")
    return "Jacobian form (column convention: ∂L/∂z = Jᵀ · ∂L/∂y; ∂L/∂W = ∂L/∂z · yᵀ)"
