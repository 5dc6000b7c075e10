"""The computational graph as a picture for a slide, in the lecture's convention.

One box per value the user named (inputs, parameters, the output), one ellipse per operation; each
edge carries the value flowing forward above (green) and what flows back below: in reverse mode the
gradient ∂L/∂· of that value (red), in forward mode its tangent (purple). Without ``at`` the labels
are symbolic — ∂f/∂x = z, δ₂·y₁ᵀ — and equal to `sg.grad`'s expressions; with ``at`` they are
numbers, matrices drawn as small grids, rounded to ``number_format`` and cleaned of float noise
(2.1e−17 next to entries of size 1 is 0).

A value used by several operations (fan-out) has one edge per use, each with its own share of the
gradient, and its node adds them up: ∂L/∂e = Σ = (the sum). Operations are drawn as symbols that
cannot be mistaken for the user's variables: +, ×, ·, σ, exp, □², ① − ② (the circled numbers mark
the inputs on their edges' labels). ``layout`` chooses left to right, top to bottom, or rows wrapped to
fit a slide (`symgrad.teaching.graph_layout`); the default wraps deep networks.

>>> import sympy as sp, symgrad as sg
>>> x, y, z = sp.symbols('x y z')
>>> dot = sg.derive((x + y) * z, [x, y, z]).graph(at={x: -2, y: 5, z: -4})
>>> type(dot).__name__, '#c0392b' in dot.source
('Digraph', True)
>>> '∂f/∂x = z' in sg.derive((x + y) * z, [x, y, z]).graph().source    # symbolic without at
True
"""
from __future__ import annotations

import functools
import html
import math
import operator
import re
from collections import defaultdict
from pathlib import Path

import numpy as np
import sympy as sp

from ..core import array_rules as A
from ..core import conv_rules as CR
from ..core import rules as R
from ..core.evaluate import evaluate
from ..core.forward import forward as forward_sweep
from ..core.reverse import backward, depends_on
from ..core.to_sympy import SympyBuilder
from ..errors import ArgumentError, SymgradError
from ..frontend.functions import sigmoid
from .graph_folds import PASS_THROUGH, _one, _window_text, pooling, statistics
from .cross_entropy_fold import delta as ce_delta, drawn_uses
from .transposed_operand import transposes_distributed
from .scaled_product import scalars_outside
from .uses_note import weight_shared
from .graph_layout import Arrow, Box, arrange
from .logistic import sigma_form
from .split_flag import is_split
from .loss_terms import penalty_last
from .row_sums import gather, known_row_sums
from .notation import partial
from .numbers import clean, number
from .render import _SUPER, show, tiny, visible
from .sum_order import affine_sums, in_affine_order, written_terms
from .as_written import matvec_views_dropped, summed, written_shape
from .local_rules import _softmax_map, _written_definition, _softmax_named
from .node_naming import Naming, _broadcast_like, _matvec_view
from .steps import LAYER_Z, SHORT_OPS, _fold_products, _tidy, _uses

GREEN, RED, BLUE, PURPLE, GREY = "#1e8449", "#c0392b", "#2e4053", "#7d3c98", "#566573"
OP_FILL = "#fdebd0"   # operations are filled orange, values blue, the output green
CHAR = 7.0            # points per character of a 12-point label (an estimate, for the layout)
GRID_ROWS = 5         # a matrix with more rows (columns) shows its first 3, ⋮ (⋯), and its last
_SLOTS = "①②③④⑤⑥⑦⑧⑨⑩"
_PASS_THROUGH = PASS_THROUGH


# ---------------------------------------------------------------------------------------------------
# Operation labels: symbols of symgrad's, never the user's names.

_NAMED = {"matmul": "·", "bmatmul": "·", "transpose": "□ᵀ", "sum": "Σ", "logsumexp": "logsumexp",
          "broadcast": "broadcast", "expand": "broadcast", "reshape": "reshape", "slice": "slice",
          "pad": "pad", "concat": "concat", "take": "take", "scatter_add": "scatter-add",
          "gather": "gather", "argmax": "argmax", "one_hot": "one-hot",
          "inverse": "□⁻¹", "det": "det", "logdet": "log det"}     # as a textbook writes X⁻¹, log det X
_AXIS = {"rsum": "Σ", "rmax": "max", "lse": "logsumexp"}


def _reshape_drawn(eqn) -> bool:
    """A reshape drawn as a node of its own: exactly those the steps write as a step of their own
    (`node_naming._broadcast_like` is false): one that regroups entries (a flatten), drops a size-1 axis
    other than leading ones (a regression's (N, 1) output read as (N,): u₂ = u₁.reshape(N)), or adds
    one (a conv's bias, u₂ = b.reshape(4, 1, 1)). Drawn as part of its edge, the edge would carry
    the input's name into an operation the text writes with u₂. A reshape that only adds or drops
    leading 1-axes lines a value up for NumPy's broadcasting, as NumPy would by itself, and is
    drawn as part of its edge (γ flows straight into γ ⊙ x̂)."""
    return eqn.prim is A.reshape_p and not _broadcast_like(eqn)


@functools.lru_cache(maxsize=512)
def _simplified(e):
    """``sp.simplify(e)``, once per distinct ``e``: an operation's body is written in placeholders,
    so the 250 sin nodes of a 250-term sum share one (each simplified anew, --graph ran past 30 s)."""
    return sp.simplify(e)


