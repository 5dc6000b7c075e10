"""Feature standardisation that travels with the trained values: the mean and scale of each feature
entry over the training samples (scikit-learn's ``StandardScaler``: the population standard
deviation, a constant entry's scale 1), applied to the training and validation data, recorded in
every checkpoint, and applied again to the data ``symgrad evaluate`` and ``symgrad predict`` read.

``symgrad train --standardize`` uses it; in Python, `fit_standardization` and `standardized` do
the same to a dict of arrays, and ``sg.load_checkpoint(path).standardized`` holds what a run saved.

>>> import numpy as np
>>> X = np.array([[1.0, 100.0], [3.0, 100.0]])
>>> stats = fit_standardization({"x": X}, ["x"])
>>> stats["x"]["mean"], stats["x"]["scale"]
(array([  2., 100.]), array([1., 1.]))
>>> standardized({"x": X, "y": np.array([0, 1])}, stats)["x"]
array([[-1.,  0.],
       [ 1.,  0.]])
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np


def fit_standardization(data: Mapping, names) -> dict:
    """``{name: {"mean": array, "scale": array}}`` for each of ``names``: per entry of one sample (a
    table's column), over the samples of ``data`` (the first axis). ``scale`` is the standard
    deviation (ddof=0, as StandardScaler's), or 1 where it is 0 (a constant column is centred, not
    divided by 0)."""
    out = {}
    for name in names:
        a = np.asarray(data[name], dtype=np.float64)
        mean = a.mean(axis=0)
        scale = a.std(axis=0)
        scale = np.where(scale > 0, scale, 1.0)
        out[name] = {"mean": mean, "scale": scale}
    return out


def standardized(data: Mapping, stats: Mapping) -> dict:
    """``data`` with each array that ``stats`` names standardized, ``(a - mean) / scale``, in its
    own floating type (float64 for integers); the others as they are. An array whose samples are of
    another shape than the statistics' is a ValueError naming it."""
    out = dict(data)
    for name, s in stats.items():
        if name not in out:
            continue
        a = np.asarray(out[name])
        mean, scale = np.asarray(s["mean"]), np.asarray(s["scale"])
        if a.shape[1:] != mean.shape and math.prod(a.shape[1:]) == mean.size:
            # the same entries in another layout (a per-example column (64, 1) given as (n, 64)): row-major alike
            mean, scale = mean.reshape(a.shape[1:]), scale.reshape(a.shape[1:])
        if a.shape[1:] != mean.shape:
            raise ValueError(f"{name!r}: its samples are of shape {a.shape[1:]}, but it was standardized with "
                             f"the statistics of samples of shape {mean.shape}")
        kind = a.dtype if a.dtype.kind == "f" else np.float64
        out[name] = ((a - mean) / scale).astype(kind, copy=False)
    return out


def check_statistics(stats) -> dict | None:
    """``stats`` as a checkpoint holds it, or a ValueError saying what is wrong: a dict of input
    name -> {"mean": array, "scale": array} of one shape, the scales positive and finite."""
    if stats is None:
        return None
    if not isinstance(stats, Mapping):
        raise ValueError(f"its standardization is a {type(stats).__name__}, not a dict by input name")
    for name, s in stats.items():
        if not isinstance(name, str) or not isinstance(s, Mapping) or set(s) != {"mean", "scale"}:
            raise ValueError(f"its standardization of {name!r} is not {{'mean': array, 'scale': array}}")
        mean, scale = np.asarray(s["mean"]), np.asarray(s["scale"])
        if mean.dtype.kind not in "fi" or scale.dtype.kind not in "fi" or mean.shape != scale.shape:
            raise ValueError(f"its standardization of {name!r} holds no mean and scale of one shape")
        if not (np.isfinite(mean).all() and np.isfinite(scale).all() and (scale > 0).all()):
            raise ValueError(f"its standardization of {name!r} has a mean that is not finite or a scale "
                             f"that is not positive")
    return {name: {"mean": s["mean"], "scale": s["scale"]} for name, s in stats.items()}
