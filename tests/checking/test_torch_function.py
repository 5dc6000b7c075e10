"""`sg.check_backward` of a torch.autograd.Function: Functions written the way people write them
(linear in torch's layout, a sigmoid and a tanh saving their output, a layer norm, a softmax
cross-entropy with integer labels), right and with the usual slips, each verdict compared with
torch.autograd.gradcheck's (an independent oracle: finite differences through the Function's
apply, by torch's engine)."""
from __future__ import annotations

import pytest
import sympy as sp

import symgrad as sg
from symgrad.checking.backward import BackwardError
from symgrad.checking.torch_function import FunctionForwardError, is_torch_function
from symgrad.errors import ArgumentError

from verdicts import N, wrong

torch = pytest.importorskip("torch")
Function = torch.autograd.Function
EPS = 1e-5


def gradcheck_agrees(fn, result, shapes, labels=None, seed=0):
    """torch.autograd.gradcheck of ``fn.apply`` at random float64 inputs of ``shapes`` (the integer
    labels appended) passes exactly when the check's verdict is equal (torch's engine refusing a
    gradient of the wrong shape counts as failing: the Function does not run backward)."""
    g = torch.Generator().manual_seed(seed)
    xs = [torch.randn(*s, generator=g, dtype=torch.float64, requires_grad=True) for s in shapes]
    args = xs + ([labels] if labels is not None else [])
    try:
        passed = torch.autograd.gradcheck(fn.apply, args, raise_exception=False)
    except RuntimeError as e:
        assert "invalid gradient" in str(e), e
        passed = False
    assert passed == bool(result), (passed, str(result))


# ---------------------------------------------------------------------------------------------------
# linear, torch's layout: out = x @ w.T + b, w (out_features, in_features)


def linear(slip=None):
    class MyLinear(Function):
        @staticmethod
        def forward(ctx, x, w, b):
            ctx.save_for_backward(x, w)
            return x @ w.T + b

        @staticmethod
        def backward(ctx, grad_out):
            x, w = ctx.saved_tensors
            grad_x, grad_w, grad_b = grad_out @ w, grad_out.T @ x, grad_out.sum(0)
            if slip == "transpose":
                grad_w = x.T @ grad_out
            if slip == "bias not summed":
                grad_b = grad_out
            if slip == "bias over the wrong axis":
                grad_b = grad_out.sum(1)
            if slip == "sign":
                grad_x = -grad_out @ w
            if slip == "swapped":
                return grad_w, grad_x, grad_b
            if slip == "none":
                return None, grad_w, grad_b
            return grad_x, grad_w, grad_b
    return MyLinear


def _linear():
    x, w, b = sg.tensor("x", (N, 3)), sg.tensor("w", (5, 3)), sg.tensor("b", (5,))
    return x @ w.T + b, [x, w, b]


LINEAR_SHAPES = [(4, 3), (5, 3), (5,)]


def test_a_function_class_is_told_from_a_function():
    assert is_torch_function(linear()) and not is_torch_function(lambda dout, x: dout)
    assert not is_torch_function(Function) and not is_torch_function(linear().apply)


def test_the_right_linear_is_equal_and_gradcheck_agrees():
    out, wrt = _linear()
    r = sg.check_backward(out, wrt, linear())
    assert r.verdict == "equal", str(r)
    assert "MyLinear.apply on float64 tensors (x = x, w = w, b = b)" in r.method
    gradcheck_agrees(linear(), r, LINEAR_SHAPES)


@pytest.mark.parametrize("slip, named, param", [
    ("transpose", "transpose", "w"),
    ("sign", "flipped sign", "x"),
    ("bias over the wrong axis", "summed over the wrong axes", "b"),
    ("swapped", "shape", "x"),
])
def test_linear_slips_are_named_and_gradcheck_agrees(slip, named, param):
    out, wrt = _linear()
    fn = linear(slip)
    r = wrong(sg.check_backward(out, wrt, fn), named)
    assert r.counterexample.param == param
    if slip == "swapped":      # the order is forward's, and the advice says so in torch's words
        assert "it is ∂f/∂w: the gradients come in another order than MyLinear.forward's inputs (x, w, b)" in r.hint
        assert "wrt order" not in r.hint and "dict" not in r.hint
    if slip == "bias over the wrong axis":
        assert "dout summed over axis 1" in r.hint
    gradcheck_agrees(fn, r, LINEAR_SHAPES)


