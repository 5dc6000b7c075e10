"""The functions people declare networks with, as SymPy objects.

Elementwise activations (`sigmoid`, `relu`, `leaky_relu`, `softplus`) are SymPy ``Function``
subclasses whose ``fdiff`` is the textbook derivative, so SymPy itself prints σ'(z) as σ(z)(1 − σ(z)).
Given a ``MatrixExpr`` they apply elementwise and return a ``MatrixExpr``; given an ``sg.tensor``
expression, a tensor expression (with ``.shape`` and the NumPy methods).

Vector functions of a column vector (`softmax`, `log_softmax`, `logsumexp`) and the reduction `sum`
are small SymPy classes of their own; the losses (`mse`, `l1`, `hinge`, `bce`, `cross_entropy`,
`kl_div`) are compositions of these and return a scalar.

This module gathers them from the modules by topic: `elementwise_map` (`Map`, `elementwise`, tanh,
exp, ...), `activations`, `matrix_functions` (sum, softmax, ...), `xlogy` and `matrix_losses`.

>>> import sympy as sp, symgrad as sg
>>> z = sp.Symbol('z')
>>> sp.diff(sg.sigmoid(z), z)
(1 - sigmoid(z))*sigmoid(z)
"""
from __future__ import annotations

# The functions by topic; this module gathers them (import from here).
from .elementwise_map import (  # noqa: F401
    abs, _d, elementwise, Entry, _entrywise_text, erf, exp, _LATEX_STANDIN, log, Map, _mapping, _on_tensor,
    _power, _printed, _PRINTED, sqrt, _t, tanh, _TENSOR_HOOK, _tensor_inside,
    sin, cos, tan, sinh, cosh, asin, acos, atan)
from .activations import (  # noqa: F401
    _Activation, _ACTIVATION_NAMES, ACTIVATIONS, clip, clip_derivative, elu, gelu, _GELU_C, gelu_tanh,
    hardtanh, leaky_relu, matrix_function_message, MATRIX_SPELLINGS, relu, selu, SELU_ALPHA, SELU_SCALE,
    sigmoid, silu, softplus, softsign, _SQRT2, _SQRT_2_OVER_PI)
from .matrix_functions import (  # noqa: F401
    _explicit, _hadamard, _is_matrix, log_softmax, LogSoftmax, logsumexp, LogSumExp, _matrix_arg, _pair,
    softmax, Softmax, sum, _TEXT_IS_SCALAR, Total, _vector_arg, _VectorFunction)
from .xlogy import _sigmoid_argument, xdivy, XLogY, xlogy  # noqa: F401
from . import entrywise_spellings  # noqa: F401 - sp.Abs(W*x), sp.sqrt(W*x): errors naming sg.abs, sg.sqrt
from .matrix_losses import bce, cross_entropy, Gather, gather, hinge, kl_div, l1, mse, TENSOR_GATHER  # noqa: F401

__all__ = [
    "sigmoid", "relu", "leaky_relu", "softplus",
    "softmax", "log_softmax", "logsumexp", "sum", "Softmax", "LogSoftmax", "LogSumExp", "Total",
    "gather", "Gather",
    "mse", "l1", "hinge", "bce", "cross_entropy", "kl_div", "elementwise", "Map",
]
