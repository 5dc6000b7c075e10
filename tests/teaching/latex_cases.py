"""The derivations the LaTeX compile test sets: every activation and function symgrad knows, on a
scalar, its square and a matrix layer, each with and without a point; losses and vector functions;
a relu MLP with cross-entropy. Imported by bare name (tests/ is on the path)."""
import numpy as np
import sympy as sp

import symgrad as sg

a, w = sp.symbols("a w")
W = sp.MatrixSymbol("W", 2, 2)
x = sp.MatrixSymbol("x", 2, 1)
t = sp.MatrixSymbol("t", 2, 1)
AT_SCALAR = {a: 0.7, w: 1.3}
AT_MATRIX = {W: np.array([[0.1, 0.2], [0.3, 0.4]]), x: np.array([[1.0], [2.0]]),
             t: np.array([[0.25], [0.75]])}

# every elementwise function: symgrad's activations and the SymPy functions a lecture uses
ACTIVATIONS = {
    "sigmoid": sg.sigmoid, "relu": sg.relu, "leaky_relu": sg.leaky_relu, "softplus": sg.softplus,
    "tanh": sp.tanh, "exp": sp.exp, "log": sp.log, "sqrt": sp.sqrt, "sin": sp.sin, "cos": sp.cos,
    "tan": sp.tan, "sinh": sp.sinh, "cosh": sp.cosh, "atan": sp.atan, "erf": sp.erf, "abs": sp.Abs,
    "max0": lambda u: sp.Max(u, 0), "min0": lambda u: sp.Min(u, 0),
    "square": lambda u: u ** 2, "reciprocal": lambda u: 1 / u,
}


def activation_cases():
    """(name, f, wrt, at) for each activation × {scalar, square, matrix layer} (at given later)."""
    for name, act in ACTIVATIONS.items():
        yield f"{name}-scalar", act(w * a), [w], AT_SCALAR
        yield f"{name}-square", act(w * a) ** 2, [w], AT_SCALAR
        yield f"{name}-layer", sg.mse(sg.elementwise(act, W * x), t), [W], AT_MATRIX


def function_cases():
    """Vector functions, reductions and losses on a matrix layer, and a relu MLP with cross-entropy."""
    z = W * x
    p = sg.softmax(z)
    yield "softmax", sg.sum(sp.HadamardProduct(t, p)), [W], AT_MATRIX
    yield "log_softmax", sg.sum(sp.HadamardProduct(t, sg.log_softmax(z))), [W], AT_MATRIX
    yield "logsumexp", sg.logsumexp(z), [W], AT_MATRIX
    yield "sum", sg.sum(z), [W], AT_MATRIX
    yield "mse", sg.mse(z, t), [W], AT_MATRIX
    yield "l1", sg.l1(z, t), [W], AT_MATRIX
    yield "hinge", sg.hinge(z, t), [W], AT_MATRIX
    yield "bce", sg.bce(sg.sigmoid(z), t), [W], AT_MATRIX
    yield "cross_entropy", sg.cross_entropy(z, t), [W], AT_MATRIX
    yield "kl_div", sg.kl_div(t, sg.softmax(z)), [W], AT_MATRIX
    yield "gather", sg.gather(z, 1), [W], AT_MATRIX
    W1, W2 = sp.MatrixSymbol("W1", 3, 2), sp.MatrixSymbol("W2", 2, 3)
    b1, b2 = sp.MatrixSymbol("b1", 3, 1), sp.MatrixSymbol("b2", 2, 1)
    mlp = sg.cross_entropy(W2 * sg.relu(W1 * x + b1) + b2, t)
    rng = np.random.default_rng(0)
    at = {W1: rng.normal(size=(3, 2)), W2: rng.normal(size=(2, 3)), b1: rng.normal(size=(3, 1)),
          b2: rng.normal(size=(2, 1)), x: AT_MATRIX[x], t: np.array([[0.0], [1.0]])}
    yield "relu-mlp-ce", mlp, [W1, b1, W2, b2], at


def all_cases():
    yield from activation_cases()
    yield from function_cases()


