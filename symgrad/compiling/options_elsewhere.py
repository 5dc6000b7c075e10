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
# Keras's fit(class_weight={0: 1, 1: 9}), scikit-learn's class_weight="balanced": a weighted loss here
_WEIGHTED = ("as torch's: sg.bce_with_logits(logit, y, pos_weight=n0 / n1) for one "
             "logit (n0, n1: the samples of class 0 and 1), sg.cross_entropy(logits, y, weight=w) for several "
             "classes, w[c] = n / (C * n_c) as scikit-learn's class_weight='balanced' (docs/training.md)")
_STANDARDIZE = ("train takes the data as given: standardize them first, with scikit-learn's StandardScaler or "
                "stats = fit_standardization(data, ['x']); data = standardized(data, stats) "
                "(symgrad.compiling.training_standardize), and apply the same stats to new data; "
                "standardized=stats records them in the checkpoints (symgrad train --standardize does all this)")

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
        # Lightning's stopping_threshold is the other way round: stop once the monitor is good enough
        "stopping_threshold": ("train has no stop at a value good enough: stop it from on_epoch=f, a function of "
                               "each epoch's record that raises once record['val_loss'] (say) is below yours (the "
                               "exception carries the run so far as its .history; checkpoint= has that epoch "
                               "saved); patience= stops a run that no longer improves"),
        **dict.fromkeys(("divergence_threshold", "terminate_on_nan", "check_finite"),
                        "training always stops as diverged (TrainingDiverged, keeping the last good values) at a "
                        "loss that is not finite, and at a loss more than max_loss_growth= times the first "
                        "step's (default 1e8; None: never)"),
        "loss": "the loss was compiled into the program: sg.compile(loss, params, inputs)",
        **dict.fromkeys(("class_weight", "class_weights", "sample_weight", "pos_weight"), "class weights are the loss's (given to "
                        "sg.compile), " + _WEIGHTED),
        **dict.fromkeys(("standardize", "normalize", "scale", "standardise"), _STANDARDIZE),
    },
}


# `symgrad train`'s options as other command lines (Lightning's, Keras scripts' argparse, Hugging Face's
# Trainer flags) spell them: an option argparse does not know is told where the command has it, rather
# than the closest spelling (--schedule read as "did you mean --seed?", --val as --lr, --momentum as
# --monitor, --resume-from-checkpoint as --checkpoint, --quiet as --best) or nothing at all
_PATIENCE = "early stopping is --patience EPOCHS (with --monitor NAME and --mode; --best BEST.npz keeps the best epoch's values)"
_SCHEDULE = ("a learning-rate schedule is the model file's, its optimizer's lr=: optimizer = sg.optim.AdamW(lr="
             "sg.optim.WarmupCosine(3e-3, warmup=50, total=1000)), in optimizer steps (--lr sets its peak; "
             "docs/training.md)")
_QUIET = ("the epoch lines always come on stdout; --no-progress turns the progress bar off (there is none where "
          "stderr is a log or a pipe)")
_DEVICE = "--target triton trains on a CUDA GPU (--target numpy, the default, on the CPU)"
_SAVE = ("the trained values are saved by --checkpoint CK.npz (after every epoch) and --best BEST.npz (the best "
         "epoch's, with --patience)")
_HYPERS = ("the optimizer's hyperparameters other than --lr are the model file's: optimizer = sg.optim.AdamW(lr=1e-3, "
           "weight_decay=0.01) (--optimizer NAME takes that optimizer's defaults)")
_RESUME = "--resume CK.npz goes on from a checkpoint (its values, optimizer state, epoch and step)"
_CLIP = "--clip-grad-norm MAX_NORM (torch's clip_grad_norm_), or --clip-grad-value V"
_COLUMNS = ("a table's columns go to the model file's inputs in their order, each input taking as many as one "
            "sample of it holds (inputs = [x, y] with x of 4 features: 4 columns for x, then 1 for y); the "
            "input holding the labels is the model file's target = y")
