"""The rewrite that takes factors constant along an axis out of the loop over it
(symgrad/compiling/pull_factors.py): equal values on random graphs (float64, the reference
interpreter before and after), each rule firing where it should and not where it should not, and
batch norm's backward making one Σₙ fewer per layer."""
import importlib.util
import pathlib

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.compiling import compiler
from symgrad.compiling.compiler import specify
from symgrad.compiling.pull_factors import pull_factors
from symgrad.core import array_rules as A
from symgrad.core import rules as R
from symgrad.core.evaluate import evaluate
from symgrad.core.ir import Graph
from symgrad.core.placeholders import ph

N = sp.Symbol("N", integer=True, positive=True)
D = 3
ROOT = pathlib.Path(__file__).resolve().parents[2]


class Net:
    """A graph with (N, 3) inputs x0..x2, per-column parameters c0, c1 (3,), a per-row input
    r (N,), a scalar parameter s, and their broadcasts to (N, 3)."""

    def __init__(self):
        g = self.g = Graph()
        self.x = [g.bind(R.input_p, (), (sg.tensor(f"x{i}", (N, D)), (N, D))) for i in range(3)]
        self.c = [g.bind(R.param_p, (), (sg.tensor(f"c{i}", (D,)), (D,))) for i in range(2)]
        self.r = g.bind(R.input_p, (), (sg.tensor("r", (N,)), (N,)))
        self.s = g.bind(R.param_p, (), (sp.Symbol("s"), ()))
        self.C = [A.expand(g, A.reshape(g, c, (1, D)), (N, D)) for c in self.c]
        self.Rw = A.expand(g, A.reshape(g, self.r, (N, 1)), (N, D))
        self.expC = R.ewise(g, sp.exp(ph(0)) * ph(1), self.C[0], self.C[1])     # constant along N too

    def values(self, rng, n=5):
        v = {f"x{i}": rng.standard_normal((n, D)) for i in range(3)}
        v.update({f"c{i}": rng.standard_normal(D) for i in range(2)})
        v.update(r=rng.standard_normal(n), s=float(rng.standard_normal()))
        v[N] = n                    # a sum of constants is N times them: no array may carry N
        return v

    def ewise(self, body, *ins):
        return R.ewise(self.g, body, *ins, shape=(N, D))


def _sums(g, outs):
    return [e for e in g.ancestors([o for o in outs if o is not None]) if e.prim in (A.rsum_p, R.sum_p)]


def _random_outputs(net: Net, rng) -> list:
    """Sums (over N, over the columns, over both, over every entry) and plain elementwise values
    of random products of the inputs, their broadcasts and functions of them; some products feed
    another product that nothing else reads, some are read twice."""
    g = net.g
    pool = net.x + net.C + [net.Rw, net.s, net.expC]
    fns = [lambda a: a, lambda a: a, sp.sin, lambda a: a ** 2, lambda a: sp.exp(-a), lambda a: 1 / (1 + a ** 2)]
    outs = []
    for _ in range(5):
        picks = [pool[i] for i in rng.choice(len(pool), rng.integers(2, 5))]
        body = sp.Integer(int(rng.choice([1, 2, -3])))
        for i in range(len(picks)):
            body *= fns[rng.integers(len(fns))](ph(i))
        e = net.ewise(body, *picks)
        if rng.random() < 0.4:                          # a chain: (...)·u, read once
            e = net.ewise(ph(0) * ph(1), e, pool[rng.integers(len(pool))])
        kind = rng.integers(5)
        if kind == 0:
            outs.append(A.rsum(g, e, (0,)))
        elif kind == 1:
            outs.append(A.rsum(g, e, (1,)))
        elif kind == 2:
            outs.append(A.rsum(g, e, (0, 1)))
        elif kind == 3:
            outs.append(R.reduce_sum(g, e, None))
        else:
            outs += [e, A.rsum(g, e, (0,))]             # read twice
    return outs


@pytest.mark.parametrize("seed", range(40))
def test_rewritten_graph_has_the_same_values(seed):
    rng = np.random.default_rng(seed)
    net = Net()
    outs = _random_outputs(net, rng)
    new = pull_factors(net.g, outs)
    for n in (1, 6):
        values = net.values(rng, n)
        for want, got in zip(evaluate(net.g, outs, values), evaluate(net.g, new, values)):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_random_graphs_are_rewritten_often():
    # the equality above is not vacuous: most random graphs lose sums or gain small products
    changed = 0
    for seed in range(40):
        net = Net()
        outs = _random_outputs(net, np.random.default_rng(seed))
        changed += pull_factors(net.g, outs) != outs
    assert changed >= 30


