"""A corpus of hand derivations, right and wrong, for `sg.check`.

Written from textbook exercises and the lecture notes in shared/seeds: the ½(y − w·x)² regression of
the backprop lecture (002), the three-path influence example d = f + 3, e = f·g, b = d + e, c = e + 2,
a = b·c with ∂a/∂f = c + gc + gb = 2 + 5g + 2fg + 2fg² (004, Example 0.1), softmax cross-entropy with
δ = f − f* (004, Proof 4.2), the softmax Jacobian yᵢ(δᵢⱼ − yⱼ) (002), the optimizers' updates (004,
4.2), and the matrix-calculus exercises ‖Wx‖², ‖Ax − b‖², xᵀAx, tr(AᵀWB).

Each entry: (name, f, wrt, claimed, expected, hint, at). ``expected`` is "right", "wrong" or "kink"
(equal except where f is not differentiable); ``hint`` is the start of the hint a wrong entry must
get (None: any hint or none). The expected answers were derived by hand, not by running symgrad.
"""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import sympy as sp

import symgrad as sg


class Entry(NamedTuple):
    name: str
    f: Any
    wrt: Any
    claimed: Any
    expected: str
    hint: str | None = None
    at: dict | None = None


def _H(M, fn):
    return M.applyfunc(fn)


def scalar_entries():
    w, x, y, b, z, lam, eta = sp.symbols("w x y b z lambda eta", real=True)
    s = sg.sigmoid
    sq = (y - w * x) ** 2 / 2
    E = []
    add = lambda *a, **k: E.append(Entry(*a, **k))  # noqa: E731
    # Regression (lecture 002): Div = ½(y − w·x)².
    add("sq: -(y-wx)x", sq, w, -(y - w * x) * x, "right")
    add("sq: expanded", sq, w, w * x ** 2 - x * y, "right")
    add("sq: sign", sq, w, (y - w * x) * x, "wrong", "flipped sign")
    add("sq: factor 2", sq, w, -2 * (y - w * x) * x, "wrong", "constant factor: the claim is 2 times")
    add("sq: factor 1/2", sq, w, -(y - w * x) * x / 2, "wrong", "constant factor: the claim is 1/2 times")
    add("sq: inner derivative lost", sq, w, -(y - w * x), "wrong")
    # The sigmoid and its derivative, in two equal forms.
    add("sigmoid: s(1-s)", s(z), z, s(z) * (1 - s(z)), "right")
    add("sigmoid: exp form", s(z), z, sp.exp(-z) / (1 + sp.exp(-z)) ** 2, "right")
    add("sigmoid: s", s(z), z, s(z), "wrong", "σ'(z) written wrong")
    add("sigmoid: 1-s", s(z), z, 1 - s(z), "wrong", "σ'(z) written wrong")
    add("sigmoid: z(1-z)", s(z), z, z * (1 - z), "wrong", "σ'(z) written wrong")
    # Logistic regression: bce(σ(wx + b), y).
    L = sg.bce(s(w * x + b), y)
    add("logistic: (p - y)x", L, w, (s(w * x + b) - y) * x, "right")
    add("logistic: bias", L, b, s(w * x + b) - y, "right")
    add("logistic: sign", L, w, (y - s(w * x + b)) * x, "wrong", "flipped sign")
    add("logistic: sigma' = s", s(w * x + b), w, s(w * x + b) * x, "wrong", "σ'(z) written wrong")
    add("tanh: 1 - tanh^2", sp.tanh(w * x), w, x * (1 - sp.tanh(w * x) ** 2), "right")
    add("tanh: sech^2", sp.tanh(w * x), w, x / sp.cosh(w * x) ** 2, "right")
    add("tanh: 1 - tanh", sp.tanh(w * x), w, x * (1 - sp.tanh(w * x)), "wrong")
    add("softplus: sigmoid", sg.softplus(z), z, s(z), "right")
    add("softplus: exp form", sg.softplus(z), z, sp.exp(z) / (1 + sp.exp(z)), "right")
    add("log: domain", sp.log(w * x), w, 1 / w, "right")
    add("sqrt: domain", sp.sqrt(w) * x, w, x / (2 * sp.sqrt(w)), "right")
    add("sqrt: factor", sp.sqrt(w) * x, w, x / sp.sqrt(w), "wrong", "constant factor: the claim is 2 times")
    # The chain rule's outer derivative left out (d/dw F(u) = F′(u)·u′, written u′ alone).
    add("log(w^2+1): 2w/(w^2+1)", sp.log(w ** 2 + 1), w, 2 * w / (w ** 2 + 1), "right")
    add("log(w^2+1): 1/u left out", sp.log(w ** 2 + 1), w, 2 * w, "wrong",
        "outer derivative left out: the claim is the gradient with the derivative of log left out")
    add("exp(wx): exp left out", sp.exp(w * x), w, x, "wrong", "outer derivative left out")
    # Kinks (the notes' relu'(0) = 1).
    add("relu: H(z, 1)", sg.relu(z), z, sp.Heaviside(z, 1), "right")
    add("relu: H(z, 0)", sg.relu(z), z, sp.Heaviside(z, 0), "kink")
    add("relu: piecewise", sg.relu(z), z, sp.Piecewise((1, z > 0), (0, True)), "kink")
    add("relu: sign", sg.relu(z), z, -sp.Heaviside(z, 1), "wrong", "flipped sign")
    add("hinge", sg.hinge(w * x, y), w, -y * x * sp.Heaviside(1 - y * w * x, 0), "right")
    # The three-path influence example (004, Example 0.1): a = b·c, b = d + e, c = e + 2, d = f + 3, e = f·g.
    f_, g_ = sp.symbols("f g", real=True)
    d_, e_ = f_ + 3, f_ * g_
    b_, c_ = d_ + e_, e_ + 2
    a_ = b_ * c_
    add("paths: c + gc + gb", a_, f_, c_ + g_ * c_ + g_ * b_, "right")
    add("paths: closed form", a_, f_, 2 + 5 * g_ + 2 * f_ * g_ + 2 * f_ * g_ ** 2, "right")
    add("paths: wrt g", a_, g_, f_ * c_ + f_ * b_, "right")
    add("paths: missing f→e→c→a", a_, f_, c_ + g_ * c_, "wrong", "fan-out")
    add("paths: missing f→e→b→a", a_, f_, c_ + g_ * b_, "wrong", "fan-out")
    add("paths: missing f→d→b→a", a_, f_, g_ * c_ + g_ * b_, "wrong", "fan-out")
    add("paths: one counted twice", a_, f_, c_ + g_ * c_ + 2 * g_ * b_, "wrong", "fan-out")
    # L1 / L2 regularization terms.
    add("L2 term", sq + lam * w ** 2 / 2, w, -(y - w * x) * x + lam * w, "right")
    add("L2 term: lost ½", sq + lam * w ** 2 / 2, w, -(y - w * x) * x + 2 * lam * w, "wrong")
    add("L1 term", sq + lam * sp.Abs(w), w, -(y - w * x) * x + lam * sp.sign(w), "right")
    add("L1 term: no sign", sq + lam * sp.Abs(w), w, -(y - w * x) * x + lam, "wrong")
    # Optimizer updates (004, 4.2) as functions to differentiate.
    g, m, beta, eps = sp.symbols("g m beta epsilon", real=True)
    sgd = w - eta * (-(y - w * x) * x)                       # one SGD step on the regression
    add("SGD step: d/dw", sgd, w, 1 - eta * x ** 2, "right")
    add("SGD step: sign", sgd, w, 1 + eta * x ** 2, "wrong")
    M = (1 - beta) * g ** 2 + beta * m                       # RMSProp: M_t = (1 − β)g² + βM_{t−1}
    rms = w - eta * g / (sp.sqrt(M) + eps)
    d_rms = -eta * (1 / (sp.sqrt(M) + eps) - (1 - beta) * g ** 2 / (sp.sqrt(M) * (sp.sqrt(M) + eps) ** 2))
    pos = {"beta": 0.9, "epsilon": 1e-3, "m": 0.5, "eta": 0.1}
    add("RMSProp step: d/dg", rms, g, d_rms, "right", at=pos)
    add("RMSProp step: M held constant", rms, g, -eta / (sp.sqrt(M) + eps), "wrong", "fan-out", at=pos)
    v = beta * m + g                                         # momentum: v ← βv + g, w ← w − ηv
    add("momentum step: d/dg", w - eta * v, g, -eta, "right")
    add("momentum step: d/dm", w - eta * v, m, -eta * beta, "right")
    add("momentum step: d/dm sign", w - eta * v, m, eta * beta, "wrong", "flipped sign")
    a2, b2 = sp.symbols("a2 b2", positive=True)
    newton = w - (a2 * w - b2) / a2                          # Newton on ½a w² − b w lands on b/a
    add("Newton step: d/dw", newton, w, sp.S.Zero, "right")
    add("Newton step: d/db", newton, b2, 1 / a2, "right")
    return E


