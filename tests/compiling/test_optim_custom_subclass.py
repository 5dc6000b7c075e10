"""A user's own optimizer (a dataclass subclass of sg.optim.Optimizer) gets the step's options too:
groups= and clip_grad_norm= / clip_grad_value= are checked as for the built-in ones, and compile
into its step; torch.optim.SGD(momentum, dampening 0) with param_groups and clip_grad_norm_ is the
oracle (HeavyBall's rule is that SGD's)."""
from dataclasses import dataclass

import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg
from symgrad.compiling.optim import Optimizer
from symgrad.errors import ArgumentError
from tests.custom_optimizers import HeavyBall


@dataclass
class OwnPostInit(HeavyBall):
    """A subclass whose own __post_init__ does not chain to Optimizer's."""
    def __post_init__(self):
        if self.mu < 0:
            raise ValueError("mu < 0")


w, b, x, t = sp.symbols("w b x t")
LOSS = (w * x + b - t) ** 2


@pytest.mark.parametrize("cls", [HeavyBall, OwnPostInit])
@pytest.mark.parametrize("bad", [dict(clip_grad_norm=-1.0), dict(clip_grad_value=0.0), dict(groups="w"),
                                 dict(groups=[{"params": ["w"], "nu": 0.1}])])
def test_bad_step_options_are_refused(cls, bad):
    with pytest.raises(ArgumentError, match="clip_grad|groups"):
        opt = cls(**bad)       # HeavyBall refuses here; OwnPostInit at the latest in sg.compile
        sg.compile(LOSS, [w, b], [x, t], dtype="float64", optimizer=opt)


@pytest.mark.parametrize("cls", [HeavyBall, OwnPostInit])
def test_groups_and_clipping_match_torch(cls):
    opt = cls(lr=0.05, mu=0.9, groups=[{"params": [b], "lr": 0.2, "mu": 0.5}], clip_grad_norm=0.5)
    prog = sg.compile(LOSS, [w, b], [x, t], dtype="float64", optimizer=opt)
    rng = np.random.default_rng(0)
    data = {"x": rng.normal(size=4), "t": rng.normal(size=4)}
    values = {"w": np.array(1.5), "b": np.array(-0.5)}
    tw, tb = (torch.tensor(float(values[k]), dtype=torch.float64, requires_grad=True) for k in "wb")
    topt = torch.optim.SGD([{"params": [tw]}, {"params": [tb], "lr": 0.2, "momentum": 0.5}], lr=0.05, momentum=0.9)
    X, T = (torch.tensor(data[k]) for k in "xt")
    vals, state = dict(values), prog.init_state(values)
    for _ in range(5):
        vals, state = prog.step(vals, state, data)
        topt.zero_grad()
        ((tw * X + tb - T) ** 2).mean().backward()
        torch.nn.utils.clip_grad_norm_([tw, tb], 0.5)
        topt.step()
    np.testing.assert_allclose([float(vals["w"]), float(vals["b"])], [tw.item(), tb.item()], rtol=1e-10)


def test_repr_and_header_show_the_step_options_only_when_set():
    assert repr(HeavyBall(lr=0.1)) == "HeavyBall(lr=0.1, mu=0.9)"
    opt = HeavyBall(lr=0.1, clip_grad_value=2.0)
    for batch in (False, True):
        xs = sg.tensor("xs", (sp.Symbol("N", integer=True, positive=True),)) if batch else x
        ts = sg.tensor("ts", (sp.Symbol("N", integer=True, positive=True),)) if batch else t
        loss = sg.mse(w * xs + b, ts) if batch else LOSS
        src = sg.compile(loss, [w, b], [xs, ts], dtype="float64", optimizer=opt).source
        header = [line for line in src.splitlines() if line.startswith("# Optimizer:")]
        assert header == ["# Optimizer: HeavyBall(lr=0.1, mu=0.9, clip_grad_value=2.0)"], header


class Duck:
    """An optimizer by its two methods alone, with object's repr (which holds an address)."""

    def symbols(self):
        p, g, t = sp.symbols("p g t", real=True)
        return p, g, {}, t

    def rules(self, p, g, state, t):
        return p - sp.Rational(1, 10) * g, {}


def test_an_optimizer_with_objects_repr_leaves_no_address_in_the_source():
    """Before: "# Optimizer: <test_….Duck object at 0x7f…>": the source, and its cache file, differed
    on every compile of the same program."""
    import re
    a = sg.compile(LOSS, [w, b], [x, t], optimizer=Duck())
    bb = sg.compile(LOSS, [w, b], [x, t], optimizer=Duck())
    assert a.source == bb.source and not re.search(r"0x[0-9a-f]{6,}", a.source)
    assert "# Optimizer: Duck" in a.source
