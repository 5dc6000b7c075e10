"""Elementwise expressions worked out in one buffer by in-place ufuncs (codegen/numpy_in_place.py),
against SymPy's own evaluation of the expression (lambdify, no in-place step): in a scratch buffer
that the expression also reads (the aliasing hazard: `scratch_ok` must refuse every expression whose
value would change by writing the buffer early), and as a new array for a statement of several passes
(`fresh_chain`), as the whole-batch step prints GELU's backward and the softmax's."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from codegen.numpy_in_place import (MIN_PASSES, cheapest, fresh_chain, into, passes, pull_common_factors,
                                    scratch_ok)
from codegen.printers.numpy_printer import NumpyPrinter

a, b, c = sp.symbols("a b c", real=True)      # a, b: (4, 5) arrays; c: a (4, 1) column
s = sp.Symbol("s", real=True)                   # a scalar
ARRAYS = {a, b, c}
PI = sp.pi

EXPRESSIONS = [
    a * sp.exp(a),                              # the buffer read twice: refused in a's buffer
    a ** 2 + a,
    a * (b + sp.exp(b)),                        # a as a factor of the whole product: allowed
    (a + b) * c,
    sp.sqrt(2) * a * sp.exp(-a ** 2 / 2) / (2 * sp.sqrt(PI)) + b / 2 + sp.Rational(1, 2),
    c * (sp.sqrt(2) * a * sp.exp(-a ** 2 / 2) / (2 * sp.sqrt(PI)) + b / 2 + sp.Rational(1, 2)),
    a * b + a * c,
    s * a * b - c / s,
    sp.exp(a - c) * b - a,
    1 / (a ** 2 + 1) * b,
    sp.tanh(b) * a + c * s,
    sp.Piecewise((a, c > 0), (0, True)) * b * sp.exp(b) + a,
    sp.sqrt(2) * (a * b + c * b) * sp.Piecewise((1, c > 0), (0, True)) / 8,   # the softmax's backward
    s * (a + b) * c * sp.exp(b),
    (b + a * c) * sp.exp(a) + c,
]


def _values(rng):
    return {"a": rng.normal(size=(4, 5)), "b": rng.normal(size=(4, 5)), "c": rng.normal(size=(4, 1)), "s": 1.7}


def _run(lines, env):
    ns = {"numpy": np, "DTYPE": np.float64, **env}
    exec("\n".join(lines), ns)
    return ns


@pytest.mark.parametrize("e", EXPRESSIONS, ids=[str(e)[:40] for e in EXPRESSIONS])
def test_into_a_buffer_the_expression_reads_computes_the_expression(e, rng=np.random.default_rng(0)):
    vals = _values(rng)
    want = sp.lambdify([a, b, c, s], e, "numpy")(vals["a"], vals["b"], vals["c"], vals["s"])
    for buf in (a, b):                          # the full-shape operands as the scratch buffer
        if not scratch_ok(e, buf):
            continue
        lines = into(e, buf, ARRAYS, NumpyPrinter())
        if lines is None:
            continue
        env = {k: np.copy(v) for k, v in vals.items()}
        got = _run(lines, env)[str(buf)]
        np.testing.assert_allclose(got, np.broadcast_to(want, (4, 5)), rtol=1e-13, err_msg=f"{e} in {buf}")


def test_a_buffer_read_inside_a_term_is_refused():
    """Writing a's buffer while a is still read later would change the value: a·eᵃ in a's buffer
    (eᵃ into a, then a·… reads the overwritten a), a² + a, and a·b + a·c."""
    for e in (a * sp.exp(a), a ** 2 + a, a * b + a * c, sp.exp(a - c) * b - a):
        assert not scratch_ok(e, a), e
    assert scratch_ok(a * (b + sp.exp(b)), a) and scratch_ok(sp.exp(b) * c + a, a)
    # inside one factor, itself reading b in one term only: allowed (b + a first, then times c)
    assert scratch_ok((a + b) * c, b) and scratch_ok(c * s * (b + a * c), b)
    assert not scratch_ok((a + b) * (b + c), b) and not scratch_ok((b + a * b) * c, b)


@pytest.mark.parametrize("e", EXPRESSIONS, ids=[str(e)[:40] for e in EXPRESSIONS])
def test_fresh_chain_computes_the_expression(e, rng=np.random.default_rng(1)):
    vals = _values(rng)
    want = sp.lambdify([a, b, c, s], e, "numpy")(vals["a"], vals["b"], vals["c"], vals["s"])
    lines = fresh_chain("t", e, "(4, 5)", ARRAYS, NumpyPrinter())
    if passes(e, ARRAYS) < MIN_PASSES:
        assert lines is None
        return
    if lines is None:
        return                                  # a form the chain does not take: printed as before
    assert lines[0] == "t = numpy.empty((4, 5), dtype=DTYPE)"
    env = {k: np.copy(v) for k, v in vals.items()}
    ns = _run(lines, env)
    np.testing.assert_allclose(ns["t"], np.broadcast_to(want, (4, 5)), rtol=1e-13, err_msg=str(e))
    for k in "abc":                             # the operands are read, never written
        np.testing.assert_array_equal(ns[k], vals[k])


def test_masks_and_relations_are_not_chained():
    mask = sp.Heaviside(a, 1)
    assert fresh_chain("t", mask * b * sp.exp(b) * c + a, "(4, 5)", ARRAYS, NumpyPrinter()) is None
    assert fresh_chain("t", sp.KroneckerDelta(a, b) * sp.exp(b) * c * a, "(4, 5)", ARRAYS, NumpyPrinter()) is None


def test_gelu_backward_of_a_whole_batch_step_is_one_chain():
    """GELU's backward over (N, T, 4D) (codegen/numpy_whole_batch.py): a new array worked out in place,
    square, exp, products, in it; before, NumPy made a temporary of each pass. Not for arrays of
    fewer than CHAIN_MIN_ENTRIES entries per example (their temporaries stay in the cache). The values are those of
    torch (tests/compiling/test_transformer_step.py runs a whole transformer against torch.autograd)."""
    N = sp.Symbol("N", integer=True, positive=True)

    def declared(T, D, H):
        x, W1, W2 = sg.tensor("x", (N, T, D)), sg.tensor("W1", (D, H)), sg.tensor("W2", (H, D))
        return sg.mean((sg.gelu(x @ W1) @ W2) ** 2), [W1, W2], [x]
    loss, params, inputs = declared(64, 4, 64)          # (N, 64, 64): 4096 entries per example
    prog = sg.compile(loss, params, inputs, dtype="float64")
    grad = prog.source.split("\ndef grad(")[1].split("\ndef ")[0]
    assert "dtype=DTYPE)\n" in grad and "numpy.square(" in grad and "numpy.exp(" in grad and ", out=" in grad
    small = sg.compile(*declared(3, 4, 8), dtype="float64").source.split("\ndef grad(")[1].split("\ndef ")[0]
    assert "numpy.empty(" not in small and "numpy.square(" not in small      # (N, 3, 8): NumPy's temporaries
    rng = np.random.default_rng(2)
    vals = {"W1": rng.normal(size=(4, 64)), "W2": rng.normal(size=(64, 4))}
    xs = {"x": rng.normal(size=(3, 64, 4))}
    import torch
    t = {k: torch.tensor(v, requires_grad=True) for k, v in vals.items()}
    ((torch.nn.functional.gelu(torch.tensor(xs["x"]) @ t["W1"]) @ t["W2"]) ** 2).mean().backward()
    got = prog.grad(vals, xs)
    for k in vals:
        np.testing.assert_allclose(got[k], t[k].grad.numpy(), rtol=1e-10, err_msg=k)


def test_a_buffer_read_through_a_view_of_another_name_is_noticed():
    """The whole-batch schedule prints a view of a temporary as a symbol of its own
    (``v7.reshape((d0, 4))``); a chain in v7's buffer would overwrite what that view still reads. The
    check sees the name as a whole word only (v7 in v7.T, not in v71)."""
    from codegen.numpy_in_place import read_through_another_name
    v7, view, v71 = sp.Symbol("v7"), sp.Symbol("v7.reshape((d0, 4))"), sp.Symbol("v71")
    assert read_through_another_name(v7 * sp.exp(view) + view ** 2, v7)
    assert read_through_another_name(v7 * sp.Symbol("(v7.T)[:, 0]"), v7)
    assert not read_through_another_name(v7 * sp.exp(v71) + v71 ** 2, v7)
    # what goes wrong without the check: the chain doubles v7 in place, then reads v7.T
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    vt = sp.Symbol("v7.T")
    e = 2 * v7 + sp.exp(vt)
    assert scratch_ok(e, v7) and read_through_another_name(e, v7)     # scratch_ok alone allows it
    ns = _run(into(e, v7, {v7, vt}, NumpyPrinter()), {"v7": x.copy()})
    assert not np.allclose(ns["v7"], 2 * x + np.exp(x.T))


@pytest.mark.parametrize("e", EXPRESSIONS, ids=[str(e)[:40] for e in EXPRESSIONS])
def test_pulling_common_factors_keeps_the_value(e, rng=np.random.default_rng(3)):
    """a⊙u + a⊙w → a⊙(u + w) changes the rounding only: the rewritten expression, evaluated by
    SymPy's own printer (no in-place step), and worked out in each buffer that `cheapest` may pick,
    equals the expression as written."""
    vals = _values(rng)
    args = (vals["a"], vals["b"], vals["c"], vals["s"])
    want = np.broadcast_to(sp.lambdify([a, b, c, s], e, "numpy")(*args), (4, 5))
    pulled = pull_common_factors(e, ARRAYS)
    np.testing.assert_allclose(np.broadcast_to(sp.lambdify([a, b, c, s], pulled, "numpy")(*args), (4, 5)),
                               want, rtol=1e-12)
    best = cheapest(pulled, [x for x in (a, b) if scratch_ok(pulled, x)], ARRAYS, NumpyPrinter(), ("t", "(4, 5)"))
    if best is None:
        return
    buf, lines = best
    ns = _run(lines, {k: np.copy(v) for k, v in vals.items()})
    np.testing.assert_allclose(ns[str(buf) if buf is not None else "t"], want, rtol=1e-12, err_msg=str(pulled))


def test_softmax_backward_is_worked_out_in_the_dying_gradient_without_a_temporary():
    """c·m⊙(S⊙ḡ + S⊙r), ḡ dying: S is pulled out of the sum, and the whole worked out in ḡ's
    buffer with no NumPy temporary — ḡ += r, ḡ *= S, ḡ *= where(m, c, 0) (the number folded into
    the mask: no pass of its own) — not in a new array (one more array) nor in S's (S *= ḡ + r
    makes a temporary)."""
    g, r, S, m = sp.symbols("g r S m", real=True)
    arrays = {g, r, S, m}
    e = sp.sqrt(2) * (S * g + S * r) * sp.Piecewise((1, m > 0), (0, True)) / 8
    pulled = pull_common_factors(e, arrays)
    assert scratch_ok(pulled, g) and scratch_ok(pulled, S)
    buf, lines = cheapest(pulled, [S, g], arrays, NumpyPrinter(), ("t", "(2, 3, 4, 4)"))
    assert buf == g and lines == ["g += r", "g *= S",
                                  "g *= numpy.where(numpy.greater(m, 0), DTYPE(0.1767766952966369), DTYPE(0))"], lines
    rng = np.random.default_rng(4)
    v = {"g": rng.normal(size=(2, 3, 4, 4)), "r": rng.normal(size=(2, 3, 4, 1)), "S": rng.random((2, 3, 4, 4)),
         "m": np.tril(np.ones((4, 4)))}
    want = np.sqrt(2) / 8 * (v["S"] * v["g"] + v["S"] * v["r"]) * (v["m"] > 0)
    ns = _run(lines, {k: np.copy(x) for k, x in v.items()})
    np.testing.assert_allclose(ns["g"], want, rtol=1e-13)
    np.testing.assert_array_equal(ns["S"], v["S"])          # the other operands are read, never written


def test_a_function_without_out_makes_the_fresh_array_when_it_reads_a_full_array():
    """GELU's Φ = 0.5·erf(x/√2) + 0.5: ``t = erf(…x); t *= 0.5; t += 0.5`` — erf (a helper of the
    module, no ``out=``) makes the array, instead of NumPy's three new arrays after it. Only for a
    function of an array of the full shape (``full``): erf of the (4, 1) column c would make a
    buffer too small for what follows: that expression is left to NumPy."""
    from scipy.special import erf
    rng = np.random.default_rng(5)
    vals = _values(rng)

    def env():
        return dict({k: np.copy(v) for k, v in vals.items()}, erf=erf)
    phi = sp.erf(sp.sqrt(2) * a / 2) / 2 + sp.Rational(1, 2) + s * b
    lines = fresh_chain("t", phi, "(4, 5)", ARRAYS, NumpyPrinter(), full={a, b})
    assert lines[0].startswith("t = erf(") and not any("numpy.empty" in ln for ln in lines), lines
    want = erf(vals["a"] / np.sqrt(2)) / 2 + 0.5 + vals["s"] * vals["b"]
    np.testing.assert_allclose(_run(lines, env())["t"], want, rtol=1e-13)
    narrow = sp.erf(3 * c) * a * b + b               # erf of the column first: no chain (printed as it is)
    assert fresh_chain("t", narrow, "(4, 5)", ARRAYS, NumpyPrinter(), full={a, b}) is None
    assert fresh_chain("t", phi, "(4, 5)", ARRAYS, NumpyPrinter()) is None    # no full arrays named: as before


def test_only_a_call_that_makes_a_new_array_makes_the_chains_buffer():
    """The buffer a function's line binds is then written in place: it must be a new array, never an
    operand (or a view of one) — a ufunc, or a helper of the module; not an elementary form printed
    as an expression, not numpy.real (a view of a real array)."""
    from codegen.numpy_in_place import _makes_new_array
    assert _makes_new_array("erf((0.5)*1.4142135623730951*v102)") and _makes_new_array("numpy.logaddexp(0, v1)")
    assert _makes_new_array("sigmoid(v2)") and _makes_new_array("relu(v3)")
    for code in ("(v1)", "numpy.real(v1)", "numpy.asarray(v1)", "erf(v1)*erf(v2)", "(numpy.exp(v1))", "v1.T"):
        assert not _makes_new_array(code), code
    x = np.array([1.0, -2.0])
    assert np.real(x) is x                              # what binding it would have written into
