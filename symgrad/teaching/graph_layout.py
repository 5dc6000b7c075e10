"""Laying the graph picture out on a 16:9 slide: left to right, top to bottom, or wrapped into rows.

`symgrad.teaching.graph_picture` describes the picture as boxes (`Box`: a node or an edge label, with
the size its text will take) and arrows (`Arrow`); `arrange` turns them into a ``graphviz.Digraph``.

Graphviz's ``dot`` puts every operation one column (rank) further right than its inputs, so a deep
network drawn left to right is one row thousands of points wide. ``layout="wrapped"`` cuts the ranks
into rows of at most `ROW_WIDTH` points, as text wraps: a value that flows into a later row leaves
its row through a dashed connector circle bearing its name and enters the next row through another.
Each row is a cluster; dot stacks clusters declared later above earlier ones, so the rows are
declared last to first to read from the top down.

>>> boxes = [Box("a", "a", 20, kind="leaf"), Box("b", "exp", 30), Box("c", "f", 20, kind="out")]
>>> g = arrange(boxes, [Arrow("a", "b"), Arrow("b", "c")], "wrapped")
>>> "rankdir=LR" in g.source
True
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..errors import ArgumentError

MAX_WIDTH = 1100         # points: 1467 px at 96 dpi, inside a 1600 px slide
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


@dataclass
class Arrow:
    """An edge: its ends, its HTML label (or None), the label's estimated width, extra attributes."""
    src: str
    dst: str
    label: str | None = None
    width: float = 0.0
    attrs: dict = field(default_factory=dict)


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
    for b in boxes:                    # a leaf sits in the row of its first consumer
        if b.kind == "leaf":
            cons = [rows[a.dst] for a in arrows if a.src == b.id]
            if cons:
                rows[b.id] = min(cons)
    # rows only ever flow forward, renumbered without gaps
    order = {r: k for k, r in enumerate(sorted(set(rows.values())))}
    return {k: order[r] for k, r in rows.items()}


def _draw(boxes, arrows, layout, legend, rows=None):
    import graphviz
    dot = graphviz.Digraph("derivation", graph_attr=dict(
        rankdir="TB" if layout == "TB" else "LR", fontname=FONT, nodesep="0.25",
        ranksep="0.3" if layout != "TB" else "0.35", newrank="true"),
        node_attr=dict(fontname=FONT, fontsize="14", margin="0.08,0.04"),
        edge_attr=dict(fontname=FONT, fontsize="12", arrowsize="0.7"))
    if legend is not None:
        dot.node("legend", label=f"<{legend}>", shape="note", fontsize="10")
    if layout != "wrapped":
        for b in boxes:
            dot.node(b.id, label=f"<{b.label}>", **b.attrs)
        for a in arrows:
            _edge(dot, a.src, a.dst, a)
        return dot
    label_of = {b.id: b for b in boxes}
    inside: dict[int, list] = {}
    for b in boxes:
        inside.setdefault(rows[b.id], []).append(("node", b))
    outs: set = set()
    for a in arrows:
        r0, r1 = rows[a.src], rows[a.dst]
        if r0 == r1:
            inside[r0].append(("edge", a))
            continue
        # the value leaves its row through one connector and enters row r1 through another
        name = label_of[a.src].name
        c_out, c_in = f"c{a.src}_out", f"c{a.src}_{r1}"
        if c_out not in outs:
            outs.add(c_out)
            inside[r0].append(("conn", c_out, name))
            inside[r0].append(("edge", Arrow(a.src, c_out, attrs=dict(style="dashed"))))
        if not any(x[0] == "conn" and x[1] == c_in for x in inside[r1]):
            inside[r1].append(("conn", c_in, name))
        inside[r1].append(("edge", Arrow(c_in, a.dst, a.label, a.width, a.attrs)))
    for r in sorted(inside, reverse=True):     # dot stacks later clusters on top: declare bottom-up
        with dot.subgraph(name=f"cluster_row{r}") as sub:
            sub.attr(style="invis", margin="4")
            for item in inside[r]:
                if item[0] == "node":
                    b = item[1]
                    sub.node(b.id, label=f"<{b.label}>", **b.attrs)
                elif item[0] == "conn":
                    sub.node(item[1], label=f"<{item[2]}>", shape="circle", style="dashed", fontsize="11",
                             margin="0.02", color="#7f8c8d", fontcolor="#2e4053")
                else:
                    a = item[1]
                    _edge(sub, a.src, a.dst, a)
    return dot


def _edge(dot, src, dst, a: Arrow):
    attrs = dict(a.attrs)
    if a.label is not None:
        attrs["label"] = f"<{a.label}>"
    dot.edge(src, dst, **attrs)
