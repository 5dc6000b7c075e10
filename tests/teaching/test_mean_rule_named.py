"""A loss's mean over a batch of N, u/N with N a symbol, is named in the steps' rule note as the
division by the batch size it is (a mean), not "product rule" (SymPy holds u/N as u·(1/N), and N is
a symbol, not a number); u/2 and a scalar's a²/n keep their rules."""
import sympy as sp

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)
x, w = sg.tensor("x", (N, 3)), sg.tensor("w", (3, 1))


def _backward_lines(f, wrt):
    text = sg.derive(f, wrt).render("unicode")
    return text.split("Backward pass", 1)[1].split("Gradient:", 1)[0].splitlines()[1:]


def _rule_of_first_step(f, wrt):
    """The rule note of the first step after the seed: ∂f/∂u of the value f divides."""
    line = _backward_lines(f, wrt)[1]
    return line.rsplit("[", 1)[1]


def test_a_regressions_mean_squared_error_divides_by_the_batch_size():
    y = sg.tensor("y", (N,))
    f = sg.sum(((x @ w).reshape(N) - y) ** 2) / N
    rule = _rule_of_first_step(f, [w])
    assert rule.startswith("division by the batch size N (a mean)"), rule
    assert not any("product rule" in li for li in _backward_lines(f, [w]))


def test_a_cross_entropy_divides_by_the_batch_size():
    # sg.cross_entropy is one step (symgrad.teaching.cross_entropy_steps): its rule says the mean
    y = sg.tensor("y", (N,), integer=True)
    f = sg.cross_entropy(x @ sg.tensor("v", (3, 4)), y)
    rule = _rule_of_first_step(f, [x])
    assert rule.startswith("softmax cross-entropy") and "divided by N for the mean" in rule, rule
    assert not any("product rule" in li for li in _backward_lines(f, [x]))


def test_a_negated_mean_says_so():
    y = sg.tensor("y", (N,), integer=True)
    f = -sg.sum(sg.log_softmax(x @ sg.tensor("v", (3, 4)), axis=1) * sg.one_hot(y, 4)) / N
    rule = _rule_of_first_step(f, [x])
    assert rule.startswith("division by the batch size N (a mean), and a minus sign"), rule


def test_a_mean_of_every_entry_divides_by_their_count():
    rule = _rule_of_first_step((x ** 2).mean(), [x])
    assert rule.startswith("division by the number of entries 3·N (a mean)"), rule


def test_other_factors_keep_their_rules():
    assert _rule_of_first_step(sg.sum(x ** 2) / 2, [x]).startswith("constant multiple rule")
    a, n = sp.Symbol("a"), sp.Symbol("n", integer=True, positive=True)
    # a scalar n is no batch size: a²/n is a product of two values
    assert _rule_of_first_step(a ** 2 / n, [a]).startswith("product rule")
    s = sp.Symbol("s")
    assert _rule_of_first_step(sg.sum(x ** 2) * s, [x, s]).startswith("product rule")


def test_a_feature_size_is_not_called_the_batch_size():
    """Any u/D with D in some shape read "division by the batch size D (a mean)", also for
    sum(x**2)/D of an (N, D) x: D is the feature size, and the sum has N·D entries, not D."""
    D = sp.Symbol("D", integer=True, positive=True)
    xd = sg.tensor("x", (N, D))
    rule = _rule_of_first_step(sg.sum(xd ** 2) / D, [xd])
    assert rule.startswith("division by the size D"), rule
    assert "batch" not in rule and "mean" not in rule, rule