def op_label(eqn) -> str:
    """A short name for an operation: +, ×, ⊙, ·, exp, σ, 1/□, □², Σ, ① − ② ...; the placeholders
    □ and ①, ②, ... stand for the inputs, so no label reads like the user's own x + y. A
    convolution is "conv" with its kernel, as the user wrote it: "conv 3×3, stride 2, padding 1".

    >>> import sympy as sp, symgrad as sg
    >>> x, y = sp.symbols('x y')
    >>> d = sg.derive(sg.sigmoid(x ** 2) + x / y, [x, y])
    >>> sorted(op_label(e) for e in d.ir.ancestors([d.output]) if not e.prim.leaf)
    ['+', '1/□', '×', 'σ', '□²']
    """
    p = eqn.prim
    if p is CR.conv_p:
        stride, pads, ldil, rdil = eqn.params
        kernel = eqn.inputs[1].shape[2:]
        label = "conv " + _window_text(kernel, stride, pads, rdil, (1,) * len(stride))
        return label if all(d == 1 for d in ldil) else label + ", input dilation " + _one(ldil)
    if p.name in _AXIS:
        axes = eqn.params[0]
        axes = axes if isinstance(axes, (tuple, list)) else (axes,)
        return f"{_AXIS[p.name]} (axis {', '.join(str(a) for a in axes)})"
    if p is A.permute_p:
        perm = tuple(eqn.params[0])
        return "□ᵀ" if perm == tuple(range(len(perm) - 2)) + (len(perm) - 1, len(perm) - 2) else f"permute {perm}"
    if p is A.reshape_p:          # p.reshape(N, -1): every axis after the first merged into one
        shape, out = eqn.inputs[0].shape, eqn.out.shape
        return "flatten" if len(out) == 2 and len(shape) > 2 and out[0] == shape[0] else "reshape"
    if p is A.take_p:             # an embedding lookup W[ids]: the rows it gathers, as the rule says
        return "take rows" if eqn.params[0] == 0 else f"take (axis {eqn.params[0]})"
    if p.name in _NAMED:
        return _NAMED[p.name]
    if p is not R.ewise_p:
        return p.name
    body, n = eqn.params[0], len(eqn.inputs)
    phs = R.placeholders(n)
    if n > 1 and body == sp.Add(*phs):
        return "+"
    if n > 1 and body == sp.Mul(*phs):
        return "×" if eqn.out.shape == () else "⊙"
    if n == 1:
        a = phs[0]
        if body == a:     # s·𝟙: a scalar copied to every entry (an identity that changes the shape)
            return "broadcast" if eqn.inputs[0].shape != eqn.out.shape else "="
        c = _simplified(body - a)
        if c.is_number:
            return f"+{_const(c)}" if c > 0 else f"−{_const(-c)}"
        k = _simplified(body / a)
        if k.is_number:
            return f"×({_const(k)})" if k < 0 else f"×{_const(k)}"
        if body == 1 / a:
            return "1/□"
        if body.is_Pow and body.base == a and body.exp.is_number:
            e = body.exp
            if e == sp.S.Half:
                return "√□"
            if e == -sp.S.Half:
                return "1/√□"
            return "□" + (str(e).translate(_SUPER) if e.is_Integer else f"^{_const(e)}")
        if isinstance(body, sp.Function) and body.args == (a,):
            return "σ" if body.func is sigmoid else body.func.__name__
        slots = {a: sp.Symbol("□")}
    else:
        return _slotted_label(body, phs)[0]
    body = body.xreplace({f: sp.Float(f, 3) for f in body.atoms(sp.Float)})
    return show(body.xreplace(slots), "unicode")


def _slot(k) -> str:
    return _SLOTS[k] if k < len(_SLOTS) else f"#{k + 1}"


def _slotted_label(body, phs):
    """(the label of an operation of several inputs, the slot of each input): the slots numbered
    in the order they appear, ① − ② as a slide writes y − ŷ (SymPy's own order of the terms gave
    ② − ①); numbered by input where renumbering would let SymPy reorder the terms again."""
    body = body.xreplace({f: sp.Float(f, 3) for f in body.atoms(sp.Float)})

    def draw(names):
        text_ = show(body.xreplace({ph: sp.Symbol(n) for ph, n in zip(phs, names)}), "unicode")
        seen = sorted((text_.find(n), n) for n in names if n in text_)
        return text_, [n for _, n in seen]
    first = [_slot(i) for i in range(len(phs))]
    label, order = draw(first)
    rank = {n: k for k, n in enumerate(order)}
    renamed = [_slot(rank[n]) if n in rank else n for n in first]
    if len(set(renamed)) == len(renamed):
        label2, order2 = draw(renamed)
        if order2 == sorted(order2, key=_SLOTS.find):
            return label2, renamed
    return label, first


def slots(eqn) -> list:
    """The slot (①, ②, ...) that each input of ``eqn`` fills in its label."""
    return _slotted_label(eqn.params[0], R.placeholders(len(eqn.inputs)))[1]


def _const(c) -> str:
    c = sp.sympify(c)
    if isinstance(c, sp.Float) and tiny(c) is None:
        return number(float(c), "unicode", ".4g")
    return show(c, "unicode")           # a small ε as code writes it: 1e−5 (render.tiny)


def _slotted(eqn, label=None) -> bool:
    """True when the op's label numbers its inputs ①, ②, ... (the arrows say which is which)."""
    label = op_label(eqn) if label is None else label
    return eqn.prim is R.ewise_p and len(eqn.inputs) > 1 and any(s in label for s in _SLOTS[:2])


# ---------------------------------------------------------------------------------------------------
# Label parts: text, or a value drawn as a small grid; each knows its estimated width in points.

class Part:
    def __init__(self, html_: str, width: float):
        self.html, self.width = html_, width


def _esc(s) -> str:
    # control characters (a symbol may be named "a\nb") shown as their escapes, then HTML-escaped
    return html.escape(visible(str(s)), quote=False)


def text(s, color=None, bold=False, size=None) -> Part:
    h = _esc(s)
    if bold:
        h = f"<b>{h}</b>"
    attrs = (f' color="{color}"' if color else "") + (f' point-size="{size}"' if size else "")
    if attrs:
        h = f"<font{attrs}>{h}</font>"
    return Part(h, CHAR * len(str(s)) * (size or 12) / 12)


_GAP = ("\u2009", "\u2002")      # before a grid's first column (thin space) and between columns (en space)


def value_part(v, spec: str, color: str) -> Part:
    """A number as text; a vector or matrix as a grid between brackets (the first rows and columns
    and the last when it is large); an N-d array as the grid of its first plane (a batch of images:
    image 0, channel 0), captioned with that plane's index and the array's shape."""
    a = clean(v)
    if a.ndim == 0:
        return text(number(float(a), "unicode", spec), color)
    shape = a.shape
    while a.ndim > 2 and a.shape[0] == 1:    # one image of one channel (1, 1, H, W): its H×W grid
        a = a[0]
    caption = None
    if a.ndim > 2 and a.shape[-1] * a.shape[-2] == 1 and a.ndim <= 4:
        # one number a plane (a conv's bias viewed as (C, 1, 1)): all of them, as the text lists
        # them, captioned with the shape — its first plane was the one number [0.1] of [0.1 −0.1]
        caption = "×".join(str(n) for n in shape)
        a = a.reshape(a.shape[:-2])
    if a.ndim > 2:
        caption = plane_caption(shape)
        a = a.reshape((-1,) + a.shape[-2:])[0]
    if a.ndim == 1:
        a = a.reshape(1, -1)
    rows, cols = _keep(a.shape[0]), _keep(a.shape[1])
    cell = lambda i, j: "⋱" if i is None and j is None else ("⋮" if i is None else (  # noqa: E731
        "⋯" if j is None else number(a[i, j], "unicode", spec)))
    body = [[cell(i, j) for j in cols] for i in rows]
    widths = [max(len(body[r][c]) for r in range(len(rows))) for c in range(len(cols))]
    n = len(rows)
    trs = []
    for r, row in enumerate(body):
        left = f'<td rowspan="{n}" width="3" border="1" sides="LTB"></td>' if r == 0 else ""
        right = f'<td rowspan="{n}" width="3" border="1" sides="RTB"></td>' if r == 0 else ""
        # columns apart by an en space: −0.7037 −1.265 read as two numbers, not as one run
        tds = "".join(f'<td align="right"><font point-size="11">{_GAP[j > 0]}{_esc(s)}</font></td>'
                      for j, s in enumerate(row))
        trs.append(f"<tr>{left}{tds}{right}</tr>")
    shape = ""
    if caption is None and (len(rows) < a.shape[0] or len(cols) < a.shape[1]):
        shape = f'<tr><td colspan="{len(cols) + 2}"><font point-size="9">{a.shape[0]}×{a.shape[1]}</font></td></tr>'
    grid = (f'<table border="0" cellborder="0" cellspacing="0" cellpadding="0" '
            f'color="{color}">{"".join(trs)}{shape}</table>')
    # each column a glyph wider for its gap, and an en space 3 points wider than the first one's thin space
    width = CHAR * 0.9 * (sum(widths) + len(widths)) + 10 + 3 * (len(widths) - 1)
    if caption is not None:     # in a table around the grid, so that it does not widen the grid's columns
        wide = CHAR * 0.75 * len(caption)
        grid = (f'<table border="0" cellborder="0" cellspacing="0" cellpadding="0"><tr><td>'
                f'{_centred(Part(grid, width), wide).html}</td></tr>'
                f'<tr><td><font point-size="9">{_esc(caption)}</font></td></tr></table>')
        width = max(width, wide)
    return Part(f'<font color="{color}">{grid}</font>', width)