def test_a_bias_gradient_left_per_example_is_summed_as_torch_sums_it():
    """torch's engine sums a gradient of a shape its input broadcasts to (b (5,) from (N, 5)): the
    Function is right as torch uses it — gradcheck passes — and the method says it was summed."""
    out, wrt = _linear()
    r = sg.check_backward(out, wrt, linear("bias not summed"))
    assert r.verdict == "equal", str(r)
    assert "gradient of b has shape (4, 5), which torch's engine sums to b's shape (5,)" in r.method
    gradcheck_agrees(linear("bias not summed"), r, LINEAR_SHAPES)


def test_none_for_a_checked_input_is_named():
    out, wrt = _linear()
    with pytest.raises(BackwardError, match=r"MyLinear.backward returned None at position 0, the gradient "
                                            r"of x, which the check needs \(ctx.needs_input_grad\[0\] is True\)"):
        sg.check_backward(out, wrt, linear("none"))


def test_needs_input_grad_is_true_for_the_checked_inputs_only():
    seen = []

    class Linear(Function):
        @staticmethod
        def forward(ctx, x, w, b):
            ctx.save_for_backward(x, w)
            return x @ w.T + b

        @staticmethod
        def backward(ctx, grad_out):
            seen.append(tuple(ctx.needs_input_grad))
            x, w = ctx.saved_tensors
            grad_x = grad_out @ w if ctx.needs_input_grad[0] else None
            grad_w = grad_out.T @ x if ctx.needs_input_grad[1] else None
            grad_b = grad_out.sum(0) if ctx.needs_input_grad[2] else None
            return grad_x, grad_w, grad_b
    out, (x, w, b) = _linear()
    assert sg.check_backward(out, [w, b], Linear).verdict == "equal"
    assert seen and set(seen) == {(False, True, True)}


# ---------------------------------------------------------------------------------------------------
# activations saving their output


def sigmoid(slip=None):
    class Sigmoid(Function):
        @staticmethod
        def forward(ctx, x):
            y = 1 / (1 + torch.exp(-x))
            ctx.save_for_backward(x, y)
            return y

        @staticmethod
        def backward(ctx, grad_out):
            x, y = ctx.saved_tensors
            s = x if slip == "wrong saved tensor" else y      # σ′ from the input, not the output
            return grad_out * s * (1 - s)
    return Sigmoid


def tanh(slip=None):
    class Tanh(Function):
        @staticmethod
        def forward(ctx, x):
            y = torch.tanh(x)
            ctx.save_for_backward(x, y)
            return y

        @staticmethod
        def backward(ctx, grad_out):
            x, y = ctx.saved_tensors
            t = x if slip == "wrong saved tensor" else y
            return grad_out * (1 - t ** 2)
    return Tanh


@pytest.mark.parametrize("make, declared, named", [
    (sigmoid, sg.sigmoid, "σ'(z) written wrong: the claim is what the chain rule gives with σ'(z) = z(1 − z)"),
    (tanh, sp.tanh, "tanh'(z) written wrong: the claim is what the chain rule gives with tanh'(z) = 1 − z² "
                    "(z, the input, squared where tanh's output belongs)"),
], ids=["sigmoid", "tanh"])
def test_activation_saving_its_output(make, declared, named):
    x = sg.tensor("x", (N, 5))
    out = declared(x)
    r = sg.check_backward(out, [x], make())
    assert r.verdict == "equal", str(r)
    gradcheck_agrees(make(), r, [(4, 5)])
    r = wrong(sg.check_backward(out, [x], make("wrong saved tensor")))
    assert named in r.hint, r.hint
    gradcheck_agrees(make("wrong saved tensor"), r, [(4, 5)])


