"""Copies and conversions of ``as_torch()`` modules of ``target="numpy"`` programs, declared with
MatrixSymbols, per-example tensors, or tensors over the batch: ``copy.deepcopy``, pickle,
``torch.save`` / ``torch.load`` and a state-dict round trip give a module whose outputs, loss and
gradients are the original's (bitwise: the same generated code on the same values) and whose
parameters are its own; ``.double()`` of a float64 program makes the parameters, outputs, loss and
gradients float64, checked by ``torch.autograd.gradcheck`` (central differences); of a float32
program it is an error that says how to get one.
"""
import copy
import io
import pickle

import numpy as np
import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")

N = sp.Symbol("N", integer=True, positive=True)
D, H, C, B = 4, 5, 3, 6
KINDS = ["matrix", "per_example", "over_the_batch"]
TENSOR_KINDS = KINDS[1:]


def _module(kind, dtype="float32"):
    """x → W2·dropout(tanh(W1·x + b1)), mse; outputs=[the prediction]."""
    if kind == "matrix":
        x, t = sp.MatrixSymbol("x", D, 1), sp.MatrixSymbol("t", C, 1)
        W1, b1, W2 = sp.MatrixSymbol("W1", H, D), sp.MatrixSymbol("b1", H, 1), sp.MatrixSymbol("W2", C, H)
        out = W2 * sg.dropout((W1 * x + b1).applyfunc(sp.tanh), 0.25)
    else:
        lead = () if kind == "per_example" else (N,)
        x, t = sg.tensor("x", lead + (D,)), sg.tensor("t", lead + (C,))
        W1, b1, W2 = sg.tensor("W1", (H, D)), sg.tensor("b1", (H,)), sg.tensor("W2", (C, H))
        out = sg.dropout(sp.tanh(x @ W1.T + b1), 0.25) @ W2.T
    prog = sg.compile(sg.mse(out, t), [W1, b1, W2], [x, t], outputs=[out], dtype=dtype)
    return prog.as_torch(generator=torch.Generator().manual_seed(1))


def _data(dtype=torch.float32):
    g = torch.Generator().manual_seed(2)
    return torch.randn(B, D, generator=g, dtype=dtype), torch.randn(B, C, generator=g, dtype=dtype)


def _run(module, X, T):
    """(outputs, loss, {parameter: gradient of Σ outputs + loss}, input gradient), eval mode."""
    module.eval()
    module.zero_grad()
    x = X.clone().requires_grad_(True)
    out = module(x)
    loss = module.loss(x, T)
    (out.sum() + loss).backward()
    return out.detach(), loss.detach(), {n: p.grad.clone() for n, p in module.named_parameters()}, x.grad


def _same(a, b):
    oa, la, ga, xa = a
    ob, lb, gb, xb = b
    assert torch.equal(oa, ob) and torch.equal(la, lb) and torch.equal(xa, xb)
    assert ga.keys() == gb.keys() and all(torch.equal(ga[n], gb[n]) for n in ga)


def _torch_roundtrip(module):
    buf = io.BytesIO()
    torch.save(module, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=False)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("how", ["deepcopy", "pickle", "torch_save"])
def test_copies_compute_what_the_original_does_with_parameters_of_their_own(kind, how):
    module = _module(kind)
    X, T = _data()
    want = _run(module, X, T)
    twin = {"deepcopy": copy.deepcopy, "pickle": lambda m: pickle.loads(pickle.dumps(m)),
            "torch_save": _torch_roundtrip}[how](module)
    _same(_run(twin, X, T), want)
    with torch.no_grad():
        twin.parameter("W1").add_(1.0)
    assert not torch.equal(twin.parameter("W1"), module.parameter("W1"))
    _same(_run(module, X, T), want)


