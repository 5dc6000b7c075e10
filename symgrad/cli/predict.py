"""``symgrad predict MODEL.py CK.npz --data new.csv -o predictions.csv``: the model file's ``outputs``
at the trained values of a checkpoint, for each sample of a data file — Keras's ``model.predict``.

The data file holds the inputs the outputs read (the features): a .csv table with their columns only
(the labels' left out), or with every input's columns as symgrad train reads them (a test file: its
labels are not used); a .npz with an array per input read (the labels' array may be there too).

The predictions are one row per sample, in the order of the data: each output's entries (one column
for a single number, output_0, output_1, … for several, the second output's columns named output1_0,
…), and, when the model file names its ``target`` (a classifier), a last column ``class``: the arg-max
of the scores, or for one score 1 where it is above 0 (a logit) or 0.5 (a probability), as the
accuracy of symgrad train counts it. They go to -o as a .csv (.tsv) table with a header row (an
image's entries in row-major order), or a .npz with one array per output in its shape, output
(samples, 10) for scores, (samples, 1, 8, 8) for images, and class; without -o, to stdout as CSV.

It runs on the NumPy target, on the CPU: a checkpoint holds the values alone, so one that symgrad
train --target triton wrote is read as any other (--target triton is refused, saying so).

Exit status: 0 written, 2 bad input (one line on stderr saying what and where).

Examples:

    symgrad predict model.py ck.npz --data new.csv -o predictions.csv
    symgrad predict model.py ck.npz --data test.npz -o predictions.npz
    symgrad predict model.py ck.npz --data test.csv
    symgrad predict model.py ck.npz --data new.csv --probabilities -o predictions.csv"""
from __future__ import annotations

import io
import sys

import numpy as np

from ..compiling.files import atomic_write
from ..errors import SymgradError
from . import _model, _trained
from .csv_data import is_table
from .train import _not_onto, load_data


def register(subparsers):
    p = _model.model_parser(subparsers, "predict", "the outputs of a checkpoint on new data", __doc__)
    p.epilog = __doc__.split("\n\n", 1)[1]
    _trained.add_arguments(p, "the samples: a .npz with one array per input the outputs read, or a .csv (.tsv) "
                              "table of their columns (a table with every input's columns, labels too, is "
                              "read as symgrad train reads it)")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write the predictions here: a .csv or .tsv table, or a .npz (default: CSV on stdout)")
    p.add_argument("--probabilities", action="store_true",
                   help="a classifier's (a model file naming its target): add each sample's class probabilities "
                        "(scikit-learn's predict_proba) — probability, of class 1, for one logit (its sigmoid); "
                        "probability_0, probability_1, … for several (the softmax of the scores); an output "
                        "that is a probability already is written as it is"),
    p.set_defaults(func=run)


def run(args) -> int:
    from ..compiling.training import predict
    from ..compiling.training_metrics import probabilities_of
    from .compile import check_output
    if args.output:
        if not (is_table(args.output) or args.output.lower().endswith(".npz")):
            raise SymgradError(f"-o {args.output}: predictions are written as a .csv or .tsv table, or a .npz; "
                               f"give a file name with one of those suffixes")
        # -o onto the data or the checkpoint replaced it with the predictions (symgrad train refuses as much)
        _not_onto((("--data", args.data), ("the checkpoint", args.checkpoint), ("the model file", args.model)),
                  "-o", args.output, "writing the predictions")
        check_output(args.output)
    trained = _trained.restore(args, "predict")
    model, program = trained.model, trained.program
    if not model.outputs:
        raise SymgradError(f"{args.model} defines no outputs: predict computes them; add outputs = [...] (the "
                           f"network's output, e.g. the scores before the loss) to the model file")
    if args.probabilities and model.target is None:
        raise SymgradError(f"--probabilities: class probabilities are a classifier's, and {args.model} names no "
                           f"target (the input holding the class labels): add target = <that input> to it")
    unread = _model.unread_inputs(model, program)
    data = load_data(args.data, model.inputs, without=unread, command="predict")
    _trained.check_columns_as_trained(trained, data, args)
    features = {x.name: data[x.name] for x in model.inputs if all(x is not u for u in unread)}
    data = _trained.checked(program, features, args, getattr(data, "lines", None))
    data = _trained.standardized_as_trained(trained, data, args, "predict")
    columns, arrays = {}, {}        # a table's columns; a .npz's arrays, each output in its own shape
    for i in range(len(model.outputs)):
        shaped = predict(program, trained.checkpoint.values, data, args.batch_size, output=i, flat=False)
        out = shaped.reshape(len(shaped), -1)
        stem = "output" if i == 0 else f"output{i}"
        arrays[stem] = out[:, 0] if out.shape[1] == 1 else shaped
        if out.shape[1] == 1:
            columns[stem] = out[:, 0]
        else:
            columns.update({f"{stem}_{j}": out[:, j] for j in range(out.shape[1])})
        if i == 0 and model.target is not None:
            columns["class"] = arrays["class"] = _classes(program, out)
        if i == 0 and args.probabilities:
            prob = probabilities_of(program, out)
            arrays["probability"] = prob[:, 0] if prob.shape[1] == 1 else prob
            columns.update({"probability": prob[:, 0]} if prob.shape[1] == 1 else
                           {f"probability_{j}": prob[:, j] for j in range(prob.shape[1])})
    if args.output and args.output.lower().endswith(".npz"):
        # one array per output, (samples, *one sample's shape) as Keras's predict returns it: an
        # image (n, 1, 8, 8) rather than 64 arrays output_0 … output_63 (until 2026-12-01, eleventh session)
        atomic_write(args.output, lambda f: np.savez(f, **arrays), suffix=".npz.tmp")
        print(f"symgrad predict: wrote {', '.join(f'{k} {v.shape}' for k, v in arrays.items())} to {args.output}",
              file=sys.stderr)
        return 0
    else:
        text = _table(columns, "\t" if args.output and args.output.lower().endswith(".tsv") else ",",
                      9 if args.dtype == "float32" else 17)
        if args.output:
            atomic_write(args.output, text, suffix=".csv.tmp")
        else:
            sys.stdout.write(text)
    if args.output:
        n = len(next(iter(columns.values())))
        names = list(columns)
        said = ", ".join(names) if len(names) <= 12 else f"{len(names)} columns: {names[0]}, {names[1]} … {names[-1]}"
        print(f"symgrad predict: wrote {n} rows ({said}) to {args.output}", file=sys.stderr)
    return 0


def _classes(program, out) -> np.ndarray:
    """The predicted class of each row of scores, as `accuracy` counts it."""
    from ..compiling.training_metrics import output_is_logit
    if out.shape[1] > 1:
        return out.argmax(axis=1)
    return (out[:, 0] > (0.0 if output_is_logit(program, 0) else 0.5)).astype(np.int64)


def _table(columns: dict, sep: str, digits: int) -> str:
    """The columns as a table with a header row; each number with the digits that read it back
    exactly (9 for float32, 17 for float64), integers as integers."""
    buf = io.StringIO()
    buf.write(sep.join(columns) + "\n")
    cols = list(columns.values())
    for row in zip(*cols):
        buf.write(sep.join(str(int(v)) if np.issubdtype(type(v), np.integer) else f"{float(v):.{digits}g}"
                           for v in row) + "\n")
    return buf.getvalue()
