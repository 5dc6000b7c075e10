"""symgrad check with --tensor: text claims of N-d tensors (NumPy semantics) on the command line, as
the Python API reads them (X.T @ D, sum(D, axis=0), D.sum(0)); a named size (N) is drawn and may be
read in a claim. Bad declarations exit 2 with a message naming what is wrong."""
import pytest

from cli_check import run

LSQ = "mean(sum((X @ W + b - Y)**2, axis=1))"
DECL = ["--tensor", "X:N,3", "--tensor", "W:3,4", "--tensor", "b:4", "--tensor", "Y:N,4"]


@pytest.mark.parametrize("wrt, claim", [
    ("W", "2 * X.T @ (X @ W + b - Y) / N"),
    ("W", "2 * X.T.dot(X.dot(W) + b - Y) / N"),
    ("b", "2 * (X @ W + b - Y).sum(axis=0) / N"),
    ("b", "2 * mean(X @ W + b - Y, axis=0)"),
])
def test_right_tensor_claims_exit_0(capsys, wrt, claim):
    code, out, err = run(capsys, LSQ, *DECL, "--wrt", wrt, "--claimed", claim)
    assert (code, err) == (0, "") and out.startswith("equal."), out + err


def test_a_sum_for_a_mean_is_wrong_and_named(capsys):
    code, out, _ = run(capsys, LSQ, *DECL, "--wrt", "b", "--claimed", "2 * sum(X @ W + b - Y, axis=0)")
    assert code == 1 and out.startswith("not equal.") and "1/N missing" in out, out


def test_relu_mask_left_out(capsys):
    argv = ["sum(relu(X @ W) * D)", "--tensor", "X:N,3", "--tensor", "W:3,4", "--tensor", "D:N,4", "--wrt", "W"]
    assert run(capsys, *argv, "--claimed", "X.T @ ((X @ W > 0) * D)")[0] == 0
    code, out, _ = run(capsys, *argv, "--claimed", "X.T @ D")
    assert code == 1 and "relu′ left out" in out, out


@pytest.mark.parametrize("argv, words", [
    (["sum(X)", "--tensor", "X:N,3", "--tensor", "N:2"], "N is both a size and a declared name"),
    (["sum(X)", "--tensor", "X:N,3", "--tensor", "X:3"], "X is declared twice"),
    (["sum(X)", "--tensor", "X:N,0"], "each size must be 1 to"),
    (["sum(X)", "--tensor", "X"], "expected NAME:D[,D...]"),
    (["sum(X)", "--tensor", "X:N,3.5"], "the size '3.5' is not an integer or a name"),
    (["sum(X*X)", "--tensor", "X:N,3", "--at", "X=1,2,3"], "X is a tensor, and the command line fixes only"),
    (["x.sum()"], "a tensor needs --tensor x:D[,D...]"),
    (["sum(x, axis=0)"], "a tensor needs --tensor x:D[,D...]"),
])
def test_bad_declarations_exit_2_naming_the_problem(capsys, argv, words):
    wrt = "X" if "X" in argv[0] else "x"
    code, out, err = run(capsys, *argv, "--wrt", wrt, "--claimed", "1")
    assert code == 2 and words in err and "Traceback" not in err, err


def test_softmax_loss_with_labels_and_one_hot(capsys):
    """cs231n's softmax loss: integer labels declared with --labels, the claim written with
    one_hot; leaving one_hot out is wrong."""
    argv = ["mean(cross_entropy(X @ W, y))", "--tensor", "X:N,3", "--tensor", "W:3,4", "--labels", "y:N", "--wrt", "W"]
    code, out, err = run(capsys, *argv, "--claimed", "X.T @ (softmax(X @ W, axis=1) - one_hot(y, 4)) / N")
    assert (code, err) == (0, ""), out + err
    assert run(capsys, *argv, "--claimed", "X.T @ softmax(X @ W, axis=1) / N")[0] == 1


def test_labels_declared_as_a_float_tensor_say_labels(capsys):
    code, _, err = run(capsys, "mean(cross_entropy(X @ W, y))", "--tensor", "X:N,3", "--tensor", "W:3,4",
                       "--tensor", "y:N", "--wrt", "W", "--claimed", "1")
    assert code == 2 and err.rstrip().endswith("on the command line: --labels y:N"), err


def test_counterexample_arrays_point_to_the_seed_not_python_names(capsys):
    # X of (N, 3) and W (3, 4): more than 6 entries, shown by their shapes
    code, out, _ = run(capsys, LSQ, *DECL, "--wrt", "W", "--claimed", "2 * X.T @ (X @ W - Y) / N",
                       "--seed", "4")
    assert code == 1 and "drawn with --seed 4" in out, out
    assert "r.counterexample.point (in Python)" not in out, out


def test_at_chooses_a_tensors_named_size_as_for_a_matrix(capsys):
    # --matrix X:nx3 --at n=3 fixed n; --tensor X:N,3 --at N=2 was "expected NAME=VALUE with NAME one
    # of f's symbols" although sg.check(at={'N': 2}) takes it
    code, out, err = run(capsys, LSQ, *DECL, "--wrt", "W", "--claimed", "2 * X.T @ (X @ W + b - Y) / N",
                         "--at", "N=2")
    assert (code, err) == (0, "") and out.startswith("equal."), out + err
    sum_for_mean = ("--wrt", "b", "--claimed", "2 * sum(X @ W + b - Y, axis=0)")
    code, out, _ = run(capsys, LSQ, *DECL, *sum_for_mean, "--at", "N=2")
    assert code == 1 and "Y = <2×4 array>" in out, out                  # N = 2, as chosen
    # N = 3 is also W's first axis: the hint says the command's flag fixed it, not Python's keywords
    code, out, _ = run(capsys, LSQ, *DECL, *sum_for_mean, "--at", "N=3")
    assert code == 1 and "X = <3×3 array>" in out and "as --at fixed N" in out and "at=" not in out, out
