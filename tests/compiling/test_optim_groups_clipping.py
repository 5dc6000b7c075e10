"""Parameter groups and gradient clipping in the compiled step (target "numpy"), against torch in
float64: torch.optim's param_groups and torch.nn.utils.clip_grad_norm_ / clip_grad_value_ called
between backward() and step() are the independent oracle. Two declarations of one MLP: per example
(MatrixSymbols, sg.mlp) and over the batch (tensors with a symbolic N) — the two writers of the step."""
import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg
from symgrad.compiling.training import TrainingDiverged, train

F = torch.nn.functional
STEPS = 6
D, H, C, B = 4, 6, 3, 5


def per_example():
    """An MLP declared for one example, ½‖ŷ − t‖² (sg.mse of columns), and its torch twin."""
    net, t = sg.mlp([D, H, C], act=sp.tanh), sp.MatrixSymbol("t", C, 1)

    def torch_loss(p, X, T):
        h = torch.tanh(X @ p["W1"].T + p["b1"].T)
        return (((h @ p["W2"].T + p["b2"].T) - T) ** 2).sum(1).mean() / 2
    rng = np.random.default_rng(1)
    values = {p.name: rng.normal(0, 0.8, p.shape) for p in net.params}
    data = {"x": rng.normal(size=(B, D)), "t": rng.normal(size=(B, C))}
    return sg.mse(net.output, t), net.params, [net.input, t], values, data, torch_loss


def whole_batch():
    """The same MLP over the batch (tensors, a symbolic N), cross-entropy on labels."""
    N = sp.Symbol("N", integer=True, positive=True)
    x, y = sg.tensor("x", (N, D)), sg.tensor("y", (N,), integer=True)
    W1, b1, W2, b2 = sg.tensor("W1", (H, D)), sg.tensor("b1", (H,)), sg.tensor("W2", (C, H)), sg.tensor("b2", (C,))

    def torch_loss(p, X, Y):
        return F.cross_entropy(F.linear(torch.tanh(F.linear(X, p["W1"], p["b1"])), p["W2"], p["b2"]), Y)
    rng = np.random.default_rng(2)
    params = [W1, b1, W2, b2]
    values = {p.name: rng.normal(0, 0.8, tuple(p.shape)) for p in params}
    data = {"x": rng.normal(size=(B, D)), "y": rng.integers(0, C, B)}
    return sg.cross_entropy(sg.tanh(x @ W1.T + b1) @ W2.T + b2, y), params, [x, y], values, data, torch_loss


DECLARATIONS = {"per_example": per_example, "whole_batch": whole_batch}


def run_both(declare, optimizer, torch_groups, clip=None, steps=STEPS, scheduler=None):
    """``steps`` steps of the compiled program and of torch: ``torch_groups(tensors)`` makes torch's
    optimizer, ``clip(parameters)`` runs between its backward() and step(). Returns both values and
    torch's clip_grad_norm_ results (for a check that clipping did act)."""
    loss, params, inputs, values, data, torch_loss = declare()
    prog = sg.compile(loss, params, inputs, dtype="float64", optimizer=optimizer)
    ours = {k: v.copy() for k, v in values.items()}
    state = prog.init_state(ours)
    tp = {k: torch.tensor(v, requires_grad=True) for k, v in values.items()}
    opt = torch_groups(tp)
    sched = scheduler(opt) if scheduler else None
    X, T = (torch.tensor(v) for v in data.values())
    norms = []
    for _ in range(steps):
        ours, state = prog.step(ours, state, data)
        opt.zero_grad()
        torch_loss(tp, X, T).backward()
        if clip is not None:
            norms.append(clip(list(tp.values())))
        opt.step()
        if sched:
            sched.step()
    return prog, ours, {k: v.detach().numpy() for k, v in tp.items()}, norms


def assert_equal(ours, theirs, tol=1e-9):
    for k in theirs:
        np.testing.assert_allclose(ours[k], theirs[k], rtol=tol, atol=tol, err_msg=k)


