"""``symgrad train MODEL.py --data data.npz``: compile a model file (what it defines is
said below) and train it on a ``.npz`` dataset with one array per input, keyed by the
input's name, samples on the first axis: for the example below, ``np.savez("data.npz", x=X, t=T)``
with X of shape (samples, 4) and T (samples, 3). A ``.csv`` (or ``.tsv``) table works too: one row
per sample, its columns the inputs' entries in the order of the model file's ``inputs`` (4 for x,
then 3 for t; a header row is skipped).

Each epoch prints one line as it ends: ``loss``, the mean of its minibatch losses, then the metrics
after the epoch on --validation (``val_loss``, and ``val_accuracy`` when the model file names its
``target``), or without it on the whole training data (``train_loss``, ``train_accuracy``);
``--metrics loss,mae`` gives a regression's mean absolute error instead of the accuracy. A
progress bar is drawn on stderr when it is a terminal (not in a log or a pipe).
--checkpoint is saved after every epoch, and on Ctrl-C (exit 130) or divergence (exit 1);
--resume CK.npz goes on from it for --epochs more epochs, shuffled as if it had never stopped
(give the same --data and --seed; under another --optimizer, that optimizer's state starts afresh),
and says on stderr the epoch and step it goes on from and the optimizer's step count, which a
learning-rate schedule reads.
Without --checkpoint (or --best) the trained values are not kept, and the command says so at the
end. A checkpoint is evaluated on a test file by symgrad evaluate, run on new data by symgrad
predict (both on the NumPy target, whichever --target trained it), and read back in Python by
sg.load_checkpoint("ck.npz") (.values: the trained parameters by name).

Exit status: 0 trained to the end, 1 diverged (a loss or gradient went NaN or inf, or the
loss grew past --max-loss-growth times the first step's), 2 bad input
(one line on stderr saying what and where), 130 Ctrl-C, 143 SIGTERM (taken as Ctrl-C: training
stops at the next step and --checkpoint is saved).

The files of the examples below, for the example model file above (model.py), from X of shape
(samples, 4) and one-hot T (samples, 3): np.savez("train.npz", x=X, t=T), np.savez("val.npz",
x=X_val, t=T_val) with held-out samples, and the table np.savetxt("data.csv", np.c_[X, T], delimiter=",").

Examples:

    symgrad train model.py --data train.npz --validation val.npz --epochs 30 --checkpoint ck.npz
    symgrad train model.py --data train.npz --validation val.npz --epochs 10 --resume ck.npz --checkpoint ck.npz
    symgrad train model.py --data data.csv --validation-split 0.2 --patience 5 --best best.npz --log log.csv
    symgrad train model.py --data train.npz --validation val.npz --epochs 30 --plot curves.png
    symgrad train model.py --data data.csv --validation-split 0.2 --resume best.npz --log log.csv
    symgrad train model.py --data data.csv --validation-split 0.2 --standardize --metrics loss,f1 --patience 5 --monitor val_f1 --best best.npz"""
from __future__ import annotations

import argparse
import os
import sys
import warnings

import numpy as np

from ..errors import DataError, SymgradError
from . import _model
from .csv_data import is_table, read_table
from .command import int_at_least
from .sigterm import EXIT_TERMINATED, terminate_as_interrupt


def register(subparsers):
    p = _model.model_parser(subparsers, "train", "train a model file on a .npz or .csv dataset", __doc__)
    p.epilog = __doc__.split("\n\n", 1)[1]          # what it prints, what is saved
    p.add_argument("--data", required=True, metavar="DATA",
                   help="training data: a .npz with one array per input, keyed by the input's name, or a .csv "
                        "(.tsv; gzipped: .csv.gz) table, one row per sample, its columns the inputs' entries in the order of "
                        "the model file's inputs (a header row is skipped)")
    p.add_argument("--validation", metavar="VAL", help="validation data (.npz or .csv), evaluated each epoch")
    p.add_argument("--validation-split", type=_fraction, metavar="FRACTION",
                   help="hold out this fraction of --data (0 < FRACTION < 1, e.g. 0.2) as the validation data, "
                        "drawn at random with --seed (the same samples again on --resume with the same "
                        "--seed); instead of --validation")
    p.add_argument("--epochs", type=int_at_least(0), default=10,
                   help="passes over the data (default 10; with --resume, more passes)")
    p.add_argument("--batch-size", type=int_at_least(1), default=32,
                   help="minibatch size (default 32; the last of an epoch may be smaller)")
    p.add_argument("--seed", type=int_at_least(0), default=0,
                   help="seed of the initial values, the shuffling and --validation-split (default 0)")
    _model.add_target_argument(p)
    p.add_argument("--checkpoint", metavar="CK.npz",
                   help="save the values, the optimizer state and the step count here after each epoch, and on "
                        "Ctrl-C or divergence (atomically: never half-written)")
    p.add_argument("--resume", metavar="CK.npz",
                   help="go on from this checkpoint (its values, optimizer state, step and epoch count) for "
                        "--epochs more epochs; it may be the --checkpoint file itself")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bar, also on a terminal (there is none where stderr is a log or a pipe); "
                        "the epoch lines still come as each epoch ends")
    p.add_argument("--patience", type=int_at_least(1), metavar="EPOCHS",
                   help="early stopping: stop after this many epochs without improvement of --monitor")
    p.add_argument("--monitor", metavar="NAME",
                   help="what --patience watches (default val_loss, or train_loss without --validation)")
    p.add_argument("--mode", choices=("auto", "min", "max"), default="auto",
                   help="with --patience: whether a smaller (min) or larger (max) --monitor is better; auto "
                        "(default) maximizes names holding acc, f1, auc, precision, recall, iou, dice, r2 "
                        "or score (not loss or err), and minimizes the rest")
    p.add_argument("--metrics", type=_metric_names, metavar="NAMES",
                   help="the metrics of the epoch lines, separated by commas: loss (always), accuracy, precision, "
                        "recall, f1, auc (a classifier's, for imbalanced classes: of class 1, or the mean over the "
                        "classes), mae, mse (default: loss, and accuracy when the model file names its target; there, a "
                        "regression's real-valued target is refused: give loss,mae)")
    p.add_argument("--log", metavar="FILE",
                   help="write each epoch's line (epoch, loss, the metrics, seconds) here as the epoch ends: a "
                        ".csv or .tsv table with a header row, or a .jsonl file; with --resume, added after "
                        "the rows it holds (those of epochs after the checkpoint's replaced)")
    p.add_argument("--plot", metavar="CURVES.png",
                   help="draw the training curves here when training ends (each epoch's losses and "
                        "accuracy, the best epoch marked with --patience; also after Ctrl-C or a "
                        "divergence): a .png, .pdf or .svg; needs matplotlib")
    p.add_argument("--max-loss-growth", type=_growth, default=1e8, metavar="TIMES",
                   help="stop as diverged when a step's loss grows past this many times the first step's "
                        "(and past its square root times the largest of the first 10 steps') "
                        "(default 1e8: a learning rate too large; off: only a loss that is not finite), "
                        "keeping the values of the lowest loss")
    p.add_argument("--standardize", action="store_true",
                   help="standardize the features (the real-valued inputs the model file's outputs read), each "
                        "column by its mean and standard deviation over the training samples (scikit-learn's "
                        "StandardScaler); the means and scales are saved in --checkpoint and --best, and symgrad "
                        "evaluate and predict standardize their data alike")
    p.add_argument("--best", metavar="BEST.npz",
                   help="with --patience: save the best epoch's values here (a checkpoint; --checkpoint "
                        "keeps the last epoch's), also when Ctrl-C or a divergence ends training")
    _model.add_optimizer_arguments(p)
    p.set_defaults(func=run)


