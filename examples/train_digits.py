"""Train an MLP 64-64-10 (relu, softmax cross-entropy, Adam) on scikit-learn's bundled 8×8 digits.

    PYTHONPATH=. python examples/train_digits.py [--out out/digits.png] [--epochs 30]

The network is declared for one example, in the notes' notation (z = W·y + b, y = relu(z)); symgrad
derives the gradients and compiles loss, backward pass and Adam update into one NumPy step. The
last line printed is ``test accuracy: <value>``; the loss and accuracy curves go to ``--out``.
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np
import sympy as sp

import symgrad as sg
from symgrad.compiling.training import accuracy, init_values, mean_loss


def digits(seed):
    """The 1797 digits, pixels scaled to [0, 1], one-hot targets, split 60/20/20 (stratified)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    X, y = load_digits(return_X_y=True)
    X, T = X / 16.0, np.eye(10)[y]
    X_tr, X_te, T_tr, T_te, y_tr, _ = train_test_split(X, T, y, test_size=0.2, stratify=y,
                                                       random_state=seed)
    X_tr, X_va, T_tr, T_va = train_test_split(X_tr, T_tr, test_size=0.25, stratify=y_tr,
                                              random_state=seed)
    return ({"x": X_tr, "t": T_tr}, {"x": X_va, "t": T_va}, {"x": X_te, "t": T_te})


def plot(history, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    steps_per_epoch = len(history.loss) / len(history.epochs)
    ax1.plot(np.arange(1, len(history.loss) + 1) / steps_per_epoch, history.loss, lw=0.5,
             alpha=0.5, label="minibatch")
    epochs = history.metric("epoch")
    ax1.plot(epochs, history.metric("loss"), "o-", ms=3, label="train (epoch mean)")
    ax1.plot(epochs, history.metric("val_loss"), "o-", ms=3, label="validation")
    ax1.set(xlabel="epoch", ylabel="cross-entropy", yscale="log", title="loss")
    ax1.legend()
    acc = history.metric("val_accuracy")
    ax2.plot(epochs, acc, "o-", ms=3, label="validation")
    ax2.set(xlabel="epoch", ylabel="accuracy", title="accuracy", ylim=(max(0.0, min(acc) - 0.02), 1.0))
    ax2.legend()
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=120)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="out/digits.png", help="where to write the curves (PNG)")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)

    train, val, test = digits(args.seed)
    # the network, for one example: x (64, 1) -> relu(W1·x + b1) (64, 1) -> W2·y + b2 (10, 1)
    net = sg.mlp([64, 64, 10], act=sg.relu)
    t = sp.MatrixSymbol("t", 10, 1)                      # the one-hot target
    loss = sg.cross_entropy(net.output, t)               # −Σ t·log softmax(z), via log-sum-exp
    started = time.perf_counter()
    program = sg.compile(loss, params=net.params, inputs=[net.input, t], outputs=[net.output],
                         target="numpy", optimizer=sg.optim.Adam(lr=args.lr))
    compiled = time.perf_counter()
    history = sg.train(program, train, epochs=args.epochs, batch_size=args.batch_size,
                       seed=args.seed, validation=val, progress=False if args.no_progress else None,
                       metrics={"loss": mean_loss, "accuracy": accuracy(t)},
                       values=init_values(net.params, args.seed))
    trained = time.perf_counter()
    plot(history, args.out)
    test_acc = accuracy(t)(program, history.values, test)
    print(f"compile {compiled - started:.1f} s, train {trained - compiled:.1f} s "
          f"({history.step} steps); curves in {args.out}")
    print(f"test accuracy: {test_acc:.4f}")


if __name__ == "__main__":
    main()