# ---------------------------------------------------------------------------------------------------
# layer norm: forward(ctx, x, gamma, beta, eps=1e-5) — eps keeps its default


def layer_norm(slip=None):
    class LayerNorm(Function):
        @staticmethod
        def forward(ctx, x, gamma, beta, eps=EPS):
            mu = x.mean(1, keepdim=True)
            var = x.var(1, unbiased=False, keepdim=True)
            rstd = 1 / torch.sqrt(var + eps)
            xhat = (x - mu) * rstd
            ctx.save_for_backward(xhat, gamma, rstd)
            return gamma * xhat + beta

        @staticmethod
        def backward(ctx, grad_out):
            xhat, gamma, rstd = ctx.saved_tensors
            d = x_dim = xhat.shape[1]
            dxhat = grad_out * gamma
            grad_x = rstd / d * (x_dim * dxhat - dxhat.sum(1, keepdim=True)
                                 - xhat * (dxhat * xhat).sum(1, keepdim=True))
            if slip == "gamma over the wrong axis":
                return grad_x, (grad_out * xhat).sum(1), grad_out.sum(0), None
            if slip == "dx without the mean term":
                grad_x = rstd * dxhat
            return grad_x, (grad_out * xhat).sum(0), grad_out.sum(0), None
    return LayerNorm


def _layer_norm():
    x, gamma, beta = sg.tensor("x", (N, 4)), sg.tensor("gamma", (4,)), sg.tensor("beta", (4,))
    mu, var = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)
    return gamma * (x - mu) / sp.sqrt(var + EPS) + beta, [x, gamma, beta]


def test_layer_norm_right_and_slips():
    out, wrt = _layer_norm()
    r = sg.check_backward(out, wrt, layer_norm())
    assert r.verdict == "equal", str(r)
    gradcheck_agrees(layer_norm(), r, [(5, 4), (4,), (4,)])
    r = wrong(sg.check_backward(out, wrt, layer_norm("dx without the mean term")))
    assert r.counterexample.param == "x"
    gradcheck_agrees(layer_norm("dx without the mean term"), r, [(5, 4), (4,), (4,)])
    r = wrong(sg.check_backward(out, wrt, layer_norm("gamma over the wrong axis")), "summed over the wrong axes")
    assert r.counterexample.param == "gamma"


# ---------------------------------------------------------------------------------------------------
# softmax cross-entropy with integer labels: labels take no gradient (None)


def softmax_ce(slip=None):
    class SoftmaxCrossEntropy(Function):
        @staticmethod
        def forward(ctx, logits, labels):
            logp = logits - torch.logsumexp(logits, dim=1, keepdim=True)
            ctx.save_for_backward(logp, labels)
            return -logp[torch.arange(len(labels)), labels].mean()

        @staticmethod
        def backward(ctx, grad_loss):
            logp, labels = ctx.saved_tensors
            grad = torch.exp(logp)
            grad[torch.arange(len(labels)), labels] -= 1
            if slip != "no 1/N":
                grad = grad / len(labels)
            if slip == "sign":
                grad = -grad
            return grad * grad_loss, None
    return SoftmaxCrossEntropy


def test_softmax_cross_entropy_with_integer_labels():
    z, y = sg.tensor("z", (N, 3)), sg.tensor("y", (N,), integer=True)
    loss = sg.cross_entropy(z, y)
    labels = torch.tensor([0, 2, 1, 2])
    r = sg.check_backward(loss, [z], softmax_ce())
    assert r.verdict == "equal", str(r)
    gradcheck_agrees(softmax_ce(), r, [(4, 3)], labels)
    r = wrong(sg.check_backward(loss, [z], softmax_ce("no 1/N")), "constant factor")
    gradcheck_agrees(softmax_ce("no 1/N"), r, [(4, 3)], labels)
    wrong(sg.check_backward(loss, [z], softmax_ce("sign")), "flipped sign")


