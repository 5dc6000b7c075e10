"""Self-attention, one head: Q = X W_q, K = X W_k, V = X W_v, S = Q Kᵀ/√d, A = softmax(S, axis=1),
Y = A V, and a loss L = Σ Y ⊙ G (G stands for the gradient the layers above send down). The steps
read as the lecture writes them: ∂L/∂V = Aᵀ ∂L/∂Y, ∂L/∂A = ∂L/∂Y Vᵀ, the softmax's
Jacobian-vector form (∂L/∂A − Σ(A ⊙ ∂L/∂A)) ⊙ A, ∂L/∂Q = ∂L/∂S K/√d and ∂L/∂K = ∂L/∂Sᵀ Q/√d;
each forward line ends in its shape (shapes=True).

    PYTHONPATH=. python examples/teaching/attention.py
"""
import sys

import numpy as np
import sympy as sp

import symgrad as sg

try:
    from _common import arguments, publish
except ImportError:  # imported as a module of the package examples.teaching
    from ._common import arguments, publish

T, D, DK = 3, 4, 2                    # 3 tokens, 4 features, a head of width d = 2
X = sg.tensor("X", (T, D))
W_q, W_k, W_v = sg.tensor("W_q", (D, DK)), sg.tensor("W_k", (D, DK)), sg.tensor("W_v", (D, DK))
G = sg.tensor("G", (T, DK))
rng = np.random.default_rng(0)
AT = {s: rng.normal(size=s.shape).round(2) for s in [X, W_q, W_k, W_v, G]}


def build():
    Q, K, V = X @ W_q, X @ W_k, X @ W_v
    S = Q @ K.T / sp.sqrt(DK)
    A = sg.softmax(S, axis=1)
    Y = A @ V
    names = {sg.tensor(n, e.shape): e for n, e in
             [("Q", Q), ("K", K), ("V", V), ("S", S), ("A", A), ("Y", Y)]}
    # shapes=True: each forward line ends in its shape, S = (Q @ K.T)/√2    (3×3)
    return sg.derive(sg.sum(Y * G), [W_q, W_k, W_v], names=names, output_name="L", shapes=True)


def main(argv=None):
    args = arguments(argv, __doc__)
    d = build()
    publish("attention", d, args)
    print("At a point:" + d.render(args.format, at=AT, number_format=".3g").split("Gradient:")[-1])


if __name__ == "__main__":
    main(sys.argv[1:])