def test_sums_equal_up_to_column_factors_become_one():
    net = Net()
    x0, x1 = net.x[:2]
    s0 = A.rsum(net.g, net.ewise(ph(0) * ph(1) * ph(2), x0, x1, net.C[0]), (0,))        # Σₙ x0·x1·c0
    s1 = A.rsum(net.g, net.ewise(-2 * ph(0) * ph(1) * ph(2), x0, x1, net.expC), (0,))   # Σₙ −2·x0·x1·e^c0·c1
    new = pull_factors(net.g, [s0, s1])
    assert len(_sums(net.g, [s0, s1])) == 2
    (only,) = _sums(net.g, new)
    assert only.prim is A.rsum_p and net.g.producer[only.inputs[0].id].params[0] == ph(0) * ph(1)
    for v in new:                               # the factors multiply the (1, 3) sum, not (N, 3)
        assert net.g.producer[v.id].out.shape == (1, D)


def test_per_row_factor_leaves_a_sum_over_the_columns():
    net = Net()
    x0 = net.x[0]
    s = A.rsum(net.g, net.ewise(ph(0) * sp.sin(ph(1)), net.Rw, x0), (1,))      # Σⱼ rₙ·sin(xₙⱼ)
    (t,) = pull_factors(net.g, [s])
    e = net.g.producer[t.id]
    assert e.prim is R.ewise_p and t.shape == (N, 1)
    inner = net.g.producer[_sums(net.g, [t])[0].inputs[0].id]
    assert inner.params[0] == sp.sin(ph(0)) and inner.inputs == (x0,)
    # summed over N, rₙ is not constant: nothing to take out
    s0 = A.rsum(net.g, net.ewise(ph(0) * sp.sin(ph(1)), net.Rw, x0), (0,))
    assert pull_factors(net.g, [s0]) == [s0]


def test_sum_of_every_entry_takes_out_scalars_and_a_constant_is_counted():
    net = Net()
    g, x0 = net.g, net.x[0]
    total = R.reduce_sum(g, net.ewise(ph(0) * ph(1), x0, R.ewise(g, 3 * ph(0), net.s, shape=(N, D))), None)
    (t,) = pull_factors(g, [total])
    assert g.producer[t.id].prim is R.ewise_p and _sums(g, [t])[0].inputs == (x0,)
    col = A.rsum(g, net.expC, (0,))                 # Σₙ of a value constant along N: N times it
    (u,) = pull_factors(g, [col])
    assert _sums(g, [u]) == []
    values = net.values(np.random.default_rng(0), 4)
    np.testing.assert_allclose(evaluate(g, [u], values)[0],
                               4 * np.exp(values["c0"]) * values["c1"].reshape(1, D), rtol=1e-14)


def test_a_product_read_elsewhere_keeps_its_sum():
    # x0·x1·c0 is computed anyway (it is an output): Σₙ x0·x1 would be one more (N, 3) product
    net = Net()
    e = net.ewise(ph(0) * ph(1) * ph(2), net.x[0], net.x[1], net.C[0])
    s = A.rsum(net.g, e, (0,))
    assert pull_factors(net.g, [e, s]) == [e, s]
    # ... but a single factor left inside is read as it is: no new product
    e1 = net.ewise(ph(0) * ph(1), net.x[0], net.C[0])
    s1 = A.rsum(net.g, e1, (0,))
    e1_, s1_ = pull_factors(net.g, [e1, s1])
    assert e1_ is e1 and _sums(net.g, [s1_])[0].inputs == (net.x[0],)


def test_a_scalar_is_taken_out_of_a_sum_of_a_mask():
    # Σₙ s·[x ≥ 0] → s·Σₙ [x ≥ 0]: the mask is left alone in the sum (the printers count it in
    # the program's dtype), with the same values
    net = Net()
    m = net.ewise(ph(1) * sp.Heaviside(ph(0), 1), net.x[0], R.ewise(net.g, ph(0), net.s, shape=(N, D)))
    s = A.rsum(net.g, m, (0,))
    (out,) = pull_factors(net.g, [s])
    assert out != s
    (inner,) = [e for e in net.g.ancestors([out]) if e.prim is A.rsum_p and e.out.id != s.id]
    assert net.g.producer[inner.inputs[0].id].params[0] == sp.Heaviside(ph(0), 1)
    env = net.values(np.random.default_rng(5))
    np.testing.assert_allclose(evaluate(net.g, [out], env)[0], evaluate(net.g, [s], env)[0], rtol=1e-12)


