"""Train a tiny character-level transformer (GPT-style, pre-norm) on a short repeating text.

    PYTHONPATH=. python examples/train_transformer_chars.py [--epochs 40] [--layers 2]

The model is written the way PyTorch code writes it, over a batch of N sequences of T characters:
token embedding E[ids] plus a learned positional embedding P; per layer a causal multi-head
self-attention (q, k, v of shape (N, T, D) reshaped into heads (N, H, T, Dh), scores
q @ kᵀ / √Dh masked above the diagonal, softmax over the last axis) and a GELU MLP, each behind a
layer norm and added back (residuals); a final layer norm and the logits (N, T, V). The loss is the
next-token cross-entropy over the last axis with (N, T) integer targets. symgrad derives the
gradients and compiles the loss, the backward pass and Adam into one NumPy step; `sg.train` runs
it. The last lines printed are the loss before and after training and a sample of greedy text.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import sympy as sp

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)
TEXT = "the quick brown fox jumps over the lazy dog. "


def layer_norm(x, g, b, eps=1e-5):
    mu = x.mean(axis=-1, keepdims=True)
    return (x - mu) / sp.sqrt(x.var(axis=-1, keepdims=True) + eps) * g + b


def gpt(V, T=8, D=16, H=2, layers=2):
    """(loss, logits, params, inputs) of the model over a batch of N sequences."""
    ids = sg.tensor("ids", (N, T), integer=True)           # characters 0 … V − 1
    targets = sg.tensor("targets", (N, T), integer=True)   # the next character at each position
    E, P = sg.tensor("E", (V, D)), sg.tensor("P", (T, D))
    params = [E, P]
    causal = sg.tril(sg.ones((T, T)))                      # torch.tril(torch.ones(T, T))
    Dh = D // H

    def heads(z):                                          # (N, T, D) → (N, H, T, Dh)
        return z.reshape(N, T, H, Dh).transpose(0, 2, 1, 3)

    x = E[ids] + P                                         # (N, T, D)
    for i in range(layers):
        Wq, Wk, Wv, Wo = (sg.tensor(f"{n}{i}", (D, D)) for n in ("Wq", "Wk", "Wv", "Wo"))
        g1, b1, g2, b2 = (sg.tensor(f"{n}{i}", (D,)) for n in ("ln1_g", "ln1_b", "ln2_g", "ln2_b"))
        W1, c1 = sg.tensor(f"W1_{i}", (D, 4 * D)), sg.tensor(f"c1_{i}", (4 * D,))
        W2, c2 = sg.tensor(f"W2_{i}", (4 * D, D)), sg.tensor(f"c2_{i}", (D,))
        params += [Wq, Wk, Wv, Wo, g1, b1, g2, b2, W1, c1, W2, c2]

        h = layer_norm(x, g1, b1)
        q, k, v = heads(h @ Wq), heads(h @ Wk), heads(h @ Wv)
        scores = q @ k.swapaxes(-2, -1) / sp.sqrt(Dh)      # (N, H, T, T)
        scores = sg.where(causal > 0, scores, float("-inf"))
        att = sg.softmax(scores, axis=-1) @ v              # (N, H, T, Dh)
        x = x + att.transpose(0, 2, 1, 3).reshape(N, T, D) @ Wo
        x = x + sg.gelu(layer_norm(x, g2, b2) @ W1 + c1) @ W2 + c2
    gf, bf, Wout = sg.tensor("lnf_g", (D,)), sg.tensor("lnf_b", (D,)), sg.tensor("Wout", (D, V))
    params += [gf, bf, Wout]
    logits = layer_norm(x, gf, bf) @ Wout                  # (N, T, V)
    return sg.cross_entropy(logits, targets, axis=-1), logits, params, [ids, targets]


def init(params, seed=0):
    """GPT-2's: weights N(0, 0.02²), layer-norm gains 1, biases 0."""
    rng = np.random.default_rng(seed)
    out = {}
    for p in params:
        shape = tuple(int(d) for d in p.shape)
        if p.name.rstrip("0123456789").endswith("_g"):     # ln1_g0, ..., lnf_g: the gains
            out[p.name] = np.ones(shape)
        elif len(shape) == 1:
            out[p.name] = np.zeros(shape)
        else:
            out[p.name] = rng.normal(0, 0.02, shape)
    return out


def windows(text, T):
    """Every window of T characters and its next-character targets."""
    chars = sorted(set(text))
    codes = np.array([chars.index(ch) for ch in text * 3])
    starts = np.arange(len(text))
    ids = np.stack([codes[s:s + T] for s in starts])
    return chars, {"ids": ids, "targets": np.stack([codes[s + 1:s + T + 1] for s in starts])}


def sample(program, values, chars, T, start="the quic", n=40):
    """Greedy continuation of ``start`` (the forward pass over a window of the last T characters)."""
    text = start
    for _ in range(n):
        window = text[-T:]
        ids = np.array([[chars.index(ch) for ch in window]])
        logits = program.forward(values, {"ids": ids, "targets": np.zeros_like(ids)})[0]
        text += chars[int(np.argmax(logits[0, -1]))]
    return text


def run(epochs=40, layers=2, T=8, D=16, H=2, batch_size=16, lr=1e-2, seed=0, progress=None,
        dtype="float32", text=TEXT):
    """Compile and train; returns (loss before, loss after, history, program, values, chars)."""
    chars, data = windows(text, T)
    loss, logits, params, inputs = gpt(len(chars), T, D, H, layers)
    program = sg.compile(loss, params, inputs, outputs=[logits], optimizer=sg.optim.Adam(lr=lr), dtype=dtype)
    values = init(params, seed)
    before = program.loss(values, data)
    history = sg.train(program, data, epochs=epochs, batch_size=batch_size, seed=seed, progress=progress,
                       values=values)
    return before, program.loss(history.values, data), history, program, history.values, chars


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--layers", type=int, default=2)
    args = ap.parse_args()
    t0 = time.perf_counter()
    before, after, history, program, values, chars = run(args.epochs, args.layers)
    print(f"vocabulary {len(chars)}, {history.step} steps in {time.perf_counter() - t0:.1f} s (compile included)")
    print(f"loss before: {before:.3f}  (uniform guess: ln {len(chars)} = {np.log(len(chars)):.3f})")
    print(f"loss after:  {after:.3f}")
    print("sample:", repr(sample(program, values, chars, 8)))


if __name__ == "__main__":
    main()
