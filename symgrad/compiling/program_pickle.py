"""Pickling a `Program`: what ``pickle``, ``multiprocessing`` (spawn: a worker gets its arguments
pickled), ``joblib`` and ``concurrent.futures.ProcessPoolExecutor`` need to hand a compiled program
to another process. (It was ``AttributeError: Can't pickle local object '_leaf.<locals>.<lambda>'``:
the lowering's primitives carry their rules as functions.)

A program is stored as its lowering (`Spec`), its target and the state of its dropout generator
(`Program.__reduce__`); here, the pickling of the lowering: the primitives of the IR are stored by
name and looked up again on loading (the schedulers test them by identity). The program is compiled
again from the lowering on loading — quick: no derivation, and the generated module comes from the
cache when that machine has compiled it before.

>>> import pickle, numpy as np, sympy as sp, symgrad as sg
>>> w, x = sp.symbols("w x")
>>> prog = sg.compile((w * x - 1) ** 2, [w], [x], dtype="float64")
>>> pickle.loads(pickle.dumps(prog)).loss({"w": 0.5}, {"x": np.array([2.0])})
0.0
"""
from __future__ import annotations

import io
import pickle


def dumps(obj) -> bytes:
    from ..core.ir import Primitive

    class _Pickler(pickle.Pickler):
        def persistent_id(self, o):
            return ("primitive", o.name) if isinstance(o, Primitive) else None
    buf = io.BytesIO()
    _Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    return buf.getvalue()


def loads(data: bytes):
    from ..core import array_rules  # noqa: F401 - registers the N-d primitives in rules.PRIMITIVES
    from ..core import rules as R

    class _Unpickler(pickle.Unpickler):
        def persistent_load(self, pid):
            kind, name = pid
            if kind != "primitive" or name not in R.PRIMITIVES:
                raise pickle.UnpicklingError(f"unknown IR primitive {name!r} in a pickled symgrad program "
                                             f"(pickled by another version of symgrad?)")
            return R.PRIMITIVES[name]
    return _Unpickler(io.BytesIO(data)).load()
