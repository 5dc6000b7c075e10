"""`sg.check_backward`: cs231n-style layers declared in a few lines, checked against NumPy backward
functions written here as the course writes them — right, and with the classic slips injected
(each caught, and named where the hints table has a name for it)."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.checking.backward import BackwardError

from verdicts import N, wrong


# ---------------------------------------------------------------------------------------------------
# affine: out = x.reshape(N, -1) @ w + b on (N, 3, 2) inputs, b broadcast over the batch


def _affine():
    x, w, b = sg.tensor("x", (N, 3, 2)), sg.tensor("w", (6, 5)), sg.tensor("b", (5,))
    return x.reshape(N, -1) @ w + b, [x, w, b]


def affine_backward(dout, x, w, b, slip=None):
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout.sum(axis=0)
    if slip == "transpose":
        dw = dout.T @ x.reshape(x.shape[0], -1)
    if slip == "db per example":
        db = dout
    if slip == "factor":
        dx = 2 * dx
    return dx, dw, db


def test_affine_right():
    out, wrt = _affine()
    r = sg.check_backward(out, wrt, affine_backward)
    assert r and r.verdict == "equal", str(r)


def test_affine_slips():
    out, wrt = _affine()
    r = wrong(sg.check_backward(out, wrt, lambda *a, **v: affine_backward(*a, **v, slip="transpose")),
              "transpose")
    assert r.counterexample.param == "w"
    r = wrong(sg.check_backward(out, wrt, lambda *a, **v: affine_backward(*a, **v, slip="db per example")),
              "missing sum")
    assert r.counterexample.param == "b" and "(5,)" in r.hint     # names b and the shape it needs
    r = wrong(sg.check_backward(out, wrt, lambda *a, **v: affine_backward(*a, **v, slip="factor")),
              "constant factor: the claim for x is 2 times")
    assert r.counterexample.param == "x"


def test_gradients_as_a_dict_by_name_and_sizes_from_dims():
    out, wrt = _affine()
    seen = []

    def backward(dout, x, w, b):
        seen.append(x.shape)
        dx, dw, db = affine_backward(dout, x, w, b)
        return {"b": db, "x": dx, "w": dw}
    assert sg.check_backward(out, wrt, backward, dims={N: 3})
    assert seen and set(seen) == {(3, 3, 2)}


# ---------------------------------------------------------------------------------------------------
# relu


def test_relu_right_and_mask_on_the_wrong_tensor():
    x = sg.tensor("x", (N, 5))
    assert sg.check_backward(sg.relu(x), [x], lambda dout, x: dout * (x > 0))
    assert sg.check_backward(sp.Max(x, 0), x, lambda dout, x: np.where(x > 0, dout, 0))
    wrong(sg.check_backward(sg.relu(x), [x], lambda dout, x: dout * (dout > 0)))   # mask from dout
    wrong(sg.check_backward(sg.relu(x), [x], lambda dout, x: (x > 0) * 1.0))       # dout forgotten


# ---------------------------------------------------------------------------------------------------
# softmax loss with integer labels: a scalar out, so dout = 1


def softmax_loss(x, y, slip=None):
    shifted = x - np.max(x, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    n = x.shape[0]
    loss = -np.sum(log_probs[np.arange(n), y]) / n
    dx = np.exp(log_probs)
    dx[np.arange(n), y] -= 1
    if slip != "1/N":
        dx /= n
    return loss, dx


def test_softmax_loss_right_and_the_forgotten_1_over_N():
    x, y = sg.tensor("x", (N, 3)), sg.tensor("y", (N,), integer=True)
    labels = []

    def backward(dout, x, y):
        labels.append(y)
        return dout * softmax_loss(x, y)[1]
    r = sg.check_backward(sg.cross_entropy(x, y), [x], backward)
    assert r and r.verdict == "equal", str(r)
    assert all(l.dtype.kind == "i" and set(l) <= {0, 1, 2} for l in labels)     # labels in range
    r = wrong(sg.check_backward(sg.cross_entropy(x, y), [x],
                                lambda dout, x, y: softmax_loss(x, y, slip="1/N")[1]), "constant factor")
    assert "1/N missing" in r.hint


# ---------------------------------------------------------------------------------------------------
# errors: backward raising, the wrong number of gradients, non-finite values, bad arguments


def test_a_lambda_taking_positional_arguments_only_is_shown_with_them():
    """A `lambda *a:` called with out's symbols by name was shown as 'it is lambda ,'."""
    out, wrt = _affine()
    with pytest.raises(BackwardError, match=r"it is lambda \*a, and check_backward calls it"):
        sg.check_backward(out, wrt, lambda *a: a)