def _centred(p: Part, width: float) -> Part:
    """``p`` for a cell ``width`` wide: a grid (an HTML table) narrower than that between two empty
    cells that take the difference. Graphviz stretches a table to the cell it sits in and spreads
    the extra over the table's columns, so a small grid under a wider caption, or above a wider
    gradient on the same edge, drew its brackets apart with a gap inside them. The widths are
    estimates: what they miss is spread over the three cells, a third of it into the grid. Text
    is centred by Graphviz itself and comes back as it is."""
    side = round((width - p.width) / 2)
    if side < 1 or "<table" not in p.html:
        return p
    cell = f'<td width="{side}"></td>'
    return Part(f'<table border="0" cellborder="0" cellspacing="0" cellpadding="0"><tr>{cell}'
                f'<td>{p.html}</td>{cell}</tr></table>', width)


def plane_caption(shape) -> str:
    """What the grid of an N-d value shows: its first plane, of the whole array's shape.

    >>> plane_caption((2, 3, 4, 4))
    '[0, 0, :, :] of 2×3×4×4'
    """
    index = ", ".join(["0"] * (len(shape) - 2) + [":", ":"])
    return f"[{index}] of {'×'.join(str(n) for n in shape)}"


def _keep(n):
    return list(range(n)) if n <= GRID_ROWS else [0, 1, 2, None, n - 1]


def stack(parts) -> Part:
    """Parts one above the other, as one HTML table (graphviz takes text or a table, not both)."""
    width = max((p.width for p in parts), default=0.0)
    rows = "".join(f"<tr><td>{_centred(p, width).html}</td></tr>" for p in parts)
    return Part(f'<table border="0" cellborder="0" cellspacing="2" cellpadding="0">{rows}</table>', width)


# ---------------------------------------------------------------------------------------------------
# The picture.

@in_affine_order
def picture(d, *, layout: str = "auto", mode: str | None = None, seed=None, at=None, names=None,
            given=None, output_name=None, number_format: str = ".4g"):
    """A ``graphviz.Digraph`` of the derivation ``d`` (see the module); `Derivation.graph` calls it.

    ``mode="forward"`` (the default when ``d`` was derived in forward mode) carries tangents instead
    of gradients, pushed from ``seed`` ({x: 1}: ∂·/∂x; default: the first of wrt, seeded with 1).

    >>> import sympy as sp, symgrad as sg
    >>> x, y = sp.symbols('x y')
    >>> src = sg.derive(x * y, [x, y]).graph(mode="forward", seed={x: 1}, at={x: 3, y: 4}).source
    >>> '∂·/∂x' in src and '#7d3c98' in src
    True
    """
    try:
        import graphviz  # noqa: F401
    except ImportError as e:  # pragma: no cover - graphviz is a declared extra
        raise SymgradError("the graph picture needs the Python package graphviz "
                           "(pip install graphviz) and Debian's graphviz (apt-get install graphviz)") from e
    mode = d.mode if mode is None else mode
    if mode not in ("reverse", "forward"):
        raise ArgumentError(f"mode must be 'reverse' or 'forward', got {mode!r}")
    if seed is not None and mode != "forward":
        raise ArgumentError("seed= is the tangent forward mode starts from: give it with mode='forward'")
    from .loss_terms import split_penalties
    from .recognise import recognise
    from .statistics import plan
    d = split_penalties(d)             # cross-entropy → ① + 0.05·②, not a sum → ①/4 + 0.05·②
    auto, norms = plan(recognise(d.f)) if d.mode == "reverse" else ({}, [])   # x̂, μ, σ² named, as in the steps
    nm = Naming(d, names, output_name, optional=auto, fold_statistics=bool(norms))
    pic = _Picture(d, nm, at, number_format, given)
    if mode == "forward":
        pic.forward(seed)
    else:
        pic.reverse()
    for b in pic.boxes if pic.recurrent else ():     # each step's input product in its step's row
        b.with_consumer = True
    return arrange(pic.boxes, pic.arrows, layout, pic.legend)


