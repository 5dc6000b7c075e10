"""``symgrad compile MODEL.py --target numpy -o step.py``: compile a model file (what it defines is
said below) into a standalone training-step module. Writing the module needs no GPU, whatever the
target: ``--target triton`` prints the Triton kernels and their host code on any machine.

The NumPy module needs only NumPy: ``loss(params, batch)``, ``grad(params, batch)`` and
``step(params, slots, t, batch)`` take lists of arrays in the order of the model file's params and
inputs (each input with the batch axis first), and its docstring says the rest
(python -c "import step; help(step)"). In Python, sg.compile(...).save("step.py") writes the same.

Examples:

    symgrad compile model.py -o step.py
    symgrad compile model.py --optimizer sgd --lr 0.1 --dtype float64 -o step.py
    symgrad compile model.py --target triton -o step_triton.py"""
from __future__ import annotations

import os
import sys

from ..compiling.files import atomic_write, folder_unwritable
from ..errors import SymgradError
from . import _model


def register(subparsers):
    p = _model.model_parser(subparsers, "compile", "compile a model file into a training-step module",
                            __doc__)
    p.epilog = __doc__.split("\n\n", 1)[1]          # how to use the module, examples
    _model.add_target_argument(p)
    p.add_argument("-o", "--output", metavar="FILE", help="write the module here (default: stdout)")
    _model.add_optimizer_arguments(p)
    p.set_defaults(func=run)


def check_output(path: str, flag: str = "-o") -> None:
    """Refuse an output path that cannot be written before any work is done: a folder, a path
    under a file, or a folder this user may not write to."""
    if os.path.isdir(path):
        raise SymgradError(f"{flag} {path}: is a directory; give the name of the file to write")
    folder = os.path.dirname(os.path.abspath(path))
    while not os.path.exists(folder):         # atomic_write makes the missing folders
        folder = os.path.dirname(folder)
    if not os.path.isdir(folder):
        raise SymgradError(f"{flag} {path}: {folder} is a file, not a folder")
    why = folder_unwritable(folder)     # tried by writing: a read-only mount, /proc; root too
    if why is not None:
        raise SymgradError(f"{flag} {path}: the folder {folder} is not writable ({why})")


def same_file(a, b) -> bool:
    """Whether the paths a and b name one existing file (through links, ./, case of the path)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def run(args) -> int:
    if args.output:
        check_output(args.output)
        if same_file(args.output, args.model):
            raise SymgradError(f"-o {args.output}: that is the model file; writing the module there "
                               f"would overwrite it (give another file name)")
    model = _model.load_model(args.model)
    opt = _model.choose_optimizer(model, args.optimizer, args.lr, args.clip_grad_norm, args.clip_grad_value)
    source = _model.compile_source(model, args.target, opt, args.dtype)     # no device needed
    if args.output:
        atomic_write(args.output, source, suffix=".py")
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(source)
    return 0
