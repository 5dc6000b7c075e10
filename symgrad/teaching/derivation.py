"""The Derivation: what `sg.derive` returns — the gradients, the CSE'd straight-line program, and the
record of each step as reverse mode made it (the teaching views print these).

The teaching views: ``d.steps`` (the chain-rule steps, `symgrad.teaching.steps`), ``d.explain(at=...)`` (the
same with numbers), ``d.render(fmt)`` / ``d.latex()`` / ``d.markdown()`` (`symgrad.teaching.render`), and
``d.graph(at=...)`` (a graphviz picture, `symgrad.teaching.graph_picture`). Options given to `sg.derive`
(``names``, ``at``, ``given``, ``output_name``, ``number_format``) are their defaults.

>>> import sympy as sp, symgrad as sg
>>> x, y, z = sp.symbols('x y z')
>>> d = sg.derive((x + y) * z, [x, y, z], at={x: -2, y: 5, z: -4})
>>> [value for w, grad, value in d.steps.gradients]
[-4.0, -4.0, 3.0]
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields

from ..core.differentiate import Derived, differentiate
from ..core.policy import DEFAULT, Subgradients
from ..errors import ArgumentError
from ..frontend.keywords import keywords
from .sum_order import in_affine_order


@keywords(extra=lambda: Derivation._TEACH)   # the teaching views' options
def derive(f, wrt, *, mode: str = "reverse", policy: Subgradients = DEFAULT, style: str = "steps",
           **options) -> "Derivation":
    """Derive the gradient of the scalar ``f`` with respect to ``wrt`` by reverse accumulation
    (``mode="forward"``: one forward sweep per scalar of wrt), and keep the record for the teaching
    views.

    Returns a `Derivation` with ``.gradients`` (SymPy, nested like ``wrt``), ``.program`` (the CSE'd
    straight-line program of f and its gradients) and ``.forward_program`` (f alone).

    >>> import sympy as sp, symgrad as sg
    >>> w, x, y = sp.symbols('w x y')
    >>> d = sg.derive((y - w * x) ** 2 / 2, w)
    >>> d.gradients
    -x*(-w*x + y)

    ``style="calculus"`` narrates one derivative with the rules of a calculus course instead
    (`symgrad.teaching.calculus`); ``style="newton"`` writes one Newton step from ``at``
    (`symgrad.teaching.newton`); ``options`` (names, at, given, convention, ...) are the teaching
    views' defaults.
    """
    if style == "calculus":
        from .calculus import derive_calculus
        return derive_calculus(f, wrt, **options)
    if style == "newton":            # one Newton step w ← w − H⁻¹g from options["at"]
        from .newton import newton_step
        if "at" not in options:
            raise ArgumentError("style='newton' needs at={symbol: value}: the point the step starts from")
        return newton_step(f, wrt if isinstance(wrt, (list, tuple)) else [wrt], options["at"])
    if style != "steps":
        raise ArgumentError(f"style must be 'steps', 'calculus' or 'newton', got {style!r}")
    from .binary_gates import checked_gates
    checked_gates(options.get("gates"))
    record = differentiate(f, wrt, mode=mode, policy=policy)
    return Derivation(**{k.name: getattr(record, k.name) for k in fields(Derived)}, options=options)


@dataclass
class Derivation(Derived):
    """The core's record of a derivation (`symgrad.core.differentiate.Derived`) with the teaching
    views; ``options`` are the views' defaults, as given to `derive`."""
    options: dict = field(default_factory=dict)   # teaching options from derive (names, at, ...)

    # -- teaching views ---------------------------------------------------------------------------
    _TEACH = ("names", "at", "given", "output_name", "number_format", "convention", "gates", "shapes")

    def _opts(self, kw) -> dict:
        bad = set(kw) - set(self._TEACH)
        if bad:
            raise TypeError(f"unknown option(s) {sorted(bad)}; the teaching views take {list(self._TEACH)}")
        o = {k: v for k, v in self.options.items() if k in self._TEACH}
        o.update({k: v for k, v in kw.items() if v is not None})
        if o.get("at") is not None:
            _masks_given(self.f, o["at"])
        return o

    def explain(self, **kw):
        """The steps (`symgrad.teaching.steps.Steps`) with these options (``at``, ``names``, ``given``, ...)
        over those given to `derive`."""
        from .nesting import checked_nesting
        from .steps import build_steps
        checked_nesting(self.f)              # before minutes of work that would fail on the stack
        opts = self._opts(kw)
        shapes = opts.pop("shapes", False)   # a view's option: Q = X @ W_q    (3×2)
        if not isinstance(shapes, bool):
            raise ArgumentError(f"shapes must be True or False, got {shapes!r}")
        steps = build_steps(self, **opts)
        steps.shapes = shapes
        return steps

    @property
    def steps(self):
        """The chain-rule steps, one per node, in the order reverse (or forward) mode takes them."""
        if getattr(self, "_steps", None) is None:
            self._steps = self.explain()
        return self._steps

    def _view(self, kw):
        """The steps for these options: the cached `steps` when there are none."""
        return self.explain(**kw) if kw else self.steps

    def render(self, fmt: str = "unicode", **kw) -> str:
        """The derivation as ``fmt``: "text" (ASCII), "unicode", "markdown" or "latex"."""
        from .render import render
        steps = self._view(kw)
        extra = None
        if steps.convention:                     # the Jacobian form (11-785), row or column
            from .jacobian_view import heading, jacobian_lines
            extra = (heading(steps.convention), jacobian_lines(steps, fmt, steps.convention))
        return render(steps, fmt, extra)

    def text(self, **kw) -> str:
        return self.render("text", **kw)

    def markdown(self, **kw) -> str:
        return self.render("markdown", **kw)

    def latex(self, document: bool = False, **kw) -> str:
        """An ``align*`` block of the steps, after the ``\\providecommand`` of the ``\\stepnote`` that
        sets each rule note under its equation; ``document=True``: a whole document for pdflatex."""
        return self.render("latex-document" if document else "latex", **kw)

    def graph(self, layout: str = "auto", mode: str | None = None, seed=None, **kw):
        """The computational graph as a ``graphviz.Digraph``: one node per operation and value, the
        forward value above each edge and ∂L/∂· below (numbers given ``at``, else symbolic), fan-out
        sums marked; ``layout`` "LR", "TB", "wrapped" or "auto"; ``mode="forward"`` carries the
        tangents from ``seed`` ({x: 1}); options as for `explain`. (The IR itself is ``d.ir``.)"""
        from .binary_gates import checked_gates, gated_names
        from .graph_picture import picture
        from .node_naming import _known
        steps = self._view(kw)                          # names= (or gates=) may have rewritten f: draw that
        opts = {k: v for k, v in self._opts(kw).items() if k not in ("convention", "shapes")}
        if checked_gates(opts.pop("gates", None)) == "binary":     # a named sum of three terms: its last gate
            opts["names"] = gated_names(opts.get("names"), _known(self))
        return picture(steps.source or self, layout=layout, mode=mode, seed=seed, **opts)

    def _repr_latex_(self):
        return "$$" + self.render("latex-inline") + "$$"

    def _repr_markdown_(self):
        return self.render("markdown")

    def __repr__(self):
        """One line: f and its gradients, short (``print(d)`` gives them whole, with the steps).

        >>> import sympy as sp, symgrad as sg
        >>> x, y, z = sp.symbols('x y z')
        >>> sg.derive((x + y) * z, [x, y, z])
        <Derivation of f = z*(x + y): ∂f/∂x = z, ∂f/∂y = z, ∂f/∂z = x + y (print() it for the steps)>
        """
        from .display import short
        grads = []
        for w, g in zip(self.wrt_vars, _flat(self.gradients)):
            name = self.ir.producer[w.id].params[0]
            grads.append(f"∂f/∂{short(name, 20)} = " + (short(g, 40) if _small(g) else "(long)"))
        more = f" and {len(grads) - 4} more" if len(grads) > 4 else ""
        return (f"<Derivation of f = {short(self.f, 60)}: {', '.join(grads[:4])}{more} "
                f"(print() it for the steps)>")

    @in_affine_order
    def __str__(self):
        """f and its gradients, then the steps; the summary speaks as the steps do (the output's
        name, ``given`` applied, the same printing)."""
        from .render import show, visible          # a symbol's name may hold control characters
        try:
            steps = self.steps
            text = self.render("unicode")
        except Exception as e:  # the summary below must print even if a teaching view cannot
            lines = [f"f = {visible(str(self.f))}"]
            for w, g in zip(self.wrt_vars, _flat(self.gradients)):
                lines.append(visible(f"∂f/∂{self.ir.producer[w.id].params[0]} = "
                                     f"{g if _small(g) else '(a long expression)'}"))
            return "\n".join(lines) + f"\n\n(steps unavailable: {e})"
        from .render import _grad_sym
        from .steps import _given
        src = steps.source or self
        out = show(steps.out, "unicode")
        lines = [f"{out} = {show(steps.f, 'unicode')}"]
        for (w, e, _), g in zip(steps.gradients, _flat(src.gradients)):
            g = _given(g, steps.given)
            # the Gradient section's closed form in the user's symbols, as the steps write it
            # (softmax(W₂·relu(W₁·x + b₁) + b₂) − one_hot(1), x₀·σ(s)·(1 − σ(s)); not [[0], [−1], [0]]
            # + softmax(…), nor exp(−w₂ − …)/(1 + exp(…))²); sg.grad's where it has names no view
            # above defines; a deep network's gradient is long: the steps below say it better
            mine = _in_user_symbols(e, steps, self.f)
            body = (show(mine, "unicode") if mine is not None else show(g, "unicode") if _small(g)
                    else "(a long expression; the steps below build it)")
            lines.append(f"{show(_grad_sym(steps, w), 'unicode')} = {body}")
        return "\n".join(lines) + "\n\n" + text