@pytest.mark.parametrize("declare", DECLARATIONS.values(), ids=DECLARATIONS)
def test_adamw_with_groups_and_clip_grad_norm_equals_torch(declare):
    groups = [{"params": ["b1", "b2"], "weight_decay": 0.0}, {"params": ["W2"], "lr": 0.02, "betas": (0.8, 0.99)}]
    opt = sg.optim.AdamW(lr=0.05, weight_decay=0.1, groups=groups, clip_grad_norm=0.5)
    prog, ours, theirs, norms = run_both(
        declare, opt,
        lambda p: torch.optim.AdamW([{"params": [p["b1"], p["b2"]], "weight_decay": 0.0},
                                     {"params": [p["W2"]], "lr": 0.02, "betas": (0.8, 0.99)},
                                     {"params": [p["W1"]]}], lr=0.05, weight_decay=0.1),
        clip=lambda ps: float(torch.nn.utils.clip_grad_norm_(ps, 0.5)))
    assert max(norms) > 0.5                   # the clipping acted
    assert_equal(ours, theirs)
    step = prog.source[prog.source.index("def step("):]
    assert "clip_coef" in step and "groups[0]: weight_decay=0.0" in step   # readable: it says what it does


@pytest.mark.parametrize("declare", DECLARATIONS.values(), ids=DECLARATIONS)
def test_clipping_matters_so_the_test_above_can_fail(declare):
    opt = sg.optim.AdamW(lr=0.05, weight_decay=0.1, clip_grad_norm=0.5)
    _, ours, theirs, _ = run_both(declare, opt, lambda p: torch.optim.AdamW(list(p.values()), lr=0.05, weight_decay=0.1))
    with pytest.raises(AssertionError):       # torch without clipping goes elsewhere
        assert_equal(ours, theirs)


@pytest.mark.parametrize("declare", DECLARATIONS.values(), ids=DECLARATIONS)
def test_sgd_momentum_groups_equal_torch(declare):
    # one group without momentum (its slot stays unused), one with Nesterov and its own lr
    opt = sg.optim.SGD(lr=0.1, momentum=0.9, weight_decay=0.01,
                       groups=[{"params": ["b1", "b2"], "momentum": 0.0, "weight_decay": 0.0},
                               {"params": ["W1"], "lr": 0.03, "nesterov": True}])
    prog, ours, theirs, _ = run_both(
        declare, opt,
        lambda p: torch.optim.SGD([{"params": [p["b1"], p["b2"]], "momentum": 0.0, "weight_decay": 0.0},
                                   {"params": [p["W1"]], "lr": 0.03, "nesterov": True},
                                   {"params": [p["W2"]]}], lr=0.1, momentum=0.9, weight_decay=0.01))
    assert_equal(ours, theirs)
    assert prog.slots == ("momentum_buffer",)


@pytest.mark.parametrize("declare", DECLARATIONS.values(), ids=DECLARATIONS)
def test_sgd_group_lr_without_slots_equals_torch(declare):
    # plain SGD, lrs differing per group: the learning rate cannot be folded into the seed
    opt = sg.optim.SGD(lr=0.2, groups=[{"params": ["W2", "b2"], "lr": 0.05}])
    _, ours, theirs, _ = run_both(declare, opt, lambda p: torch.optim.SGD(
        [{"params": [p["W2"], p["b2"]], "lr": 0.05}, {"params": [p["W1"], p["b1"]]}], lr=0.2))
    assert_equal(ours, theirs)


@pytest.mark.parametrize("declare", DECLARATIONS.values(), ids=DECLARATIONS)
def test_clip_grad_value_equals_torch(declare):
    opt = sg.optim.SGD(lr=0.1, momentum=0.5, clip_grad_value=0.05)
    hits = []

    def clip(ps):
        hits.append(max(float(p.grad.abs().max()) for p in ps))
        torch.nn.utils.clip_grad_value_(ps, 0.05)
    _, ours, theirs, _ = run_both(declare, opt, lambda p: torch.optim.SGD(list(p.values()), lr=0.1, momentum=0.5),
                                  clip=clip)
    assert max(hits) > 0.05
    assert_equal(ours, theirs)


