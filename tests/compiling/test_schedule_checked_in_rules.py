"""A learning-rate schedule written for torch's LambdaLR is refused with the way to write it wherever
the optimizer's rules are built with a symbolic step — `opt.rules`, `opt.view` — not only in
`sg.compile` (SymPy's "cannot determine truth value of Relational" said nothing of the schedule)."""
from __future__ import annotations

import math

import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import ArgumentError


def _lambda_lr(t):
    return 0.1 * t / 10 if t < 10 else 0.1 * 0.5 * (1 + math.cos(math.pi * (t - 10) / 90))


def test_rules_with_a_lambda_lr_schedule_say_what_to_write():
    opt = sg.optim.SGD(lr=_lambda_lr)
    p, g = sp.symbols("p g")
    with pytest.raises(ArgumentError, match="schedule lr=_lambda_lr cannot be compiled"):
        opt.rules(p, g, {}, sp.Symbol("t", integer=True, positive=True))


def test_a_symbolic_schedule_still_gives_its_expression():
    t = sp.Symbol("t", integer=True, positive=True)
    opt = sg.optim.SGD(lr=lambda t: sp.Rational(1, 10) * sp.Rational(9, 10) ** (t - 1))
    p, g = sp.symbols("p g")
    new_p, _ = opt.rules(p, g, {}, t)
    assert sp.simplify(new_p - (p - sp.Rational(1, 10) * sp.Rational(9, 10) ** (t - 1) * g)) == 0


def test_warmup_cosine_is_in_sg_optim():
    from symgrad.compiling.schedules import WarmupCosine
    assert sg.optim.WarmupCosine is WarmupCosine


def test_the_refusal_names_warmup_cosine_where_the_optimizers_are():
    # a user writing sg.optim.AdamW(lr=...) is told of sg.optim.WarmupCosine, not only of its module
    opt = sg.optim.AdamW(lr=_lambda_lr)
    p, g = sp.symbols("p g")
    with pytest.raises(ArgumentError) as info:
        opt.rules(p, g, {}, sp.Symbol("t", integer=True, positive=True))
    assert "sg.optim.WarmupCosine(lr, warmup=, total=)" in str(info.value)