def matrix_entries():
    E = []
    add = lambda *a, **k: E.append(Entry(*a, **k))  # noqa: E731
    W, x = sp.MatrixSymbol("W", 3, 2), sp.MatrixSymbol("x", 2, 1)
    nWx = sg.sum(sp.HadamardPower(W * x, 2))                 # ‖Wx‖²
    add("|Wx|^2: 2Wxx'", nWx, W, 2 * W * x * x.T, "right")
    add("|Wx|^2 wrt x", nWx, x, 2 * W.T * W * x, "right")
    add("|Wx|^2: transpose", nWx, W, 2 * x * x.T * W.T, "wrong", "transpose")
    add("|Wx|^2: sign", nWx, W, -2 * W * x * x.T, "wrong", "flipped sign")
    add("|Wx|^2: factor", nWx, W, W * x * x.T, "wrong", "constant factor: the claim is 1/2 times")
    add("|Wx|^2: shape", nWx, W, 2 * W * x, "wrong", "shape")
    A, xx, bb = sp.MatrixSymbol("A", 4, 3), sp.MatrixSymbol("x", 3, 1), sp.MatrixSymbol("b", 4, 1)
    ls = sg.sum(sp.HadamardPower(A * xx - bb, 2))            # ‖Ax − b‖²
    add("|Ax-b|^2: 2A'(Ax-b)", ls, xx, 2 * A.T * (A * xx - bb), "right")
    add("|Ax-b|^2: 2(A'Ax - A'b)", ls, xx, 2 * (A.T * A * xx - A.T * bb), "right")
    add("|Ax-b|^2 wrt A", ls, A, 2 * (A * xx - bb) * xx.T, "right")
    add("|Ax-b|^2: factor", ls, xx, A.T * (A * xx - bb), "wrong", "constant factor: the claim is 1/2 times")
    add("|Ax-b|^2: sign", ls, xx, 2 * A.T * (bb - A * xx), "wrong", "flipped sign")
    add("|Ax-b|^2: row vector", ls, xx, 2 * (A * xx - bb).T * A, "wrong", "transpose")
    add("|Ax-b|^2 wrt A: transpose", ls, A, 2 * xx * (A * xx - bb).T, "wrong", "transpose")
    S, v = sp.MatrixSymbol("S", 3, 3), sp.MatrixSymbol("v", 3, 1)
    quad = (v.T * S * v)[0, 0]                               # xᵀAx
    add("x'Ax: (A + A')x", quad, v, (S + S.T) * v, "right")
    add("x'Ax wrt A: xx'", quad, S, v * v.T, "right")
    add("x'Ax: 2Ax (A not symmetric)", quad, v, 2 * S * v, "wrong")
    quad_m = sg.sum(v.T * S * v)                             # the same, kept as a matrix product
    add("x'Ax (matrix): Ax + A'x", quad_m, v, S * v + S.T * v, "right")
    add("x'Ax (matrix): Ax, a path left out", quad_m, v, S * v, "wrong", "fan-out")
    add("x'Ax (matrix): A'x, a path left out", quad_m, v, S.T * v, "wrong", "fan-out")
    P, Q, Wt = sp.MatrixSymbol("P", 3, 2), sp.MatrixSymbol("Q", 4, 2), sp.MatrixSymbol("W", 3, 4)
    tr = sp.Trace(P.T * Wt * Q)                              # tr(AᵀWB): ∂/∂W = A·Bᵀ
    add("trace: AB'", tr, Wt, P * Q.T, "right")
    add("trace: BA'", tr, Wt, Q * P.T, "wrong", "transpose")
    # The Matrix Cookbook's products as students first write them (square matrices, so every order fits).
    Xs, As, Bs = (sp.MatrixSymbol(n, 3, 3) for n in "XAB")
    w_, x_, y_ = sp.symbols("w x y", real=True)
    sq_ = (y_ - w_ * x_) ** 2 / 2
    tr3 = sp.Trace(As * Xs * Bs)                             # ∂ tr(AXB)/∂X = AᵀBᵀ
    add("tr(AXB): A'B'", tr3, Xs, As.T * Bs.T, "right")
    add("tr(AXB): (AB)' = B'A'", tr3, Xs, (As * Bs).T, "wrong", "factors in another order")
    Xi = Xs.inv()                                            # ∂ tr(X⁻¹A)/∂X = −(X⁻¹AX⁻¹)ᵀ
    add("tr(X^-1 A): -(X^-1 A X^-1)'", sp.Trace(Xi * As), Xs, -(Xi * As * Xi).T, "right")
    add("tr(X^-1 A): -(X^-1 X^-1 A)'", sp.Trace(Xi * As), Xs, -(Xi * Xi * As).T, "wrong", "factors in another order")
    res = sg.sum(sp.HadamardPower(As * Xs - Bs, 2))         # ∂ ‖AX − B‖²/∂X = 2Aᵀ(AX − B)
    add("|AX-B|^2: 2A'(AX-B)", res, Xs, 2 * As.T * (As * Xs - Bs), "right")
    add("|AX-B|^2: A' on the right", res, Xs, 2 * (As * Xs - Bs) * As.T, "wrong", "factors in another order")
    add("|AX-B|^2: A' left out", res, Xs, 2 * (As * Xs - Bs), "wrong",
        "matrix factor left out: the claim is the gradient once multiplied by A.T on the left")
    res_r = sg.sum(sp.HadamardPower(Xs * As - Bs, 2))       # ∂ ‖XA − B‖²/∂X = 2(XA − B)Aᵀ
    av, bv = sp.MatrixSymbol("a", 3, 1), sp.MatrixSymbol("b", 3, 1)
    gram = sg.sum(av.T * Xs.T * Xs * bv)                     # ∂ aᵀXᵀXb/∂X = X(abᵀ + baᵀ)
    add("a'X'Xb: X(ab' + ba')", gram, Xs, Xs * (av * bv.T + bv * av.T), "right")
    add("a'X'Xb: 2Xab', the two paths merged", gram, Xs, 2 * Xs * av * bv.T, "wrong",
        "fan-out: X influences the output along two paths, and the claim is twice the term")
    add("tr(X'X): 2X", sp.Trace(Xs.T * Xs), Xs, 2 * Xs, "right")
    add("tr(X'X): X", sp.Trace(Xs.T * Xs), Xs, Xs, "wrong",
        "constant factor: the claim is 1/2 times the gradient — the 2 from differentiating a square")
    cv = sp.MatrixSymbol("c", 3, 1)                          # ∂ (Xb + c)ᵀA(Xb + c)/∂X = (A + Aᵀ)(Xb + c)bᵀ
    quad_x = sg.sum((Xs * bv + cv).T * As * (Xs * bv + cv))
    add("(Xb+c)'A(Xb+c): (A+A')(Xb+c)b'", quad_x, Xs, (As + As.T) * (Xs * bv + cv) * bv.T, "right")
    add("(Xb+c)'A(Xb+c): c' for b'", quad_x, Xs, (As + As.T) * (Xs * bv + cv) * cv.T, "wrong",
        "another symbol: the claim has c where b belongs")
    add("sq: y for the inner derivative x", sq_, w_, -(y_ - w_ * x_) * y_, "wrong", "another symbol: the claim has y where x belongs")
    xn = sp.MatrixSymbol("x", 3, 1)                          # d2l: ∂‖x‖/∂x = x/‖x‖
    norm = sp.sqrt(sg.sum(sp.HadamardPower(xn, 2)))
    add("|x|: x/|x|", norm, xn, xn / norm, "right")
    add("|x|: 2x, sqrt' left out", norm, xn, 2 * xn, "wrong",
        "outer derivative left out: the claim is the gradient with the derivative of sqrt left out")
    add("|x|: x, the gradient of |x|^2/2", norm, xn, xn, "wrong", "outer derivative left out")
    add("|XA-B|^2: A' left out", res_r, Xs, 2 * (Xs * As - Bs), "wrong",
        "matrix factor left out: the claim is the gradient once multiplied by A.T on the right")
    # A layer: Div = ½‖σ(Wx + b) − y‖² (lecture 002).
    Wl, xl, bl, yl = (sp.MatrixSymbol("W", 3, 2), sp.MatrixSymbol("x", 2, 1), sp.MatrixSymbol("b", 3, 1),
                      sp.MatrixSymbol("y", 3, 1))
    yh = sg.sigmoid(Wl * xl + bl)
    layer = sg.mse(yh, yl)
    one = sp.OneMatrix(3, 1)
    delta = sp.HadamardProduct(yh - yl, yh, one - yh)         # δ = (ŷ − y) ⊙ σ'(z)
    add("layer: dW = δx'", layer, Wl, delta * xl.T, "right")
    add("layer: db = δ", layer, bl, delta, "right")
    add("layer: dict of both", layer, [Wl, bl], {Wl: delta * xl.T, "b": delta}, "right")
    add("layer: dW transposed", layer, Wl, xl * delta.T, "wrong", "transpose")
    add("layer: σ' = σ", layer, Wl, sp.HadamardProduct(yh - yl, yh) * xl.T, "wrong", "σ'(z) written wrong")
    add("layer: db sign", layer, bl, -delta, "wrong", "flipped sign")
    add("layer: σ' left out", layer, Wl, (yh - yl) * xl.T, "wrong", "σ'(z) written wrong")
    # A 2-layer relu MLP.
    W1, b1, W2, b2 = (sp.MatrixSymbol("W1", 4, 3), sp.MatrixSymbol("b1", 4, 1), sp.MatrixSymbol("W2", 2, 4),
                      sp.MatrixSymbol("b2", 2, 1))
    X, Y = sp.MatrixSymbol("x", 3, 1), sp.MatrixSymbol("y", 2, 1)
    z1 = W1 * X + b1
    h1 = sg.relu(z1)
    out = W2 * h1 + b2
    mlp = sg.mse(out, Y)
    d2 = out - Y
    d1 = sp.HadamardProduct(W2.T * d2, _H(z1, lambda u: sp.Heaviside(u, 1)))
    add("mlp: dW2 = δ2 h1'", mlp, W2, d2 * h1.T, "right")
    add("mlp: dW1 = δ1 x'", mlp, W1, d1 * X.T, "right")
    add("mlp: db1 = δ1", mlp, b1, d1, "right")
    add("mlp: dW1 without relu'", mlp, W1, (W2.T * d2) * X.T, "wrong", "relu′ left out")
    add("mlp: dW1 with relu' written relu", mlp, W1, sp.HadamardProduct(W2.T * d2, h1) * X.T, "wrong",
        "relu′ written as relu(z)")
    add("mlp: dW1 with relu' of W1·x (b1 left out of the mask)", mlp, W1,
        sp.HadamardProduct(W2.T * d2, _H(W1 * X, lambda u: sp.Heaviside(u, 1))) * X.T, "wrong",
        "first differing step")
    d1_0 = sp.HadamardProduct(W2.T * d2, _H(z1, lambda u: sp.Heaviside(u, 0)))    # relu'(0) = 0
    add("mlp: dW1 with relu'(0) = 0", mlp, W1, d1_0 * X.T, "kink")
    add("mlp: db1 with relu'(0) = 0", mlp, b1, d1_0, "kink")
    add("mlp: dW2 transposed", mlp, W2, h1 * d2.T, "wrong", "transpose")
    # Softmax cross-entropy (004, Proof 4.2): δ = softmax(z) − t for a one-hot t.
    z, t = sp.MatrixSymbol("z", 4, 1), sp.MatrixSymbol("t", 4, 1)
    onehot = {"t": np.array([[0.0], [1.0], [0.0], [0.0]])}
    ce = sg.cross_entropy(z, t)
    sm = sg.softmax(z)
    add("CE: softmax - t", ce, z, sm - t, "right", at=onehot)
    add("CE: sign", ce, z, t - sm, "wrong", "flipped sign", at=onehot)
    add("CE: diagonal Jacobian", ce, z, sp.HadamardProduct(t, sm) - t, "wrong", "softmax Jacobian", at=onehot)
    Wc, xc = sp.MatrixSymbol("W", 4, 3), sp.MatrixSymbol("x", 3, 1)
    ce2 = sg.cross_entropy(Wc * xc, t)
    add("CE layer: (s - t)x'", ce2, Wc, (sg.softmax(Wc * xc) - t) * xc.T, "right", at=onehot)
    add("CE layer: transposed", ce2, Wc, xc * (sg.softmax(Wc * xc) - t).T, "wrong", "transpose", at=onehot)
    # Softmax then squared error: the full Jacobian yᵢ(δᵢⱼ − yⱼ) (lecture 002) vs its diagonal.
    dv = sm - t
    add("softmax+mse: s⊙d − s(s'd)", sg.mse(sm, t), z, sp.HadamardProduct(sm, dv) - sm * (sm.T * dv), "right")
    add("softmax+mse: diagonal", sg.mse(sm, t), z, sp.HadamardProduct(sm, sp.OneMatrix(4, 1) - sm, dv),
        "wrong", "softmax Jacobian")
    # Regularization terms on a matrix.
    lam = sp.Symbol("lambda", positive=True)
    add("L2 on W: λW", lam / 2 * sg.sum(sp.HadamardPower(W, 2)), W, lam * W, "right")
    add("L2 on W: 2λW", lam / 2 * sg.sum(sp.HadamardPower(W, 2)), W, 2 * lam * W, "wrong",
        "constant factor: the claim is 2 times")
    add("L1 on W: λ sign(W)", lam * sg.sum(_H(W, sp.Abs)), W, lam * _H(W, sp.sign), "right")
    # A mean over N = 5 entries, and a sum over the examples (columns of a batch).
    wv, xv, yv = sp.Symbol("w", real=True), sp.MatrixSymbol("x", 5, 1), sp.MatrixSymbol("y", 5, 1)
    mse_n = sg.sum(sp.HadamardPower(wv * xv - yv, 2)) / 5
    add("mean of N: 2/N Σ", mse_n, wv, 2 * sg.sum(sp.HadamardProduct(wv * xv - yv, xv)) / 5, "right")
    add("mean of N: 1/N missing", mse_n, wv, 2 * sg.sum(sp.HadamardProduct(wv * xv - yv, xv)), "wrong",
        "constant factor: the claim is 5 times")
    Wb, Xb, bb2, Yb = (sp.MatrixSymbol("W", 2, 3), sp.MatrixSymbol("X", 3, 6), sp.MatrixSymbol("b", 2, 1),
                       sp.MatrixSymbol("Y", 2, 6))
    R = Wb * Xb + bb2 * sp.OneMatrix(1, 6) - Yb               # six examples as columns
    batch = sg.sum(sp.HadamardPower(R, 2)) / 2
    add("batch: db = R·1", batch, bb2, R * sp.OneMatrix(6, 1), "right")
    add("batch: dW = R X'", batch, Wb, R * Xb.T, "right")
    add("batch: db not summed", batch, bb2, R, "wrong", "missing sum")
    # Pearlmutter's Hessian-vector product Hv = ∇ₓ(∇f·v) of f = xᵀQx, H = Q + Qᵀ (derived by hand)
    Q, xq, vq = sp.MatrixSymbol("Q", 3, 3), sp.MatrixSymbol("x", 3, 1), sp.MatrixSymbol("v", 3, 1)
    hv = ((Q + Q.T) * xq).T * vq                              # ∇f·v, written out as the student does
    hv = hv[0, 0]
    add("Hv of x'Qx: (Q + Q')v", hv, xq, (Q + Q.T) * vq, "right")
    add("Hv of x'Qx: Qv", hv, xq, Q * vq, "wrong", "symmetrisation left out")
    add("Hv of x'Qx: 2(Q + Q')v", hv, xq, 2 * (Q + Q.T) * vq, "wrong", "constant factor: the claim is 2 times")
    return E