def load_data(path, inputs, what="--data", without=(), command="train") -> dict:
    """The arrays of ``path`` for each input, keyed by the input's name; ``without``: inputs that
    may be left out (the labels, for ``symgrad predict``), read when they are there; ``command``:
    the one whose refusals these are."""
    from ..compiling.closest import closest_name
    from ..compiling.training_data import nonfinite_entries, same_sample_counts, transposed_key
    from ..compiling.training_missing import FILL_OR_DROP, missing_message
    if not os.path.isfile(path):
        # np.savez("train", ...) writes train.npz: a name given without its suffix is found
        near = path + ".npz" if not path.endswith(".npz") and os.path.isfile(path + ".npz") else None
        raise SymgradError(f"{what}: no such file: {path}" + (f" (there is {near}: np.savez adds the "
                                                              f".npz; give {what} {near})" if near else ""))
    names = [s.name for s in inputs]
    if is_table(path, reading=True):     # a CSV: its columns, in the order of the inputs
        return read_table(path, inputs, what, without)
    arrays = _npz_arrays(path, names, what)
    missing = [s.name for s in inputs if s.name not in arrays and s not in without]
    if missing:
        # np.savez(path, X=X, ...) for the input 'x': the key that is most likely meant, named
        spare = [k for k in arrays if k not in names]
        near = {m: closest_name(m, spare) for m in missing}
        if len(missing) == 1 and len(spare) == 1:          # labels= for the input y: the one left over
            near[missing[0]] = spare[0]
        how = "np.savez(" + repr(os.path.basename(path)) + "".join(f", {n}=..." for n in names) + ")"
        meant = "; ".join(f"{near[m]!r} for {m!r}?" for m in missing if near[m])
        meant += f" (the keys are the inputs' names, case and all: {how})" if meant else ""
        if not meant:
            meant = _splits_hint(path, arrays, names, missing)
        raise SymgradError(f"{what}: {path} has no array for input(s) {missing}; it has "
                           f"{sorted(arrays)} (one array per input, keyed by the input's name)"
                           + (f": {meant}" if meant else ""))
    extra = [k for k in arrays if k not in names]
    if extra:
        # sg.train refuses a key of data that is no input (it would be ignored, silently); so does
        # the command (it used to drop such arrays without a word)
        close = {k: closest_name(k, names) for k in extra}
        said = ", ".join(f"{k!r}" + (f" (did you mean {close[k]!r}?)" if close[k] else "") for k in extra)
        how = "np.savez(" + repr(os.path.basename(path)) + "".join(f", {n}=..." for n in names) + ")"
        raise SymgradError(f"{what}: {path} holds {'an array' if len(extra) == 1 else 'arrays'} that "
                           f"{'is no input' if len(extra) == 1 else 'are no inputs'} of the model: {said}; "
                           f"its inputs are {', '.join(map(repr, names))}. symgrad {command} refuses an array it "
                           f"would ignore{', as sg.train does' if command == 'train' else ''}: write only the "
                           f"inputs' arrays, {how}")
    out = {n: arrays[n] for n in names if n in arrays}
    sizes = {n: (a.shape[0] if a.ndim else None) for n, a in out.items()}
    if not same_sample_counts(sizes):
        said = ", ".join(f"{n!r} {'a scalar' if k is None else k}" for n, k in sizes.items())
        k = transposed_key(out)
        hint = "" if k is None else (f"; the array {k!r} looks transposed, its samples in columns: save "
                                     f"its transpose, of shape {out[k].shape[::-1]}")
        raise SymgradError(f"{what} {path}: every input's array holds one row per sample, so all need "
                           f"the same positive number of samples on their first axis; got {said}{hint}")
    for n, a in out.items():
        missing = missing_message(a)
        if missing and not np.isinf(a).any():       # NaN: missing values, each column named
            raise DataError(f"{what} {path}: the array {n!r}{missing}; {FILL_OR_DROP}, then save it again")
        found = nonfinite_entries(a)
        if found:
            count, first, rows = found
            raise SymgradError(f"{what} {path}: the array {n!r} has {count} non-finite "
                               f"entr{'y' if count == 1 else 'ies'} in {rows} sample(s), the first "
                               f"{a[first]} at index {list(first)} (sample {first[0]}); "
                               f"{'training' if command == 'train' else 'symgrad ' + command} needs finite "
                               f"numbers: drop or fill those samples")
    if command == "train":
        _warn_raw_pixels(out, inputs, what, path)
    return out


