"""The main demo: derive, print the steps, check a hand derivation, compile and train.

    python3 examples/demo.py [--no-train]

1. The sigmoid neuron of the lecture notes, f = σ(w0·x0 + w1·x1 + w2): its backprop steps with the
   slide's numbers, and the CSE'd straight-line program.
2. A hand-derived gradient of ½‖W·x − y‖² checked: the right one, and a transposed one.
3. An MLP 64-32-10 on scikit-learn's bundled digits, compiled to one NumPy training step (forward,
   softmax cross-entropy, backward, Adam) and trained.
"""
from __future__ import annotations

import argparse

import numpy as np
import sympy as sp

import symgrad as sg


def derive_the_sigmoid_neuron():
    print("=" * 78 + "\n1. Derive: the sigmoid neuron\n" + "=" * 78)
    w0, w1, w2, x0, x1 = sp.symbols("w0 w1 w2 x0 x1")
    f = sg.sigmoid(w0 * x0 + w1 * x1 + w2)
    at = {w0: 2, w1: -3, w2: -3, x0: -1, x1: -2}
    d = sg.derive(f, [w0, w1, w2, x0, x1])
    print(d.render("unicode", at=at))      # also: d.latex(), d.markdown(), d.graph(at=at) (a picture)
    vals = d.values(at)
    print(f"\nat w = (2, -3, -3), x = (-1, -2): f = {vals['f']:.2f}; "
          f"∂f/∂w = ({', '.join(f'{g:.2f}' for g in vals['gradients'][:3])}), "
          f"∂f/∂x = ({', '.join(f'{g:.2f}' for g in vals['gradients'][3:])})")
    print("\nThe straight-line program (σ computed once, shared by every gradient):")
    print(d.program)


def check_a_hand_derivation():
    print("\n" + "=" * 78 + "\n2. Check: is my ∂L/∂W right?\n" + "=" * 78)
    W, x, y = sp.MatrixSymbol("W", 2, 3), sp.MatrixSymbol("x", 3, 1), sp.MatrixSymbol("y", 2, 1)
    L = sg.mse(W * x, y)                                    # ½‖W·x − y‖²
    print("L =", L)
    for claim in [(W * x - y) * x.T, x * (W * x - y).T]:
        print(f"\nclaimed ∂L/∂W = {claim}")
        print(sg.check(L, W, claim))


def train_an_mlp(epochs):
    print("\n" + "=" * 78 + "\n3. Compile and train: MLP 64-32-10 on the 8×8 digits\n" + "=" * 78)
    from sklearn.datasets import load_digits
    from symgrad.compiling.training import accuracy, init_values
    X, labels = load_digits(return_X_y=True)
    X, T = X / 16.0, np.eye(10)[labels]
    rng = np.random.default_rng(0)
    order = rng.permutation(len(X))
    test, train = order[:360], order[360:]
    net = sg.mlp([64, 32, 10], act=sg.relu)
    t = sp.MatrixSymbol("t", 10, 1)
    prog = sg.compile(sg.cross_entropy(net.output, t), params=net.params, inputs=[net.input, t],
                      outputs=[net.output], optimizer=sg.optim.Adam(lr=0.01))
    src = prog.source.splitlines()
    start = next(i for i, ln in enumerate(src) if ln.startswith("def step"))
    print(f"The generated module has {len(src)} lines of NumPy (prog.source, prog.save('step.py')). "
          f"The training step begins:\n")
    print("\n".join("    " + ln for ln in src[start:start + 34]))
    print("    ...\n")
    values = init_values(net.params, seed=0)
    hist = sg.train(prog, {"x": X[train], "t": T[train]}, epochs=epochs, batch_size=32,
                    values=values)         # a progress bar on a terminal
    print(f"loss: first step {hist.loss[0]:.3f}, last step {hist.loss[-1]:.3f}")
    acc = accuracy(t)(prog, hist.values, {"x": X[test], "t": T[test]})
    print(f"test accuracy: {acc:.3f}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-train", action="store_true", help="derive and check only")
    ap.add_argument("--epochs", type=int, default=15)
    args = ap.parse_args(argv)
    derive_the_sigmoid_neuron()
    check_a_hand_derivation()
    if not args.no_train:
        train_an_mlp(args.epochs)


if __name__ == "__main__":
    main()
