"""Small text helpers the Triton kernel writers share: indentation, a var's name with its note, a
parameter's entry count."""
from __future__ import annotations

import math

from symgrad.compiling.compiler import safe_text


_I = "    "


def _numel(p) -> int:
    """Number of entries of a parameter."""
    from symgrad.compiling.compiler import _shape
    return int(math.prod(_shape(p)))        # a MatrixSymbol's, a tensor's (sg.tensor), 1 for a Symbol


def _ref(names: dict, v: int) -> str:
    """The host name of the tensor holding var ``v``."""
    return names.get(v, f"v{v}")


def _label(name: str, note) -> str:
    """``v6 = relu(W1*x + b1)``, ``x1, the input 't'``: a var's name with what it is."""
    if not note:
        return name
    return f"{name} {_clip(note)}" if note.startswith("= ") else f"{name}, {_clip(note)}"


def _clip(text: str, n: int = 70) -> str:
    text = safe_text(text)
    return text if len(text) <= n else text[:n - 3] + "..."
