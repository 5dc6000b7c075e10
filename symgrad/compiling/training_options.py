"""Options that other training loops take and `train` does not, told where symgrad has them.

Keras's ``model.fit(..., verbose=0, validation_split=0.2, callbacks=[...])`` and the learning rate
or optimizer that fit-style functions take are reached for first by someone new to symgrad; Python
(or difflib) answered "unknown keyword argument 'lr'", or "did you mean 'validation'?" for
``validation_split`` — which takes a dataset, not a fraction. `options_said` wraps `train` outside
its check of keyword names (`symgrad.frontend.keywords`) and names the place of each.
"""
from __future__ import annotations

import functools

from ..errors import ArgumentError

_STEP = ("the program's step was compiled with its optimizer, so the optimizer and its hyperparameters "
         "are sg.compile's: sg.compile(loss, params, inputs, optimizer=sg.optim.Adam(lr=1e-3)) (or a name, "
         "optimizer=\"adam\"; a schedule is lr=sg.optim.WarmupCosine(...); docs/optimizers.md), and "
         "symgrad train's --optimizer and --lr")
ELSEWHERE = {
    **dict.fromkeys(("lr", "learning_rate", "optimizer", "momentum", "weight_decay", "betas", "scheduler",
                     "lr_scheduler", "schedule"), _STEP),
    "verbose": "the progress bar is progress=True (the default: a tqdm bar on stderr) or progress=False",
    "validation_split": ("validation= takes the held-out arrays themselves, not a fraction: split them first, "
                         "k = int(0.8 * len(X)); train(program, {'x': X[:k], ...}, validation={'x': X[k:], ...}) "
                         "(shuffle X first when it is sorted by class)"),
    "validation_data": None,          # Keras's name, said by symgrad.frontend.keywords: validation=
    "callbacks": ("train takes no callbacks; what Keras's do is an argument: early stopping is patience= "
                  "(monitor=, min_delta=, mode=), ModelCheckpoint is checkpoint= (and history.best), "
                  "a LearningRateScheduler is the optimizer's lr= schedule given to sg.compile, and "
                  "on_epoch=f calls f(record) after each epoch"),
    "early_stopping": "early stopping is patience= (with monitor=, min_delta=, mode=)",
    "loss": "the loss was compiled into the program: sg.compile(loss, params, inputs)",
}


def options_said(fn):
    """Wrap ``fn`` (`train`) so that an option it has elsewhere is an `ArgumentError` saying where."""
    @functools.wraps(fn)
    def said(*args, **kwargs):
        for name in kwargs:
            why = ELSEWHERE.get(name)
            if why:
                raise ArgumentError(f"{fn.__name__}() takes no {name}=: {why}")
        return fn(*args, **kwargs)
    return said
