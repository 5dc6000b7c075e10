"""Train a LeNet-style CNN on scikit-learn's bundled 8×8 digits, compiled to one NumPy training step.

    PYTHONPATH=. python examples/train_cnn_digits.py [--out out/cnn_digits.png] [--epochs 25]

    conv 3×3 (1 → 16, padding 1) → relu → max pool 2 → conv 3×3 (16 → 32, padding 1) → relu
    → max pool 2 → dense (128 → 10) → softmax cross-entropy with the integer labels

The network is declared over the batch, as PyTorch code writes it (x of shape (N, 1, 8, 8) with a
symbolic N); symgrad derives the gradients — convolutions again: ∂L/∂w the correlation of the input
with δ, ∂L/∂x the full convolution of δ with the flipped kernel, max pooling's δ routed to each
window's arg-max — and compiles forward, backward and the Adam update into one NumPy function
(sliding-window views and tensordot, no loop over positions). The last line printed is
``test accuracy: <value>``; the loss curve goes to ``--out``.
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np
import sympy as sp

import symgrad as sg
from symgrad.compiling.training import mean_loss, predict

N = sp.Symbol("N", integer=True, positive=True)


def digits(seed):
    """The 1797 digits as (N, 1, 8, 8) images in [0, 1] with integer labels; 80/20 split (train,
    test), stratified. The curves are the training set's: the test set is looked at once, at the end."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).reshape(-1, 1, 8, 8)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, stratify=y, random_state=seed)
    return {"x": X_tr, "y": y_tr}, {"x": X_te, "y": y_te}


def lenet(c1=16, c2=32):
    """The network as tensor expressions: (logits, loss, parameters, inputs)."""
    x, y = sg.tensor("x", (N, 1, 8, 8)), sg.tensor("y", (N,), integer=True)
    w1, b1 = sg.tensor("w1", (c1, 1, 3, 3)), sg.tensor("b1", (c1,))
    w2, b2 = sg.tensor("w2", (c2, c1, 3, 3)), sg.tensor("b2", (c2,))
    W3, b3 = sg.tensor("W3", (c2 * 4, 10)), sg.tensor("b3", (10,))
    h1 = sg.max_pool2d(sg.relu(sg.conv2d(x, w1, b1, padding=1)), 2)          # (N, c1, 4, 4)
    h2 = sg.max_pool2d(sg.relu(sg.conv2d(h1, w2, b2, padding=1)), 2)         # (N, c2, 2, 2)
    logits = h2.reshape(N, -1) @ W3 + b3                                     # (N, 10)
    return logits, sg.cross_entropy(logits, y), [w1, b1, w2, b2, W3, b3], [x, y]


def init(params, seed):
    """He-uniform weights (fan-in = C·HH·WW for a kernel, rows for a dense matrix), zero biases."""
    rng = np.random.default_rng(seed)
    out = {}
    for p in params:
        shape = tuple(int(d) for d in p.shape)
        if len(shape) == 1:
            out[p.name] = np.zeros(shape)
            continue
        fan_in = int(np.prod(shape[1:])) if len(shape) == 4 else shape[0]
        bound = np.sqrt(6.0 / fan_in)
        out[p.name] = rng.uniform(-bound, bound, size=shape)
    return out


def accuracy(program, values, data):
    """The fraction of images whose largest logit is the label."""
    logits = predict(program, values, data)
    return float(np.mean(np.argmax(logits, axis=1) == data["y"]))


def plot(history, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    steps_per_epoch = len(history.loss) / len(history.epochs)
    ax1.plot(np.arange(1, len(history.loss) + 1) / steps_per_epoch, history.loss, lw=0.5, alpha=0.5,
             label="minibatch")
    epochs = history.metric("epoch")
    ax1.plot(epochs, history.metric("train_loss"), "o-", ms=3, label="training set (epoch end)")
    ax1.set(xlabel="epoch", ylabel="cross-entropy", yscale="log", title="loss")
    ax1.legend()
    acc = history.metric("train_accuracy")
    ax2.plot(epochs, acc, "o-", ms=3, label="training set")
    ax2.set(xlabel="epoch", ylabel="accuracy", title="accuracy", ylim=(max(0.0, min(acc) - 0.02), 1.0))
    ax2.legend()
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="out/cnn_digits.png", help="where to write the curves (PNG)")
    ap.add_argument("--epochs", type=int, default=25)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)

    train, test = digits(args.seed)
    logits, loss, params, inputs = lenet()
    started = time.perf_counter()
    program = sg.compile(loss, params=params, inputs=inputs, outputs=[logits], target="numpy",
                         optimizer=sg.optim.Adam(lr=args.lr), dtype="float64")
    compiled = time.perf_counter()
    history = sg.train(program, train, epochs=args.epochs, batch_size=args.batch_size, seed=args.seed,
                       progress=False if args.no_progress else None,
                       metrics={"loss": mean_loss, "accuracy": accuracy},
                       values=init(params, args.seed))
    trained = time.perf_counter()
    if args.out:
        plot(history, args.out)
        print(f"curves: {args.out}")
    print(f"compile {compiled - started:.1f} s, train {trained - compiled:.1f} s "
          f"({len(history.loss)} steps)")
    acc = accuracy(program, history.values, test)
    print(f"test accuracy: {acc:.4f}")
    return acc


if __name__ == "__main__":
    main()