def test_clip_grad_norm_inf_and_value_then_norm_equal_torch():
    opt = sg.optim.Adam(lr=0.05, clip_grad_value=0.3, clip_grad_norm=0.2, clip_norm_type=float("inf"))

    def clip(ps):
        torch.nn.utils.clip_grad_value_(ps, 0.3)
        return float(torch.nn.utils.clip_grad_norm_(ps, 0.2, norm_type=float("inf")))
    _, ours, theirs, norms = run_both(per_example, opt, lambda p: torch.optim.Adam(list(p.values()), lr=0.05),
                                      clip=clip)
    assert max(norms) > 0.2
    assert_equal(ours, theirs)


def test_two_parameters_with_one_gradient_are_each_clipped_once():
    # ∂L/∂W1 = ∂L/∂W2 is one IR value: the step's g0 and g1 must not share a buffer that
    # `g *= clip_coef` would scale twice
    N = sp.Symbol("N", integer=True, positive=True)
    x, W1, W2 = sg.tensor("x", (N, 3)), sg.tensor("W1", (3,)), sg.tensor("W2", (3,))
    prog = sg.compile(sg.mean((x * (W1 + W2)).sum(axis=1) ** 2), [W1, W2], [x], dtype="float64",
                      optimizer=sg.optim.Adam(lr=0.1, groups=[{"params": [W2], "lr": 0.05}], clip_grad_norm=0.5))
    X = np.arange(6.0).reshape(2, 3)
    values, state = {"W1": np.full(3, 0.5), "W2": np.full(3, -0.2)}, None
    tp = {k: torch.tensor(v, requires_grad=True) for k, v in values.items()}
    opt = torch.optim.Adam([{"params": [tp["W1"]]}, {"params": [tp["W2"]], "lr": 0.05}], lr=0.1)
    norms = []
    for _ in range(4):
        values, state = prog.step(values, state, {"x": X})
        opt.zero_grad()
        ((torch.tensor(X) * (tp["W1"] + tp["W2"])).sum(1) ** 2).mean().backward()
        norms.append(float(torch.nn.utils.clip_grad_norm_(list(tp.values()), 0.5)))
        opt.step()
    assert norms[0] > 0.5
    assert_equal(values, {k: v.detach().numpy() for k, v in tp.items()})


def test_a_schedule_per_group_equals_torch_linear_lr():
    # LinearLR scales every group's lr by one factor: each group's LinearAnnealing ends at a tenth
    opt = sg.optim.SGD(lr=sg.optim.LinearAnnealing(0.2, 0.02, tau=3), momentum=0.9,
                       groups=[{"params": ["W1"], "lr": sg.optim.LinearAnnealing(0.05, 0.005, tau=3)}])
    _, ours, theirs, _ = run_both(
        per_example, opt,
        lambda p: torch.optim.SGD([{"params": [p["W1"]], "lr": 0.05}, {"params": [p["b1"], p["W2"], p["b2"]]}],
                                  lr=0.2, momentum=0.9),
        scheduler=lambda o: torch.optim.lr_scheduler.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=3))
    assert_equal(ours, theirs)


def test_float32_program_with_groups_and_clipping_tracks_float64():
    loss, params, inputs, values, data, _ = per_example()
    opt = sg.optim.AdamW(lr=0.05, groups=[{"params": ["b1", "b2"], "weight_decay": 0.0}], clip_grad_norm=0.5)
    p32 = sg.compile(loss, params, inputs, optimizer=opt)
    p64 = sg.compile(loss, params, inputs, optimizer=opt, dtype="float64")
    v32, v64 = {k: v.astype(np.float32) for k, v in values.items()}, {k: v.copy() for k, v in values.items()}
    s32, s64 = p32.init_state(v32), p64.init_state(v64)
    d32 = {k: v.astype(np.float32) for k, v in data.items()}
    for _ in range(3):
        v32, s32 = p32.step(v32, s32, d32)
        v64, s64 = p64.step(v64, s64, data)
    for k in v64:
        assert v32[k].dtype == np.float32
        np.testing.assert_allclose(v32[k], v64[k], rtol=1e-4, atol=1e-5)


