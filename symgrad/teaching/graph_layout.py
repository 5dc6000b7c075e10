"""Laying the graph picture out on a 16:9 slide: left to right, top to bottom, or wrapped into rows.

`symgrad.teaching.graph_picture` describes the picture as boxes (`Box`: a node, with the width its
text will take) and arrows (`Arrow`: an edge with its label's cells above and below the line);
`arrange` turns them into a ``graphviz.Digraph``.

Graphviz's ``dot`` puts every operation one column (rank) further right than its inputs, so a deep
network drawn left to right is one row thousands of points wide. Wrapping cuts that row where dot
put its columns into rows as text wraps: a value that flows into a later row leaves its row through
a dashed connector circle bearing its name and enters the next row through another. Each row is
then a graph of its own, and dot's ``pack`` stacks them in one column (``packmode=array_uct1``:
in the order declared, from the bottom, left-aligned; so the rows are declared last to first).
Packed rows are laid out independently — as clusters they would share their columns, every row as
wide as the widest at each column — but ``pack`` drops edge labels, so in the left-to-right layouts
each edge runs through a small label node instead: the value above the line, the gradient below.
(``newrank`` with ``pack`` crashes Graphviz 2.43, so it is not used.)

>>> boxes = [Box("a", "a", 20, kind="leaf"), Box("b", "exp", 30), Box("c", "f", 20, kind="out")]
>>> g = arrange(boxes, [Arrow("a", "b"), Arrow("b", "c")], "wrapped")
>>> "rankdir=LR" in g.source
True
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..errors import ArgumentError

MAX_WIDTH = 1170         # points: 1560 px at 96 dpi, inside a 1600 px slide
ROW_WIDTH = 950          # points a row may take (a 16:9 slide at 1600 px is 1200 pt; labels overrun)
RANK_GAP = 30            # points dot adds per rank (ranksep plus the node's margins)
LAYOUTS = {"auto": "auto", "wrapped": "wrapped", "LR": "LR", "left-to-right": "LR", "TB": "TB",
           "top-to-bottom": "TB"}
FONT = "Helvetica"


@dataclass
class Box:
    """A node of the picture: its id, its HTML label (without the outer <>), its estimated width
    in points, its kind ("leaf", "op" or "out") and extra graphviz attributes."""
    id: str
    label: str
    width: float
    kind: str = "op"
    attrs: dict = field(default_factory=dict)
    name: str = ""          # the value's name (HTML), shown on connectors when a row wraps
    with_consumer: bool = False     # an operation of leaves drawn in its consumer's row (an RNN's W_xh·xₜ)


@dataclass
class Arrow:
    """An edge: its ends, the HTML cells of its label above the line (the value) and below it
    (the gradient or tangent), the label's estimated width, extra graphviz attributes."""
    src: str
    dst: str
    above: list = field(default_factory=list)
    below: list = field(default_factory=list)
    width: float = 0.0
    attrs: dict = field(default_factory=dict)

    @property
    def label(self) -> str | None:
        """The label as one HTML table, for a layout that draws labels beside the edge."""
        cells = self.above + self.below
        if not cells:
            return None
        rows = "".join(f"<tr><td>{c}</td></tr>" for c in cells)
        return f'<table border="0" cellborder="0" cellspacing="2" cellpadding="0">{rows}</table>'

    def wire(self, color: str) -> str:
        """The label as a table the edge runs through: value above the line, gradient below."""
        rows = "".join(f"<tr><td>{c}</td></tr>" for c in self.above)
        rows += (f'<tr><td port="m" height="1" cellpadding="0" border="1" sides="B" '
                 f'color="{color}"></td></tr>')
        rows += "".join(f"<tr><td>{c}</td></tr>" for c in self.below)
        return f'<table border="0" cellborder="0" cellspacing="2" cellpadding="0">{rows}</table>'