class _Picture:
    """The boxes and arrows of one picture, and what their labels say."""

    def __init__(self, d, nm, at, spec, given):
        self.d, self.nm, self.g, self.at, self.spec = d, nm, d.ir, at, spec
        self.given = {}
        if given:
            from .node_naming import _known
            from ..frontend.parse import as_expr
            known = _known(d)
            self.given = {as_expr(k, "given", symbols=known): as_expr(v, f"given[{k}]", symbols=known)
                          for k, v in given.items()}
        self.boxes, self.arrows = [], []
        # an unrolled recurrence (W_hh in every step): each share in the names of its step, δ⁽ᵗ⁾·hₜ₋₁ᵀ,
        # and δ⁽ᵗ⁾ = (𝟙 − hₜ²) ⊙ ∂L/∂hₜ, as the text's recursion — not the last step's written out
        self.recurrent = weight_shared(self.g, nm.fwd)
        # reshapes and broadcasts are how NumPy's implicit broadcasting lowers, not operations of the
        # slide: one used once is drawn as part of its edge (γ flows straight into γ ⊙ x̂)
        # slide: one used once is drawn as part of its edge (γ flows straight into γ ⊙ x̂); a reshape
        # that regroups entries (a flatten, p.reshape(N, -1)) or drops a 1-axis ((N, 1) -> (N,)) is a
        # step of the text (u₂ = u₁.reshape(N)), and drawn, so the edges carry the text's names
        self.folded = {e.out.id for e in nm.fwd if e.prim in _PASS_THROUGH and e.out.id != d.output.id
                       and len(nm.consumers.get(e.out.id, ())) == 1
                       and (not _reshape_drawn(e) or e.out.id in nm.pools      # a max pool's window axis dropped
                            or _matvec_view(e, nm.consumers, self.g.producer))}   # W @ x of a vector x
        # a pooling layer is one operation of the slide ("max pool 2×2"), not its lowering (windows,
        # then max over the window): the steps inside are folded into the equation that ends it
        self.pools = pooling(self.g, nm.consumers, nm.fwd)
        # so are the batch's statistics ("mean (axis 0)", "variance (axis 0)") and x − μ, which
        # NumPy's broadcasting lowers to ×(−1) then +
        for vid, op in statistics(self.g, nm.consumers, nm.fwd).items():
            self.pools.setdefault(vid, op)          # an average pool is a mean too: its label first
        # a softmax over an axis is one operation, "softmax (axis 1)", as the steps write it (not
        # logsumexp, then exp(① − ②)): its input has one edge into it, carrying all of ∂L/∂s
        for end, sm in nm.softmaxes.items():
            self.pools[end] = (sm.label, set(sm.inner))       # or "log_softmax (axis 1)"
        # a cross-entropy is one operation too, "cross-entropy (mean)", with all of δ on z's edge
        # (not logsumexp, one-hot, ⊙, Σ, reshapes ...; a log_softmax inside it is no node either)
        self.ces = nm.ces_all
        for vid in [v for v, op in self.pools.items() if any(end in op[1] for end in self.ces)]:
            del self.pools[vid]     # a penalty minus the negated cross-entropy: L = ① + ②, not ① − ②
        for end, ce in self.ces.items():
            for k in [k for k in self.pools if k in ce.inner]:
                del self.pools[k]
            self.pools[end] = (ce.label, set(ce.inner))
        # a transpose used once by a product is part of it, as the text's u₁ = Q @ K.T: K's edge
        # runs into "① · ②ᵀ" and carries ∂L/∂K = (∂L/∂u₁).T @ Q (no □ᵀ node between them)
        self.folded |= set(nm.transposed)
        self.fold_end = {}                      # an equation folded into an operation -> its end
        for end, (_, inside, *_) in self.pools.items():
            self.folded |= inside
            self.fold_end.update({i: end for i in inside})
        self.out_name = self.name(d.output.id)
        self.user = SympyBuilder(self.g, d.lowering.exprs)    # expressions in the user's symbols
        self.user_exprs = d.lowering.exprs

    # -- naming and numbers -------------------------------------------------------------------------
    def name(self, vid) -> str:
        s = self.nm.disp[vid]
        if not isinstance(s, (sp.Symbol, sp.MatrixSymbol)) and isinstance(getattr(s, "name", None), str):
            s = sp.Symbol(s.name)        # an N-d node's name, subscripted as the others (u₃)
        return show(s, "unicode")

    def evaluate(self, vars_) -> dict:
        if self.at is None:
            return {}
        vars_ = list({v.id: v for v in vars_}.values())
        try:
            vals = dict(zip([v.id for v in vars_], evaluate(self.g, vars_, self.at)))
        except (ZeroDivisionError, OverflowError, FloatingPointError) as e:
            raise SymgradError(f"f or its derivative cannot be evaluated at the point given "
                               f"({type(e).__name__}: {e}): the point is outside their domain") from None
        if not all(np.all(np.isfinite(np.asarray(v, dtype=float))) for v in vals.values()):
            raise SymgradError("f or its derivative is not finite at the point given (nan or ±inf): the "
                               "point is outside their domain; pick a point inside it")
        return vals

    def short_user(self, v):
        """``v`` in the user's symbols (with the names given in ``names``) when short, else None."""
        if len(self.g.ancestors([v])) > 40:
            return None
        try:
            e = self.user(v)
        except Exception:     # pragma: no cover - a node SymPy cannot write back
            return None
        if self.nm.user_exprs:      # the names the steps use: x₁·(ŷ − y), as ∂L/∂w₁'s step writes it
            e = _fold_products(e.xreplace(self.nm.user_exprs), self.nm.user_exprs)
        if self.g.producer[v.id].out.shape == () and self.d.f.has(sp.exp):     # −σ(s)², as the steps
            e = sigma_form(e, {k: n for n, k in self.nm.user_exprs.items()})
        if self.given:
            e = e.xreplace(self.given)
            e = e.doit(deep=False) if hasattr(e, "doit") else e
        if not _short(e):
            return None          # the names of the nodes then (δ⁽²⁾·y⁽¹⁾ᵀ)
        if self.nm.layer_exprs and self.g.producer[v.id].out.shape != ():
            e = e.xreplace(self.nm.layer_exprs)      # softmax(z⁽²⁾) − d, not the network written out
        return e

    # -- the forward skeleton: one box per named value and per operation ----------------------------
    def skeleton(self, extra):
        """Boxes for every node; ``extra(vid)`` gives parts added under a node's name (fan-out)."""
        nm = self.nm
        root = self.d.output.id                 # drawn even when f is a constant
        for e in nm.fwd:
            vid = e.out.id
            if (e.prim is R.const_p and vid != root) or vid in self.folded:
                continue
            more = extra(vid)
            if e.prim.leaf:
                shown = show(e.params[0], "unicode") if e.prim is R.const_p else self.name(vid)
                p = stack([text(shown, bold=True)] + more)
                self.boxes.append(Box(f"v{vid}", p.html, p.width + 20, "leaf", dict(
                    shape="box", style="rounded,filled", fillcolor="#eaf2f8"), _esc(self.name(vid))))
            else:
                label = self.label(e)
                if label == "reshape":          # to the shape the text writes: b.reshape(4, 1, 1)
                    shape = written_shape(nm, vid) or e.out.shape
                    label = f"reshape ({', '.join(show(n, 'unicode') for n in shape)})"
                p = stack([text(label, bold=True)] + more)
                # an operation is an ellipse; one that also adds up a fan-out, a rounded box (an
                # ellipse around a grid would be huge)
                look = dict(shape="box" if more else "ellipse", style="rounded,filled" if more else "filled",
                            fillcolor=OP_FILL)
                if len({t[1].id for t in self.inputs(e)}) > 1:
                    look["ordering"] = "in"      # its inputs stacked as `read_inputs` emits them
                self.boxes.append(Box(f"v{vid}", p.html, p.width + 30, "op", look, _esc(self.name(vid))))
        p = text(self.out_name, bold=True)
        self.boxes.append(Box("out", stack([p]).html, p.width + 20, "out", dict(
            shape="box", style="rounded,filled", fillcolor="#d5f5e3"), _esc(self.out_name)))
        # the inputs first, in the order of wrt (dot stacks them as declared: x above y, as on the slide)
        order = {f"v{w.id}": k for k, w in enumerate(self.d.wrt_vars)}
        leaves = sorted((b for b in self.boxes if b.kind == "leaf"), key=lambda b: order.get(b.id, len(order)))
        self.boxes = leaves + [b for b in self.boxes if b.kind != "leaf"]

    def transposed_into(self, e) -> bool:
        """True for a product one of whose inputs is a transpose drawn as part of it (Q @ K.T)."""
        return e.prim.name in ("matmul", "bmatmul") and any(v.id in self.nm.transposed for v in e.inputs)

    def label(self, e) -> str:
        """The operation's label: a folded operation's own, "① · ②ᵀ" for a product that takes a
        transpose (attention's Q Kᵀ, torch's x Wᵀ), a scalar sum's or product's as its forward line
        prints it where the slots agree (`label_as_read`: 2·① + ② for f = 2·u₃ + u₆), else
        `op_label`'s."""
        if e.out.id in self.pools:
            return self.pools[e.out.id][0]
        if self.transposed_into(e):
            return " · ".join(_SLOTS[i] + ("ᵀ" if v.id in self.nm.transposed else "")
                              for i, v in enumerate(e.inputs))
        got = self.label_as_read(e)
        return got[0] if got is not None and self.slots_as_read(e) == got[1] else op_label(e)

    def inputs(self, e):
        """(i, the drawn source, the equation it feeds, its index there) for each input of ``e``:
        the source is found behind the folded reshapes and broadcasts; constants are skipped."""
        ce = self.ces.get(e.out.id)
        if ce is not None:               # a cross-entropy: one edge from z, one from the labels
            for k, vid in enumerate(ce.inputs):
                v = self.g.producer[vid].out
                while v.id in self.folded:
                    v = self.g.producer[v.id].inputs[0]
                if self.g.producer[v.id].prim is not R.const_p:
                    yield k, v, None, None
            return
        seen = set()
        for i, v in enumerate(e.inputs):
            first, j = e, i
            while v.id in self.folded:
                first, j = self.g.producer[v.id], 0
                v = first.inputs[0]
            if e.out.id in self.nm.softmaxes and v.id in seen:     # s reaches the softmax once
                continue
            seen.add(v.id)
            if self.g.producer[v.id].prim is not R.const_p:
                yield i, v, first, j

    def read_inputs(self, e) -> list:
        """`inputs` in the order the text reads them, the order dot stacks the edges (the node has
        ordering=in): a sum's or a product's operands in the order its forward line prints them (the
        sigmoid neuron's z = u₁ + u₂ + w₂ and u₁ = w₀·x₀, so w₀ above x₀ above w₁, x₁, and w₂ last);
        an operation with numbered slots in their order (y above ŷ into ① − ②, whichever input
        the lowering made first); any other in the order of its inputs."""
        ins = list(self.inputs(e))
        if len(ins) < 2 or e.out.id in self.ces or self.transposed_into(e):
            return ins
        pool = self.pools.get(e.out.id)
        if _slotted(e, pool[0] if pool else None):
            slot = pool[2] if pool and len(pool) > 2 else self.slots_as_read(e)
            return sorted(ins, key=lambda t: slot[t[0]])      # ① above ②, as the label reads
        if pool or e.prim is not R.ewise_p:
            return ins
        disp = self.nm.disp
        whole, read = self.line_as_read(e)          # u₁ + b₁ above, as the forward line prints it
        if read is None and isinstance(whole, (sp.MatAdd, sp.HadamardProduct)):
            read = list(whole.args)
        if read is None:
            return ins
        place = {}
        for t in ins:
            shown = disp.get(t[1].id)
            if shown not in read or shown in place.values():
                return ins           # an operand the line writes inside a term: keep the slots' order
            place[t[1].id] = shown
        return sorted(ins, key=lambda t: read.index(place[t[1].id]))

    def line_as_read(self, e):
        """(the forward line of ``e``, its terms or factors in the order the line prints them: the
        user's order where `operands_as_written` finds it, else SymPy's; None for neither a sum
        nor a product) — shared by `read_inputs` and `slots_as_read`."""
        whole, written = _written_definition(self.g, e, self.nm.disp, self.user_exprs)
        read = (written_terms(written) if written is not whole else
                whole.as_ordered_terms() if isinstance(whole, sp.Add) else
                whole.as_ordered_factors() if isinstance(whole, sp.Mul) else None)
        return whole, read

    def slots_as_read(self, e) -> list:
        """`slots` of ``e``, numbered in the order its forward line prints the inputs where the label
        reads the same so: −w₁·x₁ is −①·② with w₁ as ①, and u₁ + u₂ − w₂ is ① + ② − ③ with u₁ as
        ① — the lowering's order had put x₁ and u₂ first (a sum or product is the same whichever of
        its added or multiplied inputs comes first). Where renumbering changes SymPy's label (2·u₃ +
        u₆ would print ① + 2·②), the slots of `label_as_read`, whose label is then drawn."""
        base = slots(e)
        disp, n = self.nm.disp, len(e.inputs)
        if e.prim is not R.ewise_p or len({v.id for v in e.inputs}) != n or not all(v.id in disp for v in e.inputs):
            return base
        _, read = self.line_as_read(e)
        if read is None:
            return base
        pos = []
        for v in e.inputs:
            shown = disp[v.id]
            k = next((j for j, r in enumerate(read) if r == shown or r == -shown
                      or (isinstance(r, sp.Expr) and r.as_coeff_Mul()[1] == shown)), None)     # 2·u₃
            if k is None:
                return base
            pos.append(k)
        if len(set(pos)) != n:
            return base
        new = [None] * n
        for r, i in enumerate(sorted(range(n), key=lambda i: pos[i])):
            new[i] = _SLOTS[r] if r < len(_SLOTS) else base[i]
        phs = R.placeholders(n)

        def label(names):
            return show(e.params[0].xreplace({ph: sp.Symbol(m) for ph, m in zip(phs, names)}), "unicode")
        if None not in new and label(new) == label(base):
            return new
        got = self.label_as_read(e)
        return got[1] if got is not None else base

    def label_as_read(self, e):
        """(the label of a slotted sum or product written as its forward line prints it, the slot of
        each input): the text's f = 2·u₃ + u₆ is drawn 2·① + ② with u₃ as ① (SymPy's order of the
        slots had drawn ① + 2·② with the exp as ①, against the text). None where the line names
        an input other than once, is not this operation input for input, or the user's order was
        not recovered (`_written_definition`: the line is SymPy's, and so is the label)."""
        if e.prim is not R.ewise_p or e.out.id in self.pools or e.out.shape != () or not _slotted(e):
            return None                           # a scalar line: a matrix's keeps SymPy's label
        disp, n = self.nm.disp, len(e.inputs)
        if len({v.id for v in e.inputs}) != n or not all(v.id in disp for v in e.inputs) \
                or e.out.id in self.nm.written:          # the text writes that line its own way
            return None
        line, written = _written_definition(self.g, e, disp, self.user_exprs)
        if written is line or not isinstance(written, (sp.Add, sp.Mul)):
            return None
        if self.nm.ces and e.out.id == self.d.output.id:     # L = L_data + L_reg, as the text's line
            from .cross_entropy_header import data_loss_first
            written = data_loss_first(written, {disp[i] for i in self.nm.ces if i in disp})
        with affine_sums():                       # as the text prints the line
            printed = show(written, "unicode")
        found = [list(re.finditer(r"(?<!\w)" + re.escape(show(disp[v.id], "unicode")) + r"(?!\w)", printed))
                 for v in e.inputs]
        if any(len(f) != 1 for f in found):
            return None
        at = [f[0].start() for f in found]
        new = [None] * n
        for r, i in enumerate(sorted(range(n), key=lambda i: at[i])):
            new[i] = _slot(r)
        to_slot = {disp[v.id]: sp.Symbol(k) for v, k in zip(e.inputs, new)}
        body = e.params[0].xreplace({ph: to_slot[disp[v.id]] for ph, v in zip(R.placeholders(n), e.inputs)})
        if sp.expand(sp.sympify(written).xreplace(to_slot) - body) != 0:    # this operation, input for input
            return None
        drawn = printed
        for i in sorted(range(n), key=lambda i: -at[i]):         # right to left: the positions hold
            m = found[i][0]
            drawn = drawn[:m.start()] + new[i] + drawn[m.end():]
        return drawn, new

    def uses(self, vid) -> int:
        """How many drawn edges leave ``vid`` (a softmax's input: one, not its logsumexp's and exp's;
        a cross-entropy's logits: one)."""
        return drawn_uses(self.nm.consumers.get(vid, ()), self.ces, self.nm.softmaxes)

    def drawn(self):
        return [e for e in self.nm.fwd if not e.prim.leaf and e.out.id not in self.folded]

    def edge(self, v, e, i, above, below):
        """The edge v → e (e's input i): ``above`` the line the value, ``below`` what flows back."""
        uses = self.uses(v.id)
        attrs = dict(color=BLUE if uses > 1 else "black", penwidth="1.6" if uses > 1 else "1")
        if self.transposed_into(e):              # ① · ②ᵀ: the slots are the product's inputs
            above = [text(_SLOTS[i], GREY, size=10)] + above
        elif _slotted(e, self.pools[e.out.id][0] if e.out.id in self.pools else None):
            # which slot of ① − ② this edge fills (a headlabel: lost when packed)
            op = self.pools.get(e.out.id, ())
            slot = op[2][i] if len(op) > 2 else self.slots_as_read(e)[i]
            above = [text(slot, GREY, size=10)] + above
        self.arrow(f"v{v.id}", f"v{e.out.id}", above, below, attrs)

    def arrow(self, src, dst, above, below, attrs=None):
        width = max((p.width for p in above + below), default=0.0)
        # one column of cells: a grid narrower than the widest is centred, not stretched (`_centred`)
        self.arrows.append(Arrow(src, dst, [_centred(p, width).html for p in above],
                                 [_centred(p, width).html for p in below], width, attrs or {}))

    def fwd_part(self, vid, fvals, head, shape=None):
        """The green line(s): the value at the point (and the name above it), or the name."""
        name = self.name(vid)
        if self.at is None:
            return [text(name, GREEN)]
        return ([text(name, size=11)] if head else []) + [value_part(_reshaped(fvals[vid], shape), self.spec, GREEN)]

    def ce_gradient(self, ce, v, contribs, gvals, share_expr) -> list:
        """What flows back into a cross-entropy's input ``v``: the sum of reverse mode's
        contributions through the equations folded into it (none for the labels)."""
        shares = [(eqn, i, c) for eqn, i, c in contribs.get(v.id, ()) if eqn.out.id in ce.inner | {ce.end}]
        if not shares:
            return []
        if self.at is not None:
            total = sum(np.asarray(gvals[c.id], dtype=float) for _, _, c in shares)
            return [value_part(total, self.spec, RED)]
        exprs = [share_expr[(eqn.out.id, i)] for eqn, i, _ in shares]
        tot = ce_delta(ce, self.g, self.nm.disp, self.given) if ce.end == self.d.output.id and v.id == ce.z else None
        if tot is None and all(x is not None for x in exprs):
            try:
                tot = gather(known_row_sums(functools.reduce(operator.add, exprs), self.given))
            except (TypeError, ValueError):     # pragma: no cover - shares SymPy cannot add
                tot = None
        return [text(self.gradient_text(v.id, tot), RED)]

    def seen_shape(self, v, e, i):
        """The shape ``v``'s value is shown in on its edge into ``e`` (input i): after the folded
        reshapes right above v (a max pool's output without the window axis its max left:
        (N, C, 2, 2), not (N, C, 2, 2, 1)); None when there are none (a broadcast γ is shown as γ,
        not repeated over the batch)."""
        if e.out.id in self.ces:                # the cross-entropy's inputs, as they are
            return None
        chain, u = [], e.inputs[i]              # e's input, down the folded equations to v
        while u.id != v.id:
            chain.append(u)
            u = self.g.producer[u.id].inputs[0]
        seen = None
        for u in reversed(chain):               # the reshapes right above v (into a folded pool, too)
            if self.g.producer[u.id].prim is not A.reshape_p:
                break
            seen = tuple(u.shape)
        if seen is None:          # a max pool into a flatten: the pool's value as max_pool2d writes it
            seen = written_shape(self.nm, v.id)
        # only where they drop axes (the max's window axis); a bias b of shape (F,) viewed as
        # (1, F, 1, 1) on its way to a broadcast is shown as b
        return seen if seen is not None and len(seen) < len(v.shape) else None

    # -- reverse mode --------------------------------------------------------------------------------
    def reverse(self):
        d, g, nm = self.d, self.g, self.nm
        root = d.output
        need = depends_on(g, d.wrt_vars)
        record = []
        if d.mode == "reverse":
            record = [(s.eqn, s.cotangent, s.contributions) for s in d.raw_steps]
        else:        # derived in forward mode: the reverse sweep is made here, for the picture
            backward(g, root, d.wrt_vars, on_step=lambda e, ct, cs: record.append((e, ct, cs)))
        cot = {root.id: R.const(g, 1, root.shape)}
        contribs = defaultdict(list)
        for eqn, ct, cs in record:
            cot[eqn.out.id] = ct
            for i, (v, c) in enumerate(zip(eqn.inputs, cs)):
                if c is not None and v.id in need:
                    contribs[v.id].append((eqn, i, c))
        fvals = self.evaluate([e.out for e in nm.fwd])
        gvals = self.evaluate([c for lst in contribs.values() for _, _, c in lst])
        share_expr = {}
        for vid, lst in contribs.items():
            for eqn, i, c in lst:
                share_expr[(eqn.out.id, i)] = self.gradient_expr(vid, eqn, c, cot)

        def fan(vid):
            lst = contribs.get(vid, ())
            if self.uses(vid) < 2 or not lst:
                return []
            lhs = f"fan-out: ∂{self.out_name}/∂{self.name(vid)} = Σ = "
            if self.at is not None:
                total = sum(np.asarray(gvals[c.id], dtype=float) for _, _, c in lst)
                if np.ndim(total) == 0:
                    return [text(lhs + number(float(clean(total)), "unicode", self.spec), RED, size=10)]
                return [_beside(text(lhs, RED, size=10), value_part(total, self.spec, RED))]
            exprs = [share_expr[(eqn.out.id, i)] for eqn, i, _ in lst]
            if all(x is not None for x in exprs):
                try:
                    tot = (summed(exprs, g.producer[vid].out.shape) if g.producer[vid].out.shape != ()
                           else functools.reduce(operator.add, exprs))
                    if g.producer[vid].out.shape == () and tot.is_polynomial():
                        tot = sp.expand(tot)         # 2 + 5g + 2fg + 2fg², as the seeds write it
                    tot = gather(tot)                # (softmax(z, axis=1) − one_hot(y, 3))/N, as the steps
                    leaf = d.lowering.exprs.get(vid) if is_split(d) else None
                    if leaf is not None:             # x.T @ δ + 0.1·W, the data term first, as the text
                        tot = penalty_last(tot, leaf)
                    return [text(lhs + show(tot, "unicode"), RED, size=10)]
                except (TypeError, ValueError):     # pragma: no cover - shares SymPy cannot add
                    pass
            return [text(lhs + f"the sum of its {len(lst)} shares", RED, size=10)]

        self.skeleton(fan)
        for e in self.drawn():
            for i, v, first, j in self.read_inputs(e):
                seen = self.seen_shape(v, e, i)
                above = self.fwd_part(v.id, fvals, head=not g.producer[v.id].prim.leaf, shape=seen)
                below = []
                c = next((c for eqn, k, c in contribs.get(v.id, ()) if eqn is first and k == j), None)
                ce = self.ces.get(e.out.id)
                if ce is not None:         # all of δ: through the logsumexp and the picked logit
                    below = self.ce_gradient(ce, v, contribs, gvals, share_expr)
                    c = None
                sm = nm.softmaxes.get(e.out.id)
                if sm is not None and v.id == sm.z:      # all of ∂L/∂s: through exp and logsumexp
                    cs = [c for eqn, _, c in contribs.get(v.id, ()) if eqn.out.id in sm.inner | {sm.end}]
                    if self.at is not None:
                        total = sum(np.asarray(gvals[c.id], dtype=float) for c in cs)
                        below.append(value_part(_reshaped(total, seen), self.spec, RED))
                    else:
                        a = nm.disp[sm.end]
                        # into a cross-entropy the user wrote out (−Σ t ⊙ log p): the slides' δ
                        ce = next((ce for ce in self.ces.values() if ce.z == sm.end
                                   and ce.end == root.id), None)
                        back = ce_delta(ce, g, nm.disp, self.given, logits=sm.z) if ce is not None else None
                        if back is None:
                            back = sm.backward(a, _gsym(self.out_name, str(a), self.g.producer[sm.end].out.shape,
                                                        sm.end, nm), nm.disp[sm.z])
                        below.append(text(self.gradient_text(v.id, back), RED))
                    c = None
                if c is not None:
                    if self.at is not None:
                        below.append(value_part(_reshaped(gvals[c.id], seen), self.spec, RED))
                    else:
                        below.append(text(self.gradient_text(v.id, share_expr[(first.out.id, j)]), RED))
                elif not below and v.id in need:
                    # no gradient comes back along this edge (into a stop_gradient, or from a node
                    # only a stop_gradient reads): it carries 0, as the steps' text says ∂f/∂u₁ = 0
                    below.append(value_part(np.zeros(seen or tuple(v.shape)), self.spec, RED) if self.at is not None
                                 else text(self.gradient_text(v.id, sp.Integer(0)), RED))
                self.edge(v, e, i, above, below)
        one = text(number(1.0, "unicode", self.spec) if self.at is not None else "1", RED)
        self.arrow(f"v{root.id}", "out", self.fwd_part(root.id, fvals, head=False), [one])
        labels = " ".join(a.label or "" for a in self.arrows)
        delta, o = "", _esc(self.out_name)
        if "δ" in labels:      # in the output's name and the labels' notation: δ⁽ᵏ⁾ (δₖ) where layers are numbered
            delta = (f" (δ⁽ᵏ⁾ = ∂{o}/∂z⁽ᵏ⁾)" if "δ⁽" in labels else f" (δₖ = ∂{o}/∂zₖ)"
                     if re.search("δ[₀-₉]", labels) else f" (δ = ∂{o}/∂z)")
        self.legend = (f'<font color="{GREEN}">forward value (above)</font><br/>'
                       f'<font color="{RED}">gradient ∂{_esc(self.out_name)}/∂· (below){delta}</font>')

    def gradient_expr(self, vid, eqn, c, cot):
        """This edge's share of ∂L/∂(node): in the user's symbols when short (then it is
        `sg.grad`'s), else in the names of the nodes (∂L/∂z₂ ⊙ H(z₂), δ₂·y₁ᵀ), else None."""
        e = None if self.recurrent else self.short_user(c)
        if e is not None and self.nm.matvec_shape:     # W @ x of a vector x: δ @ xᵀ, as the steps write it
            e = matvec_views_dropped(e)
        if e is not None:       # (softmax(z, axis=1) − one_hot(y, 3))/4, not softmax(z, axis=1)/4 − one_hot(y, 3)/4
            return gather(e) if self.nm.tensor else e
        nm = self.nm
        # an edge into a folded operation (mean, variance, max pool) is written from the gradient
        # of the operation's value, never of a node inside it that the picture does not draw
        o = nm.owner(self.fold_end.get(eqn.out.id, eqn.out.id))
        nd = any(len(self.g.producer[i].out.shape) not in (0, 2) for i in (vid, o))
        known = dict(nm.disp)
        for t, z in nm.transparent.items():
            known.pop(t, None)
        cid = cot[o].id if o in cot else cot[eqn.out.id].id
        known[cid] = _gsym(self.out_name, str(nm.disp[o]), self.g.producer[o].out.shape, o, nm)
        try:
            e = SympyBuilder(self.g, known)(c)
            if cid in nm.disp and not self.g.producer[cid].prim.leaf:
                # the gradient is a forward value itself (∂(y²/2)/∂y = y): where the share uses that
                # value in both roles, it keeps its forward name (as the steps do)
                plain = SympyBuilder(self.g, {**known, cid: nm.disp[cid]})(c)
                if _uses(plain, nm.disp[cid]) > 1:
                    e = plain
        except Exception:     # pragma: no cover - a tensor node SymPy cannot write back
            return None
        if nm.tensor:       # as the steps write it: γ ⊙ dout (no broadcast_to), softmax(u₆, axis=1)
            e = _softmax_named(_tidy(e), _softmax_map(nm))
        if nm.matvec_shape:     # δ @ xᵀ, as the steps write W @ x of a vector x
            e = matvec_views_dropped(e)
        if nd and re.search(r"reshape|broadcast|full\(", show(e, "text")):
            return None         # N-d tensors: a form that prints reshapes reads worse than ∂L/∂x̂ alone
        return e if _short(e) else None

    def gradient_text(self, vid, expr) -> str:
        """∂L/∂v = expr for a value used once; the share alone on one edge of a fan-out."""
        shape = self.g.producer[vid].out.shape
        if vid in self.nm.transparent:           # W·y on its way into z = W·y + b
            lhs = f"∂{self.out_name}/∂({self.name(vid)})"
        else:
            lhs = show(_gsym(self.out_name, str(self.nm.disp[vid]), shape, vid, self.nm), "unicode") \
                if len(shape) in (0, 2) else f"∂{self.out_name}/∂{self.name(vid)}"
        if expr is not None:
            expr = transposes_distributed(expr)     # (∂L/∂u).T @ Q, as the text writes ∂L/∂K
            if self.nm.scaled:                      # ((∂L/∂S).T @ Q)/√2 for S = Q @ K.T/√2, as the text
                expr = transposes_distributed(scalars_outside(expr))
        if self.uses(vid) > 1:
            return show(expr, "unicode") if expr is not None else "a share of " + lhs
        return lhs if expr is None else f"{lhs} = {show(expr, 'unicode')}"

    # -- forward mode ----------------------------------------------------------------------------
    def forward(self, seed):
        d, g, nm = self.d, self.g, self.nm
        root = d.output
        leaves = {e.params[0]: e.out for e in nm.fwd if e.prim is R.param_p or e.prim is R.input_p}
        if seed is None:       # the first of wrt that f depends on (none: every tangent is 0)
            first = [g.producer[w.id].params[0] for w in d.wrt_vars if w in leaves.values()][:1]
            seed = {first[0]: 1} if first else {}
        elif not isinstance(seed, dict) or not seed:
            raise ArgumentError(f"seed must be a dict {{symbol: tangent}} of f's inputs, got {seed!r}")
        tangents = {}
        for k, val in seed.items():
            var = next((v for s, v in leaves.items() if s == k or getattr(s, "name", None) == str(k)), None)
            if var is None:
                raise ArgumentError(f"seed: {k} is not an input of f = {d.f}; f's inputs are "
                                    f"{', '.join(sorted(str(s) for s in leaves))}")
            tangents[var.id] = _seed_const(g, k, val, var.shape)
        tan = dict(tangents)
        forward_sweep(g, [root], tangents, on_step=lambda e, t: tan.__setitem__(e.out.id, t))
        fvals = self.evaluate([e.out for e in nm.fwd])
        tvals = self.evaluate(list(tan.values()))
        # ∂·/∂x for a seed of 1; an array seed (a direction for a tensor input) is the tangent ẋ
        first = next(iter(seed.values()), None)
        unit = len(seed) == 1 and np.ndim(first) == 0 and bool(first == 1)
        wname = show(next(iter(seed)), "unicode") if unit else None

        def tangent_text(vid, shape=None):
            lhs = f"∂{self.name(vid)}/∂{wname}" if unit else f"{self.name(vid)}\u0307"
            if self.at is not None:
                return value_part(_reshaped(tvals[tan[vid].id], shape), self.spec, PURPLE)
            e = self.short_user(tan[vid])
            return text(lhs if e is None else f"{lhs} = {show(e, 'unicode')}", PURPLE)

        def zero_text(vid):        # a value the seed does not reach: its tangent is 0, as the slide writes ẏ = 0
            return text("0" if self.at is not None or not unit else f"∂{self.name(vid)}/∂{wname} = 0", PURPLE)

        self.skeleton(lambda vid: [])
        for e in self.drawn():
            for i, v, _, _ in self.read_inputs(e):
                seen = self.seen_shape(v, e, i)
                self.edge(v, e, i, self.fwd_part(v.id, fvals, head=not g.producer[v.id].prim.leaf, shape=seen),
                          [tangent_text(v.id, seen) if v.id in tan else zero_text(v.id)])
        self.arrow(f"v{root.id}", "out", self.fwd_part(root.id, fvals, head=False),
                   [tangent_text(root.id) if root.id in tan else zero_text(root.id)])
        what = (f"∂·/∂{_esc(wname)}" if unit else "directional derivative ·\u0307") + ", seeded " + ", ".join(
            f"{_esc(show(k, 'unicode'))}\u0307 = {_esc(_seed_text(v))}" for k, v in seed.items())
        if not seed:
            what = "0: f depends on none of wrt"
        self.legend = (f'<font color="{GREEN}">forward value (above)</font><br/>'
                       f'<font color="{PURPLE}">tangent {what} (below)</font>')


