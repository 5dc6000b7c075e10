"""The errors of `sg.check_backward`, in their own module so that backward.py and the torch Function
adapter (torch_function.py), which it imports, both import them and neither imports the other."""
from __future__ import annotations

from ..errors import SymgradError


class BackwardError(SymgradError, ValueError):
    """The user's ``backward`` raised, or returned something that cannot be the gradients (the
    wrong number of them, a non-finite value, a key that is not a wrt symbol)."""


class FunctionForwardError(SymgradError, ValueError):
    """A torch Function's forward does not compute ``out`` at the drawn values: its backward is not
    checked against a function its forward does not compute."""


__all__ = ["BackwardError", "FunctionForwardError"]