def test_column_factors_of_a_product_are_multiplied_once():
    net = Net()
    e = net.ewise(2 * ph(0) * ph(1) * ph(2), net.x[0], net.C[0], net.C[1])     # 2·x0·c0·c1
    (t,) = pull_factors(net.g, [e])
    big = net.g.producer[t.id]
    assert big.params[0] == ph(0) * ph(1) and big.inputs[0] is net.x[0]
    ex = net.g.producer[big.inputs[1].id]
    assert ex.prim is A.expand_p
    row = net.g.producer[ex.inputs[0].id]            # (D,) viewed as (1, D): NumPy broadcasts it
    assert row.prim is A.reshape_p and row.out.shape == (1, D)
    small = net.g.producer[row.inputs[0].id]
    assert small.out.shape == (D,) and small.params[0] == 2 * ph(0) * ph(1)
    assert set(small.inputs) == set(net.c)           # the parameters themselves, not (1, D) views
    # nothing varies along N: left as it is (a value of the full shape, as declared)
    whole = net.ewise(ph(0) * ph(1) * ph(2), net.C[0], net.C[1], net.s)
    assert pull_factors(net.g, [whole]) == [whole]


# -------------------------------------------------------------------------------------------------
# batch norm


def _bench():
    """bench/tensor_step.py: the batch-norm MLP the speed is measured on, and its torch step."""
    spec = importlib.util.spec_from_file_location("tensor_step", ROOT / "bench" / "tensor_step.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _bn_mlp(layers=2, width=4):
    return _bench().declare(layers, width)


def _column_sums(lw):
    """The Σₙ over an (N, D) array that the gradients need."""
    outs = [lw.loss] + [g for g in lw.grads if g is not None]
    return [e for e in _sums(lw.graph, outs) if e.prim is A.rsum_p and e.params[0] == (0,)]


def test_batch_norm_backward_makes_one_sum_fewer_per_layer(monkeypatch):
    loss, params, inputs = _bn_mlp(layers=2)
    after = specify(loss, params, inputs, dtype="float64").train
    monkeypatch.setattr(compiler, "pull_factors", lambda g, outs, notes=None: list(outs))
    before = specify(loss, params, inputs, dtype="float64").train
    # per layer, the chain rule's Σₙ: z (μ), (z − μ)² (σ²), ḡ (β), x̂·ḡ (γ), γ·(z − μ)·ḡ (σ), dx̂ (μ's
    # gradient), and the output layer's Σₙ for its bias; after: x̂·ḡ and γ·(z − μ)·ḡ are one
    assert len(_column_sums(before)) == 2 * 6 + 1
    assert len(_column_sums(after)) == 2 * 5 + 1
    # ∂L/∂γ reads Σₙ (z − μ)·ḡ times σ⁻¹, a (1, D) product
    g_gamma = after.grads[[p.name for p in params].index("g0")]
    e = after.graph.producer[g_gamma.id]
    while e.prim is A.reshape_p:
        e = after.graph.producer[e.inputs[0].id]
    assert e.prim is R.ewise_p and e.out.shape == (1, 4)


def test_batch_norm_step_equals_torch_after_the_rewrite():
    torch = pytest.importorskip("torch")
    ts = _bench()
    loss, params, inputs = ts.declare(2, 6)
    prog = sg.compile(loss, params, inputs, dtype="float64")
    rng = np.random.default_rng(3)
    P = ts.init(params, rng)
    P = {k: v.astype(np.float64) + 0.1 * rng.standard_normal(v.shape) for k, v in P.items()}
    x, y = rng.standard_normal((11, 6)) + 3.0, rng.integers(0, ts.CLASSES, 11)   # a mean far from 0
    got = prog.grad(P, {"x": x, "y": y.astype(float)})
    T = {k: torch.tensor(v, requires_grad=True) for k, v in P.items()}
    h = torch.tensor(x)
    F = torch.nn.functional
    for i in range(2):
        h = F.relu(F.batch_norm(h @ T[f"W{i}"], None, None, T[f"g{i}"], T[f"b{i}"], training=True, eps=ts.EPS))
    F.cross_entropy(h @ T["Wo"] + T["bo"], torch.tensor(y)).backward()
    for k, t in T.items():
        np.testing.assert_allclose(got[k], t.grad.numpy(), rtol=1e-9, atol=1e-9, err_msg=k)
