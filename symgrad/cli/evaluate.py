"""``symgrad evaluate MODEL.py CK.npz --data test.csv``: the loss (and, when the model file names its
``target`` and ``outputs``, the accuracy) of the trained values of a checkpoint on a data file — a
test set held out of training, as Keras's ``model.evaluate`` and Lightning's ``trainer.test`` give
them. The data file is as ``symgrad train --data`` reads it (a .npz of one array per input, or a .csv
table whose columns are the inputs' entries in the order of the model file's inputs).

It prints one line on stdout: ``samples 100  loss 0.186  accuracy 0.94``. The loss is the model's
loss over all of the data (the mean over the samples, as the epoch lines' val_loss); the accuracy,
the fraction of samples whose predicted class is the label. ``--metrics loss,mae`` gives a
regression's mean absolute error instead (``mse``: the mean squared one), as symgrad train's does.

It runs on the NumPy target, on the CPU: a checkpoint holds the values alone, so one that symgrad
train --target triton wrote is read as any other (--target triton is refused, saying so).

Exit status: 0 evaluated, 2 bad input (one line on stderr saying what and where).

Examples:

    symgrad train model.py --data train.csv --validation-split 0.2 --epochs 30 --checkpoint ck.npz
    symgrad evaluate model.py ck.npz --data test.csv
    symgrad evaluate model.py ck.npz --data test.npz --dtype float64"""
from __future__ import annotations

from ..errors import SymgradError
from . import _model, _trained
from .train import _metric_names, _metrics, load_data


def register(subparsers):
    p = _model.model_parser(subparsers, "evaluate", "the loss and accuracy of a checkpoint on a test file",
                            __doc__)
    p.epilog = __doc__.split("\n\n", 1)[1]
    _trained.add_arguments(p, "the test data, as symgrad train's --data: a .npz with one array per input, "
                              "or a .csv (.tsv) table, one row per sample")
    p.add_argument("--metrics", type=_metric_names, metavar="NAMES",
                   help="as symgrad train's, separated by commas: loss (always), accuracy, precision, recall, f1, "
                        "auc, mae, mse (default: loss, "
                        "and accuracy when the model file names its target; there, a regression's real-valued target is refused: give loss,mae)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..compiling import training as T
    from ..compiling.training_arrays import num_samples
    trained = _trained.restore(args, "evaluate")
    model, values = trained.model, trained.checkpoint.values
    # the file may lack what the outputs do not read (the labels): said as such, not as a column count
    unread = _model.unread_inputs(model, trained.program)
    data = load_data(args.data, model.inputs, without=unread, command="evaluate")
    _trained.check_columns_as_trained(trained, data, args)
    missing = [x.name for x in unread if x.name not in data]
    if missing:
        raise SymgradError(f"--data {args.data} holds no {' or '.join(map(repr, missing))} (the targets the loss "
                           f"compares the outputs with): evaluate needs every input of the model file; symgrad "
                           f"predict takes the features alone")
    data = _trained.checked(trained.program, data, args, getattr(data, "lines", None))
    data = _trained.standardized_as_trained(trained, data, args, "evaluate")
    record = {"samples": num_samples(data), "loss": T.mean_loss(trained.program, values, data, args.batch_size)}
    for name, metric in _metrics(T, args, model, trained.program).items():
        if name == "loss":
            continue
        try:
            record[name] = metric(trained.program, values, data)
        except T.TrainingArgumentError as e:
            if getattr(e, "argument", None) == "metrics" and getattr(e, "fix", None):     # accuracy's: real targets
                raise SymgradError(f"--data {args.data}: {e.said}: give --metrics loss,mae (or leave target out of "
                                   f"the model file)") from None
            raise
    print("  ".join(f"{k} {v:.6g}" if isinstance(v, float) else f"{k} {v}" for k, v in record.items()))
    return 0