def _in_user_symbols(e, steps, f):
    """``e`` (a closed form of the Gradient section) with the forward pass's names put back in
    until only f's own symbols are left; None where that fails or is long (past 100 characters)."""
    import sympy as sp
    if not isinstance(e, sp.Basic):
        return None
    from .cross_entropy_header import definitions_put_in
    e = definitions_put_in(e, {sym: ex for sym, ex, _ in steps.definitions if ex is not None})
    if e is None:        # a display form SymPy cannot rebuild: sg.grad's form instead
        return None
    e = _products_opened(e)             # 2·W·x·xᵀ, as the notes write it, not 2·(W·x)·xᵀ
    e = _variances_back(e, f)           # x.var(axis=0), as the header writes it
    from .render import show
    if not e.free_symbols <= f.free_symbols or not _small(e, 200) or len(show(e, "unicode")) > 100:
        return None
    return e


def _variances_back(e, f):
    """``e`` with each of f's variances put back where the forward pass's lowering of it stands:
    ((x − x.mean(axis=0))²).mean(axis=0) is x.var(axis=0), as the header (f itself) prints it."""
    import sympy as sp
    from ..frontend.tensor_reduce import Variance
    back = {}
    for v in sp.preorder_traversal(f):
        if isinstance(v, Variance) and not v.keepdims and v.correction == 0:
            x, axis = v.x, (v.axes[0] if len(v.axes) == 1 else v.axes)
            try:
                back[((x - x.mean(axis=axis)) ** 2).mean(axis=axis)] = v
            except Exception:  # noqa: BLE001 - a variance this form cannot rebuild stays written out
                continue
    return e.xreplace(back) if back else e