def test_backward_errors_are_clear():
    out, wrt = _affine()

    def raises(dout, x, w, b):
        return dout @ w          # shapes that do not fit: NumPy raises
    with pytest.raises(BackwardError, match=r"backward raised ValueError.*called as backward\(dout\(4, 5\), x=\(4, 3, 2\), w=\(6, 5\), b=\(5,\)\)"):
        sg.check_backward(out, wrt, raises)
    with pytest.raises(BackwardError, match=r"2 gradient\(s\) for 3 wrt"):
        sg.check_backward(out, wrt, lambda dout, x, w, b: affine_backward(dout, x, w, b)[:2])
    with pytest.raises(BackwardError, match=r"missing \['b'\]"):
        sg.check_backward(out, wrt, lambda dout, x, w, b: dict(zip("xw", affine_backward(dout, x, w, b))))
    with pytest.raises(BackwardError, match=r"returned None as the gradient of 'w': a missing return"):
        sg.check_backward(out, wrt, lambda dout, x, w, b: (affine_backward(dout, x, w, b)[0], None, dout.sum(0)))
    with pytest.raises(BackwardError, match=r"gradient for 'w' is not finite"):
        sg.check_backward(out, wrt, lambda dout, x, w, b: (affine_backward(dout, x, w, b)[0], np.full_like(w, np.inf),
                                                           dout.sum(0)))
    with pytest.raises(sg.ArgumentError, match="'M'.*symbolic sizes are \\['N'\\]"):
        sg.check_backward(out, wrt, affine_backward, dims={"M": 3})
    with pytest.raises(sg.ArgumentError, match="tensor expression"):
        x = sp.Symbol("x")
        sg.check_backward(x ** 2, [x], lambda dout, x: 2 * x)


# ---------------------------------------------------------------------------------------------------
# batch norm with training statistics (mean and var over the batch), and layer norm

EPS = 1e-5


def _norm(axis, keep):
    x, gamma, beta = sg.tensor("x", (N, 3)), sg.tensor("gamma", (3,)), sg.tensor("beta", (3,))
    mu, var = x.mean(axis=axis, keepdims=keep), x.var(axis=axis, keepdims=keep)
    return gamma * (x - mu) / sp.sqrt(var + EPS) + beta, [x, gamma, beta]


def norm_backward(dout, x, gamma, beta, axis, slip=None):
    """cs231n's batchnorm_backward_alt (axis 0) and layernorm_backward (axis 1)."""
    n = x.shape[axis]
    mu, var = x.mean(axis=axis, keepdims=True), x.var(axis=axis, keepdims=True)
    std = np.sqrt(var + EPS)
    xhat = (x - mu) / std
    dxhat = dout * gamma
    if slip == "statistics constant":   # μ and σ² taken as constants: only the direct path
        dx = dxhat / std
    elif slip == "mean term":         # ∂μ/∂x left out: only the paths through x − μ and σ²
        dx = (dxhat - xhat * (dxhat * xhat).mean(axis=axis, keepdims=True)) / std
    else:
        dx = (n * dxhat - dxhat.sum(axis=axis, keepdims=True)
              - xhat * (dxhat * xhat).sum(axis=axis, keepdims=True)) / (n * std)
    dgamma = dout * xhat if slip == "dgamma per example" else (dout * xhat).sum(axis=0)
    return dx, dgamma, dout.sum(axis=0)


