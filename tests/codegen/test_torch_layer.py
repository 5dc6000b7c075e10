"""`Program.as_torch()` as a torch layer, against the same network written in torch.

The kernels run under Triton's interpreter on the CPU (tests/conftest.py), so widths are 4-6 and
batches 8. The oracle is torch.autograd on an all-torch model (nn.Linear layers) that starts from
the same values, loaded through the module's nn.Linear state-dict mapping.
"""
import copy
import pickle

import numpy as np
import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")
pytest.importorskip("triton")

F = torch.nn.functional


def _program(target="triton", outputs=True):
    net = sg.mlp([4, 6, 3], act=sg.relu)
    t = sp.MatrixSymbol("t", 3, 1)
    return sg.compile(sg.cross_entropy(net.output, t), net.params, [net.input, t], target=target,
                      outputs=[net.output] if outputs else None)


@pytest.fixture(scope="module")
def prog():
    return _program()


def _torch_twin(module):
    """The same MLP in torch, with the module's values (nn.Sequential(Linear, ReLU, Linear))."""
    twin = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 3))
    twin.load_state_dict(module.linear_state_dict(["0", "2"]))
    return twin


def _batch(seed, B=8):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(B, 5, generator=g)
    y = torch.randint(0, 3, (B,), generator=g)
    return X, y


def _close(a, b, what, tol=1e-5):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=tol, atol=tol, err_msg=what)


@pytest.mark.parametrize("path", ["outputs", "fused loss"])
def test_encoder_and_module_train_like_an_all_torch_model(prog, path):
    """nn.Linear + relu, then the module; AdamW with a step scheduler for 3 steps. Every gradient
    (the encoder's too) and every parameter after each step equal the all-torch model's (1e-5).
    ``outputs``: the module's predictions under torch's cross-entropy; ``fused loss``:
    ``module.loss(h, one_hot)`` (the generated loss and gradients in one call)."""
    torch.manual_seed(0)
    enc = torch.nn.Linear(5, 4)
    mod = prog.as_torch(generator=torch.Generator().manual_seed(1))
    enc_t, twin = copy.deepcopy(enc), _torch_twin(mod)
    ours = list(enc.parameters()) + list(mod.parameters())
    theirs = list(enc_t.parameters()) + list(twin.parameters())
    opts = [torch.optim.AdamW(ps, lr=0.05, weight_decay=0.01) for ps in (ours, theirs)]
    scheds = [torch.optim.lr_scheduler.StepLR(o, step_size=1, gamma=0.5) for o in opts]
    names = ["enc.weight", "enc.bias", "W1", "b1", "W2", "b2"]
    for step in range(3):
        X, y = _batch(step)
        for o in opts:
            o.zero_grad()
        h = F.relu(enc(X))
        loss = F.cross_entropy(mod(h), y) if path == "outputs" else mod.loss(h, F.one_hot(y, 3).float())
        loss.backward()
        want = F.cross_entropy(twin(F.relu(enc_t(X))), y)
        want.backward()
        _close(loss, want, f"loss at step {step}")
        for n, a, b in zip(names, ours, theirs):
            assert a.grad is not None, n
            _close(a.grad, b.grad, f"d loss / d {n} at step {step}")
        for o, s in zip(opts, scheds):
            o.step()
            s.step()
        for n, a, b in zip(names, ours, theirs):
            _close(a, b, f"{n} after step {step}")


def test_parameters_are_named_and_shaped_like_torch(prog):
    """Named after the symbols, biases 1-D; the nn.Linear mapping goes both ways; hostile names
    become identifiers made by symgrad."""
    mod = prog.as_torch(generator=torch.Generator().manual_seed(0))
    assert [(n, tuple(p.shape)) for n, p in mod.named_parameters()] == [
        ("W1", (6, 4)), ("b1", (6,)), ("W2", (3, 6)), ("b2", (3,))]
    assert mod.linear_pairs() == [("W1", "b1"), ("W2", "b2")]
    lin = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 3))
    mod.load_linear_state_dict(lin.state_dict(), ["0", "2"])
    assert torch.equal(mod.parameter("W2"), lin[2].weight) and torch.equal(mod.b1, lin[0].bias)
    W, b = sp.MatrixSymbol("forward", 3, 2), sp.MatrixSymbol("b 'x'", 3, 1)
    x, t = sp.MatrixSymbol("x", 2, 1), sp.MatrixSymbol("t", 3, 1)
    odd = sg.compile(sg.mse(W * x + b, t), [W, b], [x, t], target="numpy").as_torch()
    names = [n for n, _ in odd.named_parameters()]
    assert names == ["p_forward", "b__x_"] and all(n.isidentifier() for n in names)
    assert odd.parameter("b 'x'") is odd.b__x_


def test_sequential_returns_predictions(prog):
    mod = prog.as_torch(generator=torch.Generator().manual_seed(2))
    model = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.Tanh(), mod)
    X, _ = _batch(3)
    out = model(X)
    assert out.shape == (8, 3) and out.requires_grad
    _close(out, _torch_twin(mod)(model[1](model[0](X))), "predictions")