ENTRIES = scalar_entries() + matrix_entries()


# ---------------------------------------------------------------------------------------------------
# Hand-written NumPy backwards, checked with sg.check_backward: cs231n's assignment 3 (RNN captioning,
# GANs, self-supervised learning), written as a student writes them, with the cs231n signatures. Each
# entry: (name, out, wrt, backward, expected, hint, at); backward(dout, **values) returns the gradients
# in wrt order (a loss's backward gets dout = 1). The right ones are compared with torch.autograd in
# tests/checking/test_check_corpus.py (BACKWARD_ORACLES), not only with symgrad.


class BackwardEntry(NamedTuple):
    name: str
    out: Any
    wrt: Any
    backward: Any
    expected: str
    hint: str | None = None
    at: dict | None = None
    options: dict | None = None         # more keywords of sg.check_backward (assumptions=)


_N = sp.Symbol("N", integer=True, positive=True)
_T, _D, _HID, _V, _M = 3, 4, 5, 7, 2      # time, input, hidden, vocabulary, output sizes


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def rnn_step():
    x, prev_h = sg.tensor("x", (_N, _D)), sg.tensor("prev_h", (_N, _HID))
    Wx, Wh, b = sg.tensor("Wx", (_D, _HID)), sg.tensor("Wh", (_HID, _HID)), sg.tensor("b", (_HID,))
    return sg.tanh(x @ Wx + prev_h @ Wh + b), [x, prev_h, Wx, Wh, b]