def layout_name(layout) -> str:
    """The canonical name of ``layout`` ("auto", "LR", "TB" or "wrapped").

    >>> layout_name("left-to-right"), layout_name("wrapped")
    ('LR', 'wrapped')
    """
    if not isinstance(layout, str) or layout not in LAYOUTS:
        raise ArgumentError(f"layout must be one of {', '.join(repr(k) for k in LAYOUTS)}; got {layout!r}")
    return LAYOUTS[layout]


def depths(boxes, arrows) -> dict:
    """The column of each box: operations one further than their deepest input; leaves one before
    their first consumer (where dot puts them, to keep edges short)."""
    preds: dict[str, list] = {b.id: [] for b in boxes}
    succs: dict[str, list] = {b.id: [] for b in boxes}
    for a in arrows:
        preds[a.dst].append(a.src)
        succs[a.src].append(a.dst)
    depth: dict[str, int] = {}
    for b in boxes:                             # boxes come in topological order
        depth[b.id] = 1 + max((depth[p] for p in preds[b.id]), default=-1)
    for b in boxes:
        if not preds[b.id] and succs[b.id]:
            depth[b.id] = max(0, min(depth[s] for s in succs[b.id]) - 1)
    return depth


def columns(boxes, arrows) -> tuple:
    """(depth of each box, the estimated width of each column in points). A column's width is its
    widest box plus the widest label on the edges entering it (dot gives labels a column of their
    own)."""
    depth = depths(boxes, arrows)
    width: dict[int, float] = {}
    for b in boxes:
        width[depth[b.id]] = max(width.get(depth[b.id], 0.0), b.width + RANK_GAP)
    for a in arrows:
        k = -depth[a.dst] - 1                  # the label column before the edge's head
        width[k] = max(width.get(k, 0.0), a.width + RANK_GAP)
    n = max(depth.values(), default=0) + 1
    return depth, [width.get(d, 0.0) + width.get(-d - 1, 0.0) for d in range(n)]


CONNECTOR = 60.0         # points a wrapped row spends on the connectors it starts with


def _cut(cols, limit):
    """Greedy rows of columns, each at most ``limit`` wide (a column wider than that alone)."""
    row_of, row, used = [], 0, 0.0
    for w in cols:
        if used and used + w > limit:
            row, used = row + 1, CONNECTOR
        row_of.append(row)
        used += w
    return row_of


def rows_of(boxes, arrows, budget: float = ROW_WIDTH) -> dict:
    """Box id -> row: the columns cut into as few rows of at most ``budget`` points as they need,
    the rows about equally wide (the narrowest widest row: no row left with one operation)."""
    depth, cols = columns(boxes, arrows)
    n_rows = _cut(cols, budget)[-1] + 1 if cols else 1
    lo, hi = max(cols, default=0.0), max(budget, max(cols, default=0.0))
    for _ in range(30):                        # bisect the limit that still gives n_rows rows
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if _cut(cols, mid)[-1] + 1 <= n_rows else (mid, hi)
    row_of_depth = _cut(cols, hi) if cols else []
    return _attach(boxes, arrows, {b.id: row_of_depth[depth[b.id]] for b in boxes})


def total_width(boxes, arrows) -> float:
    """The estimated width of the whole picture drawn in one row."""
    return sum(columns(boxes, arrows)[1])


