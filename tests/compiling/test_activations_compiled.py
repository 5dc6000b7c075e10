"""The elementwise functions of matrices (sg.tanh ... sg.hardtanh): gradients of a compiled matrix
layer equal torch.autograd's of torch.nn.functional's function, on the NumPy backend in float64 and
on the Triton backend (under the interpreter without a GPU) in float32."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")
F = torch.nn.functional

# (name, symgrad's function, torch's, whether the input must be positive)
CASES = [
    ("gelu", sg.gelu, F.gelu, False),
    ("gelu_tanh", lambda z: sg.gelu(z, approximate="tanh"), lambda t: F.gelu(t, approximate="tanh"), False),
    ("silu", sg.silu, F.silu, False),
    ("elu", sg.elu, F.elu, False),
    ("elu_alpha", lambda z: sg.elu(z, alpha=0.5), lambda t: F.elu(t, alpha=0.5), False),
    ("selu", sg.selu, F.selu, False),
    ("softsign", sg.softsign, F.softsign, False),
    ("hardtanh", sg.hardtanh, F.hardtanh, False),
    ("tanh", sg.tanh, torch.tanh, False),
    ("erf", sg.erf, torch.erf, False),
    ("abs", sg.abs, torch.abs, False),
    ("exp", sg.exp, torch.exp, False),
    ("log", sg.log, torch.log, True),
    ("sqrt", sg.sqrt, torch.sqrt, True),
]
IDS = [c[0] for c in CASES]

W, x, b = sp.MatrixSymbol("W", 3, 4), sp.MatrixSymbol("x", 4, 1), sp.MatrixSymbol("b", 3, 1)


def layer_values(positive, seed=0):
    rng = np.random.default_rng(seed)
    if positive:       # W x + b > 0 for log and sqrt
        return {"W": rng.uniform(0.1, 1, (3, 4)), "b": rng.uniform(0.1, 1, (3, 1))}, rng.uniform(0.1, 2, (6, 4))
    # wide enough to reach every branch (elu's, hardtanh's corners at ±1, gelu's tails)
    return {"W": rng.normal(size=(3, 4)), "b": rng.normal(size=(3, 1))}, 2 * rng.normal(size=(6, 4))


def torch_reference(tf, values, X):
    """Mean over the batch of Σ f(W x + b), and its gradients, by torch.autograd in float64."""
    Wt = torch.tensor(values["W"], dtype=torch.float64, requires_grad=True)
    bt = torch.tensor(values["b"], dtype=torch.float64, requires_grad=True)
    loss = tf(Wt @ torch.tensor(X, dtype=torch.float64).T + bt).sum(0).mean()
    gW, gb = torch.autograd.grad(loss, [Wt, bt])
    return float(loss.detach()), {"W": gW.numpy(), "b": gb.numpy()}


@pytest.mark.parametrize("name,f,tf,positive", CASES, ids=IDS)
def test_numpy_gradient_equals_torch(name, f, tf, positive):
    values, X = layer_values(positive)
    prog = sg.compile(sg.sum(f(W * x + b)), [W, b], [x], dtype="float64")
    loss, grads = torch_reference(tf, values, X)
    assert prog.loss(values, {"x": X}) == pytest.approx(loss, rel=1e-12, abs=1e-12)
    got = prog.grad(values, {"x": X})
    for k in grads:
        np.testing.assert_allclose(got[k], grads[k], rtol=1e-11, atol=1e-12, err_msg=f"{name}: ∂/∂{k}")


@pytest.mark.slow
@pytest.mark.parametrize("name,f,tf,positive", [c for c in CASES if c[0] in
                                                ("gelu", "gelu_tanh", "silu", "elu", "selu", "softsign",
                                                 "hardtanh", "erf")],
                         ids=["gelu", "gelu_tanh", "silu", "elu", "selu", "softsign", "hardtanh", "erf"])
def test_triton_gradient_equals_torch(name, f, tf, positive):
    pytest.importorskip("triton")
    values, X = layer_values(positive)
    prog = sg.compile(sg.sum(f(W * x + b)), [W, b], [x], target="triton")     # float32 kernels
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    tv = {k: torch.tensor(v, dtype=torch.float32, device=dev) for k, v in values.items()}
    loss, grads = torch_reference(tf, values, X)
    batch = {"x": torch.tensor(X, dtype=torch.float32, device=dev)}
    assert float(prog.loss(tv, batch)) == pytest.approx(loss, rel=1e-5, abs=1e-5)
    got = prog.grad(tv, batch)
    for k in grads:
        np.testing.assert_allclose(got[k].cpu().numpy(), grads[k], rtol=1e-4, atol=2e-5, err_msg=f"{name}: ∂/∂{k}")


@pytest.mark.parametrize("name,f,tf,positive", CASES, ids=IDS)
def test_scalar_derivative_is_torchs(name, f, tf, positive):
    """sp.diff of the scalar function (its fdiff, the textbook derivative) at points on every branch."""
    z = sp.Symbol("z", real=True)
    d = sp.diff(f(z), z)
    points = [0.3, 1.7, 4.0] if positive else [-3.1, -1.0 + 1e-3, -0.4, 0.6, 0.999, 2.5]
    for p in points:
        t = torch.tensor(p, dtype=torch.float64, requires_grad=True)
        (want,) = torch.autograd.grad(tf(t), [t])
        assert float(sp.N(d.subs(z, p), 30)) == pytest.approx(float(want), rel=1e-12, abs=1e-14), (name, p)


@pytest.mark.parametrize("name,f,tf,positive", CASES[:8], ids=IDS[:8])
def test_on_tensor_expressions(name, f, tf, positive):
    """On an sg.tensor expression the function applies entry by entry; its gradient is torch's."""
    t = sg.tensor("t", (2, 3))
    rng = np.random.default_rng(2)
    v = 2 * rng.normal(size=(2, 3))
    g = sg.numeric(sg.grad(sg.sum(f(t)), t), {"t": v})
    tt = torch.tensor(v, requires_grad=True)
    (want,) = torch.autograd.grad(tf(tt).sum(), [tt])
    np.testing.assert_allclose(np.asarray(g, dtype=float), want.numpy(), rtol=1e-12, atol=1e-14)
