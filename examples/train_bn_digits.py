"""Train an MLP with batch norm, declared over the batch, on scikit-learn's bundled 8×8 digits.

    PYTHONPATH=. python examples/train_bn_digits.py [--epochs 20] [--hidden 128 64]

The network is written the way cs231n and PyTorch write it, over a batch of N examples:
x (N, 64) → z = x @ W + b → batch norm with the batch's own statistics, ẑ = (z − mean_N z) /
√(var_N z + ε), γ ⊙ ẑ + β → relu → ... → logits (N, 10), and the loss is the mean over N of the
cross-entropy with integer labels y (N,). N is a symbol (any batch size); symgrad derives the
gradients through the batch statistics and compiles loss, backward pass and Adam into one NumPy
step. The last line printed is ``test accuracy: <value>``.

Batch norm here always normalises with the statistics of the batch it is given (no running
averages), so predictions are made on large batches (the whole test set at once).
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import sympy as sp

import symgrad as sg
from symgrad.compiling.training import accuracy, mean_loss

N = sp.Symbol("N", integer=True, positive=True)


def bn_mlp(sizes, eps=1e-5):
    """The network over the batch: (loss, logits, params, inputs) for layer sizes [64, ..., 10];
    every hidden layer is affine → batch norm → relu."""
    x = sg.tensor("x", (N, sizes[0]))
    y = sg.tensor("y", (N,), integer=True)               # class labels 0 … 9
    h, params = x, []
    for i, (m, n) in enumerate(zip(sizes[:-1], sizes[1:]), 1):
        W, b = sg.tensor(f"W{i}", (m, n)), sg.tensor(f"b{i}", (n,))
        params += [W, b]
        z = h @ W + b
        if i == len(sizes) - 1:
            h = z                                        # the logits
            break
        gamma, beta = sg.tensor(f"gamma{i}", (n,)), sg.tensor(f"beta{i}", (n,))
        params += [gamma, beta]
        zhat = (z - sg.mean(z, axis=0)) / sp.sqrt(sg.var(z, axis=0) + eps)   # the batch's statistics
        h = sg.relu(gamma * zhat + beta)
    return sg.cross_entropy(h, y), h, params, [x, y]


def init(params, seed=0):
    """W uniform in ±1/√fan_in (as torch.nn.Linear), biases and β zero, γ one."""
    rng = np.random.default_rng(seed)
    out = {}
    for p in params:
        shape = tuple(p.shape)
        if p.name.startswith("W"):
            out[p.name] = rng.uniform(-1, 1, shape) / np.sqrt(shape[0])
        else:
            out[p.name] = np.ones(shape) if p.name.startswith("gamma") else np.zeros(shape)
    return out


def digits(seed=0):
    """The 1797 digits, pixels scaled to [0, 1], integer labels, split 60/20/20 (stratified)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    X, y = load_digits(return_X_y=True)
    X, y = X / 16.0, y.astype(float)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, stratify=y, random_state=seed)
    X_tr, X_va, y_tr, y_va = train_test_split(X_tr, y_tr, test_size=0.25, stratify=y_tr, random_state=seed)
    return {"x": X_tr, "y": y_tr}, {"x": X_va, "y": y_va}, {"x": X_te, "y": y_te}


def run(epochs=20, hidden=(128, 64), batch_size=64, lr=3e-3, seed=0, progress=None, dtype="float32"):
    """Compile and train; returns (test accuracy, history, program)."""
    train, val, test = digits(seed)
    loss, logits, params, inputs = bn_mlp([64, *hidden, 10])
    program = sg.compile(loss, params, inputs, outputs=[logits], optimizer=sg.optim.Adam(lr=lr), dtype=dtype)
    history = sg.train(program, train, epochs=epochs, batch_size=batch_size, seed=seed, validation=val,
                       progress=progress, metrics={"loss": mean_loss, "accuracy": accuracy("y")},
                       values=init(params, seed))
    return accuracy("y")(program, history.values, test), history, program


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--hidden", type=int, nargs="+", default=[128, 64])
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)
    started = time.perf_counter()
    acc, history, _ = run(args.epochs, tuple(args.hidden), args.batch_size, args.lr, args.seed,
                          progress=False if args.no_progress else None)
    print(f"compile and train {time.perf_counter() - started:.1f} s ({history.step} steps); "
          f"validation accuracy {history.metric('val_accuracy')[-1]:.4f}")
    print(f"test accuracy: {acc:.4f}")


if __name__ == "__main__":
    main()
