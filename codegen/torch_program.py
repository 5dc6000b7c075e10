"""`TorchProgram`: the `Program` API on torch tensors, for the Triton backend.

Everything `symgrad.compiling.program.Program` promises holds, with torch tensors in place of NumPy arrays:
values may be given as tensors, NumPy arrays or numbers (they are moved to the program's device as
float32); ``grad`` returns tensors, ``init_state`` and ``step`` keep parameters and slots as tensors
and update them in place when they already are float32, contiguous, of the declared shape and on
the device. The device is CUDA when there is one; without one the kernels run on the CPU through
Triton's interpreter, which needs ``TRITON_INTERPRET=1`` set before triton is imported.

``step`` never waits for the device. Class labels (``sg.cross_entropy(z, k)``, ``sg.gather``) are
therefore checked there by the kernels, not on the host: a step whose batch holds a label out of
range changes nothing (parameters, optimizer slots and the device's step count stay as they were),
nor does any step after it, until the host reads the device — ``last_loss``, ``loss()`` or
``sync()`` — which raises the `LabelRangeError` naming the input, the example, its value and the
number of classes. ``loss``, ``grad`` and ``forward`` check their own batch on the host first.
Class labels and embedding ids may be int64 or int32 tensors (``torch.randint``): the kernels read
them as they are, so ``step`` passes them without converting.
"""
from __future__ import annotations

import inspect
import os
import struct

import numpy as np

from symgrad.compiling.batch_checks import as_numbers, check_state, check_state_not_batch, label_range_error, row_index_inputs
from symgrad.compiling.program import Program, _mask_generator
from symgrad.errors import DataError, MissingValueError, ShapeError, SymgradError
from symgrad.core.ir import format_shape
from symgrad.core.values import Named


def lookup(d, sym, what: str, name: str | None = None):
    """The value of ``sym`` in the dict ``d``, keyed by its name or by the symbol itself. ``name``:
    ``sym.name`` when the caller has it (SymPy computes a MatrixSymbol's name anew at each read)."""
    if isinstance(d, dict):                 # the usual case first (Named too, which step returns): one hash
        a = dict.get(d, name if name is not None else sym.name, _MISSING)
        if a is not _MISSING:
            return a
    if d is None:
        raise MissingValueError(f"no {what} values given; pass a dict keyed by symbol or name")
    if not hasattr(d, "keys"):
        raise DataError(f"the {what} values must be a dict keyed by symbol or name, got a {type(d).__name__}")
    for key in (sym.name, sym):
        if key in d:
            return d[key]
    raise MissingValueError(f"no value given for the {what} {sym.name!r}; values are keyed by the SymPy "
                            f"symbol or its name")


_MISSING = object()


def float32_tensor(torch, a, device=None, what: str = "value"):
    """``a`` (a tensor on any device, an array, a list, a number) as a float32 tensor on ``device``;
    None, text or complex numbers in it are a DataError naming ``what``."""
    if isinstance(a, torch.Tensor):
        if a.is_complex():
            raise DataError(f"the {what} holds complex numbers; values must be real numbers")
        return a.detach().to(device=device, dtype=torch.float32, copy=True)
    return torch.as_tensor(as_numbers(what, a, np.float32), device=device)


