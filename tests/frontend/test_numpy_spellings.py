"""jax.numpy's names as sg's (2026-12-01, twelfth session): a researcher writing ``jnp`` code wrote
``sg.matmul``, ``sg.log1p``, ``sg.concatenate(..., axis=-1)``, ``sg.linalg.norm``, ``sg.moveaxis``,
``jax.nn.gelu(x, approximate=True)``, ``jnp.clip(x, min=, max=)``, ``np.roll(x, 1, axis=1)`` —
AttributeErrors and TypeErrors. The same function written once for both namespaces: values and
gradients against jax.grad in float64, symbolic (sg.grad) and compiled (sg.compile, NumPy)."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg

jax = pytest.importorskip("jax")
jnp = jax.numpy


@pytest.fixture(autouse=True, scope="module")
def _jax_in_float64():
    """jax in float64 for this module's comparisons, put back after: a global switch left on made
    another module's jax run in float64 (tests/test_bench_jax_optional.py)."""
    before = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", before)


RNG = np.random.default_rng(0)
XV, YV, VV = RNG.normal(size=(3, 4)), RNG.normal(size=(3, 4)), RNG.normal(size=(4,))


def _nn(L):
    return jax.nn if L is jnp else sg


CASES = {
    "matmul": lambda L, x, y, v: (L.matmul(x, v) ** 2).sum() + L.matmul(x.T, y).sum(),
    "dot": lambda L, x, y, v: (L.dot(x, v) ** 2).sum() + L.dot(L.dot(x, v), L.dot(y, v)),
    "vdot_inner": lambda L, x, y, v: L.vdot(x, y) + (L.inner(x, y) ** 2).sum() + (L.inner(x, v) ** 3).sum(),
    "outer": lambda L, x, y, v: (L.outer(x[:, 0], v) * y).sum(),
    "square_power": lambda L, x, y, v: (L.square(x) * y).sum() + L.power(L.exp(x), 3).sum(),
    "log1p_expm1": lambda L, x, y, v: (L.log1p(x ** 2) * y).sum() + (L.expm1(x) * y).sum(),
    "logaddexp": lambda L, x, y, v: L.logaddexp(x, y).sum() + L.logaddexp(x, v).sum(),
    "exp2_log2_log10": lambda L, x, y, v: (L.exp2(x) * y).sum() + (L.log2(L.exp(x)) * y).sum()
                                          + (L.log10(x ** 2 + 1) * y).sum() + (L.negative(x) * y).sum(),
    "ravel_astype": lambda L, x, y, v: (L.ravel(x) * y.ravel()).sum() + (x.astype("float64") ** 3).sum(),
    "at_get": lambda L, x, y, v: (x.at[1:].get() ** 3).sum(),
    "concatenate": lambda L, x, y, v: (L.concatenate([x, y], axis=-1) ** 3).sum(),
    "hstack_vstack": lambda L, x, y, v: (L.hstack([x, y]) ** 3).sum() + (L.hstack([v, x[0]]) ** 3).sum()
                                        + (L.vstack([x, v, y]) ** 3).sum(),
    "split_sections": lambda L, x, y, v: (L.split(x, 2, axis=1)[0] * L.split(x, 2, axis=-1)[1]).sum(),
    "split_indices": lambda L, x, y, v: sum((p ** 2).sum() * (i + 1) for i, p in enumerate(L.split(x, [1, 2], axis=0))),
    "reshape": lambda L, x, y, v: (L.reshape(x, (4, -1)) @ y).sum(),
    "transpose": lambda L, x, y, v: (L.transpose(x) @ y).sum() + (L.transpose(x[None], (2, 0, 1)) ** 3).sum(),
    "moveaxis": lambda L, x, y, v: (L.moveaxis(x[None], 0, -1) ** 3 * L.arange(3)[:, None, None]).sum(),
    "expand_squeeze": lambda L, x, y, v: (L.expand_dims(x, (0, -1)) ** 3).sum() + L.squeeze(x[:, None], 1).sum(),
    "broadcast_to": lambda L, x, y, v: (L.broadcast_to(x[0], (3, 4)) * y).sum(),
    "tile": lambda L, x, y, v: (L.tile(x, 2) ** 3).sum() + (L.tile(x, (2, 1, 1)) ** 2).sum(),
    "amax": lambda L, x, y, v: L.amax(x, axis=1).sum() + (L.amin(x, axis=0, keepdims=True) * y).sum(),
    "clip_keywords": lambda L, x, y, v: (L.clip(x, min=-0.5, max=0.5) * y).sum(),
    "roll_axis": lambda L, x, y, v: (L.roll(x, 1, axis=1) * y).sum(),
    "linalg_norm": lambda L, x, y, v: L.linalg.norm(x) + L.linalg.norm(x, axis=1).sum()
                                      + L.linalg.norm(x, ord=1, axis=-1).sum() + L.linalg.norm(x, "fro"),
    "gelu_approximate": lambda L, x, y, v: (_nn(L).gelu(x, approximate=True) * y).sum()
                                           + (_nn(L).gelu(x, approximate=False) * y).sum(),
    "jax_nn_names": lambda L, x, y, v: (_nn(L).log_sigmoid(x) * y).sum() + (_nn(L).swish(x) * y).sum()
                                       + (_nn(L).hard_tanh(2 * x) * y).sum() + (_nn(L).hard_sigmoid(4 * x) * y).sum()
                                       + (_nn(L).hard_swish(4 * x) * y).sum() + (_nn(L).soft_sign(x) * y).sum(),
    "standardize": lambda L, x, y, v: (_nn(L).standardize(x, axis=-1) * y).sum()
                                      + (_nn(L).standardize(x, axis=0, epsilon=0.1) * y).sum(),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_as_jax_numpy(name):
    f = CASES[name]
    ref = jax.grad(lambda x: f(jnp, x, jnp.asarray(YV), jnp.asarray(VV)))(jnp.asarray(XV))
    ref_value = float(f(jnp, jnp.asarray(XV), jnp.asarray(YV), jnp.asarray(VV)))
    x, y, v = sg.tensor("x", (3, 4)), sg.tensor("y", (3, 4)), sg.tensor("v", (4,))
    loss = f(sg, x, y, v)
    env = {x: XV, y: YV, v: VV}
    np.testing.assert_allclose(float(np.asarray(sg.numeric(loss, env), float)), ref_value, rtol=1e-10)
    np.testing.assert_allclose(np.asarray(sg.numeric(sg.grad(loss, x), env), float), ref, rtol=1e-9, atol=1e-12)
    prog = sg.compile(loss, params=[x], inputs=[y, v], dtype="float64")
    got = prog.grad({"x": XV}, {"y": YV[None], "v": VV[None]})["x"]
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-12)