@pytest.mark.parametrize("axis", [0, 1], ids=["batchnorm", "layernorm"])
def test_norm_right(axis):
    out, wrt = _norm(axis, keep=axis == 1)
    r = sg.check_backward(out, wrt, lambda *a, **v: norm_backward(*a, **v, axis=axis))
    assert r and r.verdict == "equal", str(r)


@pytest.mark.parametrize("axis", [0, 1], ids=["batchnorm", "layernorm"])
def test_norm_dropped_mean_term_is_a_fan_out_path(axis):
    out, wrt = _norm(axis, keep=axis == 1)
    r = wrong(sg.check_backward(out, wrt, lambda *a, **v: norm_backward(*a, **v, axis=axis, slip="mean term")),
              "fan-out")
    assert r.counterexample.param == "x" and "leaves out the term of the path x →" in r.hint


@pytest.mark.parametrize("axis", [0, 1], ids=["batchnorm", "layernorm"])
def test_norm_with_its_statistics_taken_as_constants_is_named(axis):
    out, wrt = _norm(axis, keep=axis == 1)
    r = wrong(sg.check_backward(out, wrt, lambda *a, **v: norm_backward(*a, **v, axis=axis,
                                                                        slip="statistics constant")),
              "statistics taken as constants")
    assert r.counterexample.param == "x"


def test_layernorm_dgamma_not_summed_over_the_batch():
    out, wrt = _norm(1, keep=True)
    r = wrong(sg.check_backward(out, wrt, lambda *a, **v: norm_backward(*a, **v, axis=1,
                                                                         slip="dgamma per example")),
              "missing sum")
    assert r.counterexample.param == "gamma"


# ---------------------------------------------------------------------------------------------------
# one vanilla RNN step: next_h = tanh(x @ Wx + prev_h @ Wh + b)


def rnn_step_backward(dnext_h, x, prev_h, Wx, Wh, b, slip=None):
    next_h = np.tanh(x @ Wx + prev_h @ Wh + b)
    dtanh = dnext_h * (1 - next_h ** 2) if slip != "tanh'" else dnext_h * (1 - next_h)
    dWh = prev_h.T @ dtanh if slip != "transpose" else dtanh.T @ prev_h
    return dtanh @ Wx.T, dtanh @ Wh.T, x.T @ dtanh, dWh, dtanh.sum(axis=0)


def test_rnn_step():
    x, prev_h = sg.tensor("x", (N, 3)), sg.tensor("prev_h", (N, 2))
    Wx, Wh, b = sg.tensor("Wx", (3, 2)), sg.tensor("Wh", (2, 2)), sg.tensor("b", (2,))
    out, wrt = sp.tanh(x @ Wx + prev_h @ Wh + b), [x, prev_h, Wx, Wh, b]
    r = sg.check_backward(out, wrt, rnn_step_backward)
    assert r and r.verdict == "equal", str(r)
    wrong(sg.check_backward(out, wrt, lambda *a, **v: rnn_step_backward(*a, **v, slip="tanh'")))
    r = wrong(sg.check_backward(out, wrt, lambda *a, **v: rnn_step_backward(*a, **v, slip="transpose")),
              "transpose")                  # Wh is square: the shapes cannot tell, the values do
    assert r.counterexample.param == "Wh"


# ---------------------------------------------------------------------------------------------------
# word embedding: out = W[idx], with repeated indices (20 indices into 3 rows)


def embedding_backward(dout, W, idx, slip=None):
    dW = np.zeros_like(W)
    if slip == "assignment":
        dW[idx] = dout              # a repeated index keeps only its last row
    else:
        np.add.at(dW, idx, dout)
    return dW


def test_word_embedding_repeated_indices():
    W, idx = sg.tensor("W", (3, 2)), sg.tensor("idx", (N, 5), integer=True)
    seen = []

    def backward(dout, W, idx):
        seen.append(idx)
        return embedding_backward(dout, W, idx)
    r = sg.check_backward(sg.embedding(W, idx), [W], backward)
    assert r and r.verdict == "equal", str(r)
    assert all(i.dtype.kind == "i" and i.shape[1:] == (5,) and set(i.ravel()) <= {0, 1, 2} for i in seen)
    # N = 4 first, then again at a second N (5 is idx's other axis): a literal batch size cannot pass
    assert {i.shape[0] for i in seen} == {4, 6}
    r = wrong(sg.check_backward(sg.embedding(W, idx), W,
                                lambda dout, W, idx: embedding_backward(dout, W, idx, slip="assignment")))
    assert r.counterexample.param == "W"