class TorchProgram(Program):
    """A compiled loss whose values are torch tensors (see the module docstring)."""

    def __init__(self, spec, compiled, seed: int = 0, device=None):
        super().__init__(spec, compiled, seed)
        import torch
        self.torch = torch
        if device is not None:          # chosen by the caller (codegen.triton_aot: a dry run on the CPU)
            self.device = torch.device(device)
        elif torch.cuda.is_available():
            self.device = torch.device("cuda")
        elif os.environ.get("TRITON_INTERPRET") == "1":
            self.device = torch.device("cpu")
        else:
            raise SymgradError("target='triton' needs a CUDA device; on a machine without one, set "
                               "TRITON_INTERPRET=1 before triton is imported to run the kernels on the CPU "
                               "(slow: for tests with small shapes)")
        if self.device.type == "cuda" and self.device.index is None:
            # torch.device("cuda") != torch.device("cuda", 0), the device of every tensor made on it: the
            # bare form made each parameter look foreign (copied every step, never updated in place) and
            # the step count be made anew from the host (which a CUDA graph capture refuses)
            self.device = torch.device("cuda", torch.cuda.current_device())
        # class labels checked by step's kernels (the generated step takes the record of bad labels)
        step = compiled.step
        self._device_labels = bool(self._labels) and step is not None and \
            "bad_labels" in inspect.signature(step).parameters
        self._record = None         # that record, one per program: made by the first step
        # the inputs the kernels read as loaded — class labels, row indices: int64 and int32 too (the
        # usual torch labels, `torch.randint`), converted in the kernels, so `step` passes them as they are
        if self._device_labels:
            from .triton_backend import label_slots
            ints = (torch.int64, torch.int32)
            index_names = {name for _, name, _ in label_slots(spec)}
            self._int_inputs = [ints if name in index_names else () for name, _, _, _ in self._ispec]
        else:
            self._int_inputs = [()] * len(self._ispec)
        # dropout: step's masks are drawn in the kernels from this seed and the device's step count
        # (a launch argument that stays the same: no host op per step); grad's from a seed rng draws
        self._drop_seed = int(self.rng.integers(2 ** 31)) if self.has_dropout else None
        # (symbol, name, shape) of each parameter, read once: every step looks them up
        self._pspec = [(p, p.name, tuple(int(d) for d in sh)) for p, sh in zip(self.params, self.param_shapes)]
        self._names = [name for _, name, _ in self._pspec]
        # ... with the words of their errors, written once (not formatted anew at every step)
        self._param_checks = [(p, name, sh, f"parameter {name!r}") for p, name, sh in self._pspec]
        self._slot_checks = [(s, f"optimizer slot {s!r} of the parameter",
                              [(p, name, sh, f"optimizer slot {s!r} of {name!r}") for p, name, sh in self._pspec])
                             for s in self.slots]
        self._last_state = None     # the state the last step returned (its "t" is set back on an error)
        self._loss_buffer = None    # the 0-d tensor every step writes its loss in (made by the first)
        # the generated module's maker of the device's step count, and the shape it makes
        self._step_count_of = getattr(step, "__globals__", {}).get("step_count") if step is not None else None
        self._count_shape = self._step_count_of(0, "meta").shape if self._step_count_of is not None else None
        # a declaration over the batch, unbatched (symgrad.compiling.unbatch): its inputs are one
        # example's stand-ins of the same names; a batch may also key the arrays by the declared ones
        declared = getattr(spec, "tensor_inputs", None) or []
        self._declared = {d.name: d for d in declared}
        if declared:                # labels read by sg.one_hot (not by a gather the kernels check)
            from symgrad.compiling.kernel_form import one_hot_labels
            for name, n in one_hot_labels(spec).items():
                self._labels[name] = min(n, self._labels.get(name, n))

    def __repr__(self):
        """The NumPy program's one line (parameters and inputs with their shapes, the optimizer with its
        groups and clipping, the dtype), and the device: ``<TorchProgram: ...; float32; on cpu>``."""
        return super().__repr__()[:-1] + f"; on {self.device}>"

    # -- values -----------------------------------------------------------------------------------
    def _tensor(self, a, shape, what: str, in_place_ok: bool = True, name: str | None = None):
        torch = self.torch
        if (in_place_ok and isinstance(a, torch.Tensor) and a.dtype is torch.float32 and a.shape == shape
                and a.is_contiguous() and a.device == self.device):
            return a
        t = float32_tensor(torch, a, self.device, what).clone()
        if tuple(t.shape) != tuple(shape):
            from symgrad.compiling.batch_checks import transpose_hint, weight_layout
            # a parameter's weight read as x @ W or as W·x (sg.linear): the hint names the other layout
            hint = transpose_hint(t.shape, shape, weight_layout(self, name)) if what.startswith("parameter") else ""
            raise ShapeError(f"the {what} has shape {tuple(t.shape)}, but it is declared {format_shape(shape)}"
                             + hint)
        return t.contiguous()

    def _param_arrays(self, values) -> list:
        return self._checked(values, self._param_checks, "parameter")

    def _checked(self, d, checks, of_the: str) -> list:
        """The tensors of the dict ``d`` (keyed by name or symbol) for ``checks`` [(symbol, name,
        shape, what)]: each as it is when it is a float32 tensor, contiguous, of the declared shape,
        on the device (so that an update in place reaches the caller's), else converted (`_tensor`).
        Every step's path for the parameters and slots: the four checks per tensor are all it does."""
        Tensor, f32, dev = self.torch.Tensor, self.torch.float32, self.device
        by_name = isinstance(d, dict)
        out = []
        for sym, name, shape, what in checks:
            a = dict.get(d, name, _MISSING) if by_name else _MISSING
            if a is _MISSING:
                a = lookup(d, sym, of_the, name)
            if not (isinstance(a, Tensor) and a.dtype is f32 and a.shape == shape and a.is_contiguous()
                    and a.device == dev):
                a = self._tensor(a, shape, what, name=name)
            out.append(a)
        return out

    def _input_array(self, batch, name, sym):
        """The batch's input ``name`` as a float32 tensor on the program's device."""
        torch = self.torch
        declared = self._declared.get(name)         # keyed by the tensor as declared, (N, ...)
        key = declared if declared is not None and hasattr(batch, "keys") and declared in batch else sym
        a = lookup(batch, key, "input")
        if not (isinstance(a, torch.Tensor) and a.dtype == torch.float32 and a.device == self.device):
            a = float32_tensor(torch, a, self.device, f"input {name!r}")
        return a

    def _batch_arrays(self, batch, kind: str, labels: bool = True) -> list:
        if not (labels and self._labels):       # (class labels checked on the host: the general path)
            xs = self._ready_batch(batch, kind)
            if xs is not None:
                return xs
        try:
            return super()._batch_arrays(batch, kind, labels)
        except ShapeError as e:     # a declaration over the batch: its input's shape as declared, (N, 8)
            text = str(e)
            name = next((n for n in self._declared if text.startswith(f"the input {n!r} has shape")), None)
            if name is None:
                raise
            cut = text.index("; declared")
            raise ShapeError(f"{text[:cut]}; it is declared {format_shape(self._declared[name].shape)}, the "
                             f"batch size first") from None

    def _ready_batch(self, batch, kind: str):
        """The inputs of a ``kind`` of run when each is already what the kernels read — a float32
        tensor on the device (class labels and row indices that the kernels check: int64 or int32
        too), keyed by its name, (B, ...) as declared per example, its rows' entries contiguous, one
        B for all, B > 0 — as they are (what the general path returns for them); None otherwise: the
        general path converts, reshapes, and names what is wrong."""
        if batch.__class__ is not dict:
            return None
        Tensor, f32, dev = self.torch.Tensor, self.torch.float32, self.device
        out, B = [], None
        for (name, _, _, want), needed, ints in zip(self._ispec, self._needs[kind], self._int_inputs):
            if not needed:
                out.append(None)
                continue
            a = batch.get(name)
            if not (isinstance(a, Tensor) and (a.dtype is f32 or a.dtype in ints) and a.device == dev):
                return None
            shape = a.shape
            if not shape or shape[1:] != want or a.stride(-1) != 1 or (B is not None and shape[0] != B):
                return None
            B = shape[0]
            out.append(a)
        return out if B else None

    @staticmethod
    def _fitted(a, new_shape):
        a = Program._fitted(a, new_shape)
        if a.dim() >= 1 and a.stride(-1) != 1:     # the kernels step rows by a stride, entries by 1
            a = a.contiguous()
        return a

    def _step_count(self, done: int):
        """The device's count of ``done`` steps, as the generated step takes it (None without a step)."""
        if self._step_count_of is None:
            return None
        return self._step_count_of(done, self.device)

    @staticmethod
    def _host(a):
        return a.cpu().numpy()

    # -- running ----------------------------------------------------------------------------------
    def grad(self, values, batch, *, dropout_seed=None) -> dict:
        """∂loss/∂parameter for every parameter, keyed by name: tensors shaped like the parameters.
        Dropout on: the kernels draw the masks from a seed the program's generator hands out at each
        call, or, with ``dropout_seed``, ``numpy.random.default_rng(dropout_seed)``'s first (the same
        masks at every call with that seed and batch size; the program's generator untouched)."""
        params = self._param_arrays(values)
        rng = self.rng if dropout_seed is None else _mask_generator(dropout_seed)
        _, grads = self.compiled.grad(params, self._batch_arrays(batch, "train"), rng)
        return Named((name, g if g.shape == shape else g.reshape(shape))
                     for (_, name, shape), g in zip(self._pspec, grads))

    def init_state(self, values=None) -> dict:
        """The optimizer state before the first step: ``{"t": 0, "t_device": count, slot: {name: tensor}}``;
        ``t_device``: the steps done, on the device (float64, a copy per program of the update
        kernel, which reads it and advances it: `step_count` in the generated module)."""
        from symgrad.compiling.program import initial_value     # (a parameter group's rule: its own start)
        torch = self.torch
        state: dict = {"t": 0, "t_device": self._step_count(0)}
        for s in self.slots:
            state[s] = {p.name: torch.full(shape, initial_value(self.spec.optimizer, p.name, s), dtype=torch.float32,
                                           device=self.device)
                        for p, shape in zip(self.params, self.param_shapes)}
        return state

    def step(self, values, state, batch):
        """One training step; returns (values, state); see `Program.step` on in-place updates."""
        params = self._checked(values, self._param_checks, "parameter")
        if state is None:
            state = self.init_state()
        t = state.get("t", 0) if state.__class__ is dict else None
        if t.__class__ is not int or t < 0:       # (the dict step returns, with an int: nothing to check)
            check_state_not_batch(state, batch, [x.name for x in self.inputs], self.slots)
            check_state(state)
        slots = []
        for s, of_the, checks in self._slot_checks:
            d = state.get(s) if isinstance(state, dict) else None
            if d is None:
                raise MissingValueError(f"the optimizer state has no slot {s!r}; start from "
                                        f"program.init_state(values)")
            slots += self._checked(d, checks, of_the)
        labels = self._device_labels        # then checked by the kernels: no copy to the host, no wait
        xs = self._batch_arrays(batch, "train", labels=not labels)
        t = int(state.get("t", 0)) + 1
        # the step count the update kernel reads lives on the device too ("t_device": the steps done,
        # float64, a copy per program of the kernel, `step_count` in the generated module): the kernel
        # computes the bias corrections from it and advances it, so no launch argument changes from
        # one step to the next, nothing is read back, and the host launches the kernels and nothing
        # else (a CUDA graph of the step replays correctly)
        t_dev = state.get("t_device") if isinstance(state, dict) else None
        torch = self.torch
        if not (isinstance(t_dev, torch.Tensor) and t_dev.device == self.device and t_dev.dtype == torch.float64
                and t_dev.shape == self._count_shape):
            t_dev = self._step_count(t - 1)
        if self._loss_buffer is None:
            self._loss_buffer = torch.empty((), dtype=torch.float32, device=self.device)
        # the loss goes to one buffer, kept from step to step: `last_loss` holds only the last step's
        # (rewritten by the next step's kernel, in stream order after any read of the one before)
        drop = {"drop_seed": self._drop_seed} if self._drop_seed is not None else {}
        if labels:      # the kernels note a bad label in the record; the update then changes nothing
            loss = self.compiled.step(params, slots, t_dev, xs, self.rng, bad_labels=self._label_record(),
                                      loss=self._loss_buffer, **drop)
        else:
            loss = self.compiled.step(params, slots, t_dev, xs, self.rng, loss=self._loss_buffer, **drop)
        names = self._names
        new_values = Named(zip(names, params))   # by name or symbol
        new_state: dict = {"t": t, "t_device": t_dev}
        n = len(names)
        for k, s in enumerate(self.slots):
            new_state[s] = dict(zip(names, slots[k * n:(k + 1) * n]))
        self.last_loss = loss           # a 0-d tensor on the device: read (and synced) only when asked for
        if labels:
            self._last_state = new_state
        return new_values, new_state

    @property
    def last_loss(self):
        """The loss of the last step's batch, before its update, as a float: read from the device at
        each read (``step`` itself never waits for the device; a replayed CUDA graph of the step
        writes the same buffer, so this is the last replay's loss). With class labels, reading it
        first raises the `LabelRangeError` of a step since the last read whose batch held one out of
        range (that step and those after it changed nothing); the loss of a skipped step is NaN."""
        if getattr(self, "_record", None) is not None:
            self._check_labels()
        v = self._last_loss
        # the loss buffer the steps write is read at every read, not once: a step replayed from a
        # CUDA graph rewrites it without any Python running (a float kept from an earlier read
        # would be that step's loss for ever after)
        return float(v) if v is not None and not isinstance(v, float) else v

    @last_loss.setter
    def last_loss(self, value):
        self._last_loss = value

    def loss(self, values, batch, *, dropout_seed=None) -> float:
        """The loss of the batch (read from the device, so first: `sync`'s check of the steps before),
        dropout off. With ``dropout_seed`` and a program with dropout: dropout on, under the masks
        ``grad(..., dropout_seed=)`` with the same seed draws (the loss its gradient is of)."""
        if self._record is not None:
            self._check_labels()
        if dropout_seed is not None and self.has_dropout:
            params = self._param_arrays(values)
            loss, _ = self.compiled.grad(params, self._batch_arrays(batch, "train"), _mask_generator(dropout_seed))
            return float(loss)
        if dropout_seed is not None:
            _mask_generator(dropout_seed)       # (its checks: the NumPy Program's)
        return super().loss(values, batch)

    def sync(self) -> None:
        """Wait for the device, and raise what the steps since the host last read it found: the
        `LabelRangeError` of a batch with a class label out of range (``step`` checks labels on the
        device and never waits; reading ``last_loss`` or calling ``loss`` does this too). Call it
        after a loop of steps that never reads the loss.

        >>> values, state = prog.step(values, state, {"x": X, "k": torch.tensor([0.0, 7.0])})  # doctest: +SKIP
        >>> prog.sync()                                                                  # doctest: +SKIP
        Traceback (most recent call last):
        symgrad.errors.LabelRangeError: the input 'k' holds class labels, integers 0 ... 2 (3 classes); example 1 has 7 (...)
        """
        if self._record is not None:
            self._check_labels()
        elif self.device.type == "cuda":
            self.torch.cuda.synchronize(self.device)

    # -- class labels checked on the device ------------------------------------------------------
    def _label_record(self):
        """The record the kernels note bad class labels in (the generated module's ``label_record``):
        per class-label input the key m·2³² + bits(k_m) of its first bad example m (2⁶³ − 1: none),
        then the count of steps skipped. Kept from step to step: it is reset only when read."""
        if self._record is None:
            from .triton_backend import label_slots
            torch = self.torch
            self._slots_of_labels = label_slots(self.spec)
            n = len(self._slots_of_labels)
            self._record = torch.full((n + 1,), NO_BAD_LABEL, dtype=torch.int64, device=self.device)
            self._record[n:].zero_()
        return self._record

    def _check_labels(self) -> None:
        """Read the record (the one wait for the device), reset it, and raise the LabelRangeError it
        holds; the host's step count of the state the last step returned is set back by the steps
        skipped, which the device's count never counted (the update kernel did not advance it).
        Read at every read of the loss, not only after a call of ``step``: a step replayed from a
        CUDA graph writes it without any Python running."""
        rec = self._record.tolist()
        n = len(rec) - 1
        bad = [(j, key) for j, key in enumerate(rec[:n]) if key != NO_BAD_LABEL]
        if not bad:
            return
        self._record[:n].fill_(NO_BAD_LABEL)
        self._record[n:].zero_()
        skipped = rec[n]
        state, self._last_state = self._last_state, None
        if isinstance(state, dict) and isinstance(state.get("t"), int):
            state["t"] = max(0, state["t"] - skipped)
        if not isinstance(self._last_loss, self.torch.Tensor):     # the buffer: NaN there already
            self._last_loss = float("nan")
        j, key = bad[0]
        _, name, n_classes = self._slots_of_labels[j]
        if key >= INTEGER_LABEL:        # an int64 or int32 label: its value as an int32 (saturated)
            key -= INTEGER_LABEL
            value = struct.unpack("<i", struct.pack("<I", key & 0xFFFFFFFF))[0]
            if value in (2 ** 31 - 1, -2 ** 31):
                value = f"{value} or {'more' if value > 0 else 'less'}"     # an int64 beyond int32's range
        else:                           # a float32 label: its bits
            value = struct.unpack("<f", struct.pack("<I", key & 0xFFFFFFFF))[0]
        after = f" and the {skipped - 1} after it" if skipped > 1 else ""
        raise label_range_error(name, n_classes, key >> 32, value,
                                f" (found by the device in the batch of a training step: that step{after} "
                                f"changed nothing, so the parameters, the optimizer state and its step count "
                                f"are those from before it)", rows=name in row_index_inputs(self.spec))


