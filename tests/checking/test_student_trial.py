"""A cs231n student's trial of `sg.check_backward` and `sg.check` (assignments 1 and 2 in NumPy):
each test is a slip or a stumble that the trial met, with the verdict and the hint or error it
must get. The backward functions are written here as the course writes them."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.checking.backward import BackwardError

from verdicts import N, wrong


# ---------------------------------------------------------------------------------------------------
# Handing over cs231n's backward as it is: backward(dout, cache), other parameter names, no mask


def _affine():
    x, w, b = sg.tensor("x", (N, 2, 3)), sg.tensor("w", (6, 5)), sg.tensor("b", (5,))
    return x.reshape(N, -1) @ w + b, [x, w, b]


def affine_forward(x, w, b):
    return x.reshape(x.shape[0], -1) @ w + b, (x, w, b)


def affine_backward(dout, cache):
    x, w, b = cache
    return (dout @ w.T).reshape(x.shape), x.reshape(x.shape[0], -1).T @ dout, dout.sum(axis=0)


def test_a_backward_taking_a_cache_gets_the_wrapper_through_its_forward():
    out, wrt = _affine()
    with pytest.raises(BackwardError) as e:
        sg.check_backward(out, wrt, affine_backward)
    msg = str(e.value)
    assert "it is affine_backward(dout, cache)" in msg
    assert "lambda dout, x, w, b: affine_backward(dout, affine_forward(x, w, b)[1])" in msg
    # ... and the wrapper it names works
    assert sg.check_backward(out, wrt, lambda dout, x, w, b: affine_backward(dout, affine_forward(x, w, b)[1]))


def test_parameters_named_otherwise_are_told_the_names():
    out, wrt = _affine()
    with pytest.raises(BackwardError, match=r"must be named dout, x, w, b \(or end with \*\*values\)"):
        sg.check_backward(out, wrt, lambda dout, a, c, d: (a, c, d))


def test_a_dropout_backward_without_a_mask_parameter_is_told_to_add_it():
    x = sg.tensor("x", (N, 6))
    with pytest.raises(BackwardError, match=r"mask is the mask of sg.dropout in out.*add the parameter"):
        sg.check_backward(sg.dropout(x, 0.5), [x], lambda dout, x: dout)


# ---------------------------------------------------------------------------------------------------
# Inverted dropout: p is the probability of dropping; the mask holds the scale 1/(1 − p)

P = 0.3


def _dropout():
    x = sg.tensor("x", (N, 6))
    return sg.dropout(x, P), [x]


def test_dropout_divided_by_p_instead_of_one_minus_p_is_named():
    out, wrt = _dropout()
    r = wrong(sg.check_backward(out, wrt, lambda dout, x, mask: dout * (mask != 0) / P),
              "constant factor: the claim is 7/3 times the gradient — (1 − p)/p")
    assert "divided by p where inverted dropout divides by 1 − p" in r.hint


def test_dropout_mask_divided_again_by_p_or_multiplied_by_p_is_named():
    out, wrt = _dropout()
    wrong(sg.check_backward(out, wrt, lambda dout, x, mask: dout * mask / P),
          "constant factor: the claim is 10/3 times the gradient — 1/p, for the dropout with p = 0.3")
    wrong(sg.check_backward(out, wrt, lambda dout, x, mask: dout * mask * P),
          "constant factor: the claim is 3/10 times the gradient — p, for the dropout with p = 0.3")


# ---------------------------------------------------------------------------------------------------
# A factor slipped on one path only, and a size named by what it is


def test_a_size_that_is_not_the_batch_is_named_by_its_axis_not_called_N():
    """sg.multi_margin is torch's multi_margin_loss, which divides by the C classes; cs231n's
    svm_loss does not. The hint used to say "N = 4" of C = 4 while the batch was N = 5."""
    x, y = sg.tensor("x", (N, 4)), sg.tensor("y", (N,), integer=True)

    def svm_loss_dx(x, y):                 # cs231n's: the sum of the margins over N, no 1/C
        n = len(x)
        margins = np.maximum(0, x - x[np.arange(n), y][:, None] + 1.0)
        margins[np.arange(n), y] = 0
        dx = (margins > 0).astype(float)
        dx[np.arange(n), y] -= (margins > 0).sum(axis=1)
        return dx / n
    assert sg.check_backward(4 * sg.multi_margin(x, y), x, lambda dout, x, y: svm_loss_dx(x, y))
    r = wrong(sg.check_backward(sg.multi_margin(x, y), x, lambda dout, x, y: svm_loss_dx(x, y)),
              "constant factor: the claim is 4 times the gradient — 4, the size of axis 1 of x (5, 4)")
    assert "N = 4" not in r.hint
    r = wrong(sg.check_backward(4 * sg.multi_margin(x, y), x, lambda dout, x, y: svm_loss_dx(x, y) * len(x)))
    assert "N = 5" in r.hint and "1/N missing" in r.hint


EPS = 1e-5


def _batchnorm():
    x, gamma, beta = sg.tensor("x", (N, 4)), sg.tensor("gamma", (4,)), sg.tensor("beta", (4,))
    return gamma * (x - x.mean(axis=0)) / sp.sqrt(x.var(axis=0) + EPS) + beta, [x, gamma, beta]


def batchnorm_backward(dout, x, gamma, beta, slip=None):
    """cs231n's staged batchnorm_backward, through the computational graph node by node."""
    n = x.shape[0]
    xmu = x - x.mean(axis=0)
    var = (xmu ** 2).mean(axis=0)
    sqrtvar = np.sqrt(var + EPS)
    xhat = xmu / sqrtvar
    dxhat = dout * gamma
    divar = (dxhat * xmu).sum(axis=0)
    dxmu1 = dxhat / sqrtvar
    dvar = 0.5 / sqrtvar * (-divar / sqrtvar ** 2)
    dsq = (1 if slip == "variance path 1/N" else 1 / n) * np.ones_like(x) * dvar
    dx1 = dxmu1 + 2 * xmu * dsq
    dmu = -dx1.sum(axis=0)
    dx2 = (1 if slip == "mean path 1/N" else 1 / n) * np.ones_like(x) * dmu
    return dx1 + dx2, (dout * xhat).sum(axis=0), dout.sum(axis=0)