def _warn_raw_pixels(arrays, inputs, what, path) -> None:
    """Say on stderr when a real-valued input is given 8-bit pixels, 0 … 255 (uint8, as Keras's
    mnist.npz and image files hold them): a network trains on inputs of about unit scale, and the
    first epochs of such data are spent on the scale (the loss in the hundreds, not ~2.3)."""
    for sym in inputs:
        a = arrays.get(sym.name)
        if a is None or a.dtype != np.uint8 or not a.size or int(a.max()) <= 1:
            continue
        if getattr(sym, "is_integer_tensor", False) or getattr(sym, "is_integer", False):
            continue                                   # class labels, indices: integers by design
        print(f"symgrad train: warning: {what} {path}: the array {sym.name!r} holds 8-bit pixels, 0 … "
              f"{int(a.max())} (uint8), read as they are; networks train on inputs of about unit scale: save "
              f"{sym.name}={sym.name} / 255, as torchvision's ToTensor scales them", file=sys.stderr)


def _splits_hint(path, arrays, names, missing) -> str:
    """For a .npz of splits keyed <input>_<split>, as Keras's datasets keep them (mnist.npz: x_train,
    y_train, x_test, y_test): how to write one file per split keyed by the inputs' names. "" otherwise."""
    splits = [part for part in ("train", "val", "valid", "validation", "test")
              if all(f"{m}_{part}" in arrays for m in missing)]
    if "train" not in splits:
        return ""
    held = next((part for part in splits if part != "train"), None)
    src = os.path.basename(path)

    def write(split, file):
        return (f"np.savez({file!r}, " + ", ".join(f"{n}=d[{f'{n}_{split}'!r}]" if n in missing else f"{n}=..."
                                                  for n in names) + ")")
    said = f"d = np.load({src!r}); {write('train', 'train.npz')}"
    if held:
        said += f"; {write(held, held + '.npz')} — then --data train.npz --validation {held}.npz"
    return (f"it holds splits keyed <input>_<split>, as Keras's datasets keep them; write each split as a file "
            f"of arrays keyed by the inputs' names: {said}")


def _npz_arrays(path, names, what) -> dict:
    """Every array of the .npz file ``path`` by its key; a file that is no .npz (a single .npy
    array, text, a pickle) or that holds an object array is a SymgradError saying what it is and
    what to write instead (NumPy's own words were about the context manager protocol for a .npy,
    and about ``allow_pickle=`` for any file that is not a zip archive)."""
    import zipfile
    how = "np.savez(" + repr(os.path.splitext(os.path.basename(path))[0] + ".npz") + "".join(f", {n}=..." for n in names) + ")"
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as f:
            head = f.read(6)
        kind = ("a single array (.npy), not a .npz of arrays keyed by the inputs' names"
                if head == b"\x93NUMPY" else "not a .npz file (a zip archive of arrays, as np.savez writes)")
        raise SymgradError(f"{what}: {path} is {kind}; write one array per input with {how} (a table of "
                           f"numbers, one row per sample, is read when its name ends in .csv or .tsv)")
    from ..compiling.training_npz import bomb
    why = bomb(path)
    if why is not None:
        raise SymgradError(f"{what}: {path}: {why}")
    arrays = {}
    try:
        with np.load(path, allow_pickle=False) as z:
            for k in z.files:
                try:
                    arrays[k] = z[k]
                except ValueError as e:
                    if "allow_pickle" not in str(e):
                        raise
                    raise SymgradError(f"{what}: {path}: the array {k!r} holds Python objects (saved with "
                                       f"pickle), which are not read; save it as numbers (an array of "
                                       f"floats or integers, e.g. X.astype(float))") from None
                if not isinstance(arrays[k], np.ndarray):     # a member that is no .npy: its bytes
                    raise SymgradError(f"{what}: {path}: its member {k!r} is not a NumPy array (.npy); "
                                       f"write the file with {how}")
    except SymgradError:
        raise
    except Exception as e:                     # noqa: BLE001 - any unreadable file is bad input
        raise SymgradError(f"{what}: {path} is not a readable .npz file ({e})") from e
    return arrays