def tensor_cases():
    """The N-d functions of an sg.tensor declaration (issue 11): reductions, movements, indexing,
    the axis-aware softmax family and the integer-label cross-entropy."""
    n = 3
    x, w = sg.tensor("x", (n, 4)), sg.tensor("w", (4, 2))
    h, E = sg.tensor("h", (n, 4)), sg.tensor("E", (5, 4))
    y, idx = sg.tensor("y", (n,), integer=True), sg.tensor("idx", (n,), integer=True)
    rng = np.random.default_rng(0)
    at = {x: rng.normal(size=(n, 4)), w: rng.normal(size=(4, 2)), h: rng.normal(size=(n, 4)),
          E: rng.normal(size=(5, 4)), y: np.array([0, 1, 1]), idx: np.array([0, 4, 4])}
    yield "sum-axis", sg.sum(sg.as_tensor(sp.tanh(x @ w)).sum(axis=0)), [w], at
    yield "mean", sg.sum(x.mean(axis=1) ** 2), [x], at
    yield "max", sg.sum(x.max(axis=1)), [x], at
    yield "var", sg.sum(sg.var(x, axis=0)), [x], at
    yield "reshape-transpose", sg.sum(x.reshape((4, n)).T ** 2), [x], at
    yield "slice", sg.sum(x[:, 1:3] ** 2), [x], at
    yield "concat", sg.sum(sg.concat([x, h], axis=1) ** 2), [x, h], at
    yield "stack", sg.sum(sg.stack([x, h], axis=0) ** 2), [x], at
    yield "where", sg.sum(sg.where(x > 0, x, x / 10)), [x], at
    yield "embedding", sg.sum(sg.embedding(E, idx) ** 2), [E], at
    yield "take", sg.sum(sg.take(E, idx, axis=0) * h), [E], at
    yield "softmax-axis", sg.sum(sg.softmax(x @ w, axis=1) ** 2), [w], at
    yield "log_softmax-axis", sg.sum(sg.log_softmax(x @ w, axis=1)), [w], at
    yield "cross_entropy-labels", sg.cross_entropy(x @ w, y), [w], at
    # cs231n's softmax loss: data loss plus a penalty, L = cross_entropy(z, y) + 0.05·u₃
    yield "cross_entropy-penalty", sg.cross_entropy(x @ w, y) + 0.5 * 0.1 * sg.sum(w * w), [w], at
    yield "relu-layer", sg.sum(sg.relu(x @ w)), [w], at
    # a vector layer's norms: ‖W @ v + c‖², ‖c‖ (its root), ‖c‖⁴, a weight decay, σ′ before @
    v, Wv, c, t = sg.tensor("v", (4,)), sg.tensor("Wv", (2, 4)), sg.tensor("c", (2,)), sg.tensor("t", (2,))
    at_v = {**at, v: rng.normal(size=4), Wv: rng.normal(size=(2, 4)), c: rng.normal(size=2), t: rng.normal(size=2)}
    yield "norm-squared", sg.norm(Wv @ v + c) ** 2 + 0.1 * sg.norm(c) ** 4 + (Wv ** 2).sum(), [Wv, c], at_v
    yield "norm", sg.norm(c), [c], at_v
    yield "sigmoid-divergence", sg.norm(sg.sigmoid(Wv @ v + c) - t) ** 2 / 2, [Wv, c, v], at_v
    w2 = sg.tensor("w2", (2, 2))        # two layers: the rule notes name y⁽¹⁾ᵀ and w₂ᵀ
    yield "relu-two-layers", sg.sum(sg.relu(sg.relu(x @ w) @ w2)), [w, w2], {**at, w2: rng.normal(size=(2, 2))}
    # a batch norm layer (ε a number and a declared symbol) and a small CNN with a max pool
    N = sp.Symbol("N", integer=True, positive=True)
    xb, g, b, dout = sg.tensor("xb", (N, 3)), sg.tensor("g", (3,)), sg.tensor("b", (3,)), sg.tensor("dout", (N, 3))
    eps = sp.Symbol("epsilon", positive=True)
    bn_at = {xb: rng.normal(size=(4, 3)), g: rng.normal(size=3), b: rng.normal(size=3),
             dout: rng.normal(size=(4, 3)), eps: 1e-5}
    for name, e in (("batch-norm", sp.Rational(1, 10**5)), ("batch-norm-eps", eps)):
        xhat = (xb - xb.mean(axis=0)) / sp.sqrt(xb.var(axis=0) + e)
        yield name, sg.sum((g * xhat + b) * dout), [xb, g, b], bn_at
    xc, wc, bc, tc = (sg.tensor("xc", (1, 1, 6, 6)), sg.tensor("wc", (2, 1, 3, 3)), sg.tensor("bc", (2,)),
                      sg.tensor("tc", (1, 2, 2, 2)))
    cnn_at = {xc: rng.normal(size=(1, 1, 6, 6)), wc: rng.normal(size=(2, 1, 3, 3)), bc: rng.normal(size=2),
              tc: rng.normal(size=(1, 2, 2, 2))}
    yield "cnn-max-pool", sg.sum((sg.max_pool2d(sg.relu(sg.conv2d(xc, wc, bc)), 2) - tc) ** 2) / 2, [wc, bc], cnn_at
    # cs231n's two-layer net with 0.5·reg·(Σ W₁² + Σ W₂²): u₇ = 0.5·reg·u₆, X.T @ δ⁽¹⁾ + reg·W₁
    b1, w2b, b2, reg = sg.tensor("b1", (2,)), sg.tensor("W2", (2, 3)), sg.tensor("b2", (3,)), sp.Symbol("reg")
    yc = sg.tensor("yc", (n,), integer=True)
    yield ("two-layer-weight-decay", sg.cross_entropy(sg.relu(x @ w + b1) @ w2b + b2, yc)
           + 0.5 * reg * (sg.sum(w * w) + sg.sum(w2b * w2b)), [w, b1, w2b, b2],
           {**at, b1: rng.normal(size=2), w2b: rng.normal(size=(2, 3)), b2: rng.normal(size=3),
            yc: np.array([0, 2, 1]), reg: 0.1})
