"""What a model file (MODEL.py) of ``symgrad compile``, ``train``, ``evaluate`` and ``predict`` defines.

MODEL.py is Python and is run as such: only pass files you trust. (Every other argument is data:
file names, numbers and choices; nothing else is run or evaluated.)

A model file is a Python script that defines, at module level:

    loss        the per-example loss: a scalar SymPy expression              (required)
    params      the parameters: a list of Symbols, MatrixSymbols or tensors  (required)
                (sg.tensor: per example, or over a batch of symbolic size N)
    inputs      the inputs (features and targets): a list of them            (required)
    outputs     the network's output(s), for accuracy and symgrad predict    (optional)
    optimizer   a symgrad optimizer, e.g. sg.optim.Adam(lr=1e-3), or the     (optional)
                name of one with its defaults: sgd, momentum, nesterov,
                adagrad, rmsprop, adam, adamw
    values      initial parameter values {name: array}                       (optional; default:
                symgrad's initial values, drawn with --seed)
    target      the input holding the class labels (not the --target         (optional)
                backend); with ``outputs``, ``symgrad train`` reports the accuracy

Every symbol the loss uses is a parameter or an input: a constant is written as a number.

For example (a softmax regression on 4 features and 3 classes)::

    import sympy as sp, symgrad as sg
    W, b = sp.MatrixSymbol("W", 3, 4), sp.MatrixSymbol("b", 3, 1)
    x, t = sp.MatrixSymbol("x", 4, 1), sp.MatrixSymbol("t", 3, 1)
    outputs = [W * x + b]
    loss = sg.cross_entropy(outputs[0], t)
    params, inputs, target = [W, b], [x, t], t
    optimizer = sg.optim.Adam(lr=0.01)
"""
from __future__ import annotations

import argparse
import contextlib
import os
import runpy
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import sympy as sp

from ..compiling import optim
from ..errors import ArgumentError, FreeSymbolError, SymgradError
from ..frontend.tensor import Tensor


@dataclass
class Model:
    path: str
    loss: object
    params: list
    inputs: list
    outputs: list | None = None
    optimizer: object = None
    values: dict | None = None
    target: object = None


def _symbols(ns, name, path, required=True):
    xs = ns.get(name)
    if xs is None:
        if required:
            raise SymgradError(f"{path} defines no {name!r}: a model file must define loss, params "
                               f"and inputs (see `symgrad compile --help`)")
        return None
    kinds = (sp.Symbol, sp.MatrixSymbol, Tensor)       # tensors: per example, or over the batch (N)
    if isinstance(xs, kinds):
        xs = [xs]
    if not isinstance(xs, (list, tuple)) or not all(isinstance(s, kinds) for s in xs):
        raise SymgradError(f"{path}: {name!r} must be a list of SymPy Symbols, MatrixSymbols or "
                           f"tensors (sg.tensor), got {xs!r}")
    return list(xs)


def _line_of(e: BaseException, path: str) -> str:
    """' at line 7' — the model file's line where ``e`` was raised (the last frame in that file: a
    call into symgrad or SymPy that failed is named by the user's line that made it); '' when no
    frame is the file's. A SyntaxError names its line itself."""
    import traceback
    if isinstance(e, SyntaxError):
        return ""
    here = os.path.realpath(path)
    lines = [f.lineno for f in traceback.extract_tb(e.__traceback__)
             if os.path.realpath(f.filename) == here]
    return f" at line {lines[-1]}" if lines else ""


