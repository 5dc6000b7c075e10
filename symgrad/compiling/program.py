"""`Program`: what `compile` returns — a compiled loss that runs on batches: ``loss``, ``grad``,
``step`` (in place, with a fast path for arrays of the right dtype and shape), ``init_state``,
``forward`` (the ``outputs=[...]``, an output that reads no input repeated over the batch),
``as_torch`` and ``save``. It checks every value it is given (`symgrad.compiling.batch_checks`)
before the backend's generated functions (`Compiled`) run on them. `PerExampleProgram` and
`WholeBatchProgram` read batches of the other declaration kinds; the Triton target's is
`codegen.torch_program.TorchProgram`.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np

from ..core.ir import format_shape
from ..core.values import Named
from ..errors import ArgumentError, DataError, MissingValueError, ShapeError, SymgradError, UnsupportedError
from ..errors import show_value          # a NumPy scalar in a message as its number
from .backends import _ADAPTER_MODULES, ADAPTERS, Compiled, Spec, _backend, _plugin
from .batch_checks import (_batch_text, _batched_shape, _shape, as_numbers, check_labels, check_state, check_state_not_batch, empty_batch,
                           fit_batch_input, label_inputs, row_index_inputs, same_batch_size, transpose_hint,
                           weight_layout)


class Program:
    """A compiled loss. Values are dicts keyed by symbol or name.

    - ``loss(values, batch)`` → float: the mean loss over the batch, dropout off (evaluation mode).
    - ``grad(values, batch)`` → dict name → array shaped like the parameter (dropout on).
    - ``loss``/``grad(..., dropout_seed=s)``: dropout on, under the masks ``numpy.random.default_rng(s)``
      draws — the same masks for the same seed and batch, the program's generator untouched — so
      the loss and its gradient can be compared (`symgrad.checking.programcheck.gradcheck` does).
      ``has_dropout`` says whether the program has any ``sg.dropout``.
    - ``init_state(values)`` → the optimizer's state: ``{"t": 0, slot: {name: array}}``.
    - ``step(values, state, batch)`` → (values, state): one training step (dropout on), IN PLACE:
      the parameter and slot arrays are updated in place and ``state["t"]`` (the step count) is
      incremented, and the same dicts are returned. A value that is not a NumPy array of the
      program's dtype and shape (a list, a float64 array in a float32 program) is converted first:
      the caller's object is then left alone and the returned dict (a new one) holds the updated
      copy — so always continue with the returned dicts. ``last_loss`` is the batch's loss before
      the update.
    - ``forward(values, batch)`` → list of arrays, one per ``outputs=[...]`` expression, batched.
    - ``source``: the generated module; ``save(path)`` writes it (it imports only NumPy).

    Every check (a missing value, a wrong shape) happens before anything is computed or updated.
    """

    def __init__(self, spec: Spec, compiled: Compiled, seed: int = 0):
        self.spec = spec
        self.compiled = compiled
        self.source = compiled.source
        self.dtype = np.dtype(spec.dtype)
        self.params = spec.params
        self.inputs = spec.inputs
        self.param_shapes = [_shape(p) for p in spec.params]
        self.input_shapes = [_shape(x) for x in spec.inputs]
        self.rng = np.random.default_rng(seed)
        self.has_dropout = bool(spec.train.masks)      # gradcheck then holds the masks fixed
        used = lambda lw, roots: {e.out.id for e in lw.graph.ancestors(roots)}  # noqa: E731
        tr, ev = spec.train, spec.eval
        need_tr = used(tr, [tr.loss] + [g for g in tr.grads if g is not None])
        need_ev = used(ev, [ev.loss])
        need_fw = used(ev, ev.outputs) if ev.outputs else set()
        self._needs = {kind: [vid in need for vid in ids]
                       for kind, need, ids in (("train", need_tr, tr.inputs), ("eval", need_ev, ev.inputs),
                                               ("forward", need_fw, ev.inputs))}
        self.slots = optimizer_slots(spec.optimizer)
        self.last_loss = None
        self.in_place = True        # step writes into the arrays it is given (sg.train reads this)
        self.param_names = [p.name for p in self.params]
        self._pspec = [(p.name, p, s) for p, s in zip(self.params, self.param_shapes)]
        self._ispec = [(x.name, x, s, self._example_shape(s)) for x, s in zip(self.inputs, self.input_shapes)]
        self._labels = label_inputs(spec)    # input name -> number of classes, for class-label inputs
        self._row_indices = row_index_inputs(spec) if self._labels else set()     # E[k]'s k among them
        # The argument plan of `step`'s fast path: per parameter its name and shape; per input the
        # training run reads, its name, its number of axes and the shape after the batch axis. A
        # subclass that reads its values otherwise (tensors, whole-batch arrays) takes the checked path.
        cls = type(self)
        self._fast = all(getattr(cls, m) is getattr(Program, m)
                         for m in ("_param_arrays", "_arrays", "_batch_arrays", "_input_array", "_fitted"))
        self._plan_params = [(name, shape) for name, _, shape in self._pspec]
        self._plan_inputs = [(name, len(want) + 1, want) if needed else None
                             for (name, _, _, want), needed in zip(self._ispec, self._needs["train"])]

    target = "numpy"                # set by `compile`: the backend, for `in_float64`

    def in_float64(self):
        """This program compiled again in float64 (itself when it is): `sg.gradcheck` differences
        the loss of this one, since a float32 loss's central differences are off by about 1e-3
        relative and would read as a wrong gradient.

        >>> import sympy as sp, symgrad as sg
        >>> w, x = sp.symbols('w x')
        >>> sg.compile((w * x) ** 2, [w], [x]).in_float64().dtype
        dtype('float64')
        """
        if self.dtype == np.float64:
            return self
        from dataclasses import replace
        spec = replace(self.spec, dtype="float64")
        compiled = _backend(self.target)(spec)
        twin = (compiled.program or Program)(spec, compiled)
        twin.target = self.target
        return twin

    def __repr__(self):
        """One line: the parameters and inputs with their shapes, the optimizer and the dtype.

        >>> import sympy as sp, symgrad as sg
        >>> w, x, y = sp.symbols('w x y')
        >>> sg.compile((w * x - y) ** 2 / 2, [w], [x, y])
        <Program: parameters w (); inputs x (), y () per example; SGD(lr=0.01); float32>
        """
        from ..teaching.display import short
        def listed(syms, shapes, limit=6):
            items = [f"{short(s.name, 20)} {format_shape(sh)}" for s, sh in zip(syms, shapes)]
            return ", ".join(items[:limit]) + (f" and {len(items) - limit} more" if len(items) > limit else "")
        outs = f"; {len(self.spec.eval.outputs)} output(s)" if self.spec.eval.outputs else ""
        per = " per example" if getattr(self.spec, "declared_inputs", None) is not None or \
            not getattr(self.spec, "whole_batch", False) else " as declared"
        return (f"<{type(self).__name__}: parameters {listed(self.params, self.param_shapes)}; inputs "
                f"{listed(self.inputs, self.input_shapes) or 'none'}{per}; {_optimizer_text(self.spec.optimizer)}; "
                f"{self.dtype.name}{outs}>")

    def _repr_markdown_(self):
        """A table of the parameters and inputs (the shape of one example's, and of a batch's
        array) and what the program offers (Jupyter)."""
        from ..teaching.display import md
        rows = [f"| parameter | {md(p.name)} | {format_shape(sh)} |" for p, sh in zip(self.params, self.param_shapes)]
        whole = getattr(self.spec, "whole_batch", False) and getattr(self.spec, "declared_inputs", None) is None
        rows += [f"| input | {md(x.name)} | {format_shape(sh)}"
                 + (" |" if whole else f" per example; a batch is {_batch_text(want)} |")
                 for (_, x, sh, want) in self._ispec]
        calls = ["loss(values, batch)", "grad(values, batch)", "step(values, state, batch)"]
        if self.spec.eval.outputs:
            calls.append(f"forward(values, batch) ({len(self.spec.eval.outputs)} output(s))")
        return "\n".join([f"**{type(self).__name__}** — optimizer {md(_optimizer_text(self.spec.optimizer))}, "
                          f"{self.dtype.name}, {len(self.source.splitlines())} lines of generated source "
                          f"(`.source`, `.save(path)`)", "", "| | name | shape |", "|---|---|---|", *rows, "",
                          "Runs: " + ", ".join(f"`{c}`" for c in calls)])

    # -- values -----------------------------------------------------------------------------------
    # These run on every call, so the common case (arrays of the right dtype and shape, keyed by
    # name) is a few dict lookups and identity tests; anything else takes the slow, checked path.
    @staticmethod
    def _get(d, name, sym, what: str):
        if d is None:
            raise MissingValueError(f"no {what} values given; pass a dict keyed by symbol or name")
        if not isinstance(d, Mapping):
            # a newcomer's prog.loss(values, X): say what the batch holds, with the first key it needs
            held = f" (the batch: one array per input, {{{name!r}: ..., ...}})" if what == "input" else ""
            raise DataError(f"the {what} values must be a dict keyed by symbol or name{held}, got a "
                            f"{type(d).__name__}")
        v = d.get(name, _MISSING)
        if v is _MISSING:
            v = d.get(sym, _MISSING)
            if v is _MISSING:
                raise MissingValueError(f"no value given for the {what} {name!r}; values are keyed by "
                                        f"the SymPy symbol or its name")
        return v

    def _param_arrays(self, values) -> list:
        converted = values.__class__ is not dict
        if converted and values is not None:
            if not isinstance(values, Mapping):
                raise DataError(f"values must be a dict of the parameters keyed by symbol or name, got a "
                                f"{type(values).__name__}")
            values = dict(values)
        out, fresh = self._arrays(values, "parameter", lambda name, got, want: (
            f"the parameter {name!r} has shape {got}, but it is declared {format_shape(want)}"
            + transpose_hint(got, want, weight_layout(self, name) if len(got) == 2 else "in_out")))
        self._fresh_values = converted or fresh     # True when `values` does not hold the arrays used
        return out

    def _arrays(self, d, what: str, shape_error) -> tuple:
        """One array per parameter from the dict ``d`` (keyed by name or symbol), in declaration order
        and this program's dtype, and whether any is not ``d``'s own object (looked up by symbol, or
        converted). ``shape_error(name, got, want)`` words a wrong shape."""
        out, fresh, dt = [], False, self.dtype
        for name, sym, shape in self._pspec:
            a = d.get(name, _MISSING) if isinstance(d, Mapping) else _MISSING     # else `_get` names what d is
            if a is _MISSING:
                a = self._get(d, name, sym, what)
                fresh = True
            if a.__class__ is not np.ndarray or a.dtype is not dt or a.shape != shape:
                fresh = True
                a = as_numbers(f"{what} {name!r}", a, dt, copy=True)
                if a.shape != shape:
                    raise ShapeError(shape_error(name, a.shape, shape))
            out.append(a)
        return out, fresh

    def _batch_arrays(self, batch, kind: str, labels: bool = True) -> list:
        """The inputs a ``kind`` of run reads, in order (None for one it does not): each converted by
        ``_input_array`` (the array type is the backend's), fitted to its batch shape, and checked
        (one batch size for all, class labels in range unless ``labels`` is False: a backend that
        checks them on the device)."""
        out, B = [], None
        for (name, sym, shape, want), needed in zip(self._ispec, self._needs[kind]):
            if not needed:
                out.append(None)
                continue
            a = self._input_array(batch, name, sym)
            a = self._fitted(a, fit_batch_input(name, tuple(a.shape), shape, want))
            B = same_batch_size(name, a.shape[0], B)
            if labels and self._labels and name in self._labels:
                check_labels(name, self._host(a), self._labels[name], rows=name in self._row_indices)
            out.append(a)
        if B == 0 and kind != "forward":
            raise DataError(empty_batch(self._ispec))
        return out

    def _input_array(self, batch, name, sym):
        """The batch's input ``name`` as an array of the program's dtype (no copy when it is one)."""
        a = batch.get(name, _MISSING) if batch.__class__ is dict else _MISSING
        if a is _MISSING:
            a = self._get(batch, name, sym, "input")
        if a.__class__ is not np.ndarray or a.dtype is not self.dtype:
            a = as_numbers(f"input {name!r}", a, self.dtype)
        return a

    @staticmethod
    def _fitted(a, new_shape):
        """An input given the batch shape ``fit_batch_input`` asks for (None: it fits as it is)."""
        return a if new_shape is None else a.reshape(new_shape)

    @staticmethod
    def _host(a):
        """An input as NumPy can read it (for the class-label check)."""
        return a

    # -- running ----------------------------------------------------------------------------------
    def loss(self, values, batch, *, dropout_seed: int | None = None) -> float:
        """The mean (or summed) loss of the batch, dropout off. With ``dropout_seed`` (an int >= 0)
        dropout is on, under the masks ``numpy.random.default_rng(dropout_seed)`` draws: the training
        loss whose gradient ``grad(values, batch, dropout_seed=...)`` with the same seed returns (it
        runs the generated ``grad``, whose first result is that loss). A program without dropout
        has one loss, and gives it.

        >>> import numpy as np, sympy as sp, symgrad as sg
        >>> w, x = sp.symbols('w x')
        >>> prog = sg.compile(sg.dropout(w * x, 0.5) ** 2, [w], [x], dtype="float64")
        >>> v, b = {"w": 1.0}, {"x": np.array([1.0, 2.0, 3.0, 4.0])}
        >>> prog.loss(v, b)                                   # dropout off: the mean of x², 30/4
        7.5
        >>> L = prog.loss(v, b, dropout_seed=3)               # each (w·x·m)², m = 0 or 2
        >>> bool(L == prog.loss(v, b, dropout_seed=3))        # the same seed: the same masks
        True
        >>> bool(np.isclose(prog.grad(v, b, dropout_seed=3)["w"], 2 * L))   # ∂L/∂w = 2L/w, w = 1
        True
        """
        params = self._param_arrays(values)
        if dropout_seed is not None:
            rng = _mask_generator(dropout_seed)
            if self.has_dropout:
                loss, _ = self.compiled.grad(params, self._batch_arrays(batch, "train"), rng)
                return float(loss)
        return float(self.compiled.loss(params, self._batch_arrays(batch, "eval")))

    def grad(self, values, batch, *, dropout_seed: int | None = None) -> dict:
        """∂loss/∂parameter for every parameter, keyed by name, each shaped like the parameter;
        dropout on, its masks drawn afresh from the program's generator — or, with ``dropout_seed``,
        from ``numpy.random.default_rng(dropout_seed)``, the program's generator untouched (see
        `loss`)."""
        params = self._param_arrays(values)
        rng = self.rng if dropout_seed is None else _mask_generator(dropout_seed)
        _, grads = self.compiled.grad(params, self._batch_arrays(batch, "train"), rng)
        return Named((name, np.asarray(g, dtype=self.dtype).reshape(s)) for (name, _, s), g in zip(self._pspec, grads))

    def init_state(self, values=None) -> dict:
        """The optimizer state before the first step: ``{"t": 0, slot: {name: array}}``."""
        state: dict = {"t": 0}
        for s in self.slots:
            state[s] = {p.name: np.full(shape, initial_value(self.spec.optimizer, p.name, s), dtype=self.dtype)
                        for p, shape in zip(self.params, self.param_shapes)}
        return state

    def step(self, values, state, batch):
        """One training step, in place; returns (values, state). See the class docstring; the
        batch's loss before the update is kept in ``self.last_loss``.

        >>> import numpy as np, sympy as sp, symgrad as sg
        >>> w, x, y = sp.symbols('w x y')
        >>> prog = sg.compile((w * x - y) ** 2 / 2, [w], [x, y], optimizer=sg.optim.SGD(lr=0.1))
        >>> values, state = {"w": np.float32(0.0)}, None
        >>> for _ in range(50):
        ...     values, state = prog.step(values, state, {"x": [1.0, 2.0], "y": [2.0, 4.0]})
        >>> round(float(values["w"]), 3), state["t"]
        (2.0, 50)
        """
        fast = self._fast_arguments(values, state, batch) if self._fast else None
        if fast is not None:        # the common case: every array as it should be, nothing to convert
            params, slots, xs, t = fast
            loss = self.compiled.step(params, slots, t, xs, self.rng)
            state["t"] = t
            self.last_loss = float(loss)
            # the caller's arrays, also looked up by symbol (a new dict of the same arrays, once)
            return (values if isinstance(values, Named) else Named(values)), state
        check_state_not_batch(state, batch, [x.name for x in self.inputs], self.slots)
        params = self._param_arrays(values)
        if state is None:
            state = self.init_state()
        check_state(state)
        slots = []
        fresh_slots = set()
        for s in self.slots:
            d = state.get(s) if isinstance(state, dict) else None
            if d is None:
                raise MissingValueError(f"the optimizer state has no slot {s!r}; start from "
                                        f"program.init_state(values)")
            arrays, fresh = self._arrays(d, f"optimizer slot {s!r} of the parameter", lambda name, got, want: (
                f"the optimizer slot {s!r} of {name!r} has shape {got}, expected {format_shape(want)}"))
            if fresh:
                fresh_slots.add(s)
            slots += arrays
        xs = self._batch_arrays(batch, "train")
        t = int(state.get("t", 0)) + 1
        loss = self.compiled.step(params, slots, t, xs, self.rng)
        # The arrays were updated in place. Hand back the caller's dicts where they hold them (the
        # common case, and no copying); a new dict where a value had to be converted.
        names = self.param_names
        if self._fresh_values:
            values = Named(zip(names, params))     # looked up by name or by symbol
        state["t"] = t
        n = len(names)
        for k, s in enumerate(self.slots):
            if s in fresh_slots:
                state[s] = dict(zip(names, slots[k * n:(k + 1) * n]))
        self.last_loss = float(loss)
        if not isinstance(values, Named):    # the caller's arrays, looked up by name or by symbol
            values = Named(values)
        return values, state

    def _fast_arguments(self, values, state, batch):
        """``step``'s arguments (params, slots, inputs, t) when every value is already what the
        generated step takes — dicts keyed by name holding NumPy arrays of the program's dtype
        and shape, inputs (B, ...) with one B > 0, ``t`` an int — else None (the checked path then
        converts, or names what is wrong). Nothing is cached between calls but the plan (names and
        shapes), so a dict whose keys, arrays or shapes change is never read through a stale plan."""
        if not (isinstance(values, dict) and isinstance(state, dict) and isinstance(batch, dict)):
            return None
        # dict.get, not the dicts' own: step hands back a Named, whose get (a name or a symbol) is
        # Python code, ~1 µs a look-up; by name, a Named holds its arrays under their names
        get = dict.get
        t = get(state, "t")
        if t.__class__ is not int or t < 0 or self._labels:
            return None
        nd, dt, plan = np.ndarray, self.dtype, self._plan_params
        params = []
        for name, shape in plan:
            a = get(values, name)
            if a.__class__ is not nd or a.dtype is not dt or a.shape != shape:
                return None
            params.append(a)
        slots = []
        for s in self.slots:
            d = get(state, s)
            if not isinstance(d, dict):
                return None
            for name, shape in plan:
                a = get(d, name)
                if a.__class__ is not nd or a.dtype is not dt or a.shape != shape:
                    return None
                slots.append(a)
        xs, B = [], None
        for p in self._plan_inputs:
            if p is None:
                xs.append(None)
                continue
            a = get(batch, p[0])
            if a.__class__ is not nd or a.dtype is not dt:
                return None
            shape = a.shape
            if len(shape) != p[1] or shape[1:] != p[2] or (B is not None and shape[0] != B):
                return None
            B = shape[0]
            xs.append(a)
        if not B:               # no input read, or an empty batch: the checked path says what to do
            return None
        return params, slots, xs, t + 1

    def forward(self, values, batch) -> list:
        """The ``outputs=[...]`` expressions for the batch (dropout off), each with the batch axis
        first: a per-example (m, 1) output is (B, m), a scalar (B,). One that reads no input is the
        same for every example: it is repeated over the B examples of ``batch`` (`_repeated_outputs`;
        B from any input in ``batch``)."""
        if not self.spec.eval.outputs:
            raise SymgradError("this program has no outputs; compile with outputs=[...] to use forward")
        params = self._param_arrays(values)
        outs = list(self.compiled.forward(params, self._forward_arrays(batch)))
        once = self._repeated_outputs()
        if any(d is not None for d in once):
            B = self._examples(batch)
            outs = [o if d is None else np.array(np.broadcast_to(np.reshape(o, d), (B,) + d), dtype=self.dtype)
                    for o, d in zip(outs, once)]
        return outs

    def _repeated_outputs(self) -> list:
        """The rule for the outputs that read no input, which `forward` and the torch layer
        (``as_torch``, `codegen.torch_module`) both follow: per output, None when it reads an input
        (the generated forward returns it with the batch axis), else the shape its one value takes
        after the batch axis, repeated over the B examples — the shape an output of the same
        declaration that reads the inputs has (`_example_shape`). A whole-batch declaration (no
        examples, its arrays as declared) repeats nothing."""
        once = self.__dict__.get("_once")
        if once is None:
            ev = self.spec.eval
            if getattr(self.spec, "whole_batch", False) and getattr(self.spec, "declared_inputs", None) is None:
                once = [None] * len(ev.outputs)
            else:
                leaves = {vid for vid in ev.inputs if vid is not None}
                once = [None if leaves & {e.out.id for e in ev.graph.ancestors([o])}
                        else self._example_shape(tuple(int(d) for d in o.shape)) for o in ev.outputs]
            self._once = once
        return once

    @staticmethod
    def _example_shape(shape) -> tuple:
        """One example's array in a batch, after the batch axis, for a value of the declared ``shape``:
        a column (m, 1) as (m,), a row (1, n) as (n,) (`_batched_shape`)."""
        return _batched_shape(shape)

    def _examples(self, batch) -> int:
        """B, the number of examples of ``batch``, from any input in it."""
        for name, sym, _, _ in self._ispec:
            if isinstance(batch, Mapping) and (name in batch or sym in batch):
                return int(np.shape(self._input_array(batch, name, sym))[0])
        raise MissingValueError("forward needs one of the inputs "
                                + ", ".join(repr(x.name) for x in self.inputs)
                                + " to know the number of examples (B)")

    def _forward_arrays(self, batch) -> list:
        """The batch's arrays the generated forward takes: only those the outputs read (no placeholders)."""
        return [a for a, needed in zip(self._batch_arrays(batch, "forward"), self._needs["forward"]) if needed]

    def as_torch(self, values=None, generator=None):
        """A torch layer owning the parameters (``codegen.torch_module``): forward(*inputs) returns the
        ``outputs=[...]`` (the loss when there are none), differentiable w.r.t. parameters and inputs;
        ``.loss(*inputs)`` is the fused loss-and-gradient path. ``values``: initial parameters."""
        return _plugin(ADAPTERS, _ADAPTER_MODULES, "torch", "adapter")(self, values, generator)

    # -- copies and pickles ------------------------------------------------------------------------
    def __reduce__(self):
        """Pickled as its lowering, compiled again on loading (`symgrad.compiling.program_pickle`):
        ``multiprocessing``, ``joblib`` and ``pickle`` can carry a program to another process."""
        from .program_pickle import dumps
        if getattr(self, "target", "numpy") != "numpy":   # a device program: its device is not stored
            raise UnsupportedError(f"a Program of target {self.target!r} does not pickle (its device and "
                                   f"kernels are not stored); pickle its as_torch() module, which does")
        return _rebuilt_program, (dumps({"spec": self.spec, "target": getattr(self, "target", "numpy"),
                                         "rng": self.rng.bit_generator.state, "in_place": self.in_place,
                                         "last_loss": self.last_loss}),)

    def __copy__(self):
        new = self.__class__.__new__(self.__class__)
        new.__dict__.update(self.__dict__)
        return new

    def __deepcopy__(self, memo):
        """Attribute by attribute, as before `__reduce__` was defined (no compiling again)."""
        import copy
        new = self.__class__.__new__(self.__class__)
        memo[id(self)] = new
        for k, v in self.__dict__.items():
            new.__dict__[k] = copy.deepcopy(v, memo)
        return new

    def save(self, path) -> None:
        """Write the generated module to ``path`` (atomically): it runs without symgrad, importing only
        NumPy (target "numpy") or torch and triton (target "triton"). Its docstring states how to call
        it: the order of the parameters, the optimizer's slots and the inputs, and ``t`` counting from 1.
        A path that cannot be written (a folder, one in a read-only folder) is an `ArgumentError`
        naming it (it was an OSError about a temporary file of the atomic write)."""
        import os

        from .files import atomic_write, unwritable
        if not isinstance(path, (str, os.PathLike)):
            raise ArgumentError(f"save: the path must be a file name (str or os.PathLike), such as "
                                f"'step.py'; got {type(path).__name__}")
        why = unwritable(path)
        if why is not None:
            raise ArgumentError(f"save: cannot write the program's module to {os.fspath(path)}: {why}; "
                                f"give the path of a .py file, such as 'step.py'")
        atomic_write(os.fspath(path), self.source, suffix=".py")