def test_adagrad_group_initial_accumulator_value_starts_its_slot():
    loss, params, inputs, values, data, torch_loss = per_example()
    opt = sg.optim.Adagrad(lr=0.1, groups=[{"params": ["W1"], "initial_accumulator_value": 0.5}])
    prog = sg.compile(loss, params, inputs, optimizer=opt, dtype="float64")
    state = prog.init_state(values)
    assert (state["sum"]["W1"] == 0.5).all() and (state["sum"]["b1"] == 0.0).all()

    def torch_adagrad(p):
        # torch starts every group's sum at the constructor's initial_accumulator_value (a group's own
        # is ignored); symgrad honours the group's: torch's W1 sum is set by hand to compare
        o = torch.optim.Adagrad([{"params": [p["W1"]]}, {"params": [p["b1"], p["W2"], p["b2"]]}], lr=0.1)
        o.state[p["W1"]]["sum"].fill_(0.5)
        return o
    _, ours, theirs, _ = run_both(per_example, opt, torch_adagrad)
    assert_equal(ours, theirs)


# -- the NaN guard and failed steps --------------------------------------------------------------

class _Exp:
    """exp(w·x) with one sample whose exp overflows: its loss and gradient are inf."""
    w, x = sp.symbols("w x")

    @classmethod
    def program(cls, optimizer):
        return sg.compile(sp.exp(cls.w * cls.x), [cls.w], [cls.x], dtype="float64", optimizer=optimizer)

    @staticmethod
    def data(bad_at=4, n=8):
        x = np.full(n, 0.5)
        x[bad_at] = 1e5                # w stays near 0.1: exp(w·1e5) overflows
        return {"x": x}


def test_nan_guard_keeps_the_last_good_values_and_state_when_clipping():
    opt = sg.optim.Adam(lr=0.01, clip_grad_norm=0.25)
    prog = _Exp.program(opt)
    with pytest.raises(TrainingDiverged) as err:
        train(prog, _Exp.data(bad_at=4), epochs=1, batch_size=1, shuffle=False, progress=False,
              values={"w": np.array(0.1)})
    e = err.value
    assert e.step == 5 and np.isfinite(float(e.values["w"]))
    # the same four good steps, by torch: Adam with clip_grad_norm_ (1-d: clipping is |g| <= 0.25)
    w = torch.tensor(0.1, dtype=torch.float64, requires_grad=True)
    topt = torch.optim.Adam([w], lr=0.01)
    for _ in range(4):
        topt.zero_grad()
        torch.exp(w * 0.5).backward()
        torch.nn.utils.clip_grad_norm_([w], 0.25)
        topt.step()
    assert float(e.values["w"]) == pytest.approx(float(w.detach()), rel=1e-12)
    assert e.state["t"] == 4
    st = topt.state[w]
    assert float(e.state["exp_avg"]["w"]) == pytest.approx(float(st["exp_avg"]), rel=1e-12)
    assert float(e.state["exp_avg_sq"]["w"]) == pytest.approx(float(st["exp_avg_sq"]), rel=1e-12)


def test_an_inf_gradient_makes_the_clipped_step_nan_as_torch_and_the_guard_sees_it():
    # min(max_norm / (inf + 1e-6), 1) is 0, and inf · 0 is NaN: the program's step writes NaN, as
    # torch's clip_grad_norm_ (error_if_nonfinite=False) does, so training stops rather than go on
    prog = _Exp.program(sg.optim.SGD(lr=0.1, clip_grad_norm=1.0))
    with np.errstate(over="ignore", invalid="ignore"):
        values, state = prog.step({"w": np.array(0.1)}, None, {"x": np.array([1e4])})
    assert np.isnan(float(values["w"]))


