"""A bias add after a product made over flattened rows, ``z = (x @ W).reshape((N, T, H)) + b``, is
worked out in the product's buffer, seen in z's shape (`WholeBatchScheduler._in_reshaped`): ``z =
u.reshape(…); z += b``. z is then a view of u's memory, and the step's workspace must not hand u's
buffer to another statement while z is read (`codegen.lifetimes.alias_groups` follows ``.reshape``).
The programs below equal the ones compiled without the rewrite (bit for bit: b + u is u + b) and
torch.autograd; a product read again after the add is left alone."""
from __future__ import annotations

import re

import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg
from codegen.numpy_whole_batch import WholeBatchScheduler
from transformer_twins import Config, batch, declare, steps_equal_torch, values

C = Config(T=16, D=32, heads=2, V=11, layers=1)     # the MLP's (N, 16, 128): in the step's workspace
LR = 0.05
IN_PLACE = re.compile(r"(v\d+) = (v\d+)\.reshape\(\(d0, 16, 128\)\)\n\s+\1 \+= p\d+\n")


def _transformer(dtype, monkeypatch=None):
    loss, params, inputs = declare(C)
    if monkeypatch is not None:
        monkeypatch.setattr(WholeBatchScheduler, "_in_reshaped", lambda *a: False)
    return sg.compile(loss, params, inputs, dtype=dtype, optimizer=sg.optim.SGD(lr=LR))


def _function(source: str, name: str) -> str:
    return source[source.index(f"\ndef {name}("):].split("\n\n\ndef ")[0]


def test_the_transformers_bias_add_is_worked_out_in_its_products_buffer():
    prog = _transformer("float32")
    for kind in ("loss", "grad", "step"):
        assert IN_PLACE.search(_function(prog.source, kind)), kind
    step = _function(prog.source, "step")
    (m,) = IN_PLACE.finditer(step)
    z, u = m.groups()
    # u's workspace buffer is not handed on while z, its reshaped view, lives: no statement between
    # z's binding and its del takes that buffer
    buf = re.search(rf"{u} = numpy\.matmul\(.*out=scratch\(ws, '(w\d+)'", step).group(1)
    alive = step[m.end():step.index(re.search(rf"del [\w, ]*\b{z}\b", step[m.end():]).group(0))]
    assert "scratch(ws, " in step[m.end():] and f"scratch(ws, '{buf}'" not in alive


def test_the_step_equals_the_step_compiled_without_it_bit_for_bit(monkeypatch):
    prog = _transformer("float32")
    plain = _transformer("float32", monkeypatch)
    assert not IN_PLACE.search(plain.source) and "scratch(ws, " in plain.source
    start = {k: v.astype(np.float32) for k, v in values(C, seed=3).items()}
    got, want = ({k: v.copy() for k, v in start.items()} for _ in range(2))
    got_state = want_state = None
    for s, n in enumerate([4, 6, 3, 4]):        # the batch size changes: the workspace is made anew
        b = batch(C, n=n, seed=s)
        got, got_state = prog.step(got, got_state, b)
        want, want_state = plain.step(want, want_state, b)
        assert prog.last_loss == plain.last_loss
    for k in want:
        assert np.array_equal(got[k], want[k]), k
    b = batch(C, n=5, seed=9)
    g, h = prog.grad(got, b), plain.grad(want, b)
    for k in h:
        assert np.array_equal(g[k], h[k]), k


def test_three_transformer_steps_equal_torch():
    prog = _transformer("float64")
    assert IN_PLACE.search(_function(prog.source, "step"))
    steps_equal_torch(prog, C, {k: v.copy() for k, v in values(C, seed=4).items()},
                      lambda ps: torch.optim.SGD(ps, lr=LR), seeds=[30, 31, 32], n=5, moved=1e-5)