def test_logaddexp_compiled_neither_overflows_nor_loses_the_small_term():
    a, b = sg.tensor("a", (3,)), sg.tensor("b", (3,))
    av, bv = np.array([800.0, -800.0, 0.0]), np.array([790.0, -805.0, 1e-3])
    prog = sg.compile(sg.logaddexp(a, b).sum(), params=[a], inputs=[b], dtype="float64")
    ref_g = jax.grad(lambda t: jnp.logaddexp(t, jnp.asarray(bv)).sum())(jnp.asarray(av))
    np.testing.assert_allclose(prog.loss({"a": av}, {"b": bv[None]}), np.logaddexp(av, bv).sum(), rtol=1e-12)
    np.testing.assert_allclose(prog.grad({"a": av}, {"b": bv[None]})["a"], ref_g, rtol=1e-12)


def test_logaddexp_at_infinities_as_jax():
    # log(0) = −inf is how log-space code writes "no mass" (CTC, masked log-probabilities): logaddexp(−inf, 0)
    # is 0 and logaddexp(−inf, −inf) is −inf in jax; written a + softplus(b − a) they were −inf + inf = nan
    a, b = sg.tensor("a", (4,)), sg.tensor("b", (4,))
    av, bv = np.array([-np.inf, 0.5, -np.inf, np.inf]), np.array([0.3, -np.inf, -np.inf, 1.0])
    f = (sg.logaddexp(a, b) * sg.tensor("c", (4,))).sum()
    cv = np.array([1.0, 2.0, 3.0, 4.0])
    env = {a: av, b: bv, sg.tensor("c", (4,)): cv}
    np.testing.assert_array_equal(np.asarray(sg.numeric(sg.logaddexp(a, b), env), float), np.logaddexp(av, bv))
    ref = jax.grad(lambda t: (jnp.logaddexp(t, jnp.asarray(bv)) * cv).sum())(jnp.asarray(av))
    got = np.asarray(sg.numeric(sg.grad(f, a), env), float)
    # (0, 2): the finite operand takes all of it; (+inf, 1): 4, as jax's and torch's (a logsumexp of the
    # pair read e^(inf − inf) there, nan). At (−inf, −inf) jax's and torch's are nan (test_logaddexp_infinities)
    np.testing.assert_array_equal(got[[0, 1, 3]], np.asarray(ref)[[0, 1, 3]])


