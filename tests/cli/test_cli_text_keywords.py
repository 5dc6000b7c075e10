"""symgrad check reads torch's keywords of conv2d / conv1d / the pools / cross_entropy / nll_loss in
its text (symgrad/frontend/parse_tensor_calls.py): padding="same", ignore_index=, reduction=. Each
right claim is written without the keyword (padding=1 for a 3×3 kernel's "same"; the ignored labels'
rows masked by hand), so the verdict compares two independent spellings; a claim that forgets what
the keyword does exits 1, a bad value 2 naming what is allowed."""
import pytest

from cli_check import run

CONV = ["--tensor", "X:N,2,5,5", "--tensor", "K:3,2,3,3", "--tensor", "D:N,3,5,5", "--wrt", "D"]
CONV1 = ["--tensor", "X:N,2,7", "--tensor", "K:3,2,3", "--tensor", "D:N,3,7", "--wrt", "D"]
CE = ["--tensor", "S:N,3", "--labels", "y:N", "--wrt", "S"]
# the rows whose label is 0 (the ignored one) are masked out: clip(y, 0, 1) is 0 there, 1 elsewhere
MASK = "clip(y, 0, 1).reshape(N, 1)"
GRAD = "(softmax(S, axis=1) - one_hot(y, 3))"


@pytest.mark.parametrize("f, decl, right, wrong", [
    ("sum(conv2d(X, K, padding='same') * D)", CONV, "conv2d(X, K, padding=1)", "conv2d(X, K)"),
    ('sum(conv2d(X, K, padding="same", dilation=2) * D)', CONV, "conv2d(X, K, padding=2, dilation=2)",
     "conv2d(X, K, padding=1, dilation=2)"),
    ("sum(conv1d(X, K, padding='same') * D)", CONV1, "conv1d(X, K, padding=1)", "2 * conv1d(X, K, padding=1)"),
    ("cross_entropy(S, y, ignore_index=0, reduction='sum')", CE, f"{GRAD} * {MASK}", GRAD),
    ("cross_entropy(S, y, ignore_index=0)", CE, f"{GRAD} * {MASK} / sum(clip(y, 0, 1))", f"{GRAD} * {MASK} / N"),
    ("nll_loss(log_softmax(S, axis=1), y, ignore_index=0, reduction='sum')", CE, f"{GRAD} * {MASK}", GRAD),
    ("sum(cross_entropy(S, y, reduction='none'))", CE, GRAD, f"{GRAD} / N"),
])
def test_a_keyword_of_the_text_means_what_it_means_in_python(capsys, f, decl, right, wrong):
    code, out, err = run(capsys, f, *decl, "--claimed", right)
    assert (code, err) == (0, "") and out.startswith("equal."), out + err
    code, out, err = run(capsys, f, *decl, "--claimed", wrong)
    assert code == 1 and out.startswith("not equal."), out + err


@pytest.mark.parametrize("f, decl, words", [
    ("sum(conv2d(X, K, padding='full') * D)", CONV, "padding= takes one of 'same', 'valid', not"),
    ("sum(conv2d(X, K, padding='same', stride=2) * D)", CONV, "padding='same' needs stride=1"),
    ("cross_entropy(S, y, reduction='avg')", CE, "reduction= takes one of 'mean', 'sum', 'none'"),
    ("cross_entropy(S, y, ignore_index=y)", CE, "ignore_index= takes an integer constant"),
    ("cross_entropy(S, y, reduction=open('x'))", CE, "reduction= takes one of the strings"),
])
def test_bad_values_exit_2_naming_what_is_allowed(capsys, f, decl, words):
    code, _, err = run(capsys, f, *decl, "--claimed", "S" if "S" in f else "D")
    assert code == 2 and words in err and "Traceback" not in err, err
