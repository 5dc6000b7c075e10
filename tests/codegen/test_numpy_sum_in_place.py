"""A sum worked out in a dying temporary's buffer adds one term at a time (``x += a; x += b``,
``x -= c``), not NumPy's ``x += a + b`` with a + b a new array first (codegen/schedule.py
`Scheduler._add_terms`): the residual ``x + (h @ W2 + c2)`` of a transformer block, a layer norm's
backward. A term that reads the buffer itself, or a view of it, keeps the sum whole: added one at a
time it would read the sum so far."""
import re

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from codegen.printers.numpy_printer import NumpyPrinter
from codegen.schedule import Scheduler

torch = pytest.importorskip("torch")
N = sp.Symbol("N", integer=True, positive=True)


class _Printing:
    def _printed(self, e, val):
        return NumpyPrinter().doprint(e)


def _terms(name, rest):
    return Scheduler._add_terms(_Printing(), name, rest, None)


def _run(lines, env):
    ns = {"numpy": np, **{k: np.copy(v) for k, v in env.items()}}
    exec("\n".join(lines), ns)
    return ns


def test_terms_one_at_a_time_equal_the_whole_sum():
    a, b, c = (sp.Symbol(n, real=True) for n in ("v1", "v2", "p0"))
    rest = a - 2 * b + c
    lines = _terms("v9", rest)
    assert sorted(lines) == ["v9 += p0", "v9 += v1", "v9 -= 2*v2"], lines
    rng = np.random.default_rng(0)
    env = {"v9": rng.normal(size=(4, 6)), "v1": rng.normal(size=(4, 6)), "v2": rng.normal(size=(4, 1)),
           "p0": rng.normal(size=(6,))}
    want = env["v9"] + env["v1"] - 2 * env["v2"] + env["p0"]
    np.testing.assert_allclose(_run(lines, env)["v9"], want, rtol=1e-14)


def test_a_term_reading_the_buffer_keeps_the_sum_whole():
    """v9 += v1 + v9.T: added one at a time, v9.T would read v9 + v1 (NumPy buffers an
    overlapping operand of one ufunc call, not a later statement's)."""
    v1, v9t = sp.Symbol("v1", real=True), sp.Symbol("v9.T", real=True)
    lines = _terms("v9", v1 + v9t)
    assert len(lines) == 1 and lines[0].startswith("v9 += "), lines
    x, y = np.arange(9.0).reshape(3, 3), np.ones((3, 3))
    np.testing.assert_array_equal(_run(lines, {"v9": x, "v1": y})["v9"], x + y + x.T)
    split = _run(["v9 += v1", "v9 += v9.T"], {"v9": x, "v1": y})["v9"]
    assert not np.array_equal(split, x + y + x.T)          # what the check prevents


def test_residual_block_adds_in_place_and_equals_torch():
    """y = h + (tanh(h) @ W2 + c2), h = x⊙a dying there: h += c2; h += (the product), no (N, 16, 64)
    array for the sum of the two."""
    x, a, W2, c2, W3 = (sg.tensor("x", (N, 16, 64)), sg.tensor("a", (64,)), sg.tensor("W2", (64, 64)),
                        sg.tensor("c2", (64,)), sg.tensor("W3", (64, 64)))
    h = x * a
    y = h + (sg.tanh(h) @ W2 + c2)
    prog = sg.compile(sg.mean((y @ W3) ** 2), [a, W2, c2, W3], [x], dtype="float64")
    grad = prog.source.split("\ndef grad(")[1].split("\ndef ")[0]
    assert re.search(r"\n    (v\d+) \+= p2\n    \1 \+= v\d+\.reshape\(", grad), grad
    rng = np.random.default_rng(1)
    vals = {"a": rng.normal(size=64), "W2": rng.normal(size=(64, 64)) / 8, "c2": rng.normal(size=64),
            "W3": rng.normal(size=(64, 64)) / 8}
    xs = {"x": rng.normal(size=(3, 16, 64))}
    t = {k: torch.tensor(v, requires_grad=True) for k, v in vals.items()}
    ht = torch.tensor(xs["x"]) * t["a"]
    lt = (((ht + torch.tanh(ht) @ t["W2"] + t["c2"]) @ t["W3"]) ** 2).mean()
    lt.backward()
    assert abs(float(prog.loss(vals, xs)) - lt.item()) < 1e-10 * lt.item()
    got = prog.grad(vals, xs)
    for k in vals:
        np.testing.assert_allclose(got[k], t[k].grad.numpy(), rtol=1e-10, err_msg=k)
