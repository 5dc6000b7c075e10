"""A scalar parameter s scaling a whole per-example value on the Triton target: ``(h * s) * s``,
``s * h``, ``h * s + b``, ``tanh(s * h)``, ``(h * s).detach() * s`` with h = x @ W. ∂L/∂s reads Σ_j h_j per example, which
the forward pass reads too (the loss is s²·Σ_j h_j): the kernels compute that sum once, and only
what follows its batch sum (× s, × the mean's scale) is the host's (`KernelScheduler._host_terms`).
It raised a bare KeyError in the plan before.

Each case is compared with the NumPy target (loss, gradients, 3 Adam steps) and with
torch.autograd (loss, gradients), at float32 tolerance. Tiny shapes: Triton's interpreter.
"""
import warnings

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from tests.codegen.test_triton_tensors import _close, _same_as_numpy

torch = pytest.importorskip("torch")
pytest.importorskip("triton")

N = sp.Symbol("N", integer=True, positive=True)
D, H = 3, 4
x, W, b, s = sg.tensor("x", (N, D)), sg.tensor("W", (D, H)), sg.tensor("b", (H,)), sp.Symbol("s")
V = sg.tensor("V", (D, H))


def _case(name):
    """(loss, params, the same loss in torch of a dict of tensors)."""
    if name == "scaled twice":
        return (((x @ W) * s) * s).mean(), [W, s], lambda t: ((t["x"] @ t["W"] * t["s"]) * t["s"]).mean()
    if name == "scaled once, scalar first":
        return (s * (x @ W)).mean(), [W, s], lambda t: (t["s"] * (t["x"] @ t["W"])).mean()
    if name == "scaled plus a bias":
        return sg.sum(((x @ W) * s + b) ** 2) / 5, [W, s, b], \
            lambda t: (((t["x"] @ t["W"]) * t["s"] + t["b"]) ** 2).sum() / 5
    if name == "in an activation":
        return sg.tanh(s * (x @ W)).mean(), [W, s], lambda t: torch.tanh(t["s"] * (t["x"] @ t["W"])).mean()
    if name == "scaled, detached, scaled":
        return (((x @ W) * s).detach() * s).mean(), [W, s], \
            lambda t: ((t["x"] @ t["W"] * t["s"]).detach() * t["s"]).mean()
    if name == "one layer of a sum scaled":       # s·(1/n) from a mean over two layers: the host's c·1
        return (s * (x @ V) + sg.tanh(x @ W)).mean(), [W, V, s], \
            lambda t: (t["s"] * (t["x"] @ t["V"]) + torch.tanh(t["x"] @ t["W"])).mean()
    if name == "exp of s scaling one layer":
        return (sg.exp(s) * (x @ V) + x @ W).mean(), [W, V, s], \
            lambda t: (torch.exp(t["s"]) * (t["x"] @ t["V"]) + t["x"] @ t["W"]).mean()
    raise KeyError(name)


CASES = ["scaled twice", "scaled once, scalar first", "scaled plus a bias", "in an activation",
         "scaled, detached, scaled", "one layer of a sum scaled", "exp of s scaling one layer"]


@pytest.mark.parametrize("case", CASES)
def test_a_scalar_parameter_scaling_a_batch_equals_numpy_and_torch(case, rng):
    loss, params, torch_loss = _case(case)
    with warnings.catch_warnings():     # (W gets no gradient through the detach: said, and expected)
        warnings.simplefilter("ignore", sg.optim.NoGradientWarning)
        tri, ref = [sg.compile(loss, params, [x], target=t, optimizer=sg.optim.Adam(lr=0.05))
                    for t in ("triton", "numpy")]
    values = {p.name: np.asarray(0.5 * rng.normal(size=tuple(int(d) for d in getattr(p, "shape", ()))),
                                 dtype=np.float32) for p in params}
    batch = {"x": rng.normal(size=(5, D)).astype(np.float32)}
    _same_as_numpy(tri, ref, values, batch)

    t = {n: torch.tensor(np.asarray(v, dtype=np.float64), requires_grad=True) for n, v in values.items()}
    t["x"] = torch.tensor(batch["x"].astype(np.float64))
    want = torch_loss(t)
    want.backward()
    _close(tri.loss(values, batch), want.item(), "loss against torch")
    got = tri.grad(values, batch)
    for p in params:
        want_grad = t[p.name].grad          # (None for W through the detach: no path, a zero gradient)
        want_grad = np.zeros(np.shape(values[p.name])) if want_grad is None else want_grad.numpy()
        _close(got[p.name], want_grad, f"d loss / d {p.name} against torch")