def test_clip_grad_value_of_a_scalar_parameter():
    prog = _Exp.program(sg.optim.SGD(lr=0.1, clip_grad_value=0.2))
    x = np.array([0.5, 1.5, 2.0])
    g = np.mean(x * np.exp(0.3 * x))                    # ∂/∂w of the mean of exp(w·x), at w = 0.3
    assert g > 0.2
    values, _ = prog.step({"w": np.array(0.3)}, None, {"x": x})
    assert float(values["w"]) == pytest.approx(0.3 - 0.1 * 0.2, rel=1e-12)


def test_a_refused_step_changes_nothing():
    loss, params, inputs, values, data, _ = per_example()
    opt = sg.optim.AdamW(lr=0.05, groups=[{"params": ["b1"], "weight_decay": 0.0}], clip_grad_norm=0.5)
    prog = sg.compile(loss, params, inputs, optimizer=opt, dtype="float64")
    state = prog.init_state(values)
    prog.step(values, state, data)
    before = {k: v.copy() for k, v in values.items()}
    slots = {s: {k: v.copy() for k, v in state[s].items()} for s in prog.slots}
    bad = {"x": data["x"], "t": data["t"][:, :2]}            # a wrong shape, found before anything runs
    with pytest.raises(sg.SymgradError):
        prog.step(values, state, bad)
    with pytest.raises(ValueError, match="Nothing was changed"):  # the module's own check of t
        prog.compiled.step([values[p.name] for p in params], [state[s][p.name] for s in prog.slots for p in params],
                           0, [data["x"], data["t"]])
    assert state["t"] == 1
    for k in before:
        np.testing.assert_array_equal(values[k], before[k])
        for s in prog.slots:
            np.testing.assert_array_equal(state[s][k], slots[s][k])


# -- errors ----------------------------------------------------------------------------------------

def test_a_parameter_named_twice_or_not_a_parameter_is_a_clear_error():
    loss, params, inputs, *_ = per_example()
    W1, b1 = params[0], params[1]
    with pytest.raises(sg.ArgumentError, match=r"'b1' is named in groups\[0\] and groups\[1\]"):
        sg.optim.AdamW(groups=[{"params": [b1], "weight_decay": 0.0}, {"params": ["b1"], "lr": 0.1}])
    with pytest.raises(sg.ArgumentError, match=r"'W1' is named twice in groups\[0\]"):
        sg.optim.SGD(groups=[{"params": [W1, W1]}])
    with pytest.raises(sg.ArgumentError, match=r"groups\[0\] names 'x', which is not a parameter.*'W1', 'b1'"):
        sg.compile(loss, params, inputs, optimizer=sg.optim.SGD(groups=[{"params": ["x"], "lr": 0.1}]))
    with pytest.raises(sg.ArgumentError, match=r"groups\[0\]: SGD\(\) got an unknown keyword argument 'momentun'; "
                                               r"did you mean 'momentum'"):
        sg.optim.SGD(groups=[{"params": [W1], "momentun": 0.9}])
    with pytest.raises(sg.ArgumentError, match=r"groups\[0\]: invalid lr=-1"):
        sg.optim.SGD(groups=[{"params": [W1], "lr": -1}])
    with pytest.raises(sg.ArgumentError, match=r"groups\[0\] must be a dict with 'params'"):
        sg.optim.SGD(groups=[{"lr": 0.1}])
    with pytest.raises(sg.ArgumentError, match=r"holds 3 \(int\)"):
        sg.optim.SGD(groups=[{"params": [3]}])
    with pytest.raises(sg.ArgumentError, match=r"groups\[0\] sets 'clip_grad_norm', which is the optimizer's own"):
        sg.optim.SGD(groups=[{"params": [W1], "clip_grad_norm": 1.0}])     # clipping is global


