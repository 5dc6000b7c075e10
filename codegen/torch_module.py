"""`Program.as_torch()`: a compiled loss as a ``torch.nn.Module``.

The module owns the parameters (``torch.nn.Parameter``, one per declared parameter, named ``p0``,
``p1``, ... in declaration order; ``module.parameter("W1")`` finds one by its symbol's name). Its
``forward`` takes the batch inputs and returns the loss, a 0-d tensor. The loss and the gradients
are computed together by the generated code, in one call, inside a ``torch.autograd.Function``:
forward keeps the gradients, backward scales them by the incoming gradient. So ``loss.backward()``
fills ``p.grad``, any ``torch.optim`` optimizer steps the parameters, and
``DistributedDataParallel`` all-reduces the gradients as it does for any module.

>>> import os; os.environ.setdefault("TRITON_INTERPRET", "1")   # doctest: +SKIP
>>> import sympy as sp, symgrad as sg, torch                      # doctest: +SKIP
>>> net = sg.mlp([4, 8, 3]); t = sp.MatrixSymbol("t", 3, 1)      # doctest: +SKIP
>>> prog = sg.compile(sg.cross_entropy(net.output, t), net.params, [net.input, t], target="triton")  # doctest: +SKIP
>>> model = prog.as_torch()                                       # doctest: +SKIP
>>> opt = torch.optim.Adam(model.parameters(), lr=1e-3)          # doctest: +SKIP
>>> loss = model(torch.randn(32, 4), torch.eye(3)[torch.randint(0, 3, (32,))])  # doctest: +SKIP
>>> loss.backward(); opt.step()                                    # doctest: +SKIP

Inputs get no gradient (the generated code differentiates with respect to the parameters only).
The program's own optimizer (``.step``) is not used by the module: torch's optimizer is.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from symgrad.compiling.compiler import register_adapter


class _LossAndGrad(torch.autograd.Function):
    """loss = program(params, batch); backward: ∂loss/∂p · (incoming gradient), computed in forward."""

    @staticmethod
    def forward(ctx, run, batch, *params):
        loss, grads = run(params, batch)
        ctx.save_for_backward(*grads)
        return loss

    @staticmethod
    def backward(ctx, g):
        return (None, None) + tuple(g * gp for gp in ctx.saved_tensors)


class SymgradModule(torch.nn.Module):
    """See the module docstring. ``values``: initial parameter values keyed by symbol or name;
    without them, matrices start uniform in ±1/√(fan-in) (as ``torch.nn.Linear``) and the rest at 0."""

    def __init__(self, program, values=None, generator: torch.Generator | None = None):
        super().__init__()
        self.program = program
        self.names = [p.name for p in program.params]
        device = getattr(program, "device", torch.device("cpu"))
        for i, (sym, shape) in enumerate(zip(program.params, program.param_shapes)):
            if values is not None:
                from .torch_program import float32_tensor, lookup
                t = float32_tensor(torch, lookup(values, sym, "parameter")).reshape(shape)
            elif len(shape) == 2 and shape[1] > 1:
                bound = 1.0 / math.sqrt(shape[1])
                t = (torch.rand(shape, generator=generator) * 2 - 1) * bound
            else:
                t = torch.zeros(shape)
            self.register_parameter(f"p{i}", torch.nn.Parameter(t.to(device=device, dtype=torch.float32)))

    def parameter(self, name: str) -> torch.nn.Parameter:
        """The parameter declared as the symbol called ``name``."""
        return getattr(self, f"p{self.names.index(name)}")

    def forward(self, *inputs, **named):
        """The loss of the batch: inputs positionally in declaration order, or by name."""
        prog = self.program
        if inputs and named:
            raise TypeError("pass the inputs either positionally or by name, not both")
        if inputs:
            if len(inputs) != len(prog.inputs):
                raise TypeError(f"expected {len(prog.inputs)} inputs "
                                f"({', '.join(x.name for x in prog.inputs)}), got {len(inputs)}")
            named = {x.name: v for x, v in zip(prog.inputs, inputs)}
        batch = prog._batch_arrays(named, "train")
        params = [getattr(self, f"p{i}") for i in range(len(self.names))]
        return _LossAndGrad.apply(self._run, batch, *params)

    def _run(self, params, batch):
        prog = self.program
        if hasattr(prog, "device"):          # torch tensors end to end (the Triton backend)
            ps = [p.detach().contiguous() for p in params]
            loss, grads = prog.compiled.grad(ps, batch, prog.rng)
            return loss.reshape(()), [g.reshape(p.shape) for g, p in zip(grads, params)]
        ps = [p.detach().cpu().numpy() for p in params]      # the NumPy backend: through the CPU
        loss, grads = prog.compiled.grad(ps, batch, prog.rng)
        dev = params[0].device if params else torch.device("cpu")
        return (torch.tensor(float(loss), dtype=torch.float32, device=dev),
                [torch.as_tensor(np.asarray(g, dtype=np.float32)).reshape(p.shape).to(dev)
                 for g, p in zip(grads, params)])

    def extra_repr(self) -> str:
        return f"params={self.names}, inputs={[x.name for x in self.program.inputs]}"


def module_of(program, values=None, generator=None) -> SymgradModule:
    return SymgradModule(program, values, generator)


register_adapter("torch", module_of)
