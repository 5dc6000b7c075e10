"""stop_gradient on the Triton target: the spec its backend gets has none left (removed once the
gradients are derived), so the kernels are those of the same network without it. A straight-through
layer over the batch, compared with the NumPy target (loss, gradients, 3 Adam steps) at float32
tolerance; the NumPy target's are checked against torch's .detach() in
tests/compiling/test_stop_gradient_torch.py. Tiny shapes: Triton's interpreter on the CPU."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from tests.codegen.test_triton_tensors import _same_as_numpy, _values

pytest.importorskip("torch")
pytest.importorskip("triton")

N = sp.Symbol("N", integer=True, positive=True)
D, H, C = 5, 6, 3


def test_straight_through_layer_equals_numpy(rng):
    x, y = sg.tensor("x", (N, D)), sg.tensor("y", (N,), integer=True)
    W1, W2 = sg.tensor("W1", (D, H)), sg.tensor("W2", (H, C))
    soft = sg.tanh(x @ W1)
    hard = soft + (sp.sign(soft) - soft).detach()         # forward sign(soft), backward identity
    loss = sg.cross_entropy(hard @ W2, y)
    tri, ref = (sg.compile(loss, [W1, W2], [x, y], target=t, optimizer=sg.optim.Adam(lr=0.05))
                for t in ("triton", "numpy"))
    code = [ln.split("#")[0] for ln in tri.source.splitlines()]     # (the comments quote the declaration)
    assert not any("stop_gradient" in ln for ln in code)
    values = _values([W1, W2], rng)
    batch = {"x": rng.normal(size=(7, D)).astype(np.float32), "y": rng.integers(0, C, 7)}
    assert np.abs(ref.grad(values, batch)["W1"]).sum() > 0      # the gradient passes straight through
    _same_as_numpy(tri, ref, values, batch)


def test_a_parameter_without_gradient_is_named_and_the_triton_step_skips_it():
    """torch skips a parameter whose .grad is None; so does the Triton step (and the NumPy step,
    tests/compiling/test_optim_no_gradient.py): the warning says it is left unchanged, for every
    target (tests/codegen/test_triton_no_gradient.py compares the steps with torch)."""
    x, y = sg.tensor("x", (N, D)), sg.tensor("y", (N,), integer=True)
    W, U = sg.tensor("W", (D, C)), sg.tensor("U", (D, C))
    with pytest.warns(sg.optim.NoGradientWarning, match=r"'U' gets no gradient.*the training step leaves it unchanged"):
        prog = sg.compile(sg.cross_entropy(x @ W + x @ U.detach(), y), [W, U], [x, y], target="triton",
                          optimizer=sg.optim.AdamW(lr=0.1, weight_decay=0.5))
    assert "p1 (the parameter 'U') gets no gradient: not updated by AdamW" in prog.source


# -- the backend's own entry points: as_torch()'s kernels and codegen/triton_aot build from specs
#    that keep their stop_gradients (compile strips them only on its way to the backend)

def _detached_product():
    x, y = sg.tensor("x", (N, D)), sg.tensor("y", (N,), integer=True)
    W = sg.tensor("W", (D, C))
    z = x @ W
    out = z * z.detach()                                  # ∂out/∂x = sg(z)·Wᵀ, not 2z·Wᵀ
    return out, sg.cross_entropy(out, y), W, x, y


def test_as_torch_kernels_of_a_triton_program_hold_the_detach(rng):
    """as_torch()'s input gradients and output VJPs are derived later from the program's spec, which
    keeps its stop_gradients; the Triton printer has no form for one (it raised UnsupportedError
    'no form for stop_gradient'). Against torch with .detach()."""
    import torch
    out, loss, W, x, y = _detached_product()
    prog = sg.compile(loss, [W], [x, y], target="triton", outputs=[out])
    Wn, X = rng.normal(size=(D, C)).astype(np.float32), rng.normal(size=(6, D)).astype(np.float32)
    Y = rng.integers(0, C, 6)
    module = prog.as_torch({"W": Wn})

    def reference(f):
        rx, rW = torch.tensor(X, requires_grad=True), torch.tensor(Wn, requires_grad=True)
        zz = rx @ rW
        f(zz * zz.detach()).backward()
        return rx.grad.numpy(), rW.grad.numpy()
    for f, run in [(lambda o: o.sum(), lambda tx: module(tx).sum()),                     # the output's VJP
                   (lambda o: torch.nn.functional.cross_entropy(o, torch.tensor(Y)),     # the loss's
                    lambda tx: module.loss(tx, torch.tensor(Y)))]:
        module.zero_grad()
        tx = torch.tensor(X, requires_grad=True)
        run(tx).backward()
        want_x, want_W = reference(f)
        np.testing.assert_allclose(tx.grad.numpy(), want_x, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(module.parameter("W").grad.numpy(), want_W, rtol=1e-5, atol=1e-6)


def test_as_torch_training_outputs_with_dropout_and_a_detach(rng):
    """In training mode as_torch()'s outputs come from a forward of their own with dropout on
    (Spec.train_outputs, build_forward), kept with its stop_gradients until the backend: each entry
    is 0 or the eval-mode output over 1 − p."""
    import torch
    x, y = sg.tensor("x", (N, D)), sg.tensor("y", (N,), integer=True)
    W = sg.tensor("W", (D, C))
    z = x @ W
    out = sg.dropout(z * z.detach(), 0.5)
    prog = sg.compile(sg.cross_entropy(out, y), [W], [x, y], target="triton", outputs=[out])
    module = prog.as_torch({"W": rng.normal(size=(D, C)).astype(np.float32)})
    X = torch.tensor(rng.normal(size=(6, D)).astype(np.float32))
    module.train()
    on = module(X).detach().numpy()
    module.eval()
    off = module(X).detach().numpy()
    assert np.any(on == 0) and np.any(on != 0)
    kept = on != 0
    np.testing.assert_allclose(on[kept], 2 * off[kept], rtol=1e-5, atol=1e-6)


def test_a_spec_with_stop_gradients_handed_to_build_directly(rng):
    """codegen/triton_aot.compile_step hands `specify`'s spec (stop_gradients kept) to the backend's
    build itself, not through compile: build strips them too, and the program is compile's."""
    from codegen.triton_backend import build
    from symgrad.compiling.compiler import specify
    from symgrad.core.stop_gradients import holds_stop_gradient
    _, loss, W, x, y = _detached_product()
    spec = specify(loss, [W], [x, y], target="triton")
    assert any(holds_stop_gradient(e) for e in spec.train.graph.ancestors([spec.train.loss]))
    compiled = build(spec)
    assert "stop_gradient" not in "\n".join(ln.split("#")[0] for ln in compiled.source.splitlines())
    assert compiled.source == sg.compile(loss, [W], [x, y], target="triton").source


AOT = """
import json, warnings
import sympy as sp
import symgrad as sg
from symgrad.compiling.compiler import specify
from codegen.triton_aot import compile_step
warnings.simplefilter("ignore")
N = sp.Symbol("N", integer=True, positive=True)
x, y = sg.tensor("x", (N, 4)), sg.tensor("y", (N,), integer=True)
W, U = sg.tensor("W", (4, 3)), sg.tensor("U", (4, 3))
z = x @ W
loss = sg.cross_entropy(z * z.detach() + (x @ U).detach(), y)      # U: no gradient, its update skipped
spec = specify(loss, [W, U], [x, y], target="triton", optimizer=sg.optim.AdamW(weight_decay=0.1))
print(json.dumps([[r.kernel, r.spill_bytes] for r in compile_step(spec, 8)]))
"""


@pytest.mark.slow
def test_a_detached_program_compiles_for_sm90(tmp_path):
    """The kernels of a program with stop_gradients and a parameter without a gradient (its update
    segment a `pass`) compile for the H200 (cuda sm_90) without a GPU (codegen/triton_aot.py)."""
    from tests.codegen.aot import compile_sm90
    kernels = compile_sm90(AOT, tmp_path)
    assert "update_kernel" in [k for k, _ in kernels], kernels
