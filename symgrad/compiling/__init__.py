"""Compiling and training: `compile`, `Program`, the optimizers, `train`.

- `compiler`: `compile`/`specify` — the training graph (loss, gradients, update) handed to a backend
  of `codegen`, which registers itself and is imported by name on first use, never at import time;
- `rewrite`: the numerical-stability rewrites, one row each;
- `optim`: the optimizers as SymPy update rules (`sg.optim`);
- `training`: the loop — `train`, `History`, the NaN guard, checkpoints.

May import: `symgrad.errors`, `symgrad.frontend`, `symgrad.core`, `symgrad.teaching`,
`symgrad.checking`.
"""