NO_BAD_LABEL = 2 ** 63 - 1       # an entry of the record of bad labels while there is none
INTEGER_LABEL = 2 ** 62          # added to the key of a bad integer label (record_bad_labels)


# -- for `as_torch()` modules: reading another lowering's batches, pickling a program ---------------
def batch_reader(program, spec):
    """An object whose ``_batch_arrays`` reads batches for ``spec`` (a lowering derived from
    ``program``'s, `codegen.vjp_specs`) as ``program`` reads its own: same array type and device."""
    from symgrad.compiling.backends import Compiled
    none = Compiled("", None, None, None)
    if isinstance(program, TorchProgram):
        return TorchProgram(spec, none, device=program.device)
    from .numpy_backend import program_class
    return (program_class(spec) or Program)(spec, none)


def program_bytes(program) -> bytes:
    """``program`` as bytes (its lowering, target, device and seed) for `program_from_bytes`."""
    from symgrad.compiling.program_pickle import dumps     # the primitives stored by name
    target = "triton" if isinstance(program, TorchProgram) else "numpy"
    device = str(program.device) if target == "triton" else None
    return dumps({"spec": program.spec, "target": target, "device": device,
                  "seed": int(program.rng.integers(0, 2 ** 31))})


def program_from_bytes(data: bytes):
    """The program `program_bytes` stored, compiled again (the generated module comes from the cache
    when this machine has compiled it before)."""
    from symgrad.compiling.backends import _backend
    from symgrad.compiling.program_pickle import loads
    d = loads(data)
    compiled = _backend(d["target"])(d["spec"])
    if d["target"] == "triton":
        return TorchProgram(d["spec"], compiled, d["seed"], device=d["device"])
    return (compiled.program or Program)(d["spec"], compiled, d["seed"])
