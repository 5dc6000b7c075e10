"""`sg.check_backward`: check a layer's hand-written NumPy backward the way cs231n does.

A layer computes ``out`` from its inputs; its backward takes the upstream gradient ``dout`` (the
gradient of the loss with respect to ``out``) and returns the gradients of the loss with respect to
the inputs. Whatever the loss, those are the gradients of the scalar

    f = Σ out ⊙ dout         (dout held fixed),

since ∂f/∂x = Σᵢ dout[i] · ∂out[i]/∂x is exactly the chain rule the backward implements. So a
new input tensor ``dout`` of out's shape is declared, f is built, and `sg.check` compares the
user's function (called with the drawn arrays) with symgrad's gradient of f: the same verdict,
counterexample and named slip as `sg.check`. A scalar ``out`` (a loss) is its own f: dout = 1,
as cs231n's loss functions assume.

>>> import numpy as np, sympy as sp, symgrad as sg
>>> N = sp.Symbol("N", integer=True, positive=True)
>>> x = sg.tensor("x", (N, 3))
>>> def relu_backward(dout, x):
...     return dout * (x > 0)
>>> sg.check_backward(sg.relu(x), [x], relu_backward).verdict
'equal'
>>> sg.check_backward(sg.relu(x), [x], lambda dout, x: dout).verdict
'not equal'
"""
from __future__ import annotations

import re
from typing import Mapping

import numpy as np
import sympy as sp

from ..core.differentiate import _flatten_wrt
from ..core.values import key_name
from ..errors import ArgumentError, SymgradError
from ..frontend import tensor as T
from ..frontend.masks import masks_in
from ..frontend.parse import as_expr
from .backward_errors import BackwardError, FunctionForwardError
from . import layer_outputs
from .claims import _symbols
from .hint_kind import rewritten
from .tensors import sizes_of


def _dout_name(taken: set, base: str = "dout") -> str:
    """"dout", as cs231n calls it, unless one of the layer's own symbols has that name (then dout1,
    dout2, ...); ``base="mask"`` names dropout masks the same way."""
    name, k = base, 1
    while name in taken:
        name, k = f"{base}{k}", k + 1
    return name


def _mask_names(outs, taken: set) -> dict:
    """{a dropout mask's own name (dropout_mask_7, from a counter): the name backward gets it by}:
    "mask" (cs231n's), or mask, mask1, ... in the order of the sg.dropout calls."""
    found = {}
    for o in outs:
        for m in masks_in(o):
            found[m.name] = m
    names = {}
    for name in sorted(found, key=lambda n: int(n.rsplit("_", 1)[1])):
        names[name] = _dout_name(taken, "mask")
        taken.add(names[name])
    return names


def _renamed(result, names: dict):
    """``result`` with the masks' own names replaced by backward's in its counterexample, method and hint."""
    if not names:
        return result
    sub = lambda text: re.sub(r"\b(" + "|".join(map(re.escape, names)) + r")\b",  # noqa: E731
                              lambda m: names[m.group(1)], text)
    if result.counterexample is not None:
        cx = result.counterexample
        cx.point = {names.get(k, k): v for k, v in cx.point.items()}
    result.method = sub(result.method)
    result.hint = rewritten(result.hint, sub)
    return result


def _check_dims(dims, sizes) -> dict:
    """``dims`` as {size symbol: int}; a name that is no symbolic size of out is an ArgumentError."""
    if dims is None:
        return {}
    if not isinstance(dims, Mapping):
        raise ArgumentError(f"dims must be a dict {{size symbol or name: int}}, not {type(dims).__name__}")
    by_name = {s.name: s for s in sizes}
    out = {}
    for k, v in dims.items():
        name = key_name(k)
        if name not in by_name:
            raise ArgumentError(f"dims names {name!r}, which is not a symbolic size of out or wrt; "
                                f"the symbolic sizes are {sorted(by_name) or 'none'}")
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer, sp.Integer)) or int(v) < 1:
            raise ArgumentError(f"dims[{name!r}] must be an integer >= 1, not {v!r}")
        out[by_name[name]] = int(v)
    return out


