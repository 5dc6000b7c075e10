"""Optimizers as SymPy rules, evaluated entrywise with NumPy, against torch.optim in float64.

The problem: a coupled quadratic with a quartic term over one (2, 3) parameter,
    L(x) = ½ xᵀAx − bᵀx + ¼·c·Σ x⁴,   ∇L = Ax − b + c·x³   (x = the parameter, flattened),
whose gradient is computed with NumPy on our side and by torch.autograd on torch's.
"""
import numpy as np
import pytest
import sympy as sp
import torch

from symgrad import optim as O

STEPS = 20
RNG = np.random.default_rng(3)
_M = RNG.normal(size=(6, 6))
A = _M @ _M.T / 6 + np.eye(6)            # positive definite
B = RNG.normal(size=6)
C = 0.1
P0 = np.array([[0.5, -1.0, 0.0], [2.0, 0.3, -0.7]])     # one entry at 0: sign(0) = 0 for l1


def grad_numpy(p):
    x = p.ravel()
    return (A @ x - B + C * x ** 3).reshape(p.shape)


def loss_torch(x, l1=0.0):
    v = x.reshape(-1)
    At, Bt = torch.tensor(A), torch.tensor(B)
    return 0.5 * v @ At @ v - Bt @ v + C * (v ** 4).sum() / 4 + l1 * v.abs().sum()


def ours(opt, steps=STEPS):
    update, p = opt.lambdify(), P0.copy()
    state = opt.init_state(p.shape)
    path = []
    for t in range(1, steps + 1):
        p, state = update(p, grad_numpy(p), state, t)
        path.append(p)
    return np.array(path)


def torchs(make_opt, steps=STEPS, l1=0.0, scheduler=None):
    x = torch.tensor(P0, dtype=torch.float64, requires_grad=True)
    opt = make_opt([x])
    sched = scheduler(opt) if scheduler else None
    path = []
    for _ in range(steps):
        opt.zero_grad()
        loss_torch(x, l1).backward()
        opt.step()
        if sched:
            sched.step()
        path.append(x.detach().numpy().copy())
    return np.array(path)


# (our class, torch class, hyperparameters: the same names on both sides)
CASES = [
    (O.SGD, torch.optim.SGD, dict(lr=0.1)),
    (O.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9)),
    (O.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9, dampening=0.3)),
    (O.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True)),
    (O.Adagrad, torch.optim.Adagrad, dict(lr=0.3)),
    (O.Adagrad, torch.optim.Adagrad, dict(lr=0.3, lr_decay=0.05, initial_accumulator_value=0.2,
                                          eps=1e-6)),
    (O.RMSprop, torch.optim.RMSprop, dict(lr=0.01)),
    (O.RMSprop, torch.optim.RMSprop, dict(lr=0.01, alpha=0.9, momentum=0.5)),
    (O.RMSprop, torch.optim.RMSprop, dict(lr=0.01, alpha=0.9, centered=True, momentum=0.3)),
    (O.Adam, torch.optim.Adam, dict(lr=0.05)),
    (O.Adam, torch.optim.Adam, dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6)),
    (O.Adam, torch.optim.Adam, dict(lr=0.05, amsgrad=True)),
]


def _id(case):
    cls, _, kw = case
    return cls.__name__ + "(" + ",".join(f"{k}={v}" for k, v in kw.items()) + ")"


@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
@pytest.mark.parametrize("case", CASES, ids=_id)
def test_trajectory_equals_torch(case, weight_decay):
    ours_cls, torch_cls, kw = case
    kw = dict(kw, weight_decay=weight_decay)
    got = ours(ours_cls(**kw))
    want = torchs(lambda params: torch_cls(params, **kw))
    assert not np.allclose(got[-1], P0)                      # it moved
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("ours_cls,torch_cls,kw", [
    (O.SGD, torch.optim.SGD, dict(lr=0.05)),
    (O.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True)),
    (O.Adam, torch.optim.Adam, dict(lr=0.05)),
])
def test_l1_equals_torch_with_l1_penalty_in_the_loss(ours_cls, torch_cls, kw):
    # the notes' L1 rule W ← W − η(∇J + λ·sign W) is gradient descent on J + λ·Σ|w|
    got = ours(ours_cls(l1=0.07, **kw))
    want = torchs(lambda params: torch_cls(params, **kw), l1=0.07)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("every", [1, 3])
