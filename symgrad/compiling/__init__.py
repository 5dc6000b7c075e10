"""Compiling and training: `compile`, `Program`, the optimizers, `train`.

- `compiler`: `compile`/`specify` — the training graph (loss, gradients, update) handed to a backend
  of `codegen`, which registers itself and is imported by name on first use, never at import time;
  `program`: the `Program` it returns; `backends`: the backend interface (registries, `Spec`,
  `Compiled`); `batch_checks`: the checks of a batch's arrays;
- `rewrite`: the numerical-stability rewrites, one row each;
- `optim`: the optimizers as SymPy update rules (`sg.optim`);
- `training`: the loop — `train` and the NaN guard; its parts in `training_results` (`History`),
  `training_data` (the data's checks), `training_init` (starting values), `training_metrics`,
  `training_checkpoint`, `training_interrupts` (Ctrl-C) and `training_arrays`.

May import: `symgrad.errors`, `symgrad.frontend`, `symgrad.core`, `symgrad.teaching`,
`symgrad.checking`.
"""