def _reshaped(value, shape):
    """``value`` in ``shape`` (None: as it is); one symbol in it (the batch's N) is the axis the
    value's size leaves, a shape with two is left alone."""
    if shape is None:
        return value
    dims = [int(n) if isinstance(n, (int, sp.Integer)) else -1 for n in shape]
    a = np.asarray(value, dtype=float)
    if dims.count(-1) > 1 or (dims.count(-1) == 0 and a.size != math.prod(dims)):
        return value
    try:
        return a.reshape(dims)
    except ValueError:
        return value


def _seed_const(g, k, val, shape):
    try:
        if isinstance(val, (list, tuple, np.ndarray)):
            a = np.asarray(val, dtype=float).reshape([int(n) for n in shape])
            return R.const(g, sp.ImmutableMatrix(a.tolist()), shape)
        return R.const(g, sp.Float(float(val)) if not isinstance(val, int) else sp.Integer(val), shape)
    except (TypeError, ValueError) as e:
        raise ArgumentError(f"seed[{k}] must be a number (or an array of {k}'s shape), got {val!r}") from e


def _seed_text(v) -> str:
    return number(v, "unicode") if not isinstance(v, (list, tuple, np.ndarray)) else "(a direction)"


def _gsym(out, node, shape, vid, nm):
    """The symbol of ∂out/∂node: δ for a layer's pre-activation z in a matrix network."""
    is_z = bool(LAYER_Z.fullmatch(node)) and shape != () and vid not in nm.user_named
    return partial(out, node, shape, delta=is_z, tensor=nm.tensor)


