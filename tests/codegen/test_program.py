"""The Program API: step with optimizers (SGD, and small optimizers declared here against the
contract of symgrad.compiling.optim), forward, dropout, save-and-import without symgrad, the module cache."""
import os
import subprocess
import sys
from dataclasses import dataclass

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.compiling.optim import SGD, Optimizer
from tests.custom_optimizers import HeavyBall

torch = pytest.importorskip("torch")


def _net(widths=(3, 5, 2), act=sp.tanh, **kw):
    n = sg.mlp(list(widths), act=act)
    t = sp.MatrixSymbol("t", widths[-1], 1)
    prog = sg.compile(sg.mse(n.output, t), n.params, [n.input, t], dtype="float64",
                      outputs=[n.output], **kw)
    return n, t, prog


def _data(rng, widths=(3, 5, 2), B=8):
    return {"x": rng.normal(size=(B, widths[0])), "t": rng.normal(size=(B, widths[-1]))}


def _torch_trajectory(values, batch, make_opt, steps):
    tv = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in values.items()}
    opt = make_opt(list(tv.values()))
    X, T = torch.tensor(batch["x"]), torch.tensor(batch["t"])
    for _ in range(steps):
        opt.zero_grad()
        h = torch.tanh(X @ tv["W1"].T + tv["b1"].T)
        out = h @ tv["W2"].T + tv["b2"].T
        (0.5 * ((out - T) ** 2).sum(1).mean()).backward()
        opt.step()
    return {k: v.detach().numpy() for k, v in tv.items()}


@dataclass
class Lagged(Optimizer):
    """p ← p − lr·v_old; v ← μv + g: the parameter needs the slot's OLD value."""
    lr: float = 0.05
    mu: float = 0.5
    slots = ("v",)

    def rules(self, p, g, state, t):
        return p - self.lr * state["v"], {"v": self.mu * state["v"] + g}


@dataclass
class Warmup(Optimizer):
    """p ← p − lr·(1 − 0.5^t)·g: uses the step number t and a non-zero initial slot."""
    lr: float = 0.1
    slots = ("c",)
    initial = {"c": 1.0}

    def rules(self, p, g, state, t):
        return p - self.lr * (1 - sp.Rational(1, 2) ** t) * g * state["c"], {"c": state["c"]}


def test_step_with_sgd_equals_torch(rng):
    n, t, _ = _net()
    prog = sg.compile(sg.mse(n.output, t), n.params, [n.input, t], dtype="float64", optimizer=SGD(lr=0.1))
    values = {p.name: rng.normal(size=p.shape) for p in n.params}
    batch = _data(rng)
    want = _torch_trajectory(values, batch, lambda ps: torch.optim.SGD(ps, lr=0.1), 20)
    vals, state = {k: v.copy() for k, v in values.items()}, prog.init_state(values)
    for _ in range(20):
        vals, state = prog.step(vals, state, batch)
    assert state["t"] == 20
    for k in values:
        np.testing.assert_allclose(vals[k], want[k], rtol=1e-9, atol=1e-12)


def test_default_optimizer_is_sgd_lr_001(rng):
    n, t, prog = _net()
    values = {p.name: rng.normal(size=p.shape) for p in n.params}
    batch = _data(rng)
    g = prog.grad(values, batch)
    new, _ = prog.step({k: v.copy() for k, v in values.items()}, prog.init_state(values), batch)
    for k in values:
        np.testing.assert_allclose(new[k], values[k] - 0.01 * g[k], rtol=1e-12)


