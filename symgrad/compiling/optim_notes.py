"""The adaptive optimizers' update rules as the lecture writes them (``opt.view(form="notes")``):
Adam with its bias-corrected moments as named lines,

    m ← β₁·m + (1 − β₁)·g,  v ← β₂·v + (1 − β₂)·g²,  m̂ = m/(1 − β₁ᵗ),  v̂ = v/(1 − β₂ᵗ),
    p ← p − η·m̂/(√v̂ + ε)

where torch folds the corrections into p − η·m/((1 − β₁ᵗ)·(ε + √v/√(1 − β₂ᵗ))); AdaGrad and RMSProp
with ε after the root, √s + ε (SymPy's order puts ε first); RMSProp's centred average and momentum
one line each, in the order they are computed. The same functions as torch's rules, written
differently (tests/teaching/test_optimizer_notes.py checks them against torch.optim).

>>> from symgrad.compiling.optim import Adam
>>> print(Adam().view(form="notes").render("unicode"))
Adam in the notes' form (the moments corrected for their start at 0), for each entry p with gradient g = ∂L/∂p, at step t:
  m ← β₁·m + (1 − β₁)·g
  v ← β₂·v + (1 − β₂)·g²
  m̂ = m/(1 − β₁ᵗ)
  v̂ = v/(1 − β₂ᵗ)
  p ← p − η·m̂/(√v̂ + ε)
"""
from __future__ import annotations

import sympy as sp

from ..teaching.equations import Equations

P, G, T = sp.symbols("p g t", real=True)
WHAT = "for each entry p with gradient g = ∂L/∂p, at step t"


def _plus_eps(root, eps):
    """√x + ε in the notes' order (an unevaluated sum keeps it; SymPy would write ε + √x)."""
    return sp.Add(root, eps, evaluate=False) if eps != 0 else root


def _over(num, den):
    """num/den kept as written: η·m̂/(√v̂ + ε), not expanded or reordered by SymPy."""
    return sp.Mul(num, sp.Pow(den, -1, evaluate=False), evaluate=False)


def _gradient_line(o):
    """g ← g + λ·p (+ λ₁·sign(p)) when the optimizer adds weight decay / L1 to the gradient."""
    reg = o._regularized(P, G)
    return [(G, reg, "←")] if reg != G else []


def _kinds(o) -> set:
    """The names of ``o``'s classes, its own and its bases' ('AdamW', 'Adam', 'Optimizer'): this
    module is imported by `optim.view`, so it does not import `optim`'s classes back."""
    return {c.__name__ for c in type(o).__mro__}


def _adam(o):
    (b1, b2), lr = o.betas, o._lr(T)
    m, v = sp.symbols("m v", real=True)
    mhat, vhat = sp.symbols("mhat vhat", real=True)
    decoupled = "AdamW" in _kinds(o)
    lines = [] if decoupled else _gradient_line(o)
    lines += [(m, b1 * m + (1 - b1) * G, "←"), (v, b2 * v + (1 - b2) * G ** 2, "←")]
    used = v
    if o.amsgrad:                                  # torch's max_exp_avg_sq: the largest v so far
        used = sp.Symbol("v_max", real=True)
        lines.append((used, sp.Max(used, v), "←"))
    lines += [(mhat, m / (1 - b1 ** T), "="), (vhat, used / (1 - b2 ** T), "=")]
    step = _over(sp.Mul(lr, mhat, evaluate=False), _plus_eps(sp.sqrt(vhat), o.eps))   # η·m̂, not m̂·η
    if decoupled and o.weight_decay:               # AdamW: the decay on p itself, outside the scaling
        new_p = sp.Add(P, -lr * o.weight_decay * P, -step, evaluate=False)
    else:
        new_p = sp.Add(P, -step, evaluate=False)
    lines.append((P, new_p, "←"))
    return "the moments corrected for their start at 0", lines


def _adagrad(o):
    s = sp.Symbol("s", real=True)
    lr, lines = o._lr(T), _gradient_line(o)
    if o.lr_decay:                                 # torch's decayed rate, a line of its own
        lr_t = sp.Symbol("eta_t", positive=True)
        lines.append((lr_t, lr / (1 + (T - 1) * o.lr_decay), "="))
        lr = lr_t
    lines += [(s, s + G ** 2, "←"),
                                 (P, sp.Add(P, -_over(lr * G, _plus_eps(sp.sqrt(s), o.eps)), evaluate=False), "←")]
    return "s: the sum of the squared gradients", lines


def _rmsprop(o):
    a, lr = o.alpha, o._lr(T)
    v, gbar, b = sp.symbols("v gbar b", real=True)
    lines = _gradient_line(o) + [(v, a * v + (1 - a) * G ** 2, "←")]
    if o.centered:
        lines.append((gbar, a * gbar + (1 - a) * G, "←"))
    root = sp.sqrt(v - gbar ** 2) if o.centered else sp.sqrt(v)
    scaled = _over(G, _plus_eps(root, o.eps))
    if o.momentum:
        lines.append((b, sp.Add(o.momentum * b, scaled, evaluate=False), "←"))
        lines.append((P, P - lr * b, "←"))
    else:
        lines.append((P, sp.Add(P, -_over(lr * G, _plus_eps(root, o.eps)), evaluate=False), "←"))
    return ("v: the decaying average of the squared gradients"
            + ("; centred: also of the gradients" if o.centered else ""), lines)


def notes_view(o, name: str):
    """``o`` (an optimizer, its hyperparameters already letters or numbers) in the notes' form, or
    None when the notes write it as torch does (SGD without momentum)."""
    build = {"Adam": _adam, "Adagrad": _adagrad, "RMSprop": _rmsprop}
    for cls, make in build.items():
        if cls in _kinds(o):
            about, lines = make(o)
            return Equations(f"{name} in the notes' form ({about}), {WHAT}", lines)
    return None