def _short(e) -> bool:
    try:
        return sp.count_ops(e) <= SHORT_OPS and len(show(e, "unicode")) <= 48
    except Exception:  # pragma: no cover - count_ops on exotic matrix nodes
        return False


def _beside(a: Part, b: Part) -> Part:
    return Part(f'<table border="0" cellborder="0" cellspacing="0" cellpadding="0"><tr><td>{a.html}</td>'
                f'<td width="6"></td><td>{b.html}</td></tr></table>', a.width + b.width + 6)


def save(dot, path) -> Path:
    """Write the picture to ``path``; the format comes from its suffix (.svg, .png, .pdf, .dot).

    >>> import sympy as sp, symgrad as sg, tempfile, pathlib
    >>> x, y = sp.symbols('x y')
    >>> out = save(sg.derive(x * y, [x, y]).graph(at={x: 2, y: 3}), pathlib.Path(tempfile.mkdtemp()) / "xy.dot")
    >>> "digraph" in out.read_text()
    True
    """
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    if fmt == "dot" or fmt == "gv":
        path.write_text(dot.source)
        return path
    if fmt not in ("svg", "png", "pdf"):
        raise SymgradError(f"picture format must be .svg, .png, .pdf or .dot; got {path.name!r}")
    try:
        data = dot.pipe(format=fmt)
    except Exception as e:
        if type(e).__name__ == "ExecutableNotFound":
            raise SymgradError("drawing needs Graphviz's `dot` program: apt-get install graphviz") from e
        raise
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
