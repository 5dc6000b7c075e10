"""Optimizers, declared as SymPy update rules so that they compile into the training step like any
other expression.

An optimizer states, for ONE scalar entry of a parameter, how the entry and its state move:

    rules(p, g, state, t) -> (p_new, {slot: new_value})

``p`` is the entry, ``g`` its gradient, ``state`` a dict of Symbols (one per slot, e.g. Adam's
``exp_avg`` and ``exp_avg_sq``), ``t`` the step number (1 on the first step). All are scalar SymPy
Symbols; the compiler applies the rules to every entry of every parameter as one elementwise body,
and a backend may evaluate them however it likes. Slots start at ``initial[slot]`` (0 by default).
``p_new`` and the new slot values are written in terms of the OLD state (the new slot values are
substituted into ``p_new``), so a backend can evaluate all of them from one set of inputs.

Every optimizer follows ``torch.optim`` — its hyperparameter names, defaults, state-slot names and
update formula — so that a trajectory equals torch's in float64 (tests/test_optim.py). Where the
lecture notes (shared/seeds) write a formula differently, the class docstring says how.

Regularization is an option of every optimizer, added to the gradient before the update:

    g ← g + weight_decay·p + l1·sign(p)

``weight_decay`` is torch's (the gradient of the L2 penalty (λ/2)·Σw²); ``l1`` is the gradient of the
L1 penalty λ·Σ|w| with sign(0) = 0, as in the notes' rule W ← W − η(∇J + λ·sign(W)).

The learning rate ``lr`` is a number or a function of the step ``t`` returning a SymPy expression,
e.g. ``LinearAnnealing`` (the notes' linear annealing).

Around the rule, every optimizer takes what a torch training loop does besides ``optimizer.step()``
(keyword-only, docs/optimizers.md): ``groups=[{"params": [b1, b2], "weight_decay": 0.0}, ...]``,
torch's parameter groups (a parameter in no group takes the optimizer's own hyperparameters;
`Optimizer.for_param` is the rule of one parameter), and the step's gradient clipping before the
update, ``clip_grad_norm=max_norm`` (torch's ``clip_grad_norm_`` over all the gradients, with
``clip_norm_type`` 2 or inf) and ``clip_grad_value=v`` (``clip_grad_value_``). The backends apply
them; ``rules``, ``lambdify`` and ``view`` are the optimizer's own rule.

>>> import sympy as sp
>>> p, g, t = sp.symbols('p g t')
>>> SGD(lr=0.1).rules(p, g, {}, t)
(-0.1*g + p, {})
"""
from __future__ import annotations

import numbers
import re

from dataclasses import dataclass, field, fields, replace
from typing import Callable, Union

import numpy as np
import sympy as sp

from ..errors import ArgumentError
from ..errors import show_value          # a NumPy scalar in a message as its number
from ..frontend.keywords import check_keywords
from ..frontend.parse import as_expr
from .optim_skip import NoGradientWarning  # noqa: F401 - sg.optim.NoGradientWarning
from .optim_group_lr import GroupLrWarning  # noqa: F401 - sg.optim.GroupLrWarning
from .schedules import WarmupCosine  # noqa: F401 - sg.optim.WarmupCosine, next to LinearAnnealing

Number = Union[int, float]
LR = Union[Number, Callable]      # a number, or t -> SymPy expression (a schedule)


def _check(name, value, ok, what):
    if not ok:
        raise ArgumentError(f"invalid {name}={show_value(value)}: {what}")


def _number(name, value, ok=lambda v: v >= 0, what="must be a finite number >= 0"):
    """``value`` as a float, or an `ArgumentError` naming ``name``: it must be a real number (not a
    bool, not text), finite (an lr of inf or NaN turns every parameter into NaN on the first step),
    and pass ``ok``."""
    if _symbolic(value):                 # η, β₁, ... for the views of the rules (`Optimizer.view`)
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ArgumentError(f"invalid {name}={show_value(value)}: {what} (a number, got {type(value).__name__})")
    if not np.isfinite(value) or not ok(value):
        raise ArgumentError(f"invalid {name}={show_value(value)}: {what}")
    return value


def _symbolic(value) -> bool:
    """A hyperparameter given as a SymPy expression with symbols (η, β₁): fine for the views of the
    update rule, refused by the compiler (`Optimizer.symbols`)."""
    return isinstance(value, sp.Basic) and bool(value.free_symbols)


def _symbolic_field(opt, name: str) -> bool:
    """Whether the hyperparameter ``name`` of ``opt`` is (or holds) a SymPy expression."""
    return any(_symbolic(v) for v in np.atleast_1d(np.asarray(getattr(opt, name), dtype=object)))


def _shown(value) -> str:
    """``repr(value)``, but a function (a schedule, in ``lr`` or in a group) as ``lambda t: <its
    expression in t>`` — the same text on every run — or by its name when it cannot take a symbolic t."""
    import functools
    import types
    if isinstance(value, (types.FunctionType, functools.partial)):
        t = sp.Symbol("t", real=True)
        try:
            return f"lambda t: {sp.sstr(sp.sympify(value(t)))}"
        except Exception:               # noqa: BLE001 - compile refuses it, saying why; here: a name
            return getattr(value, "__qualname__", type(value).__name__)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_shown(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (tuple, list)):
        inner = ", ".join(_shown(v) for v in value) + ("," if isinstance(value, tuple) and len(value) == 1 else "")
        return f"({inner})" if isinstance(value, tuple) else f"[{inner}]"
    return repr(value)