def test_step_with_an_optimizer_declared_here_equals_torch_momentum(rng):
    n, t, _ = _net()
    prog = sg.compile(sg.mse(n.output, t), n.params, [n.input, t], dtype="float64", optimizer=HeavyBall())
    values = {p.name: rng.normal(size=p.shape) for p in n.params}
    batch = _data(rng)
    want = _torch_trajectory(values, batch, lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9), 20)
    vals, state = {k: v.copy() for k, v in values.items()}, prog.init_state(values)
    assert set(state) == {"t", "v"} and state["v"]["W1"].shape == (5, 3)
    for _ in range(20):
        vals, state = prog.step(vals, state, batch)
    for k in values:
        np.testing.assert_allclose(vals[k], want[k], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("opt", [Lagged(), Warmup()], ids=["old-slot-value", "step-number"])
def test_step_follows_the_rules_entrywise(opt, rng):
    """Reference: apply the optimizer's own SymPy rules with Python floats, entry by entry, using
    the compiled .grad (checked against torch elsewhere)."""
    n, t, _ = _net()
    prog = sg.compile(sg.mse(n.output, t), n.params, [n.input, t], dtype="float64", optimizer=opt)
    values = {p.name: rng.normal(size=p.shape) for p in n.params}
    batch = _data(rng)
    P, G, S, T = opt.symbols()
    p_new, s_new = opt.rules(P, G, S, T)
    ref = {k: v.copy() for k, v in values.items()}
    ref_state = {s: {k: np.full(v.shape, float(opt.initial.get(s, 0.0))) for k, v in values.items()}
                 for s in opt.slots}
    vals, state = {k: v.copy() for k, v in values.items()}, prog.init_state(values)
    for step in range(1, 6):
        g = prog.grad(ref, batch)
        for k in ref:
            for idx in np.ndindex(ref[k].shape):
                sub = {P: ref[k][idx], G: g[k][idx], T: step}
                sub.update({S[s]: ref_state[s][k][idx] for s in opt.slots})
                newp = float(p_new.subs(sub))
                for s in opt.slots:
                    ref_state[s][k][idx] = float(sp.sympify(s_new[s]).subs(sub))
                ref[k][idx] = newp
        vals, state = prog.step(vals, state, batch)
    for k in ref:
        np.testing.assert_allclose(vals[k], ref[k], rtol=1e-11)


def test_step_updates_in_place_and_returns_the_arrays(rng):
    n, t, prog = _net()
    values = {p.name: rng.normal(size=p.shape) for p in n.params}
    W1 = values["W1"]
    before = W1.copy()
    new, _ = prog.step(values, prog.init_state(values), _data(rng))
    assert new["W1"] is W1 and not np.array_equal(W1, before)
    assert prog.last_loss > 0
    # a list is converted: the caller's object is left alone
    lst = {k: v.tolist() for k, v in values.items()}
    new2, _ = prog.step(lst, prog.init_state(values), _data(rng))
    assert isinstance(new2["W1"], np.ndarray) and lst["W1"] == values["W1"].tolist()


def test_forward_returns_batched_outputs(rng):
    n, t, prog = _net()
    values = {p.name: rng.normal(size=p.shape) for p in n.params}
    X = rng.normal(size=(4, 3))
    (out,) = prog.forward(values, {"x": X})           # the targets are not needed
    ref = np.tanh(X @ values["W1"].T + values["b1"].T) @ values["W2"].T + values["b2"].T
    np.testing.assert_allclose(out, ref, rtol=1e-12)


def test_dropout_is_seeded_on_in_training_and_off_in_loss(rng):
    x = sp.MatrixSymbol("x", 6, 1)
    W = sp.MatrixSymbol("W", 4, 6)
    v = sp.MatrixSymbol("v", 1, 4)
    y = sp.MatrixSymbol("y", 1, 1)
    h = sg.dropout(sg.relu(W * x), 0.5)
    loss = sg.sum(sp.HadamardProduct(y, v * h))          # linear in the mask
    plain = sg.sum(sp.HadamardProduct(y, v * sg.relu(W * x)))
    values = {"W": rng.normal(size=(4, 6)), "v": rng.normal(size=(1, 4))}
    batch = {"x": rng.normal(size=(16, 6)), "y": rng.normal(size=(16, 1))}
    a = sg.compile(loss, [W, v], [x, y], dtype="float64", seed=7)
    b = sg.compile(loss, [W, v], [x, y], dtype="float64", seed=7)
    c = sg.compile(loss, [W, v], [x, y], dtype="float64", seed=8)
    ref = sg.compile(plain, [W, v], [x, y], dtype="float64")
    # evaluation mode: dropout off
    assert a.loss(values, batch) == pytest.approx(ref.loss(values, batch), rel=1e-14)
    ga, gb, gc = a.grad(values, batch), b.grad(values, batch), c.grad(values, batch)
    np.testing.assert_array_equal(ga["W"], gb["W"])                  # same seed, same masks
    assert not np.allclose(ga["W"], gc["W"])                           # another seed, other masks
    assert not np.allclose(ga["W"], ref.grad(values, batch)["W"])     # masks are applied
    # unbiased: averaged over many draws the masked gradient of v approaches the plain one
    # (the loss, so v's gradient, is linear in the mask, whose mean is 1)
    mean_gv = np.mean([a.grad(values, batch)["v"] for _ in range(400)], axis=0)
    np.testing.assert_allclose(mean_gv, ref.grad(values, batch)["v"], rtol=0.15, atol=0.05)


def test_dropout_with_p_zero_changes_nothing(rng):
    x = sp.MatrixSymbol("x", 3, 1)
    W = sp.MatrixSymbol("W", 2, 3)
    y = sp.MatrixSymbol("y", 2, 1)
    a = sg.compile(sg.mse(sg.dropout(W * x, 0.0), y), [W], [x, y], dtype="float64")
    b = sg.compile(sg.mse(W * x, y), [W], [x, y], dtype="float64")
    values, batch = {"W": rng.normal(size=(2, 3))}, {"x": rng.normal(size=(5, 3)), "y": rng.normal(size=(5, 2))}
    np.testing.assert_allclose(a.grad(values, batch)["W"], b.grad(values, batch)["W"], rtol=1e-14)


def test_saved_module_runs_without_symgrad(tmp_path, rng):
    n, t, prog = _net()
    path = tmp_path / "step_module.py"
    prog.save(path)
    values = {p.name: rng.normal(size=p.shape) for p in n.params}
    batch = _data(rng)
    np.savez(tmp_path / "data.npz", **{f"p{i}": values[p.name] for i, p in enumerate(n.params)},
             x=batch["x"], t=batch["t"])
    script = f"""
import sys
sys.path[:] = [p for p in sys.path if 'wt' not in p and 'work' not in p] + [{str(tmp_path)!r}]
for blocked in ('symgrad', 'codegen', 'sympy'):
    sys.modules[blocked] = None          # importing any of them now raises ImportError
import numpy
import step_module as m
d = numpy.load({str(tmp_path / 'data.npz')!r})
params = [d['p0'].copy(), d['p1'].copy(), d['p2'].copy(), d['p3'].copy()]
loss, grads = m.grad(params, [d['x'], d['t']])
print(repr(loss)); print(repr(float(grads[0][0, 0])))
"""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    r = subprocess.run([sys.executable, "-I", "-c", script], capture_output=True, text=True, env=env,
                       cwd=str(tmp_path), timeout=60)
    assert r.returncode == 0, r.stderr
    loss, g00 = map(float, r.stdout.split())
    assert loss == pytest.approx(prog.loss(values, batch), rel=1e-14)
    assert g00 == pytest.approx(float(prog.grad(values, batch)["W1"][0, 0]), rel=1e-14)


def test_corrupt_cache_entry_is_rebuilt(tmp_path, monkeypatch):
    from codegen import runtime
    monkeypatch.setenv("SYMGRAD_CACHE", str(tmp_path))
    source = "VALUE = 41 + 1\n"
    runtime._LOADED.clear()
    assert runtime.load(source).VALUE == 42
    (path,) = [p for p in tmp_path.iterdir() if p.suffix == ".py"]
    path.write_text("VALUE = 'garbage' +\n")            # a torn or edited file
    runtime._LOADED.clear()
    assert runtime.load(source).VALUE == 42
    assert path.read_text() == source
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp")]


def test_same_program_is_cached_once(tmp_path, monkeypatch):
    from codegen import runtime
    monkeypatch.setenv("SYMGRAD_CACHE", str(tmp_path))
    w, x = sp.symbols("w x")
    p1 = sg.compile((w * x) ** 2, [w], [x])
    p2 = sg.compile((w * x) ** 2, [w], [x])
    assert p1.source == p2.source
    assert len([p for p in tmp_path.iterdir() if p.suffix == ".py"]) <= 1


def test_source_is_readable_numpy_only():
    n, t, prog = _net()
    src = prog.source
    imports = [ln for ln in src.splitlines() if ln.startswith(("import", "from"))]
    assert imports == ["import numpy"]
    assert "def step(" in src and "assert p0.shape == (5, 3)" in src
    assert "x0 @ p0.T" in src                        # W·x per example is a matrix product on the batch
    assert "∂L/∂p0" in src                           # derivation steps in comments


@dataclass
class TinyAdam(Optimizer):
    """Adam as torch writes it (bias-corrected moments, ε outside the square root), declared here
    only to exercise two slots and the step number in the compiled update."""
    lr: float = 0.01
    b1: float = 0.9
    b2: float = 0.999
    eps: float = 1e-8
    slots = ("m", "v")

    def rules(self, p, g, state, t):
        m = self.b1 * state["m"] + (1 - self.b1) * g
        v = self.b2 * state["v"] + (1 - self.b2) * g ** 2
        mhat = m / (1 - self.b1 ** t)
        vhat = v / (1 - self.b2 ** t)
        return p - self.lr * mhat / (sp.sqrt(vhat) + self.eps), {"m": m, "v": v}


def test_two_slot_optimizer_updates_slots_in_place_and_equals_torch_adam(rng):
    n, t, _ = _net()
    prog = sg.compile(sg.mse(n.output, t), n.params, [n.input, t], dtype="float64", optimizer=TinyAdam())
    src = prog.source[prog.source.index("def step"):]
    assert "n0_0" not in src              # the new moments were reused, no temporaries needed
    values = {p.name: rng.normal(size=p.shape) for p in n.params}
    batch = _data(rng)
    want = _torch_trajectory(values, batch, lambda ps: torch.optim.Adam(ps, lr=0.01), 20)
    vals, state = {k: v.copy() for k, v in values.items()}, prog.init_state(values)
    for _ in range(20):
        vals, state = prog.step(vals, state, batch)
    for k in values:
        np.testing.assert_allclose(vals[k], want[k], rtol=1e-9, atol=1e-12)


def test_core_does_not_import_a_backend():
    code = ("import sys, symgrad as sg, sympy as sp\n"
            "assert not any(m.startswith('codegen') for m in sys.modules), 'imported early'\n"
            "w, x = sp.symbols('w x')\n"
            "sg.compile(w * x, [w], [x])\n"
            "assert 'codegen.numpy_backend' in sys.modules\n"
            "assert sg.Program.__name__ == 'Program'\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                       env=dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(
                           os.path.dirname(os.path.abspath(__file__))))))
    assert r.returncode == 0, r.stderr


