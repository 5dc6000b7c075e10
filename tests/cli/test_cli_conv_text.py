"""symgrad check with --tensor reads conv2d and the pools in its text (symgrad/frontend/parse.py):
a right claim of a convolution's kernel gradient exits 0, a wrong one 1 with the factor named, a
hostile kernel size 2 with the limit named (read from the syntax tree, never evaluated)."""
import pytest

from cli_check import run

DECL = ["--tensor", "X:N,1,2,2", "--tensor", "K:1,1,2,2", "--wrt", "K"]


def test_a_kernel_gradient_claim_is_checked(capsys):
    # one output pixel per example: ∂/∂K Σ conv2d(X, K) is the sum of the examples' inputs
    code, out, err = run(capsys, "sum(conv2d(X, K))", *DECL, "--claimed", "X.sum(axis=0, keepdims=True)")
    assert (code, err) == (0, "") and out.startswith("equal."), out + err
    code, out, _ = run(capsys, "sum(conv2d(X, K))", *DECL, "--claimed", "X.mean(axis=0, keepdims=True)")
    assert code == 1 and out.startswith("not equal.") and "a mean where there is a sum" in out, out


@pytest.mark.parametrize("f, words", [
    ("sum(max_pool2d(X, 10**9))", "the kernel size takes integer constants"),
    ("sum(conv2d(X, K, stride=-2))", "stride= takes integers 0 ... 1000"),
    ("sum(avg_pool2d(X, 5000))", "integers 0 ... 1000"),
])
def test_hostile_sizes_exit_2_naming_the_limit(capsys, f, words):
    code, _, err = run(capsys, f, "--tensor", "X:N,1,2,2", "--tensor", "K:1,1,2,2", "--wrt", "X", "--claimed", "X")
    assert code == 2 and words in err and "Traceback" not in err, err
