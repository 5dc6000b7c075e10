"""codegen.lifetimes on small hand-made statement lists: gradients and updates move up only past
statements they do not depend on (writes, in-place writes, views), masks keep the value a later
statement would have read, and the rearranged code computes what the original computes."""
import numpy as np

from codegen.lifetimes import Unit, arrange


def _run(units, env):
    ns = {"numpy": np, **{k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in env.items()}}
    code = [ln.replace("return ", "_result = ", 1) if ln.startswith("return ") else ln
            for u in units for ln in u.code]
    exec("\n".join(code), ns)
    return ns


def _lines(units):
    return [line for u in units for line in u.code]


def _env(rng):
    return {"x0": rng.normal(size=(5, 3)), "p0": rng.normal(size=(4, 3)), "p1": rng.normal(size=(2, 4))}


def _step_units():
    return [Unit(["v1 = x0 @ p0.T"]), Unit(["v1 += 1.0"]), Unit(["v2 = numpy.maximum(v1, 0)"]),
            Unit(["v3 = v2 @ p1.T"]), Unit(["v4 = v3 @ p1"]), Unit(["v4 *= (v1 >= 0)"]),
            Unit(["g1 = v3.T @ v2"], grad=1), Unit(["g0 = v4.T @ x0"], grad=0),
            Unit(["loss = float(v3.sum())"]),
            Unit(["g1 *= 0.1", "p1 -= g1"], update=1), Unit(["g0 *= 0.1", "p0 -= g0"], update=0),
            Unit(["return loss"])]


def test_rearranged_step_computes_the_same(rng):
    env = _env(rng)
    before = _run(_step_units() + [], env)
    after = _run(arrange(_step_units()), env)
    for k in ("p0", "p1", "loss"):
        np.testing.assert_allclose(after[k], before[k], rtol=1e-14)


def test_moves_respect_writes_reads_and_masks():
    lines = _lines(arrange(_step_units()))
    # g1 = v3ᵀ v2 goes right after v3 is made; p1's update waits for v4 = v3·p1 (the OLD p1)
    assert lines.index("g1 = v3.T @ v2") == lines.index("v3 = v2 @ p1.T") + 1
    assert lines.index("p1 -= g1") > lines.index("v4 = v3 @ p1")
    # v1 is read later only through its sign: the mask is taken before relu, which then reuses v1
    assert lines.index("v1_ge0 = v1 >= 0") < lines.index("v2 = numpy.maximum(v1, 0, out=v1)")
    assert "v4 *= v1_ge0" in lines
    # the gradient g0 = δᵀx waits for the last write into δ (v4 *= mask)
    assert lines.index("g0 = v4.T @ x0") > lines.index("v4 *= v1_ge0")
    # each temporary is deleted once, after its last use
    for name in ("v1", "v2", "v3", "v4", "g0", "g1", "v1_ge0"):
        dels = [i for i, ln in enumerate(lines) if ln.startswith("del ") and name in ln[4:].split(", ")]
        uses = [i for i, ln in enumerate(lines) if not ln.startswith("del ") and name in ln.replace("(", " ").replace(")", " ").replace(",", " ").split()]
        assert len(dels) == 1 and dels[0] > max(uses), name


def test_a_view_pins_what_it_views(rng):
    """v5 = v1.T is a view of v1: an in-place write into v1 after it changes v5, so a gradient that
    reads v5 must stay after that write."""
    units = [Unit(["v1 = x0 @ p0.T"]), Unit(["v5 = v1.T"]), Unit(["v1 *= 2.0"]),
             Unit(["loss = float(v1.sum())"]), Unit(["g0 = v5 @ x0"], grad=0), Unit(["return loss, g0"])]
    lines = _lines(arrange(units))
    assert lines.index("g0 = v5 @ x0") > lines.index("v1 *= 2.0")
    env = _env(rng)
    np.testing.assert_allclose(_run(arrange(units), env)["g0"], _run(units, env)["g0"], rtol=1e-14)


def test_a_mask_of_a_value_made_by_the_last_plain_use_comes_after_it(rng):
    units = [Unit(["v1 = x0 @ p0.T"]), Unit(["v2 = (x0 @ p0.T) * 3.0"]), Unit(["v2 *= (v1 > 0)"]),
             Unit(["return v2"])]
    lines = _lines(arrange(units))
    assert lines[:3] == ["v1 = x0 @ p0.T", "v1_gt0 = v1 > 0", "del v1"], lines
    env = _env(rng)
    ref = _run(units[:-1] + [Unit(["out = v2"])], env)["out"]
    got = _run(arrange(units)[:-1] + [Unit(["out = v2"])], env)["out"]
    np.testing.assert_allclose(got, ref, rtol=1e-14)


