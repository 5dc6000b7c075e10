"""The program of a per-example declaration of tensors (`symgrad.compiling.batching`).

Its generated module is a whole-batch one (the batched graph, the batch size B bound from the
arrays); the program speaks the declaration's language: ``inputs`` are the tensors as declared for
one example, an array passed for one is (B, *its shape), looked up by name or by the declared
tensor, and a wrong shape is named per example.

>>> import numpy as np, symgrad as sg
>>> x, y = sg.tensor("x", (2,)), sg.tensor("y", (), integer=True)
>>> w = sg.tensor("w", (3, 2))
>>> prog = sg.compile(sg.cross_entropy(w @ x, y), [w], [x, y], dtype="float64")
>>> prog
<PerExampleProgram: parameters w (3, 2); inputs x (2), y () per example; SGD(lr=0.01); float64>
>>> round(prog.loss({"w": np.zeros((3, 2))}, {x: np.ones((4, 2)), y: np.array([0, 1, 2, 1])}), 6)  # log 3
1.098612
"""
from __future__ import annotations

from ..errors import DataError
from .batch_checks import _shape, empty_batch, fit_batch_input, same_batch_size
from .batch_kind import ignored_label_values, label_bounds
from .program import Program
from .whole_batch import _check_labels


class PerExampleProgram(Program):
    """A `Program` whose declaration is per example and uses tensors: arrays (B, *declared shape),
    the loss the mean (or sum, ``reduction="sum"``) over the B examples."""

    def __init__(self, spec, compiled, seed: int = 0):
        super().__init__(spec, compiled, seed)
        self.inputs = list(spec.declared_inputs)
        self.input_shapes = [_shape(x) for x in self.inputs]
        self._ispec = [(x.name, x, s, self._example_shape(s)) for x, s in zip(self.inputs, self.input_shapes)]
        self._bounds = {self.inputs[i].name: b for i, b in label_bounds(spec).items()}
        self._ignored = {self.inputs[i].name: v for i, v in ignored_label_values(spec).items()}

    @staticmethod
    def _example_shape(shape) -> tuple:
        """A tensor's examples keep its declared shape, (m, 1) and (1, n) included: (B, *shape). The
        outputs that read no input are repeated in it (`Program._repeated_outputs`)."""
        return tuple(shape)

    def _batch_arrays(self, batch, kind: str) -> list:
        out, B = [], None
        for (name, sym, shape, want), needed in zip(self._ispec, self._needs[kind]):
            if not needed:
                out.append(None)
                continue
            a = self._input_array(batch, name, sym)
            fit_batch_input(name, tuple(a.shape), shape, want)      # a ShapeError unless (B, *shape)
            B = same_batch_size(name, a.shape[0], B)
            if name in self._bounds:
                _check_labels(name, a, self._bounds[name], {}, self._ignored.get(name))
            out.append(a)
        if B == 0 and kind != "forward":
            raise DataError(empty_batch(self._ispec))
        return out