def _schedule(lr) -> bool:
    """A learning-rate schedule (a function of t), not a number nor a symbol (a SymPy Symbol is
    callable too: η(t) would be a function application)."""
    return callable(lr) and not isinstance(lr, sp.Basic)


def _flag(name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise ArgumentError(f"invalid {name}={show_value(value)}: must be True or False")


def _parameters_like(a) -> bool:
    """Whether a first positional argument is torch's ``params`` (a list of parameters, or of
    parameter-group dicts, or a generator such as ``model.parameters()``) rather than a learning rate."""
    return not (isinstance(a, (numbers.Number, sp.Basic)) or callable(a)) and (
        isinstance(a, (list, tuple, dict)) or hasattr(a, "__next__"))


# the fields of every optimizer that are not hyperparameters of its rule, but what the step does
# around it (`Optimizer.groups`, ...)
STEP_OPTIONS = ("groups", "clip_grad_norm", "clip_norm_type", "clip_grad_value")


def _group_names(k: int, params) -> tuple:
    """The names of the parameters a group lists: SymPy symbols (or sg.tensor's) or their names."""
    items = [params] if isinstance(params, str) or hasattr(params, "name") else params
    if not isinstance(items, (list, tuple, set, frozenset)):
        raise ArgumentError(f"groups[{k}]['params'] must be a list of the program's parameters (their SymPy "
                            f"symbols or names), got {show_value(params)}"[:400])
    names = []
    for x in items:
        name = x if isinstance(x, str) else getattr(x, "name", None)
        if not isinstance(name, str):
            raise ArgumentError(f"groups[{k}]['params'] holds {show_value(x)} ({type(x).__name__}); name each "
                                f"parameter by its SymPy symbol or its name (as in sg.compile's params=)"[:400])
        names.append(name)
    if not names:
        raise ArgumentError(f"groups[{k}]['params'] is empty: a group lists at least one parameter")
    return tuple(names)


@dataclass
class Optimizer:
    """Base class. Subclasses define ``slots``, ``rules`` and, where a slot does not start at 0,
    ``initial``."""

    slots = ()                 # names of the per-entry state slots
    initial = {}               # slot -> initial value (default 0)

    # What the step does besides the rule, keyword-only (after every subclass's hyperparameters, so
    # SGD(0.1) is still lr=0.1), shown by repr only when set:
    #   groups: parameter groups, torch's [{"params": [...], hyperparameter: value}, ...]; a parameter
    #     in no group takes the optimizer's own hyperparameters (torch's defaults for its groups);
    #   clip_grad_norm / clip_norm_type: torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type)
    #     over all the gradients before the update; clip_grad_value: torch's clip_grad_value_.
    # (repr=False: a user's own dataclass subclass writes its hyperparameters only; `describe` adds
    # the options set, as Optimizer.__repr__ does)
    groups: tuple = field(default=(), kw_only=True, repr=False)
    clip_grad_norm: float | None = field(default=None, kw_only=True, repr=False)
    clip_norm_type: float = field(default=2.0, kw_only=True, repr=False)
    clip_grad_value: float | None = field(default=None, kw_only=True, repr=False)

    def __new__(cls, *args, **kwargs):
        # a misspelled hyperparameter (Adam(beta=0.9)) names the closest one, not a bare TypeError;
        # only for a dataclass's own __init__ (a subclass written with its own __init__ is left alone)
        if "__dataclass_fields__" in cls.__dict__ and "__init__" in cls.__dict__:
            if "params" in kwargs or args and _parameters_like(args[0]):
                raise ArgumentError(
                    f"{cls.__name__}() takes hyperparameters only ({', '.join(f.name for f in fields(cls))}), "
                    f"not the parameters: torch.optim.{cls.__name__}(params, ...)'s first argument is "
                    f"sg.compile's params= here, and torch's parameter groups are "
                    f"{cls.__name__}(lr=..., groups=[{{'params': [b1, b2], 'weight_decay': 0.0}}, ...]): the "
                    f"parameters in no group take the optimizer's own hyperparameters")
            check_keywords(cls.__name__, kwargs, [f.name for f in fields(cls)])
        return super().__new__(cls)

    def __post_init__(self):
        # a user's own optimizer (a dataclass subclass without a __post_init__) checks its step's
        # options too; the built-in ones end their __post_init__ with this
        self._check_step_options()

    def rules(self, p, g, state, t):  # pragma: no cover - abstract
        raise NotImplementedError

    def symbols(self):
        """Fresh scalar symbols (p, g, state dict, t) to call ``rules`` with (by the backends: the
        hyperparameters must be numbers then)."""
        sym = [f.name for f in fields(self) if f.name not in STEP_OPTIONS and _symbolic_field(self, f.name)]
        if sym:
            k, numbers = getattr(self, "_group", (None, ()))
            own = f"{sym[0]} is a number" if len(sym) == 1 else f"{', '.join(sym)} are numbers"
            where = (f"groups[{k}] sets {', '.join(sym)} symbolic ({', '.join(str(getattr(self, n)) for n in sym)})"
                     + (f" (the optimizer's own {own})" if set(sym) <= set(numbers) else "")
                     if k is not None else f"{', '.join(sym)} {'is' if len(sym) == 1 else 'are'} symbolic")
            raise ArgumentError(f"{type(self).__name__}: {where}; symbolic hyperparameters are for the views of the "
                                f"rule (.view()); give numbers to compile or train"[:600])
        p, g, t = sp.symbols("p g t", real=True)
        state = {s: sp.Symbol(s, real=True) for s in self.slots}
        return p, g, state, t

    # -- parameter groups and clipping (the step's, around the rule) ---------------------------

    def hyperparameters(self) -> list:
        """The names of the update rule's hyperparameters (what a parameter group may set)."""
        return [f.name for f in fields(self) if f.name not in STEP_OPTIONS]

    def _check_step_options(self):
        """Check ``clip_*`` and ``groups`` (each subclass's ``__post_init__`` ends with this): the
        groups become a tuple of dicts ``{"params": (name, ...), hyperparameter: value}``, and each
        group's optimizer is built now, so that a bad value is an error here, naming its group."""
        for name in ("clip_grad_norm", "clip_grad_value"):
            v = getattr(self, name)
            if v is not None:
                _check(name, v, not _symbolic(v), "must be a number (the step compares the gradients with it)")
                _number(name, v, lambda v: v > 0, "must be a finite number > 0 (None: no clipping)")
        n = self.clip_norm_type
        _check("clip_norm_type", n, not isinstance(n, (bool, np.bool_)) and isinstance(n, (int, float, np.integer,
               np.floating)) and (n == 2 or n == float("inf")),
               "must be 2 (the Euclidean norm, torch's default) or float('inf') (the largest |g|)")
        if n != 2 and self.clip_grad_norm is None:
            raise ArgumentError(f"clip_norm_type={show_value(n)} without clip_grad_norm: the norm type is that of "
                                f"clip_grad_norm's clipping (torch's clip_grad_norm_(params, max_norm, norm_type)); "
                                f"give clip_grad_norm=max_norm too, or leave clip_norm_type out")
        groups = self.groups
        if isinstance(groups, dict) or not isinstance(groups, (list, tuple)):
            raise ArgumentError(f"invalid groups={show_value(groups)}: must be a list of dicts, as torch's "
                                f"param_groups: [{{'params': [b1, b2], 'weight_decay': 0.0}}, ...]")
        hyper, seen, normal, self._group_opts = self.hyperparameters(), {}, [], []
        for k, grp in enumerate(groups):
            if not isinstance(grp, dict) or "params" not in grp:
                raise ArgumentError(f"groups[{k}] must be a dict with 'params' (the parameters' symbols or "
                                    f"names) and the hyperparameters it changes, got {show_value(grp)}"[:400])
            step = [key for key in grp if key in STEP_OPTIONS]
            if step:
                raise ArgumentError(f"groups[{k}] sets {step[0]!r}, which is the optimizer's own, not a group's: "
                                    f"the gradients of all the parameters are clipped together (torch's "
                                    f"clip_grad_norm_ over all of them), and groups do not nest")
            try:
                check_keywords(type(self).__name__, [key for key in grp if key != "params"], hyper)
            except ArgumentError as e:
                raise ArgumentError(f"groups[{k}]: {e}") from None
            names = _group_names(k, grp["params"])
            for name in names:
                if name in seen:
                    where = "twice in groups[{}]".format(k) if seen[name] == k else f"in groups[{seen[name]}] and groups[{k}]"
                    raise ArgumentError(f"the parameter {name!r} is named {where}: a parameter belongs to at most "
                                        f"one group (a parameter in none takes the optimizer's own hyperparameters)")
                seen[name] = k
            overrides = {key: v for key, v in grp.items() if key != "params"}
            try:
                self._group_opts.append(replace(self, groups=(), clip_grad_norm=None, clip_norm_type=2.0, clip_grad_value=None,
                                                **overrides))
            except ArgumentError as e:
                raise ArgumentError(f"groups[{k}]: {e}") from None
            # for symbols()'s message: the group, and which of its values are numbers in the optimizer's own
            self._group_opts[-1]._group = (k, tuple(n for n in overrides if not _symbolic_field(self, n)))
            normal.append({"params": names, **overrides})
        self.groups = tuple(normal)
        self._group_of = seen

    def for_param(self, name: str) -> "Optimizer":
        """The optimizer that updates the parameter ``name``: its group's (the optimizer with the
        group's hyperparameters), or the optimizer's own; without groups or clipping (the rule alone).

        >>> opt = AdamW(lr=1e-3, groups=[{"params": ["b"], "weight_decay": 0.0}], clip_grad_norm=1.0)
        >>> opt.for_param("b")
        AdamW(lr=0.001, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.0, amsgrad=False, l1=0.0)
        >>> opt.for_param("W").weight_decay
        0.01
        """
        k = self._group_of.get(name) if self.groups else None
        if k is not None:
            return self._group_opts[k]
        if not (self.groups or self.clips):
            return self
        return replace(self, groups=(), clip_grad_norm=None, clip_norm_type=2.0, clip_grad_value=None)

    @property
    def clips(self) -> bool:
        """Whether the step clips the gradients before the update."""
        return self.clip_grad_norm is not None or self.clip_grad_value is not None

    def check_params(self, names) -> None:
        """An `ArgumentError` when a group names something that is not one of the program's
        parameters ``names`` (`sg.compile` calls this)."""
        names = list(names)
        if not hasattr(self, "_group_of"):  # a subclass's own __post_init__ that did not chain to Optimizer's
            self._check_step_options()
        for name, k in self._group_of.items():
            if name not in names:
                raise ArgumentError(f"groups[{k}] names {name!r}, which is not a parameter of the program; its "
                                    f"parameters: {', '.join(map(repr, names))}"[:600])

    def all_slots(self) -> tuple:
        """Every slot some parameter's rule keeps, in order: the optimizer's own, then those only a
        group has (SGD's momentum_buffer when only one group has momentum). A parameter whose rule has
        no such slot leaves it at its initial value."""
        out = list(self.slots)
        for o in getattr(self, "_group_opts", ()) if self.groups else ():
            out += [s for s in o.slots if s not in out]
        return tuple(out)

    def __repr__(self):
        """As a dataclass writes it, the step's options only when set; a schedule written as a
        function by its expression in t (``lambda t: Piecewise(...)``), not ``<function <lambda> at
        0x7f…>``: the generated module's ``# Optimizer:`` line prints this, and an address made its
        source — and so its cache file — differ on every run."""
        shown = [f for f in fields(self) if f.name not in STEP_OPTIONS]
        shown += [f for f in fields(self) if f.name in STEP_OPTIONS and getattr(self, f.name) != f.default]
        return f"{type(self).__name__}({', '.join(f'{f.name}={_shown(getattr(self, f.name))}' for f in shown)})"

    # -- shared pieces -------------------------------------------------------------------------

    def _check_common(self):
        if not _schedule(self.lr):
            _number("lr", self.lr, what="the learning rate must be a finite number >= 0 (or a schedule: "
                                        "a function of the step t)")
        _number("weight_decay", self.weight_decay)
        _number("l1", self.l1)

    def _lr(self, t):
        """The learning rate at step t: a number, or the schedule's expression in t. A schedule
        written for torch's LambdaLR (``if`` on the step, ``math.cos``) is an ArgumentError saying
        what to write, here as in `sg.compile`, not SymPy's TypeError from inside it."""
        if not _schedule(self.lr):
            return as_expr(self.lr, "lr")                 # text parsed, not run
        from .schedules import EXACT_FLOORS, check_schedule, exact_floors
        if isinstance(t, sp.Basic) and t.free_symbols:      # checked, and called once
            lr = as_expr(check_schedule(f"lr={getattr(self.lr, '__name__', type(self.lr).__name__)}",
                                        self.lr, t), "lr")
            return exact_floors(lr, t) if EXACT_FLOORS.get() else lr    # (a view shows it as written)
        return as_expr(self.lr(t), "lr")

    def _regularized(self, p, g):
        """g + weight_decay·p + l1·sign(p): the gradients of (wd/2)·p² and l1·|p| added to g."""
        if self.weight_decay:
            g = g + self.weight_decay * p
        if self.l1:
            g = g + self.l1 * sp.sign(p)
        return g

    # -- evaluating the rules with NumPy (the reference; the compiler emits its own code) ------

    def init_state(self, shape=()):
        """The initial state of a parameter of the given shape: {slot: array}.

        >>> Adagrad(initial_accumulator_value=0.5).init_state((2,))
        {'sum': array([0.5, 0.5])}
        """
        return {s: np.full(shape, float(self.initial.get(s, 0.0))) for s in self.slots}

    def lambdify(self):
        """The rules as a NumPy function ``update(p, g, state, t) -> (p_new, new_state)`` applied
        entrywise to arrays (``sympy.lambdify``): the reference the compiled steps are tested with.

        >>> import numpy as np
        >>> update = SGD(lr=0.5, momentum=0.9).lambdify()
        >>> update(np.array([1.0]), np.array([2.0]), {'momentum_buffer': np.array([0.0])}, 1)
        (array([0.]), {'momentum_buffer': array([2.])})
        """
        p, g, state, t = self.symbols()
        p_new, new = self.rules(p, g, state, t)
        args = [p, g, *[state[s] for s in self.slots], t]
        f = sp.lambdify(args, [p_new, *[new[s] for s in self.slots]], modules="numpy")

        def update(p_val, g_val, st, t_val):
            p_val = np.asarray(p_val, dtype=float)
            out = f(p_val, np.asarray(g_val, dtype=float), *[st[s] for s in self.slots], t_val)
            # a rule that does not depend on its arguments comes back as a scalar: broadcast it
            out = [np.broadcast_to(np.asarray(o, dtype=float), p_val.shape).copy() for o in out]
            return out[0], dict(zip(self.slots, out[1:]))

        return update


def describe(opt) -> str:
    """An optimizer as its class would be called, the step's options only when set, whatever
    ``__repr__`` its class has (a user's dataclass subclass writes its hyperparameters only).

    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class Plain(Optimizer):
    ...     lr: float = 0.1
    ...     def rules(self, p, g, state, t): return p - self.lr * g, {}
    >>> Plain(clip_grad_value=1.0), describe(Plain(clip_grad_value=1.0))
    (Plain(lr=0.1), 'Plain(lr=0.1, clip_grad_value=1.0)')
    """
    if isinstance(opt, Optimizer):
        return Optimizer.__repr__(opt)
    text = repr(opt)        # an object's default repr holds its address: the source would differ per run
    return type(opt).__qualname__ if re.search(r" at 0x[0-9a-fA-F]+>", text) else text


# ---------------------------------------------------------------------------------------------------


@dataclass(repr=False)        # Optimizer.__repr__
class SGD(Optimizer):
    """Gradient descent, with optional (Nesterov) momentum — ``torch.optim.SGD``.

    With g ← g + wd·p (+ l1·sign p) and b the momentum buffer (torch's ``momentum_buffer``):

        b_t = g                              on the first step (t = 1)
        b_t = μ·b_{t−1} + (1 − τ)·g          after it (τ = dampening)
        d   = g + μ·b_t  if nesterov  else  b_t     (d = g when momentum = 0)
        p  ← p − lr·d

    The notes write momentum as a velocity, v ← α·v − η·∇J, W ← W + v, and Nesterov as the
    gradient taken at the look-ahead point W + α·v. Following torch, the buffer holds the
    accumulated gradient (b = −v/η, the same trajectory for a constant η; with a changing lr torch
    scales the whole buffer by the current lr), and Nesterov uses torch's reformulation, which
    needs the gradient only at the current point: p ← p − lr·(g + μ·b_t).

    >>> import sympy as sp
    >>> p, g, t, b = sp.symbols('p g t b')
    >>> SGD(lr=0.1, momentum=0.9).rules(p, g, {'momentum_buffer': b}, t)
    (-0.09*b - 0.1*g + p, {'momentum_buffer': 0.9*b + g})
    """

    lr: LR = 0.01                # torch's default is 0.001; 0.01 is symgrad's (sg.compile's default)
    momentum: float = 0.0
    dampening: float = 0.0
    weight_decay: float = 0.0
    nesterov: bool = False
    l1: float = 0.0

    def __post_init__(self):
        self._check_common()
        _number("momentum", self.momentum)
        _number("dampening", self.dampening, lambda v: 0 <= v <= 1, "must be a number in [0, 1]")
        _flag("nesterov", self.nesterov)
        _check("nesterov", self.nesterov, not self.nesterov or ((_symbolic(self.momentum) or self.momentum > 0)
                                                                and self.dampening == 0),
               "Nesterov momentum needs momentum > 0 and dampening = 0 (as in torch)")
        self._check_step_options()

    @property
    def slots(self):
        return ("momentum_buffer",) if self.momentum else ()

    def rules(self, p, g, state, t):
        g = self._regularized(p, g)
        lr = self._lr(t)
        if not self.momentum:
            return p - lr * g, {}
        mu, b = self.momentum, state["momentum_buffer"]
        if self.dampening:
            # torch starts the buffer at g itself (no dampening on the first step)
            b_new = sp.Piecewise((g, sp.Eq(t, 1)), (mu * b + (1 - self.dampening) * g, True))
        else:
            b_new = mu * b + g           # the buffer starts at 0, so step 1 gives b = g as torch
        d = g + mu * b_new if self.nesterov else b_new
        return p - lr * d, {"momentum_buffer": b_new}


@dataclass(repr=False)        # Optimizer.__repr__
class Adagrad(Optimizer):
    """AdaGrad — ``torch.optim.Adagrad``: a learning rate per entry, scaled down by the root of
    the sum of the squares of all its past gradients (torch's slot ``sum``):

        s  ← s + g²                       (s starts at initial_accumulator_value)
        p  ← p − lr_t · g / (√s + ε),     lr_t = lr / (1 + (t − 1)·lr_decay)

    The notes' rule w ← w − η·g/(√M_t + ε), M_t = Σ g_i², is the same with lr_decay = 0 and
    initial_accumulator_value = 0 (torch's defaults).

    >>> import sympy as sp
    >>> p, g, t, s = sp.symbols('p g t s')
    >>> Adagrad(lr=0.1, eps=0).rules(p, g, {'sum': s}, t)[1]
    {'sum': g**2 + s}
    """

    lr: LR = 0.01
    lr_decay: float = 0.0
    weight_decay: float = 0.0
    initial_accumulator_value: float = 0.0
    eps: float = 1e-10
    l1: float = 0.0

    slots = ("sum",)

    def __post_init__(self):
        self._check_common()
        _number("lr_decay", self.lr_decay)
        _number("initial_accumulator_value", self.initial_accumulator_value)
        _number("eps", self.eps, what=EPS)
        self._check_step_options()

    @property
    def initial(self):
        return {"sum": self.initial_accumulator_value}

    def rules(self, p, g, state, t):
        g = self._regularized(p, g)
        clr = self._lr(t) / (1 + (t - 1) * self.lr_decay)
        s = state["sum"] + g ** 2
        return p - clr * g / (sp.sqrt(s) + self.eps), {"sum": s}


@dataclass(repr=False)        # Optimizer.__repr__
class RMSprop(Optimizer):
    """RMSProp — ``torch.optim.RMSprop``: AdaGrad with the sum of squares replaced by an
    exponentially decaying average (torch's slot ``square_avg``):

        v ← α·v + (1 − α)·g²
        a = √v + ε                         (centered: a = √(v − ḡ²) + ε, ḡ ← α·ḡ + (1 − α)·g)
        p ← p − lr·g/a                     (momentum μ > 0: b ← μ·b + g/a, p ← p − lr·b)

    The notes write M_t := (1 − β)·g² + β·M_{t−1} and w ← w − η·g/(√M_t + ε): the same rule with
    β = alpha. torch's default alpha is 0.99.

    >>> import sympy as sp
    >>> p, g, t, v = sp.symbols('p g t v')
    >>> RMSprop(lr=0.1, alpha=0.5, eps=0).rules(p, g, {'square_avg': v}, t)[1]
    {'square_avg': 0.5*g**2 + 0.5*v}
    """

    lr: LR = 0.01
    alpha: float = 0.99
    eps: float = 1e-8
    weight_decay: float = 0.0
    momentum: float = 0.0
    centered: bool = False
    l1: float = 0.0

    def __post_init__(self):
        self._check_common()
        _number("alpha", self.alpha, lambda v: 0 <= v <= 1, "must be a number in [0, 1]")
        _number("eps", self.eps, what=EPS)
        _number("momentum", self.momentum)
        _flag("centered", self.centered)
        self._check_step_options()

    @property
    def slots(self):
        return (("square_avg",) + (("momentum_buffer",) if self.momentum else ())
                + (("grad_avg",) if self.centered else ()))

    def rules(self, p, g, state, t):
        g = self._regularized(p, g)
        lr, a = self._lr(t), self.alpha
        v = a * state["square_avg"] + (1 - a) * g ** 2
        new = {"square_avg": v}
        if self.centered:
            gbar = a * state["grad_avg"] + (1 - a) * g
            new["grad_avg"] = gbar
            avg = sp.sqrt(v - gbar ** 2) + self.eps
        else:
            avg = sp.sqrt(v) + self.eps
        if self.momentum:
            b = self.momentum * state["momentum_buffer"] + g / avg
            new["momentum_buffer"] = b
            return p - lr * b, new
        return p - lr * g / avg, new


@dataclass(repr=False)        # Optimizer.__repr__
class Adam(Optimizer):
    """Adam — ``torch.optim.Adam``: RMSProp on a decaying average of the gradients, with both
    averages corrected for their start at 0 (torch's slots ``exp_avg``, ``exp_avg_sq``):

        m ← β₁·m + (1 − β₁)·g
        v ← β₂·v + (1 − β₂)·g²             (amsgrad: v̂ ← max(v̂, v), and v̂ replaces v below)
        p ← p − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)

    The notes (AdaM) call β₁, β₂ α and β and divide by 1 − α^(t−1) and 1 − β^(t−1), which is 0 on
    the first step; torch (and Kingma & Ba) use the exponent t, as here. The notes also put ε
    outside the corrected root, as torch does.

    >>> import sympy as sp
    >>> p, g, t, m, v = sp.symbols('p g t m v')
    >>> Adam(lr=0.1, betas=(0.5, 0.5)).rules(p, g, {'exp_avg': m, 'exp_avg_sq': v}, t)[1]
    {'exp_avg': 0.5*g + 0.5*m, 'exp_avg_sq': 0.5*g**2 + 0.5*v}
    """

    lr: LR = 0.001
    betas: tuple = (0.9, 0.999)
    eps: float = 1e-8
    weight_decay: float = 0.0
    amsgrad: bool = False
    l1: float = 0.0

    def __post_init__(self):
        self._check_common()
        _check("betas", self.betas, isinstance(self.betas, (tuple, list)) and len(self.betas) == 2,
               "must be a pair (beta1, beta2), each in [0, 1)")
        for i, b in enumerate(self.betas):
            _number(f"betas[{i}]", b, lambda v: 0 <= v < 1, "must be a number in [0, 1)")
        _number("eps", self.eps, what=EPS)
        _flag("amsgrad", self.amsgrad)
        self._check_step_options()

    @property
    def slots(self):
        return ("exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if self.amsgrad else ())

    def rules(self, p, g, state, t):
        g = self._regularized(p, g)
        (b1, b2), lr = self.betas, self._lr(t)
        m = b1 * state["exp_avg"] + (1 - b1) * g
        v = b2 * state["exp_avg_sq"] + (1 - b2) * g ** 2
        new = {"exp_avg": m, "exp_avg_sq": v}
        if self.amsgrad:
            v = new["max_exp_avg_sq"] = sp.Max(state["max_exp_avg_sq"], v)
        denom = sp.sqrt(v) / sp.sqrt(1 - b2 ** t) + self.eps
        return p - lr / (1 - b1 ** t) * m / denom, new


@dataclass(repr=False)        # Optimizer.__repr__
class AdamW(Adam):
    """AdamW — ``torch.optim.AdamW``: Adam with decoupled weight decay (Loshchilov & Hutter). The
    decay shrinks the parameter itself instead of going through the adaptive scaling with the
    gradient (Adam's ``weight_decay``); torch's default is 0.01:

        p ← p·(1 − lr·weight_decay) − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)   (m, v: Adam's)

    >>> import sympy as sp
    >>> p, g, t, m, v = sp.symbols('p g t m v')
    >>> AdamW(lr=0.1, weight_decay=0.5).rules(p, 0, {'exp_avg': 0, 'exp_avg_sq': 0}, 1)[0]   # g = 0
    0.95*p
    """

    weight_decay: float = 0.01

    def rules(self, p, g, state, t):
        import copy
        adam = copy.copy(self)
        adam.weight_decay = 0.0           # the decay below, not through the gradient
        p_new, new = Adam.rules(adam, p, g, state, t)
        return p_new - self._lr(t) * self.weight_decay * p, new


# ---------------------------------------------------------------------------------------------------
# Views of the update rules, as the lecture writes them: Greek hyperparameters, short slot names.

# the notes' letter for each hyperparameter (torch's field name -> SymPy symbol name)
GREEK = {"lr": "eta", "momentum": "mu", "dampening": "tau", "weight_decay": "lambda", "l1": "lambda_1",
         "eps": "epsilon", "alpha": "alpha", "lr_decay": "kappa"}
# torch's slot names, as a slide writes the slots (exp_avg_sq printed as exp_{avg sq} otherwise)
SLOT_SHOWN = {"momentum_buffer": "b", "sum": "s", "square_avg": "v", "grad_avg": "gbar",
              "exp_avg": "m", "exp_avg_sq": "v", "max_exp_avg_sq": "vhat"}


def _greek(opt: Optimizer) -> Optimizer:
    """A copy of ``opt`` with its non-zero numeric hyperparameters replaced by their Greek letters."""
    return lettered(opt, lambda name: sp.Symbol(name) if name.startswith("beta_") else sp.Symbol(name, positive=True))[0]


def lettered(opt: Optimizer, letter=lambda name: sp.Dummy(name, positive=True)) -> tuple:
    """(a copy of ``opt`` whose non-zero numeric hyperparameters are symbols ``letter(greek name)``,
    {symbol: its number}). Its rules keep their structure — lr·(μ·b + g) stays a product, where
    0.1·(0.9·b + g) is distributed by SymPy — and the numbers are put back into them afterwards
    (the NumPy backend's in-place update: `codegen.numpy_backend.update_lines`)."""
    import copy
    out, values = copy.copy(opt), {}
    for f in fields(opt):
        v = getattr(opt, f.name)
        if f.name == "betas":
            out.betas = tuple(b if _symbolic(b) else letter(f"beta_{i + 1}") for i, b in enumerate(v))
            values.update({s: b for s, b in zip(out.betas, v) if not _symbolic(b)})
        elif f.name in GREEK and not _symbolic(v) and not _schedule(v) and not isinstance(v, bool) and v != 0:
            setattr(out, f.name, letter(GREEK[f.name]))
            values[getattr(out, f.name)] = v
    return out, values


def view(opt: Optimizer, symbolic: bool = True, form: str = "torch"):
    """The update rule of ``opt`` for one entry p of a parameter with gradient g = ∂L/∂p, as a slide
    writes it (`symgrad.teaching.equations.Equations`: text, Unicode, LaTeX, Jupyter):
    ``symbolic`` writes its numbers as the notes' Greek letters (η, μ, β₁, β₂, ε); ``form="notes"``
    writes SGD's momentum in the notes' velocity form (v ← μ·v − η·g, p ← p + v; Nesterov takes g at
    the look-ahead p + μ·v), equal to torch's buffer form for a constant η.

    >>> print(view(Adam()).render("unicode"))
    Adam (torch.optim.Adam), for each entry p with gradient g = ∂L/∂p, at step t:
      m ← β₁·m + (1 − β₁)·g
      v ← β₂·v + (1 − β₂)·g²
      p ← p − η·m/((1 − β₁ᵗ)·(ε + √v/√(1 − β₂ᵗ)))
    """
    from .schedules import EXACT_FLOORS
    as_written = EXACT_FLOORS.set(False)        # a schedule's floors as the user wrote them, not as compiled
    try:
        return _view(opt, symbolic, form)
    finally:
        EXACT_FLOORS.reset(as_written)


def _view(opt: Optimizer, symbolic: bool, form: str):
    from ..teaching.equations import Equations
    if form not in ("torch", "notes"):
        raise ArgumentError(f"form must be 'torch' or 'notes', got {form!r}")
    o = _greek(opt) if symbolic else opt
    name = type(opt).__name__
    title = f"{name} (torch.optim.{name}), for each entry p with gradient g = ∂L/∂p, at step t"
    p, g, t = sp.symbols("p g t", real=True)
    if form == "notes" and isinstance(o, SGD) and o.momentum and not o.dampening:
        v, mu, lr = sp.Symbol("v", real=True), o.momentum, o._lr(t)
        at = sp.Function("g")(p + mu * v) if o.nesterov else g
        return Equations(f"{'Nesterov momentum' if o.nesterov else 'Momentum'} in the notes' velocity form",
                         [(v, mu * v - lr * at, "←"), (p, p + v, "←")],
                         ["(torch keeps b = −v/η instead: the same steps for a constant η"
                          + ("; g(p + μ·v) is the gradient at the look-ahead point, and torch's p is that "
                             "point p + μ·v)" if o.nesterov else ")")])
    if form == "notes":                         # Adam's m̂, v̂ etc.: symgrad.compiling.optim_notes
        from .optim_notes import notes_view
        shown = notes_view(o, name)
        if shown is not None:
            return shown
    state = {s: sp.Symbol(SLOT_SHOWN.get(s, s), real=True) for s in o.slots}
    p_new, new = o.rules(p, g, state, t)
    return Equations(title, _in_order(o.slots, state, new, p, p_new))


def _in_order(slots, state, new, p, p_new) -> list:
    """The update's lines ``(slot, rule, "←")`` read top to bottom as assignments, as the notes write
    them: each rule in the slots updated before it where it holds their new value (amsgrad's
    v̂ ← max(v̂, v) with the new v; centred RMSprop's b ← μ·b + g/(√(v − ḡ²) + ε) with the new v and
    ḡ, found by ``subs``, which also finds a sum inside a larger sum), and a slot's line after those
    whose new values it reads, and before those whose old values it reads. Before 2026-11-30 the
    lines kept the slots' order, so centred RMSprop with momentum read b before ḡ was updated."""
    updated = {s: sp.Dummy(f"new_{s}") for s in slots}
    rules = {}
    for s in [*slots, None]:
        e = p_new if s is None else new[s]
        for o in sorted(slots, key=lambda o: -sp.count_ops(new[o])):   # the largest first: a rule
            if o != s:                                                  # may hold a smaller one
                e = e.subs(new[o], updated[o])
        rules[s] = e
    after = {s: {o for o in slots if updated[o] in rules[s].free_symbols} for s in rules}
    before = {s: {o for o in slots if o != s and state[o] in rules[s].free_symbols} for s in rules}
    order, left = [], list(rules)
    while left:
        ready = [s for s in left if after[s] <= set(order)
                 and not any(s in before[o] for o in left if o != s)]
        if not ready:                     # no order reads every value as written: the old form
            order, rules = list(rules), {s: (p_new if s is None else new[s]) for s in rules}
            break
        order.append(ready[0])
        left.remove(ready[0])
    shown = {updated[o]: state[o] for o in slots}
    return [(p if s is None else state[s], rules[s].xreplace(shown), "←") for s in order]


Optimizer.view = view


# ---------------------------------------------------------------------------------------------------
# Learning-rate schedules: callables t -> SymPy expression, passed as ``lr``.


@dataclass
class LinearAnnealing:
    """The notes' linear annealing of the learning rate from η₀ to η_τ over τ stages:

        η_k = (1 − k/τ)·η₀ + (k/τ)·η_τ,   k = min(⌊(t − 1)/every⌋, τ)

    The notes count k in passes over the data; here k counts optimizer steps, ``every`` of them
    per stage (``every=steps_per_epoch`` gives the notes' per-epoch schedule). After τ stages the
    rate stays at η_τ. This equals ``torch.optim.lr_scheduler.LinearLR(start_factor=1,
    end_factor=η_τ/η₀, total_iters=τ)`` stepped once per stage.

    >>> import sympy as sp
    >>> t = sp.Symbol('t')
    >>> sched = LinearAnnealing(0.1, 0.01, tau=9)
    >>> [round(float(sched(t).subs(t, k)), 12) for k in (1, 10, 50)]
    [0.1, 0.01, 0.01]
    >>> opt = SGD(lr=sched)          # any optimizer takes a schedule as its lr
    """

    lr0: float
    lr_end: float
    tau: int
    every: int = 1

    def __post_init__(self):
        for name in ("tau", "every"):
            _number(name, getattr(self, name), lambda v: int(v) == v and v >= 1, "must be an integer >= 1")
        _number("lr0", self.lr0)
        _number("lr_end", self.lr_end)

    def __call__(self, t):
        # ⌊(t − 1)/every⌋, written ⌊(t − ½)/every⌋: SymPy expands (t − 1)/3 into t/3 − 1/3, which
        # floats round to just below an integer (7/3 − 1/3 = 1.999…); the ½ keeps floor exact.
        k = t - 1 if self.every == 1 else sp.floor((t - sp.Rational(1, 2)) / self.every)
        k = sp.Min(k, self.tau)
        frac = k / sp.Integer(self.tau)
        return (1 - frac) * self.lr0 + frac * self.lr_end


# eps may be 0, as in torch (the doctests above use it to show the rule without it); a negative or
# non-finite eps is refused.
EPS = "must be a finite number >= 0"

# the notes' spellings of torch's names
AdaGrad, RMSProp = Adagrad, RMSprop

OPTIMIZERS = {"sgd": SGD, "adagrad": Adagrad, "rmsprop": RMSprop, "adam": Adam, "adamw": AdamW}
# every name `make` takes (also the command line's --optimizer choices)
NAMES = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw")


def make(name: str, **hyper) -> Optimizer:
    """An optimizer by name: sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw (the command line's
    ``--optimizer``). ``momentum`` and ``nesterov`` are SGD with momentum 0.9 unless given.

    >>> make("nesterov", lr=0.1)
    SGD(lr=0.1, momentum=0.9, dampening=0.0, weight_decay=0.0, nesterov=True, l1=0.0)
    """
    if not isinstance(name, str):
        raise ArgumentError(f"the optimizer name must be a string, one of {', '.join(NAMES)}; got {name!r}")
    key = name.lower()
    cls = SGD if key in ("momentum", "nesterov") else OPTIMIZERS.get(key)
    if cls is not None:
        known = [f.name for f in fields(cls)]
        unknown = sorted(k for k in hyper if k not in known)
        if unknown:
            raise ArgumentError(f"{name} has no hyperparameter {unknown[0]!r}; it takes {', '.join(known)}")
    if key in ("momentum", "nesterov"):
        hyper.setdefault("momentum", 0.9)
        return SGD(nesterov=key == "nesterov", **hyper)
    if key not in OPTIMIZERS:
        raise ArgumentError(f"unknown optimizer {name!r}; choose one of {', '.join(NAMES)}")
    return OPTIMIZERS[key](**hyper)
