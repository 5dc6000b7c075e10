"""sg.gradcheck against stand-in programs: anything with .loss(values, batch) and .grad(values, batch)."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.checking.programcheck import band


class StandIn:
    """A compiled program's interface around a NumPy loss and a hand-written gradient. The loss is
    the mean over the batch of ½‖W2 σ(W1 x + b1) + b2 − y‖²; x is (B, 3), y is (B, 2)."""

    def __init__(self, slip=None):
        self.slip = slip

    @staticmethod
    def _forward(v, b):
        Z1 = b["x"] @ v["W1"].T + v["b1"].reshape(1, -1)
        A1 = 1 / (1 + np.exp(-Z1))
        return A1, A1 @ v["W2"].T + v["b2"].reshape(1, -1)

    def loss(self, values, batch):
        v = {getattr(k, "name", k): np.asarray(a) for k, a in values.items()}
        _, out = self._forward(v, batch)
        return float(np.mean(0.5 * np.sum((out - batch["y"]) ** 2, axis=1)))

    def grad(self, values, batch):
        v = {getattr(k, "name", k): np.asarray(a) for k, a in values.items()}
        A1, out = self._forward(v, batch)
        B = batch["x"].shape[0]
        d2 = (out - batch["y"]) / B
        d1 = (d2 @ v["W2"]) * A1 * (1 - A1)
        if self.slip == "sigma":
            d1 = d2 @ v["W2"]                                   # σ' left out
        g = {"W1": d1.T @ batch["x"], "b1": d1.sum(0).reshape(-1, 1), "W2": d2.T @ A1,
             "b2": d2.sum(0).reshape(-1, 1)}
        if self.slip == "bias":
            g["b1"] = d1                                        # not summed over the batch
        if self.slip == "tiny":
            g["W2"] = g["W2"] * (1 + 3e-6)
        return g


def _setup(seed=0, B=8):
    rng = np.random.default_rng(seed)
    values = {"W1": rng.standard_normal((4, 3)), "b1": rng.standard_normal((4, 1)),
              "W2": rng.standard_normal((2, 4)), "b2": rng.standard_normal((2, 1))}
    batch = {"x": rng.standard_normal((B, 3)), "y": rng.standard_normal((B, 2))}
    return values, batch


def test_right_program_passes():
    values, batch = _setup()
    r = sg.gradcheck(StandIn(), values, batch)
    assert r, str(r)
    for name, p in r.params.items():
        assert p.max_rel_error < 1e-7 and p.band == "fine", str(p)
        assert p.taylor_order == pytest.approx(2.0, abs=0.2)
    assert str(r).startswith("gradient ok")


def test_bias_not_summed_is_caught_and_named():
    values, batch = _setup()
    r = sg.gradcheck(StandIn("bias"), values, batch)
    assert not r
    assert r.worst.name == "b1" and r.params["b1"].band == "wrong"
    assert "(8, 4)" in r.params["b1"].note and "missing sum over the batch" in r.params["b1"].note
    assert "b1" in str(r).splitlines()[0]
    assert all(r.params[k].band == "fine" for k in ("W1", "W2", "b2"))


def test_wrong_values_report_worst_entry_and_taylor_order():
    values, batch = _setup()
    r = sg.gradcheck(StandIn("sigma"), values, batch)
    assert not r
    p1 = r.params["W1"]
    assert p1.band == "wrong" and p1.index is not None and len(p1.index) == 2
    # The worst entry reported is the worst: recompute its relative error by hand.
    h = 1e-6
    i, j = p1.index
    plus, minus = dict(values), dict(values)
    plus["W1"] = values["W1"].copy(); plus["W1"][i, j] += h
    minus["W1"] = values["W1"].copy(); minus["W1"][i, j] -= h
    prog = StandIn("sigma")
    num = (prog.loss(plus, batch) - prog.loss(minus, batch)) / (2 * h)
    ana = prog.grad(values, batch)["W1"][i, j]
    assert p1.numeric == pytest.approx(num, rel=1e-5) and p1.analytic == pytest.approx(ana)
    assert p1.taylor_order == pytest.approx(1.0, abs=0.3)        # a wrong gradient: order 1
    assert r.params["W2"].band == "fine"


def test_small_error_gets_the_middle_band():
    values, batch = _setup()
    r = sg.gradcheck(StandIn("tiny"), values, batch)
    assert r.params["W2"].band.startswith("acceptable if the loss has kinks")
    assert bool(r)          # below the default tol of 1e-4


def test_values_keyed_by_symbol():
    values, batch = _setup()
    syms = {n: sp.MatrixSymbol(n, *a.shape) for n, a in values.items()}
    r = sg.gradcheck(StandIn(), {syms[n]: a for n, a in values.items()}, batch)
    assert r and set(r.params) == {"W1", "b1", "W2", "b2"}


def test_step_is_chosen_not_fixed():
    """L = mean sin(k·w·x) with k = 10⁴: a fixed eps of 1e-5 moves k·w·x by 0.1 and the central
    difference is off by ~(0.1)²/6; the Taylor-remainder choice takes a smaller step."""
    k = 1e4

    class Wiggly:
        def loss(self, v, b):
            return float(np.mean(np.sin(k * v["w"] * b["x"])))

        def grad(self, v, b):
            return {"w": np.mean(k * b["x"] * np.cos(k * v["w"] * b["x"]))}

    prog, values, batch = Wiggly(), {"w": np.array(0.3)}, {"x": np.array([0.5, -1.0, 2.0])}
    eps = 1e-5
    fixed = (prog.loss({"w": 0.3 + eps}, batch) - prog.loss({"w": 0.3 - eps}, batch)) / (2 * eps)
    exact = float(prog.grad(values, batch)["w"])
    assert abs(fixed - exact) / abs(exact) > 1e-4          # the fixed step is poor here
    r = sg.gradcheck(prog, values, batch)
    assert r and r.params["w"].max_rel_error < 1e-7 and r.params["w"].step < eps


def test_step_scales_with_the_parameter():
    class Quartic:
        def loss(self, v, b):
            return float(np.mean((v["w"] * b["x"]) ** 4))

        def grad(self, v, b):
            return {"w": np.mean(4 * v["w"] ** 3 * b["x"] ** 4)}

    r = sg.gradcheck(Quartic(), {"w": np.array(1500.0)}, {"x": np.array([0.5, -1.0, 2.0])})
    assert r and r.params["w"].max_rel_error < 1e-7
    assert 1500 * 1e-7 <= r.params["w"].step <= 1500 * 1e-1


def test_bands():
    assert band(1e-9) == "fine"
    assert band(1e-5).startswith("acceptable")
    assert band(1e-3).startswith("uncomfortable")
    assert band(0.5) == "wrong"


def test_gradcheck_agrees_with_check_on_the_same_slip():
    """sg.check with a callable and sg.gradcheck with a program name the same parameter."""
    from test_check import MLP_LOSS, W1, W2, b1, b2, mlp_backprop
    r1 = sg.check(MLP_LOSS, [W1, b1, W2, b2], lambda v: mlp_backprop(v, "bias"))
    values, batch = _setup()
    values = {"W1": values["W1"], "b1": values["b1"], "W2": values["W2"], "b2": values["b2"]}
    values["W1"] = np.random.default_rng(1).standard_normal((5, 3))
    values["b1"] = np.random.default_rng(2).standard_normal((5, 1))
    values["W2"] = np.random.default_rng(3).standard_normal((2, 5))
    r2 = sg.gradcheck(StandIn("bias"), values, batch)
    assert r1.counterexample.param == r2.worst.name == "b1"


def test_gradcheck_on_a_real_compiled_program_and_a_sabotaged_one():
    """sg.gradcheck on sg.compile's Program: right as compiled; wrong once its b1 gradient is replaced
    by the per-example sum (a batch-mean slip), and the report names b1."""
    import sympy as sp

    import symgrad as sg
    net = sg.mlp([3, 5, 2], act=sp.tanh)
    t = sp.MatrixSymbol("t", 2, 1)
    prog = sg.compile(sg.cross_entropy(net.output, t), net.params, [net.input, t], dtype="float64")
    rng = np.random.default_rng(1)
    vals = {str(p): rng.normal(size=p.shape) for p in net.params}
    batch = {"x": rng.normal(size=(6, 3)), "t": np.eye(2)[[0, 1, 1, 0, 1, 0]]}
    assert sg.gradcheck(prog, vals, batch)

    class SummedBias:                         # the gradient of the batch SUM for b1, not the mean
        def loss(self, values, batch):
            return prog.loss(values, batch)

        def grad(self, values, batch):
            g = dict(prog.grad(values, batch))
            g["b1"] = g["b1"] * len(batch["x"])
            return g

    r = sg.gradcheck(SummedBias(), vals, batch)
    assert not r and "b1" in str(r)


def test_gradcheck_of_a_float32_program_differences_its_float64_twin():
    """sg.compile's default dtype is float32; differencing its float32 loss gave relative errors up to
    1 ('gradient WRONG for W1, b1, W2, b2') for a right program. It is now checked through
    Program.in_float64(), the same declaration compiled in float64."""
    net = sg.mlp([8, 6, 3])
    t = sp.MatrixSymbol("t", 3, 1)
    prog = sg.compile(sg.cross_entropy(net.output, t), net.params, [net.input, t])
    assert prog.dtype == np.float32 and prog.in_float64().dtype == np.float64
    rng = np.random.default_rng(0)
    vals = {p.name: rng.normal(0, 0.5, p.shape).astype(np.float32) for p in net.params}
    batch = {"x": rng.random((8, 8)), "t": np.eye(3)[rng.integers(0, 3, 8)]}
    r = sg.gradcheck(prog, vals, batch)
    assert r, str(r)
    assert r.worst.max_rel_error < 1e-6


def test_a_float32_program_without_a_twin_is_differenced_at_its_own_precision():
    """A program that computes in float32 and has no float64 twin (the Triton target): the step is
    chosen with float32's ε (with float64's, a Triton MLP's b1 and W2 were differenced at h = 1e-8,
    where the float32 loss does not move: central difference 0, relative error 1), and the report
    says how far float32's differences can be trusted."""
    class Float32Tanh:
        dtype = np.dtype(np.float32)

        def loss(self, v, b):
            w = np.asarray(v["w"], np.float32)
            return float(np.mean(np.tanh(b["x"].astype(np.float32) @ w) ** 2, dtype=np.float32))

        def grad(self, v, b):
            w, x = np.asarray(v["w"], np.float32), b["x"].astype(np.float32)
            z = np.tanh(x @ w)
            return {"w": (x.T @ (2 * z * (1 - z ** 2)) / z.size).astype(np.float32)}

    rng = np.random.default_rng(3)
    r = sg.gradcheck(Float32Tanh(), {"w": rng.normal(size=(4, 3))}, {"x": rng.normal(size=(6, 4))})
    assert r.worst.max_rel_error < 1e-2, str(r)         # float32's differences, not a 'wrong' of 1
    assert "computes in float32" in str(r)


def test_a_plain_loss_function_is_told_how_to_hand_over_loss_and_grad():
    """cs231n checks `f(W)` against an analytic gradient; gradcheck takes both as .loss and .grad."""
    import types
    import numpy as np
    from symgrad.errors import ArgumentError

    def my_loss(values, batch):
        return float(np.sum(values["W"] ** 2))

    def my_grad(values, batch):
        return {"W": 2 * values["W"]}
    with pytest.raises(ArgumentError) as e:
        sg.gradcheck(my_loss, {"W": np.ones((2, 2))}, {})
    msg = str(e.value)
    assert "the function " in msg and "my_loss, which has no .loss" in msg and " at 0x" not in msg
    assert "types.SimpleNamespace(loss=my_loss, grad=my_grad)" in msg
    # ... and what it says works
    assert sg.gradcheck(types.SimpleNamespace(loss=my_loss, grad=my_grad), {"W": np.ones((2, 2)) / 3}, {})
