"""Read a graph picture's DOT source back (symgrad/teaching/graph_picture.py): node names, and for
each edge (source name, forward value, gradient or tangent, target). A value drawn as a grid reads
back as "[[a, b], [c, d]]"; the connectors of a wrapped picture read as the value they carry."""
import re

GREEN, RED, PURPLE = "#1e8449", "#c0392b", "#7d3c98"
_NODE = re.compile(r"^\s*(\w+) \[label=<(.*)> ?(.*)\]$", re.M)
_EDGE = re.compile(r"^\s*([\w:]+) -> ([\w:]+) ?\[?(.*?)\]?$", re.M)


def _label(attrs: str) -> str:
    m = re.search(r"label=<(.*)>(?: |$)", attrs)
    return m.group(1) if m else ""


def _cells(table: str) -> list:
    """The rows of a value grid, each a list of its cells' text (the bracket cells are empty)."""
    rows = []
    for tr in re.findall(r"<tr>(.*?)</tr>", table):
        cells = [re.sub(r"<[^>]+>", "", c).replace("\u2009", "").strip()
                 for c in re.findall(r"<td[^>]*>(.*?)</td>", tr)]
        cells = [c for c in cells if c]
        if cells and not re.fullmatch(r"\d+×\d+", cells[0]):
            rows.append(cells)
    return rows


def colored(label: str, color: str) -> list:
    """The texts drawn in ``color`` in an HTML label: a grid as "[[a, b], [c, d]]"."""
    out = []
    for m in re.finditer(rf'<font color="{color}"[^>]*>', label):
        rest = label[m.end():]
        if rest.startswith("<table"):
            end = rest.index("</table>")
            out.append("[" + ", ".join("[" + ", ".join(r) + "]" for r in _cells(rest[:end])) + "]")
        else:
            out.append(re.sub(r"<[^>]+>", "", rest[:rest.index("</font>")]))
    return out


def node_labels(source: str) -> dict:
    """{node id: its HTML label} for the value and operation nodes (not connectors or the legend)."""
    return {m.group(1): m.group(2) for m in _NODE.finditer(source)
            if m.group(1) != "legend" and not re.fullmatch(r"c.*_\w+|l\d+", m.group(1))}


def node_names(source: str) -> dict:
    """{node id: the bold name or operation symbol it shows}."""
    out = {}
    for nid, label in node_labels(source).items():
        m = re.search(r"<b>(.*?)</b>", label)
        if m:
            out[nid] = m.group(1)
    return out


def fan_out_sums(source: str) -> dict:
    """{node name: the text after "Σ = " in its fan-out line} (a grid as "[[...]]")."""
    out = {}
    for nid, label in node_labels(source).items():
        if "fan-out" not in label:
            continue
        name = re.search(r"<b>(.*?)</b>", label).group(1)
        reds = colored(label, RED)
        text = "".join(reds)
        out[name] = text.split("Σ = ", 1)[1].strip() if "Σ = " in text else ""
    return out


def _value_edges(source: str) -> list:
    """[(source id, target id, label)]: an edge drawn through a label node (A -> l3:m:w and
    l3:m:e -> B, the label in l3) is put back together; a connector reads as its value's node."""
    wires = {m.group(1): m.group(2) for m in _NODE.finditer(source) if re.fullmatch(r"l\d+", m.group(1))}
    into, out_of, plain = {}, {}, []
    for m in _EDGE.finditer(source):
        src, dst, attrs = m.groups()
        src, dst = src.split(":")[0], dst.split(":")[0]
        if "style=invis" in attrs:
            continue
        if dst in wires:
            into[dst] = src
        elif src in wires:
            out_of[src] = (dst, attrs)
        else:
            plain.append((src, dst, _label(attrs)))
    joined = [(into[k], out_of[k][0], wires[k]) for k in sorted(out_of, key=lambda k: int(k[1:]))]
    out = []
    for src, dst, label in plain + joined:
        if src.startswith("c") and "_" in src:     # a connector c<node id>_<row>: that node's value
            src = src[1:].rsplit("_", 1)[0]
        out.append((src, dst, label))
    return out


def edges(source: str, back: str = RED) -> list:
    """[(source name or the edge's own name, forward value, gradient (or tangent: back=PURPLE),
    target id)], one per edge that carries a label."""
    names = node_names(source)
    out = []
    for src, dst, label in _value_edges(source):
        if not label:
            continue                                  # a row's exit to its connector
        own = re.search(r'<tr><td><font point-size="11">([^<]+)</font></td></tr>', label)   # the name row
        fv, gv = colored(label, GREEN), colored(label, back)
        out.append((own.group(1) if own else names.get(src, src), fv[0] if fv else None,
                    gv[0] if gv else None, dst))
    return out


def svg_size(svg: str) -> tuple:
    """(width, height) of a rendered SVG in pixels at 96 dpi (Graphviz writes points)."""
    m = re.search(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"', svg)
    return float(m.group(1)) * 96 / 72, float(m.group(2)) * 96 / 72