def run(args) -> int:
    """Exit 0 when training ran to the end, 1 when it diverged (the last good values saved to
    --checkpoint when one is given), 130 after Ctrl-C (the values of the last finished step saved
    to --checkpoint), 2 for bad input (raised as SymgradError)."""
    from ..compiling import training as T

    with terminate_as_interrupt() as term:
        try:
            code = _train(args, T)
        except KeyboardInterrupt as e:             # Ctrl-C before training started, or a second one
            said = "SIGTERM" if term.received else "Ctrl-C"
            if getattr(e, "history", None) is not None:
                kept = (f"; {args.checkpoint} holds the last completed save" if args.checkpoint else "")
                print(f"symgrad train: aborted ({said}) after step {e.history.step}{kept}",
                      file=sys.stderr)
            else:
                print(f"symgrad train: interrupted ({said}) before training started; nothing was saved",
                      file=sys.stderr)
            code = 130
    return EXIT_TERMINATED if term.received and code == 130 else code


def _fraction(text):
    """An argparse type: a number strictly between 0 and 1."""
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a fraction between 0 and 1 (0.2 holds out a fifth), got "
                                         f"{text!r}") from None
    if not 0 < x < 1:
        raise argparse.ArgumentTypeError(f"expected a fraction strictly between 0 and 1 (0.2 holds out a fifth), "
                                         f"got {text}" + (" (a percentage? write 0.2 for 20%)" if 1 < x < 100 else ""))
    return x


def _metric_names(text):
    """An argparse type for --metrics: names from sg.train's metrics, separated by commas."""
    from ..compiling.training_metrics import METRIC_NAMES, _LONG_NAMES
    names = []
    for word in text.split(","):
        name = _LONG_NAMES.get(word.strip().lower(), word.strip().lower())
        if name not in METRIC_NAMES:
            raise argparse.ArgumentTypeError(f"{word.strip()!r} is no metric: give some of {', '.join(METRIC_NAMES)}, "
                                             f"separated by commas (--metrics loss,mae)")
        if name not in names:
            names.append(name)
    return names


def _metrics(T, args, model, program) -> dict:
    """The metrics of the epoch lines: the loss, and the accuracy when the model file names its target
    and outputs; or the loss and those --metrics names, compared with the model file's target (else
    with the one input its outputs do not read, as sg.train finds it)."""
    from ..compiling.training_metrics import named_metric
    metrics = {"loss": T.mean_loss}
    if args.metrics is None:
        if model.target is not None and model.outputs:
            metrics["accuracy"] = T.accuracy(model.target)
        return metrics
    wanted = [m for m in args.metrics if m != "loss"]
    if wanted and not model.outputs:
        raise SymgradError(f"--metrics {','.join(args.metrics)}: {wanted[0]} compares the model's predictions with "
                           f"its targets: define outputs in the model file (the predictions)")
    for name in wanted:
        if model.target is None:
            metrics.update(T._metrics_dict([name], program))
        else:
            metrics[name] = named_metric(name, model.target)
    return metrics


def _growth(text):
    """An argparse type for --max-loss-growth: a number > 1, or off (None)."""
    if text.strip().lower() in ("off", "none"):
        return None
    try:
        x = float(text)
    except ValueError:
        x = None
    if x is None or not 1 < x < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number > 1 (how many times the first step's loss a loss may "
                                         f"grow to; default 1e8), or off, got {text!r}")
    return x


def held_out(n: int, fraction: float) -> int:
    """How many of ``n`` samples --validation-split ``fraction`` holds out (before the check that
    both sides keep one)."""
    return int(round(n * fraction))


def split_off(data: dict, fraction: float, seed: int):
    """(training data, validation data): ``fraction`` of the samples, at least one, drawn at random
    for validation — a stream of its own seeded by ``seed``, so the same --seed holds out the same
    samples, and the shuffling of training (default_rng(seed)) is as without the split. Samples keep
    their order within each part."""
    n = len(next(iter(data.values())))
    k = held_out(n, fraction)
    if not 1 <= k <= n - 1:
        raise SymgradError(f"--validation-split {fraction:g} of --data's {n} samples holds out {k}: there must "
                           f"be at least one sample on each side")
    held = np.zeros(n, dtype=bool)
    held[np.random.default_rng([seed, 0x5A17]).permutation(n)[:k]] = True
    return {name: a[~held] for name, a in data.items()}, {name: a[held] for name, a in data.items()}


def _check_resumed_samples(args, resumed, n: int) -> None:
    """A --resume whose run trained on another number of samples than this one will: with
    --validation-split, another fraction (or other data) holds out samples that run trained on, so
    refused; without, said (its epochs are shuffled over other samples than that run's were)."""
    held = held_out(n, args.validation_split) if args.validation_split is not None else 0
    if n - held == resumed.samples:
        return
    if args.validation_split is not None:
        raise SymgradError(f"--resume {args.resume} was saved by a run that trained on {resumed.samples} samples, "
                           f"but --validation-split {args.validation_split:g} of --data {args.data}'s {n} leaves "
                           f"{n - held}: it would hold out other samples than that run did, some of them ones it "
                           f"trained on; give that run's --validation-split and --data")
    print(f"symgrad train: warning: --resume {args.resume} was saved by a run that trained on {resumed.samples} "
          f"samples, and --data {args.data} holds {n}: this run goes on over other data than that run's (its "
          f"epochs shuffled otherwise){'; did that run hold out a --validation-split?' if n > resumed.samples else ''}",
          file=sys.stderr)


def _not_onto(files, option: str, path: str, writing: str) -> None:
    """Refuse an output ``path`` (of ``option``) that is one of ``files``, (flag, path) pairs of the
    command's other files: compared as files (through links and ./) and, for one not written yet (a
    --checkpoint or --best), by name."""
    from .compile import same_file
    for flag, other in files:
        if other and (same_file(path, other) or os.path.abspath(path) == os.path.abspath(other)):
            raise SymgradError(f"{option} {path}: that is {flag}; {writing} there would overwrite it (give another "
                               f"file name)")