COMMAND_ELSEWHERE = {
    "train": {
        **dict.fromkeys(("--early-stopping", "--early-stop", "--early_stopping", "--earlystopping",
                         "--restore-best-weights", "--restore_best_weights"), _PATIENCE),
        **dict.fromkeys(("--lr-schedule", "--lr-scheduler", "--lr_scheduler", "--lr_scheduler_type", "--scheduler",
                         "--schedule", "--warmup", "--warmup-steps", "--warmup_steps", "--cosine"), _SCHEDULE),
        **dict.fromkeys(("--max-epochs", "--max_epochs", "--num-epochs", "--num_train_epochs", "--n-epochs"),
                        "--epochs N: passes over --data (Lightning's max_epochs; with --patience, it may stop sooner)"),
        **dict.fromkeys(("--learning-rate", "--learning_rate"), "--lr"),
        **dict.fromkeys(("--verbose", "--quiet", "-v", "-q", "--silent"), _QUIET),
        **dict.fromkeys(("--device", "--gpus", "--gpu", "--accelerator", "--cuda", "--devices"), _DEVICE),
        **dict.fromkeys(("--save", "--output", "--output-dir", "--output_dir", "--save-path", "--model-path", "-o",
                         "--out"), _SAVE),
        **dict.fromkeys(("--weight-decay", "--weight_decay", "--momentum", "--betas", "--beta1", "--beta2", "--eps"),
                        _HYPERS),
        **dict.fromkeys(("--shuffle", "--no-shuffle"),
                        "every epoch is shuffled, by --seed (the same --seed, the same order)"),
        **dict.fromkeys(("--resume-from-checkpoint", "--resume_from_checkpoint", "--ckpt-path", "--ckpt_path",
                         "--ckpt", "--load"), _RESUME),
        **dict.fromkeys(("--logger", "--csv", "--csv-log", "--csv-logger", "--tensorboard"),
                        "--log FILE writes each epoch's line to a .csv, .tsv or .jsonl file"),
        **dict.fromkeys(("--bs", "--batch", "--batch_size", "--per_device_train_batch_size"), "--batch-size N"),
        **dict.fromkeys(("--clip", "--grad-clip", "--gradient-clip-val", "--gradient_clip_val", "--clip-norm",
                         "--max-grad-norm", "--max_grad_norm"), _CLIP),
        **dict.fromkeys(("--test", "--test-data"),
                        "test data are symgrad evaluate's: symgrad evaluate MODEL.py CK.npz --data test.csv"),
        **dict.fromkeys(("--steps", "--max-steps", "--max_steps"),
                        "training runs --epochs passes over --data, of ceil(samples / --batch-size) steps each"),
        "--precision": "--dtype float32 (the default) or --dtype float64",
        **dict.fromkeys(("--class-weight", "--class_weight", "--class-weights", "--pos-weight", "--pos_weight",
                         "--sample-weight", "--balanced", "--weighted"), "class weights are the model file's loss's, "
                        + _WEIGHTED),
        **dict.fromkeys(("--normalize", "--normalise", "--standardise", "--scale", "--scaler", "--standard-scaler",
                         "--feature-scaling", "--zscore"),
                        "--standardize: each feature column by its mean and standard deviation over the training "
                        "samples, saved with the values and applied again by symgrad evaluate and predict"),
        **dict.fromkeys(("--label", "--labels", "--label-column", "--label_column", "--label-col", "--target-column",
                         "--target_column", "--target-col", "--y", "--features", "--feature-columns", "--columns",
                         "--usecols", "--x"), _COLUMNS),
        **dict.fromkeys(("--val-split", "--val_split", "--validation_split", "--test-size", "--test_size",
                         "--holdout"), "--validation-split FRACTION (0.2 holds out a fifth of --data, drawn with --seed)"),
        **dict.fromkeys(("--divergence-threshold", "--divergence_threshold"),
                        "--max-loss-growth TIMES: a loss more than TIMES the first step's stops the run as diverged "
                        "(default 1e8), as a loss that is not finite always does"),
    },
    "predict": {
        **dict.fromkeys(("--proba", "--predict-proba", "--predict_proba", "--probability", "--probs", "--prob"),
                        "--probabilities adds each sample's class probabilities (the sigmoid of one logit, the "
                        "softmax of several scores)"),
    },
}
