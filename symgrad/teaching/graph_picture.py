"""The computational graph as a picture, in the slides' convention.

One box per value the user named (inputs, parameters, the output), one circle per operation; each
edge carries the value flowing forward above (green) and the gradient flowing back below (red).
A value used by several operations (fan-out) has one edge per use, each with its own share of the
gradient, and its node says that the shares add up: ∂L/∂e = Σ.

>>> import sympy as sp, symgrad as sg
>>> x, y, z = sp.symbols('x y z')
>>> dot = sg.derive((x + y) * z, [x, y, z]).graph(at={x: -2, y: 5, z: -4})
>>> type(dot).__name__, 'color="red"' in dot.source or '#c0392b' in dot.source
('Digraph', True)
"""
from __future__ import annotations

import html
from pathlib import Path

import sympy as sp

from ..core import rules as R
from ..errors import SymgradError
from ..frontend.functions import sigmoid

GREEN, RED, BLUE = "#1e8449", "#c0392b", "#2e4053"


def op_label(eqn) -> str:
    """A short name for an operation: +, ×, exp, σ, 1/x, x², ·, Σ ...

    >>> import sympy as sp, symgrad as sg
    >>> x = sp.Symbol('x')
    >>> d = sg.derive(sg.sigmoid(x ** 2), x)
    >>> [op_label(e) for e in d.ir.ancestors([d.output]) if not e.prim.leaf]
    ['x²', 'σ']
    """
    p = eqn.prim
    if p is R.matmul_p:
        return "· (matmul)"
    if p is R.transpose_p:
        return "ᵀ"
    if p is R.sum_p:
        return "Σ"
    if p is R.logsumexp_p:
        return "logsumexp"
    if p is R.broadcast_p:
        return "broadcast"
    body = eqn.params[0]
    n = len(eqn.inputs)
    phs = R.placeholders(n)
    if body == sp.Add(*phs):
        return "+"
    if body == sp.Mul(*phs):
        return "×" if eqn.out.shape == () else "⊙"
    if n == 1:
        a = phs[0]
        c = sp.simplify(body - a)
        if c.is_number:
            return f"+{c}" if c > 0 else f"−{-c}"
        k = sp.simplify(body / a)
        if k.is_number:
            return f"×({k})" if k < 0 else f"×{k}"
        if body == 1 / a:
            return "1/x"
        if body.is_Pow and body.base == a and body.exp.is_number:
            from .render import _SUPER
            n = body.exp
            return "x" + (str(n).translate(_SUPER)
                          if n.is_Integer and n >= 0 else f"^{n}")
        if isinstance(body, sp.Function) and body.args == (a,):
            return "σ" if body.func is sigmoid else body.func.__name__
    names = dict(zip(phs, sp.symbols("x y z s t u v w")[:n])) if n <= 8 else {}
    return str(body.xreplace(names))


def picture(steps, d):
    """A ``graphviz.Digraph`` of the derivation ``d`` with the numbers of ``steps`` (see the module)."""
    try:
        import graphviz
    except ImportError as e:  # pragma: no cover - graphviz is a declared extra
        raise SymgradError("the graph picture needs the Python package graphviz "
                           "(pip install graphviz) and Debian's graphviz (apt-get install graphviz)") from e
    from .render import number, show
    nm, vals, spec = steps.naming, steps.values, steps.number_format
    g = d.ir
    have = bool(vals)
    grad_of = {}
    for s in steps.steps:
        for vid, sym in nm.disp.items():
            if sym == s.node and vid not in grad_of:
                grad_of[vid] = s
    dot = graphviz.Digraph("derivation", graph_attr=dict(rankdir="LR", fontname="Helvetica", nodesep="0.5",
                                                         ranksep="0.9"),
                           node_attr=dict(fontname="Helvetica"), edge_attr=dict(fontname="Helvetica"))

    def num(v):
        return number(v, "unicode", spec)

    def gnum(vid):
        s = grad_of.get(vid)
        if s is None:
            return None
        return num(s.value) if have and s.value is not None else show(s.lhs, "unicode")

    fwd = nm.fwd
    for e in fwd:
        vid = e.out.id
        if e.prim is R.const_p:
            continue
        uses = len(nm.consumers.get(vid, ()))
        fan = (f'<font point-size="10" color="{RED}">fan-out: ∂{_esc(show(steps.out, "unicode"))}/∂'
               f'{_esc(show(nm.disp[vid], "unicode"))} = Σ = {_esc(gnum(vid) or "")}</font>')
        if e.prim.leaf:
            lines = [f"<b>{_esc(show(nm.disp[vid], 'unicode'))}</b>"] + ([fan] if uses > 1 else [])
            dot.node(f"v{vid}", label=_html(lines), shape="box", style="rounded,filled", fillcolor="#eaf2f8")
            continue
        lines = [f"<b>{_esc(op_label(e))}</b>"]
        if uses > 1:
            lines.append(fan)
        dot.node(f"v{vid}", label=_html(lines), shape="ellipse", style="filled", fillcolor="#fdebd0")
    root = d.output.id
    dot.node("out", label=_html([f"<b>{_esc(show(nm.disp[root], 'unicode'))}</b>"]), shape="box",
             style="rounded,filled", fillcolor="#d5f5e3")
    # forward edges: value above, this edge's share of the gradient below
    share = {}
    for vid, lst in steps.contribs.items():
        for eqn, i, c in lst:
            share[(vid, eqn.out.id, i)] = vals.get(c.id) if have else None
    for e in fwd:
        if e.prim.leaf:
            continue
        for i, v in enumerate(e.inputs):
            if g.producer[v.id].prim is R.const_p:
                continue
            name = show(nm.disp[v.id], "unicode")
            fv = num(vals[v.id]) if have else name
            c = share.get((v.id, e.out.id, i))
            gv = num(c) if c is not None else (None if have else _share_symbol(nm, e, v))
            uses = len(nm.consumers.get(v.id, ()))
            head = "" if g.producer[v.id].prim.leaf else f"{_esc(name)}<br/>"
            label = head + f'<font color="{GREEN}">{_esc(fv)}</font>'
            if gv is not None:
                label += f'<br/><font color="{RED}">{_esc(gv)}</font>'
            dot.edge(f"v{v.id}", f"v{e.out.id}", label=f"<{label}>",
                     color=BLUE if uses > 1 else "black", penwidth="1.6" if uses > 1 else "1")
    fv = num(vals[root]) if have else show(nm.disp[root], "unicode")
    gv = num(1.0) if have else "1"
    dot.edge(f"v{root}", "out", label=f'<<font color="{GREEN}">{_esc(fv)}</font><br/><font color="{RED}">{_esc(gv)}</font>>')
    legend = (f'<<font color="{GREEN}">forward value (above)</font><br/>'
              f'<font color="{RED}">gradient ∂{_esc(show(nm.disp[root], "unicode"))}/∂· (below)</font>>')
    dot.node("legend", label=legend, shape="note", fontsize="10")
    return dot


def _share_symbol(nm, e, v):
    from .render import show
    from .notation import partial
    return show(partial(str(nm.disp[nm.owner(e.out.id)]), str(nm.disp[v.id])), "unicode")


def _esc(s) -> str:
    # control characters (a symbol may be named "a\nb") shown as their escapes, then HTML-escaped
    from .render import visible
    return html.escape(visible(str(s)), quote=False)


def _html(lines) -> str:
    return "<" + "<br/>".join(lines) + ">"


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