def test_concatenate_with_axis_none_flattens_as_numpys():
    # np.concatenate(xs, axis=None) joins the flattened arrays (it was "axis must be an integer")
    x, v = sg.tensor("x", (3, 4)), sg.tensor("v", (4,))
    f = sg.concatenate([x, v], axis=None)
    assert tuple(f.shape) == (16,)
    np.testing.assert_array_equal(np.asarray(sg.numeric(f, {x: XV, v: VV}), float),
                                  np.concatenate([XV, VV], axis=None))
    w = np.arange(16.0)
    ref = jax.grad(lambda t: (jnp.concatenate([t, jnp.asarray(VV)], axis=None) ** 2 * w).sum())(jnp.asarray(XV))
    g = sg.numeric(sg.grad((f ** 2 * sg.tensor("w", (16,))).sum(), x), {x: XV, v: VV, sg.tensor("w", (16,)): w})
    np.testing.assert_allclose(np.asarray(g, float), ref, rtol=1e-12)


def test_stacks_of_scalars_and_inner_with_a_number_as_numpys():
    # np.hstack / np.vstack take 0-d arrays (atleast_1d / atleast_2d) and np.inner a number; they were
    # "axis 1 is out of range" and "inner takes a tensor"
    x = sg.tensor("x", (3, 4))
    env = {x: XV}
    for got, want in ((sg.hstack([x[0, 0], x[1, 1]]), np.hstack([XV[0, 0], XV[1, 1]])),
                      (sg.hstack([x[0, 0], x[1]]), np.hstack([XV[0, 0], XV[1]])),
                      (sg.vstack([x[0, 0], x[1, 1]]), np.vstack([XV[0, 0], XV[1, 1]])),
                      (sg.inner(x, 2.5), np.inner(XV, 2.5)), (sg.inner(3, x[0]), np.inner(3, XV[0]))):
        assert tuple(got.shape) == want.shape
        np.testing.assert_array_equal(np.asarray(sg.numeric(got, env), float), want)


def test_split_gives_a_list_as_numpys_both_ways():
    # np.split returns a list of k pieces or of the pieces between the points; k pieces came as
    # torch's tuple (parts.append(...) failed)
    x = sg.tensor("x", (3, 4))
    for parts, want in ((sg.split(x, 2, axis=1), np.split(XV, 2, axis=1)), (sg.split(x, [1], axis=0), np.split(XV, [1]))):
        assert isinstance(parts, list) and len(parts) == len(want)
        for p, w in zip(parts, want):
            np.testing.assert_array_equal(np.asarray(sg.numeric(p, {x: XV}), float), w)


def test_dot_of_a_batch_by_a_matrix_as_numpys():
    # np.dot(a, b) with b of one or two axes is a @ b whatever a's rank (a's last axis against b's
    # first); it was refused as NumPy's higher-rank dot
    a, b = sg.tensor("a", (2, 3, 4)), sg.tensor("b", (4, 5))
    av, bv = RNG.normal(size=(2, 3, 4)), RNG.normal(size=(4, 5))
    f = sg.dot(a, b)
    assert tuple(f.shape) == (2, 3, 5)
    np.testing.assert_allclose(np.asarray(sg.numeric(f, {a: av, b: bv}), float), np.dot(av, bv), rtol=1e-12)


