"""A `torch.autograd.Function` checked by `sg.check_backward`: its forward against ``out``, its
hand-written backward against symgrad's gradient.

Outside courses a hand-derived backward is written as a Function subclass::

    class MyLinear(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, w, b):
            ctx.save_for_backward(x, w)
            return x @ w.T + b
        @staticmethod
        def backward(ctx, grad_out):
            x, w = ctx.saved_tensors
            return grad_out @ w, grad_out.T @ x, grad_out.sum(0)

`FunctionBackward` turns such a class into the NumPy ``backward(dout, **values)`` that
check_backward already checks, so every verdict and hint of the NumPy path applies unchanged; only
the boundary is new. At each drawn point it

1. builds float64 tensors of the drawn values (``requires_grad`` for the wrt ones only, so that
   ``ctx.needs_input_grad`` is True exactly for the inputs checked; integer labels as int64; a
   scalar not in wrt as a Python float, as torch code passes a slope or an eps — a gradient returned
   for it is then refused, as torch's engine refuses it) and
   calls ``MyFn.apply`` with them, each in the place of the forward parameter it maps to;
2. compares the forward's output with ``out`` at the same values — a wrong forward is its own error,
   `FunctionForwardError`, raised before the backward is judged against a function it does not
   compute;
3. calls ``MyFn.backward(ctx, dout)`` itself, with the ctx torch made (the output's ``grad_fn``),
   under no_grad as torch's engine does, and reads what it returns as the engine would: one entry
   per forward input (extra trailing Nones allowed), None where an input takes no gradient, a
   gradient of a shape its input broadcasts to summed down to the input's shape (the engine's
   ``sum_to``: a bias gradient left (N, C) is right in torch, and the method says it was summed).
   A gradient of any other shape is passed on as it is, for the shape hints to name.

Why call backward directly, not through ``torch.autograd.grad``: the engine would refuse a wrong
shape with "invalid gradient at index 1" and read a None as zeros, where the check names the input
and the slip.

Forward's parameters map to out's symbols by name where a name is a symbol's, the rest in order:
wrt first, then out's other symbols in the order they appear in out. A parameter that is no symbol
and has a default (``eps=1e-5``, ``stride=1``) keeps it; ``constants={"stride": 2}`` gives one.

Everything runs in float64: the check decides "equal" at a relative error of 1e-6, and float32
rounds at 6e-8 an operation (more after a sum over a batch), so a right float32 backward would read
as wrong. A Function that returns float32 for float64 inputs is an error that says so.

torch is imported here only, inside functions: ``import symgrad`` never loads it.
"""
from __future__ import annotations

import inspect
import re

import numpy as np
import sympy as sp

from ..errors import ArgumentError, SymgradError
from ..frontend import tensor as T
from .backward_errors import BackwardError, FunctionForwardError
from .hint_kind import rewritten

TOL = 1e-6            # the forward's relative error tolerated (the check's own tolerance)


def is_torch_function(obj) -> bool:
    """A subclass of torch.autograd.Function (told by its bases' module, so that torch need not be
    imported to ask)."""
    return isinstance(obj, type) and any(
        c.__name__ == "Function" and c.__module__.startswith("torch.autograd") for c in obj.__mro__[1:])


def _own_setup_context(fn) -> bool:
    """forward(x, w, b) with a separate setup_context(ctx, inputs, output) — torch 2's other style."""
    return any("setup_context" in vars(c) for c in fn.__mro__ if not c.__module__.startswith("torch"))


def _in_order(outs, params, sizes) -> list:
    """out's symbols in the order positional parameters take them: wrt first, then the others in the
    order they appear in out (sizes such as N left out)."""
    names = [w.name for w in params]
    for o in outs:
        for n in sp.preorder_traversal(o):
            if isinstance(n, T.Tensor) or (isinstance(n, sp.Symbol) and n not in sizes):
                if n.name not in names:
                    names.append(n.name)
    return names