def _nearest_name(e: BaseException) -> str:
    """' (did you mean 'W1'?)' for a NameError or a module's AttributeError (sg.optim.Adamm) whose
    name is close to one that exists, as Python 3.12's traceback says it ('' when the message
    already suggests one, or none is close)."""
    import difflib
    import types
    if "did you mean" in str(e).lower():
        return ""
    name, known = getattr(e, "name", None), ()
    if isinstance(e, NameError) and name:
        tb = e.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        if tb is not None:
            import builtins
            known = list(tb.tb_frame.f_globals) + list(tb.tb_frame.f_locals) + dir(builtins)
    elif isinstance(e, AttributeError) and name and isinstance(getattr(e, "obj", None), types.ModuleType):
        known = [k for k in dir(e.obj) if not k.startswith("_")]
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6) if name else []
    if not close and name:           # a case slip: sg.optim.ADAM
        close = [k for k in known if k.lower() == name.lower()][:1]
    return f" (did you mean {close[0]!r}?)" if close else ""


def load_model(path) -> Model:
    """Run the model file and collect what it defines (see the module docstring)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise SymgradError(f"no such model file: {path}")
    try:
        ns = runpy.run_path(path, run_name="__symgrad_model__")
    except (Exception, SystemExit) as e:          # the user's script: report, never a traceback
        hint = ""
        if "noncommutative scalars in MatMul" in str(e):   # sp.tanh(W*x + b) used in a product
            hint = (" (a SymPy function of a matrix, such as sp.tanh(W*x + b), is not taken entry by "
                    "entry: write sg.tanh(W*x + b); sg.exp, sg.log, sg.sqrt, sg.abs, sg.erf, the "
                    "activations and sg.elementwise(f, M) likewise)")
        else:
            hint = _nearest_name(e)
        raise SymgradError(f"running {path} failed{_line_of(e, path)}: {type(e).__name__}: {e}{hint}") from e
    loss = ns.get("loss")
    if loss is None:
        _symbols(ns, "loss", path)
    if not isinstance(loss, sp.Basic):
        raise SymgradError(f"{path}: 'loss' must be a SymPy expression, got {type(loss).__name__}")
    outputs = ns.get("outputs")
    if outputs is not None and not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    opt = ns.get("optimizer")
    if isinstance(opt, str) and opt.lower() in optim.NAMES:      # as sg.compile(optimizer="adam")
        opt = optim.make(opt)
    elif opt is not None and not isinstance(opt, optim.Optimizer):
        import difflib
        close = difflib.get_close_matches(opt.lower(), optim.NAMES, n=1, cutoff=0.6) if isinstance(opt, str) else []
        raise SymgradError(f"{path}: 'optimizer' must be a symgrad optimizer (e.g. sg.optim.Adam(lr=1e-3)) "
                           f"or one of the names {', '.join(optim.NAMES)}; got {opt!r}"
                           + (f" (did you mean {close[0]!r}?)" if close else ""))
    params = _symbols(ns, "params", path)
    inputs = _symbols(ns, "inputs", path)
    both = [p for p in params if any(p is x or p == x for x in inputs)]
    if both:        # it was sg.compile's "two parameters/inputs share the name 'x'"
        raise SymgradError(f"{path}: {', '.join(repr(getattr(p, 'name', str(p))) for p in both)} "
                           f"{'is' if len(both) == 1 else 'are'} in both params and inputs: a parameter is "
                           f"trained, an input is read from the data; list each in one of them")
    return Model(path, loss, params, inputs,
                 list(outputs) if outputs is not None else None, opt,
                 _values(ns.get("values"), params, path), ns.get("target"))


def _values(values, params, path):
    """The model file's initial ``values``, checked against its ``params`` here, so that a mistake is
    said in the model file's words (not as the --data the first probe of training runs on)."""
    if values is None:
        return None
    if not isinstance(values, Mapping):
        raise SymgradError(f"{path}: 'values' must be a dict {{parameter name: array}}, got "
                           f"{type(values).__name__}")
    shapes = {getattr(p, "name", str(p)): tuple(int(d) for d in getattr(p, "shape", ())) for p in params}
    for key, v in values.items():
        name = getattr(key, "name", key)
        if name not in shapes:
            close = [n for n in shapes if str(n).lower() == str(name).lower()]
            raise SymgradError(f"{path}: values[{name!r}] is not a parameter"
                               + (f" (did you mean {close[0]!r}?)" if close else "")
                               + f"; the parameters are {', '.join(map(repr, shapes))}")
        try:
            shape = np.shape(v)
        except ValueError as e:                          # ragged lists
            raise SymgradError(f"{path}: values[{name!r}] is not a rectangular array ({e})") from None
        if shape != shapes[name]:
            raise SymgradError(f"{path}: values[{name!r}] has shape {shape}, but {name} is declared "
                               f"{shapes[name]}")
    return values


