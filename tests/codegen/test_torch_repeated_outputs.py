"""An output that reads no input is the same for every example: `Program.forward` and the torch layer
(`as_torch`) both repeat it over the B examples, by one rule (`Program._repeated_outputs`). Each
case pairs such an output with one of the same declared shape that reads the inputs, for the shapes
where the rule matters: a column (m, 1), a row (1, n), a matrix, a scalar. The oracles: the
parameter's value itself, repeated B times in the layout of the paired batched output; and for the
backward, the sum of the B cotangents (an expand's adjoint), written out by hand.
"""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")

B = 4


def _tensor_case():
    """Per-example tensors: each example keeps its declared shape, (B, 3, 1) for a (3, 1) column."""
    x, c, r, w = sg.tensor("x", (3, 1)), sg.tensor("c", (3, 1)), sg.tensor("r", (1, 3)), sg.tensor("w", (3, 2))
    s = sg.tensor("s", ())
    loss = sg.sum(c * x) + sg.sum(r @ x) + sg.sum(w) * s
    # (repeated, batched of the same declared shape) pairs
    pairs = [(c, c * x), (r, r * x.T), (w, w * sg.sum(x)), (s, s * sg.sum(x))]
    return loss, [c, r, w, s], [x], pairs


def _matrix_case():
    """Symbols and MatrixSymbols: a column (3, 1) or a row (1, 3) of one example is a row of the
    batch, (B, 3); a scalar (B,)."""
    x, c, r = sp.MatrixSymbol("x", 3, 1), sp.MatrixSymbol("c", 3, 1), sp.MatrixSymbol("r", 1, 3)
    w, s, one = sp.MatrixSymbol("w", 3, 2), sp.Symbol("s"), sp.ones(1, 3)
    loss = (one * sp.HadamardProduct(c, x))[0, 0] + (r * x)[0, 0] + s * (one * x)[0, 0] + (one * w * sp.ones(2, 1))[0, 0]
    pairs = [(c, sp.HadamardProduct(c, x)), (r, sp.HadamardProduct(r, x.T)), (w, w * (one * x)[0, 0]),
             (s, s * (one * x)[0, 0])]
    return loss, [c, r, w, s], [x], pairs


@pytest.mark.parametrize("case", [_tensor_case, _matrix_case], ids=["tensor", "MatrixSymbol"])
def test_forward_and_the_torch_layer_repeat_an_output_of_the_parameters_alike(case):
    loss, params, inputs, pairs = case()
    outputs = [e for pair in pairs for e in pair]
    prog = sg.compile(loss, params, inputs, outputs=outputs, dtype="float64")
    rng = np.random.default_rng(0)
    values = {p.name: rng.standard_normal(tuple(int(d) for d in getattr(p, "shape", ()))) for p in params}
    X = rng.standard_normal((B, 3, 1))
    got = prog.forward(values, {"x": X})
    module = prog.as_torch(values)
    module_outs = module(torch.tensor(X))
    assert len(got) == len(module_outs) == len(outputs)
    for k, (p, _) in enumerate(pairs):
        repeated, batched = got[2 * k], got[2 * k + 1]
        # the rule: the layout of an output of the same declaration that reads the inputs
        assert repeated.shape == batched.shape and repeated.shape[0] == B, (p, repeated.shape, batched.shape)
        want = np.broadcast_to(values[p.name].reshape(batched.shape[1:]), batched.shape)
        np.testing.assert_array_equal(repeated, want, err_msg=f"forward's repeated {p}")
        for j in (2 * k, 2 * k + 1):            # the torch layer: the same shapes, the same numbers
            t = module_outs[j].detach().numpy()
            assert t.shape == got[j].shape, (outputs[j], t.shape, got[j].shape)
            np.testing.assert_allclose(t, got[j], rtol=1e-12, atol=1e-12, err_msg=str(outputs[j]))


@pytest.mark.parametrize("case", [_tensor_case, _matrix_case], ids=["tensor", "MatrixSymbol"])
def test_the_backward_of_a_repeated_output_sums_its_cotangents(case):
    loss, params, inputs, pairs = case()
    prog = sg.compile(loss, params, inputs, outputs=[e for pair in pairs for e in pair], dtype="float64")
    rng = np.random.default_rng(1)
    values = {p.name: rng.standard_normal(tuple(int(d) for d in getattr(p, "shape", ()))) for p in params}
    module = prog.as_torch(values)
    outs = module(torch.tensor(rng.standard_normal((B, 3, 1))))
    cots = [torch.tensor(rng.standard_normal(tuple(o.shape))) for o in outs[::2]]     # the repeated ones
    sum((o * g).sum() for o, g in zip(outs[::2], cots)).backward()
    grads = dict(module.named_parameters())
    for p, g in zip((p for p, _ in pairs), cots):
        want = g.sum(0).numpy()                 # d/dv Σ_b <g_b, v> = Σ_b g_b
        got = grads[p.name].grad.numpy()
        np.testing.assert_allclose(got.reshape(want.shape), want, rtol=1e-12, atol=1e-12, err_msg=p.name)
        assert got.size == values[p.name].size


def test_a_whole_batch_declaration_repeats_nothing():
    """Arrays as declared, N bound from them: an output of the parameters alone stays as declared."""
    N = sp.Symbol("N", integer=True, positive=True)
    X, w = sg.tensor("X", (N, 3)), sg.tensor("w", (3,))
    prog = sg.compile(sg.sum((X @ w) ** 2), [w], [X], outputs=[X @ w, w * 2], dtype="float64")
    values = {"w": np.arange(3.0)}
    Xa = np.ones((B, 3))
    out = prog.forward(values, {"X": Xa})
    assert out[0].shape == (B,) and out[1].shape == (3,)
    np.testing.assert_array_equal(out[1], [0.0, 2.0, 4.0])
    module_outs = prog.as_torch(values)(torch.tensor(Xa))
    assert [tuple(o.shape) for o in module_outs] == [(B,), (3,)]
