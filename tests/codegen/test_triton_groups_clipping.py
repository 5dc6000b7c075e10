"""Parameter groups and gradient clipping in the Triton target's step, against the NumPy target
(float32, the same declaration) and torch in float64 (torch.optim's param_groups, and
torch.nn.utils.clip_grad_norm_ / clip_grad_value_ between backward() and step()). Under
TRITON_INTERPRET=1 (tests/codegen/conftest.py): the small MLPs of tests/compiling's groups tests,
three steps."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")
pytest.importorskip("triton")

from tests.compiling.test_optim_groups_clipping import per_example, whole_batch  # noqa: E402

STEPS = 3
INF = float("inf")


def _run(declare, optimizer, torch_opt, clip=None):
    """STEPS steps of the Triton target, the NumPy target and torch (float64, ``torch_opt(tensors)``
    its optimizer, ``clip(parameters)`` between backward() and step()). Returns the three values
    and torch's clip_grad_norm_ results."""
    loss, params, inputs, values, data, torch_loss = declare()
    values = {k: v.astype(np.float32) for k, v in values.items()}
    batch = {k: v.astype(np.float32) if v.dtype.kind == "f" else v for k, v in data.items()}
    tri = sg.compile(loss, params, inputs, target="triton", optimizer=optimizer)
    ref = sg.compile(loss, params, inputs, target="numpy", optimizer=optimizer)
    vt, st = dict(values), tri.init_state()
    vr, sr = {k: v.copy() for k, v in values.items()}, ref.init_state()
    tp = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in values.items()}
    opt = torch_opt(tp)
    X, T = (torch.tensor(v) if v.dtype.kind != "f" else torch.tensor(v, dtype=torch.float64) for v in batch.values())
    norms = []
    for _ in range(STEPS):
        vt, st = tri.step(vt, st, batch)
        vr, sr = ref.step(vr, sr, batch)
        opt.zero_grad()
        torch_loss(tp, X, T).backward()
        if clip is not None:
            norms.append(clip(list(tp.values())))
        opt.step()
    got = {k: v.detach().cpu().numpy() for k, v in vt.items()}
    return tri, got, vr, {k: v.detach().numpy() for k, v in tp.items()}, norms


def _equal(got, want, what, tol):
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=tol, atol=tol, err_msg=f"{k} ({what})")


def _check(tri, got, ref, torch_values):
    _equal(got, ref, "Triton target against the NumPy target", 2e-5)
    _equal(got, torch_values, "Triton target against torch", 1e-4)


def test_adamw_two_groups_with_their_own_lr_and_weight_decay():
    opt = sg.optim.AdamW(lr=0.01, weight_decay=0.1, groups=[{"params": ["b1", "b2"], "lr": 0.05,
                                                             "weight_decay": 0.0}])
    tri, got, ref, theirs, _ = _run(per_example, opt, lambda p: torch.optim.AdamW(
        [{"params": [p["W1"], p["W2"]]}, {"params": [p["b1"], p["b2"]], "lr": 0.05, "weight_decay": 0.0}],
        lr=0.01, weight_decay=0.1))
    _check(tri, got, ref, theirs)
    assert "update_block2" in tri.source       # the group's rule is a block of its own


def test_sgd_momentum_with_a_group_without_momentum():
    """The group's rule keeps no momentum buffer: its parameters' slots stay untouched."""
    opt = sg.optim.SGD(lr=0.1, momentum=0.9, groups=[{"params": ["W2"], "lr": 0.3, "momentum": 0.0}])
    tri, got, ref, theirs, _ = _run(whole_batch, opt, lambda p: torch.optim.SGD(
        [{"params": [p["W1"], p["b1"], p["b2"]]}, {"params": [p["W2"]], "lr": 0.3, "momentum": 0.0}],
        lr=0.1, momentum=0.9))
    _check(tri, got, ref, theirs)


def test_clip_grad_value():
    v = 0.05
    biggest = []

    def clip(ps):
        biggest.append(max(float(p.grad.abs().max()) for p in ps))
        torch.nn.utils.clip_grad_value_(ps, v)
    tri, got, ref, theirs, _ = _run(per_example, sg.optim.SGD(lr=0.5, clip_grad_value=v),
                                    lambda p: torch.optim.SGD(list(p.values()), lr=0.5), clip)
    assert max(biggest) > 2 * v           # the clipping acted
    _check(tri, got, ref, theirs)


@pytest.mark.parametrize("max_norm, norm_type, clips", [(0.1, 2.0, True), (1e3, 2.0, False), (0.05, INF, True)],
                         ids=["2-norm-clips", "2-norm-does-not", "inf-norm-clips"])
def test_clip_grad_norm(max_norm, norm_type, clips):
    opt = sg.optim.Adam(lr=0.02, clip_grad_norm=max_norm, clip_norm_type=norm_type)
    tri, got, ref, theirs, norms = _run(whole_batch, opt, lambda p: torch.optim.Adam(list(p.values()), lr=0.02),
                                        lambda ps: float(torch.nn.utils.clip_grad_norm_(ps, max_norm, norm_type)))
    assert all(n > max_norm for n in norms) if clips else all(n < max_norm for n in norms), norms
    _check(tri, got, ref, theirs)


