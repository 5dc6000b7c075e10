"""`Program.as_torch()`: a compiled program as a torch layer (``torch.nn.Module``).

The module owns the parameters, one ``torch.nn.Parameter`` per declared parameter, named after the
user's symbol (made into an identifier by symgrad: ``W1``, ``b1``; a name that is not one, or that
``nn.Module`` already uses, is rewritten — ``module.attribute_names`` lists them) and shaped as torch
users expect: a column (n, 1) or row (1, n) parameter is a 1-D (n,) tensor, so a bias is shaped like
``nn.Linear``'s; ``module.parameter("W1")`` finds one by its symbol's name, and
``linear_state_dict`` / ``load_linear_state_dict`` map the (weight, bias) pairs to and from
``nn.Linear`` state dicts.

Two ways in, both differentiable with respect to the parameters AND the inputs (so the module can
sit on top of a torch encoder, or take an input with ``requires_grad``):

- ``module(*inputs)``: the network's outputs (the ``outputs=[...]`` of `compile`; one tensor for
  one output, a tuple for several), for any torch loss after it. Its backward runs the generated
  vector-Jacobian product: V = Σ_k ⟨ḡ_k, o_k⟩ differentiated by the same three launches as a
  training step (`codegen.vjp_specs.output_vjp`). A program compiled without outputs has no
  predictions: its module's forward is the loss, as ``module.loss``.
- ``module.loss(*inputs)``: the program's loss, the FUSED path: loss and every gradient in the one
  call of the generated ``grad`` (three launches), kept for the backward, which only scales them by
  the incoming gradient. ``module.as_loss()`` is the same as a module of its own (for
  ``DistributedDataParallel``, whose hooks need its forward to be the one called).

With ``sg.dropout``, both drop in training mode and neither in eval mode, as ``nn.Dropout``: the
outputs from a forward lowered with dropout on (``Spec.train_outputs``), ``module.loss`` in eval
mode from a lowering of the loss without dropout (`codegen.vjp_specs.eval_grads`). Both targets
work the same way: Triton's kernels on its device, or the NumPy backend's functions on the CPU, for
MatrixSymbol declarations and tensor ones (per example or over the batch: the VJP of the outputs
is then compiled by the whole-batch writer).

Without a gradient to compute (``torch.no_grad()``, or nothing requiring one) only the forward
kernels run (``loss`` / ``forward`` of the program). Backward cannot be differentiated again (a
double backward is an UnsupportedError). The module is float32 on the program's device: ``.double()``,
``.half()`` or ``.to(torch.bfloat16)`` are an UnsupportedError that says so — except for a NumPy
program compiled with ``dtype="float64"``: its module starts in float64 (parameters, outputs, loss and
gradients; ``torch.autograd.gradcheck`` runs on it), and ``.float()`` / ``.double()`` move it between
float32 and float64. ``copy.deepcopy`` shares
the compiled code and copies the parameters; pickling stores the program's lowering and compiles it
again on loading (the generated module is cached by its text). ``torch.compile`` of a model holding
the module works, with a graph break at the module's call (it runs generated kernels of its own).

>>> import os; os.environ.setdefault("TRITON_INTERPRET", "1")   # doctest: +SKIP
>>> import sympy as sp, symgrad as sg, torch                      # doctest: +SKIP
>>> net = sg.mlp([4, 8, 3]); t = sp.MatrixSymbol("t", 3, 1)      # doctest: +SKIP
>>> prog = sg.compile(sg.cross_entropy(net.output, t), net.params, [net.input, t],
...                   target="triton", outputs=[net.output])       # doctest: +SKIP
>>> model = torch.nn.Sequential(torch.nn.Linear(6, 4), torch.nn.ReLU(), prog.as_torch())  # doctest: +SKIP
>>> logits = model(torch.randn(32, 6))                            # (32, 3): predictions  # doctest: +SKIP
>>> loss = model[2].loss(model[:2](torch.randn(32, 6)), torch.eye(3)[torch.randint(0, 3, (32,))])  # doctest: +SKIP
>>> loss.backward()                            # fills the encoder's gradients too   # doctest: +SKIP

The program's own optimizer (``.step``) is not used by the module: torch's optimizer is.
"""
from __future__ import annotations

import copy
import keyword
import math
import re

import numpy as np
import torch

from symgrad.compiling.backends import register_adapter
from symgrad.errors import DataError, ShapeError, SymgradError, UnsupportedError


