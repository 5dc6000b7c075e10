"""Keyword arguments checked by name: a misspelled option is an error naming the closest valid one.

Python itself refuses an unknown keyword with a bare TypeError; a function that passes options on
(``sg.derive(..., **options)``) would ignore it. The public entry points (`sg.derive`, `sg.check`,
`sg.compile`, `sg.train`) are wrapped with `keywords`, which says which name was meant.
"""
from __future__ import annotations

import difflib
import functools
import inspect
from typing import Callable, Iterable, Mapping

from ..errors import ArgumentError

_NAMED = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
# torch's keyword -> NumPy's, which the tensor functions take (x.sum(dim=1) is x.sum(axis=1))
TORCH_SPELLINGS = {"dim": "axis", "keepdim": "keepdims"}
# other libraries' names for what symgrad calls otherwise (difflib finds no 'lr' in 'learning_rate'):
# name -> (symgrad's name, what the hint adds)
_BETAS = "symgrad takes torch's betas=(β₁, β₂)"
OTHER_SPELLINGS = {"learning_rate": ("lr", "Keras's and optax's name"), "epsilon": ("eps", "Keras's name"),
                   "beta_1": ("betas", _BETAS), "beta_2": ("betas", _BETAS), "beta1": ("betas", _BETAS),
                   "beta2": ("betas", _BETAS), "validation_data": ("validation", "Keras's name"),
                   "num_epochs": ("epochs", None), "n_epochs": ("epochs", None),
                   "unbiased": ("correction", "torch's older keyword: unbiased=False is correction=0, "
                                              "unbiased=True correction=1")}

# torch's and Keras's names for the clipping and the parameter groups of a training step, which
# symgrad's optimizers take (sg.optim.AdamW(lr=..., groups=[...], clip_grad_norm=1.0)): an optimizer
# given one of these names is told the name it takes; sg.compile or sg.train given one is told where
# the optimizer is by its own table (`elsewhere=`, symgrad.compiling.options_elsewhere)
_NORM = ("clip_grad_norm", "torch's clip_grad_norm_(parameters, max_norm) is the optimizer's clip_grad_norm=max_norm")
_VALUE = ("clip_grad_value", "torch's clip_grad_value_(parameters, clip_value) is the optimizer's "
                             "clip_grad_value=clip_value")
_GROUP = ("groups", "torch's parameter groups are the optimizer's groups=[{'params': [b1, b2], 'weight_decay': 0.0}]")
OTHER_SPELLINGS.update({
    **dict.fromkeys(("clip_grad_norm_", "max_norm", "grad_clip", "clip_norm", "gradient_clipping",
                     "grad_norm_clip"), _NORM),
    "clipnorm": ("clip_grad_norm", "Keras's name"), "global_clipnorm": ("clip_grad_norm", "Keras's name"),
    **dict.fromkeys(("clip_grad_value_", "clip_value"), _VALUE), "clipvalue": ("clip_grad_value", "Keras's name"),
    "norm_type": ("clip_norm_type", "torch's clip_grad_norm_(..., norm_type): 2 or float('inf')"),
    **dict.fromkeys(("param_groups", "params_groups", "no_decay", "no_weight_decay"), _GROUP)})

def check_keywords(who: str, given: Iterable[str], valid: Iterable[str],
                   elsewhere: Mapping[str, str] | None = None) -> None:
    """Raise `ArgumentError` for the first name of ``given`` not in ``valid``, naming the closest
    valid one (difflib) and listing them all. ``elsewhere`` maps an option other libraries take
    here to where this library has it: such a name is told that, unless it is another spelling
    of a valid name (OTHER_SPELLINGS).

    >>> check_keywords("derive", ["at", "stlye"], ["mode", "style", "at"])
    Traceback (most recent call last):
    ...
    symgrad.errors.ArgumentError: derive() got an unknown keyword argument 'stlye'; did you mean 'style'? It takes: mode, style, at
    """
    valid = list(dict.fromkeys(valid))
    for name in given:
        why = (elsewhere or {}).get(name)
        if name not in valid and why and OTHER_SPELLINGS.get(name, (None,))[0] not in valid:
            raise ArgumentError(f"{who}() takes no {name}=: {why}")
        if name not in valid:
            numpy = TORCH_SPELLINGS.get(name)
            ours, whose = OTHER_SPELLINGS.get(name, (None, None))
            close = ([numpy] if numpy in valid else [ours] if ours in valid else
                     difflib.get_close_matches(name, valid, n=1, cutoff=0.5))
            hint = (f"; did you mean {close[0]!r}? (NumPy's name for torch's {name!r})" if numpy in valid else
                    f"; did you mean {close[0]!r}? ({whose})" if ours in valid and whose else
                    f"; did you mean {close[0]!r}?" if close else ".")
            raise ArgumentError(f"{who}() got an unknown keyword argument {name!r}{hint} "
                                f"It takes: {', '.join(valid)}")


def check_flag(who: str, name: str, v):
    """``v`` when it is True or False; else the `ArgumentError` "who: name= must be True or False"
    (torch's inplace=, keepdim=, largest=, full= ...)."""
    if not isinstance(v, bool):
        raise ArgumentError(f"{who}: {name}= must be True or False, got {v!r}")
    return v


def keywords(extra: Callable[[], Iterable[str]] | Iterable[str] = (), elsewhere: Mapping[str, str] | None = None,
             twice: Mapping[str, str] | None = None):
    """Decorate a function so that a keyword argument it does not know is an `ArgumentError`
    naming the closest valid one. The valid names are the function's named parameters and
    ``extra`` (names its ``**options`` take; a callable is asked at each call, so a list kept
    elsewhere stays the one truth). ``elsewhere``: see `check_keywords`. An argument given both by
    position and by keyword (Python's bare "got multiple values") is an `ArgumentError` too, naming
    it and what came in its place; ``twice``: a parameter's name → the likely cause, said after it
    (Keras's ``fit(x, y, epochs=2)`` passed to ``train(program, data, epochs)``).

    >>> @keywords()
    ... def fit(data, *, epochs=1, batch_size=32):
    ...     return epochs
    >>> fit([], epochs=2)
    2
    >>> fit([], epoch=2)
    Traceback (most recent call last):
    ...
    symgrad.errors.ArgumentError: fit() got an unknown keyword argument 'epoch'; did you mean 'epochs'? It takes: data, epochs, batch_size
    """
    def decorate(fn):
        params = inspect.signature(fn).parameters.values()
        named = [p.name for p in params if p.kind in _NAMED and p.name != "self"]
        positional = [p.name for p in params
                      if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)]

        @functools.wraps(fn)
        def checked(*args, **kwargs):
            if kwargs:
                more = extra() if callable(extra) else extra
                allowed = set(named).union(more)
                if not allowed.issuperset(kwargs):
                    check_keywords(fn.__name__, kwargs, named + list(more), elsewhere)
                for name, given in zip(positional, args):
                    if name in kwargs:
                        _given_twice(fn.__name__, name, given, positional, (twice or {}).get(name))
            return fn(*args, **kwargs)
        return checked
    return decorate


def _given_twice(who: str, name: str, given, positional: list, cause: str | None):
    """The error for ``name`` given both by position and as ``name=``."""
    what = type(given).__name__ + (f" of shape {tuple(given.shape)}" if hasattr(given, "shape") else "")
    place = positional.index(name) + 1
    raise ArgumentError(
        f"{who}() got {name} twice: by position (argument {place}, {what}, after "
        f"{', '.join(positional[:place - 1])}) and as {name}=" + (f"; {cause}" if cause else ""))
