"""Options that other libraries' training code gives `sg.compile` or `sg.train`, told where symgrad has them.

Keras's ``model.fit(..., verbose=0, validation_split=0.2, callbacks=[...])``, torch's
``clip_grad_norm_`` and ``param_groups``, and the learning rate or optimizer that fit-style functions
take are reached for first by someone new to symgrad; Python (or difflib) answered "unknown keyword
argument 'lr'", or "did you mean 'validation'?" for ``validation_split`` — which takes a dataset, not
a fraction. `ELSEWHERE` is the one table of them: function -> {keyword: where symgrad has it}, which
`symgrad.frontend.keywords` reads (``@keywords(elsewhere=ELSEWHERE["train"])``) when the keyword is
no parameter of the function and no other library's spelling of one (``validation_data`` is told
``validation``, the name it means).

>>> import symgrad as sg
>>> sg.train(None, {}, verbose=0)
Traceback (most recent call last):
...
symgrad.errors.ArgumentError: train() takes no verbose=: the progress bar is progress=None (the default: a tqdm bar on stderr where it is a terminal or in a notebook, none in a log), progress=True (always) or progress=False (never)
"""
from __future__ import annotations

_OPTIMIZER = ("the learning rate and the other hyperparameters are the optimizer's: sg.compile(loss, params, "
              "inputs, optimizer=sg.optim.Adam(lr=1e-3)) (or a name with its defaults, optimizer=\"adam\"; a "
              "schedule is lr=sg.optim.WarmupCosine(...); docs/optimizers.md)")
_STEP = ("the program's step was compiled with its optimizer, so the optimizer and its hyperparameters "
         "are sg.compile's: sg.compile(loss, params, inputs, optimizer=sg.optim.Adam(lr=1e-3)) (or a name, "
         "optimizer=\"adam\"; a schedule is lr=sg.optim.WarmupCosine(...); docs/optimizers.md), and "
         "symgrad train's --optimizer and --lr")
_HYPER = ("lr", "learning_rate", "momentum", "weight_decay", "betas", "scheduler", "lr_scheduler", "schedule")
_CLIPPED = ("clip_grad_norm", "clip_grad_norm_", "max_norm", "grad_clip", "clip_norm", "clipnorm", "global_clipnorm",
            "clip_grad_value", "clip_grad_value_", "clip_value", "clipvalue", "gradient_clipping",
            "grad_norm_clip", "clip_norm_type", "norm_type")
_GROUPED = ("groups", "param_groups", "params_groups", "no_decay", "no_weight_decay")   # (a layer's groups= is
#                                                                                         another thing: not here)


def _clipping(whose: str) -> str:
    return (f"gradient clipping is an option of the optimizer{whose}, applied in the compiled step before the "
            f"update: optimizer=sg.optim.AdamW(lr=1e-3, clip_grad_norm=1.0) is torch's "
            f"clip_grad_norm_(parameters, max_norm=1.0) (clip_norm_type=float('inf') its norm_type), "
            f"clip_grad_value=0.5 torch's clip_grad_value_ (docs/optimizers.md)")


def _groups(whose: str) -> str:
    return (f"parameter groups are an option of the optimizer{whose}: optimizer=sg.optim.AdamW(lr=1e-3, "
            f"groups=[{{'params': [b1, b2], 'weight_decay': 0.0}}]) gives b1 and b2 their own hyperparameters, "
            f"as torch's param_groups (docs/optimizers.md)")


_COMPILED = " given to sg.compile (train runs the program's compiled step)"

ELSEWHERE = {
    "compile": {
        "backend": "the backend is target= here: target='numpy' (the default) or target='triton' "
                   "(torch.compile's backend= names its own compilers)",
        "device": "a compiled program runs where its target does: target='numpy' on the CPU, "
                  "target='triton' on the GPU (as_torch() for a torch module on a device)",
        **dict.fromkeys(_HYPER, _OPTIMIZER),
        **dict.fromkeys(_CLIPPED, _clipping("")),
        **dict.fromkeys(_GROUPED, _groups("")),
    },
    "train": {
        **dict.fromkeys(("backend", "device"), "the target is chosen when compiling, before training: "
                        "sg.compile(..., target='numpy') (the default, on the CPU) or target='triton' "
                        "(on the GPU)"),
        **dict.fromkeys(_HYPER + ("optimizer",), _STEP),
        **dict.fromkeys(_CLIPPED, _clipping(_COMPILED)),
        **dict.fromkeys(_GROUPED, _groups(_COMPILED)),
        "verbose": "the progress bar is progress=None (the default: a tqdm bar on stderr where it is a "
                   "terminal or in a notebook, none in a log), progress=True (always) or progress=False (never)",
        "validation_split": ("validation= takes the held-out arrays themselves, not a fraction: split them "
                             "first, k = int(0.8 * len(X)); train(program, {'x': X[:k], ...}, validation="
                             "{'x': X[k:], ...}) (shuffle X first when it is sorted by class)"),
        "callbacks": ("train takes no callbacks; what Keras's do is an argument: early stopping is patience= "
                      "(monitor=, min_delta=, mode=), ModelCheckpoint is checkpoint= (and history.best), "
                      "a LearningRateScheduler is the optimizer's lr= schedule given to sg.compile, CSVLogger is "
                      "on_epoch=sg.EpochLog('log.csv'), and "
                      "on_epoch=f calls f(record) after each epoch"),
        "early_stopping": "early stopping is patience= (with monitor=, min_delta=, mode=)",
        "loss": "the loss was compiled into the program: sg.compile(loss, params, inputs)",
    },
}