@pytest.mark.parametrize("slip", ["variance path 1/N", "mean path 1/N"])
def test_a_staged_batchnorm_backward_missing_1_over_N_on_one_path_is_named(slip):
    out, wrt = _batchnorm()
    assert sg.check_backward(out, wrt, batchnorm_backward)
    r = wrong(sg.check_backward(out, wrt, lambda *a, **k: batchnorm_backward(*a, **k, slip=slip)),
              "fan-out")
    assert "has 5 times the term of the path x" in r.hint and "1/N missing" in r.hint
    assert " → … → … → " not in r.hint and len(r.hint) < 700


def test_l2_regularization_without_its_2_is_named():
    """cs231n's loss + reg·ΣW² has the gradient … + 2·reg·W: reg·W is the classic slip."""
    X, y = sg.tensor("X", (N, 5)), sg.tensor("y", (N,), integer=True)
    W = sg.tensor("W", (5, 3))
    reg = sp.Rational(1, 10)
    loss = sg.cross_entropy(X @ W, y) + reg * sg.sum(W * W)

    def softmax_loss_dW(X, y, W, k):
        s = X @ W
        p = np.exp(s - s.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(len(X)), y] -= 1
        return X.T @ p / len(X) + k * 0.1 * W
    assert sg.check_backward(loss, W, lambda dout, X, y, W: softmax_loss_dW(X, y, W, 2))
    r = wrong(sg.check_backward(loss, W, lambda dout, X, y, W: softmax_loss_dW(X, y, W, 1)), "fan-out")
    assert "has 1/2 times the term of the path W → W**2" in r.hint
    assert "2 from differentiating a square" in r.hint


def batchnorm_backward_alt(dout, x, gamma, beta, slip=None):
    """cs231n's batchnorm_backward_alt, the simplified form on one line."""
    n = x.shape[0]
    std = np.sqrt(x.var(axis=0) + EPS)
    xhat = (x - x.mean(axis=0)) / std
    dxhat = dout if slip == "gamma" else dout * gamma
    dx = (n * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0)) / (n * std)
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