_MISSING = object()


def _rebuilt_program(data: bytes) -> Program:
    """The program `Program.__reduce__` stored, compiled again from its lowering, its dropout
    generator where the original's was (the same masks from here on)."""
    from .program_pickle import loads
    d = loads(data)
    compiled = _backend(d["target"])(d["spec"])
    prog = (compiled.program or Program)(d["spec"], compiled)
    prog.target = d["target"]
    prog.rng.bit_generator.state = d["rng"]
    prog.in_place, prog.last_loss = d["in_place"], d["last_loss"]
    return prog


def _mask_generator(seed) -> np.random.Generator:
    """The generator that draws the dropout masks of a ``dropout_seed=`` run: a fresh one per call,
    so every call with the same seed (and batch size) draws the same masks."""
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ArgumentError(f"dropout_seed must be an integer >= 0 (the seed the dropout masks are drawn "
                            f"from), or None for the program's own generator; got {show_value(seed)}")
    return np.random.default_rng(int(seed))


def _optimizer_text(opt) -> str:
    """An optimizer by its class and learning rate, its groups and clipping: SGD(lr=0.01),
    AdamW(lr=0.001, 1 group besides the default, clip_grad_norm=1) — torch would count 2
    param_groups there, the optimizer's own hyperparameters being one."""
    import types

    from .optim import _schedule
    lr = getattr(opt, "lr", None)
    parts = [f"lr={lr:g}"] if isinstance(lr, (int, float)) else []
    if _schedule(lr):                                  # a schedule: by its repr or name
        parts = [f"lr={lr.__name__ if isinstance(lr, types.FunctionType) else repr(lr)}"[:120]]
    groups = len(getattr(opt, "groups", ()) or ())
    if groups:
        parts.append(f"{groups} group{'s' if groups > 1 else ''} besides the default")
    for name in ("clip_grad_norm", "clip_grad_value"):
        if getattr(opt, name, None) is not None:
            parts.append(f"{name}={getattr(opt, name):g}")
    return type(opt).__name__ + (f"({', '.join(parts)})" if parts else "")


def optimizer_slots(opt) -> tuple:
    """The slots of the program's optimizer state: every slot some parameter's rule keeps (a group's
    too, `symgrad.compiling.optim.Optimizer.all_slots`)."""
    every = getattr(opt, "all_slots", None)
    return tuple(every()) if callable(every) else tuple(getattr(opt, "slots", ()))


def param_optimizer(opt, name: str):
    """The optimizer whose rule updates the parameter ``name`` (its group's, where it has one)."""
    one = getattr(opt, "for_param", None)
    return one(name) if callable(one) else opt


def initial_value(opt, name: str, slot: str) -> float:
    """The starting value of the parameter ``name``'s ``slot`` (0 where its rule keeps no such slot)."""
    o = param_optimizer(opt, name)
    init = getattr(o, "initial", {}) or {}
    return float(init.get(slot, 0.0)) if slot in tuple(getattr(o, "slots", ())) else 0.0