def _train(args, T) -> int:
    if args.validation_split is not None and args.validation is not None:
        raise SymgradError("--validation-split holds out part of --data as the validation data; --validation "
                           "gives it: give one of them")
    if args.monitor is not None and args.patience is None:     # said with the command's options
        raise SymgradError(f"--monitor {args.monitor} names what --patience watches: give --patience EPOCHS too")
    if args.mode != "auto" and args.patience is None:
        raise SymgradError(f"--mode {args.mode} says which way --patience compares --monitor: give --patience "
                           f"EPOCHS too")
    # What would otherwise fail only after the compiler ran (or after the first epoch): found first.
    if args.best is not None and args.patience is None:
        raise SymgradError("--best saves the best epoch's values, which --patience finds: give --patience "
                           "EPOCHS too")
    inputs = (("the model file", args.model), ("--data", args.data), ("--validation", args.validation))
    if args.best is not None:
        T.check_checkpoint_path(args.best, "--best")
        # (--best onto --data replaced the training data with a checkpoint when training ended, and
        # onto --checkpoint replaced the last epoch's values, which --resume goes on from, with the best's)
        _not_onto(inputs + (("--checkpoint", args.checkpoint),), "--best", args.best, "saving the best epoch")
    if args.checkpoint is not None:
        T.check_checkpoint_path(args.checkpoint, "--checkpoint")
        _not_onto(inputs, "--checkpoint", args.checkpoint, "saving a checkpoint")
    log = None
    if args.log is not None:
        from ..compiling.training_log import EpochLog
        from .compile import check_output
        check_output(args.log, "--log")
        _not_onto(inputs + (("--checkpoint", args.checkpoint), ("--resume", args.resume), ("--best", args.best)),
                  "--log", args.log, "writing the log")
        try:
            log = EpochLog(args.log, append=args.resume is not None)
        except T.TrainingArgumentError as e:
            raise SymgradError(f"--log {args.log}: a log is a .csv or .tsv table, or a .jsonl file (one JSON "
                               f"object per line); give a name with one of those suffixes") from e
    if args.plot is not None:       # refused now, not after the last epoch
        _check_plot(args, T, inputs)
    resumed = None
    if args.resume:
        try:
            resumed = T.load(args.resume)
        except T.CheckpointError as e:
            raise SymgradError(f"--resume: {e}") from e
    model = _model.load_model(args.model)
    if resumed is not None:
        _check_resumed(resumed, model.params, args.resume)
        if resumed.seed is not None and resumed.seed != args.seed and args.validation_split is not None:
            # the split is drawn with --seed: another one validates on samples the first run trained on
            raise SymgradError(f"--resume {args.resume} was saved by a run with --seed {resumed.seed}, whose "
                               f"--validation-split held out other samples than --seed {args.seed} does: this run "
                               f"would validate on samples that run trained on; give --seed {resumed.seed}")
    data = load_data(args.data, model.inputs)
    columns = getattr(data, "columns", None)          # a table's header, kept with the values: predict checks it
    if resumed is not None:
        from .csv_data import columns_unlike
        why = columns_unlike(resumed.columns, columns, f"--resume {args.resume}")
        if why:
            raise DataError(f"--data {args.data}: {why}")
    validation = load_data(args.validation, model.inputs, "--validation") if args.validation else None
    if validation is not None:          # a validation table whose header orders the columns otherwise
        from .csv_data import columns_unlike
        why = columns_unlike(columns, getattr(validation, "columns", None), "",
                             f"--data {args.data}'s columns are")
        if why:
            raise DataError(f"--validation {args.validation}: {why}")
    if resumed is not None and resumed.samples is not None:
        _check_resumed_samples(args, resumed, len(next(iter(data.values()))))
    opt = _model.choose_optimizer(model, args.optimizer, args.lr, args.clip_grad_norm, args.clip_grad_value)
    program = _model.compile_program(model, args.target, opt, args.dtype)
    lines_of = {"data": getattr(data, "lines", None), "validation": getattr(validation, "lines", None)}
    if args.validation_split is not None:
        from ..compiling.training_data import _check_data_labels
        try:        # over the whole file first: a bad label is then named by its sample in --data
            _check_data_labels(program, data)
        except DataError as e:
            raise _in_command_words(e, args, model, {"data": getattr(data, "lines", None)}) from None
        data, validation = split_off(data, args.validation_split, args.seed)
        held, kept = (len(next(iter(part.values()))) for part in (validation, data))
        print(f"symgrad train: training on {kept} samples of {args.data}, validating on the other {held} "
              f"(--validation-split {args.validation_split:g}, drawn with --seed {args.seed})", file=sys.stderr)
    scaled = _standardization(args, model, program, resumed, data)
    if scaled is not None:
        from ..compiling.training_standardize import standardized
        data = standardized(data, scaled)
        validation = standardized(validation, scaled) if validation is not None else None
    metrics = _metrics(T, args, model, program)
    if args.metrics is None and "accuracy" in metrics:
        _say_if_imbalanced(data, model.target.name)
    printed = []          # each epoch's line as it ends (train keeps the bar below them)
    if log is not None:         # refused before the lines that say what the run goes on from
        prefix = "val_" if validation is not None else "train_"
        try:
            log.check(["epoch", "loss"] + [prefix + name for name in metrics] + ["seconds"])
        except T.TrainingArgumentError as e:
            raise SymgradError(f"--log {args.log}: {e}") from None
    # the parameters the model file does not give are drawn by train, as sg.train draws them (He
    # for a weight feeding a relu, fans from the graph, biases 0, batch norm's scale 1; --seed)
    values = resumed if resumed is not None else model.values
    if values is None and getattr(program, "params", None) is None:    # a program that does not list them
        values = T.init_values(model.params, args.seed)
    state = None
    if resumed is not None and T.missing_slots(program, resumed.state):
        # --optimizer (or an edited model file) chose another optimizer than the checkpoint's: the
        # values go on, the optimizer's slots start afresh (sg.train asks for that as state=)
        state = program.init_state(resumed.values)
        slots = sorted(k for k in resumed.state if k != "t") if isinstance(resumed.state, dict) else []
        print(f"symgrad train: --resume {args.resume} holds another optimizer's state ("
              + (f"slots {', '.join(slots)}" if slots else "no slots: plain SGD's") + "); "
              f"{type(opt).__name__}'s state starts afresh from its values (its slots at their start, its "
              f"step count t, which schedules read, at 0)", file=sys.stderr)
    if resumed is not None:
        print(_resume_line(args, resumed, state is None), file=sys.stderr)
        later = log.later_rows(resumed.epoch) if log is not None else []
        if later:           # resumed from --best, or an older copy: its epoch numbers come again
            span = f"epoch {later[0]}" if len(later) == 1 else f"epochs {min(later)} to {max(later)}"
            print(f"symgrad train: --log {args.log} holds rows of {span}, after epoch {resumed.epoch} where "
                  f"{args.resume} goes on: this run's rows replace them", file=sys.stderr)

    def line_now(record):
        print(_epoch_line(record), flush=True)
        printed.append(record)
        if log is not None:
            log(record)
    bar = _progress_wanted(args)
    # a --resume over another sample count was said above in the command's words (_check_resumed_samples);
    # the filter lasts for this command only (command._warnings_as_lines restores the caller's filters)
    warnings.filterwarnings("ignore", category=T.ResumeDataWarning)
    try:
        history = T.train(program, data, epochs=args.epochs, batch_size=args.batch_size,
                          seed=args.seed, validation=validation, progress=bar,
                          metrics=metrics, checkpoint=args.checkpoint, values=values, state=state,
                          patience=args.patience, monitor=args.monitor, mode=args.mode, on_epoch=line_now,
                          max_loss_growth=args.max_loss_growth, standardized=scaled, columns=columns)
    except (T.TrainingArgumentError, DataError) as e:
        raise _in_command_words(e, args, model, lines_of) from None
    except T.TrainingDiverged as e:
        # train saved the last good values to --checkpoint (saved_to); without one, say how to keep
        # them, rather than claim they are kept: a command has no exception's .values
        kept = "this step"
        if e.kept_step is not None:                         # a finite loss that exploded: an earlier step's
            kept = f"step {e.kept_step + 1}, whose minibatch loss {e.kept_loss:.4g} was the lowest,"
        # (sg.train's argument is the command's option here)
        account = _one_line(e.account).replace("max_loss_growth", "--max-loss-growth")
        msg = account + (f"; the values from before {kept} are saved to {e.saved_to}"
                                      if e.saved_to else
                                      f"; pass --checkpoint CK.npz to save the values from before {kept.rstrip(',')}")
        h = e.history
        if args.best is not None and h is not None and h.best is not None:
            # --best promised the best epoch's values: a later divergence does not take them away
            msg += "; " + _save_best(T, args.best, h)
        elif h is not None and h.best is not None:
            msg += f"; pass --best BEST.npz to keep the best epoch's values (epoch {h.best.epoch} here)"
        if h is not None:
            _print_epochs(h, len(printed))     # the epochs that ran, as a run that ends prints them
        print(f"symgrad train: {msg}", file=sys.stderr)
        if h is not None:                      # how it went up: the picture a divergence asks for
            _draw(args, h, f"diverged at step {e.step} (epoch {h.epochs[-1]['epoch'] + 1 if h.epochs else 1})")
        return 1
    _print_epochs(history, len(printed))
    if history.interrupted:
        if not bar:                            # with the bar on, train has printed it already
            print(f"symgrad train: {history.message}", file=sys.stderr)
        if args.best is not None and history.best is not None:      # --best's promise, Ctrl-C or not
            print(f"symgrad train: {_save_best(T, args.best, history)}", file=sys.stderr)
        _draw(args, history)
        return 130
    if history.best_epoch is not None:
        stopped = (f"stopped early after epoch {history.epochs[-1]['epoch']}" if history.stopped_early
                   else "ran every epoch")
        kept = f" ({args.checkpoint} holds the last epoch's, to resume from)" if args.checkpoint else ""
        way = "larger" if history.mode == "max" else "smaller"
        print(f"{stopped}; best {history.monitor} ({way} is better) at epoch {history.best_epoch}{kept}")
        if args.best is not None:
            T.save(args.best, **vars(history.best))
            print(f"the values of epoch {history.best_epoch} saved to {args.best}")
    # the last epoch's mean loss over its minibatches (one minibatch's loss is noise)
    # after early stopping the kept values are another epoch's: say whose loss this is
    last = f", epoch {history.epochs[-1]['epoch']}, not the kept epoch {history.best_epoch}'s" if (
        history.epochs and history.best_epoch is not None
        and history.best_epoch != history.epochs[-1]["epoch"]) else ""
    print(f"final loss (mean over the last epoch{last}): {history.epochs[-1]['loss']:.6g}" if history.epochs
          else "no steps taken")
    _draw(args, history)
    if args.checkpoint is None and args.best is None and history.epochs:
        # the README's `symgrad train model.py --data train.npz --epochs 30` trained and kept nothing
        print("symgrad train: the trained values were not saved: pass --checkpoint CK.npz to keep them "
              "(symgrad evaluate and symgrad predict read it; in Python, sg.load_checkpoint('CK.npz').values)",
              file=sys.stderr)
    return 0