def test_batchnorm_backward_alt_without_gamma_is_named():
    out, wrt = _batchnorm()
    assert sg.check_backward(out, wrt, batchnorm_backward_alt)
    r = wrong(sg.check_backward(out, wrt, lambda *a, **k: batchnorm_backward_alt(*a, **k, slip="gamma")),
              "factor left out: the claim is the gradient with gamma = 1 everywhere")
    assert "dxhat = dout * gamma" in r.hint


def test_a_dropout_backward_without_the_mask_is_named():
    out, wrt = _dropout()
    wrong(sg.check_backward(out, wrt, lambda dout, x, mask: dout), "dropout mask left out")


# ---------------------------------------------------------------------------------------------------
# Layer norm with batch norm's axes, and the reverse


def _layernorm():
    x, gamma, beta = sg.tensor("x", (N, 4)), sg.tensor("gamma", (4,)), sg.tensor("beta", (4,))
    mu, var = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)
    return gamma * (x - mu) / sp.sqrt(var + EPS) + beta, [x, gamma, beta]


def norm_backward(dout, x, gamma, beta, axis):
    """batchnorm_backward_alt (axis 0) or layernorm_backward (axis 1); dgamma, dbeta over the batch."""
    n = x.shape[axis]
    std = np.sqrt(x.var(axis=axis, keepdims=True) + EPS)
    xhat = (x - x.mean(axis=axis, keepdims=True)) / std
    dxhat = dout * gamma
    dx = (n * dxhat - dxhat.sum(axis=axis, keepdims=True)
          - xhat * (dxhat * xhat).sum(axis=axis, keepdims=True)) / (n * std)
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


def test_layernorm_with_batchnorms_axes_is_named():
    out, wrt = _layernorm()
    assert sg.check_backward(out, wrt, lambda *a, **k: norm_backward(*a, **k, axis=1))
    r = wrong(sg.check_backward(out, wrt, lambda *a, **k: norm_backward(*a, **k, axis=0)),
              "normalisation axes swapped: the claim is the gradient of f with its mean and variance "
              "taken over axis 0 (batch norm's, over the batch) where f takes them over axis 1")
    assert r.counterexample.param == "x"


def test_batchnorm_with_layernorms_axes_is_named():
    out, wrt = _batchnorm()
    assert sg.check_backward(out, wrt, lambda *a, **k: norm_backward(*a, **k, axis=0))
    wrong(sg.check_backward(out, wrt, lambda *a, **k: norm_backward(*a, **k, axis=1)),
          "normalisation axes swapped: the claim is the gradient of f with its mean and variance "
          "taken over axis 1 (layer norm's, over each example) where f takes them over axis 0")


# ---------------------------------------------------------------------------------------------------
# Shapes and places: a conv bias summed over the wrong axes, gradients in another order than wrt,
# spatial batch norm's reshape without the transpose


def test_conv_bias_summed_over_the_wrong_axes_names_both_sets_of_axes():
    x, w, b = sg.tensor("x", (N, 2, 6, 5)), sg.tensor("w", (3, 2, 3, 3)), sg.tensor("b", (3,))
    out = sg.conv2d(x, w, b, stride=2, padding=1)          # dout (4, 3, 3, 3): F = Ho = Wo = 3

    def conv_db_only(dout, x, w, b, axes):
        return dict(b=dout.sum(axis=axes))
    assert sg.check_backward(out, [b], lambda *a, **k: conv_db_only(*a, **k, axes=(0, 2, 3)))
    r = wrong(sg.check_backward(out, [b], lambda *a, **k: conv_db_only(*a, **k, axes=(0, 1))), "summed over the wrong axes")
    assert ("it is dout summed over axes (0, 1), keeping axes (2, 3); the gradient is dout summed "
            "over axes (0, 2, 3), keeping axis 1, b's") in r.hint


def test_gradients_in_another_order_than_wrt_are_named():
    out, wrt = _affine()
    x, w, b = wrt
    r = wrong(sg.check_backward(out, [w, x, b],
                                lambda dout, x, w, b: affine_backward(dout, affine_forward(x, w, b)[1])),
              "shape")
    assert "it is ∂f/∂x: the gradients come in another order than wrt's (w, x, b)" in r.hint


