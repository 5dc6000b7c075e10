"""Negative log-likelihood losses of regression, as ``torch.nn.functional`` writes them, composed of
``ewise`` and reductions (no rule of their own):

    sg.gaussian_nll_loss(input, target, var, full=False, eps=1e-6)   F.gaussian_nll_loss:
        ½(log v + (input − target)²/v) with v = max(var, eps), (+ ½ log 2π if full), then reduction=
    sg.poisson_nll_loss(input, target, log_input=True, full=False, eps=1e-8)   F.poisson_nll_loss:
        exp(input) − target·input (log_input), or input − target·log(input + eps); full adds
        Stirling's target·log target − target + ½ log(2π target) where target > 1

torch clamps the variance in place under ``no_grad``: the value is max(var, eps) but the gradient
passes to var as if unclamped. symgrad writes exactly that, var + stop_gradient(max(var, eps) − var).

>>> import sympy as sp, symgrad as sg
>>> N = sp.Symbol("N", integer=True, positive=True)
>>> mu, y, var = sg.tensor("mu", (N, 2)), sg.tensor("y", (N, 2)), sg.tensor("var", (N, 1))
>>> sg.gaussian_nll_loss(mu, y, var).shape, sg.poisson_nll_loss(mu, y, reduction="none").shape
((), (N, 2))
"""
from __future__ import annotations

import sympy as sp

from . import tensor as T
from .keywords import check_flag, keywords
from .stop_gradient import stop_gradient
from .tensor_bounds import maximum
from .tensor_pair_losses import _number
from .tensor_softmax import reduce_loss
from ..errors import ShapeError

__all__ = ["gaussian_nll_loss", "poisson_nll_loss"]


def _eps(v, who):
    return _number(v, "eps", who, positive=True)


@keywords()
def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):  # noqa: A002 - torch's names
    """``F.gaussian_nll_loss(input, target, var, full, eps, reduction)``: the negative log-likelihood
    of ``target`` under N(input, var). ``var`` of input's shape, or with its last axis 1 or dropped
    (one variance for all of an example's outputs), as torch. Its entries must be ≥ 0 (torch checks
    that at run time; a declaration cannot: write var as exp(log_var) or softplus(...))."""
    who = "gaussian_nll_loss"
    mu, y, v = (T._tensor_arg(a, who) for a in (input, target, var))
    check_flag(who, "full", full)
    eps = _eps(eps, who)
    if not T.dims_equal(len(v.shape), len(mu.shape)) or any(not T.dims_equal(a, b) for a, b in zip(v.shape, mu.shape)):
        if len(v.shape) == len(mu.shape) - 1 and all(T.dims_equal(a, b) for a, b in zip(v.shape, mu.shape[:-1])):
            v = v.unsqueeze(-1)                  # homoscedastic: one variance per example
        elif not (len(v.shape) == len(mu.shape) and v.shape[-1] == 1
                  and all(T.dims_equal(a, b) for a, b in zip(v.shape[:-1], mu.shape[:-1]))):
            raise ShapeError(f"{who}: var {v} has shape {T.fmt(v.shape)}; with input {T.fmt(mu.shape)} it must "
                             f"be {T.fmt(mu.shape)}, or that with the last axis 1 or dropped, as torch")
    v = v + stop_gradient(maximum(v, eps) - v)   # torch's clamp under no_grad: the value, not the gradient
    loss = (sp.log(v) + (mu - y) ** 2 / v) / 2
    if full:
        loss = loss + sp.log(2 * sp.pi) / 2
    return reduce_loss(T.as_tensor(loss), reduction, who)


@keywords()
def poisson_nll_loss(input, target, log_input=True, full=False, eps=1e-8, reduction="mean"):  # noqa: A002
    """``F.poisson_nll_loss(input, target, log_input, full, eps, reduction)``: with log_input the
    input is the log-rate, exp(input) − target·input; else the rate, input − target·log(input + eps).
    ``full`` adds Stirling's approximation of log(target!) where target > 1 (0 elsewhere), as torch."""
    who = "poisson_nll_loss"
    x, y = T._tensor_arg(input, who), T._tensor_arg(target, who)
    check_flag(who, "log_input", log_input)
    check_flag(who, "full", full)
    eps = _eps(eps, who)
    loss = sp.exp(x) - y * x if log_input else x - y * sp.log(x + eps)
    if full:
        big = y > 1
        safe = T.where(big, y, 1)                # no log 0 in the branch that is not taken
        loss = loss + T.where(big, safe * sp.log(safe) - safe + sp.log(2 * sp.pi * safe) / 2, 0)
    return reduce_loss(T.as_tensor(loss), reduction, who)
