"""``symgrad compile MODEL.py --target numpy -o step.py``: compile a model file (see
symgrad/cli/_model.py for what it defines) into a standalone training-step module."""
from __future__ import annotations

import sys

from . import _model


def register(subparsers):
    p = _model.model_parser(subparsers, "compile", "compile a model file into a training-step module",
                            __doc__)
    _model.add_target_argument(p, "the backend (default numpy)")
    p.add_argument("-o", "--output", metavar="FILE", help="write the module here (default: stdout)")
    _model.add_optimizer_arguments(p)
    p.set_defaults(func=run)


def run(args) -> int:
    model = _model.load_model(args.model)
    opt = _model.choose_optimizer(model, args.optimizer, args.lr)
    program = _model.compile_program(model, args.target, opt, args.dtype)
    if args.output:
        program.save(args.output)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(program.source)
    return 0
