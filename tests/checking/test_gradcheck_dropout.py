"""sg.gradcheck on compiled programs with sg.dropout: `.grad` draws fresh masks and `.loss` runs with
dropout off, so gradcheck calls both with ``dropout_seed=`` — dropout on, the same masks every call —
and compares the gradient with central differences of that one function. Checked in each kind of
declaration (per-example matrices, tensors over the batch, per-example tensors); a wrong gradient
is still caught; the loss under fixed masks is checked against NumPy with the masks drawn as
dropout draws them (0 or 1/(1 − p), in the order of the sg.dropout calls)."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import ArgumentError

N = sp.Symbol("N", integer=True, positive=True)
P1, P2 = 0.4, 0.25


def _matrix_program():
    """Per example, MatrixSymbols: x (3, 1) → dropout(tanh(W1 x)) → dropout(tanh(W2 ·)) → W3 ·, a
    cross-entropy against a one-hot t (2, 1)."""
    x, t = sp.MatrixSymbol("x", 3, 1), sp.MatrixSymbol("t", 2, 1)
    W1, W2, W3 = sp.MatrixSymbol("W1", 4, 3), sp.MatrixSymbol("W2", 5, 4), sp.MatrixSymbol("W3", 2, 5)
    h1 = sg.dropout((W1 * x).applyfunc(sp.tanh), P1)
    h2 = sg.dropout((W2 * h1).applyfunc(sp.tanh), P2)
    prog = sg.compile(sg.cross_entropy(W3 * h2, t), [W1, W2, W3], [x, t], dtype="float64", seed=7)
    rng = np.random.default_rng(1)
    values = {"W1": rng.normal(size=(4, 3)), "W2": rng.normal(size=(5, 4)), "W3": rng.normal(size=(2, 5))}
    batch = {"x": rng.normal(size=(6, 3)), "t": np.eye(2)[[0, 1, 1, 0, 1, 0]]}
    return prog, values, batch


def _whole_batch_program():
    """Over the batch: x (N, 3) → dropout(tanh(x W1 + b1)) (N, 5) → · W2, cross-entropy of labels y (N,)."""
    x, y = sg.tensor("x", (N, 3)), sg.tensor("y", (N,), integer=True)
    W1, b1, W2 = sg.tensor("W1", (3, 5)), sg.tensor("b1", (5,)), sg.tensor("W2", (5, 3))
    h = sg.dropout(sp.tanh(x @ W1 + b1), P1)
    prog = sg.compile(sg.cross_entropy(h @ W2, y), [W1, b1, W2], [x, y], dtype="float64", seed=3)
    rng = np.random.default_rng(2)
    values = {"W1": rng.normal(size=(3, 5)), "b1": rng.normal(size=5), "W2": rng.normal(size=(5, 3))}
    batch = {"x": rng.normal(size=(7, 3)), "y": rng.integers(0, 3, 7)}
    return prog, values, batch


def _per_example_tensor_program():
    """One example's tensors: x (3,) → dropout(tanh(W1 @ x)) (5,) → W2 @ ·, cross-entropy of a label y ()."""
    x, y = sg.tensor("x", (3,)), sg.tensor("y", (), integer=True)
    W1, W2 = sg.tensor("W1", (5, 3)), sg.tensor("W2", (3, 5))
    h = sg.dropout(sp.tanh(W1 @ x), P1)
    prog = sg.compile(sg.cross_entropy(W2 @ h, y), [W1, W2], [x, y], dtype="float64", seed=4)
    rng = np.random.default_rng(3)
    values = {"W1": rng.normal(size=(5, 3)), "W2": rng.normal(size=(3, 5))}
    batch = {"x": rng.normal(size=(6, 3)), "y": rng.integers(0, 3, 6)}
    return prog, values, batch


PROGRAMS = {"per-example matrices": _matrix_program, "whole-batch tensors": _whole_batch_program,
            "per-example tensors": _per_example_tensor_program}