def _two_layers(read_again: bool):
    """x (N, 8, 16) → gelu(x @ W1 + b1) @ W2 + b2, squared error; with ``read_again`` the loss reads
    x @ W1 once more after the bias add (a penalty Σ (x @ W1)²), so its buffer is not the add's."""
    N = sp.Symbol("N", integer=True, positive=True)
    x, y = sg.tensor("x", (N, 8, 16)), sg.tensor("y", (N, 8, 16))
    W1, b1 = sg.tensor("W1", (16, 64)), sg.tensor("b1", (64,))
    W2, b2 = sg.tensor("W2", (64, 16)), sg.tensor("b2", (16,))
    z = x @ W1
    out = sg.gelu(z + b1) @ W2 + b2
    loss = sg.sum((out - y) ** 2) / N + (sg.sum(z ** 2) / N if read_again else 0)
    prog = sg.compile(loss, [W1, b1, W2, b2], [x, y], dtype="float64", optimizer=sg.optim.SGD(lr=0.01))

    def torch_loss(t, xs, ys):
        zt = xs @ t["W1"]
        o = torch.nn.functional.gelu(zt + t["b1"]) @ t["W2"] + t["b2"]
        return ((o - ys) ** 2).sum() / len(xs) + ((zt ** 2).sum() / len(xs) if read_again else 0)
    return prog, torch_loss


@pytest.mark.parametrize("read_again", [False, True])
def test_a_product_read_again_keeps_its_buffer_and_both_equal_torch(read_again):
    prog, torch_loss = _two_layers(read_again)
    step = _function(prog.source, "step")
    first = re.search(r"(v\d+) = numpy\.matmul\(x0\.reshape", step).group(1)
    assert bool(re.search(rf"= {first}\.reshape\(\(d0, 8, 64\)\)\n\s+v\d+ \+= p1\n", step)) is not read_again
    rng = np.random.default_rng(7)
    vals = {"W1": rng.normal(0, 0.3, (16, 64)), "b1": rng.normal(0, 0.1, 64), "W2": rng.normal(0, 0.3, (64, 16)),
            "b2": rng.normal(0, 0.1, 16)}
    t = {k: torch.tensor(v, requires_grad=True) for k, v in vals.items()}
    opt = torch.optim.SGD(list(t.values()), lr=0.01)
    ours, state = {k: v.copy() for k, v in vals.items()}, None
    for n in (5, 7, 5):
        b = {"x": rng.normal(size=(n, 8, 16)), "y": rng.normal(size=(n, 8, 16))}
        ours, state = prog.step(ours, state, b)
        opt.zero_grad()
        theirs = torch_loss(t, torch.tensor(b["x"]), torch.tensor(b["y"]))
        theirs.backward()
        opt.step()
        assert prog.last_loss == pytest.approx(theirs.item(), rel=1e-12)
    for k, v in t.items():
        assert np.abs(ours[k] - vals[k]).max() > 1e-4, k
        np.testing.assert_allclose(ours[k], v.detach().numpy(), rtol=1e-9, atol=1e-12, err_msg=k)


def test_a_vector_without_a_batch_size_is_left_as_it_was():
    """A batch norm's −Σ_N h / N, reshaped from (1, D) to (D,): no batch size, nothing to gain (and
    ``v *= -1/d0`` would round otherwise than ``-v/d0``): printed as before, as one expression."""
    N = sp.Symbol("N", integer=True, positive=True)
    x, W, g = sg.tensor("x", (N, 6)), sg.tensor("W", (6, 6)), sg.tensor("g", (6,))
    h = x @ W
    # batch norm as NumPy code writes it without keepdims: the mean's gradient is the (D,) vector
    z = (h - h.mean(axis=0)) / sp.sqrt(h.var(axis=0) + 1e-5) * g
    prog = sg.compile(sg.sum(z ** 3) / N, [W, g], [x], dtype="float64")
    assert "seen as" not in prog.source
    assert re.search(r"= -v\d+\.reshape\(\(6,\)\)/d0\n", prog.source)
