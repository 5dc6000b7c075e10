"""Reading a text before it is built: its characters (NFKC names, no stray ASCII), its syntax tree
(Python's ``ast``, never evaluated), its size (`MAX_NODES`, `MAX_DEPTH`), and the declared symbols
by name.
"""
from __future__ import annotations

import ast
import re
import unicodedata
from functools import lru_cache
from typing import Mapping

import sympy as sp

from ..errors import ParseError, UnsafeInputError
from .parse_grammar import _ASCII_OK, MAX_BITS, MAX_CHARS, MAX_DEPTH, MAX_NODES, _TENSORS


def _show(text, limit=80) -> str:
    """The text in a message: repr'd (control characters escaped), cut at ``limit``."""
    s = str(text)
    return repr(s if len(s) <= limit else s[:limit] + "...")


@lru_cache(maxsize=1)
def _python_keywords():
    import keyword
    return frozenset(keyword.kwlist)


def _characters(text, what):
    """Refuse what is not text, too-long text, control and invisible characters, and look-alikes
    (characters Python would replace by their NFKC form: ``ｅｘｐ`` reads as ``exp``, ``x²`` as ``x2``)."""
    if not isinstance(text, str):
        raise UnsafeInputError(f"{what} must be text (a str), got {type(text).__name__}")
    if len(text) > MAX_CHARS:
        raise UnsafeInputError(f"{what} {_show(text, 20)} is {len(text)} characters long; at most "
                               f"{MAX_CHARS} are read")
    for ch in text:
        if ch in _ASCII_OK or ch.isascii() and ch.isalpha():
            continue
        cat = unicodedata.category(ch)
        code = f"U+{ord(ch):04X}"
        if ch.isascii() and cat[0] != "C":
            continue                           # other ASCII punctuation: the syntax decides
        if cat[0] == "C" or cat[0] == "Z":
            raise UnsafeInputError(f"{what} {_show(text)}: the character {ch!r} ({code}, "
                                   f"{unicodedata.name(ch, 'a control character')}) is not allowed")
        norm = unicodedata.normalize("NFKC", ch)
        if norm != ch:
            raise UnsafeInputError(f"{what} {_show(text)}: {ch!r} ({code}) is a look-alike of "
                                   f"{norm!r}; write {norm!r} itself")
        if cat[0] not in "LMN":
            raise UnsafeInputError(f"{what} {_show(text)}: the character {ch!r} ({code}) is not "
                                   f"allowed (names are letters and digits)")
    if unicodedata.normalize("NFKC", text) != text:     # a composition of allowed characters
        raise UnsafeInputError(f"{what} {_show(text)}: the text is not in NFKC normal form "
                               f"(write composed letters as one character)")


def _syntax(text, what):
    _characters(text, what)
    stripped = text.strip()
    if not stripped:
        raise ParseError(f"{what} is empty")
    try:
        tree = ast.parse(stripped, mode="eval")
    except SyntaxError as e:
        if "integer string conversion" in str(e.msg):   # Python's own 4300-digit limit on literals
            digits = max(re.findall(r"\d+", stripped), key=len)
            raise UnsafeInputError(f"{what} {_show(text)}: the number {_show(digits, 57)} is too large "
                                   f"({len(digits)} digits; integers have at most {MAX_BITS} bits)") from None
        bad = next((ch for ch in stripped if ch.isascii() and ch not in _ASCII_OK
                    and not ch.isalpha()), None)
        if bad is not None:
            kind = {"'": "string literals are", '"': "string literals are",
                    "\\": "escapes are", "^": "'^' is (write ** for a power)",
                    ":": "':' (slices, lambdas, :=) is", "#": "comments are"}
            raise UnsafeInputError(f"{what} {_show(text)}: the character {bad!r} is not allowed"
                                   + (f": {kind[bad]} not part of the grammar" if bad in kind else "")
                                   ) from None
        word = next((w for w in re.findall(r"[^\W\d]\w*", stripped) if w in _python_keywords()
                     and w not in ("True", "False")), None)
        if word is not None:
            raise UnsafeInputError(f"{what} {_show(text)}: {word!r} is a Python keyword and not "
                                   f"allowed ({word} is not part of the grammar, nor a name)") from None
        where = ""
        if e.offset and e.lineno:
            line = stripped.splitlines()[e.lineno - 1] if stripped.splitlines() else stripped
            where = f" at {line[e.offset - 1:e.offset + 9]!r}" if e.offset <= len(line) else " at the end"
        raise ParseError(f"cannot parse {what} {_show(text)}: {e.msg}{where}") from None
    except (RecursionError, MemoryError, ValueError, OverflowError) as e:
        raise UnsafeInputError(f"{what} {_show(text)}: too large or too deeply nested to read, "
                               f"from {stripped[:20]!r} on ({type(e).__name__})") from None
    if "#" in stripped:
        raise UnsafeInputError(f"{what} {_show(text)}: the character '#' is not allowed: comments "
                               f"are not part of the grammar")
    _size(tree, text, what)
    return tree, stripped


def _size(tree, text, what):
    """Count the nodes and the depth without recursion (the tree may be deep)."""
    stack, count = [(tree, 0)], 0
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise UnsafeInputError(f"{what} {_show(text)}: more than {MAX_NODES} syntax nodes, "
                                   f"at {_segment(text, node)!r}")
        if depth > MAX_DEPTH and not isinstance(node, ast.expr_context):   # named: not 'Load'
            raise UnsafeInputError(f"{what} {_show(text)}: nested more than {MAX_DEPTH} deep, at "
                                   f"{_segment(text, node)!r}")
        # a chain a + b - c + ... (or a * b / c ...) is left-nested in the tree, but it is built
        # without recursion (`_Builder.visit_BinOp`): its links do not count as nesting
        stack.extend((child, depth if _links(node, child) else depth + 1)
                     for child in ast.iter_child_nodes(node))


# The families of operators whose left-nested chains are built iteratively: + and -, * and /
_CHAIN = {ast.Add: 0, ast.Sub: 0, ast.Mult: 1, ast.Div: 1}


def _links(parent, child) -> bool:
    """Whether ``child`` is the left operand of ``parent`` in one chain (a + b + c: (a + b) of it)."""
    return (isinstance(parent, ast.BinOp) and child is parent.left and isinstance(child, ast.BinOp)
            and _CHAIN.get(type(child.op), -1) == _CHAIN.get(type(parent.op), -2))


def _segment(text, node, limit=30) -> str:
    s = ast.get_source_segment(text.strip(), node) or type(node).__name__
    return s if len(s) <= limit else s[:limit] + "..."


def _declared(symbols) -> dict:
    if isinstance(symbols, Mapping):
        items = dict(symbols)
    else:
        items = {}
        for s in symbols or ():
            if not isinstance(s, (sp.Symbol, sp.MatrixSymbol)) and not _is_tensor_symbol(s):
                continue
            items[s.name] = s
    # a declared tensor's symbolic sizes (N of (N, 3)) are declared too: x.reshape(N, -1) means them
    for s in list(items.values()):
        if _is_tensor_symbol(s):
            for d in s.shape:
                for n in getattr(d, "free_symbols", ()):
                    items.setdefault(n.name, n)
    return items


def _is_tensor_symbol(s) -> bool:
    cls = _TENSORS.get("cls")
    return cls is not None and isinstance(s, cls)