def _say_if_imbalanced(data, target: str) -> None:
    """A note on stderr when the epoch lines' accuracy says little: 0/1 labels of which the rarer class
    is under a fifth (always answering the common one scores its share), with the metrics that say more
    and the loss's weights."""
    y = np.asarray(data.get(target))
    if y.ndim == 0 or not y.size or y.reshape(len(y), -1).shape[1] != 1 or not np.isin(y, (0, 1)).all():
        return
    ones = int(np.sum(y == 1))
    rare = min(ones, len(y) - ones)
    if not 0 < rare < 0.2 * len(y):
        return
    common = 0 if ones == rare else 1
    print(f"symgrad train: note: {ones} of the {len(y)} training labels are 1 ({ones / len(y):.0%}): always answering "
          f"{common} scores an accuracy of {1 - rare / len(y):.2f}; --metrics loss,f1,auc gives class 1's F1 and the "
          f"ROC AUC, and the model file's loss can weigh the classes (sg.bce_with_logits(..., pos_weight="
          f"{(len(y) - ones) / max(ones, 1):.3g}), docs/training.md)", file=sys.stderr)


def _standardization(args, model, program, resumed, data) -> dict | None:
    """The means and scales the features are standardized with: --resume's, when its run's were (with
    --standardize or not: its values were trained on such data); with --standardize, those of the
    training samples ``data`` (after --validation-split: the held-out samples do not count); else None."""
    from ..compiling.training_standardize import fit_standardization
    if resumed is not None and resumed.standardized is not None:
        print(f"symgrad train: standardizing {', '.join(map(repr, resumed.standardized))} with the means and "
              f"scales of --resume {args.resume}, as its run did", file=sys.stderr)
        return resumed.standardized
    if not args.standardize:
        return None
    if resumed is not None:
        raise SymgradError(f"--standardize: --resume {args.resume} was trained on data that were not standardized; "
                           f"its values would meet features of another scale (leave --standardize out, or start "
                           f"a new run without --resume)")
    if not model.outputs:
        raise SymgradError(f"--standardize standardizes the features, the inputs the model file's outputs read: "
                           f"{args.model} defines no outputs (add outputs = [...], the network's output)")
    unread = _model.unread_inputs(model, program)
    features = [x.name for x in model.inputs if all(x is not u for u in unread)
                and not (getattr(x, "is_integer_tensor", False) or getattr(x, "is_integer", False))]
    if not features:
        raise SymgradError(f"--standardize: the inputs the outputs read are all integers (labels, indices, "
                           f"categories), which are not standardized; {args.model} has no feature to standardize")
    n = len(next(iter(data.values())))
    stats = fit_standardization(data, features)
    said = ", ".join(f"{name!r} ({stats[name]['mean'].size} column{'s' if stats[name]['mean'].size > 1 else ''})"
                     for name in features)
    print(f"symgrad train: standardizing {said} by the mean and standard deviation of each column over the {n} "
          f"training samples; they are saved with the values (--checkpoint, --best), and symgrad evaluate and "
          f"predict standardize their data alike", file=sys.stderr)
    return stats