# ---------------------------------------------------------------------------------------------------
# beyond the first list: SVM loss, inverted dropout, a 3-step RNN, an LSTM step, temporal softmax
# loss with a mask, scaled dot-product attention


def svm_loss(x, y, slip=None):
    n = x.shape[0]
    correct = x[np.arange(n), y]
    margins = np.maximum(0, x - correct[:, None] + 1.0)
    margins[np.arange(n), y] = 0
    dx = (margins > 0).astype(float)
    if slip != "correct class":         # the correct class's score is in every margin of its row
        dx[np.arange(n), y] -= (margins > 0).sum(axis=1)
    return margins.sum() / n, dx / n


def test_svm_loss_with_integer_labels():
    x, y = sg.tensor("x", (N, 4)), sg.tensor("y", (N,), integer=True)
    correct = sg.take_along_axis(x, y[:, None], axis=1)
    loss = sg.sum(sp.Max(x - correct + 1, 0) * (1 - sg.one_hot(y, 4))) / N
    r = sg.check_backward(loss, x, lambda dout, x, y: dout * svm_loss(x, y)[1])
    assert r and r.verdict == "equal", str(r)
    r = wrong(sg.check_backward(loss, x, lambda dout, x, y: svm_loss(x, y, "correct class")[1]), "fan-out")
    assert "take_along_axis" in r.hint


def test_inverted_dropout_with_a_fixed_mask():
    p = 0.8
    x, mask = sg.tensor("x", (N, 5)), sg.tensor("mask", (N, 5))
    m = (np.random.default_rng(1).random((4, 5)) < p).astype(float)
    assert sg.check_backward(x * mask / p, [x], lambda dout, x, mask: dout * mask / p, at={mask: m})
    wrong(sg.check_backward(x * mask / p, [x], lambda dout, x, mask: dout * mask, at={"mask": m}),
          "constant factor: the claim is 4/5 times")


def rnn_backward(dh, x, h0, Wx, Wh, b, slip=None):
    """cs231n's rnn_backward: the steps in reverse, each adding the gradient from the step after."""
    hs, h = [], h0
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ Wx + h @ Wh + b)
        hs.append(h)
    dx, dWx, dWh, db = np.zeros_like(x), np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dprev = np.zeros_like(h0)
    for t in reversed(range(x.shape[1])):
        dtanh = (dh[:, t] + (dprev if slip != "no upstream" else 0)) * (1 - hs[t] ** 2)
        dx[:, t], dprev = dtanh @ Wx.T, dtanh @ Wh.T
        dWx += x[:, t].T @ dtanh
        dWh += (hs[t - 1] if t > 0 else h0).T @ dtanh
        db += dtanh.sum(axis=0)
    return dx, dprev, dWx, dWh, db