def _count_launches(monkeypatch):
    """The names of the kernels launched (the interpreter runs each launch through one method)."""
    from triton.runtime.interpreter import InterpretedFunction
    launched = []
    run = InterpretedFunction.run

    def counting(self, *args, **kwargs):
        if not kwargs.get("warmup"):
            launched.append(self.fn.__name__)
        return run(self, *args, **kwargs)
    monkeypatch.setattr(InterpretedFunction, "run", counting)
    return launched


def test_no_grad_and_eval_run_the_forward_kernels_only(prog, monkeypatch):
    mod = prog.as_torch(generator=torch.Generator().manual_seed(0))
    X, y = torch.randn(8, 4), torch.eye(3)[torch.randint(0, 3, (8,))]
    launched = _count_launches(monkeypatch)
    with torch.no_grad():
        mod(X)
        mod.loss(X, y)
    forward_only = list(launched)
    assert forward_only and all(k.startswith(("forward_", "eval_")) for k in forward_only), forward_only
    mod.eval()
    mod.requires_grad_(False)
    mod(X)                          # nothing requires a gradient: no gradient kernels either
    assert launched[len(forward_only):] and all(k.startswith("forward_") for k in launched[len(forward_only):])
    mod.requires_grad_(True)
    del launched[:]
    mod.loss(X, y).backward()       # the fused path: three launches, the loss with the gradients
    assert len(launched) == 3 and not any(k.startswith(("forward_", "eval_")) for k in launched), launched


def test_deepcopy_and_pickle_round_trip(prog):
    mod = prog.as_torch(generator=torch.Generator().manual_seed(4))
    X = torch.randn(8, 4)
    for other in (copy.deepcopy(mod), pickle.loads(pickle.dumps(mod))):
        assert [n for n, _ in other.named_parameters()] == [n for n, _ in mod.named_parameters()]
        for a, b in zip(other.parameters(), mod.parameters()):
            assert torch.equal(a, b) and a.data_ptr() != b.data_ptr()
        _close(other(X), mod(X), "outputs of the copy")
        other(X).sum().backward()
        assert all(p.grad is not None for p in other.parameters())
        assert all(p.grad is None for p in mod.parameters())     # the copy has its own parameters


def test_double_backward_and_dtype_changes_are_clear_errors(prog):
    mod = prog.as_torch()
    x = torch.randn(8, 4, requires_grad=True)
    for value in (mod(x).sum(), mod.loss(x, torch.eye(3)[[0, 1, 2, 0, 1, 2, 0, 1]])):
        with pytest.raises(sg.UnsupportedError, match="double backward"):
            torch.autograd.grad(value, x, create_graph=True)
    for convert in (lambda m: m.double(), lambda m: m.half(), lambda m: m.to(torch.bfloat16)):
        with pytest.raises(sg.UnsupportedError, match="float32"):
            convert(mod)
    assert all(p.dtype == torch.float32 for p in mod.parameters())


@pytest.mark.slow
def test_torch_compile_of_a_model_holding_it(prog):
    """torch.compile (inductor: gcc on this machine) compiles the encoder, breaks the graph at the
    module, and gives the loss and gradients of the uncompiled model."""
    mod = prog.as_torch(generator=torch.Generator().manual_seed(5))
    model = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.ReLU(), mod)
    X, y = _batch(6)
    want = F.cross_entropy(model(X), y)
    want.backward()
    grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    got = F.cross_entropy(torch.compile(model)(X), y)
    got.backward()
    _close(got, want, "loss")
    for a, b in zip(model.parameters(), grads):
        _close(a.grad, b, "gradient")


def test_numpy_target_module_differentiates_its_outputs():
    """The NumPy target's module: predictions differentiable w.r.t. the parameters and the inputs
    (its VJP compiled by the NumPy backend; until 2026-11-30, fourth session, input gradients were
    an error naming target='triton'), and its fused loss too."""
    mod = _program("numpy").as_torch(generator=torch.Generator().manual_seed(7))
    X, y = torch.randn(8, 4), torch.randint(0, 3, (8,))
    F.cross_entropy(mod(X), y).backward()
    twin = _torch_twin(mod)
    F.cross_entropy(twin(X), y).backward()
    _close(mod.W1.grad, twin[0].weight.grad, "d loss / d W1")
    _close(mod.b2.grad, twin[2].bias.grad, "d loss / d b2")
    Xa, Xb = X.clone().requires_grad_(), X.clone().requires_grad_()
    F.cross_entropy(mod(Xa), y).backward()
    F.cross_entropy(twin(Xb), y).backward()
    _close(Xa.grad, Xb.grad, "d loss / d x through the outputs")
    Xa.grad = Xb.grad = None
    mod.loss(Xa, torch.eye(3)[y]).backward()
    F.cross_entropy(twin(Xb), y).backward()
    _close(Xa.grad, Xb.grad, "d loss / d x through module.loss")


def test_program_without_outputs_is_a_loss_module():
    """No outputs=: forward is the loss (what DistributedDataParallel wraps), as as_loss() is."""
    mod = _program(outputs=False).as_torch(generator=torch.Generator().manual_seed(8))
    X, T = torch.randn(8, 4), torch.eye(3)[torch.randint(0, 3, (8,))]
    _close(mod(X, T), mod.as_loss()(X, T), "loss")
    _close(mod(X, T), F.cross_entropy(_torch_twin(mod)(X), T.argmax(1)), "loss against torch")
