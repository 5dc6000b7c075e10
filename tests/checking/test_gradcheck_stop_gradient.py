"""sg.gradcheck of compiled programs that hold a stop_gradient (.detach()): the central differences
are of the loss with each held value fixed at the point, as torch's .detach() defines the gradient.
Before, gradcheck differenced the compiled loss, which sees through the stop_gradient, and read every
such program WRONG. The differences are checked against torch.autograd with .detach(); a wrong
gradient (the see-through one, or one scaled by 1 %) still reads wrong."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from tests.stop_gradient_models import dqn, vq_vae
from symgrad.errors import UnsupportedError

torch = pytest.importorskip("torch")
N = sp.Symbol("N", integer=True, positive=True)
B = 6


def _t(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=float), dtype=torch.float64, requires_grad=grad)


def _torch_grads(torch_loss, vals, data) -> dict:
    tp = {k: _t(v, True) for k, v in vals.items()}
    torch_loss(tp, data).backward()
    return {k: np.zeros(p.shape) if p.grad is None else p.grad.numpy() for k, p in tp.items()}


class Graded:
    """A program's .loss and spec with another gradient: ``grad(values, batch) -> {name: array}``.
    The spec is handed on, so gradcheck holds the stop_gradients the program holds."""

    def __init__(self, prog, grad):
        self.prog, self.spec, self._grad = prog, prog.spec, grad

    def loss(self, values, batch):
        return self.prog.loss(values, batch)

    def grad(self, values, batch):
        return self._grad(values, batch)


def _numeric_agrees_with_torch(r, want):
    """Each parameter's reported central difference at its worst entry is torch's .detach() gradient
    there (an oracle independent of symgrad's gradient)."""
    for name, p in r.params.items():
        at = p.index if p.index is not None else ()
        assert p.numeric == pytest.approx(float(want[name][at]), rel=1e-6, abs=1e-9), name


# -- the models ----------------------------------------------------------------------------------

def _straight_through():
    w, b, x, y = sp.symbols("w b x y", real=True)
    z = w * x + b
    hard = z + sg.stop_gradient(sp.sign(z) - z)          # forward: sign(z); backward: identity
    rng = np.random.default_rng(0)
    data = {"x": rng.normal(size=B), "y": rng.normal(size=B)}
    vals = {"w": np.array(0.7), "b": np.array(-0.2)}

    def tl(p, d):
        zz = p["w"] * _t(d["x"]) + p["b"]
        return ((zz + (torch.sign(zz) - zz).detach() - _t(d["y"])) ** 2).mean()
    return ((hard - y) ** 2, [w, b], [x, y]), ((z - y) ** 2, [w, b], [x, y]), vals, data, tl


def _vq_vae(detach=True):
    loss, params, inputs, vals, data, tl = vq_vae(detach, B)
    return (loss, params, inputs), vals, data, tl


def _dqn(target_network: bool):
    loss, params, inputs, vals, data, tl = dqn(target_network, B)
    return (loss, params, inputs), vals, data, tl


def _compiled(decl, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sg.optim.NoGradientWarning)     # the target network's T1, T2
        return sg.compile(*decl, **kw)


# -- right programs read right -------------------------------------------------------------------

@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_straight_through_estimator_per_example_reads_right_and_differences_as_torch(reduction):
    decl, _, vals, data, tl = _straight_through()
    prog = _compiled(decl, dtype="float64", reduction=reduction)
    r = sg.gradcheck(prog, vals, data)
    assert r, str(r)
    assert r.worst.max_rel_error < 1e-7
    assert "1 stop_gradient held at its value at the point" in str(r)
    scale = len(data["x"]) if reduction == "sum" else 1
    _numeric_agrees_with_torch(r, {k: scale * g for k, g in _torch_grads(tl, vals, data).items()})


def test_vq_vae_whole_batch_reads_right_in_float32_through_its_twin():
    decl, vals, data, tl = _vq_vae()
    prog = _compiled(decl)                                # float32: differenced through in_float64()
    r = sg.gradcheck(prog, vals, data)
    assert r, str(r)
    assert "3 stop_gradients held" in str(r) and "not the interpreter's" not in str(r)
    _numeric_agrees_with_torch(r, _torch_grads(tl, vals, data))


@pytest.mark.parametrize("target_network", [False, True])
def test_dqn_td_target_reads_right(target_network):
    decl, vals, data, tl = _dqn(target_network)
    prog = _compiled(decl, dtype="float64")
    r = sg.gradcheck(prog, vals, data)
    assert r, str(r)
    want = _torch_grads(tl, vals, data)
    _numeric_agrees_with_torch(r, want)
    if target_network:                                    # reached only through the detach: zero
        assert r.params["T1"].numeric == 0 and r.params["T1"].analytic == 0


def test_per_example_tensor_declaration_holds_each_examples_value():
    """A per-example tensor declaration (batched by symgrad): out = z ⊙ sg(z), z = W x, whose
    gradient (with the held z) is half the see-through one."""
    x, W = sg.tensor("x", (3,)), sg.tensor("W", (2, 3))
    z = W @ x
    prog = _compiled(((z * z.detach()).sum(), [W], [x]), dtype="float64")
    rng = np.random.default_rng(7)
    vals, data = {"W": rng.normal(size=(2, 3))}, {"x": rng.normal(size=(B, 3))}
    r = sg.gradcheck(prog, vals, data)
    assert r, str(r)
    want = _torch_grads(lambda p, d: ((_t(d["x"]) @ p["W"].T) * (_t(d["x"]) @ p["W"].T).detach()).sum(1).mean(),
                        vals, data)
    _numeric_agrees_with_torch(r, want)


# -- wrong gradients read wrong ------------------------------------------------------------------

def test_the_see_through_gradient_reads_wrong():
    """The gradient of the same loss without its stop_gradient (what differencing the compiled loss
    checked before) is wrong for the program that holds it — and the stand-in with the program's own
    gradient, its spec handed on the same way, reads right."""
    decl, plain, vals, data, _ = _straight_through()
    prog, see_through = _compiled(decl, dtype="float64"), _compiled(plain, dtype="float64")
    assert sg.gradcheck(Graded(prog, prog.grad), vals, data)
    r = sg.gradcheck(Graded(prog, see_through.grad), vals, data)
    assert not r and r.params["w"].band == "wrong", str(r)


@pytest.mark.parametrize("name", ["We", "E"])
def test_a_gradient_one_percent_off_reads_wrong(name):
    decl, vals, data, _ = _vq_vae()
    prog = _compiled(decl, dtype="float64")

    def off(v, b):
        g = dict(prog.grad(v, b))
        g[name] = 1.01 * g[name]
        return g
    r = sg.gradcheck(Graded(prog, off), vals, data)
    assert not r and r.worst.name == name, str(r)
    assert all(r.params[k].max_rel_error < 1e-7 for k in vals if k != name), str(r)


def test_vq_vae_without_its_detaches_is_a_wrong_gradient_for_the_detached_loss():
    decl, vals, data, _ = _vq_vae()
    plain, _, _, _ = _vq_vae(detach=False)
    prog, see_through = _compiled(decl, dtype="float64"), _compiled(plain, dtype="float64")
    r = sg.gradcheck(Graded(prog, see_through.grad), vals, data)
    assert not r and {"We", "E"} <= {k for k, p in r.params.items() if p.band == "wrong"}, str(r)
    assert r.params["Wd"].max_rel_error < 1e-7            # Wd is not behind a detach: the same


def test_a_wrong_compiled_loss_is_said_so():
    decl, _, vals, data, _ = _straight_through()
    prog = _compiled(decl, dtype="float64")

    class OffLoss(Graded):
        def loss(self, values, batch):
            return 1.5 * prog.loss(values, batch)
    r = sg.gradcheck(OffLoss(prog, prog.grad), vals, data)
    assert "is not the interpreter's" in str(r) and "the compiled loss is wrong" in str(r)


# -- what is refused ------------------------------------------------------------------------------

def test_dropout_with_a_stop_gradient_is_refused_by_name():
    w, x = sp.symbols("w x", real=True)
    prog = _compiled(((sg.dropout(w * x, 0.5) * sg.stop_gradient(w)) ** 2, [w], [x]))
    with pytest.raises(UnsupportedError, match="both dropout and a stop_gradient"):
        sg.gradcheck(prog, {"w": 0.5}, {"x": np.array([1.0, 2.0])})


def test_a_program_without_stop_gradient_is_differenced_through_its_own_loss():
    w, x = sp.symbols("w x", real=True)
    prog = _compiled(((w * x) ** 2, [w], [x]), dtype="float64")
    r = sg.gradcheck(prog, {"w": 0.5}, {"x": np.array([1.0, 2.0])})
    assert r and r.held is None and "stop_gradient" not in str(r)


# -- the Triton target (float32, no float64 twin), under the interpreter ---------------------------

def test_a_triton_straight_through_layer_reads_right_and_one_percent_off_wrong():
    pytest.importorskip("triton")
    D, H, C = 4, 5, 3
    x, y = sg.tensor("x", (N, D)), sg.tensor("y", (N,), integer=True)
    W1, W2 = sg.tensor("W1", (D, H)), sg.tensor("W2", (H, C))
    soft = sg.tanh(x @ W1)
    hard = soft + (sp.sign(soft) - soft).detach()           # forward sign, backward identity
    prog = sg.compile(sg.cross_entropy(hard @ W2, y), [W1, W2], [x, y], target="triton")
    rng = np.random.default_rng(0)
    vals = {"W1": rng.normal(size=(D, H)).astype(np.float32), "W2": rng.normal(size=(H, C)).astype(np.float32)}
    data = {"x": rng.normal(size=(6, D)).astype(np.float32), "y": rng.integers(0, C, 6)}
    r = sg.gradcheck(prog, vals, data)
    assert r, str(r)
    assert "1 stop_gradient held" in str(r) and "compared with that precision's steps" in str(r)

    def off(v, b):
        g = {k: np.array(np.asarray(a), dtype=float) for k, a in prog.grad(v, b).items()}
        g["W1"] *= 1.01
        return g
    r = sg.gradcheck(Graded(prog, off), vals, data)
    assert not r and r.worst.name == "W1", str(r)


def test_matrix_symbols_per_example_columns_passed_as_rows():
    """A per-example declaration in matrix symbols (x a (3, 1) column, passed as (B, 3)): each
    example's held value is its own; the see-through gradient reads wrong."""
    x, t = sp.MatrixSymbol("x", 3, 1), sp.MatrixSymbol("t", 2, 1)
    W1, W2, W3 = sp.MatrixSymbol("W1", 4, 3), sp.MatrixSymbol("W2", 2, 4), sp.MatrixSymbol("W3", 2, 4)
    h = (W1 * x).applyfunc(sp.tanh)
    held = _compiled((sg.mse(W2 * sg.stop_gradient(h) + W3 * h, t), [W1, W2, W3], [x, t]), dtype="float64")
    plain = _compiled((sg.mse(W2 * h + W3 * h, t), [W1, W2, W3], [x, t]), dtype="float64")
    rng = np.random.default_rng(4)
    vals = {"W1": rng.normal(size=(4, 3)), "W2": rng.normal(size=(2, 4)), "W3": rng.normal(size=(2, 4))}
    data = {"x": rng.normal(size=(B, 3)), "t": rng.normal(size=(B, 2))}
    r = sg.gradcheck(held, vals, data)
    assert r, str(r)
    r = sg.gradcheck(Graded(held, plain.grad), vals, data)
    assert not r and r.params["W1"].band == "wrong" and r.params["W2"].max_rel_error < 1e-6, str(r)