class FunctionBackward:
    """``MyFn`` as check_backward's ``backward(*douts, **values)``: gradients in wrt order, as NumPy
    arrays. ``notes`` gathers what the check's method should say (a gradient torch summed)."""

    def __init__(self, fn, outs, params, sizes, constants=None):
        import torch  # noqa: F401 - an optional dependency: a clear error if it is missing
        self.fn, self.outs, self.params = fn, outs, params
        self.name = fn.__name__
        self.claim_source = fn.backward         # what a hint quoting the source reads
        self.notes: dict = {}
        self._floats: set = set()               # the symbols passed as Python floats (scalars not in wrt)
        constants = dict(constants or {})
        try:
            sig = inspect.signature(fn.forward)
        except (TypeError, ValueError):
            raise ArgumentError(f"{self.name}.forward has no signature to read") from None
        ps = list(sig.parameters.values())
        if not _own_setup_context(fn):
            if not ps:
                raise ArgumentError(f"{self.name}.forward takes no ctx; write forward(ctx, ...), or "
                                    f"forward(...) with setup_context(ctx, inputs, output)")
            ps = ps[1:]                         # ctx
        symbols = _in_order(outs, params, sizes)
        named = {p.name for p in ps} & set(symbols)
        free = [s for s in symbols if s not in named]
        self.slots: list = []                   # per positional input: ("symbol", name) or ("value", v)
        mapped = []
        for p in ps:
            if p.kind is p.VAR_POSITIONAL:      # forward(ctx, *inputs): the rest of the symbols
                self.slots += [("symbol", s) for s in free]
                mapped += [f"*{p.name} = {s}" for s in free]
                free = []
            elif p.kind is p.VAR_KEYWORD:
                continue
            elif p.kind is p.KEYWORD_ONLY:
                if p.default is p.empty and p.name not in constants:
                    raise ArgumentError(f"{self.name}.forward's keyword-only parameter {p.name!r} has no "
                                        f"default; give it with constants={{{p.name!r}: ...}}")
                if p.name in constants:
                    raise ArgumentError(f"constants= gives {p.name!r}, a keyword-only parameter of "
                                        f"{self.name}.forward: apply passes inputs by position; make it "
                                        f"a positional parameter")
            elif p.name in named:
                self.slots.append(("symbol", p.name))
                mapped.append(f"{p.name} = {p.name}")
            elif p.name in constants:
                self.slots.append(("value", constants.pop(p.name)))
                mapped.append(f"{p.name} = {self.slots[-1][1]!r} (constants=)")
            elif free:                          # by position: the next symbol not taken by name
                s = free.pop(0)
                self.slots.append(("symbol", s))
                mapped.append(f"{p.name} = {s} (by position)")
            elif p.default is not p.empty:
                self.slots.append(("value", p.default))
            else:
                raise ArgumentError(
                    f"{self.name}.forward's parameter {p.name!r} takes none of out's symbols (they are "
                    f"{', '.join(symbols)}, each given to a parameter of its name or else in this "
                    f"order) and has no default: give its value with constants={{{p.name!r}: ...}} "
                    f"(a stride, an eps)")
        if constants:
            raise ArgumentError(f"constants= names {sorted(constants)}, which {self.name}.forward has "
                                f"no positional parameter for; its parameters are "
                                f"{[p.name for p in ps]}")
        if free:
            raise ArgumentError(f"{self.name}.forward takes no parameter for out's symbol(s) "
                                f"{', '.join(free)}: it cannot compute out; its parameters are "
                                f"{[p.name for p in ps]}")
        self.mapping = ", ".join(mapped)
        self.positions = {v: i for i, (k, v) in enumerate(self.slots) if k == "symbol"}
        self.input_names = self._params()       # forward's inputs as the messages name them
        from ..core.lower import lower
        self._graph, _, self._outs = zip(*[lower(o) for o in outs])

    # -- one call, at the values of one point -------------------------------------------------------

    def __call__(self, *douts, **values):
        import torch
        wrt = {w.name for w in self.params}
        args = []
        for kind, v in self.slots:
            if kind == "value":
                args.append(v)
                continue
            a = np.asarray(values[v])
            if np.issubdtype(a.dtype, np.integer):
                args.append(torch.as_tensor(a, dtype=torch.int64))
            elif a.ndim == 0 and v not in wrt:     # a hyperparameter, as torch code passes one (a slope)
                args.append(float(a))
                self._floats.add(v)
            else:
                args.append(torch.tensor(a, dtype=torch.float64, requires_grad=v in wrt))
        called = ", ".join(f"{self._shown(a)}" for a in args)
        try:
            with torch.enable_grad():
                result = self.fn.apply(*args)
        except SymgradError:
            raise
        except Exception as e:  # noqa: BLE001 - the user's code, wrapped with what it was called with
            error = BackwardError(f"{self.name}.forward raised {type(e).__name__}: {e} (called as "
                                  f"{self.name}.apply({called}), {self.mapping})" + _float64_words(e))
            error.forward = self.fn.forward     # whose source a hint reads for a literal batch size
            raise error from e
        results = list(result) if isinstance(result, (tuple, list)) else [result]
        try:
            self._check_forward(results, values, called)
        except FunctionForwardError as e:
            e.forward = self.fn.forward         # whose source a hint reads for a literal batch size
            raise
        ctx = next((r.grad_fn for r in results if isinstance(r, torch.Tensor) and r.grad_fn is not None), None)
        if ctx is None:
            raise BackwardError(f"{self.name}.apply's output has no grad_fn although {', '.join(sorted(wrt))} "
                                f"require gradients: forward marked it non-differentiable, or returned a "
                                f"detached tensor")
        gouts = [torch.tensor(np.asarray(d, float), dtype=torch.float64).reshape(r.shape)
                 for d, r in zip(douts, results)]
        try:
            with torch.no_grad():
                grads = self.fn.backward(ctx, *gouts)
        except SymgradError:
            raise
        except Exception as e:  # noqa: BLE001
            raise BackwardError(f"{self.name}.backward raised {type(e).__name__}: {e} (called with "
                                f"grad_output(s) {', '.join(str(tuple(g.shape)) for g in gouts)} after "
                                f"{self.name}.apply({called}))" + _float64_words(e)) from e
        return tuple(self._gradient(grads, args, w) for w in self.params)

    @staticmethod
    def _shown(a) -> str:
        import torch
        if isinstance(a, torch.Tensor):
            return f"{str(a.dtype).replace('torch.', '')} {tuple(a.shape)}"
        return repr(a)

    def _check_forward(self, results, values, called):
        import torch
        from ..core.evaluate import evaluate
        if len(results) != len(self.outs):
            raise FunctionForwardError(f"{self.name}.forward returned {len(results)} output(s), and out "
                                       f"has {len(self.outs)}")
        for k, (r, graph, o) in enumerate(zip(results, self._graph, self._outs)):
            which = f"output {k} of " if len(results) > 1 else ""
            if not isinstance(r, torch.Tensor):
                raise FunctionForwardError(f"{which}{self.name}.forward is a {type(r).__name__}, not a tensor")
            if r.dtype != torch.float64:
                raise BackwardError(f"{which}{self.name}.forward returned {str(r.dtype).replace('torch.', '')} "
                                    f"for float64 inputs ({called})" + _FLOAT64)
            got = r.detach().numpy()
            want = np.asarray(evaluate(graph, [o], values)[0], float)
            if got.shape != want.shape:
                raise FunctionForwardError(
                    f"{which}{self.name}.forward has shape {got.shape}, and out {want.shape} at the same "
                    f"inputs ({called}, {self.mapping}): the forward computes another function than out, "
                    f"so its backward is not checked against out's gradient; fix the forward (or the "
                    f"declaration of out) first")
            from .claims import rel_errors
            err = rel_errors(got, want)
            if np.max(err, initial=0.0) > TOL:
                i = np.unravel_index(int(np.argmax(err)), err.shape) if err.ndim else ()
                at = f"[{', '.join(map(str, i))}]" if i else ""
                raise FunctionForwardError(
                    f"{which}{self.name}.forward is not out: at {at or 'the output'} it is {got[i]:.6g} "
                    f"where out is {want[i]:.6g} (relative error {err[i]:.2g}; {int(np.sum(err > TOL))} of "
                    f"{err.size} entries differ), at the same inputs ({called}, {self.mapping}). A wrong "
                    f"forward is not a wrong backward: the backward is checked against out's gradient "
                    f"only once the forward computes out — fix the forward (or the declaration of out) "
                    f"first")

    def _gradient(self, grads, args, w):
        """The gradient backward returned for wrt symbol ``w``, read as torch's engine reads it."""
        import torch
        grads = list(grads) if isinstance(grads, (tuple, list)) else [grads]
        n = len(self.slots)
        sig = f"forward({', '.join(self.input_names)})"
        if len(grads) < n:
            raise BackwardError(f"{self.name}.backward returned {len(grads)} gradient(s) for the {n} inputs "
                                f"of {sig}: one per input, in forward's order, None for an input that "
                                f"takes no gradient (torch: 'returned an incorrect number of gradients')")
        for i, (g, (kind, v)) in enumerate(zip(grads, self.slots + [("extra", None)] * (len(grads) - n))):
            if g is not None and kind != "symbol":
                what = (f"the constant {self.input_names[i]} = {v!r}" if kind == "value" else
                        f"position {i}, past forward's {n} inputs")
                raise BackwardError(f"{self.name}.backward returned a gradient at position {i}, for {what}, "
                                    f"which is no tensor input: return None there (torch refuses a "
                                    f"gradient for a non-tensor input)")
        for i, (g, (kind, v)) in enumerate(zip(grads, self.slots)):
            if g is not None and kind == "symbol" and not isinstance(args[i], torch.Tensor):
                p = self.input_names[i]
                raise BackwardError(
                    f"{self.name}.backward returned a gradient at position {i}, for {p}"
                    f"{'' if p == v else f' (= {v})'}, a scalar not in wrt, which the check passes to apply as a "
                    f"Python float (as torch code passes a hyperparameter): torch's engine refuses it ('returned "
                    f"a gradient different than None at position {i + 1}, but the corresponding forward input "
                    f"was not a Variable'). Return None there, or put {v} in wrt to check its gradient too (it "
                    f"is then a float64 tensor that requires grad)")
        i = self.positions[w.name]
        g = grads[i]
        pname = self.input_names[i]
        if g is None:
            raise BackwardError(
                f"{self.name}.backward returned None at position {i}, the gradient of "
                f"{pname}{'' if pname == w.name else f' (= {w.name})'}, which the check needs "
                f"(ctx.needs_input_grad[{i}] is True): torch would read it as zero. A gradient never "
                f"computed, a needs_input_grad test on another index, or the gradients returned in "
                f"another order than {sig}'s inputs")
        if not isinstance(g, torch.Tensor):
            raise BackwardError(f"{self.name}.backward returned a {type(g).__name__} as the gradient of "
                                f"{pname} (position {i}); torch needs a Tensor (or None)")
        if g.dtype != torch.float64:
            raise BackwardError(f"{self.name}.backward returned {str(g.dtype).replace('torch.', '')} as the "
                                f"gradient of {pname} for float64 inputs" + _FLOAT64)
        a = g.detach().numpy().copy()
        shape = tuple(args[i].shape)
        if a.shape != shape and _expands(shape, a.shape):
            summed = _sum_to(a, shape)
            self.notes.setdefault(w.name, f"{self.name}.backward's gradient of {pname} has shape {a.shape}, which "
                                  f"torch's engine sums to {pname}'s shape {shape} (as it does for a gradient "
                                  f"of a shape the input broadcasts to): compared after that sum; write the "
                                  f"sum yourself if the backward is also called directly")
            return summed
        return a

    def _params(self) -> list:
        ps = list(inspect.signature(self.fn.forward).parameters.values())
        ps = ps if _own_setup_context(self.fn) else ps[1:]
        out = []
        for p in ps:
            if p.kind is p.VAR_POSITIONAL:
                out += [f"{p.name}[{j}]" for j in range(len(self.slots) - len(out))]
            elif p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
                out.append(p.name)
        return out[:len(self.slots)]

    def explain(self, result):
        """``result`` of the check with the Function's words: how it was called, what torch summed,
        and the order of the gradients as forward's inputs (not wrt's)."""
        params = self.input_names
        order = f"{self.name}.forward's inputs ({', '.join(params)})"
        say = f"return one gradient per input of forward, in that order, None for an input without one"
        result.hint = rewritten(result.hint, lambda h: re.sub(
            r"another order than wrt's \([^)]*\)", f"another order than {order}",
            re.sub(r"return them in wrt'?s? order( \([^)]*\))?, or as a dict by name", say, h)))
        floats = sorted(self._floats)
        as_floats = (f"; {', '.join(floats)} (scalar{'s' if len(floats) > 1 else ''} not in wrt) as Python "
                     f"float{'s' if len(floats) > 1 else ''}" if floats else "")
        result.method = (f"{self.name}.apply on float64 tensors{as_floats} ({self.mapping}), its forward equal to out "
                         f"at every point; {self.name}.backward called with each dout: " + result.method
                         + "".join(f"; {self.notes[w.name]}" for w in self.params if w.name in self.notes))
        return result


_FLOAT64 = (": the check runs in float64, because it decides 'equal' at a relative error of 1e-6 and "
            "float32 rounds at 6e-8 an operation (more after a sum over the batch) — a right float32 "
            "backward would read as wrong. Make the Function follow its inputs' dtype (no .float(), "
            "torch.zeros(..., dtype=x.dtype)); the float32 program is then the same code")


def _float64_words(e) -> str:
    text = str(e).lower()
    if any(k in text for k in ("dtype", "double", "float", "scalar type")):
        return ". The check calls it with float64 tensors" + _FLOAT64
    return ""


def _expands(shape, to) -> bool:
    """``shape`` broadcasts to ``to`` (torch's is_expandable_to)."""
    if len(shape) > len(to):
        return False
    return all(s == t or s == 1 for s, t in zip(shape[::-1], to[::-1]))


def _sum_to(a, shape):
    """``a`` summed down to ``shape`` (torch's sum_to: the leading axes, then the axes of length 1)."""
    lead = a.ndim - len(shape)
    a = a.sum(axis=tuple(range(lead))) if lead else a
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and a.shape[i] != 1)
    return a.sum(axis=axes, keepdims=True) if axes else a


__all__ = ["FunctionBackward", "FunctionForwardError", "is_torch_function"]