def _in_command_words(e, args, model, lines_of=None) -> Exception:
    """sg.train's refusal of an argument, said with the command's options and files (its fields,
    not its message text, say what it is about: `TrainingArgumentError`); anything else unchanged.
    ``lines_of``: "data" / "validation" -> the line of each sample, for a table."""
    files = {"data": ("--data", args.data), "validation": ("--validation", args.validation)}
    if args.validation_split is not None:       # the validation data are part of --data's file
        files["validation"] = ("--data", f"{args.data} (the --validation-split {args.validation_split:g} held out)")
    about = getattr(e, "argument", None)
    said = getattr(e, "said", None)
    if about in files and said is not None and getattr(e, "key", None) is not None:
        # an array of that file, checked before the first step: "data['x'] has shape ..."
        flag, path = files[about]
        lines = (lines_of or {}).get(about)
        sample = getattr(e, "sample", None)
        line = (f"; that is line {lines[sample]} of {path}" if lines is not None and sample is not None
                and 0 <= sample < len(lines) else "")          # a table's sample by its line
        return SymgradError((f"{flag} {path}{said}" if said.startswith(":") else
                             f"{flag} {path}: the array {e.key!r}{said}") + line)
    if about == "metrics" and getattr(e, "dataset", None) in files and isinstance(e.__cause__, SymgradError):
        # train probes the metrics on the data first: arrays the program cannot take (a wrong
        # shape, labels that are no classes) are the data file's fault, not a metric's
        flag, path = files[e.dataset]
        cause = e.__cause__
        if getattr(cause, "argument", None) == "metrics" and getattr(cause, "fix", None):    # accuracy's
            said = (f"{cause.said}: leave target out of the model file (target names the input that holds "
                    f"class labels, for the accuracy), or give --metrics loss,mae")
        else:
            said = str(cause)
        return SymgradError(f"{flag} {path}: {said}")
    if about == "monitor" and said is not None:
        hint = ""
        if "acc" in str(args.monitor) and (model.target is None or not model.outputs):
            hint = ("; accuracy is recorded when the model file defines outputs and target (the input "
                    "holding the labels)")
        named = str(args.monitor).split("_", 1)[-1]
        if named in ("mae", "mse") and named not in (args.metrics or ()):
            hint = f"; give --metrics loss,{named} to record it"
        return SymgradError(f"--monitor {args.monitor}: {said}{hint}")
    return e