def test_spatial_batchnorm_reshaped_without_the_transpose_is_named():
    x, gamma, beta = sg.tensor("x", (N, 3, 2, 2)), sg.tensor("gamma", (3,)), sg.tensor("beta", (3,))
    axes = (0, 2, 3)
    out = (gamma.reshape(1, 3, 1, 1) * (x - x.mean(axis=axes, keepdims=True))
           / sp.sqrt(x.var(axis=axes, keepdims=True) + EPS) + beta.reshape(1, 3, 1, 1))

    def spatial_batchnorm_backward(dout, x, gamma, beta, transpose=True):
        n, C, H, W = x.shape
        flat = lambda a: a.transpose(0, 2, 3, 1).reshape(-1, C)    # noqa: E731
        dx, dgamma, dbeta = norm_backward(flat(dout), flat(x), gamma, beta, axis=0)
        dx = dx.reshape(n, H, W, C).transpose(0, 3, 1, 2) if transpose else dx.reshape(n, C, H, W)
        return dx, dgamma, dbeta
    assert sg.check_backward(out, [x, gamma, beta], spatial_batchnorm_backward)
    r = wrong(sg.check_backward(out, [x, gamma, beta],
                                lambda *a, **k: spatial_batchnorm_backward(*a, **k, transpose=False)),
              "entries in the wrong places")
    assert "x.transpose(0, 2, 3, 1).reshape(-1, C)" in r.hint


def test_relu_derivative_written_as_relu_itself_is_named():
    """dz = dh * h (h = relu(z), the value cached by the forward) for dz = dh * (z > 0)."""
    X, W1, W2 = sg.tensor("X", (N, 5)), sg.tensor("W1", (5, 6)), sg.tensor("W2", (6, 3))
    out = sg.relu(X @ W1) @ W2

    def two_layer_backward(dout, X, W1, W2, by_value=False):
        z = X @ W1
        h = np.maximum(z, 0)
        dz = (dout @ W2.T) * (h if by_value else (z > 0))
        return X.T @ dz, h.T @ dout
    assert sg.check_backward(out, [W1, W2], two_layer_backward)
    r = wrong(sg.check_backward(out, [W1, W2], lambda *a, **k: two_layer_backward(*a, **k, by_value=True)),
              "relu′ written as relu(z)")
    assert "dz = dout ⊙ (z > 0)" in r.hint


# ---------------------------------------------------------------------------------------------------
# Claims written as text


def test_a_misspelt_name_in_a_text_claim_is_named_not_a_shape_error():
    """A claim naming x where f has y used to fail with "'W*x' (3x4)": x read as a new scalar."""
    W, y, t = sp.MatrixSymbol("W", 3, 4), sp.MatrixSymbol("y", 4, 1), sp.MatrixSymbol("t", 3, 1)
    f = sg.sum(sp.HadamardPower(W * y - t, 2))
    assert sg.check(f, W, "2*(W*y - t)*y.T")
    with pytest.raises(sg.SymgradError, match=r"uses 'x', which f does not contain \(f's symbols are "
                                              r"\['W', 't', 'y'\]\): a misspelt name\?"):
        sg.check(f, W, "2*(W*x - t)*x.T")


def test_a_printed_gradient_pasted_back_as_a_text_claim_is_read():
    """sg.grad prints relu′ of a matrix as Heaviside(W*x, 1) and tanh of one as tanh(W*x); the same
    text as a claim (or in f) used to fail inside SymPy ("Function defined only for Real Values")
    or be refused: in text, the scalar functions apply entry by entry to a matrix."""
    W, x = sp.MatrixSymbol("W", 3, 2), sp.MatrixSymbol("x", 2, 1)
    f = sg.sum(sg.relu(W * x))
    printed = str(sg.grad(f, W))
    assert printed == "Heaviside(W*x, 1)*x.T"
    assert sg.check(f, W, printed).verdict == "equal"
    g = sg.sum(sg.tanh(W * x))
    assert sg.check(g, W, "HadamardProduct(OneMatrix(3, 1) - HadamardPower(tanh(W*x), 2), OneMatrix(3, 1))*x.T")
    assert not sg.check(g, W, "HadamardProduct(OneMatrix(3, 1) - tanh(W*x), OneMatrix(3, 1))*x.T")


