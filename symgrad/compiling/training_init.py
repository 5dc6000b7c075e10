"""Initial parameter values: `init_values` draws them by shape and by role, `relu_weights` and
`param_roles` read the roles from a compiled program's forward graph (a weight and its fans as
torch.nn.init counts them, a bias, batch norm's γ), and `train` fills in with them the parameters
it is not given (`_initialized`).
"""
from __future__ import annotations

import math

import numpy as np
import sympy as sp

from ..core.placeholders import ph
from ..core.values import key_name
from ..frontend.functions import leaky_relu, relu
from .closest import closest_name
from .training_results import TrainingArgumentError


def init_values(params, seed: int = 0, he=(), roles=None) -> dict:
    """Initial values for ``params`` (Symbols and MatrixSymbols), keyed by name, drawn from
    ``numpy.random.default_rng(seed)``:

    - a weight matrix W of shape (m, n), n > 1 (fan-in n, fan-out m): He (Kaiming) normal,
      N(0, 2/n), when its name is in ``he`` (a layer followed by relu: the variance of relu's output
      is half its input's, and 2/n keeps it from layer to layer); Glorot (Xavier) uniform,
      U(−a, a) with a = √(6/(n + m)), otherwise (keeps the variance for tanh, sigmoid, linear layers);
    - a column vector (m, 1) — a bias: zeros;
    - a scalar Symbol: uniform in (−0.1, 0.1).

    `train` uses it for the parameters it is not given, with ``he`` the weights that feed a relu
    and ``roles`` what the program's graph says of each (`param_roles`): a product's or a
    convolution's weight with its fans as torch.nn.init counts them (x @ W: fan-in W's rows; a
    kernel (out, in, kh, kw): in·kh·kw), a vector only added (a bias) 0, a vector multiplied in
    (batch norm's γ) 1. Those override the shape rules above.

    >>> import sympy as sp
    >>> v = init_values([sp.MatrixSymbol("W", 2, 4), sp.MatrixSymbol("b", 2, 1), sp.Symbol("w")])
    >>> v["W"].shape, v["b"].tolist(), abs(float(v["w"])) < 0.1, bool(abs(v["W"]).max() <= 1)
    ((2, 4), [[0.0], [0.0]], True, True)
    """
    rng = np.random.default_rng(seed)
    he = {key_name(p) if not isinstance(p, str) else p for p in he}
    out = {}
    roles = roles or {}
    for p in params:
        shape = tuple(int(d) for d in getattr(p, "shape", ()))
        name = key_name(p)
        role = roles.get(name, ())
        if role and role[0] == "weight":
            fan_in, fan_out = role[1], role[2]
            if name in he:
                out[name] = rng.normal(0.0, math.sqrt(2.0 / fan_in), size=shape)
            else:
                bound = math.sqrt(6.0 / (fan_in + fan_out))
                out[name] = rng.uniform(-bound, bound, size=shape)
        elif role:
            out[name] = np.full(shape, 1.0 if role[0] == "scale" else 0.0)
        elif not shape:
            out[name] = np.array(rng.uniform(-0.1, 0.1))
        elif shape[-1] == 1:
            out[name] = np.zeros(shape)
        elif name in he:
            out[name] = rng.normal(0.0, math.sqrt(2.0 / shape[-1]), size=shape)
        else:
            bound = math.sqrt(6.0 / (shape[-1] + shape[0]))
            out[name] = rng.uniform(-bound, bound, size=shape)
    return out


def relu_weights(program) -> set:
    """Names of the parameters whose matrix product (or convolution) feeds a relu (or leaky_relu),
    maybe through a bias: W in relu(W·x + b). Read from the compiled program's forward graph; empty
    for a program without one.

    >>> import symgrad as sg, sympy as sp
    >>> net = sg.mlp([3, 4, 4, 2])
    >>> sorted(relu_weights(sg.compile(sg.mse(net.output, sp.MatrixSymbol("t", 2, 1)), net.params,
    ...                                [net.input, sp.MatrixSymbol("t", 2, 1)])))
    ['W1', 'W2']
    """
    graph = _forward_uses(program)
    if graph is None:
        return set()
    users, params = graph
    found = set()
    for p, vid in params:
        frontier = [e.out.id for e, _ in _products(users, vid)]
        for _ in range(3):                  # the product, its bias, the activation
            nxt = []
            for v in frontier:
                for e in users.get(v, ()):
                    if e.prim.name != "ewise":
                        continue
                    if e.params[0].atoms(relu, leaky_relu):
                        found.add(key_name(p))
                    nxt.append(e.out.id)
            frontier = nxt
    return found


_MOVES = ("reshape", "expand", "broadcast", "transpose", "permute")


