"""The refusal of a NumPy array inside a tensor declaration (its own module: `symgrad.frontend.tensor`
raises it, and `symgrad.frontend.tensor_tri` names the spelling that works).

>>> import numpy as np
>>> print(numpy_array_refusal(np.ones((4, 4)), "sg.where"))   # doctest: +ELLIPSIS
a NumPy array of shape (4, 4) in sg.where: a declaration is symbolic ... sg.tril(sg.ones((T, T))) ...
"""
from __future__ import annotations

import numpy as np
from sympy import NDimArray

from ..errors import UnsupportedError

__all__ = ["numpy_array_refusal"]


def numpy_array_refusal(arr, where: str) -> UnsupportedError:
    """The error for a NumPy array met in a declaration (``s + (1 - mask) * -1e9``,
    ``sg.where(mask == 0, ...)`` with ``mask = np.tril(np.ones((T, T)))``), or a SymPy one
    (``x * sp.Array([1, 2, 3])``, which failed in lowering: "[1, 2, 3] is not an expression")."""
    kind, shape = ("SymPy", tuple(arr.shape)) if isinstance(arr, NDimArray) else ("NumPy", np.shape(arr))
    return UnsupportedError(
        f"a {kind} array of shape {shape} in {where}: a declaration is symbolic and takes no constant "
        f"arrays. A causal mask is sg.tril(sg.ones((T, T))) (torch.tril(torch.ones(T, T))), e.g. "
        f"sg.where(sg.tril(sg.ones((T, T))) > 0, scores, float('-inf')); any other array: declare it "
        f"as a tensor (sg.tensor(name, {shape})) and give its value with the other inputs")