def choose_optimizer(model: Model, name=None, lr=None, clip_grad_norm=None, clip_grad_value=None):
    """--optimizer NAME (with --lr) wins; else the model's optimizer (its lr replaced by --lr);
    else Adam with lr 1e-3 (or --lr). --clip-grad-norm / --clip-grad-value set the chosen one's
    clipping (a model file's optimizer keeps its own otherwise)."""
    if name is not None:
        opt = optim.make(name, **({} if lr is None else {"lr": lr}))
    elif model.optimizer is not None:
        opt = model.optimizer if lr is None else replace(model.optimizer, lr=_scaled_schedule(model.optimizer.lr, lr))
    else:
        opt = optim.Adam(lr=1e-3 if lr is None else lr)
    clip = {k: v for k, v in (("clip_grad_norm", clip_grad_norm), ("clip_grad_value", clip_grad_value))
            if v is not None}
    for name, v in clip.items():      # in the command line's words: --clip-grad-norm -1, not clip_grad_norm=-1.0
        try:
            replace(opt, **{name: v})
        except ArgumentError:           # (argparse made it a float: only its range can be wrong)
            raise ArgumentError(f"--{name.replace('_', '-')} {v:g}: must be a finite number > 0 (leave the "
                                f"option out for no clipping)") from None
    return replace(opt, **clip) if clip else opt


def _scaled_schedule(old, lr):
    """What --lr LR makes of a model file's learning rate ``old``: a number is replaced; a
    `WarmupCosine` keeps its shape with LR at its peak (its lr_min scaled alike), a `LinearAnnealing`
    starts at LR (its end scaled alike) — torch's schedulers scale the base lr the same way. Any
    other schedule (a function of t) becomes the constant LR, and the command says so on stderr (it
    was replaced silently, the warm-up and decay lost)."""
    from ..compiling.optim import LinearAnnealing, _schedule
    from ..compiling.schedules import WarmupCosine
    if not _schedule(old):
        return lr
    if isinstance(old, WarmupCosine):
        k = lr / old.lr if old.lr else 0.0
        return replace(old, lr=lr, lr_min=old.lr_min * k)
    if isinstance(old, LinearAnnealing):
        k = lr / old.lr0 if old.lr0 else 0.0
        return replace(old, lr0=lr, lr_end=old.lr_end * k)
    import sys
    print(f"symgrad: --lr {lr:g} replaces the model file's learning-rate schedule "
          f"{getattr(old, '__name__', type(old).__name__)} with a constant {lr:g} (a WarmupCosine or "
          f"LinearAnnealing schedule would be scaled to it instead)", file=sys.stderr)
    return lr


def compile_program(model: Model, target="numpy", optimizer=None, dtype="float32"):
    """sg.compile on what the model file defines."""
    from ..compiling.compiler import compile as sg_compile      # the compiler, loaded on first use
    extra = {} if model.outputs is None else {"outputs": model.outputs}
    with _in_model_file(model):
        try:
            return sg_compile(model.loss, params=model.params, inputs=model.inputs, target=target,
                              optimizer=optimizer, dtype=dtype, **extra)
        except SymgradError as e:
            if "target='triton' needs a CUDA device" not in str(e):
                raise
            # said in the command's words (it was sg.compile's target='triton', and no word of the CPU target)
            raise SymgradError("--target triton needs a CUDA GPU, and this machine has none: leave --target out "
                               "to train with NumPy on the CPU (the default, --target numpy; a checkpoint is the "
                               "same either way), or set TRITON_INTERPRET=1 to run the kernels on the CPU (slow: "
                               "for tests with small shapes)") from None