def test_dropout_of_a_scalar():
    w, x, y = sp.symbols("w x y")
    prog = sg.compile((sg.dropout(w * x, 0.25) - y) ** 2, [w], [x, y], dtype="float64", seed=3)
    batch = {"x": np.ones(4000), "y": np.zeros(4000)}
    assert prog.loss({"w": 1.0}, batch) == pytest.approx(1.0)        # evaluation mode: no dropout
    g = float(prog.grad({"w": 1.0}, batch)["w"])
    # d/dw mean((m·w·x)²) = 2·mean(m²) with m ∈ {0, 4/3}, P(m ≠ 0) = 3/4: expected 2·(16/9)·(3/4) = 8/3
    assert g == pytest.approx(8 / 3, rel=0.05)


def test_forward_returns_a_repeated_output_twice(rng):
    """outputs=[o, o]: the same equation is computed once and returned in both places."""
    w, x = sp.symbols("w x")
    prog = sg.compile((w * x) ** 2, [w], [x], outputs=[w * x, w * x, 2 * w], dtype="float64")
    a, b, c = prog.forward({"w": 3.0}, {"x": [1.0, 2.0]})
    np.testing.assert_allclose(a, [3.0, 6.0])
    np.testing.assert_allclose(b, [3.0, 6.0])
    np.testing.assert_allclose(np.broadcast_to(c, (2,)), [6.0, 6.0])