@pytest.mark.parametrize("ours_cls,torch_cls,kw", [
    (O.SGD, torch.optim.SGD, dict(momentum=0.9)),
    (O.Adagrad, torch.optim.Adagrad, dict(lr_decay=0.1)),
    (O.Adam, torch.optim.Adam, dict(weight_decay=0.1)),
])
def test_linear_annealing_equals_torch_linear_lr(ours_cls, torch_cls, kw, every):
    lr0, lr_end, tau = 0.1, 0.02, 4           # reaches lr_end before the 20 steps end
    got = ours(ours_cls(lr=O.LinearAnnealing(lr0, lr_end, tau=tau, every=every), **kw))

    def sched(opt):
        linear = torch.optim.lr_scheduler.LinearLR(opt, start_factor=1.0, end_factor=lr_end / lr0,
                                                   total_iters=tau)

        class EveryN:                        # step torch's scheduler once per `every` steps
            n = 0

            def step(self):
                self.n += 1
                if self.n % every == 0:
                    linear.step()
        return EveryN()

    want = torchs(lambda params: torch_cls(params, lr=lr0, **kw), scheduler=sched)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_linear_annealing_matches_the_notes_formula():
    # η_k = (1 − k/τ)·η₀ + (k/τ)·η_τ, with k = t − 1 steps, held at η_τ after τ
    t = sp.Symbol("t")
    sched = O.LinearAnnealing(1.0, 0.5, tau=4)
    assert [float(sched(t).subs(t, k)) for k in range(1, 8)] == pytest.approx(
        [1.0, 0.875, 0.75, 0.625, 0.5, 0.5, 0.5])


ALL = [cls(**kw) for cls, _, kw in CASES] + [
    O.SGD(lr=0.1, weight_decay=0.1, l1=0.01), O.Adam(lr=O.LinearAnnealing(0.1, 0.0, 10))]


@pytest.mark.parametrize("opt", ALL, ids=repr)
def test_rules_are_scalar_sympy_in_p_g_state_t(opt):
    p, g, state, t = opt.symbols()
    p_new, new = opt.rules(p, g, state, t)
    assert set(new) == set(opt.slots)
    allowed = {p, g, t, *state.values()}
    for e in [p_new, *new.values()]:
        assert isinstance(e, sp.Expr) and e.free_symbols <= allowed


@pytest.mark.parametrize("make,culprit", [
    (lambda: O.SGD(lr=-1), "lr"),
    (lambda: O.SGD(lr=0.1, nesterov=True), "nesterov"),
    (lambda: O.SGD(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "nesterov"),
    (lambda: O.Adam(betas=(0.9, 1.0)), "betas[1]"),
    (lambda: O.RMSprop(alpha=1.5), "alpha"),
    (lambda: O.Adagrad(eps=-1), "eps"),
    (lambda: O.Adam(weight_decay=-0.1), "weight_decay"),
    (lambda: O.LinearAnnealing(0.1, 0.01, tau=0), "tau"),
    (lambda: O.make("adamax"), "adamax"),
])
def test_bad_hyperparameters_name_the_culprit(make, culprit):
    with pytest.raises(ValueError, match=culprit.replace("[", r"\[")):
        make()


def test_make_by_name():
    assert O.make("nesterov", lr=0.1) == O.SGD(lr=0.1, momentum=0.9, nesterov=True)
    assert O.make("Adam", lr=0.2) == O.Adam(lr=0.2)
    assert O.make("momentum", lr=0.1, momentum=0.5).momentum == 0.5
