"""Checkpoints: one ``.npz`` with the parameter values (keyed by name), the optimizer state, the step
and the epoch; replaced atomically, so an interrupted save leaves the old checkpoint whole.

`save` writes one, `load_checkpoint` (``sg.load_checkpoint``; `load` here for short) reads one back
as a `Checkpoint` (pass it as ``values=`` to `train` to resume), `check_checkpoint_path` refuses a path that cannot be written before training starts. The
state is stored as a JSON description beside its arrays (no pickle): dicts, lists, tuples, numbers,
None and arrays.
"""
from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..core.values import key_name
from ..errors import SymgradError
from .files import atomic_write, unwritable
from .training_arrays import to_numpy
from .training_standardize import check_statistics


def integer_seed(seed) -> int | None:
    """``seed`` as a checkpoint records it: a Python int for an integer seed, None for anything else
    (None, a SeedSequence or Generator, whose run cannot be named by one number; and a bool, no seed)."""
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, (bool, np.bool_)):
        return int(seed)
    return None


class ResumeSeedWarning(UserWarning):
    """Training resumed from a checkpoint under another seed than the run that saved it: its epochs are
    shuffled otherwise, so it does not go on as that run would have."""


class ResumeDataWarning(UserWarning):
    """Training resumed from a checkpoint over another number of samples than the run that saved it
    trained on: other data (or another split of it), so it does not go on as that run would have."""


class CheckpointError(SymgradError, ValueError):
    """A checkpoint path that cannot be written, or a checkpoint file that cannot be read (missing,
    truncated, not written by `save`). Also a ValueError."""


@dataclass
class Checkpoint:
    """What `load_checkpoint` returns; pass it as ``values=`` to `train` to resume (its state and step too).
    ``epoch``: the epochs finished; ``seen``: the samples of the next epoch already trained on, when
    Ctrl-C, SIGTERM or a divergence saved it part-way through that epoch (0 at an epoch's end), so
    that training resumes with that epoch's next minibatch. ``seed``: the integer seed of the run that
    saved it (None when it was not one, or not recorded), which a resumed run is told of when its
    own differs. ``samples``: the number of samples that run trained on (None when not recorded: a
    checkpoint written before 2026-11-30, tenth session, or by `save` without it), so that a resumed
    run on other data, or another ``--validation-split``, is told. ``standardized``: the mean and
    scale of each standardized input, ``{name: {"mean": array, "scale": array}}``, when the run's
    data were standardized (``symgrad train --standardize``): data given to these values must be
    standardized alike, ``(X - s["mean"]) / s["scale"]`` (`training_standardize.standardized`), as
    ``symgrad evaluate`` and ``predict`` do; None otherwise. ``columns``: the names of the training
    table's columns of each input, ``{input name: [column names]}`` (its header, when ``symgrad
    train --data`` read one), against which a table given later is checked; None otherwise."""
    values: dict
    state: object = None
    step: int = 0
    epoch: int = 0
    seen: int = 0
    seed: int | None = None
    samples: int | None = None
    standardized: dict | None = None
    columns: dict | None = None

    def __repr__(self):
        """One line: what it holds, not every number (the dataclass's repr printed all the arrays,
        a screenful for a small MLP at the prompt). ``.values`` shows them."""
        values = ", ".join(f"{k} {np.shape(v)}" for k, v in self.values.items()) if isinstance(
            self.values, Mapping) else type(self.values).__name__
        state = ("none" if self.state is None else ", ".join(map(str, self.state))
                 if isinstance(self.state, Mapping) else type(self.state).__name__)
        part = f" (+{self.seen} samples of epoch {self.epoch + 1})" if self.seen else ""
        scaled = f"; standardized {', '.join(self.standardized)}" if self.standardized else ""
        return (f"<Checkpoint: epoch {self.epoch}{part}, step {self.step}; values {values}; optimizer state "
                f"{state}{scaled}>")