# ---------------------------------------------------------------------------------------------------
# the forward, the parameters, float32


def test_a_wrong_forward_is_its_own_error():
    class Linear(Function):
        @staticmethod
        def forward(ctx, x, w, b):
            ctx.save_for_backward(x, w)
            return x @ w.T - b                 # the forward's own slip

        @staticmethod
        def backward(ctx, grad_out):
            x, w = ctx.saved_tensors
            return grad_out @ w, grad_out.T @ x, -grad_out.sum(0)   # right for that forward
    out, wrt = _linear()
    with pytest.raises(FunctionForwardError, match=r"Linear.forward is not out: .* A wrong forward is not "
                                                   r"a wrong backward"):
        sg.check_backward(out, wrt, Linear)


def test_parameters_map_by_position_and_a_constant_by_its_default_or_constants():
    class Scaled(Function):
        @staticmethod
        def forward(ctx, input, weight, scale, shift=0.0):
            ctx.save_for_backward(input, weight)
            ctx.scale = scale
            return scale * (input @ weight) + shift

        @staticmethod
        def backward(ctx, grad_out):
            input, weight = ctx.saved_tensors
            return ctx.scale * grad_out @ weight.T, ctx.scale * input.T @ grad_out, None, None
    x, w = sg.tensor("x", (N, 3)), sg.tensor("w", (3, 2))
    r = sg.check_backward(2 * (x @ w), [x, w], Scaled, constants={"scale": 2})
    assert r.verdict == "equal", str(r)
    assert "input = x (by position), weight = w (by position), scale = 2 (constants=)" in r.method
    with pytest.raises(ArgumentError, match=r"parameter 'scale' takes none of out's symbols .* "
                                            r"constants=\{'scale': \.\.\.\}"):
        sg.check_backward(2 * (x @ w), [x, w], Scaled)
    with pytest.raises(ArgumentError, match="constants= gives a torch.autograd.Function"):
        sg.check_backward(x @ w, [x, w], lambda dout, x, w: (dout @ w.T, x.T @ dout), constants={"s": 1})


def test_a_gradient_for_a_constant_is_refused():
    class Scaled(Function):
        @staticmethod
        def forward(ctx, x, scale):
            ctx.scale = scale
            return scale * x

        @staticmethod
        def backward(ctx, grad_out):
            return ctx.scale * grad_out, grad_out.sum()
    x = sg.tensor("x", (N, 3))
    with pytest.raises(BackwardError, match=r"gradient at position 1, for the constant scale = 3"):
        sg.check_backward(3 * x, [x], Scaled, constants={"scale": 3})


def _scale(c_grad):
    class Scale(Function):
        @staticmethod
        def forward(ctx, x, c):
            ctx.c = c
            ctx.save_for_backward(x)
            return x * c

        @staticmethod
        def backward(ctx, grad_out):
            (x,) = ctx.saved_tensors
            return grad_out * ctx.c, ((grad_out * x).sum() if c_grad else None)
    return Scale


def test_a_gradient_for_a_scalar_not_in_wrt_is_refused_as_torchs_engine_refuses_it():
    x, c = sg.tensor("x", (3,)), sp.Symbol("c")
    X = torch.randn(3, dtype=torch.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="not a Variable"):       # torch, called as the check calls it
        _scale(True).apply(X, 0.5).sum().backward()
    with pytest.raises(BackwardError, match=r"gradient at position 1, for c, a scalar not in wrt.*Python "
                                            r"float.*put c in wrt"):
        sg.check_backward(x * c, [x], _scale(True))
    r = sg.check_backward(x * c, [x], _scale(False))        # None there: what torch takes
    assert r.verdict == "equal" and "c (scalar not in wrt) as Python float" in r.method
    _scale(False).apply(X, 0.5).sum().backward()
    r = sg.check_backward(x * c, [x, c], _scale(True))      # in wrt: a tensor, its gradient checked
    assert r.verdict == "equal" and "Python float" not in r.method