@pytest.mark.parametrize("kind", KINDS)
def test_state_dict_round_trip(kind):
    module = _module(kind)
    with torch.no_grad():
        for p in module.parameters():
            p.mul_(3.0)
    fresh = _module(kind)
    X, T = _data()
    assert not torch.equal(_run(fresh, X, T)[1], _run(module, X, T)[1])
    fresh.load_state_dict(module.state_dict())
    assert list(fresh.state_dict()) == ["W1", "b1", "W2"]
    _same(_run(fresh, X, T), _run(module, X, T))


@pytest.mark.parametrize("kind", KINDS)
def test_double_of_a_float64_program_passes_gradcheck(kind):
    """In float64 the module's gradients (through the outputs and the fused loss, parameters and
    inputs) equal central differences of its own forward: torch.autograd.gradcheck."""
    module = _module(kind, "float64").double().eval()
    assert all(p.dtype == torch.float64 for p in module.parameters())
    X, T = _data(torch.float64)
    x = X.clone().requires_grad_(True)
    params = [module.parameter(n) for n in ("W1", "b1", "W2")]
    assert module(x).dtype == torch.float64 and module.loss(x, T).dtype == torch.float64
    assert torch.autograd.gradcheck(lambda x, *ps: module(x), (x, *params))
    assert torch.autograd.gradcheck(lambda x, *ps: module.loss(x, T), (x, *params))
    module.float()                                       # and back
    assert module(X.float()).dtype == torch.float32


@pytest.mark.parametrize("kind", KINDS)
def test_double_of_a_float32_program_and_half_are_errors_saying_how(kind):
    module = _module(kind)
    with pytest.raises(sg.UnsupportedError, match=r"float32.*dtype='float64' \(its module is float64 from the start\)"):
        module.double()
    with pytest.raises(sg.UnsupportedError, match="float16"):
        _module(kind, "float64").half()
    assert all(p.dtype == torch.float32 for p in module.parameters())


@pytest.mark.parametrize("kind", TENSOR_KINDS)
def test_a_float64_programs_module_starts_in_float64_with_the_values_unrounded(kind):
    """A torch user who compiles with dtype="float64" gets a float64 module (it was float32 until
    .double(), so its loss differed from the program's by float32's rounding, ~1e-8): the given
    values are kept to the last bit, and loss and gradients equal the program's."""
    x = sg.tensor("x", (N, D)) if kind == "over_the_batch" else sg.tensor("x", (D,))
    t = sg.tensor("t", x.shape[:-1] + (C,))
    W1, b1, W2 = sg.tensor("W1", (H, D)), sg.tensor("b1", (H,)), sg.tensor("W2", (C, H))
    out = sp.tanh(x @ W1.T + b1) @ W2.T if kind == "over_the_batch" else W2 @ sp.tanh(W1 @ x + b1)
    prog = sg.compile(sg.mse(out, t), [W1, b1, W2], [x, t], outputs=[out], dtype="float64")
    g = torch.Generator().manual_seed(3)
    values = {n: torch.randn(s, generator=g, dtype=torch.float64).numpy() for n, s in
              (("W1", (H, D)), ("b1", (H,)), ("W2", (C, H)))}
    module = prog.as_torch(values)
    assert all(p.dtype == torch.float64 for p in module.parameters())
    assert all(np.array_equal(module.parameter(n).detach().numpy(), v) for n, v in values.items())
    X, T = _data(torch.float64)
    loss = module.loss(X, T)
    loss.backward()
    assert loss.dtype == torch.float64 and module(X).dtype == torch.float64
    assert loss.item() == pytest.approx(prog.loss(values, {"x": X.numpy(), "t": T.numpy()}), rel=1e-14)
    want = prog.grad(values, {"x": X.numpy(), "t": T.numpy()})
    for n in values:
        np.testing.assert_allclose(module.parameter(n).grad.numpy(), want[n], rtol=1e-12, atol=1e-15)
    module.float()
    assert all(p.dtype == torch.float32 for p in module.parameters())
    assert module(X.float()).dtype == torch.float32