@contextlib.contextmanager
def _in_model_file(model: Model):
    """A symbol the model file uses but does not declare, said in the model file's words (its
    ``params`` and ``inputs`` lists, not the ``params=[...]`` of sg.compile)."""
    try:
        yield
    except FreeSymbolError as e:
        names = getattr(e, "names", None)
        said = str(e) if names is None else (f"{e.said}; add {'it' if len(names) == 1 else 'each'} to the model "
                                             f"file's params or inputs list (or write a constant as a number)")
        raise FreeSymbolError(f"{model.path}: {said}") from None


def compile_source(model: Model, target="numpy", optimizer=None, dtype="float32") -> str:
    """The generated module of what the model file defines, without making a `Program`: printing a
    module needs no device, running it does (the Triton backend's Program needs a CUDA GPU, or
    TRITON_INTERPRET=1, only to run the kernels)."""
    from ..compiling.compiler import _backend, specify
    extra = {} if model.outputs is None else {"outputs": model.outputs}
    with _in_model_file(model):
        spec = specify(model.loss, params=model.params, inputs=model.inputs, optimizer=optimizer,
                       dtype=dtype, target=target, **extra)
    return _backend(target)(spec).source


def model_parser(subparsers, name: str, help: str, doc: str):
    """The subparser of a command that takes a model file: its description (the command's
    docstring's first paragraph, then this module's) and the MODEL.py positional."""
    p = subparsers.add_parser(name, help=help, description=doc.split("\n\n")[0] + "\n\n" + __doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", metavar="MODEL.py", help="a Python file defining loss, params, inputs; it is run as "
                                            "Python, so only pass files you trust")
    return p


def add_target_argument(parser, help: str = "the backend that runs the step: numpy (default) or "
                                           "triton"):
    parser.add_argument("--target", default="numpy", choices=["numpy", "triton"], type=_backend, help=help)


def _backend(text: str) -> str:
    """An argparse type for --target: numpy or triton (any case). Anything else is most likely a
    label column (``--target churn``, as AutoML tools and pandas scripts name it): said as such, not
    only as an invalid choice."""
    if text.lower() in ("numpy", "triton"):
        return text.lower()
    raise argparse.ArgumentTypeError(
        f"{text!r} is no backend: --target chooses the backend that runs the step, numpy (the default) or "
        f"triton. The labels are the model file's: target = <the input holding them>; a table's columns go "
        f"to the model file's inputs in their order (inputs = [x, y]: x's columns first, then y's)")


def add_optimizer_arguments(parser):
    parser.add_argument("--optimizer", choices=optim.NAMES, type=str.lower,
                        help="the optimizer (default: the model file's optimizer, else adam)")
    from .command import finite_at_least
    parser.add_argument("--lr", type=finite_at_least(0),
                        help="learning rate: replaces the optimizer's; a WarmupCosine schedule keeps its shape with "
                             "LR at its peak, a LinearAnnealing starts at LR, any other schedule becomes the "
                             "constant LR (said on stderr)")
    parser.add_argument("--clip-grad-norm", type=float, metavar="MAX_NORM",
                        help="clip the gradients by their global 2-norm before each update (torch's "
                             "clip_grad_norm_(parameters, max_norm))")
    parser.add_argument("--clip-grad-value", type=float, metavar="V",
                        help="clip each gradient entry to [-V, V] before each update (torch's clip_grad_value_)")
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"],
                        help="floating-point type of the compiled program (default float32)")


def unread_inputs(model, program) -> list:
    """The model file's inputs that its outputs do not read (the labels, the targets of the loss):
    what a data file for predict may leave out, evaluate names when it does, and train
    --standardize leaves as they are. [] without outputs (the loss reads every input)."""
    if not model.outputs:
        return []
    return [x for x, read in zip(model.inputs, program._needs["forward"]) if not read]