def test_a_float32_function_is_told_the_check_runs_in_float64():
    class Float32Tanh(Function):
        @staticmethod
        def forward(ctx, x):
            y = torch.tanh(x.float())
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad_out):
            y, = ctx.saved_tensors
            return grad_out * (1 - y ** 2)
    x = sg.tensor("x", (N, 3))
    with pytest.raises(BackwardError, match=r"Float32Tanh.forward returned float32 for float64 inputs .*"
                                            r"the check runs in float64, because it decides 'equal' at a "
                                            r"relative error of 1e-6"):
        sg.check_backward(sp.tanh(x), [x], Float32Tanh)


def test_a_literal_batch_size_in_backward_is_quoted_from_its_source():
    class Mean(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.shape = x.shape
            return x.mean(0)

        @staticmethod
        def backward(ctx, grad_out):
            return grad_out.expand(ctx.shape) / 4
    x = sg.tensor("x", (N, 3))
    r = wrong(sg.check_backward(x.mean(axis=0), [x], Mean))
    assert "a literal 4 where the size N belongs" in r.hint, r.hint
    assert "return grad_out.expand(ctx.shape) / 4" in r.hint, r.hint        # the Function's backward quoted


def test_torch_2s_setup_context_style_is_read_the_same_way():
    class Linear(Function):
        @staticmethod
        def forward(x, w, b):
            return x @ w.T + b

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, w, b = inputs
            ctx.save_for_backward(x, w)

        @staticmethod
        def backward(ctx, grad_out):
            x, w = ctx.saved_tensors
            return grad_out @ w, grad_out.T @ x, grad_out.sum(0)
    out, wrt = _linear()
    r = sg.check_backward(out, wrt, Linear)
    assert r.verdict == "equal", str(r)
    gradcheck_agrees(Linear, r, LINEAR_SHAPES)


def test_two_outputs_take_one_grad_output_each():
    """forward returns (x * w, x + w): backward(ctx, g1, g2), out declared as the tuple."""
    def make(slip=None):
        class Both(Function):
            @staticmethod
            def forward(ctx, x, w):
                ctx.save_for_backward(x, w)
                return x * w, x + w

            @staticmethod
            def backward(ctx, g1, g2):
                x, w = ctx.saved_tensors
                gx = g1 * w + (0 if slip == "second output left out" else g2)
                return gx, (g1 * x + g2).sum(0)
        return Both
    x, w = sg.tensor("x", (N, 3)), sg.tensor("w", (3,))
    assert sg.check_backward((x * w, x + w), [x, w], make()).verdict == "equal"
    r = wrong(sg.check_backward((x * w, x + w), [x, w], make("second output left out")))
    assert r.counterexample.param == "x"
    gradcheck_agrees(make("second output left out"), r, [(4, 3), (3,)])


def test_a_forward_that_fails_in_float64_is_told_why_float64():
    class Float32Weights(Function):
        @staticmethod
        def forward(ctx, x):
            w = torch.ones(3, 2)                # float32, whatever x is
            ctx.save_for_backward(w)
            return x @ w

        @staticmethod
        def backward(ctx, grad_out):
            w, = ctx.saved_tensors
            return grad_out @ w.T
    x = sg.tensor("x", (N, 3))
    with pytest.raises(BackwardError, match=r"Float32Weights.forward raised RuntimeError: .*dtype.* The "
                                            r"check calls it with float64 tensors: the check runs in float64"):
        sg.check_backward(x[:, :2], [x], Float32Weights)     # it raises before out is compared


def test_apply_handed_over_and_a_dropout_are_refused_clearly():
    out, wrt = _linear()
    with pytest.raises(ArgumentError, match=r"backward is MyLinear.apply; pass the Function class itself"):
        sg.check_backward(out, wrt, linear().apply)
    x = sg.tensor("x", (N, 3))
    with pytest.raises(ArgumentError, match="draws its own mask"):
        sg.check_backward(sg.dropout(x, 0.5), [x], sigmoid())
