"""Read the numbers back off a picture's DOT source: for each edge, (source name, value, gradient)."""
import re


def node_names(source: str) -> dict:
    return {m.group(1): m.group(2) for m in re.finditer(r"^\s*(\w+) \[label=<<b>(.*?)</b>", source, re.M)}


def edges(source: str) -> list:
    """[(source node's name or the edge's own name, forward value, gradient)] in DOT order."""
    names = node_names(source)
    out = []
    for m in re.finditer(r"^\s*(\w+) -> (\w+) \[label=<(.*)> ?", source, re.M):
        src, dst, label = m.groups()
        own = re.match(r"([^<]+)<br/>", label)
        fv = re.search(r'<font color="#1e8449">(.*?)</font>', label).group(1)
        gv = re.search(r'<font color="#c0392b">(.*?)</font>', label)
        out.append((own.group(1) if own else names.get(src, src), fv, gv.group(1) if gv else None, dst))
    return out