def test_three_step_rnn_on_N_T_D():
    x, h0 = sg.tensor("x", (N, 3, 2)), sg.tensor("h0", (N, 3))
    Wx, Wh, b = sg.tensor("Wx", (2, 3)), sg.tensor("Wh", (3, 3)), sg.tensor("b", (3,))
    hs, h = [], h0
    for t in range(3):
        h = sg.as_tensor(sp.tanh(x[:, t, :] @ Wx + h @ Wh + b))
        hs.append(h)
    out, wrt = sg.stack(hs, axis=1), [x, h0, Wx, Wh, b]
    r = sg.check_backward(out, wrt, rnn_backward)
    assert r and r.verdict == "equal", str(r)
    r = wrong(sg.check_backward(out, wrt, lambda *a, **v: rnn_backward(*a, **v, slip="no upstream")),
              "missing upstream gradient")
    assert "dprev_h" in r.hint


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def lstm_step_backward(dnext_h, dnext_c, x, prev_h, prev_c, Wx, Wh, b, slip=None):
    H = prev_h.shape[1]
    a = x @ Wx + prev_h @ Wh + b
    i, f, o, g = _sigmoid(a[:, :H]), _sigmoid(a[:, H:2 * H]), _sigmoid(a[:, 2 * H:3 * H]), np.tanh(a[:, 3 * H:])
    tc = np.tanh(f * prev_c + i * g)
    dc = dnext_c + (dnext_h * o * (1 - tc ** 2) if slip != "dnext_h not through c" else 0)
    da = np.hstack([dc * g * i * (1 - i), dc * prev_c * f * (1 - f), dnext_h * tc * o * (1 - o),
                    dc * i * (1 - g ** 2)])
    return da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def test_lstm_step_gates_sliced_from_one_product():
    H = 2
    x, prev_h, prev_c = sg.tensor("x", (N, 3)), sg.tensor("prev_h", (N, H)), sg.tensor("prev_c", (N, H))
    Wx, Wh, b = sg.tensor("Wx", (3, 4 * H)), sg.tensor("Wh", (H, 4 * H)), sg.tensor("b", (4 * H,))
    a = x @ Wx + prev_h @ Wh + b
    i, f, o, g = sg.sigmoid(a[:, :H]), sg.sigmoid(a[:, H:2 * H]), sg.sigmoid(a[:, 2 * H:3 * H]), sp.tanh(a[:, 3 * H:])
    next_c = f * prev_c + i * g
    next_h = o * sp.tanh(next_c)
    wrt = [x, prev_h, prev_c, Wx, Wh, b]
    r = sg.check_backward((next_h, next_c), wrt, lstm_step_backward)    # backward(dnext_h, dnext_c, ...)
    assert r and r.verdict == "equal", str(r)
    wrong(sg.check_backward((next_h, next_c), wrt,
                            lambda *a, **v: lstm_step_backward(*a, **v, slip="dnext_h not through c")))