def attribute_name(name: str, taken: set) -> str:
    """An identifier for the symbol called ``name``, made by symgrad: letters, digits and ``_`` kept,
    anything else ``_``; prefixed when it starts with a digit, is a keyword or names something of
    ``nn.Module``; suffixed until it is not in ``taken``.

    >>> attribute_name("W1", set()), attribute_name("b'1", set()), attribute_name("forward", set())
    ('W1', 'b_1', 'p_forward')
    """
    s = re.sub(r"[^0-9A-Za-z_]", "_", name) or "p"
    if s[0].isdigit() or keyword.iskeyword(s) or hasattr(SymgradModule, s) or s.startswith("_"):
        s = "p_" + s.lstrip("_")
    base, k = s, 1
    while s in taken:
        s, k = f"{base}_{k}", k + 1
    return s


def torch_shape(shape: tuple) -> tuple:
    """The tensor shape of a parameter declared ``shape``: a column or row is 1-D."""
    if len(shape) == 2 and (shape[1] == 1 or shape[0] == 1):
        return (shape[0] * shape[1],)
    return tuple(shape)


def _no_double_backward():
    if torch.is_grad_enabled():
        raise UnsupportedError("a symgrad module's backward runs generated code and cannot be differentiated "
                               "again (double backward, create_graph=True); compute higher derivatives "
                               "with symgrad (sg.hessian, sg.derive) or with a torch-only model")


class _LossAndGrad(torch.autograd.Function):
    """loss = program(params, batch); backward: (∂loss/∂p, ∂loss/∂x) · ḡ, all computed in forward."""

    @staticmethod
    def forward(ctx, module, n_inputs, *tensors):
        xs, params = tensors[:n_inputs], tensors[n_inputs:]
        loss, grads, xgrads = module._loss_and_grads(xs, params, [ctx.needs_input_grad[2 + i]
                                                                  for i in range(n_inputs)])
        ctx.n_inputs = n_inputs
        ctx.save_for_backward(*[g for g in xgrads if g is not None], *grads)
        ctx.has = [g is not None for g in xgrads]
        ctx.idle = module._no_gradient()
        return loss

    @staticmethod
    def backward(ctx, g):
        _no_double_backward()
        saved = list(ctx.saved_tensors)
        xg = [saved.pop(0) * g if h else None for h in ctx.has]
        # the parameters' gradients times ḡ in one operation (one launch on a GPU, not one per parameter);
        # None for a parameter torch would give no .grad (only through .detach(), not used): torch's
        # optimizers then skip it, as the compiled step does (`symgrad.compiling.optim_skip`)
        pg = list(torch._foreach_mul(saved, g)) if saved else []
        return (None, None, *xg, *(None if i in ctx.idle else q for i, q in enumerate(pg)))


class _Outputs(torch.autograd.Function):
    """outputs = program.forward(params, batch); backward: the generated VJP of the outputs."""

    @staticmethod
    def forward(ctx, module, n_inputs, drop_seed, *tensors):
        xs, params = tensors[:n_inputs], tensors[n_inputs:]
        outs = module._outputs(xs, params, drop_seed)
        ctx.module, ctx.n_inputs, ctx.drop_seed = module, n_inputs, drop_seed
        ctx.save_for_backward(*[x if x is not None else torch.empty(0) for x in xs], *params)
        ctx.present = [x is not None for x in xs]
        return outs[0] if len(outs) == 1 else tuple(outs)

    @staticmethod
    def backward(ctx, *gouts):
        _no_double_backward()
        saved = ctx.saved_tensors
        xs = [x if p else None for x, p in zip(saved[:ctx.n_inputs], ctx.present)]
        params = saved[ctx.n_inputs:]
        want_x = [ctx.needs_input_grad[3 + i] for i in range(ctx.n_inputs)]
        pgrads, xgrads = ctx.module._outputs_vjp(xs, params, gouts, want_x, ctx.drop_seed)
        return (None, None, None, *xgrads, *pgrads)


def _call(fn, module, n_inputs, *tensors):
    return fn.apply(module, n_inputs, *tensors)


# The custom Function's call is kept out of torch.compile's graphs (a graph break there). The
# decorator torch.compiler.disable imports torch._dynamo (1.5 to 3 s: most of what prog.as_torch()
# and the module's first call took) whether or not anything is compiled, so the disabled call is
# taken only while dynamo traces: torch._disable_dynamo (what torch.optim's own methods use; dynamo
# skips its module, torch._compile) imports it then, when it is loaded already.
_lazy = getattr(torch, "_disable_dynamo", None)
_traced_call = _lazy(_call) if _lazy is not None else torch.compiler.disable(_call)


def _apply(fn, module, n_inputs, *tensors):
    """The custom Function's call: eager outside torch.compile, a graph break inside."""
    if torch.compiler.is_compiling():
        return _traced_call(fn, module, n_inputs, *tensors)
    return fn.apply(module, n_inputs, *tensors)


class _Seed:
    """A stand-in for the generator the generated functions draw their dropout seed from
    (``rng.integers(2**31)``): it gives the seed drawn for a call of the outputs, so their backward
    draws the same masks."""

    def __init__(self, seed: int):
        self.seed = seed

    def integers(self, high):
        return self.seed


