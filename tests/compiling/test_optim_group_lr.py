"""A group's constant lr under a scheduled base lr: torch's schedulers scale every group's lr, symgrad
keeps a group's number constant — sg.compile warns (GroupLrWarning), naming the group and its
parameters, and the schedule it suggests for the group follows torch."""
import re
import warnings

import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg
from symgrad.compiling.schedules import WarmupCosine
from tests.scheduled_mlp import steps_follow_torch


def _net():
    net = sg.mlp([3, 4, 2], act=sg.tanh)
    y = sp.MatrixSymbol("y", 2, 1)
    return net, sg.mse(net.output, y), [net.input, y]


def _compile(opt):
    net, loss, inputs = _net()
    return sg.compile(loss, net.params, inputs, optimizer=opt, dtype="float64")


def test_a_constant_group_lr_under_a_schedule_warns_naming_the_group_and_what_to_write():
    sched = WarmupCosine(0.05, warmup=3, total=8)
    opt = sg.optim.AdamW(lr=sched, groups=[{"params": ["b1"], "weight_decay": 0.0},
                                           {"params": ["W2", "b2"], "lr": 1e-4}])
    with pytest.warns(sg.optim.GroupLrWarning) as caught:
        _compile(opt)
    assert len(caught) == 1
    msg = str(caught[0].message)
    assert "groups[1] (parameters 'W2', 'b2') gives lr=0.0001" in msg
    assert "'lr': WarmupCosine(0.0001, warmup=3, total=8)" in msg
    assert caught[0].filename == __file__                      # points at the sg.compile call
    assert issubclass(sg.optim.GroupLrWarning, UserWarning)


def test_another_schedule_gets_the_scaled_base_as_advice():
    opt = sg.optim.SGD(lr=sg.optim.LinearAnnealing(0.2, 0.02, tau=3), groups=[{"params": ["W1"], "lr": 0.05}])
    with pytest.warns(sg.optim.GroupLrWarning, match=re.escape("groups[0] (parameters 'W1') gives lr=0.05")) as caught:
        _compile(opt)
    assert "a schedule of its own" in str(caught[0].message)


@pytest.mark.parametrize("opt", [
    sg.optim.AdamW(lr=WarmupCosine(0.05, warmup=3, total=8),                   # the group's own schedule
                   groups=[{"params": ["W2"], "lr": WarmupCosine(1e-4, warmup=3, total=8)}]),
    sg.optim.AdamW(lr=WarmupCosine(0.05, warmup=3, total=8),                   # no lr in the group
                   groups=[{"params": ["b1", "b2"], "weight_decay": 0.0}]),
    sg.optim.AdamW(lr=0.05, groups=[{"params": ["W2"], "lr": 1e-4}]),          # no schedule at all
])
def test_no_warning_when_the_group_has_its_own_schedule_or_no_lr(opt):
    with warnings.catch_warnings():
        warnings.simplefilter("error", sg.optim.GroupLrWarning)
        _compile(opt)


def test_the_suggested_group_schedule_follows_torchs_scheduler():
    # torch: the group's 1e-4 is warmed up and decayed with the rest; the advice's schedule does the same
    rng = np.random.default_rng(0)
    net, loss, inputs = _net()
    opt = sg.optim.AdamW(lr=WarmupCosine(0.05, warmup=3, total=8, start_factor=0.5), weight_decay=0.1,
                         groups=[{"params": ["W2", "b2"], "lr": WarmupCosine(0.01, warmup=3, total=8,
                                                                              start_factor=0.5)}])
    prog = sg.compile(loss, net.params, inputs, optimizer=opt, dtype="float64")
    values = {p.name: rng.normal(size=p.shape) for p in net.params}
    tp = {k: torch.nn.Parameter(torch.tensor(v)) for k, v in values.items()}
    topt = torch.optim.AdamW([{"params": [tp["W1"], tp["b1"]]},
                              {"params": [tp["W2"], tp["b2"]], "lr": 0.01}], lr=0.05, weight_decay=0.1)
    steps_follow_torch(prog, values, tp, topt, rng, rtol=1e-10, atol=1e-12)