def rnn_step_backward(dnext_h, x, prev_h, Wx, Wh, b, slip=None):
    next_h = np.tanh(x.dot(Wx) + prev_h.dot(Wh) + b)
    dtanh = dnext_h * ((1 - next_h) if slip == "tanh'" else (1 - next_h ** 2))
    dx = dtanh.dot(Wx.T)
    dprev_h = dtanh.dot(Wh if slip == "Wh not transposed" else Wh.T)
    dWx = x.T.dot(dtanh)
    dWh = (next_h if slip == "next_h for prev_h" else prev_h).T.dot(dtanh)
    db = dtanh if slip == "db not summed" else dtanh.sum(axis=0)
    return dx, dprev_h, dWx, dWh, db


def rnn():
    x, h0 = sg.tensor("x", (_N, _T, _D)), sg.tensor("h0", (_N, _HID))
    Wx, Wh, b = sg.tensor("Wx", (_D, _HID)), sg.tensor("Wh", (_HID, _HID)), sg.tensor("b", (_HID,))
    h, hs = h0, []
    for t in range(_T):
        h = sg.tanh(x[:, t, :] @ Wx + h @ Wh + b)
        hs.append(h)
    return sg.stack(hs, axis=1), [x, h0, Wx, Wh, b]


def rnn_backward(dh, x, h0, Wx, Wh, b, slip=None):
    N, T, D = x.shape
    hs, h = [], h0
    for t in range(T):
        h = np.tanh(x[:, t, :].dot(Wx) + h.dot(Wh) + b)
        hs.append(h)
    dx, dWx, dWh, db = np.zeros_like(x), np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dprev_h = np.zeros_like(h0)
    for t in reversed(range(1 if slip == "stops at t = 1" else 0, T)):
        dnext_h = dh[:, t, :] if slip == "dprev_h not added" else dh[:, t, :] + dprev_h
        prev_h = hs[t - 1] if t > 0 else h0
        dtanh = dnext_h * (1 - hs[t] ** 2)
        dx[:, t, :] = dtanh.dot(Wx.T)
        dprev_h = dtanh.dot(Wh.T)
        if slip == "dWx assigned":
            dWx = x[:, t, :].T.dot(dtanh)
        else:
            dWx += x[:, t, :].T.dot(dtanh)
        dWh += prev_h.T.dot(dtanh)
        db += dtanh.sum(axis=0)
    return dx, dprev_h, dWx, dWh, db


def word_embedding():
    x, W = sg.tensor("x", (_N, _T), integer=True), sg.tensor("W", (_V, _D))
    return sg.embedding(W, x), [W]


def word_embedding_backward(dout, x, W, slip=None):
    dW = np.zeros_like(W)
    if slip == "dW[x] += dout":
        dW[x] += dout                   # a repeated word is written once: NumPy buffers the fancy index
    elif slip == "summed over time":
        np.add.at(dW, x, dout.sum(axis=1, keepdims=True))
    else:
        np.add.at(dW, x, dout)
    return dW


def temporal_affine():
    x, w, b = sg.tensor("x", (_N, _T, _D)), sg.tensor("w", (_D, _M)), sg.tensor("b", (_M,))
    return x @ w + b, [x, w, b]


def temporal_affine_backward(dout, x, w, b, slip=None):
    N, T, D = x.shape
    M = b.shape[0]
    dx = dout.reshape(N * T, M).dot(w.T).reshape(N, T, D)
    dw = (x[:, -1].T.dot(dout[:, -1]) if slip == "last step only"
          else dout.reshape(N * T, M).T.dot(x.reshape(N * T, D)).T)
    db = dout.sum(axis=0) if slip == "db over N only" else dout.sum(axis=(0, 1))
    return dx, dw, db


_MASK = np.array([[1, 1, 1], [1, 1, 0], [1, 0, 0], [1, 1, 1], [1, 1, 0], [1, 1, 1]], dtype=float)


def temporal_softmax():
    x, y, mask = sg.tensor("x", (_N, _T, _V)), sg.tensor("y", (_N, _T), integer=True), sg.tensor("mask", (_N, _T))
    ce = sg.cross_entropy(x, y, axis=-1, reduction="none")          # (N, T)
    return sg.sum(ce * mask) / _N, x


def temporal_softmax_loss(x, y, mask, slip=None):
    """cs231n's temporal_softmax_loss: the loss summed over time, averaged over the minibatch, masked;
    returns (loss, dx)."""
    N, T, V = x.shape
    x_flat, y_flat, mask_flat = x.reshape(N * T, V), y.reshape(N * T), mask.reshape(N * T)
    probs = np.exp(x_flat - np.max(x_flat, axis=1, keepdims=True))
    probs /= np.sum(probs, axis=1, keepdims=True)
    loss = -np.sum(mask_flat * np.log(probs[np.arange(N * T), y_flat])) / N
    dx_flat = probs.copy()
    dx_flat[np.arange(N * T), y_flat] -= 1
    if slip != "1/N left out":
        dx_flat /= N * T if slip == "N * T" else N
    if slip != "mask left out":
        dx_flat *= mask_flat[:, None]
    return loss, dx_flat.reshape(N, T, V)


def _logits():
    return sg.tensor("logits_real", (_N, 1)), sg.tensor("logits_fake", (_N, 1))