def _gradients(res, params) -> list:
    """The backward's result as a list in wrt order (a tuple/list, a dict by name or symbol — or by
    name with a d before it, every key so: {'dx': ..., 'dw': ...} —, or one array for one wrt symbol)."""
    names = [w.name for w in params]
    if isinstance(res, Mapping):
        byname = {key_name(k): v for k, v in res.items()}
        if set(byname) == {"d" + n for n in names} and not set(byname) & set(names):
            byname = {k[1:]: v for k, v in byname.items()}      # cs231n's grads keyed dx, dw, db
        missing = [n for n in names if n not in byname]
        extra = sorted(set(byname) - set(names))
        if missing or extra:
            raise BackwardError(f"backward returned a dict with keys {sorted(byname)}; it must have one "
                                f"gradient per wrt symbol, keyed by name: {names} (missing {missing}, "
                                f"not in wrt {extra})")
        return [byname[n] for n in names]
    if isinstance(res, (list, tuple)):
        if len(res) != len(params):
            loss_first = (len(res) == len(params) + 1 and np.ndim(res[0]) == 0)
            raise BackwardError(f"backward returned {len(res)} gradient(s) for {len(params)} wrt "
                                f"symbol(s) {names}; return them in wrt order (or a dict by name)"
                                + ("; the first is a number: a loss function returning (loss, dx), as "
                                   "cs231n's softmax_loss and svm_loss do, is checked as lambda dout, "
                                   "x, y: softmax_loss(x, y)[1]" if loss_first else ""))
        return list(res)
    if len(params) != 1:
        raise BackwardError(f"backward returned one {type(res).__name__} for {len(params)} wrt symbols "
                            f"{names}; return a tuple in wrt order (or a dict by name)")
    return [res]


def _as_boolean(message: str) -> bool:
    """NumPy's words for a float array used as a boolean one (~m, x[m])."""
    return any(w in message for w in ("ufunc 'invert' not supported", "arrays used as indices must be",
                                      "only integers, slices"))


def _boolean_advice(kw, ints) -> str:
    """Why a backward that negates or indexes with a mask fails: the check draws it as real numbers."""
    real = [k for k, v in kw.items() if k not in ints and np.ndim(v) > 0 and "mask" in k.lower()]
    which = f"'{real[0]}'" if real else "a mask"
    name = real[0] if real else "mask"
    return (f"; {which} is drawn as real numbers (a tensor of sg.tensor is real unless integer=True), so "
            f"~{name} or x[{name}] of it fails: give the boolean mask with at={{'{name}': array of bools}} "
            f"(its sizes fix the batch's), or use it as a factor, dx * {name}[..., None], as cs231n's "
            f"temporal_softmax_loss does")


def _as_array(g, w) -> np.ndarray:
    if g is None:      # np.asarray(None, float) is nan: it would read as "not finite"
        raise BackwardError(f"backward returned None as the gradient of {w.name!r}: a missing return "
                            f"statement, or a gradient never assigned")
    try:
        a = np.asarray(g, dtype=float)
    except (TypeError, ValueError) as e:
        raise BackwardError(f"backward's gradient for {w.name!r} is a {type(g).__name__}, not an "
                            f"array of numbers ({e})") from None
    if not np.all(np.isfinite(a)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(a))[0]) if a.ndim else ()
        where = f" at index {list(bad)}" if bad else ""
        raise BackwardError(f"backward's gradient for {w.name!r} is not finite{where} "
                            f"({a[bad] if bad else a}); the drawn values are inside out's domain, "
                            f"so the backward divides by zero or overflows")
    return a