def arrange(boxes, arrows, layout: str = "auto", legend: str | None = None):
    """The ``graphviz.Digraph`` of ``boxes`` and ``arrows`` in ``layout`` ("auto": one row left to
    right when it fits `MAX_WIDTH`, else wrapped).

    Wrapping cuts the one-row picture where dot put its columns: the row picture is drawn and
    measured (Graphviz's ``dot``), cut into as many rows as its width needs, and cut into one more
    until the wrapped picture fits. Without ``dot`` the widths are estimated from the labels."""
    layout = layout_name(layout)
    if layout in ("LR", "TB"):
        return _draw(boxes, arrows, layout, legend)
    one_row = _draw(boxes, arrows, "LR", legend)
    placed = positions(one_row)
    if placed is None:                         # no dot program: cut by the estimated widths
        if layout == "auto" and total_width(boxes, arrows) <= ROW_WIDTH:
            return one_row
        return _draw(boxes, arrows, "wrapped", legend, rows_of(boxes, arrows))
    width, x = placed
    if layout == "auto" and width <= MAX_WIDTH:
        return one_row
    n = max(2, math.ceil(width / (0.9 * MAX_WIDTH)))
    best = None
    for _ in range(5):
        dot = _draw(boxes, arrows, "wrapped", legend, _rows_by_x(boxes, arrows, x, width, n))
        w = positions(dot)
        if w is None or w[0] <= MAX_WIDTH:
            return dot
        if best is None or w[0] < best[0]:
            best = (w[0], dot)
        n += 1
    return best[1]                             # none fits: the narrowest


def positions(dot):
    """(width in points, {node id: x of its centre}) of the drawn picture; None without ``dot``."""
    try:
        plain = dot.pipe(format="plain").decode("utf-8", "replace")
    except Exception:     # graphviz.ExecutableNotFound, or dot failing on this picture
        return None
    width, x = None, {}
    for line in plain.splitlines():
        f = line.split()
        if f[:1] == ["graph"] and len(f) >= 4:
            width = float(f[2]) * 72.0
        elif f[:1] == ["node"] and len(f) >= 3:
            x[f[1].strip('"')] = float(f[2]) * 72.0
    return None if width is None else (width, x)


def _rows_by_x(boxes, arrows, x, width, n) -> dict:
    """Box id -> row: the one-row picture cut into ``n`` bands of equal width; leaves go with their
    first consumer, the output with the operation that makes it."""
    rows = {b.id: min(n - 1, int(x.get(b.id, 0.0) * n / max(width, 1.0))) for b in boxes}
    return _attach(boxes, arrows, rows)


def _attach(boxes, arrows, rows) -> dict:
    kind = {b.id: b.kind for b in boxes}
    for a in arrows:                   # the output's box stays with the operation that makes it
        if kind.get(a.dst) == "out":
            rows[a.dst] = rows[a.src]
    # an operation of leaves only, used once (an RNN's W_xh·x₃), sits in its consumer's row when
    # its box asks to: the time step that uses it, not the first row with every step's input product
    preds: dict = {}
    for a in arrows:
        preds.setdefault(a.dst, []).append(a.src)
    for b in boxes:
        cons = [a.dst for a in arrows if a.src == b.id]
        if (b.with_consumer and b.kind == "op" and len(cons) == 1 and kind.get(cons[0]) == "op" and preds.get(b.id)
                and all(kind.get(p) == "leaf" for p in preds[b.id])):
            rows[b.id] = max(rows[b.id], rows[cons[0]])
    for b in boxes:                    # a leaf sits in the row of its first consumer
        if b.kind == "leaf":
            cons = [rows[a.dst] for a in arrows if a.src == b.id]
            if cons:
                rows[b.id] = min(cons)
    # rows only ever flow forward, renumbered without gaps
    order = {r: k for k, r in enumerate(sorted(set(rows.values())))}
    return {k: order[r] for k, r in rows.items()}