def test_clip_by_value_then_by_norm_as_torch_calls_them():
    opt = sg.optim.SGD(lr=0.3, momentum=0.5, clip_grad_value=0.1, clip_grad_norm=0.15)

    def clip(ps):
        torch.nn.utils.clip_grad_value_(ps, 0.1)
        return float(torch.nn.utils.clip_grad_norm_(ps, 0.15))
    tri, got, ref, theirs, norms = _run(per_example, opt, lambda p: torch.optim.SGD(list(p.values()), lr=0.3,
                                                                                    momentum=0.5), clip)
    assert min(norms) > 0.15
    _check(tri, got, ref, theirs)


def test_a_clipped_step_by_norm_is_one_launch_more_by_value_none():
    """clip_grad_norm needs every gradient before any update: one launch (clip_norm_kernel) between
    the weight gradients and the update; clip_grad_value is done in the update's blocks."""
    loss, params, inputs, *_ = per_example()

    def launches(opt):
        src = sg.compile(loss, params, inputs, target="triton", optimizer=opt).source
        step = src[src.index("def step("):]
        calls = [ln.strip() for ln in step.splitlines() if "(" in ln and not ln.strip().startswith(("#", "assert", "def"))]
        return [c for c in calls if any(f in c for f in ("launch_", "weight_grad(", "batch_sum(", "update(", "clip_norm("))]
    assert len(launches(sg.optim.Adam())) == 3
    assert len(launches(sg.optim.Adam(clip_grad_value=1.0))) == 3
    assert len(launches(sg.optim.Adam(groups=[{"params": ["b1"], "lr": 0.1}]))) == 3
    assert len(launches(sg.optim.Adam(clip_grad_norm=1.0))) == 4


w, b, x = sp.symbols("w b x")


@pytest.mark.parametrize("norm_type", [2.0, INF])
@pytest.mark.parametrize("w0", [-1.0, 0.0], ids=["nan-gradient", "inf-gradient"])
@pytest.mark.parametrize("order", ["w-first", "w-last"])
def test_nonfinite_gradient_as_the_numpy_target(norm_type, w0, order):
    """√(w·x) at w = −1 has a NaN gradient (every parameter becomes NaN), at w = 0 an inf one (clip_coef
    0: its entries NaN, the others' gradient 0), as torch's clip_grad_norm_ (tests/compiling/
    test_optim_clip_nonfinite.py checks the NumPy target against torch)."""
    params = [w, b] if order == "w-first" else [b, w]
    opt = sg.optim.SGD(lr=0.1, clip_grad_norm=1.0, clip_norm_type=norm_type)
    values, batch = {"w": np.float32(w0), "b": np.float32(1.0)}, {"x": np.ones(2, dtype=np.float32)}
    got = {}
    for target in ("triton", "numpy"):
        prog = sg.compile(sp.sqrt(w * x) + b * x, params, [x], target=target, optimizer=opt)
        with np.errstate(all="ignore"):
            v, _ = prog.step(dict(values), prog.init_state(), batch)
        got[target] = [float(v["w"]), float(v["b"])]
    assert np.isnan(got["numpy"][0]) and (np.isnan(got["numpy"][1]) == (w0 < 0))    # what torch gives
    np.testing.assert_allclose(got["triton"], got["numpy"], rtol=1e-6)      # NaN == NaN here


def test_adagrad_group_with_its_own_initial_accumulator():
    """init_state starts each parameter's slot at its group's value, as the NumPy target's does (the
    Triton program's state is torch tensors, made by codegen/torch_program.py). Not against torch:
    torch.optim.Adagrad (2.x) starts every group's sum at the constructor's initial_accumulator_value."""
    opt = sg.optim.Adagrad(lr=0.1, groups=[{"params": ["W1", "b1"], "initial_accumulator_value": 0.5, "lr": 0.05}])
    tri, got, ref, _, _ = _run(per_example, opt, lambda p: torch.optim.Adagrad(list(p.values()), lr=0.1))
    state = tri.init_state()
    assert float(state["sum"]["W1"].flatten()[0]) == 0.5 and float(state["sum"]["W2"].flatten()[0]) == 0.0
    _equal(got, ref, "Triton target against the NumPy target", 2e-5)


@pytest.mark.parametrize("case", ["tied MLP", "L2 penalty", "class labels"])
def test_clip_norm_and_groups_beyond_the_mlp(case, rng):
    """A tied weight's gradient (two terms' partial sums, one after the other) and a penalty's term
    (one more slice, computed on the host): clip_norm_kernel adds them all before the norm; class
    labels: the update, which checks them on the device, also takes the norm's parts."""
    from tests.codegen.test_triton_generality import CASES, _values_and_batch
    L, params, inputs = CASES[case]
    opt = sg.optim.SGD(lr=0.5, momentum=0.5, clip_grad_norm=0.1,
                       groups=[{"params": [params[1]], "lr": 0.1, "momentum": 0.0}])
    tri, ref = (sg.compile(L, params, inputs, target=tg, optimizer=opt) for tg in ("triton", "numpy"))
    values, batch = _values_and_batch(params, inputs, rng, B=6)
    g = ref.grad(values, batch)
    assert np.sqrt(sum(float((v ** 2).sum()) for v in g.values())) > 0.1        # the clipping acts
    vt, st = dict(values), tri.init_state()
    vr, sr = {n: v.copy() for n, v in values.items()}, ref.init_state()
    for _ in range(STEPS):
        vt, st = tri.step(vt, st, batch)
        vr, sr = ref.step(vr, sr, batch)
    _equal({k: v.detach().cpu().numpy() for k, v in vt.items()}, vr, "Triton target against the NumPy target", 2e-5)