def _signature_advice(backward, ndouts: int, names: list, mask_names: set) -> str:
    """When calling ``backward`` raised a TypeError: what its parameters are and how the call is
    made, if they do not fit — cs231n's ``backward(dout, cache)`` handed over as it is, parameters
    named otherwise than out's symbols, or no parameter for the dropout mask."""
    import inspect
    try:
        sig = inspect.signature(backward)
    except (TypeError, ValueError):
        return ""
    ps = list(sig.parameters.values())
    if any(p.kind is p.VAR_KEYWORD for p in ps):
        return ""
    named = [p.name for p in ps if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    takes = [p.name for p in ps if p.kind is not p.VAR_POSITIONAL]
    accepted = set(named[ndouts:]) | {p.name for p in ps if p.kind is p.KEYWORD_ONLY}
    unknown = [n for n in names if n not in accepted]
    if not unknown:
        return ""
    fname = getattr(backward, "__name__", "backward")
    listed = str(sig.replace(return_annotation=inspect.Signature.empty))[1:-1]   # lambda *a; f(dout, *, x)
    shown = f"{fname}({listed})" if fname != "<lambda>" else f"lambda {listed}"
    call = ", ".join(["dout"] * (ndouts == 1) + [f"dout{i or ''}" for i in range(ndouts)] * (ndouts > 1)
                     + names)
    out = (f"; backward's parameters do not take what it is called with: it is {shown}, and "
           f"check_backward calls it with the upstream gradient(s) first, then out's symbols by name "
           f"({', '.join(names)}), so its parameters must be named {call} (or end with **values)")
    rest = [n for n in names if n not in mask_names]
    if "cache" in takes:
        fwd = (fname[:-len("_backward")] + "_forward" if fname.endswith("_backward")
               else "your_forward")
        out += (f". A cs231n backward(dout, cache) is checked through its forward, which builds the "
                f"cache: lambda {call}: {fname if fname != '<lambda>' else 'backward'}(dout, "
                f"{fwd}({', '.join(rest)})[1])")
    missing_masks = sorted(set(unknown) & mask_names)
    if missing_masks:
        out += (f". {' and '.join(missing_masks)} is the mask of sg.dropout in out (inverted dropout's: "
                f"entries 0 or 1/(1 − p)), passed so that the backward can use the same mask as the "
                f"forward: add the parameter")
    return out


def check_backward(out, wrt, backward, at: Mapping | None = None, dims: Mapping | None = None,
                   seed: int = 0, constants: Mapping | None = None, **options):
    """Is ``backward(dout, **values)`` the backward of the layer ``out`` with respect to ``wrt``?

    ``out`` is a tensor expression (the layer's output; a tuple of them for a layer with several,
    such as an LSTM step's (next_h, next_c): then backward takes one dout per output, in order,
    as cs231n's ``lstm_step_backward(dnext_h, dnext_c, ...)``), ``wrt`` a list of its tensors (or one),
    ``backward`` the user's NumPy function: called with the upstream gradient ``dout`` (an array of
    out's shape) and every symbol of ``out`` by name (integer tensors as integer arrays), it returns
    the gradients in ``wrt`` order — a tuple, a dict by name, or one array for one wrt symbol. A
    gradient has the shape of its variable. The mask of an ``sg.dropout`` in ``out`` is passed as
    ``mask`` (several: mask, mask1, ... in the order of the calls), drawn as dropout draws it: 0, or
    1/(1 − p) with probability 1 − p. symgrad draws every value as `sg.check` does (symbolic
    sizes 4, 5, 6, ... apart from out's fixed dimensions, or from ``dims={N: 3}``, labels in range,
    ``at=`` fixes values) and compares with its gradient of sum(out ⊙ dout). A scalar ``out`` (a loss) gets dout = 1. Returns the
    `CheckResult` of `sg.check`; ``options`` (``assumptions``, ``points``, ``policy``) go to it.

    ``backward`` may also be a ``torch.autograd.Function`` subclass: its forward is called on float64
    tensors of the drawn values and compared with ``out`` first (`FunctionForwardError` when it
    differs), then its backward is checked the same way (`symgrad.checking.torch_function` says how
    inputs map to forward's parameters; ``constants={"stride": 2}`` gives the parameters that are no
    symbol of out and have no default).

    >>> import sympy as sp, symgrad as sg
    >>> N = sp.Symbol("N", integer=True, positive=True)
    >>> x, w, b = sg.tensor("x", (N, 3, 2)), sg.tensor("w", (6, 5)), sg.tensor("b", (5,))
    >>> def affine_backward(dout, x, w, b):
    ...     dx = (dout @ w.T).reshape(x.shape)
    ...     dw = x.reshape(x.shape[0], -1).T @ dout
    ...     return dx, dw, dout            # db not summed over the batch
    >>> r = sg.check_backward(x.reshape(N, -1) @ w + b, [x, w, b], affine_backward)
    >>> r.verdict, r.hint.split(':')[0]
    ('not equal', 'missing sum')
    """
    from .verdict import check
    from .torch_function import is_torch_function
    function = is_torch_function(backward)
    owner = getattr(backward, "__self__", None)         # MyFn.apply, a classmethod bound to the class
    if not function and is_torch_function(owner):
        raise ArgumentError(f"backward is {owner.__name__}.{backward.__name__}; pass the Function class "
                            f"itself, sg.check_backward(out, wrt, {owner.__name__}): its forward and "
                            f"backward are both used")
    if constants is not None and not function:
        raise ArgumentError("constants= gives a torch.autograd.Function's non-tensor forward parameters; a "
                            "NumPy backward takes its constants from a closure (lambda dout, x: bw(dout, x, 2))")
    if constants is not None and not isinstance(constants, Mapping):
        raise ArgumentError(f"constants must be a dict {{forward parameter name: value}}, not "
                            f"{type(constants).__name__}")
    if not callable(backward) or isinstance(backward, sp.Basic):
        raise ArgumentError(f"backward must be a function backward(dout, **values), not "
                            f"{type(backward).__name__}")
    several = isinstance(out, (list, tuple))
    outs = [as_expr(o, "out") for o in (out if several else [out])]
    if not outs or not all(T.is_tensor_expr(o) for o in outs):
        raise ArgumentError("check_backward takes a tensor expression as out (built from "
                            "sg.tensor symbols), or a tuple of them; for scalars and matrices use sg.check")
    params = _flatten_wrt(list(wrt) if isinstance(wrt, (list, tuple)) else [wrt])
    sizes = sizes_of(*outs, *params)
    fixed = _check_dims(dims, sizes)
    inside = {s.name for o in outs for s in _symbols(o)}
    absent = [w.name for w in params if w.name not in inside]
    if absent:          # declared, misspelt or from another layer: backward would be handed it by name
        raise ArgumentError(f"wrt holds {', '.join(repr(a) for a in absent)}, which out does not use "
                            f"(out's symbols: {', '.join(sorted(inside))}); a gradient with respect to "
                            f"{'it' if len(absent) == 1 else 'them'} is 0 — a tensor of another layer, or "
                            f"out declared with another one?")
    taken = inside | {w.name for w in params}
    ints = {t.name for o in outs for t in o.atoms(T.Tensor) if t.is_integer_tensor}
    masks = _mask_names(outs, taken)           # dropout masks: passed as mask, mask1, ...
    shapes = [T.shape_of(o) for o in outs]
    if function:
        if masks:
            raise ArgumentError(f"out holds sg.dropout, and {backward.__name__} is a torch Function, which "
                                f"draws its own mask: check the Function without its dropout")
        from .torch_function import FunctionBackward
        backward = FunctionBackward(backward, outs, params, sizes, constants)
    if not several and shapes[0] == ():
        f, dnames = outs[0], [None]           # a loss: its own f, dout = 1
    else:                                     # f = Σₖ Σ outₖ ⊙ doutₖ: one dout per output
        if () in shapes:
            raise ArgumentError(f"out {shapes.index(())} of the tuple is a scalar; check_backward "
                                f"takes a tuple of tensor outputs, or one scalar loss alone")
        dnames = []
        for _ in outs:
            dnames.append(_dout_name(taken))
            taken.add(dnames[-1])
        f = T.sum(T.as_tensor(outs[0]) * T.tensor(dnames[0], shapes[0]))
        for o, d, shp in zip(outs[1:], dnames[1:], shapes[1:]):
            f = f + T.sum(T.as_tensor(o) * T.tensor(d, shp))

    def claim(values):
        douts = [np.asarray(values[d], float) if d else np.float64(1.0) for d in dnames]
        kw = {masks.get(k, k): (np.asarray(v).astype(np.int64) if k in ints else v)
              for k, v in values.items() if k not in dnames}
        try:
            res = backward(*douts, **kw)
        except SymgradError:
            raise
        except Exception as e:  # noqa: BLE001 - the user's code: wrapped, with what it was called with
            called = ", ".join([f"{k}{tuple(np.shape(v))}" if np.ndim(v) else f"{k}=1.0 (a loss)"
                                for k, v in zip(["dout"] if len(douts) == 1 else dnames, douts)]
                               + [f"{k}={tuple(np.shape(v))}" for k, v in kw.items()])
            loss = len(douts) == 1 and np.ndim(douts[0]) == 0
            many = len(douts) > 1
            if isinstance(e, TypeError) and "multiple values for argument" in str(e):
                first = ("; backward's first parameter takes the upstream gradient (dout = 1 for a loss): "
                         "wrap a loss function f(x, y) as lambda dout, x, y: f(x, y)[1]" if loss else
                         f"; backward's first parameter{'s take' if many else ' takes'} the upstream "
                         f"gradient{'s' if many else ''} ({', '.join(dnames)}, of out's shape{'s' if many else ''}), "
                         f"then out's symbols: def backward({', '.join(dnames + list(kw))}) — as cs231n's "
                         f"affine_backward(dout, cache) takes dout first")
            elif isinstance(e, TypeError):
                first = _signature_advice(backward, len(douts), list(kw), set(masks.values()))
            else:
                first = ""
            if not first and isinstance(e, (TypeError, IndexError)) and _as_boolean(str(e)):
                first = _boolean_advice(kw, ints)
            raise BackwardError(f"backward raised {type(e).__name__}: {e} (called as backward({called}):"
                                f" the upstream gradient(s), then every symbol of out by name, with "
                                f"these shapes){first}") from e
        grads = [_as_array(g, w) for g, w in zip(_gradients(res, params), params)]
        return grads if len(grads) > 1 else grads[0]     # check reads a list only for several
    claim.claim_source = backward            # a hint reads its source for a literal batch size
    layer_outputs.record(claim, outs, dnames)   # the hints rebuild f from them (layer_outputs.py)

    if at is not None and not isinstance(at, Mapping):
        raise ArgumentError(f"at= must be a dict keyed by symbol or name, got {at!r}")
    # keyed by name: sg.check's argument check takes Symbol and MatrixSymbol keys, not tensors
    given = {**{key_name(k) if isinstance(k, T.Tensor) else k: v for k, v in (at or {}).items()}, **fixed}
    inner = {b: a for a, b in masks.items()}       # at={"mask": m}: the mask by backward's name
    given = {inner.get(k, k) if isinstance(k, str) else k: v for k, v in given.items()}
    result = check(f, params, claim, at=given or None, seed=seed, **options)
    # check_backward's sizes are chosen with dims= (check's at= takes them too, but dims= is the word here)
    result.method = result.method.replace("(choose them with at={", "(choose them with dims={")
    if not function:                 # no hint: a backward that draws random numbers is one slip left
        from .random_backward_hint import random_backward_hint
        result.hint = random_backward_hint(result, claim, masks) or result.hint
    result = _renamed(result, masks)
    return backward.explain(result) if function else result


__all__ = ["check_backward", "BackwardError", "FunctionForwardError"]