def test_the_command_line_reads_relu_prime_of_a_matrix_as_printed(capsys):
    from symgrad import cli
    base = ["check", "sum(relu(W*x))", "--matrix", "W:3x2", "--matrix", "x:2x1", "--wrt", "W", "--claimed"]
    assert cli.main(base + ["Heaviside(W*x, 1)*x.T"]) == 0
    assert cli.main(base + ["OneMatrix(3, 1)*x.T"]) == 1
    assert "relu′ left out" in capsys.readouterr().out


def test_svm_backward_without_the_correct_class_column_says_what_it_needs():
    x, y = sg.tensor("x", (N, 4)), sg.tensor("y", (N,), integer=True)

    def svm_dx(x, y, correct=True):
        n = len(x)
        margins = np.maximum(0, x - x[np.arange(n), y][:, None] + 1.0)
        margins[np.arange(n), y] = 0
        dx = (margins > 0).astype(float)
        if correct:
            dx[np.arange(n), y] -= (margins > 0).sum(axis=1)
        return dx / n
    loss = 4 * sg.multi_margin(x, y)
    r = wrong(sg.check_backward(loss, x, lambda dout, x, y: svm_dx(x, y, correct=False)), "fan-out")
    assert "dx[np.arange(N), y] -= (margins > 0).sum(axis=1)" in r.hint


def test_a_forward_written_with_dot_as_cs231n_writes_it():
    X, W = sg.tensor("X", (N, 5)), sg.tensor("W", (5, 3))
    y = sg.tensor("y", (N,), integer=True)
    loss = sg.cross_entropy(X.dot(W), y)
    assert loss == sg.cross_entropy(X @ W, y)

    def softmax_loss_vectorized_dW(X, y, W):
        s = X.dot(W)
        p = np.exp(s - s.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(len(X)), y] -= 1
        return X.T.dot(p) / len(X)
    assert sg.check_backward(loss, W, lambda dout, X, y, W: softmax_loss_vectorized_dW(X, y, W))


def test_the_scalar_dout_of_a_loss_is_shown_as_its_value():
    x, y = sg.tensor("x", (N, 3)), sg.tensor("y", (N,), integer=True)
    with pytest.raises(BackwardError, match=r"called as backward\(dout=1\.0 \(a loss\), x=\(4, 3\), y=\(4,\)\)"):
        sg.check_backward(sg.cross_entropy(x, y), x, lambda dout, x, y: x @ x)


def test_the_command_line_names_the_undeclared_matrix(capsys):
    from symgrad import cli
    assert cli.main(["check", "sum(HadamardPower(W*x - y, 2))", "--matrix", "W:3x2", "--matrix", "x:2x1",
                     "--wrt", "W", "--claimed", "2*(W*x - y)*x.T"]) == 2
    assert "y is a scalar because it is not declared: a matrix needs --matrix y:RxC" in capsys.readouterr().err


def test_conv_backward_returning_dx_pad_uncropped_is_named():
    x, w = sg.tensor("x", (N, 2, 5, 5)), sg.tensor("w", (3, 2, 3, 3))
    out = sg.conv2d(x, w, stride=2, padding=1)

    def conv_dx(dout, x, w, crop=True):
        xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
        dxp = np.zeros_like(xp)
        for n in range(dout.shape[0]):
            for f in range(w.shape[0]):
                for i in range(dout.shape[2]):
                    for j in range(dout.shape[3]):
                        dxp[n, :, 2 * i:2 * i + 3, 2 * j:2 * j + 3] += w[f] * dout[n, f, i, j]
        return dxp[:, :, 1:-1, 1:-1] if crop else dxp
    assert sg.check_backward(out, [x], conv_dx)
    r = wrong(sg.check_backward(out, [x], lambda dout, x, w: conv_dx(dout, x, w, crop=False)),
              "padding not cropped: the claim has shape (4, 2, 7, 7)")
    assert "pad = 1 cut from each side" in r.hint