def _roles(program) -> dict:
    """How the program's graph uses each parameter (`symgrad.compiling.training_init.param_roles`:
    a product's weight with its fan-in, a bias, a scale), or {} when that cannot be told."""
    try:
        from symgrad.compiling.training_init import param_roles
        return param_roles(program)
    except Exception:                       # noqa: BLE001 - a program without a lowering: the shape rule
        return {}


def _initial(role, shape, tshape, generator):
    """A parameter's starting value when none is given: a product's weight uniform in ±1/√(fan-in),
    as torch's nn.Linear and nn.Conv2d start theirs, its fan-in from the graph (W of ``x @ W`` (in,
    out) too, not only nn.Linear's (out, in)); a scale (LayerNorm's, BatchNorm's γ) at 1, as torch
    (it started at 0, which made every layer after it constant, and the layers before it
    untrainable); a bias at 0, as `sg.train` starts it (torch: a norm's β; nn.Linear draws its bias
    uniform in ±1/√(fan-in)). A matrix the graph does not tell about: ±1/√(its column count)."""
    if role is not None and role[0] == "weight":
        bound = 1.0 / math.sqrt(max(int(role[1]), 1))
    elif role is not None and role[0] == "scale":
        return torch.ones(tshape)
    elif role is None and len(shape) == 2 and shape[1] > 1:
        bound = 1.0 / math.sqrt(shape[1])
    else:
        return torch.zeros(tshape)
    return (torch.rand(tshape, generator=generator) * 2 - 1) * bound