def test_numpy_functions_that_differ_name_symgrads_spelling():
    x = sg.tensor("x", (3, 4))
    with pytest.raises(sg.ArgumentError, match=r"sg\.repeat_interleave\(x, 2, dim=0\)"):
        sg.repeat(x, 2, axis=0)                     # np.repeat is torch's repeat_interleave
    with pytest.raises(sg.UnsupportedError, match=r"sg\.where\(mask, v, x\).*index_add"):
        x.at[0].set(1.0)                            # JAX's functional update
    with pytest.raises(sg.UnsupportedError, match="Frobenius"):
        sg.linalg.norm(x, ord=2)                    # a spectral norm
    with pytest.raises(sg.ArgumentError, match=r"x\.chunk\(3, dim=1\)"):
        sg.split(x, 3, axis=1)                      # 3 does not divide 4
    with pytest.raises(sg.UnsupportedError, match="sg.einsum"):
        sg.dot(sg.tensor("a", (2, 3, 4)), sg.tensor("b", (2, 4, 5)))
    with pytest.raises(sg.ArgumentError, match="given twice"):
        sg.clip(x, -1, min=-2)
    with pytest.raises(AttributeError, match=r"cross_entropy\(logits, labels, reduction='none'\)"):
        sg.softmax_cross_entropy_with_integer_labels  # noqa: B018 - optax's name
    with pytest.raises(sg.UnsupportedError, match=r"at\[\.\.\.\]\.add.*index_add"):
        x.at[0].add(1.0)
    for name, said in (("sigmoid_binary_cross_entropy", r"sg\.bce_with_logits"), ("nn", r"sg\.softmax"),
                       ("lax", r"sg\.stop_gradient"), ("l2_loss", r"0\.5 \* \(p - t\)\*\*2")):
        with pytest.raises(AttributeError, match=said):
            getattr(sg, name)
    with pytest.raises(sg.ShapeError, match=r"sg\.flip\(x, axis=0\)"):
        x[::-1]                                     # NumPy's reversal
    with pytest.raises(sg.ArgumentError, match=r"give both branches.*sg\.where\(cond, x, 0\)"):
        sg.where(x > 0)                             # np.where(cond): indices; it was a TypeError
    with pytest.raises(sg.AxisError, match="one integer here"):
        sg.softmax(x, axis=(0, 1))                  # it said "an integer (or a tuple of integers), got (0, 1)"
    with pytest.raises(AttributeError, match="norm"):
        sg.linalg.svd  # noqa: B018


def test_of_a_matrix_expression_entry_by_entry_not_a_matrix_function():
    W, x = sp.MatrixSymbol("W", 3, 3), sp.MatrixSymbol("x", 3, 1)
    z = W * x
    loss = sg.sum(sg.log1p(sg.square(z))) + sg.sum(sg.expm1(z)) + sg.sum(sg.square(W)) + sg.sum(sg.exp2(z)) \
        + sg.sum(sg.power(W, 3))
    Wv, xv = RNG.normal(size=(3, 3)), RNG.normal(size=(3, 1))

    def ref(Wj):
        zj = Wj @ jnp.asarray(xv)
        return (jnp.log1p(zj ** 2).sum() + jnp.expm1(zj).sum() + (Wj ** 2).sum() + jnp.exp2(zj).sum()
                + (Wj ** 3).sum())

    got = np.asarray(sg.numeric(sg.grad(loss, W), {W: Wv, x: xv}), float)
    np.testing.assert_allclose(got, jax.grad(ref)(jnp.asarray(Wv)), rtol=1e-10)


def _jnp_model(L, nn, x, y1h, W1, b1, W2, b2, g):
    h = L.matmul(x, W1) + b1
    mu, var = L.mean(h, axis=-1, keepdims=True), L.var(h, axis=-1, keepdims=True)
    h = nn.gelu((h - mu) / L.sqrt(var + 1e-5) * g, approximate=False)
    logits = L.dot(h, W2) + b2
    return (-L.mean(L.sum(y1h * nn.log_softmax(logits, axis=-1), axis=-1)) + 1e-3 * L.linalg.norm(W1) ** 2
            + L.mean(L.clip(logits, min=-1.0, max=1.0) ** 2))


def test_a_jax_model_written_once_compiles_whole_batch_as_jax_differentiates_it():
    N = sp.Symbol("N", integer=True, positive=True)
    rng = np.random.default_rng(1)
    vals = dict(W1=rng.normal(size=(4, 8)), b1=rng.normal(size=(8,)), W2=rng.normal(size=(8, 3)),
                b2=rng.normal(size=(3,)), g=rng.normal(size=(8,)))
    xv, yv = rng.normal(size=(5, 4)), rng.integers(0, 3, 5)
    x, y = sg.tensor("x", (N, 4)), sg.tensor("y", (N,), integer=True)
    P = {k: sg.tensor(k, v.shape) for k, v in vals.items()}
    prog = sg.compile(_jnp_model(sg, sg, x, sg.one_hot(y, 3), **P), params=list(P.values()), inputs=[x, y],
                      dtype="float64")
    ref = jax.grad(lambda p: _jnp_model(jnp, jax.nn, jnp.asarray(xv), jax.nn.one_hot(yv, 3), **p))(
        {k: jnp.asarray(v) for k, v in vals.items()})
    got = prog.grad(vals, {"x": xv, "y": yv})
    for k in vals:
        np.testing.assert_allclose(got[k], ref[k], rtol=1e-9, atol=1e-12, err_msg=k)