@pytest.mark.parametrize("kind", list(PROGRAMS))
def test_right_program_with_dropout_passes_under_fixed_masks(kind):
    prog, values, batch = PROGRAMS[kind]()
    assert prog.has_dropout
    r = sg.gradcheck(prog, values, batch, seed=5)
    assert r, str(r)
    assert r.masks_seed == 5
    assert "dropout masks held fixed (drawn from seed 5)" in str(r)
    for p in r.params.values():
        assert p.taylor_order is not None and abs(p.taylor_order - 2) < 0.2


@pytest.mark.parametrize("kind", list(PROGRAMS))
def test_masks_that_change_between_calls_would_be_a_false_alarm(kind):
    """Why the masks are held fixed: the same program seen through a wrapper that hides its dropout
    (fresh masks in .grad, none in .loss) fails the check although its gradient is right."""
    prog, values, batch = PROGRAMS[kind]()

    class Hidden:
        def loss(self, v, b):
            return prog.loss(v, b)

        def grad(self, v, b):
            return prog.grad(v, b)

    r = sg.gradcheck(Hidden(), values, batch)
    assert not r and r.masks_seed is None and "held fixed" not in str(r)


@pytest.mark.parametrize("kind", list(PROGRAMS))
def test_a_wrong_gradient_is_still_caught_with_dropout(kind):
    """A program whose W1 gradient is 10% too large, masks held fixed: wrong, and W1 named."""
    prog, values, batch = PROGRAMS[kind]()

    class Scaled:
        has_dropout = True

        def loss(self, v, b, **kw):
            return prog.loss(v, b, **kw)

        def grad(self, v, b, **kw):
            g = dict(prog.grad(v, b, **kw))
            g["W1"] = g["W1"] * 1.1
            return g

    r = sg.gradcheck(Scaled(), values, batch)
    assert not r
    assert "gradient WRONG for W1\n" in str(r) and "held fixed" in str(r)
    assert r.params["W1"].max_rel_error > 0.05
    assert all(p.max_rel_error < 1e-6 for name, p in r.params.items() if name != "W1")


def _masks(seed, shapes, rates):
    """The masks as dropout draws them from numpy.random.default_rng(seed): one after another, each
    entry 1/(1 − p) when its uniform is >= p, else 0."""
    rng = np.random.default_rng(seed)
    return [(rng.random(s) >= p) / (1 - p) for s, p in zip(shapes, rates)]


def test_loss_under_fixed_masks_is_the_training_loss_with_those_masks():
    """prog.loss(..., dropout_seed=s) against NumPy: the per-example network with the masks of seed s
    (B, 4) and (B, 5), drawn in the order of the sg.dropout calls."""
    prog, v, b = _matrix_program()
    B = len(b["x"])

    def oracle(masks):
        h1 = np.tanh(b["x"] @ v["W1"].T) * masks[0]
        h2 = np.tanh(h1 @ v["W2"].T) * masks[1]
        z = h2 @ v["W3"].T
        logp = z - z.max(axis=1, keepdims=True)
        logp -= np.log(np.exp(logp).sum(axis=1, keepdims=True))
        return float(np.mean(-(b["t"] * logp).sum(axis=1)))

    for seed in (0, 11):
        want = oracle(_masks(seed, [(B, 4), (B, 5)], [P1, P2]))
        assert prog.loss(v, b, dropout_seed=seed) == pytest.approx(want, rel=1e-12)
    assert prog.loss(v, b) == pytest.approx(oracle([1.0, 1.0]), rel=1e-12)     # dropout off
    assert prog.loss(v, b, dropout_seed=0) != pytest.approx(prog.loss(v, b, dropout_seed=11))


def test_whole_batch_masks_have_the_declared_shape_with_n():
    """Over the batch the mask of tanh(x W1 + b1) is (N, 5), N = 7 here: the loss of seed s is NumPy's
    with that mask."""
    prog, v, b = _whole_batch_program()
    (m,) = _masks(9, [(7, 5)], [P1])
    z = (np.tanh(b["x"] @ v["W1"] + v["b1"]) * m) @ v["W2"]
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    want = float(-np.mean(logp[np.arange(7), b["y"]]))
    assert prog.loss(v, b, dropout_seed=9) == pytest.approx(want, rel=1e-12)