class SymgradModule(torch.nn.Module):
    """See the module docstring. ``values``: initial parameter values keyed by symbol or name (the
    declared shape or the module's); without them (`_initial`): a product's weight uniform in
    ±1/√(fan-in) and a scale (LayerNorm's γ) at 1, as torch's layers start theirs, a bias at 0 as
    `sg.train` starts it (``torch.nn.Linear`` draws its bias, uniform in ±1/√(fan-in))."""

    def __init__(self, program, values=None, generator: torch.Generator | None = None):
        super().__init__()
        self.program = program
        self.names = [p.name for p in program.params]
        self.attribute_names: dict[str, str] = {}      # symbol name -> parameter attribute
        self._device = getattr(program, "device", torch.device("cpu"))
        self._kernels: dict = {}                        # lazily built: "inputs", "vjp"
        taken: set = set()
        # the parameters' dtype: the program's for a NumPy program compiled with dtype="float64" (as
        # if .double() had been called: a float64 program's module computes and returns float64),
        # float32 otherwise (the Triton kernels' dtype)
        dtype = torch.float64 if self._float64_program() else torch.float32
        roles = _roles(program) if values is None else {}
        for sym, shape in zip(program.params, program.param_shapes):
            attr = attribute_name(sym.name, taken)
            taken.add(attr)
            self.attribute_names[sym.name] = attr
            tshape = torch_shape(shape)
            if values is not None:
                from .torch_program import float32_tensor, lookup
                v, what = lookup(values, sym, "parameter"), f"parameter {sym.name!r}"
                if dtype == torch.float64:          # (not through float32: that would round the values)
                    from symgrad.compiling.batch_checks import as_numbers
                    t = (v.detach().to(torch.float64, copy=True) if isinstance(v, torch.Tensor)
                         else torch.as_tensor(as_numbers(what, v, np.float64)))
                else:
                    t = float32_tensor(torch, v, what=what)
                # the module owns its parameters, as torch.nn.Linear does: a copy, never a view of the
                # caller's array (torch.as_tensor shares a NumPy array's memory, so a torch optimizer
                # stepping the module would write into the caller's dict — and into the torch model
                # whose `.detach().numpy()` gave it)
                if not isinstance(v, torch.Tensor):
                    t = t.clone()
                if tuple(t.shape) not in (tuple(shape), tshape):
                    from symgrad.compiling.batch_checks import transpose_hint, weight_layout
                    raise ShapeError(f"the parameter {sym.name!r} has shape {tuple(t.shape)}; it is declared "
                                     f"{tuple(shape)} (the module holds it as {tshape})"
                                     + transpose_hint(t.shape, shape, weight_layout(program, sym.name)))
                t = t.reshape(tshape)
            else:
                t = _initial(roles.get(sym.name), shape, tshape, generator)
            self.register_parameter(attr, torch.nn.Parameter(t.to(device=self._device, dtype=dtype)))

    def _float64_program(self) -> bool:
        """A NumPy program compiled with dtype="float64" (its module may hold float64 parameters)."""
        return not self._triton() and np.dtype(self.program.dtype) == np.float64

    # -- parameters -------------------------------------------------------------------------------
    def parameter(self, name: str) -> torch.nn.Parameter:
        """The parameter declared as the symbol called ``name``."""
        if name not in self.attribute_names:
            raise KeyError(f"no parameter {name!r}; the parameters are {self.names}")
        return getattr(self, self.attribute_names[name])

    def _params(self) -> list:
        return [getattr(self, self.attribute_names[n]) for n in self.names]

    def torch_state_dict(self) -> dict:
        """The parameters keyed by the symbols' own names (``state_dict()`` keys them by the
        attribute names symgrad made, ``fc1_weight`` for a symbol ``"fc1.weight"``): symbols named
        after a torch model's ``state_dict`` keys give that model's state dict, for
        ``torch_model.load_state_dict(module.torch_state_dict())``. Detached copies, as the module holds
        them (columns and rows 1-D)."""
        return {n: getattr(self, a).detach().clone() for n, a in self.attribute_names.items()}

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        # load_state_dict takes the symbols' names as well as the attribute names: a torch model's
        # state dict loads as it is when the symbols are named after its keys ("fc1.weight"), which
        # no attribute can be called (torch refuses a "." in a parameter's name)
        super()._load_from_state_dict(self._by_attribute(state_dict, prefix), prefix, local_metadata, strict,
                                      missing_keys, unexpected_keys, error_msgs)

    def _by_attribute(self, state_dict, prefix: str) -> dict:
        """``state_dict`` keyed by the attribute names. Which names its keys are is decided once for
        the whole dict, not key by key: one symbol's name may be another's attribute name (symbols
        "fc1.weight" and "fc1_weight" are held as fc1_weight and fc1_weight_1). The keys are the
        symbols' names (`torch_state_dict`, a torch model's) when one of them is a symbol's name that
        is no attribute's, or when every symbol's name is there and not every attribute's; else they
        are the attribute names (``state_dict()``). A new dict; ``state_dict`` is left as it is."""
        names, attrs = self.attribute_names, set(self.attribute_names.values())
        keys = {k[len(prefix):] for k in state_dict if k.startswith(prefix)}
        by_name = any(n in keys and n not in attrs for n in names) or (
            all(n in keys for n in names) and not all(a in keys for a in attrs))
        if not by_name:
            return state_dict
        out = {k: v for k, v in state_dict.items()
               if not (k.startswith(prefix) and k[len(prefix):] in names)}
        for name, attr in names.items():
            if prefix + name in state_dict:
                out[prefix + attr] = state_dict[prefix + name]
        return out

    def linear_pairs(self) -> list:
        """[(weight name, bias name or None)]: every matrix parameter, with the column parameter
        named like it with ``W`` → ``b`` (``sg.mlp``'s W1, b1, ...) as its bias when there is one."""
        shapes = dict(zip(self.names, self.program.param_shapes))
        pairs = []
        for n, s in shapes.items():
            if len(s) == 2 and s[0] > 1 and s[1] > 1:
                b = n.replace("W", "b", 1) if "W" in n else None
                pairs.append((n, b if b in shapes and shapes[b] == (s[0], 1) else None))
        return pairs

    def linear_state_dict(self, prefixes=None, pairs=None) -> dict:
        """The (weight, bias) pairs as the state dict of ``nn.Linear`` layers: ``{f"{prefix}.weight":
        W, f"{prefix}.bias": b}``; ``prefixes`` (default "0", "1", ...) name the layers as the
        torch model does (``["0", "2"]`` for ``nn.Sequential(Linear, ReLU, Linear)``); ``pairs``
        defaults to `linear_pairs`."""
        pairs = self.linear_pairs() if pairs is None else list(pairs)
        prefixes = [str(i) for i in range(len(pairs))] if prefixes is None else list(prefixes)
        if len(prefixes) != len(pairs):
            raise SymgradError(f"{len(prefixes)} prefixes for {len(pairs)} (weight, bias) pairs {pairs}")
        sd = {}
        for pre, (w, b) in zip(prefixes, pairs):
            sd[f"{pre}.weight"] = self.parameter(w).detach().clone()
            if b is not None:
                sd[f"{pre}.bias"] = self.parameter(b).detach().clone()
        return sd

    def load_linear_state_dict(self, state_dict, prefixes=None, pairs=None) -> None:
        """Copy ``nn.Linear`` weights and biases in (the inverse of `linear_state_dict`)."""
        pairs = self.linear_pairs() if pairs is None else list(pairs)
        prefixes = [str(i) for i in range(len(pairs))] if prefixes is None else list(prefixes)
        if len(prefixes) != len(pairs):
            raise SymgradError(f"{len(prefixes)} prefixes for {len(pairs)} (weight, bias) pairs {pairs}")
        with torch.no_grad():
            for pre, (w, b) in zip(prefixes, pairs):
                for name, key in ((w, f"{pre}.weight"), (b, f"{pre}.bias")):
                    if name is None:
                        continue
                    if key not in state_dict:
                        raise DataError(f"the state dict has no {key!r} for the parameter {name!r}")
                    p, v = self.parameter(name), state_dict[key]
                    if tuple(v.shape) != tuple(p.shape):
                        raise ShapeError(f"{key!r} has shape {tuple(v.shape)}; the parameter {name!r} is "
                                         f"{tuple(p.shape)}")
                    p.copy_(v)

    # -- calls ------------------------------------------------------------------------------------
    def _inputs(self, inputs, named, which: list) -> list:
        """The inputs (tensors as given, or None where ``which`` says unread) in declaration order."""
        prog = self.program
        if inputs and named:
            raise TypeError("pass the inputs either positionally or by name, not both")
        wanted = [x for x, w in zip(prog.inputs, which) if w]
        if inputs:
            if len(inputs) != len(wanted) and len(inputs) != len(prog.inputs):
                raise TypeError(f"expected {len(wanted)} inputs ({', '.join(x.name for x in wanted)}), "
                                f"got {len(inputs)}")
            given = wanted if len(inputs) == len(wanted) else prog.inputs
            named = {x.name: v for x, v in zip(given, inputs)}
        out = []
        for x, w in zip(prog.inputs, which):
            if not w:
                out.append(None)
                continue
            if x.name not in named:
                raise TypeError(f"missing the input {x.name!r}")
            v = named[x.name]
            out.append(v if isinstance(v, torch.Tensor) else self._as_tensor(v))
        return out

    def _as_tensor(self, v) -> torch.Tensor:
        """An input given as an array, a list or a number: integers (class labels, ids) kept as
        integers, anything else in the module's dtype."""
        a = np.asarray(v)
        return torch.as_tensor(a if a.dtype.kind in "iu" else np.asarray(a, self._numpy_dtype()))

    def _needs_grad(self, xs, params) -> bool:
        return torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in list(xs) + list(params))

    def forward(self, *inputs, **named):
        """The ``outputs=[...]`` for the batch (one tensor, or a tuple for several), inputs positionally
        (those the outputs read, or all) or by name; a program without outputs: its loss."""
        prog = self.program
        if not prog.spec.eval.outputs:
            return self.loss(*inputs, **named)
        xs, lead = _flatten_leading(self._inputs(inputs, named, prog._needs["forward"]), prog)
        if lead is not None:          # tokens (B, T, D) of a head declared per example: as nn.Linear
            outs = self.forward(*[x for x in xs if x is not None])
            return _unflatten(outs, lead)
        params = self._params()
        drop_seed = None
        if self.training and prog.has_dropout and getattr(prog.spec, "train_outputs", None) is not None:
            # training mode: dropout on, as torch's nn.Dropout; the masks drawn from a seed of the
            # program's generator (in the Triton kernels, or by a NumPy generator seeded with it),
            # the backward's from the same seed
            drop_seed = int(prog.rng.integers(2 ** 31))
        if not self._needs_grad(xs, params):            # the forward kernels only
            outs = self._outputs(xs, params, drop_seed)
            return outs[0] if len(outs) == 1 else tuple(outs)
        return _apply(_Outputs, self, len(xs), drop_seed, *xs, *params)

    def loss(self, *inputs, **named):
        """The program's loss of the batch (a 0-d tensor), all inputs positionally or by name; with a
        gradient to compute, the fused path: loss and gradients in one call of the generated code."""
        prog = self.program
        xs, _ = _flatten_leading(self._inputs(inputs, named, [True] * len(prog.inputs)), prog)
        params = self._params()
        if not self._needs_grad(xs, params):
            batch = prog._batch_arrays(self._named(xs), "eval")
            return self._scalar(prog.compiled.loss(self._program_params(params), batch), params)
        return _apply(_LossAndGrad, self, len(xs), *xs, *params)

    def as_loss(self) -> "LossModule":
        """A module whose forward is this module's `loss` (sharing its parameters)."""
        return LossModule(self)

    # -- running the generated code ---------------------------------------------------------------
    def _named(self, xs) -> dict:
        names = self.__dict__.get("_input_names")      # (SymPy makes a MatrixSymbol's name at each read)
        if names is None:
            names = self._input_names = [x.name for x in self.program.inputs]
        # (detached only when autograd could record: the generated code never differentiates)
        return {name: v.detach() if v.requires_grad and torch.is_grad_enabled() else v
                for name, v in zip(names, xs) if v is not None}

    def _triton(self) -> bool:
        return hasattr(self.program, "device")

    def _dtype(self) -> torch.dtype:
        """The parameters' dtype: float32, or float64 after ``.double()`` of a float64 NumPy program;
        the outputs, the loss and the gradients are returned in it."""
        for p in self._parameters.values():
            return p.dtype
        return torch.float32

    def _numpy_dtype(self):
        return np.float64 if self._dtype() == torch.float64 else np.float32

    def _program_params(self, params) -> list:
        """The parameters as the generated code takes them: declared shapes (views), or NumPy."""
        shapes = self.program.param_shapes
        if self._triton():      # no operation where none is needed: the generated code never differentiates
            grad_on, out = torch.is_grad_enabled(), []
            for p, s in zip(params, shapes):
                p = p.detach() if grad_on and p.requires_grad else p
                out.append(p if p.shape == s else p.reshape(s))
            return out
        return [p.detach().cpu().numpy().reshape(s) for p, s in zip(params, shapes)]

    def _tensor(self, a, like) -> torch.Tensor:
        if isinstance(a, torch.Tensor):
            return a if a.shape == like.shape else a.reshape(like.shape)
        return torch.as_tensor(np.asarray(a, dtype=self._numpy_dtype())).reshape(like.shape).to(like.device)

    def _scalar(self, loss, params):
        dev = params[0].device if params else self._device
        if isinstance(loss, torch.Tensor):
            return loss if loss.dim() == 0 else loss.reshape(())
        return torch.tensor(float(loss), dtype=self._dtype(), device=dev)

    def _loss_and_grads(self, xs, params, want_x):
        prog = self.program
        batch = prog._batch_arrays(self._named(xs), "train")
        ps = self._program_params(params)
        if not self.training and prog.has_dropout:
            # eval mode: no dropout, as torch's nn.Dropout — the loss with dropout off and its
            # gradients (the program's grad draws masks: a lowering of the eval loss instead)
            out = self._kernel("eval" if any(want_x) else "eval_params", want_x)(ps, batch, prog.rng)
            loss, grads, xgrads = out if len(out) == 3 else (*out, [None] * len(xs))
            xgrads = [self._input_grad(g, x) if w else None for g, x, w in zip(xgrads, xs, want_x)]
        elif any(want_x):
            fn = self._kernel("inputs", want_x)
            loss, grads, xgrads = fn(ps, batch, prog.rng)
            xgrads = [self._input_grad(g, x) if w else None for g, x, w in zip(xgrads, xs, want_x)]
        else:
            loss, grads = prog.compiled.grad(ps, batch, prog.rng)
            xgrads = [None] * len(xs)
        return self._scalar(loss, params), [self._tensor(g, p) for g, p in zip(grads, params)], xgrads

    def _no_gradient(self) -> frozenset:
        """The indices of the parameters the loss reaches by no path torch's autograd differentiates
        (`symgrad.compiling.optim_skip.without_gradient`): their gradient is None, not zeros."""
        if getattr(self, "_idle", None) is None:
            from symgrad.compiling.optim_skip import without_gradient
            spec = self.program.spec
            self._idle = frozenset(without_gradient(spec.params, spec.train))
        return self._idle

    def _input_grad(self, g, x):
        """The gradient ``g`` of the input ``x`` as a tensor of x's shape, dtype and device: zeros for
        None (no path from x to the result), one example's repeated when it is the same for every
        example (a NumPy function returns such a gradient unbatched)."""
        if g is None:
            return torch.zeros_like(x)
        if not isinstance(g, torch.Tensor):
            g = torch.as_tensor(np.asarray(g))
        if g.numel() != x.numel() and x.dim() >= 1 and g.numel() * x.shape[0] == x.numel():
            g = g.reshape(x.shape[1:]).expand(x.shape)
        return g.reshape(x.shape).to(device=x.device, dtype=x.dtype)

    def _outputs(self, xs, params, drop_seed=None) -> list:
        prog = self.program
        if drop_seed is None:
            outs = prog.compiled.forward(self._program_params(params), prog._forward_arrays(self._named(xs)))
        else:                                           # the outputs with dropout on (training mode)
            outs = self._kernel("forward_dropout")(self._program_params(params),
                                                   prog._forward_arrays(self._named(xs)), self._replay(drop_seed))
        dev = params[0].device if params else self._device
        outs = [o if isinstance(o, torch.Tensor) else torch.as_tensor(np.asarray(o, self._numpy_dtype())).to(dev)
                for o in outs]
        return self._repeated(outs, xs)

    def _repeated(self, outs, xs) -> list:
        """The outputs, each with the batch axis: one that reads no input is one value, repeated over
        the B examples by the program's own rule (`Program._repeated_outputs`, which its ``forward``
        follows too), so the outputs' VJP takes a cotangent per example for it, as for the others."""
        once = self.program._repeated_outputs()
        if all(d is None for d in once):
            return outs
        B = next((x.shape[0] for x in xs if x is not None and x.dim() >= 1), None)
        if B is None:
            raise UnsupportedError("the outputs read none of the inputs, so the number of examples (B) is "
                                   "unknown; declare an output that reads an input, or use the outputs "
                                   "with program.forward(values, batch) (the batch gives B)")
        return [o if d is None else o.reshape(d).expand((B,) + d).contiguous() for o, d in zip(outs, once)]

    def _outputs_vjp(self, xs, params, gouts, want_x, drop_seed=None):
        prog = self.program
        which = "vjp" if drop_seed is None else "vjp_dropout"
        if any(want_x):         # (without input gradients: cheaper, and no refusal of an input read in slices)
            which += "_inputs"
        spec, fn = self._kernel(which, want_x)
        rng = prog.rng if drop_seed is None else self._replay(drop_seed)   # the outputs' masks, drawn again
        named = self._named(xs)
        for sym, g in zip(spec.inputs[len(prog.inputs):], gouts):
            named[sym.name] = g.detach().contiguous()
        batch = self._vjp_batch(spec, named)
        ps = self._program_params(params)
        if any(want_x):
            _, grads, xgrads = fn(ps, batch, rng)
            xgrads = [self._input_grad(g, x) if w else None for g, x, w in zip(xgrads, xs, want_x)]
        else:
            _, grads = (fn(ps, batch, rng)[:2] if self._triton() else fn(ps, batch, rng))
            xgrads = [None] * len(xs)
        return [self._tensor(g, p) for g, p in zip(grads, params)], xgrads

    def _replay(self, drop_seed: int):
        """The generator of a call's outputs' masks, given again to their backward: the masks the
        Triton kernels draw from the seed (`_Seed`), or a NumPy generator seeded with it (the NumPy
        functions draw the same masks, in the same order and shapes, from two such generators)."""
        return _Seed(drop_seed) if self._triton() else np.random.default_rng(drop_seed)

    def _vjp_batch(self, spec, named) -> list:
        """The VJP program's batch (the inputs, then the cotangents), converted by the program."""
        prog = self.program
        if not hasattr(self, "_vjp_program"):       # (the same inputs with dropout on or off)
            from .torch_program import batch_reader
            self._vjp_program = batch_reader(prog, spec)
        return self._vjp_program._batch_arrays(named, "train")

    def _kernel(self, which: str, want_x=None):
        """The generated functions beyond the program's, built on first use and shared by copies.
        ``want_x``: which inputs need a gradient (the Triton kernels compute only those: an input read
        in slices has none, and needs none unless it asks)."""
        want = tuple(bool(w) for w in want_x) if want_x is not None and self._triton() else None
        key = which if want is None else (which, want)
        k = self._kernels.get(key)

        def wanted(xgrads):
            return xgrads if want is None else [g if w else None for g, w in zip(xgrads, want)]
        if k is None:
            from . import vjp_specs
            spec = self.program.spec
            if which in ("eval", "eval_params"):        # module.loss in eval mode: no dropout
                espec, xgrads = vjp_specs.eval_grads(spec)
                if self._triton():
                    from .triton_backend import build_grad_inputs
                    k = build_grad_inputs(espec, wanted(xgrads) if which == "eval" else [None] * len(xgrads))
                else:
                    from .numpy_backend import build_grad
                    k = build_grad(espec, xgrads if which == "eval" else None)
            elif which == "forward_dropout":            # spec.train_outputs: the outputs with dropout on
                if self._triton():
                    from .triton_backend import build_forward
                else:
                    from .numpy_backend import build_forward
                k = build_forward(spec, spec.train_outputs)
            elif which == "inputs":
                if self._triton():
                    from .triton_backend import build_grad_inputs
                else:
                    from .numpy_backend import build_grad as build_grad_inputs
                ispec, xgrads = vjp_specs.with_input_grads(spec)
                k = build_grad_inputs(ispec, wanted(xgrads))      # (wanted: xgrads as they are for NumPy)
            else:       # "vjp", "vjp_dropout"; for NumPy also "vjp_inputs", "vjp_dropout_inputs"
                vspec, xgrads = vjp_specs.output_vjp(spec, dropout=which.startswith("vjp_dropout"))
                if self._triton():
                    from .triton_backend import build_grad_inputs
                    inputs = which.endswith("_inputs")
                    k = (vspec, build_grad_inputs(vspec, wanted(xgrads) if inputs else [None] * len(xgrads)))
                else:
                    from .numpy_backend import build_grad
                    k = (vspec, build_grad(vspec, xgrads if which.endswith("_inputs") else None))
            self._kernels[key] = k
        return k

    # -- torch's module protocol ------------------------------------------------------------------
    def _apply(self, fn, *args, **kwargs):
        """Device and dtype moves: the generated code is float32 on the program's device; a NumPy
        program compiled with dtype='float64' may hold its parameters in float64 (``.double()``)."""
        probe = fn(torch.zeros((), dtype=torch.float32, device=self._device))
        if isinstance(probe, torch.Tensor):
            float64_ok = self._float64_program()
            if probe.dtype == torch.float64 and float64_ok:
                pass
            elif probe.dtype != torch.float32 and not self._triton():
                allowed = "float32 or float64 (.double())" if float64_ok else "float32"
                hint = "" if float64_ok else "; for float64, compile with dtype='float64' (its module is float64 from the start)"
                raise UnsupportedError(f"this module's NumPy program computes in "
                                       f"{np.dtype(self.program.dtype).name}; its parameters may be {allowed}, "
                                       f"not {probe.dtype}{hint}")
            elif probe.dtype != torch.float32:
                raise UnsupportedError(f"a symgrad module computes in float32 (its kernels were generated for "
                                       f"it); it cannot be converted to {probe.dtype}. Keep the module in "
                                       f"float32 (torch.autocast leaves it alone), or compile with "
                                       f"precision='bf16' for bfloat16 activations")
            if self._triton() and probe.device != self._device:
                raise UnsupportedError(f"this module's program runs on {self._device}; it cannot move to "
                                       f"{probe.device} (compile the program where it is to run)")
        return super()._apply(fn, *args, **kwargs)

    def __deepcopy__(self, memo):
        """A copy with its own parameters, sharing the compiled program (its code does not change)."""
        memo[id(self.program)] = self.program
        memo[id(self._kernels)] = self._kernels
        if hasattr(self, "_vjp_program"):
            memo[id(self._vjp_program)] = self._vjp_program
        new = self.__class__.__new__(self.__class__)
        memo[id(self)] = new
        for k, v in self.__dict__.items():
            new.__dict__[k] = copy.deepcopy(v, memo)
        return new

    def __getstate__(self):
        from .torch_program import program_bytes
        state = dict(self.__dict__)
        state["program"] = program_bytes(self.program)
        state["_kernels"] = {}
        state.pop("_vjp_program", None)
        return state

    def __setstate__(self, state):
        from .torch_program import program_from_bytes
        state = dict(state)
        state["program"] = program_from_bytes(state["program"])
        self.__dict__.update(state)

    def extra_repr(self) -> str:
        return f"params={self.names}, inputs={[x.name for x in self.program.inputs]}"