def _products_opened(e):
    """A matrix product with a product inside opened (the product is associative): q·xᵀ with
    q = W·x put in is W·x·xᵀ; scalar factors first."""
    import sympy as sp

    def opened(m):
        args = [b for a in m.args for b in (a.args if isinstance(a, sp.MatMul) else (a,))]
        scalars = [a for a in args if not isinstance(a, sp.MatrixExpr)]
        return sp.MatMul(sp.Mul(*scalars), *[a for a in args if isinstance(a, sp.MatrixExpr)]) \
            if scalars else sp.MatMul(*args)
    return e.replace(lambda m: isinstance(m, sp.MatMul) and any(isinstance(a, sp.MatMul) for a in m.args), opened)


def _small(e, limit: int = 40) -> bool:
    """True when the expression tree of ``e`` has at most ``limit`` nodes (counted lazily)."""
    import sympy as sp
    if not isinstance(e, sp.Basic):
        return True
    for k, _ in enumerate(sp.preorder_traversal(e)):
        if k > limit:
            return False
    return True


def _flat(x):
    if isinstance(x, (list, tuple)):
        for y in x:
            yield from _flat(y)
    else:
        yield x


def _masks_given(f, at) -> None:
    """A point for a layer with dropout needs its mask: say so by the mask's name, with what it holds
    (the evaluator would say only "no value given for 'dropout_mask_0'")."""
    from ..frontend.masks import masks_in
    given = {str(k) for k in at}
    for m in masks_in(f):
        if m.name not in given:
            shape = "×".join(str(d) for d in getattr(m, "shape", ())) or "a number"
            raise ArgumentError(
                f"f has sg.dropout(·, p={m.p:g}): at= needs its mask too, under the name {m.name!r} — "
                f"the dropped entries 0 and the kept ones 1/(1 − p) = {1 / (1 - m.p):g}, as cs231n's "
                f"dropout_forward caches it ({shape}, the shape of the value dropped); "
                f"e.g. at={{..., {m.name!r}: (np.random.rand(...) >= p) / (1 - p)}}")