def test_fixed_masks_leave_the_programs_generator_alone():
    """gradcheck (and dropout_seed= runs) draw from their own generator: the program's next training
    masks are the ones it would have drawn anyway."""
    prog, values, batch = _per_example_tensor_program()
    twin, _, _ = _per_example_tensor_program()          # compiled with the same seed
    assert sg.gradcheck(prog, values, batch)
    prog.grad(values, batch, dropout_seed=1)
    np.testing.assert_array_equal(prog.grad(values, batch)["W1"], twin.grad(values, batch)["W1"])
    # and the same seed gives the same gradient, another seed another
    g = prog.grad(values, batch, dropout_seed=2)["W1"]
    np.testing.assert_array_equal(g, twin.grad(values, batch, dropout_seed=2)["W1"])
    assert not np.allclose(g, prog.grad(values, batch, dropout_seed=3)["W1"])


def test_program_without_dropout_is_checked_as_before():
    w, x, y = sp.symbols("w x y")
    prog = sg.compile((w * x - y) ** 2 / 2, [w], [x, y], dtype="float64")
    assert not prog.has_dropout
    batch = {"x": np.array([1.0, 2.0, 3.0]), "y": np.array([0.5, 1.0, 2.0])}
    r = sg.gradcheck(prog, {"w": 0.3}, batch)
    assert r and r.masks_seed is None and "held fixed" not in str(r)
    # one loss: dropout_seed changes nothing
    assert prog.loss({"w": 0.3}, batch, dropout_seed=4) == prog.loss({"w": 0.3}, batch)


@pytest.mark.parametrize("bad", [-1, 1.5, True, "0"])
def test_bad_dropout_seed_is_refused_and_named(bad):
    prog, values, batch = _matrix_program()
    for run in (prog.loss, prog.grad):
        with pytest.raises(ArgumentError, match="dropout_seed must be an integer >= 0"):
            run(values, batch, dropout_seed=bad)


def test_a_triton_dropout_program_is_checked_under_fixed_masks():
    """What docs/checking.md says: a Triton program with dropout (its kernels draw the masks) takes
    ``dropout_seed`` on loss and grad, so gradcheck holds its masks fixed and passes; a gradient
    scaled wrong under those masks would not (the same masks on both sides)."""
    x, t = sp.MatrixSymbol("x", 3, 1), sp.MatrixSymbol("t", 2, 1)
    W = sp.MatrixSymbol("W", 2, 3)
    prog = sg.compile(sg.mse(sg.dropout(W * x, 0.5), t), [W], [x, t], target="triton")
    assert prog.has_dropout
    rng = np.random.default_rng(0)
    values, batch = {"W": rng.normal(size=(2, 3))}, {"x": rng.normal(size=(6, 3)), "t": rng.normal(size=(6, 2))}
    r = sg.gradcheck(prog, values, batch, seed=5)
    assert r, str(r)
    assert r.masks_seed == 5 and "dropout masks held fixed (drawn from seed 5)" in str(r)
    assert prog.loss(values, batch, dropout_seed=5) != prog.loss(values, batch)      # dropout on, then off


def test_a_triton_program_takes_the_dropout_seed_gradcheck_passes():
    """The Triton Program's loss/grad take ``dropout_seed`` as the NumPy one's do (it has no masks,
    so the numbers are those without it), and gradcheck of it passes with the keyword."""
    x, t = sp.MatrixSymbol("x", 3, 1), sp.MatrixSymbol("t", 2, 1)
    W = sp.MatrixSymbol("W", 2, 3)
    prog = sg.compile(sg.mse(W * x, t), [W], [x, t], target="triton")
    rng = np.random.default_rng(0)
    values, batch = {"W": rng.normal(size=(2, 3))}, {"x": rng.normal(size=(5, 3)), "t": rng.normal(size=(5, 2))}
    assert prog.loss(values, batch, dropout_seed=3) == prog.loss(values, batch)
    g0 = np.asarray(prog.grad(values, batch)["W"].cpu())
    g1 = np.asarray(prog.grad(values, batch, dropout_seed=3)["W"].cpu())
    np.testing.assert_array_equal(g0, g1)