def _forward_uses(program):
    """(users: var id -> the equations reading it, [(param, var id)]) of the program's forward
    graph, or None for a program without one."""
    lw = getattr(getattr(program, "spec", None), "eval", None)
    if lw is None:
        return None
    users: dict = {}
    for eqn in lw.graph.eqns:
        for v in eqn.inputs:
            users.setdefault(v.id, []).append(eqn)
    return users, [(p, vid) for p, vid in zip(program.params, lw.params) if vid is not None]


def _products(users, vid):
    """The matmul / conv equations that read the parameter ``vid`` as a weight, directly or through
    one transpose: (equation, its fans (fan_in, fan_out) or None)."""
    out = []
    for e in users.get(vid, ()):
        if e.prim.name in ("transpose", "permute") and len(e.out.shape) == 2:
            out += [(f, _fans(f, f.inputs.index(e.out), tuple(reversed(e.inputs[0].shape))))
                    for f in users.get(e.out.id, ()) if f.prim.name == "matmul"]
        elif e.prim.name in ("matmul", "conv"):
            out.append((e, _fans(e, [v.id for v in e.inputs].index(vid), e.inputs[0].shape
                                 if e.inputs[0].id == vid else e.inputs[1].shape)))
    return out


def _fans(eqn, position: int, shape) -> tuple | None:
    """(fan_in, fan_out) of a weight of ``shape`` read as operand ``position`` of ``eqn``, as
    torch.nn.init counts them: a product contracts the first operand's last axis and the second's
    first (x @ W: fan-in W's rows), a convolution kernel (out, in, *window) has fan-in in·window."""
    try:
        shape = tuple(int(d) for d in shape)
    except TypeError:                       # a symbolic size: not a weight
        return None
    if eqn.prim.name == "matmul" and len(shape) == 2:
        return (shape[1], shape[0]) if position == 0 else (shape[0], shape[1])
    if eqn.prim.name == "conv" and position == 1 and len(shape) >= 3:
        window = math.prod(shape[2:])
        return shape[1] * window, shape[0] * window
    return None


def param_roles(program) -> dict:
    """name -> how the forward graph uses the parameter, for its initial value: ("weight", fan_in,
    fan_out) for a matrix product's or a convolution's weight; ("shift",) for a vector only added
    (a bias: starts at 0); ("scale",) for a vector multiplied in (batch norm's γ: starts at 1).
    Parameters used otherwise are left out (init_values' shape rules then apply)."""
    graph = _forward_uses(program)
    if graph is None:
        return {}
    users, params = graph
    roles: dict = {}
    for p, vid in params:
        name = key_name(p)
        fans = [f for _, f in _products(users, vid) if f is not None]
        if fans:
            roles[name] = ("weight",) + fans[0]
            continue
        if len([d for d in getattr(p, "shape", ()) if int(d) != 1]) != 1:
            continue                        # vectors only (a (m,) tensor, an (m, 1) column)
        frontier, kinds = [vid], set()
        for _ in range(4):                  # through reshape / expand to the elementwise use
            nxt = []
            for v in frontier:
                for e in users.get(v, ()):
                    if e.prim.name in _MOVES:
                        nxt.append(e.out.id)
                    elif e.prim.name == "ewise":
                        body, at = e.params[0], [u.id for u in e.inputs].index(v)
                        d = sp.diff(body, ph(at))
                        kinds.add("shift" if d in (1, -1) else "scale")
                    else:
                        kinds.add("other")
            frontier = nxt
        if len(kinds) == 1 and kinds <= {"shift", "scale"}:
            roles[name] = (kinds.pop(),)
    return roles


def _initialized(program, values: dict, seed: int) -> dict:
    """``values`` with each parameter of ``program`` it lacks drawn by `init_values` (He for a
    weight feeding a relu, Glorot otherwise, biases 0; seeded by ``seed``)."""
    params = getattr(program, "params", None)
    given = {key_name(k) for k in values}
    names = [key_name(p) for p in params or ()]
    for name in sorted(given - set(names)) if params is not None else ():
        # a typo (values={"w1": ...} for W1) would otherwise leave W1 drawn at random, silently
        close = closest_name(name, names)
        raise TrainingArgumentError(
            f"values[{name!r}] is not a parameter of this program"
            + (f" (did you mean {close!r}?)" if close else "")
            + f"; its parameters are {', '.join(map(repr, names))}")
    missing = [p for p in params or () if key_name(p) not in given]
    if params is None and not values:
        raise TrainingArgumentError(
            "train needs the initial parameter values: values={param: array, ...} (this program "
            "does not list its parameters, so they cannot be initialized)")
    if missing:
        fresh = init_values(missing, seed=seed, he=relu_weights(program), roles=param_roles(program))
        values.update({key_name(p): _as_program_array(program, fresh[key_name(p)]) for p in missing})
    return values


def _as_program_array(program, a):
    """A NumPy initial value in the program's dtype (the Triton backend's program moves it to its
    device itself)."""
    dtype = getattr(program, "dtype", None)
    return np.asarray(a, dtype=dtype) if isinstance(dtype, np.dtype) else a