def discriminator_loss():
    real, fake = _logits()
    return (sg.bce_with_logits(real, sg.ones((_N, 1))) + sg.bce_with_logits(fake, sg.zeros((_N, 1)))), [real, fake]


def discriminator_loss_backward(dout, logits_real, logits_fake, slip=None):
    N = 1 if slip == "1/N left out" else logits_real.shape[0]
    d_real = (_sigmoid(logits_real) - 1) / N
    d_fake = _sigmoid(logits_fake) / N
    if slip == "labels swapped":
        d_real, d_fake = _sigmoid(logits_real) / N, (_sigmoid(logits_fake) - 1) / N
    return d_real, d_fake


def generator_loss():
    _, fake = _logits()
    return sg.bce_with_logits(fake, sg.ones((_N, 1))), fake


def generator_loss_backward(dout, logits_fake, slip=None):
    N = logits_fake.shape[0]
    if slip == "sign":                     # the gradient of -loss: ascending where it should descend
        return (1 - _sigmoid(logits_fake)) / N
    if slip == "minimax form":             # d/ds of -mean(log(1 - D(G(z)))): the saturating loss
        return _sigmoid(logits_fake) / N
    return (_sigmoid(logits_fake) - 1) / N


def ls_discriminator_loss():
    real, fake = _logits()
    return 0.5 * sg.mean((real - 1) ** 2) + 0.5 * sg.mean(fake ** 2), [real, fake]


def ls_discriminator_loss_backward(dout, logits_real, logits_fake, slip=None):
    N = logits_real.shape[0]
    k = 2 if slip == "½ left out" else 1
    return k * (logits_real - 1) / N, k * logits_fake / N


def ls_generator_loss():
    _, fake = _logits()
    return 0.5 * sg.mean((fake - 1) ** 2), fake


def ls_generator_loss_backward(dout, logits_fake, slip=None):
    N = logits_fake.shape[0]
    return ((1 - logits_fake) if slip == "sign" else (logits_fake - 1)) / N


def sim_positive_pairs():
    left, right = sg.tensor("out_left", (_N, _D)), sg.tensor("out_right", (_N, _D))
    norms = sg.sqrt(sg.sum(left ** 2, axis=1, keepdims=True)) * sg.sqrt(sg.sum(right ** 2, axis=1, keepdims=True))
    return sg.sum(left * right, axis=1, keepdims=True) / norms, [left, right]


def sim_positive_pairs_backward(dout, out_left, out_right, slip=None):
    """d/dl of l·r / (‖l‖‖r‖) = r / (‖l‖‖r‖) − sim · l / ‖l‖² (and alike for r)."""
    nl = np.linalg.norm(out_left, axis=1, keepdims=True)
    nr = np.linalg.norm(out_right, axis=1, keepdims=True)
    sim = np.sum(out_left * out_right, axis=1, keepdims=True) / (nl * nr)
    if slip == "norms held constant":
        return dout * out_right / (nl * nr), dout * out_left / (nl * nr)
    return (dout * (out_right / (nl * nr) - sim * out_left / nl ** 2),
            dout * (out_left / (nl * nr) - sim * out_right / nr ** 2))


_PAIRS, _TAU = 3, 0.5                # SimCLR: 3 pairs, 6 embeddings; the temperature


def simclr_loss():
    """simclr_loss_vectorized on the embeddings z = [out_left; out_right] (2N × D), as logits of z
    against z: each row's positive is its pair, k + N mod 2N, and itself is masked out."""
    n2 = 2 * _PAIRS
    z = sg.tensor("z", (n2, _D))
    logits = sg.where(sg.eye(n2) > 0, -1e9, z @ z.T / _TAU)
    I, Z = sg.eye(_PAIRS), sg.zeros((_PAIRS, _PAIRS))
    target = sg.concat([sg.concat([Z, I], axis=1), sg.concat([I, Z], axis=1)], axis=0)
    return sg.cross_entropy(logits, target), z