@pytest.mark.parametrize("kw, message", [
    (dict(clip_grad_norm=0.0), r"invalid clip_grad_norm=0.0: must be a finite number > 0"),
    (dict(clip_grad_norm=float("nan")), r"invalid clip_grad_norm=nan"),
    (dict(clip_grad_value=-1.0), r"invalid clip_grad_value=-1.0"),
    (dict(clip_norm_type=1), r"invalid clip_norm_type=1: must be 2 .* or float\('inf'\)"),
    (dict(max_norm=1.0), r"unknown keyword argument 'max_norm'; did you mean 'clip_grad_norm'\? \(torch's clip_grad_norm_"),
    (dict(clipvalue=1.0), r"did you mean 'clip_grad_value'\? \(Keras's name\)"),
    (dict(norm_type=2), r"did you mean 'clip_norm_type'"),
    (dict(param_groups=[]), r"did you mean 'groups'"),
])
def test_bad_clipping_options_name_the_problem(kw, message):
    with pytest.raises(sg.ArgumentError, match=message):
        sg.optim.AdamW(lr=1e-3, **kw)


def test_clipping_or_groups_given_to_compile_point_to_the_optimizer():
    loss, params, inputs, *_ = per_example()
    for kw in ("clip_grad_norm", "max_norm", "clipnorm", "clip_grad_value"):
        with pytest.raises(sg.ArgumentError, match=r"an option of the optimizer.*sg\.optim\.AdamW\(lr=1e-3, clip_grad_norm"):
            sg.compile(loss, params, inputs, **{kw: 1.0})
    with pytest.raises(sg.ArgumentError, match=r"groups=\[\{'params'"):
        sg.compile(loss, params, inputs, param_groups=[])


def test_repr_shows_groups_and_clipping_only_when_set():
    assert repr(sg.optim.SGD(0.1)) == "SGD(lr=0.1, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, l1=0.0)"
    r = repr(sg.optim.SGD(0.1, clip_grad_norm=1.0, groups=[{"params": ["b"], "lr": 0.5}]))
    assert r.endswith("groups=({'params': ('b',), 'lr': 0.5},), clip_grad_norm=1.0)")
    loss, params, inputs, *_ = per_example()
    prog = sg.compile(loss, params, inputs, optimizer=sg.optim.AdamW(groups=[{"params": ["b1"], "lr": 0.1}],
                                                                     clip_grad_norm=1.0))
    assert "AdamW(lr=0.001, 1 group besides the default, clip_grad_norm=1)" in repr(prog)


# -- the command line ------------------------------------------------------------------------------

MODEL_WITH_GROUPS = '''
import sympy as sp, symgrad as sg
net = sg.mlp([4, 6, 3], act=sp.tanh)
t = sp.MatrixSymbol("t", 3, 1)
loss = sg.mse(net.output, t)
params, inputs = net.params, [net.input, t]
W1, b1, W2, b2 = net.params
optimizer = sg.optim.AdamW(lr=1e-2, groups=[{"params": [b1, b2], "weight_decay": 0.0}])
'''


def test_command_line_clip_options_and_a_model_files_groups(tmp_path, capsys):
    from symgrad import cli
    (tmp_path / "model.py").write_text(MODEL_WITH_GROUPS)
    assert cli.main(["compile", str(tmp_path / "model.py"), "--clip-grad-norm", "0.5", "--lr", "0.02"]) == 0
    source = capsys.readouterr().out
    assert "clip_coef = min(0.5 / (grad_norm + 1e-06), 1.0)" in source
    assert "groups[0]: weight_decay=0.0" in source and "0.02" in source
    assert cli.main(["compile", str(tmp_path / "model.py"), "--clip-grad-value", "0.1"]) == 0
    source = capsys.readouterr().out
    assert "numpy.clip(g0, -0.1, 0.1, out=g0)" in source and "clip_coef" not in source