# ---------------------------------------------------------------------------------------------------
# A backward that works in place on the arrays it is given


def test_a_backward_that_writes_into_dout_does_not_change_the_point():
    """cs231n's relu_backward is often dx = dout; dx[x <= 0] = 0: it writes into dout. The arrays
    were symgrad's own, so the hints were read at the changed dout: a wrong in-place backward got
    'relu′ left out', which it is not."""
    x = sg.tensor("x", (N, 6))

    def relu_backward(dout, x, slip=False):
        dx = dout
        if slip:
            dx[x < 0] *= 2            # not relu′ = 1: twice dout where x < 0
        else:
            dx[x <= 0] = 0
        return dx
    assert sg.check_backward(sg.relu(x), [x], relu_backward)
    r = wrong(sg.check_backward(sg.relu(x), [x], lambda dout, x: relu_backward(dout, x, slip=True)))
    assert r.hint is None or not r.hint.startswith("relu′ left out"), r.hint
    w = sg.tensor("w", (6, 5))

    def affine_dw(dout, x, w):
        x *= 2                         # writes into x
        return x.T @ dout
    r = wrong(sg.check_backward(x @ w, [w], affine_dw), "constant factor: the claim is 2 times")
    assert np.allclose(r.counterexample.claimed, 2 * r.counterexample.true)


def test_sympys_unevaluated_derivative_as_a_claim_is_named():
    """sp.diff of a matrix expression often comes back as Derivative(...): claimed, it used to fail
    inside SymPy's NumPy printer ("_print_Derivative(...) only supports functions ...")."""
    W, x, t = sp.MatrixSymbol("W", 2, 3), sp.MatrixSymbol("x", 3, 1), sp.MatrixSymbol("t", 2, 1)
    f = sg.sum(sp.HadamardPower(W * x - t, 2))
    with pytest.raises(sg.SymgradError, match=r"unevaluated derivative, Derivative\(sum\(.*sg\.grad\(f, wrt\)"):
        sg.check(f, W, sp.diff(f, W))


def test_affine_dx_left_flat_is_named():
    out, wrt = _affine()

    def affine_backward_flat(dout, x, w, b):
        return dout @ w.T, x.reshape(x.shape[0], -1).T @ dout, dout.sum(axis=0)
    r = wrong(sg.check_backward(out, wrt, affine_backward_flat),
              "not reshaped back: the claim has shape (4, 6), but ∂f/∂x must have x's shape (4, 2, 3)")
    assert "reshape(x.shape)" in r.hint


def test_batchnorm_backward_without_eps_is_named():
    out, wrt = _batchnorm()

    def backward_without_eps(dout, x, gamma, beta):
        n = x.shape[0]
        std = np.sqrt(x.var(axis=0))              # the forward's + eps left out
        xhat = (x - x.mean(axis=0)) / std
        dxhat = dout * gamma
        dx = (n * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0)) / (n * std)
        return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)
    r = wrong(sg.check_backward(out, wrt, backward_without_eps),
              "ε left out: the claim is the gradient of f with its constant 1e-05 taken as 0")
    assert "sqrt(var + eps)" in r.hint


def test_a_convolutions_padding_is_not_read_as_a_scale_of_f():
    x, w, b = sg.tensor("x", (N, 2, 5, 5)), sg.tensor("w", (3, 2, 3, 3)), sg.tensor("b", (3,))
    out = sg.conv2d(x, w, b, padding=2)
    r = wrong(sg.check_backward(out, [b], lambda dout, x, w, b: 2 * dout.sum(axis=(0, 2, 3))),
              "constant factor: the claim is 2 times the gradient")
    assert "constant 2 of f" not in r.hint


def test_a_backward_returning_zeros_is_not_told_about_sympys_diff():
    x = sg.tensor("x", (N, 3))
    r = wrong(sg.check_backward(sg.relu(x), [x], lambda dout, x: np.zeros_like(x)))
    assert r.hint.startswith("the claim is 0 but the gradient is not") and "SymPy" not in r.hint