def _draw(boxes, arrows, layout, legend, rows=None):
    """The Digraph: "TB" with the labels beside the edges; "LR" and "wrapped" with each edge
    running through its label (value above the line, gradient below). "wrapped" makes each row a
    graph of its own (connectors in place of the edges between rows) and lets dot pack the rows
    one under the other, so each row is as wide as it needs, not as its widest neighbour."""
    import graphviz
    attrs = dict(rankdir="TB" if layout == "TB" else "LR", fontname=FONT, nodesep="0.12",
                 ranksep="0.35" if layout == "TB" else "0.2")
    if layout == "wrapped":
        attrs.update(pack="true", packmode="array_uct1")   # one column, in declaration order, left-aligned
    dot = graphviz.Digraph("derivation", graph_attr=attrs,
                           node_attr=dict(fontname=FONT, fontsize="14", margin="0.08,0.04"),
                           edge_attr=dict(fontname=FONT, fontsize="12", arrowsize="0.7"))
    if rows is None:
        rows = {b.id: 0 for b in boxes}
    n = max(rows.values(), default=0) + 1
    nodes: dict[int, list] = {r: [] for r in range(n)}     # (id, attrs) per row
    edges: dict[int, list] = {r: [] for r in range(n)}     # (src, dst, attrs) per row
    for b in boxes:
        nodes[rows[b.id]].append((b.id, dict(label=f"<{b.label}>", **b.attrs)))
    by_id = {b.id: b for b in boxes}
    labels = 0
    for a in arrows:
        r0, r1 = rows[a.src], rows[a.dst]
        src = a.src
        if r0 != r1:
            # the value leaves its row through a connector and enters row r1 through another
            c_out, c_in = f"c{a.src}_out", f"c{a.src}_{r1}"
            look = _connector(by_id[a.src].name)
            if not any(i == c_out for i, _ in nodes[r0]):
                nodes[r0].append((c_out, dict(label=f"<{by_id[a.src].name}>", **look)))
                edges[r0].append((a.src, c_out, dict(style="dashed")))
            if not any(i == c_in for i, _ in nodes[r1]):
                nodes[r1].append((c_in, dict(label=f"<{by_id[a.src].name}>", **look)))
            src = c_in
        if layout == "TB" or not (a.above or a.below):
            edges[r1].append((src, a.dst, dict(a.attrs, **({"label": f"<{a.label}>"} if a.label else {}))))
            continue
        labels += 1
        lab = f"l{labels}"
        color = a.attrs.get("color", "black")
        nodes[r1].append((lab, dict(label=f"<{a.wire(color)}>", shape="plaintext", margin="0")))
        plain = {k: v for k, v in a.attrs.items() if k in ("color", "penwidth")}
        edges[r1].append((src, f"{lab}:m:w", dict(plain, arrowhead="none")))
        edges[r1].append((f"{lab}:m:e", a.dst, dict(a.attrs)))
    order = range(n - 1, -1, -1) if layout == "wrapped" else range(n)   # pack stacks bottom-up
    if legend is not None:
        dot.node("legend", label=f"<{legend}>", shape="note", fontsize="10")
    for r in order:
        for i, at in nodes[r]:
            dot.node(i, **at)
        for src, dst, at in edges[r]:
            dot.edge(src, dst, **at)
        if layout == "wrapped":
            # one connected piece per row, so that pack keeps the row together: an invisible edge
            # joins each piece the row's own edges leave apart to the first (only those: dot routes
            # invisible edges too, and a long detour widens the row's box, a blank band in the picture)
            for u, v in _joins([i for i, _ in nodes[r]], edges[r]):
                dot.edge(u, v, style="invis", constraint="false")
    return dot


def _joins(ids, edges) -> list:
    """(u, v) pairs that join the pieces of one row (its nodes ``ids``, its ``edges``) into one."""
    root = {i: i for i in ids}

    def find(i):
        while root[i] != i:
            root[i] = root[root[i]]
            i = root[i]
        return i
    for src, dst, _ in edges:
        a, b = find(src.split(":")[0]), find(dst.split(":")[0])
        root[a] = b
    out = []
    for i in ids[1:]:
        if find(i) != find(ids[0]):
            out.append((ids[0], i))
            root[find(i)] = find(ids[0])
    return out


_CONNECTOR = dict(shape="circle", style="dashed", fontsize="11", margin="0.02", color="#7f8c8d",
                  fontcolor="#2e4053")


def _connector(name: str) -> dict:
    """A connector's look: a dashed circle around a short name (u₂, h); an ellipse around a
    longer one (y_pred), which a circle sized by dot's estimate of the text cut through."""
    import html
    return _CONNECTOR if len(html.unescape(name)) <= 3 else dict(_CONNECTOR, shape="ellipse", margin="0.06,0.02")
