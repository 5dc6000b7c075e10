"""What ``symgrad evaluate`` and ``symgrad predict`` share: a model file, a checkpoint of its trained
values (``symgrad train --checkpoint`` or ``--best``), the data file, and the program compiled from
the model file without an optimizer (nothing is trained)."""
from __future__ import annotations

import sys
from dataclasses import dataclass

from ..errors import DataError, SymgradError
from . import _model
from .csv_data import columns_unlike


@dataclass
class Trained:
    """What `restore` read: the model file (`_model.load_model`), its checkpoint (values, step,
    epoch) and the NumPy program compiled from the model file without an optimizer."""
    model: object
    checkpoint: object
    program: object


def add_arguments(p, data_help: str) -> None:
    """The checkpoint positional (after MODEL.py), --data, --batch-size, --dtype and --target (numpy
    only: taken so that train's --target triton is refused in words, see `restore`)."""
    from .command import int_at_least
    p.add_argument("checkpoint", metavar="CK.npz",
                   help="the trained values: a checkpoint of symgrad train --checkpoint (or --best), or of "
                        "sg.train(checkpoint=...)")
    p.add_argument("--data", required=True, metavar="DATA", help=data_help)
    p.add_argument("--batch-size", type=int_at_least(1), default=1024,
                   help="samples per call of the compiled program (default 1024; the results do not depend "
                        "on it)")
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"],
                   help="floating-point type of the compiled program (default float32)")
    p.add_argument("--target", default="numpy", choices=["numpy", "triton"], type=_model._backend,
                   help="numpy only: it runs the compiled NumPy program on the CPU. A checkpoint holds the "
                        "values alone, the same whichever symgrad train --target wrote it, so one trained "
                        "with --target triton is read here as it is (triton: refused, saying so)")


def restore(args, command: str) -> Trained:
    """The checkpoint (read first: a wrong path is said before the model file runs), the model file,
    the one checked against the other, and the program."""
    from ..compiling import training as T
    from .train import _check_resumed
    if args.target != "numpy":          # taken, so that train's options pasted here are told, not "unrecognized"
        raise SymgradError(f"--target {args.target}: symgrad {command} runs on the NumPy target (the CPU) only; "
                           f"a checkpoint holds the values alone, the same whichever --target trained them, so "
                           f"{args.checkpoint} is read without it: leave --target out")
    try:
        ck = T.load(args.checkpoint)
    except T.CheckpointError as e:
        raise SymgradError(str(e)) from e          # it names the file ("m.csv: m.csv is not ..." said it twice)
    model = _model.load_model(args.model)
    _check_resumed(ck, model.params, args.checkpoint, "the checkpoint ")
    program = _model.compile_program(model, "numpy", None, args.dtype)
    print(f"symgrad {command}: the values of {args.checkpoint} (saved after epoch {ck.epoch}, step {ck.step})",
          file=sys.stderr)
    return Trained(model, ck, program)


def checked(program, data: dict, args, lines=None) -> dict:
    """``data`` as sg.train checks it before the first step (shapes as declared, labels in range),
    its errors said as symgrad train says them: with --data's file, and a table's line (``lines``:
    the line of each sample)."""
    from types import SimpleNamespace
    from ..compiling.training_data import _check_data, _check_data_labels, _check_declared_shapes
    from ..compiling.training_results import TrainingArgumentError
    from ..errors import DataError
    from .train import _in_command_words
    try:
        data = _check_data(data)
        _check_declared_shapes(program, data)
        _check_data_labels(program, data)
    except (DataError, TrainingArgumentError) as e:
        as_train = SimpleNamespace(data=args.data, validation=None, validation_split=None, monitor=None)
        said = _in_command_words(e, as_train, None, {"data": lines})
        raise (SymgradError(f"--data {args.data}: {e}") if said is e else said) from None
    return data


def standardized_as_trained(trained: Trained, data: dict, args, command: str) -> dict:
    """``data`` standardized as the checkpoint's run standardized its own (symgrad train
    --standardize), said on stderr; as it is when that run's were not."""
    stats = trained.checkpoint.standardized
    if not stats:
        return data
    from ..compiling.training_standardize import standardized
    print(f"symgrad {command}: standardizing {', '.join(map(repr, stats))} of --data with the means and scales "
          f"{args.checkpoint} was trained with (symgrad train --standardize)", file=sys.stderr)
    try:
        return standardized(data, stats)
    except ValueError as e:
        raise SymgradError(f"--data {args.data}: {e}") from None


def check_columns_as_trained(trained: Trained, data, args) -> None:
    """A table whose header names its columns otherwise than the training table's did is refused
    (`csv_data.columns_unlike`)."""
    why = columns_unlike(trained.checkpoint.columns, getattr(data, "columns", None), args.checkpoint)
    if why:
        raise DataError(f"--data {args.data}: {why}")