def _check_plot(args, T, inputs) -> None:
    """--plot: matplotlib there, a picture suffix, a folder to write in, and none of the command's
    other files — all before the model file runs."""
    from ..compiling import training_plot
    from .compile import check_output
    try:
        training_plot.check_plot_path(args.plot, "--plot")
    except training_plot.PlotDependencyError as e:
        raise SymgradError(f"--plot {args.plot}: {e}") from None
    check_output(args.plot, "--plot")
    _not_onto(inputs + (("--checkpoint", args.checkpoint), ("--resume", args.resume), ("--best", args.best),
                        ("--log", args.log)), "--plot", args.plot, "drawing the curves")


def _draw(args, history, ended: str | None = None) -> None:
    """Draw --plot (when given) from the epochs that ran, and say where; ``ended``: how training
    ended, when the history cannot tell (a divergence), for the title."""
    if args.plot is None:
        return
    if not (history.epochs or history.loss):
        print(f"symgrad train: no step was taken: nothing to draw to --plot {args.plot}", file=sys.stderr)
        return
    from ..compiling.training_plot import default_title, plot_history
    if args.resume is not None and args.log is not None and history.epochs:
        # a resumed run's --log holds the epochs before it too: the whole curve, not this run's part
        import dataclasses
        from ..compiling.training_log import EpochLog
        logged = EpochLog(args.log, append=True).records()
        if logged and logged[-1]["epoch"] == history.epochs[-1]["epoch"]:
            history = dataclasses.replace(history, epochs=logged)
    title = default_title(history) + (f", then {ended}" if ended else "")
    plot_history(history, args.plot, title=title)
    print(f"training curves drawn to {args.plot}")


def _progress_wanted(args) -> bool:
    """The progress bar: unless --no-progress, `train`'s own decision (on a terminal; where stderr is
    a CI log, a file or a pipe a bar is a stream of carriage returns, so there is none: the epoch lines
    on stdout are the progress)."""
    from ..compiling.training import bar_wanted
    return bar_wanted(False if args.no_progress else None)


def _save_best(T, path, history) -> str:
    """Save ``history.best`` (the best epoch's checkpoint) to ``path``; what to say about it."""
    best = history.best
    T.save(path, **vars(best))
    return (f"the values of epoch {best.epoch}, the best by {history.monitor} "
            f"({'larger' if history.mode == 'max' else 'smaller'} is better), are saved to {path}")


def _print_epochs(history, done: int = 0) -> None:
    """One line per epoch on stdout (those after the first ``done``, printed as they ended)."""
    for record in history.epochs[done:]:
        print(_epoch_line(record))


def _epoch_line(record) -> str:
    """An epoch's line: its number, mean step loss and metrics."""
    return "  ".join(f"{k} {v:.6g}" if isinstance(v, float) else f"{k} {v}"
                     for k, v in record.items() if k != "seconds")


def _resume_line(args, ck, kept_state: bool) -> str:
    """What --resume goes on from, said before the first step (Lightning's "Restored all states from
    the checkpoint"): the checkpoint's epoch and step, the epochs that follow, and the optimizer's
    step count t, which its schedule and Adam's bias correction read, when its state is kept."""
    first, last = ck.epoch + 1, ck.epoch + args.epochs
    follow = (f"epoch {first} follows" if first == last else f"epochs {first} to {last} follow" if args.epochs
              else "no epoch follows (--epochs 0)")
    saved = f"saved after epoch {ck.epoch}"
    if ck.seen:                      # Ctrl-C or SIGTERM part-way through an epoch: its next minibatch on
        saved = f"saved {ck.seen} samples into epoch {first}"
        rest = (f" and epoch {first + 1}" if args.epochs == 2 else
                f" and epochs {first + 1} to {last}" if args.epochs > 2 else "")
        follow = f"the rest of epoch {first}{rest} follow{'s' if args.epochs == 1 else ''}" if args.epochs else follow
    t = ck.state.get("t") if isinstance(ck.state, dict) else None
    counted = (f"; the optimizer's state and step count go on (t = {int(np.asarray(t).reshape(-1)[0])}, which its "
               f"learning-rate schedule reads)" if kept_state and t is not None else "")
    return f"symgrad train: resuming from {args.resume}, {saved} (step {ck.step}): {follow}{counted}"


def _check_resumed(ck, params, path, what="--resume: ") -> None:
    """The checkpoint must hold a value of the right shape for each of the model's parameters."""
    want = {p.name: tuple(int(d) for d in getattr(p, "shape", ())) for p in params}
    got = {k: np.shape(v) for k, v in ck.values.items()}
    if set(got) != set(want):
        raise SymgradError(f"{what}{path} holds values for {sorted(got)}, but the model's "
                           f"parameters are {sorted(want)}")
    for name, shape in want.items():
        if got[name] != shape:
            raise SymgradError(f"{what}{path} holds {name!r} of shape {got[name]}, but the "
                               f"model declares it {shape}")


def _one_line(e) -> str:
    return " ".join(str(e).split())