def temporal_softmax_loss(x, y, mask, slip=None):
    n, t, v = x.shape
    xf, yf, mf = x.reshape(n * t, v), y.reshape(n * t), mask.reshape(n * t)
    probs = np.exp(xf - xf.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    dxf = probs.copy()
    dxf[np.arange(n * t), yf] -= 1
    dxf /= n * t if slip == "N*T" else n
    if slip != "mask":
        dxf *= mf[:, None]
    return dxf.reshape(n, t, v)


def test_temporal_softmax_loss_with_a_mask():
    x, y, mask = sg.tensor("x", (N, 3, 4)), sg.tensor("y", (N, 3), integer=True), sg.tensor("mask", (N, 3))
    loss = sg.sum(mask * sg.cross_entropy(x, y, reduction="none")) / N
    m = (np.random.default_rng(2).random((4, 3)) < 0.7).astype(float)
    r = sg.check_backward(loss, x, lambda dout, x, y, mask: dout * temporal_softmax_loss(x, y, mask), at={mask: m})
    assert r and r.verdict == "equal", str(r)
    r = wrong(sg.check_backward(loss, x, lambda dout, x, y, mask: temporal_softmax_loss(x, y, mask, "N*T"),
                                at={mask: m}), "constant factor: the claim is 1/3 times")
    wrong(sg.check_backward(loss, x, lambda dout, x, y, mask: temporal_softmax_loss(x, y, mask, "mask"),
                            at={mask: m}))


def attention_backward(dout, q, k, v, slip=None):
    d = q.shape[-1]
    s = q @ k.transpose(0, 2, 1) / np.sqrt(d)
    p = np.exp(s - s.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    dp = dout @ v.transpose(0, 2, 1)
    ds = p * (dp - (dp * p).sum(axis=-1, keepdims=True)) if slip != "softmax diagonal" else p * (1 - p) * dp
    dq = ds @ k / np.sqrt(d) if slip != "scale" else ds @ k
    return dq, ds.transpose(0, 2, 1) @ q / np.sqrt(d), p.transpose(0, 2, 1) @ dout


def test_scaled_dot_product_attention():
    q, k, v = sg.tensor("q", (N, 2, 3)), sg.tensor("k", (N, 3, 3)), sg.tensor("v", (N, 3, 2))
    out = sg.softmax(q @ k.transpose(0, 2, 1) / sp.sqrt(3), axis=-1) @ v
    r = sg.check_backward(out, [q, k, v], attention_backward)
    assert r and r.verdict == "equal", str(r)
    wrong(sg.check_backward(out, [q, k, v], lambda *a, **kw: attention_backward(*a, **kw, slip="softmax diagonal")))
    r = wrong(sg.check_backward(out, [q, k, v], lambda *a, **kw: attention_backward(*a, **kw, slip="scale")),
              "constant factor")
    assert r.counterexample.param == "q"


def test_tuple_out_errors():
    x = sg.tensor("x", (N, 2))
    with pytest.raises(sg.ArgumentError, match="out 1 of the tuple is a scalar"):
        sg.check_backward((x, sg.sum(x)), x, lambda d1, d2, x: d1 + d2)
    with pytest.raises(BackwardError, match=r"backward raised TypeError.*backward\(dout\(4, 2\), dout1\(4, 2\), x=\(4, 2\)\)"):
        sg.check_backward((x, 2 * x), x, lambda dout, x: dout)          # one dout per output is passed


def test_a_cs231n_loss_function_handed_over_as_it_is_gets_the_wrapper_named():
    """cs231n's softmax_loss(x, y) returns (loss, dx) and takes no dout: passed as it is, or wrapped
    without [1], the error says how to wrap it (it used to say only '2 gradient(s) for 1 wrt' or
    'got multiple values for argument x')."""
    x, y = sg.tensor("x", (N, 5)), sg.tensor("y", (N,), integer=True)

    def softmax_loss(x, y):
        p = np.exp(x - x.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        dx = p.copy()
        dx[np.arange(len(x)), y] -= 1
        return float(-np.log(p[np.arange(len(x)), y]).mean()), dx / len(x)
    loss = sg.cross_entropy(x, y)
    with pytest.raises(BackwardError, match=r"the first is a number.*softmax_loss\(x, y\)\[1\]"):
        sg.check_backward(loss, x, lambda dout, x, y: softmax_loss(x, y))
    with pytest.raises(BackwardError, match=r"first parameter takes the upstream gradient.*f\(x, y\)\[1\]"):
        sg.check_backward(loss, x, softmax_loss)
    assert sg.check_backward(loss, x, lambda dout, x, y: softmax_loss(x, y)[1])


def test_integer_labels_and_one_axis_shapes_print_as_python_does():
    """A user trial read "y = [1., 2., 0., 2.]" for integer labels and "(7)" for a 1-D shape: the
    counterexample shows labels as integers, and hints and the Layout line write (7,)."""
    x, y = sg.tensor("x", (N, 3)), sg.tensor("y", (N,), integer=True)
    r = wrong(sg.check_backward(sg.cross_entropy(x, y), [x],
                                lambda dout, x, y: softmax_loss(x, y, slip="1/N")[1]))
    shown = r.counterexample.point["y"]
    assert np.asarray(shown).dtype.kind == "i"
    assert f"y = [{', '.join(map(str, shown))}]" in str(r)
    z, b = sg.tensor("z", (N, 7)), sg.tensor("b", (7,))
    r = wrong(sg.check_backward(z + b, b, lambda dout, z, b: dout.sum(axis=0, keepdims=True)), "extra axis")
    assert "(7,)" in r.hint and "(1, 7)" in r.hint and "(7)" not in r.hint
    assert "∂f/∂b is (7,) like b" in str(r)


def test_a_keyword_only_backward_is_shown_with_its_star():
    """The advice listed parameters with '*' only for *args: backward(dout, *, xx) read
    'bw(dout, xx)', a signature it does not have (a review found)."""
    N = sp.Symbol("N", integer=True, positive=True)
    x, w = sg.tensor("x", (N, 3)), sg.tensor("w", (3, 2))

    def bw(dout, *, xx):
        return {}
    with pytest.raises(sg.SymgradError, match=r"it is bw\(dout, \*, xx\)"):
        sg.check_backward(x @ w, [w], bw)