def _flatten_leading(xs, prog):
    """(inputs, lead): when every input given has the same leading axes ``lead`` of more than one
    before its example's shape — a head on the tokens (B, T, D) of a sequence, as ``nn.Linear`` takes
    them, with labels (B, T) — each flattened to one batch axis (B·T, D) (a view when it can be:
    autograd reaches the originals); (inputs, None) otherwise, as given (a shape that fits no
    example is named by the program's check)."""
    leads = {}
    for x, spec in zip(xs, prog._ispec):
        if x is None:
            continue
        example = tuple(spec[3])
        if example and not isinstance(example[0], int):      # declared over the batch: (N, 8)
            example = example[1:]
        k = x.dim() - len(example)
        if k < 1 or not all(isinstance(d, int) for d in example) or tuple(x.shape[k:]) != example:
            return xs, None
        leads[spec[0]] = tuple(x.shape[:k])
    if not leads or all(len(lead) == 1 for lead in leads.values()):
        return xs, None
    if len(set(leads.values())) > 1:
        raise ShapeError("the inputs' leading axes differ: " + ", ".join(f"{n!r} {lead}" for n, lead in leads.items())
                         + "; every input takes the same ones before its example's shape (B, T, ... for "
                         "tokens: a label per token is (B, T))")
    lead = next(iter(leads.values()))
    return [None if x is None else x.reshape((-1,) + tuple(x.shape[len(lead):])) for x in xs], lead


def _unflatten(outs, lead):
    """The outputs of a flattened batch (B·T, ...) with the leading axes put back: (B, T, ...)."""
    if isinstance(outs, tuple):
        return tuple(o.reshape(lead + tuple(o.shape[1:])) for o in outs)
    return outs.reshape(lead + tuple(outs.shape[1:]))


class LossModule(torch.nn.Module):
    """``forward(*inputs)`` = ``module.loss(*inputs)``: the fused loss-and-gradient path as a module
    of its own (``DistributedDataParallel(symgrad_module.as_loss())``)."""

    def __init__(self, module: SymgradModule):
        super().__init__()
        self.module = module

    def forward(self, *inputs, **named):
        return self.module.loss(*inputs, **named)


def module_of(program, values=None, generator=None) -> SymgradModule:
    return SymgradModule(program, values, generator)


register_adapter("torch", module_of)
