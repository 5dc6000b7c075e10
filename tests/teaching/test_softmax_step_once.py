"""Attention's softmax step writes its gradient once, (∂L/∂A − (A ⊙ ∂L/∂A).sum(…)) ⊙ A:
it read "(∂L/∂A − (A ⊙ ∂L/∂A).sum(…)) ⊙ A = A ⊙ (∂L/∂A − (A ⊙ ∂L/∂A).sum(…))", one expression
twice with its factors swapped, as if a step of algebra had happened."""
import sympy as sp

import symgrad as sg


def test_attention_softmax_step_is_one_expression():
    T, D = 3, 2
    X, G = sg.tensor("X", (T, D)), sg.tensor("G", (T, D))
    Wq, Wk, Wv = (sg.tensor(n, (D, D)) for n in ("W_q", "W_k", "W_v"))
    Q, K, V = X @ Wq, X @ Wk, X @ Wv
    S = (Q @ K.T) / sp.sqrt(D)
    A = sg.softmax(S, axis=1)
    names = {sg.tensor(n, e.shape): e for n, e in (("Q", Q), ("K", K), ("V", V), ("S", S), ("A", A))}
    d = sg.derive(sg.sum((A @ V) * G), [Wq, Wk, Wv], names=names, output_name="L")
    (line,) = [li.strip() for li in d.render("unicode").splitlines() if li.strip().startswith("∂L/∂S = ")]
    body = line.split("    [")[0]
    assert body.count(".sum(axis=1, keepdims=True)") == 1, line
    assert body.endswith("= (∂L/∂A − (A ⊙ ∂L/∂A).sum(axis=1, keepdims=True)) ⊙ A"), line
