"""symgrad.compiling.schedules: torch's warm-up + cosine schedules as functions of t, checked against
torch.optim.lr_scheduler; and schedules written for torch's LambdaLR refused with what to write."""
import math

import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg
from symgrad.compiling.schedules import WarmupCosine
from symgrad.errors import ArgumentError
from tests.scheduled_mlp import steps_follow_torch

t = sp.Symbol("t", integer=True, positive=True)


def _torch_lrs(make_scheduler, steps, lr=0.1):
    """The lr torch's optimizer uses at each of ``steps`` steps (scheduler stepped after each)."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    sched = make_scheduler(opt)
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def _ours(schedule, steps):
    f = sp.lambdify(t, schedule(t), "math")
    return [float(f(k)) for k in range(1, steps + 1)]


def test_warmup_then_cosine_equals_torchs_sequential_lr():
    want = _torch_lrs(lambda o: torch.optim.lr_scheduler.SequentialLR(o, [
        torch.optim.lr_scheduler.LinearLR(o, start_factor=0.25, total_iters=4),
        torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=16, eta_min=0.01)], milestones=[4]), 20)
    got = _ours(WarmupCosine(0.1, warmup=4, total=20, lr_min=0.01, start_factor=0.25), 20)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_default_start_is_hugging_faces_cosine_schedule_with_warmup():
    w, total = 5, 30
    hf = lambda s: s / w if s < w else 0.5 * (1 + math.cos(math.pi * (s - w) / (total - w)))
    want = _torch_lrs(lambda o: torch.optim.lr_scheduler.LambdaLR(o, hf), total)
    np.testing.assert_allclose(_ours(WarmupCosine(0.1, warmup=w, total=total), total), want, rtol=1e-12, atol=1e-15)


def test_no_warmup_is_cosine_annealing_and_stays_at_lr_min_past_total():
    want = _torch_lrs(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=12, eta_min=0.02), 13)
    got = _ours(WarmupCosine(0.1, warmup=0, total=12, lr_min=0.02), 16)
    np.testing.assert_allclose(got[:13], want, rtol=1e-12, atol=1e-15)
    assert got[13:] == [pytest.approx(0.02)] * 3


def test_compiled_adamw_with_groups_follows_torch_under_the_schedule():
    rng = np.random.default_rng(0)
    net = sg.mlp([3, 4, 2], act=sg.tanh)
    W1, b1, W2, b2 = net.params
    y = sp.MatrixSymbol("y", 2, 1)
    sched = WarmupCosine(0.05, warmup=3, total=8, start_factor=0.5)
    opt = sg.optim.AdamW(lr=sched, weight_decay=0.1, groups=[{"params": [b1, b2], "weight_decay": 0.0}])
    prog = sg.compile(sg.mse(net.output, y), net.params, [net.input, y], optimizer=opt, dtype="float64")
    values = {p.name: rng.normal(size=p.shape) for p in net.params}
    tp = {k: torch.nn.Parameter(torch.tensor(v)) for k, v in values.items()}
    topt = torch.optim.AdamW([{"params": [tp["W1"], tp["W2"]], "weight_decay": 0.1},
                              {"params": [tp["b1"], tp["b2"]], "weight_decay": 0.0}], lr=0.05)
    steps_follow_torch(prog, values, tp, topt, rng, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("lr", [
    lambda t: 0.1 * ((t - 1) / 5 if t - 1 < 5 else 1.0),       # LambdaLR's if on the step
    lambda t: 0.05 * (1 + math.cos(math.pi * t / 100)),         # math.cos
])
def test_a_lambda_lr_function_is_refused_with_what_to_write(lr):
    net, y = sg.mlp([3, 2]), sp.MatrixSymbol("y", 2, 1)
    with pytest.raises(ArgumentError, match=r"sp\.Piecewise.*WarmupCosine"):
        sg.compile(sg.mse(net.output, y), net.params, [net.input, y], optimizer=sg.optim.Adam(lr=lr))
    with pytest.raises(ArgumentError, match=r"groups\[0\]\['lr'\]"):
        sg.compile(sg.mse(net.output, y), net.params, [net.input, y],
                   optimizer=sg.optim.Adam(lr=1e-3, groups=[{"params": [net.params[1]], "lr": lr}]))


def test_a_schedule_of_another_symbol_is_refused():
    net, y = sg.mlp([3, 2]), sp.MatrixSymbol("y", 2, 1)
    eta = sp.Symbol("eta")
    with pytest.raises(ArgumentError, match="expression of the step t alone"):
        sg.compile(sg.mse(net.output, y), net.params, [net.input, y], optimizer=sg.optim.SGD(lr=lambda t: eta / t))


@pytest.mark.parametrize("kwargs, match", [
    ({"warmup": 10, "total": 10}, "larger than warmup"),
    ({"warmup": -1, "total": 10}, "warmup"),
    ({"warmup": 1, "total": 10, "lr_min": 1.0}, r"lr_min.*\[0, lr\]"),
    ({"warmup": 1, "total": 10, "start_factor": 2}, "start_factor"),
])
def test_bad_schedule_arguments(kwargs, match):
    with pytest.raises(ArgumentError, match=match):
        WarmupCosine(0.1, **kwargs)


def test_a_programs_repr_shows_its_schedule():
    net, y = sg.mlp([3, 2]), sp.MatrixSymbol("y", 2, 1)
    prog = sg.compile(sg.mse(net.output, y), net.params, [net.input, y],
                      optimizer=sg.optim.AdamW(lr=WarmupCosine(0.1, warmup=2, total=10), clip_grad_norm=1.0))
    assert "AdamW(lr=WarmupCosine(lr=0.1, warmup=2, total=10" in repr(prog)

    def my_schedule(t):
        return 0.1 / t
    prog = sg.compile(sg.mse(net.output, y), net.params, [net.input, y], optimizer=sg.optim.SGD(lr=my_schedule))
    assert "SGD(lr=my_schedule)" in repr(prog)


def test_a_schedule_written_as_a_function_prints_as_its_expression_not_its_address():
    """Before: the generated module's "# Optimizer:" line held "<function <lambda> at 0x7f…>", so the
    same program compiled twice had two sources (and two cache files, one more on every run)."""
    import re
    import symgrad as sg
    N = sp.Symbol("N", integer=True, positive=True)
    x, y, W = sg.tensor("x", (N, 3)), sg.tensor("y", (N,)), sg.tensor("W", (3,))

    def make():
        opt = sg.optim.SGD(lr=lambda t: sp.Piecewise((0.01, t <= 30), (5.0, True)),
                           groups=[{"params": [W], "lr": lambda t: 0.5 / t}])
        return sg.compile(sg.mean((x @ W - y) ** 2), [W], [x, y], optimizer=opt)
    a, b = make(), make()
    assert a.source == b.source
    assert not re.search(r"0x[0-9a-f]{6,}", a.source)
    line = next(s for s in a.source.splitlines() if s.startswith("# Optimizer:"))
    assert "lr=lambda t: Piecewise((0.01, t <= 30), (5.0, True))" in line and "'lr': lambda t: 0.5/t" in line


@pytest.mark.parametrize("which", ["StepLR", "ExponentialLR"])
def test_the_per_epoch_schedules_optimizers_md_writes_equal_torchs(which):
    """docs/optimizers.md writes StepLR and ExponentialLR, stepped once per epoch, as functions of t."""
    spe = 45
    epoch = lambda t: sp.floor((t - 1) / spe)
    ours = {"StepLR": lambda t: 0.1 * sp.Rational(1, 2) ** sp.floor(epoch(t) / 10),
            "ExponentialLR": lambda t: 0.1 * sp.Rational(95, 100) ** epoch(t)}[which]
    make = {"StepLR": lambda o: torch.optim.lr_scheduler.StepLR(o, 10, 0.5),
            "ExponentialLR": lambda o: torch.optim.lr_scheduler.ExponentialLR(o, 0.95)}[which]
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched, theirs = make(opt), []
    for k in range(1, 25 * spe + 1):
        theirs.append(opt.param_groups[0]["lr"])
        opt.step()
        if k % spe == 0:
            sched.step()
    w, x = sp.symbols("w x")                     # loss w·x at x = 1: the step moves w by −lr(t)
    prog = sg.compile(w * x, [w], [x], optimizer=sg.optim.SGD(lr=ours), dtype="float64")
    values, state, got = {"w": np.array(0.0)}, None, []
    for _ in theirs:
        before = float(values["w"])
        values, state = prog.step(values, state, {"x": np.ones(1)})
        got.append(before - float(values["w"]))
    assert np.allclose(got, theirs, rtol=1e-9, atol=0)


def _assert_rate_halves_every(n, lr, steps):
    """SGD on w·x with x = 1 compiled with the schedule ``lr``: step k moves w by 0.1·½^((k−1)//n)."""
    w, x = sp.symbols("w x")
    prog = sg.compile(w * x, [w], [x], optimizer=sg.optim.SGD(lr=lr), dtype="float64")
    values, state = {"w": np.array(0.0)}, None
    for k in range(1, steps):
        before = float(values["w"])
        values, state = prog.step(values, state, {"x": np.ones(1)})
        assert before - float(values["w"]) == pytest.approx(0.1 * 0.5 ** ((k - 1) // n), rel=1e-12), k


@pytest.mark.parametrize("n", [3, 7, 49])
@pytest.mark.parametrize("form", ["floor", "//", "ceiling"])
def test_a_step_schedule_halves_the_rate_at_the_right_step_in_the_compiled_step(n, form):
    """Before: SymPy expands sp.floor((t - 1) / 3) into floor(t/3 - 1/3), which floats put just below
    a whole number at t = 7, 10, 13, ...: the compiled step halved the rate one step late there."""
    ours = {"floor": lambda t: 0.1 * sp.Rational(1, 2) ** sp.floor((t - 1) / n),
            "//": lambda t: 0.1 * sp.Rational(1, 2) ** ((t - 1) // n),
            "ceiling": lambda t: 0.1 * sp.Rational(1, 2) ** (sp.ceiling(t / n) - 1)}[form]
    _assert_rate_halves_every(n, ours, steps=30 * n)


def test_a_views_schedule_is_shown_as_written_while_the_step_compiles_it_moved_inside():
    opt = sg.optim.SGD(lr=lambda t: 0.1 * sp.Rational(1, 2) ** sp.floor((t - 1) / 3))
    assert "floor(t/3 − 1/3)" in opt.view().render("unicode")
    w, x = sp.symbols("w x")
    prog = sg.compile(w * x, [w], [x], optimizer=opt, dtype="float64")
    (update,) = [ln for ln in prog.source.splitlines() if "numpy.floor" in ln]
    assert "t - 0.16666666666666666)" in update, update
    momentum = sg.optim.SGD(lr=opt.lr, momentum=0.9)
    assert "floor(t/3 − 1/3)" in sg.optim.view(momentum, form="notes").render("unicode")


@pytest.mark.parametrize("n", [3, 7])
def test_a_step_schedule_written_with_a_float_divisor_halves_the_rate_at_the_right_step(n):
    """Before: ``(t - 1) // 3.0`` (``sp.floor((t - 1) / 3.0)`` too) gives SymPy Float coefficients,
    which the exact-floor rewrite left alone: the compiled step halved the rate one step late at
    t = 4 (0.333333333333333·4 − 0.333333333333333 rounds below 1), 7, 10, ..."""
    ours = lambda t: 0.1 * 0.5 ** ((t - 1) // float(n))
    _assert_rate_halves_every(n, ours, steps=12 * n)


def test_exact_floors_keeps_negative_slopes_and_irrational_coefficients_right():
    """The shift of half a value-step holds for a decreasing argument too; a slope that is no
    ratio of small whole numbers (0.1234567 t, π t) is left as written."""
    from symgrad.compiling.schedules import exact_floors
    t = sp.Symbol("t", real=True)
    third = lambda k: sp.Rational(1 - k, 3)      # the exact arguments, in rationals
    cases = {sp.floor(sp.Rational(1, 3) - t / 3): lambda k: math.floor(third(k)),
             sp.ceiling(-t / 4 + sp.Rational(1, 2)): lambda k: math.ceil(sp.Rational(2 - k, 4)),
             sp.floor(-(t - 1) / 3.0): lambda k: math.floor(third(k))}
    for e, want in cases.items():
        f = sp.lambdify(t, exact_floors(e, t), "math")
        for k in range(1, 40):
            assert f(k) == want(k), (e, k)
    for e in (sp.floor(sp.Float("0.1234567") * t), sp.floor(sp.pi * t)):
        assert exact_floors(e, t) == e