def simclr_loss_backward(dout, z, slip=None):
    n2 = z.shape[0]
    S = z.dot(z.T) / _TAU
    if slip != "diagonal not masked":
        S = S - 1e9 * np.eye(n2)
    P = np.exp(S - S.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    Y = np.roll(np.eye(n2), n2 // 2, axis=1)                 # row k's positive: k + N mod 2N
    G = (P - Y) / n2                                         # dL/dS
    scale = 1 if slip == "1/tau left out" else 1 / _TAU     # S = z @ z.T / tau: dz picks up 1/tau
    if slip == "one side of z @ z.T":
        return G.dot(z) * scale
    return (G + G.T).dot(z) * scale


_S, _E, _HEADS = 3, 4, 2            # attention: sequence length, embedding size, heads
_DH = _E // _HEADS
_CAUSAL = np.tril(np.ones((_S, _S)))


def multi_head_attention():
    """cs231n's MultiHeadAttention.forward (nn.Linear projections, x @ W.T + b), dropout off, with
    attn_mask (S × S, 0 = masked): heads split as x.reshape(N, S, H, E/H).transpose(0, 2, 1, 3)."""
    q, k, v = (sg.tensor(n, (_N, _S, _E)) for n in ("query", "key", "value"))
    Ws = {n: sg.tensor(n, (_E, _E)) for n in ("Wq", "Wk", "Wv", "Wp")}
    bs = {n: sg.tensor(n, (_E,)) for n in ("bq", "bk", "bv", "bp")}
    mask = sg.tensor("attn_mask", (_S, _S))
    heads = lambda x: x.reshape(_N, _S, _HEADS, _DH).transpose(0, 2, 1, 3)  # noqa: E731
    Q, K, V = heads(q @ Ws["Wq"].T + bs["bq"]), heads(k @ Ws["Wk"].T + bs["bk"]), heads(v @ Ws["Wv"].T + bs["bv"])
    scores = sg.where(mask > 0, Q @ K.transpose(0, 1, 3, 2) / np.sqrt(_DH), -1e9)
    A = sg.softmax(scores, axis=-1)
    Y = (A @ V).transpose(0, 2, 1, 3).reshape(_N, _S, _E)
    out = Y @ Ws["Wp"].T + bs["bp"]
    return out, [q, k, v, Ws["Wq"], bs["bq"], Ws["Wk"], bs["bk"], Ws["Wv"], bs["bv"], Ws["Wp"], bs["bp"]]


def multi_head_attention_backward(dout, query, key, value, Wq, bq, Wk, bk, Wv, bv, Wp, bp, attn_mask, slip=None):
    n, s, e = query.shape
    h, dh = _HEADS, e // _HEADS
    split = lambda x: x.reshape(n, s, h, dh).transpose(0, 2, 1, 3)  # noqa: E731
    merge = lambda x: x.transpose(0, 2, 1, 3).reshape(n, s, e)  # noqa: E731
    Q, K, V = split(query @ Wq.T + bq), split(key @ Wk.T + bk), split(value @ Wv.T + bv)
    scale = 1 if slip == "scale left out" else 1 / np.sqrt(dh)
    scores = Q @ K.transpose(0, 1, 3, 2) / np.sqrt(dh)
    if slip != "mask left out":
        scores = np.where(attn_mask > 0, scores, -1e9)
    A = np.exp(scores - scores.max(axis=-1, keepdims=True))
    A /= A.sum(axis=-1, keepdims=True)
    Y = merge(A @ V)
    dWp = np.einsum("nse,nsf->ef", dout, Y)
    dbp = dout.sum(axis=(0, 1))
    dYh = split(dout @ Wp)
    dA = dYh @ V.transpose(0, 1, 3, 2)
    dVh = A.transpose(0, 1, 3, 2) @ dYh
    if slip == "softmax diagonal":
        dscores = A * (1 - A) * dA
    else:
        dscores = A * (dA - (dA * A).sum(axis=-1, keepdims=True))
    dQh = dscores @ K * scale
    dKh = (dscores @ Q if slip == "dscores not transposed" else dscores.transpose(0, 1, 3, 2) @ Q) * scale
    mrg = (lambda x: x.reshape(n, s, e)) if slip == "heads merged without transpose" else merge
    dQ, dK, dV = mrg(dQh), mrg(dKh), mrg(dVh)
    grads = []
    for d, x, W in ((dQ, query, Wq), (dK, key, Wk), (dV, value, Wv)):
        grads.append((d @ W, np.einsum("nse,nsf->ef", d, x), d.sum(axis=(0, 1))))
    (dq, dWq, dbq), (dk, dWk, dbk), (dv, dWv, dbv) = grads
    return dq, dk, dv, dWq, dbq, dWk, dbk, dWv, dbv, dWp, dbp


def backward_entries():
    E = []
    add = lambda *a, **k: E.append(BackwardEntry(*a, **k))  # noqa: E731
    bw = lambda fn, slip=None: (lambda *a, **k: fn(*a, **k, slip=slip))  # noqa: E731
    out, wrt = rnn_step()
    add("rnn_step_backward", out, wrt, bw(rnn_step_backward), "right")
    add("rnn_step_backward: 1 - next_h", out, wrt, bw(rnn_step_backward, "tanh'"), "wrong", "tanh'(z) written wrong")
    add("rnn_step_backward: Wh not transposed", out, wrt, bw(rnn_step_backward, "Wh not transposed"), "wrong",
        "transposed factor: dprev_h multiplies by Wh where Wh.T belongs")
    add("rnn_step_backward: dWh from next_h", out, wrt, bw(rnn_step_backward, "next_h for prev_h"), "wrong",
        "wrong operand: dWh is built from")
    add("rnn_step_backward: db not summed", out, wrt, bw(rnn_step_backward, "db not summed"), "wrong", "missing sum")
    out, wrt = rnn()
    add("rnn_backward", out, wrt, bw(rnn_backward), "right")
    add("rnn_backward: dWx assigned", out, wrt, bw(rnn_backward, "dWx assigned"), "wrong", "one use only: Wx is used 3 times")
    add("rnn_backward: dprev_h not added", out, wrt, bw(rnn_backward, "dprev_h not added"), "wrong",
        "missing upstream gradient")
    add("rnn_backward: stops at t = 1", out, wrt, bw(rnn_backward, "stops at t = 1"), "wrong", "the loop stops one step early")
    out, wrt = word_embedding()
    add("word_embedding_backward", out, wrt, bw(word_embedding_backward), "right")
    add("word_embedding_backward: dW[x] += dout", out, wrt, bw(word_embedding_backward, "dW[x] += dout"), "wrong",
        "assignment instead of accumulation")
    add("word_embedding_backward: summed over time", out, wrt, bw(word_embedding_backward, "summed over time"), "wrong",
        "summed over axis 1 first")
    out, wrt = temporal_affine()
    add("temporal_affine_backward", out, wrt, bw(temporal_affine_backward), "right")
    add("temporal_affine_backward: dw from the last step", out, wrt, bw(temporal_affine_backward, "last step only"),
        "wrong", "one step only")
    add("temporal_affine_backward: db over N only", out, wrt, bw(temporal_affine_backward, "db over N only"), "wrong",
        "missing sum")
    loss, x = temporal_softmax()
    ts = lambda slip=None: (lambda dout, x, y, mask: temporal_softmax_loss(x, y, mask, slip)[1])  # noqa: E731
    at = {"mask": _MASK}
    add("temporal_softmax_loss", loss, x, ts(), "right", at=at)
    add("temporal_softmax_loss: mask left out", loss, x, ts("mask left out"), "wrong", None, at=at)
    add("temporal_softmax_loss: / (N * T)", loss, x, ts("N * T"), "wrong", "constant factor: the claim is 1/3 times", at=at)
    add("temporal_softmax_loss: 1/N left out", loss, x, ts("1/N left out"), "wrong", "constant factor: the claim is 6 times", at=at)
    loss, wrt = discriminator_loss()
    add("discriminator_loss", loss, wrt, bw(discriminator_loss_backward), "right")
    add("discriminator_loss: 1/N left out", loss, wrt, bw(discriminator_loss_backward, "1/N left out"), "wrong",
        "constant factor: the claims for logits_real and logits_fake (every variable) are 4 times their gradients — N = 4")
    add("discriminator_loss: labels swapped", loss, wrt, bw(discriminator_loss_backward, "labels swapped"), "wrong",
        "target flipped: the claim for logits_real is the gradient with the target ones((4, 1)) read as zeros((4, 1))")
    loss, fake = generator_loss()
    add("generator_loss", loss, fake, bw(generator_loss_backward), "right")
    add("generator_loss: sign", loss, fake, bw(generator_loss_backward, "sign"), "wrong", "flipped sign")
    add("generator_loss: minimax form", loss, fake, bw(generator_loss_backward, "minimax form"), "wrong",
        "target flipped: the claim for logits_fake is the gradient with the target ones((4, 1)) read as zeros((4, 1))")
    loss, wrt = ls_discriminator_loss()
    add("ls_discriminator_loss", loss, wrt, bw(ls_discriminator_loss_backward), "right")
    add("ls_discriminator_loss: ½ left out", loss, wrt, bw(ls_discriminator_loss_backward, "½ left out"), "wrong",
        "constant factor: the claims for logits_real and logits_fake (every variable) are 2 times")
    loss, fake = ls_generator_loss()
    add("ls_generator_loss", loss, fake, bw(ls_generator_loss_backward), "right")
    add("ls_generator_loss: sign", loss, fake, bw(ls_generator_loss_backward, "sign"), "wrong", "flipped sign")
    out, wrt = sim_positive_pairs()
    add("sim_positive_pairs", out, wrt, bw(sim_positive_pairs_backward), "right")
    add("sim_positive_pairs: norms held constant", out, wrt, bw(sim_positive_pairs_backward, "norms held constant"),
        "wrong", "norm held constant: the claim treats ‖out_")
    loss, z = simclr_loss()
    add("simclr_loss_vectorized", loss, z, bw(simclr_loss_backward), "right")
    add("simclr_loss_vectorized: 1/tau left out", loss, z, bw(simclr_loss_backward, "1/tau left out"), "wrong",
        "constant factor: the claim is 1/2 times")
    add("simclr_loss_vectorized: diagonal not masked", loss, z, bw(simclr_loss_backward, "diagonal not masked"), "wrong",
        "masked entries left in: the claim for z is the gradient with where(eye(6) > 0, -1e+09, 2.0*(z @ z.T)) read as")
    add("simclr_loss_vectorized: one side of z @ z.T", loss, z, bw(simclr_loss_backward, "one side of z @ z.T"), "wrong",
        "one side of z @ z.T: z is both factors")
    out, wrt = multi_head_attention()
    mha_bw = lambda slip=None: bw(multi_head_attention_backward, slip)  # noqa: E731
    causal = {"attn_mask": _CAUSAL}
    add("MultiHeadAttention backward", out, wrt, mha_bw(), "right", at=causal)
    add("MultiHeadAttention: 1/sqrt(d_k) left out of dQ, dK", out, wrt, mha_bw("scale left out"), "wrong",
        "constant factor: the claims for query, key, Wq, bq and Wk are √2 times their gradients — the constant 1/√2 = 0.707107 of f", at=causal)
    add("MultiHeadAttention: softmax Jacobian's diagonal", out, wrt, mha_bw("softmax diagonal"), "wrong",
        "softmax Jacobian cut to its diagonal", at=causal)
    add("MultiHeadAttention: mask left out", out, wrt, mha_bw("mask left out"), "wrong",
        "mask left out: the claim is the gradient with attn_mask = 1 everywhere", at=causal)
    add("MultiHeadAttention: dK = dscores @ Q", out, wrt, mha_bw("dscores not transposed"), "wrong",
        "the product's gradient transposed", at=causal)
    add("MultiHeadAttention: heads merged without transpose", out, wrt, mha_bw("heads merged without transpose"),
        "wrong", "a transpose undone by a reshape", at=causal)
    return E


# ---------------------------------------------------------------------------------------------------
# CMU 11-785's layers as classes with forward and backward (HW2P1's resampling, HW3P1's GRU cell and
# CTC loss), each backward written as the handout's equations give it, with the slips students make.
# The right ones are compared with torch.autograd in tests/checking/test_check_corpus.py too.

_K = 2                                   # the resampling factor
_WD, _WU = 7, 4                          # Downsample1d's input width (odd: W_out = 4), Upsample1d's


def downsample1d():
    A = sg.tensor("A", (_N, 2, _WD))
    return A[:, :, ::_K], A


def downsample1d_backward(dLdZ, A, slip=None):
    """Downsample1d.backward: zeros of the input width stored in forward, dLdZ at every k'th entry."""
    width = _K * (dLdZ.shape[2] - 1) if slip == "width from dLdZ" else A.shape[2]
    if slip == "np.repeat":
        return np.repeat(dLdZ, _K, axis=2)[:, :, :A.shape[2]]
    dLdA = np.zeros(A.shape[:2] + (width,))
    at = slice(1, None, _K) if slip == "offset 1" else slice(None, None, _K)
    n = dLdA[:, :, at].shape[2]
    dLdA[:, :, at] = dLdZ[:, :, :n]
    return dLdA


def upsample1d():
    """Upsample1d.forward: k − 1 zeros between the entries, k·(W − 1) + 1 wide."""
    A = sg.tensor("A", (_N, 2, _WU))
    zeros = [0 * A] * (_K - 1)
    return sg.stack([A] + zeros, axis=3).reshape(_N, 2, _K * _WU)[:, :, :_K * (_WU - 1) + 1], A


def upsample1d_backward(dLdZ, A, slip=None):
    if slip == "every (k + 1)th":
        return dLdZ[:, :, ::_K + 1]
    if slip == "every entry":
        return dLdZ[:, :, :A.shape[2]]
    return dLdZ[:, :, 1::_K] if slip == "offset 1" else dLdZ[:, :, ::_K]


_GD, _GH = 2, 3                          # the GRU's and the RNN cell's input and hidden sizes
GRU_WEIGHTS = ["Wrx", "Wzx", "Wnx", "Wrh", "Wzh", "Wnh"]
GRU_BIASES = ["brx", "bzx", "bnx", "brh", "bzh", "bnh"]


def gru_cell(d=_GD, hidden=_GH):
    """11-785's GRUCell on one example: r, z, n gates, n = tanh(Wnx x + bnx + r ⊙ (Wnh h + bnh)),
    h' = (1 − z) ⊙ n + z ⊙ h; input size d, hidden size ``hidden`` (also tests/checking/test_cmu_trial.py's)."""
    x, h = sg.tensor("x", (d,)), sg.tensor("h", (hidden,))
    W = {k: sg.tensor(k, (hidden, d if k.endswith("x") else hidden)) for k in GRU_WEIGHTS}
    b = {k: sg.tensor(k, (hidden,)) for k in GRU_BIASES}
    r = sg.sigmoid(W["Wrx"] @ x + b["brx"] + W["Wrh"] @ h + b["brh"])
    z = sg.sigmoid(W["Wzx"] @ x + b["bzx"] + W["Wzh"] @ h + b["bzh"])
    n = sg.tanh(W["Wnx"] @ x + b["bnx"] + r * (W["Wnh"] @ h + b["bnh"]))
    return (1 - z) * n + z * h, [x, h] + [W[k] for k in GRU_WEIGHTS] + [b[k] for k in GRU_BIASES]


def gru_cell_backward(delta, x, h, Wrx, Wzx, Wnx, Wrh, Wzh, Wnh, brx, bzx, bnx, brh, bzh, bnh, slip=None):
    r = _sigmoid(Wrx @ x + brx + Wrh @ h + brh)
    z = _sigmoid(Wzx @ x + bzx + Wzh @ h + bzh)
    nh = Wnh @ h + bnh
    n = np.tanh(Wnx @ x + bnx + r * nh)
    dz = delta * ((n - h) if slip == "dz = delta * (n - h)" else (h - n)) * z * (1 - z)
    dn = delta * (z if slip == "dn = delta * z" else 1 - z) * (1 - n ** 2)
    dr = dn * nh * r * (1 - r)
    dWnh = np.outer(dn, r * h) if slip == "dWnh = outer(dn, r * h)" else np.outer(dn * r, h)
    dh_n = r * (Wnh.T @ dn) if slip == "r * (Wnh.T @ dn)" else Wnh.T @ (dn * r)
    g = {"x": Wnx.T @ dn + Wzx.T @ dz + Wrx.T @ dr, "h": (0 if slip == "dh without delta * z" else delta * z) + dh_n + Wzh.T @ dz + Wrh.T @ dr,
         "Wrx": np.outer(dr, x), "Wzx": np.outer(dz, x), "Wnx": np.outer(dn, x),
         "Wrh": np.outer(dr, h), "Wzh": np.outer(dz, h), "Wnh": dWnh,
         "brx": dr, "bzx": dz, "bnx": dn, "brh": dr, "bzh": dz, "bnh": dn * r}
    return tuple(g[k] for k in ["x", "h"] + GRU_WEIGHTS + GRU_BIASES)


def rnn_cell(h_name="h", d=_GD, hidden=_GH):
    """torch.nn.RNNCell (11-785's HW3P1 RNNCell) on rows: h' = tanh(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh),
    the previous state named ``h_name``; tests/checking/test_cmu_trial.py's and test_row_layout_gru_slips.py's."""
    x, h = sg.tensor("x", (_N, d)), sg.tensor(h_name, (_N, hidden))
    W_ih, W_hh = sg.tensor("W_ih", (hidden, d)), sg.tensor("W_hh", (hidden, hidden))
    b_ih, b_hh = sg.tensor("b_ih", (hidden,)), sg.tensor("b_hh", (hidden,))
    return sg.tanh(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh), [x, h, W_ih, W_hh, b_ih, b_hh]


_CT, _CC = 5, 3                          # CTC: input length, symbols (0 the blank)
CTC_TARGET = [1, 1, 2]                   # a repeat: no skip connection between the two 1s
_CTC_Y = {"assumptions": {"logits": (0.05, 1.0)}}     # probabilities, as 11-785's CTC takes them


def _extended(target, slip=None):
    """11-785's CTC.extend_target_with_blank: [0, s1, 0, s2, ..., 0] and the skip connections."""
    ext = [0]
    for s in target:
        ext += [s, 0]
    skip = [int(r >= 2 and ext[r] != 0 and slip != "no skip connections"
                and (slip == "skip between repeats" or ext[r] != ext[r - 2]))
            for r in range(len(ext))]
    return ext, skip


def ctc_loss():
    """−log P(target | y) for one sequence of probabilities y (T × C), by the forward recursion."""
    y = sg.tensor("logits", (_CT, _CC))
    ext, skip = _extended(CTC_TARGET)
    a = [y[0, ext[0]], y[0, ext[1]]] + [0] * (len(ext) - 2)
    for t in range(1, _CT):
        a = [(a[r] + (a[r - 1] if r else 0) + (a[r - 2] if skip[r] else 0)) * y[t, ext[r]]
             for r in range(len(ext))]
    return -sg.log(a[-1] + a[-2]), y


def ctc_loss_backward(dout, logits, slip=None):
    """CTCLoss.backward: alpha (get_forward_probs), beta (get_backward_probs, divided by y at the end),
    gamma = alpha·beta normalised per time step (get_posterior_probs), dY[t, ext[r]] −= γ / y."""
    y = logits
    ext, skip = _extended(CTC_TARGET, slip)
    S, T = len(ext), y.shape[0]
    alpha, beta = np.zeros((T, S)), np.zeros((T, S))
    alpha[0, :2] = y[0, ext[:2]]
    for t in range(1, T):
        for r in range(S):
            alpha[t, r] = (alpha[t - 1, r] + (alpha[t - 1, r - 1] if r else 0)
                           + (alpha[t - 1, r - 2] if skip[r] else 0)) * y[t, ext[r]]
    beta[T - 1, S - 2:] = y[T - 1, ext[S - 2:]]
    for t in range(T - 2, -1, -1):
        for r in range(S):
            beta[t, r] = (beta[t + 1, r] + (beta[t + 1, r + 1] if r + 1 < S else 0)
                          + (beta[t + 1, r + 2] if r + 2 < S and skip[r + 2] else 0)) * y[t, ext[r]]
    if slip != "beta not divided by y":
        beta /= y[:, ext]
    gamma = alpha * beta
    if slip != "gamma not normalised":
        gamma /= gamma.sum(axis=1, keepdims=True)
    dY = np.zeros_like(y)
    for r in range(S):
        dY[:, ext[r]] -= gamma[:, r] if slip == "dY -= gamma" else gamma[:, r] / y[:, ext[r]]
    return dY


_BC, _BN_EPS = 3, 1e-8                   # BatchNorm1d's features, its eps
_RUNNING = {"assumptions": {"running_V": (0.2, 2.0)}}


def batchnorm1d_eval():
    """11-785's BatchNorm1d.forward(Z, eval=True): the running statistics, stored constants."""
    Z, BW, Bb = sg.tensor("Z", (_N, _BC)), sg.tensor("BW", (1, _BC)), sg.tensor("Bb", (1, _BC))
    M, V = sg.tensor("running_M", (1, _BC)), sg.tensor("running_V", (1, _BC))
    return BW * (Z - M) / sg.sqrt(V + _BN_EPS) + Bb, [Z, BW, Bb]


def batchnorm1d_eval_backward(dLdBZ, Z, BW, Bb, running_M, running_V, slip=None):
    NZ = (Z - running_M) / np.sqrt(running_V + _BN_EPS)
    dLdNZ = dLdBZ * BW
    dLdZ = dLdNZ / np.sqrt(running_V + _BN_EPS)
    if slip == "training formula":           # the batch's statistics, and their paths
        n, M, V = Z.shape[0], Z.mean(axis=0, keepdims=True), Z.var(axis=0, keepdims=True)
        dLdV = -0.5 * (dLdNZ * (Z - M) * (V + _BN_EPS) ** -1.5).sum(axis=0, keepdims=True)
        dLdM = -(dLdNZ * (V + _BN_EPS) ** -0.5).sum(axis=0, keepdims=True) - 2 / n * dLdV * (Z - M).sum(
            axis=0, keepdims=True)
        dLdZ = dLdNZ * (V + _BN_EPS) ** -0.5 + dLdV * 2 / n * (Z - M) + dLdM / n
    return dLdZ, (dLdBZ * NZ).sum(axis=0, keepdims=True), dLdBZ.sum(axis=0, keepdims=True)


def cmu_entries():
    E = []
    add = lambda *a, **k: E.append(BackwardEntry(*a, **k))  # noqa: E731
    bw = lambda fn, slip=None: (lambda *a, **k: fn(*a, **k, slip=slip))  # noqa: E731
    out, A = downsample1d()
    add("Downsample1d backward", out, A, bw(downsample1d_backward), "right")
    add("Downsample1d: zeros k(W_out - 1) wide", out, A, bw(downsample1d_backward, "width from dLdZ"), "wrong",
        "downsample backward with the wrong width")
    add("Downsample1d: dLdA[:, :, 1::k]", out, A, bw(downsample1d_backward, "offset 1"), "wrong",
        "downsample backward writes the wrong entries: the claim is dA[:, :, 1::2] = dLdZ")
    add("Downsample1d: np.repeat", out, A, bw(downsample1d_backward, "np.repeat"), "wrong",
        "downsample backward repeats dLdZ")
    out, A = upsample1d()
    add("Upsample1d backward", out, A, bw(upsample1d_backward), "right")
    add("Upsample1d: every (k + 1)th entry", out, A, bw(upsample1d_backward, "every (k + 1)th"), "wrong",
        "upsample backward with another step")
    add("Upsample1d: every entry", out, A, bw(upsample1d_backward, "every entry"), "wrong",
        "upsample backward with another step")
    add("Upsample1d: dLdZ[:, :, 1::k]", out, A, bw(upsample1d_backward, "offset 1"), "wrong",
        "upsample backward reads the wrong entries")
    out, wrt = gru_cell()
    add("GRUCell backward", out, wrt, bw(gru_cell_backward), "right")
    add("GRUCell: dz = delta * (n - h)", out, wrt, bw(gru_cell_backward, "dz = delta * (n - h)"), "wrong",
        "flipped sign in one gate: the claims for Wzx, Wzh, bzx, bzh")
    add("GRUCell: dn = delta * z", out, wrt, bw(gru_cell_backward, "dn = delta * z"), "wrong", "gate factor")
    add("GRUCell: dh through r * (Wnh.T @ dn)", out, wrt, bw(gru_cell_backward, "r * (Wnh.T @ dn)"), "wrong",
        "gate on the wrong side of the product: the claim for h")
    add("GRUCell: dWnh = outer(dn, r * h)", out, wrt, bw(gru_cell_backward, "dWnh = outer(dn, r * h)"), "wrong",
        "gate on the wrong side of the product: the claim for Wnh")
    add("GRUCell: dh without delta * z", out, wrt, bw(gru_cell_backward, "dh without delta * z"), "wrong",
        "fan-out: the claim for h leaves out h's direct path to the new state through the update gate z = "
        "σ(… Wzh @ h …): h' = (1 − z) ⊙ n + z ⊙ h passes d * z straight back to h")
    out, wrt = batchnorm1d_eval()
    add("BatchNorm1d backward, eval", out, wrt, bw(batchnorm1d_eval_backward), "right", options=_RUNNING)
    add("BatchNorm1d eval: the training formula", out, wrt, bw(batchnorm1d_eval_backward, "training formula"),
        "wrong", "training formula in evaluation mode: the claim for Z is the gradient with running_M and "
                 "running_V replaced by the batch's mean and variance of Z", options=_RUNNING)
    loss, y = ctc_loss()
    add("CTCLoss backward", loss, y, bw(ctc_loss_backward), "right", options=_CTC_Y)
    add("CTCLoss: skip connection between repeats", loss, y, bw(ctc_loss_backward, "skip between repeats"),
        "wrong", "CTC skip connection between repeated symbols: the claim is the gradient of −log P with the blank "
                 "between two equal symbols of the target [1, 1, 2] made optional", options=_CTC_Y)
    add("CTCLoss: no skip connections", loss, y, bw(ctc_loss_backward, "no skip connections"), "wrong",
        "CTC without skip connections: the claim is the gradient of −log P with every blank between two "
        "symbols of the target [1, 1, 2] required", options=_CTC_Y)
    add("CTCLoss: beta not divided by y", loss, y, bw(ctc_loss_backward, "beta not divided by y"), "wrong",
        "β not divided by logits: the claim is what γ = α·β / Σ_r α·β gives with β still holding", options=_CTC_Y)
    add("CTCLoss: gamma not normalised", loss, y, bw(ctc_loss_backward, "gamma not normalised"), "wrong",
        "not divided by the probability: the claim is P times the gradient", options=_CTC_Y)
    add("CTCLoss: dY -= gamma", loss, y, bw(ctc_loss_backward, "dY -= gamma"), "wrong",
        "1/logits left out: the claim is logits ⊙ the gradient", options=_CTC_Y)
    return E


BACKWARD_ENTRIES = backward_entries() + cmu_entries()