def _pack(obj, arrays: dict):
    """A JSON description of obj whose arrays go into ``arrays`` (keys are saved by name)."""
    if isinstance(obj, Mapping):
        return {"dict": [[k if isinstance(k, int) else key_name(k), _pack(v, arrays)]
                         for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        return {type(obj).__name__: [_pack(v, arrays) for v in obj]}
    if obj is None:
        return {"none": None}
    if isinstance(obj, (bool, int, float, np.bool_, np.integer, np.floating)):
        return {"scalar": obj.item() if isinstance(obj, np.generic) else obj}
    a = to_numpy(obj)
    if a.dtype == object:
        raise TypeError(f"cannot save {type(obj).__name__} in a checkpoint: only dicts, lists, "
                        f"numbers and arrays")
    key = f"a{len(arrays)}"
    arrays[key] = a
    return {"array": key}


_TAKEN = object()      # in place of an array `_unpack` has handed out


def _unpack(desc, arrays):
    (kind, body), = desc.items()
    if kind == "dict":
        return {k: _unpack(v, arrays) for k, v in body}
    if kind in ("list", "tuple"):
        items = [_unpack(v, arrays) for v in body]
        return items if kind == "list" else tuple(items)
    if kind == "array":
        # the array np.load just made, not a copy of it (a copy held each array twice while the file
        # was read); so each may be named once — save names each once, and a file naming one array
        # a thousand times would otherwise be a thousand copies of it
        a = arrays[body]
        if a is _TAKEN:
            raise ValueError(f"the index names the array {body!r} more than once; save names each array once")
        arrays[body] = _TAKEN
        return a
    if kind == "scalar" and type(body) in (bool, int, float) or kind == "none" and body is None:
        return body
    # (any other kind was returned as it stood: a file from elsewhere made values a number, and the
    # command an internal error)
    raise ValueError(f"the index holds {json.dumps(desc)[:60]}, none of what save writes (dicts, lists, "
                     f"tuples, numbers, None, arrays)")


def _array_keys(index) -> set:
    """The array keys the JSON index of a checkpoint names (in ``values`` and ``state``)."""
    keys: set = set()
    todo = [index.get("values"), index.get("state"), index.get("standardized")]
    while todo:
        d = todo.pop()
        if isinstance(d, dict):
            if isinstance(d.get("array"), str):
                keys.add(d["array"])
            todo.extend(d.values())
        elif isinstance(d, list):
            todo.extend(d)
    return keys


def save(path, values: Mapping, state=None, step: int = 0, epoch: int = 0, seen: int = 0, seed=None,
         samples=None, standardized=None, columns=None) -> None:
    """Write a checkpoint (``.npz``): values (keyed by name), optimizer state, step and epoch (and
    ``seen``, the samples of the next epoch trained on, for a save part-way through it; ``seed`` and
    ``samples``, the run's integer seed and number of training samples, when given; ``standardized``,
    the statistics its data were standardized with, and ``columns``, the names of its table's
    columns: see `Checkpoint`).
    The file is replaced atomically, so an interrupted save leaves the old checkpoint whole.

    >>> import numpy as np, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "ck.npz")
    >>> save(path, {"w": np.ones(2)}, state={"t": 3}, step=3)
    >>> load(path).values["w"], load(path).state, load(path).step
    (array([1., 1.]), {'t': 3}, 3)
    """
    arrays: dict = {}
    index = {"values": _pack(dict(values), arrays), "state": _pack(state, arrays),
             "step": int(step), "epoch": int(epoch), "format": "symgrad-checkpoint-1"}
    if seen:                         # read as 0 where absent: older checkpoints load as before
        index["seen"] = int(seen)
    if integer_seed(seed) is not None:     # (a Generator or SeedSequence is not recorded)
        index["seed"] = integer_seed(seed)
    if samples is not None:
        index["samples"] = int(samples)
    if standardized is not None:
        index["standardized"] = _pack(check_statistics(standardized), arrays)
    if columns is not None:
        index["columns"] = check_columns(columns)
    arrays["index"] = np.array(json.dumps(index))
    atomic_write(os.fspath(path), lambda f: np.savez(f, **arrays), suffix=".npz.tmp")


def load_checkpoint(path) -> Checkpoint:
    """Read a checkpoint written by `save`, ``sg.train(checkpoint=...)`` or ``symgrad train
    --checkpoint`` / ``--best``: a `Checkpoint` with ``.values`` (keyed by name), ``.state``, ``.step``
    and ``.epoch``. Pass it as ``values=`` to `train` to resume. A missing, truncated or foreign file
    raises `CheckpointError`. Public as ``sg.load_checkpoint``.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "ck.npz")
    >>> with open(path, "wb") as f:
    ...     _ = f.write(b"PK, then nothing")       # a zip file's first bytes, cut short
    >>> load_checkpoint(path)
    Traceback (most recent call last):
    ...
    symgrad.compiling.training_checkpoint.CheckpointError: ... is not a readable symgrad checkpoint (truncated or corrupt: ...)
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise CheckpointError(f"no such checkpoint file: {path}" if not os.path.exists(path) else
                              f"{path} is not a checkpoint file (it is a directory or a device)")
    _refuse_other_kinds(path)
    from .training_npz import bomb
    why = bomb(path)
    if why is not None:
        raise CheckpointError(f"{path} is not read as a checkpoint: {why}")
    try:
        with np.load(path, allow_pickle=False) as z:
            if "index" not in z.files:
                raise CheckpointError(f"{path} is not a symgrad checkpoint (no index)")
            index = json.loads(str(z["index"]))
            # only the arrays the index names: a member it does not name is never decompressed
            arrays = {k: z[k] for k in _array_keys(index) if k in z.files}
        counts = {k: index.get(k, 0 if k == "seen" else None) for k in ("step", "epoch", "seen", "samples")}
        for k, v in counts.items():     # a file from elsewhere: numbers as save writes them, or it is refused
            if not (type(v) is int and v >= 0 or v is None and k == "samples"):
                raise CheckpointError(f"{path} is not a symgrad checkpoint: its {k!r} is {json.dumps(v)[:40]}, "
                                      f"not a count (a whole number, 0 or more)")
        if index.get("seed") is not None and type(index["seed"]) is not int:
            raise CheckpointError(f"{path} is not a symgrad checkpoint: its 'seed' is {json.dumps(index['seed'])[:40]}, "
                                  f"not an integer seed")
        values = _unpack(index["values"], arrays)
        if not isinstance(values, dict):
            raise CheckpointError(f"{path} is not a symgrad checkpoint: its values are a {type(values).__name__}, "
                                  f"not a dict of the parameters' values by name")
        try:
            scaled = check_statistics(_unpack(index["standardized"], arrays)) if "standardized" in index else None
        except ValueError as e:
            raise CheckpointError(f"{path} is not a symgrad checkpoint: {e}") from None
        try:
            columns = check_columns(index["columns"]) if "columns" in index else None
        except ValueError as e:
            raise CheckpointError(f"{path} is not a symgrad checkpoint: {e}") from None
        return Checkpoint(values, _unpack(index["state"], arrays), counts["step"], counts["epoch"], counts["seen"],
                          index.get("seed"), counts["samples"], scaled, columns)
    except CheckpointError:
        raise
    except Exception as e:  # noqa: BLE001 - a cut zip fails in many ways: BadZipFile, EOFError, zlib
        raise CheckpointError(f"{path} is not a readable symgrad checkpoint (truncated or corrupt: "
                              f"{type(e).__name__}: {e})") from e


def check_columns(columns) -> dict:
    """``columns`` as a checkpoint holds them, {input name: [column names]}, or a ValueError."""
    if not isinstance(columns, Mapping) or not all(
            isinstance(k, str) and isinstance(v, (list, tuple)) and all(isinstance(c, str) for c in v)
            for k, v in columns.items()):
        raise ValueError("its columns are not {input name: [column names]}")
    return {k: list(v) for k, v in columns.items()}


def fits(program, values: Mapping) -> str | None:
    """Why a checkpoint's ``values`` are not this program's — a parameter it lacks or holds besides
    them, or one of another shape, said as such — or None when they fit (or the program lists no
    parameters). A resumed run whose checkpoint lacked a parameter drew it at random, silently, and
    one of another shape failed at the first step, after the warnings about the run."""
    params = getattr(program, "params", None)
    if params is None:
        return None
    want = {key_name(p): tuple(getattr(p, "shape", ())) for p in params}
    got = {key_name(k): np.shape(to_numpy(v)) for k, v in values.items()}
    if set(got) != set(want):
        lacks, more = sorted(set(want) - set(got)), sorted(set(got) - set(want))
        said = "; ".join(part for part in (
            f"it has no value for {', '.join(map(repr, lacks))}" if lacks else "",
            f"it holds {', '.join(map(repr, more))}, no parameter{'s' if len(more) > 1 else ''} of this program"
            if more else "") if part)
        return f"the checkpoint holds the values of {', '.join(map(repr, sorted(got)))}: {said}"
    for name, shape in want.items():
        if all(isinstance(d, int) or getattr(d, "is_Integer", False) for d in shape) \
                and tuple(int(d) for d in shape) != got[name]:
            return (f"the checkpoint holds {name!r} of shape {got[name]}, but this program declares it "
                    f"{tuple(int(d) for d in shape)}")
    return None


def _refuse_other_kinds(path: str) -> None:
    """A file that is no zip archive at all (a checkpoint is an .npz, a zip) is named for what it is
    — text such as a data table given in the checkpoint's place, a .npy, an empty file — rather than
    as NumPy's "This file contains pickled (object) data", which np.load says of any such file."""
    with open(path, "rb") as f:
        head = f.read(512)
    if head.startswith(b"PK"):
        return
    if not head:
        kind = "empty"
    elif head.startswith(b"\x93NUMPY"):
        kind = "one array saved by np.save (.npy)"
    else:
        try:
            text = head.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        first = text.splitlines()[0][:60] if text and text.strip() else ""
        kind = (f"text, starting {first!r}: a data table? (symgrad evaluate and predict take it as --data)"
                if text is not None else "binary, and no zip archive")
    raise CheckpointError(f"{path} is not a checkpoint: a checkpoint is the .npz (a zip archive) that symgrad train "
                          f"--checkpoint, sg.train(checkpoint=...) or save writes, and this file is {kind}")


# the short name that symgrad.compiling.training has exported (and its docs used) since checkpoints came
load = load_checkpoint


def check_checkpoint_path(path, what: str = "checkpoint") -> None:
    """Raise `CheckpointError` (naming ``what``) when a checkpoint cannot be saved at ``path``:
    train calls this before the first step, so that the first epoch's work is not lost to it."""
    if not isinstance(path, (str, os.PathLike)):
        raise CheckpointError(f"{what} must be a file path (str or os.PathLike), got {type(path).__name__}")
    why = unwritable(path)
    if why is not None:
        raise CheckpointError(f"{what}: cannot save a checkpoint at {os.fspath(path)}: {why}")
