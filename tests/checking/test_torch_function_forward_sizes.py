"""A torch Function whose forward writes a literal batch size (``x.reshape(4, -1)`` where N
belongs) computes out at the check's first N = 4 and not at the second N = 5: `sg.check_backward`
raises the forward's own error, `FunctionForwardError`, naming both sizes and quoting the forward's
line that writes the 4 — not a "not equal" verdict on the backward, which is right."""
from __future__ import annotations

import pytest
import sympy as sp

import symgrad as sg
from symgrad.checking.torch_function import FunctionForwardError

torch = pytest.importorskip("torch")

N = sp.Symbol("N", integer=True, positive=True)
x = sg.tensor("x", (N, 2, 2))
OUT = x.reshape(N, 4).sum(axis=1)


def row_sums(reshape):
    class RowSums(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return reshape(x).sum(1)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g[:, None, None].expand(x.shape).clone()
    return RowSums


class LiteralRowSums(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.reshape(4, -1).sum(1)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g[:, None, None].expand(x.shape).clone()


def test_the_right_function_is_equal_at_both_sizes():
    # the same backward with a forward that reads the size off its input: the oracle that the
    # backward is right, so the error below is the forward's alone
    right = row_sums(lambda x: x.reshape(x.shape[0], -1))
    assert sg.check_backward(OUT, [x], right)
    xs = torch.randn(6, 2, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(right.apply, (xs,))


def test_a_literal_size_in_the_forward_is_the_forwards_error_at_the_second_size():
    with pytest.raises(FunctionForwardError) as e:
        sg.check_backward(OUT, [x], LiteralRowSums)
    text = str(e.value)
    assert "LiteralRowSums.forward computes out at N = 4 and not at N = 5" in text, text
    assert "a literal 4 where the size N belongs" in text, text
    assert "'return x.reshape(4, -1).sum(1)'" in text, text
    assert "has shape (4,), and out (5,)" in text, text


class RaisingRowSums(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.reshape(4, 3).sum(1)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g[:, None].expand(x.shape).clone()


def test_a_forward_that_raises_at_the_second_size_is_the_forwards_error():
    # (N, 3): the check's first N is 4, where reshape(4, 3) is x; at N = 5 torch raises
    y = sg.tensor("y", (N, 3))
    with pytest.raises(sg.BackwardError) as e:
        sg.check_backward(y.sum(axis=1), [y], RaisingRowSums)
    text = str(e.value)
    assert "RaisingRowSums.forward computes out at N = 4 and not at N = 5" in text, text
    assert "'return x.reshape(4, 3).sum(1)'" in text and "raised RuntimeError" in text, text


class FlatRowSums(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.reshape(4, -1).sum(1)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g[:, None].expand(x.shape).clone()


def test_a_forward_wrong_at_the_first_size_is_tried_at_the_literal():
    # (N, 4): the check's first N is 5 (4 is a fixed size); the forward's 4 is tried as N and works
    z = sg.tensor("x", (N, 4))
    with pytest.raises(FunctionForwardError) as e:
        sg.check_backward(z.sum(axis=1), [z], FlatRowSums)
    text = str(e.value)
    assert "computes out at N = 4 and not at N = 5 (the check's first size)" in text, text
    assert "'return x.reshape(4, -1).sum(1)'" in text and "has shape (4,), and out (5,)" in text, text


ROWS = 5          # a module constant: the forward's line that raises writes no number


class ConstantRowSums(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.reshape(ROWS, -1).sum(1)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g[:, None, None].expand(5, 2, 2).clone()      # the backward writes a 5


def test_a_forward_that_raises_at_the_first_size_is_the_forwards_error_not_the_backwards_literal():
    """The forward raises at N = 4; at N = 5, a number the *backward* writes, everything runs. That is
    the forward's failure, not a "not equal" quoting the backward's line as the literal."""
    with pytest.raises(sg.BackwardError, match=r"^ConstantRowSums\.forward raised RuntimeError") as e:
        sg.check_backward(OUT, x, ConstantRowSums)
    assert "backward, line" not in str(e.value)


def test_a_forward_that_raises_at_a_fixed_size_names_its_own_literal_line():
    r = row_sums(lambda x: x.reshape(4, 4))
    with pytest.raises(sg.BackwardError, match=r"RowSums\.forward raised .*It runs at N = 4: a literal 4 "
                                               r"where the size N belongs \(.*line \d+: 'r = row_sums\(lambda x: x\.reshape\(4, 4\)\)'"):
        sg.check_backward(OUT, x, r, dims={N: 6})
