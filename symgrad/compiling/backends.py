r"""The backends' side of `compile`: where a backend registers (`register_backend`; the torch layer:
`register_adapter`), what it gets (a `Spec`: the `Lowered` graphs of the training and the evaluation
runs, with the parameters, inputs, optimizer and dtype) and what it gives back (`Compiled`: its
source and functions). symgrad names the backends' modules and imports one by name on first use,
never at import time (`_backend`).

>>> safe_text("a\nb")          # one comment line of generated source
'a\\nb'
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from ..core.ir import Graph, Var
from ..errors import ArgumentError, UnsupportedError
from .strip_stops import without_stop_gradients

# What lives in codegen registers itself here when its module is imported; symgrad names the
# modules and imports one by name on first use (never at import time, never by an import statement).
_BACKEND_MODULES = {"numpy": "codegen.numpy_backend", "triton": "codegen.triton_backend"}
BACKENDS: dict[str, Callable] = {}      # target name -> build(spec) -> Compiled
_ADAPTER_MODULES = {"torch": "codegen.torch_module"}
ADAPTERS: dict[str, Callable] = {}      # "torch" -> make(program, values, generator) -> nn.Module


def register_backend(target: str, build: Callable):
    """Make ``build(spec) -> Compiled`` the backend of ``target`` (backends call this on import)."""
    BACKENDS[target] = build


def register_adapter(name: str, make: Callable):
    """Make ``make(program, values, generator)`` the adapter ``name`` (``"torch"``: `Program.as_torch`)."""
    ADAPTERS[name] = make


def _plugin(table: dict, modules: dict, name: str, kind: str) -> Callable:
    if not isinstance(name, str):
        raise ArgumentError(f"{kind} must be a string, one of {sorted(modules)}; got {name!r}")
    if name not in table:
        mod = modules.get(name)
        if mod is None:
            raise UnsupportedError(f"unknown {kind} {name!r}; {kind}s: {sorted(modules)}")
        import importlib
        importlib.import_module(mod)
    return table[name]


def _backend(target: str) -> Callable:
    """The build function of ``target``, given specs with no stop_gradient left (the gradients are
    derived by then: `symgrad.compiling.strip_stops`); backends never see one."""
    build = _plugin(BACKENDS, _BACKEND_MODULES, target, "target")

    def stripped(spec, *args, **kwargs):
        return build(without_stop_gradients(spec), *args, **kwargs)
    return stripped


# -------------------------------------------------------------------------------------------------
# What a backend gets


@dataclass
class Lowered:
    """One graph with its roles: leaf var ids of the parameters, inputs, dropout masks and the seed."""
    graph: Graph
    loss: Var
    params: list            # var id per parameter (None when the graph does not use it)
    inputs: list            # var id per input (None when unused)
    masks: list             # (var id, shape, p) per dropout mask
    scale: int | None = None            # var id of the reverse-mode seed (1/B for the mean)
    grads: list = field(default_factory=list)      # Var | None per parameter
    outputs: list = field(default_factory=list)    # Var per requested output
    notes: dict = field(default_factory=dict)      # var id -> comment text (safe to print)
    no_gradient: tuple | None = None    # the parameters torch gives no .grad (`optim_skip`), recorded by
                                        # strip_stops before the stop_gradients go (None: not recorded)


@dataclass
class Spec:
    params: list
    inputs: list
    train: Lowered          # dropout on; gradients
    eval: Lowered           # dropout off; loss and outputs
    optimizer: Any
    dtype: str
    reduction: str
    whole_batch: bool = False       # declared over the batch (a symbolic size): no batch axis added
    declared_inputs: list | None = None     # per-example tensors, batched: the inputs as declared (the
                                            # batched ones, (B, ...), are ``inputs``; compiling.batching)
    precision: str | None = None    # target "triton": products' precision (None: "ieee"), see compile
    tensor_inputs: list | None = None   # a kernel target's tensor declaration: the inputs as declared
                                        # (over the batch: (N, ...); ``inputs`` are one example's, kernel_form)
    train_outputs: Lowered | None = None    # with dropout and outputs: the outputs with dropout on
                                            # (as_torch()'s outputs in training mode)


@dataclass
class Compiled:
    """What a backend returns: the source and the functions ``loss(params, batch)``,
    ``grad(params, batch, rng)``, ``step(params, slots, t, batch, rng)``, ``forward(params, batch)``
    (params and batch are lists in declaration order; slots a flat list, slot-major: slot 0 of
    every parameter, then slot 1, ...)."""
    source: str
    loss: Callable
    grad: Callable
    step: Callable
    forward: Callable | None = None
    program: type | None = None     # the Program class to wrap it in (None: `Program`, NumPy arrays)


def safe_text(text: str) -> str:
    """``text`` with every non-printable character (newlines included) escaped: fit for one comment
    line of generated source."""
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in str(text))