def _tied_units(view: str):
    """A whole-batch step in the shape codegen.numpy_whole_batch writes it, where p0 is read through
    a NAMED view ``v7`` (``view`` of p0) after p0's gradient is final: the decoder h·W₀ᵀ of tied
    weights. p0's update may come only after v7's last use."""
    return [Unit(["v1 = x0 @ p0"]), Unit(["v2 = numpy.tanh(v1)"]), Unit([f"v7 = {view}"]),
            Unit(["g0 = x0.T @ v2"], grad=0),          # final here (a stand-in for ∂L/∂p0)
            Unit(["v3 = v2 @ v7.reshape((4, 3))"]),    # reads p0 through v7, after g0 is final
            Unit(["loss = float((v3 ** 2).sum())"]),
            Unit(["g0 *= 0.1", "p0 -= g0"], update=0), Unit(["return loss"])]


def test_a_named_view_of_a_parameter_holds_its_update(rng):
    """An in-place update of p0 moved above the last read of a name viewing p0 would change what
    that read sees: the arranged step must compute what the step in the scheduler's order (the pass
    off) computes, for a transposed, a reshaped and an ``out=`` view."""
    env = {"x0": rng.normal(size=(5, 3)), "p0": rng.normal(size=(3, 4))}
    for view in ("p0.T", "p0.reshape((4, 3))", "numpy.transpose(p0)", "numpy.ascontiguousarray(p0.T)",
                 "p0.T[:, :]", "numpy.negative(p0, out=p0).T", "numpy.einsum('ij->ji', p0)"):
        units = _tied_units(view)
        lines = _lines(arrange(units))
        assert lines.index("p0 -= g0") > lines.index("v3 = v2 @ v7.reshape((4, 3))"), view
        assert lines.index("g0 = x0.T @ v2") < lines.index("v3 = v2 @ v7.reshape((4, 3))"), view   # g0 moved up
        before, after = _run(units, env), _run(arrange(units), env)
        for k in ("p0", "loss"):
            np.testing.assert_allclose(after[k], before[k], rtol=1e-14, err_msg=view)


def test_a_new_array_made_from_a_parameter_does_not_hold_its_update():
    """``(x0 @ p0).reshape(…)`` and ``p0.T.copy()`` are new arrays, no views of p0: p0's update goes
    before their later uses (only a view's base counts); so is an einsum of two operands."""
    for made in ("(x0 @ p0).reshape((4, 5)).T", "p0.T.copy()", "numpy.tanh(p0)", "p0 @ p0.T",
                 "numpy.einsum('ij,kj->ik', p0, p0)"):
        units = _tied_units(made)
        lines = _lines(arrange(units))
        assert lines.index("p0 -= g0") < lines.index("v3 = v2 @ v7.reshape((4, 3))"), made


def test_an_einsum_that_sums_an_axis_is_a_new_array():
    """``numpy.einsum('ijk->ij', a)`` (the whole-batch schedule's sum over the last axis) makes a
    new array, as ``a.sum(2)`` does; ``numpy.einsum('ii->i', a)`` and ``'ij->ji'`` are views of a.
    Before, every one-operand einsum counted as a view: a's buffer was kept alive, never reused."""
    import ast

    from codegen.lifetimes import _viewed

    def viewed(code):
        return _viewed(ast.parse(code, mode="eval").body)
    assert viewed("numpy.einsum('ijk->ij', a)[..., None]") == set()
    assert viewed("numpy.einsum('ijkl->ijk', numpy.exp(a - m))[..., None]") == set()
    assert viewed("numpy.einsum('ii->i', a)") == {"a"}
    assert viewed("numpy.einsum('ij->ji', a)") == {"a"}
    assert viewed("numpy.einsum('...i->...i', a)") == {"a"}


def test_a_write_through_an_index_writes_the_indexed_array_only(rng):
    """``m[~numpy.isfinite(m)] = 0`` (a log-sum-exp's guard) writes m, not numpy: counted as a write
    of numpy, it held every update back behind every later statement that calls numpy."""
    units = [Unit(["v1 = x0 @ p0.T"]), Unit(["v2 = v1 @ p1.T"]), Unit(["m = numpy.fmax.reduce(v2, axis=1)",
                                                                       "m[~numpy.isfinite(m)] = 0"]),
             Unit(["v3 = v2 - m[:, None]"]), Unit(["g1 = v3.T @ v1"], grad=1),
             Unit(["v4 = numpy.exp(v3) @ p1"]), Unit(["g0 = v4.T @ x0"], grad=0),
             Unit(["loss = float(numpy.sum(v3))"]),
             Unit(["p1 -= numpy.multiply(g1, 0.1)"], update=1), Unit(["p0 -= numpy.multiply(g0, 0.1)"], update=0),
             Unit(["return loss"])]
    out = _lines(arrange(units))
    # p1's update waits for v4 = … @ p1 (the old p1), and no longer for g0 and the loss
    assert out.index("p1 -= numpy.multiply(g1, 0.1)") == out.index("v4 = numpy.exp(v3) @ p1") + 1, out
    env = _env(rng)
    before, after = _run(units, env), _run(arrange(units), env)
    for k in ("p0", "p1", "loss"):
        np.testing.assert_allclose(after[k], before[k], rtol=1e-14)
