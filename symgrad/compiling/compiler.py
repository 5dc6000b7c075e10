"""`compile`: a declared loss → a `Program` that runs it on batches (loss, gradients, training step).

The core side of compilation, backend-neutral: check the declaration, lower the loss to the IR,
apply the stability rewrites, derive the gradients by reverse mode, and hand the result (a `Spec`)
to the backend registered for the target. Backends register themselves in `BACKENDS` when their
module is imported; the core imports a backend's module only when a program for its target is
compiled (``target="numpy"`` imports ``codegen.numpy_backend`` on first use).

Beside it: `symgrad.compiling.backends` (where a backend registers, the `Spec` it gets and the
`Compiled` it gives), `symgrad.compiling.program` (the `Program` compile returns) and
`symgrad.compiling.batch_checks` (the checks of a batch's arrays); their names are re-exported here.

Conventions (``shared/DESIGN.md``): the network is declared for ONE example; at run time each
input has a leading batch axis — a per-example (n, 1) or (n,) input is passed as (B, n), a scalar
as (B,), a (1, n) row as (B, n), an (m, n) matrix as (B, m, n). The loss is the mean over the batch
of the per-example loss (``reduction="sum"``: the sum). A declaration over the batch (tensors with
a symbolic size N) runs as written instead: `symgrad.compiling.whole_batch`. Tensors of fixed shapes
are per example, an input of shape s passed as (B, *s): `symgrad.compiling.batching` batches them.
Values are dicts keyed by the SymPy symbol or its name; parameters have their declared shape (a
scalar parameter is a 0-d array or a float).

>>> import numpy as np, sympy as sp, symgrad as sg
>>> w, x, y = sp.symbols('w x y')                     # the world's smallest perceptron, y = w·x
>>> prog = sg.compile((w * x - y) ** 2 / 2, params=[w], inputs=[x, y], dtype="float64")
>>> batch = {"x": np.array([10, 2, 3.5, 1]), "y": np.array([10.1, 1.9, 3.4, 1.1])}
>>> round(prog.loss({"w": 1.0}, batch), 6)
0.005
>>> round(float(prog.grad({"w": 1.0}, batch)["w"]), 6)
-0.1375
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from ..core import rules as R
from ..frontend.masks import masks_in, switch_off
from ..frontend.keywords import keywords
from ..frontend.parse import parse_expr
from ..frontend.tensor import Tensor
from ..errors import ArgumentError, FreeSymbolError, ShapeError, SymgradError
from ..errors import show_value          # a NumPy scalar in a message as its number
from ..core.ir import Graph, format_shape
from ..core.lower import Lowering
from ..core.policy import DEFAULT, Subgradients, check_policy
from ..core.reverse import backward
from .batch_kind import check_declaration, per_example_tensors
from .batching import Lift
from .options_elsewhere import ELSEWHERE
# where backends register, what they get and give, and the checks of a batch's arrays: re-exported
# (the backends and programs import them from here too)
from .backends import (_ADAPTER_MODULES, _BACKEND_MODULES, ADAPTERS, BACKENDS, Compiled,  # noqa: F401
                       Lowered, Spec, _backend, _plugin, register_adapter, register_backend, safe_text)
from .batch_checks import (_shape, _batch_text, _batched_shape, as_numbers, check_labels, check_state,  # noqa: F401
                           empty_batch, fit_batch_input, label_inputs, label_range_error, row_index_inputs,
                           same_batch_size)
from .optim_group_lr import warn_constant_group_lrs
from .optim_skip import warn_no_gradient
from .pull_factors import pull_factors
from ..core.stable_logs import log_softmax_rewrite
from .rewrite import stabilize
# the program compile returns, and its optimizer helpers: re-exported (backends import them from here)
from .program import (Program, _mask_generator, _optimizer_text, initial_value, optimizer_slots,  # noqa: F401
                      param_optimizer)


def _lower(loss, params, inputs, outputs, policy, with_grads: bool, whole: bool = False,
           lift: Lift | None = None) -> Lowered:
    graph = Graph(policy)
    low = Lowering(graph, params=params)
    out = low(loss)
    if out.shape == (1, 1):
        out = R.reduce_sum(graph, out, None)
    elif out.shape != ():
        raise ShapeError(f"the loss must be a scalar per example, but it has shape {format_shape(out.shape)}")
    outs = [low(o) for o in outputs]
    # log(softmax(z)) read as log_softmax(z) first (core/stable_logs.py), then the other stable forms
    stable = stabilize(graph, log_softmax_rewrite(graph, [out] + outs))
    out, outs = stable[0], stable[1:]
    masks = masks_in(loss)
    lw = Lowered(graph, out, [None] * len(params), [None] * len(inputs), [], outputs=outs)
    notes = lw.notes
    for i, p in enumerate(params):
        lw.params[i] = low.leaf(p).id
    for i, x in enumerate(inputs):
        lw.inputs[i] = low.leaf(x).id
    for m in masks:
        lw.masks.append((low.leaf(m).id, _shape(m), m.p))
    for vid, e in low.exprs.items():
        if not graph.producer[vid].prim.leaf:
            text = _short(e)
            if text is not None:
                notes[vid] = "= " + safe_text(text)
    if lift is not None:            # a per-example declaration of tensors: its batched graph
        lw = lift(lw)
        graph, out, notes = lw.graph, lw.loss, lw.notes
    if with_grads:
        seed_sym = sp.Dummy("scale", real=True)
        seed = graph.bind(R.input_p, (), (seed_sym, ()))
        lw.scale = seed.id
        wrt = [graph.producer[i].out for i in lw.params]

        def on_step(eqn, g, cts):
            notes.setdefault(g.id, f"∂L/∂v{eqn.out.id}: the adjoint of v{eqn.out.id}")
            for u, c in zip(eqn.inputs, cts):
                if c is not None:
                    notes.setdefault(c.id, f"contribution to ∂L/∂v{u.id} through v{eqn.out.id} "
                                           f"({eqn.prim.rule} rule)")
        lw.grads = backward(graph, out, wrt, seed=seed, on_step=on_step)
    # factors constant along a summed or broadcast axis computed once per column (exact)
    done = pull_factors(graph, [lw.loss] + lw.outputs + lw.grads, notes)
    lw.loss, lw.outputs, lw.grads = done[0], done[1:1 + len(outs)], done[1 + len(outs):]
    if with_grads:
        for i, (g, p) in enumerate(zip(lw.grads, params)):
            if g is not None:
                notes[g.id] = (f"∂L/∂p{i}{'' if whole else ', per example'} (p{i} is the parameter "
                               f"{safe_text(repr(p.name))})")
    return lw


def _short(e, limit: int = 90) -> str | None:
    """``e`` as text cut to ``limit`` characters, or None when it is large: a value read twice (batch
    norm reads z three times) prints as a tree whose length grows exponentially with the depth, so
    only expressions of a few hundred nodes are printed (the walk that counts them stops there)."""
    stack, n = [e], 0
    while stack:
        n += 1
        if n > 300:
            return None
        stack.extend(getattr(stack.pop(), "args", ()))
    s = str(e)
    return s if len(s) <= limit else s[:limit - 3] + "..."


@keywords(elsewhere=ELSEWHERE["compile"])
def compile(loss, params, inputs=(), *, target: str = "numpy", optimizer=None, dtype: str = "float32",
            outputs=None, reduction: str = "mean", seed: int = 0,
            policy: Subgradients = DEFAULT, precision: str | None = None) -> "Program":
    """Compile the per-example scalar ``loss`` into a `Program` for ``target``. A loss declared over
    the batch (``sg.tensor`` inputs with a symbolic size N) compiles to a program that runs it
    as written, for any N (`symgrad.compiling.whole_batch`); tensors of fixed shapes are one
    example's, batched by `symgrad.compiling.batching`. For target "triton" both are compiled as one
    example's program (`symgrad.compiling.kernel_form`; over the batch when every operation acts
    row by row: `symgrad.compiling.unbatch`), and the kernels batch it.

    ``params``: the Symbols / MatrixSymbols to differentiate and train; ``inputs``: the ones fed per
    example (data, targets). Every free symbol of the loss must be one of the two. ``optimizer``:
    a `sg.optim.Optimizer` such as ``sg.optim.Adam(lr=1e-3)``, compiled into ``.step`` (None: ``sg.optim.SGD()``, plain gradient
    descent with its default learning rate 0.01), with its parameter groups and gradient clipping
    (both targets). ``outputs``: per-example expressions that
    ``.forward`` returns (the network's prediction). ``dtype``: "float32" or "float64".
    ``seed``: of the generator that draws dropout masks. ``precision`` (target "triton" only): the
    matrix products' — "ieee" (true float32, the default), "tf32", "tf32x3", or "bf16" (bfloat16
    operands and stored activations, float32 accumulation and master weights); docs/triton.md.
    ``optimizer`` may also be one of the names
    in ``sg.optim.NAMES`` ("adam", "sgd", ...), which means ``sg.optim.make(name)``: that optimizer
    with its default hyperparameters.

    >>> import numpy as np, sympy as sp, symgrad as sg
    >>> net = sg.mlp([2, 3, 1], act=sp.tanh)
    >>> y = sp.MatrixSymbol('y', 1, 1)
    >>> prog = sg.compile(sg.mse(net.output, y), net.params, [net.input, y], outputs=[net.output])
    >>> values = {p: np.full(p.shape, 0.1, dtype=np.float32) for p in net.params}
    >>> prog.forward(values, {"x": np.ones((5, 2), np.float32)})[0].shape
    (5, 1)
    """
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ArgumentError(f"seed must be an integer >= 0 (of the dropout masks' generator), got {show_value(seed)}")
    spec = specify(loss, params, inputs, optimizer=optimizer, dtype=dtype, outputs=outputs,
                   reduction=reduction, policy=policy, target=target)
    if precision is not None:
        if precision not in ("ieee", "tf32", "tf32x3", "bf16") or target != "triton":
            raise ArgumentError(f"precision= is 'ieee', 'tf32', 'tf32x3' or 'bf16', for target='triton'; got "
                                f"precision={precision!r} with target={target!r}")
        spec.precision = precision
    warn_no_gradient(spec.params, spec.train, target)     # the NumPy step skips them, as torch's optimizers do
    compiled = _backend(target)(spec)      # (a kernel target's spec is one example's: specify lifted it)
    prog = (compiled.program or Program)(spec, compiled, seed)
    prog.target = target
    return prog


def specify(loss, params, inputs=(), *, optimizer=None, dtype: str = "float32", outputs=None,
            reduction: str = "mean", policy: Subgradients = DEFAULT, target: str = "numpy") -> Spec:
    """What `compile` gives a backend: the checked declaration, lowered to IR with its reverse-mode
    gradients (arguments as `compile`'s). Tools that drive a backend themselves start here. For a
    kernel ``target`` ("triton"), a tensor declaration is lowered as one example's program in the
    matrix language's form, unbatched first when it is declared over the batch
    (`symgrad.compiling.kernel_form`)."""
    if isinstance(dtype, type) and issubclass(dtype, np.floating) or isinstance(dtype, np.dtype):
        dtype = np.dtype(dtype).name                # numpy.float32 for "float32"
    if not isinstance(dtype, str) or dtype not in ("float32", "float64"):
        raise ArgumentError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    if not isinstance(reduction, str) or reduction not in ("mean", "sum"):
        raise ArgumentError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
    check_policy(policy)
    loss = _expression("loss", loss)
    params, inputs = _symbol_list("params", params), _symbol_list("inputs", inputs)
    if isinstance(outputs, (sp.Basic, sp.MatrixBase)):
        outputs = [outputs]
    if outputs is not None and not isinstance(outputs, (list, tuple)):
        raise ArgumentError(f"outputs must be a list of SymPy expressions, got {outputs!r}")
    outputs = [_expression(f"outputs[{i}]", o) for i, o in enumerate(outputs or [])]
    optimizer = _optimizer(optimizer)
    names = [s.name for s in params + inputs]
    dup = sorted({n for n in names if names.count(n) > 1})
    both = [p.name for p in params if any(p == x for x in inputs)]
    if both:        # one symbol listed twice, not two sharing a name (as the command line says it)
        raise SymgradError(f"{both[0]!r} is in both params and inputs: a parameter is trained, an input "
                           f"is read from the data; list each in one of them")
    if dup:
        raise SymgradError(f"two parameters/inputs share the name {dup[0]!r}; values are keyed by name, "
                           f"so names must be distinct")
    if callable(getattr(optimizer, "check_params", None)):     # its groups name parameters of this program
        optimizer.check_params([p.name for p in params])
    masks = masks_in(loss)
    whole = check_declaration(params, inputs, masks, reduction)
    declared = set(params) | set(inputs) | set(masks) | whole
    for what, e in [("loss", loss)] + [(f"output {i}", o) for i, o in enumerate(outputs)]:
        free = [s for s in _free_symbols(e) if isinstance(s, (sp.Symbol, sp.MatrixSymbol, Tensor))]
        unknown = sorted((s for s in free if s not in declared), key=lambda s: s.name)
        twin = [(s, d) for s in unknown for d in declared if getattr(d, "name", None) == s.name]
        if twin:                          # sg.tensor("x", (4,)) beside the declared x of (3,)
            (s, d), shp = twin[0], lambda v: tuple(getattr(v, "shape", ()))
            raise FreeSymbolError(f"the {what} uses two different symbols named {s.name!r} (shapes {shp(d)} "
                                  f"declared and {shp(s)} not); values are keyed by name, so rename one")
        if unknown:
            one = len(unknown) == 1
            said = (f"the {what} uses {', '.join(repr(s.name) for s in unknown)}, which "
                    + ("is neither a parameter nor an input" if one else "are neither parameters nor inputs"))
            e = FreeSymbolError(f"{said}; add {'it' if one else 'each'} to params=[...] or inputs=[...]")
            e.said, e.names = said, [s.name for s in unknown]   # for a caller with its own advice (symgrad's CLI)
            raise e
    shape = tuple(getattr(loss, "shape", ()) or ())
    if whole and shape not in ((), (1, 1)):         # ("a scalar per example" is the other kind's rule)
        raise ShapeError(f"the loss must be a scalar, but it has shape {format_shape(shape)}; a declaration over "
                         f"the batch reduces it itself: sg.mean(...) over the examples, or a loss with its "
                         f"reduction='mean' (sg.cross_entropy, sg.mse, ... take the mean by default)")
    lift = Lift(inputs, reduction) if per_example_tensors(params, inputs) else None
    if target != "numpy" and (whole or lift is not None):       # the kernel backends batch it themselves
        from .kernel_lift import KernelLift
        lift = KernelLift(inputs, whole, reduction)
        train = _lower(loss, params, inputs, [], policy, with_grads=True, lift=lift)
        ev = _lower(switch_off(loss), params, inputs, [switch_off(o) for o in outputs], policy, False, lift=lift)
        return Spec(params, lift.inputs, train, ev, optimizer, dtype, lift.reduction, tensor_inputs=list(inputs),
                    train_outputs=_dropped_outputs(loss, params, inputs, outputs, policy, target, lift))
    train = _lower(loss, params, inputs, [], policy, with_grads=True, whole=bool(whole or lift), lift=lift)
    ev = _lower(switch_off(loss), params, inputs, [switch_off(o) for o in outputs], policy, False, lift=lift)
    dropped = _dropped_outputs(loss, params, inputs, outputs, policy, target, lift)
    if lift is not None:
        return Spec(params, lift.inputs, train, ev, optimizer, dtype, reduction, whole_batch=True,
                    declared_inputs=inputs, train_outputs=dropped)
    return Spec(params, inputs, train, ev, optimizer, dtype, reduction, whole_batch=bool(whole),
                train_outputs=dropped)


def _dropped_outputs(loss, params, inputs, outputs, policy, target, lift) -> Lowered | None:
    """For outputs and dropout in the loss: the outputs lowered with dropout on
    (its masks numbered as the training lowering's: the same masks_in(loss)), what an ``as_torch()``
    module's outputs compute in training mode; None otherwise."""
    if not outputs or not masks_in(loss):
        return None
    return _lower(loss, params, inputs, outputs, policy, False, lift=lift)


def _free_symbols(e) -> set:
    """``e.free_symbols``, by a walk over the distinct subexpressions: SymPy's walks the tree, whose
    size doubles with each layer that reads a value twice (batch norm reads z three times)."""
    out, seen, stack = set(), set(), [e]
    while stack:
        x = stack.pop()
        if isinstance(x, (sp.Symbol, sp.MatrixSymbol, Tensor)):
            out.add(x)
        elif getattr(x, "bound_symbols", None):         # a Sum, a Lambda: SymPy knows what is bound
            out |= x.free_symbols
        else:
            for a in getattr(x, "args", ()):
                if a not in seen:
                    seen.add(a)
                    stack.append(a)
    return out


def _expression(what: str, e):
    """``e`` as a SymPy expression, or an ArgumentError: compile takes expressions, never text (a
    string would go through SymPy's ``eval``)."""
    if isinstance(e, str):
        parse_expr(e, what=f"the {what}")       # unsafe text is named by the parser (never evaluated)
        raise ArgumentError(f"the {what} is the string {e!r}; compile takes SymPy expressions, not text "
                            f"(build it with sympy: x = sympy.Symbol('x'), ...)")
    try:
        return sp.sympify(e, strict=True)
    except sp.SympifyError:
        raise ArgumentError(f"the {what} must be a SymPy expression, got {e!r} ({type(e).__name__})") from None


def _symbol_list(what: str, xs) -> list:
    """``params=`` / ``inputs=``: a list of Symbols and MatrixSymbols (one alone counts as a list)."""
    if isinstance(xs, (sp.Symbol, sp.MatrixSymbol, Tensor)):
        return [xs]
    if not isinstance(xs, (list, tuple)):
        raise ArgumentError(f"{what} must be a list of Symbols and MatrixSymbols, got {xs!r}")
    for s in xs:
        if not isinstance(s, (sp.Symbol, sp.MatrixSymbol, Tensor)):
            raise ArgumentError(f"{what} must be a list of Symbols and MatrixSymbols; it holds {s!r} "
                                f"({type(s).__name__})")
        _shape(s)
    return list(xs)


def _optimizer(optimizer):
    """None (plain SGD), an optimizer object, or one of the documented names ``sg.optim.NAMES``."""
    from . import optim
    if optimizer is None:
        return optim.SGD()
    if isinstance(optimizer, str):
        if optimizer.lower() not in optim.NAMES:
            raise ArgumentError(f"unknown optimizer {optimizer!r}; optimizer= takes an optimizer object "
                                f"(sg.optim.Adam(lr=1e-3), ...) or one of the names {', '.join(optim.NAMES)}")
        return optim.make(optimizer)
    kind = optimizer if isinstance(optimizer, type) else type(optimizer)
    if kind.__module__.startswith("torch.optim") and not isinstance(optimizer, optim.Optimizer):
        # the class too (optimizer=torch.optim.Adam): "write Adam()" named torch's, which cannot compile
        raise ArgumentError(f"optimizer= got torch.optim.{kind.__name__}, a torch optimizer: symgrad compiles "
                            f"the update into its step, from its own optimizers with torch's names, "
                            f"defaults and formulas — "
                            + (f"write sg.optim.{kind.__name__}(lr=..., ...) (one of {', '.join(optim.NAMES)})"
                               if isinstance(getattr(optim, kind.__name__, None), type) else
                               f"symgrad has no {kind.__name__}; its optimizers are {', '.join(optim.NAMES)}")
                            + ", or train the module of prog.as_torch() with torch's optimizer")
    if isinstance(optimizer, type):
        raise ArgumentError(f"optimizer must be an optimizer object, not the class {optimizer.__name__}: "
                            f"write {optimizer.__name__}() or {optimizer.__name__}(lr=...)")
    if not (isinstance(optimizer, optim.Optimizer)          # or any object with an optimizer's two methods
            or callable(getattr(optimizer, "rules", None)) and callable(getattr(optimizer, "symbols", None))):
        raise ArgumentError(f"optimizer must be a symgrad optimizer (sg.optim.SGD, Adam, ...) or one of the "
                            f"names {', '.join(optim.NAMES)}; got {kind.__name__} {optimizer!r}"[:600])
    _check_schedules(optimizer)
    return optimizer


def _check_schedules(optimizer) -> None:
    """Every learning-rate schedule of ``optimizer`` (its ``lr``, a group's ``lr``) called once with a
    symbolic step: one written for torch's LambdaLR (``if`` on the step, ``math.cos``) is an
    ArgumentError saying what to write, not SymPy's TypeError from inside the backend."""
    from .optim import _schedule
    from .schedules import check_schedule
    t = sp.Symbol("t", integer=True, positive=True)
    lrs = [("lr=", getattr(optimizer, "lr", None))]
    lrs += [(f"groups[{k}]['lr']", g.get("lr")) for k, g in enumerate(getattr(optimizer, "groups", ()) or ())
            if isinstance(g, dict)]
    for where, lr in lrs:
        if _schedule(lr):
            check_schedule(f"{where}{getattr(lr, '__name__', type(lr).__name__)}", lr, t)
    warn_constant_group_lrs(optimizer, _schedule)      # torch's schedulers would scale a group's number too
