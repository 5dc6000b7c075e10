"""The comparison a torch port is checked by: one loss compiled to the NumPy target in float64
against the same loss in torch — the loss, every gradient by torch.autograd, and a few entries of
each gradient by central finite differences of the compiled loss."""
from __future__ import annotations

import zlib

import numpy as np

import symgrad as sg


def central_differences(prog, vals, data, name, rng, count=3, h=1e-6):
    """∂loss/∂vals[name] at ``count`` random entries, by central differences in float64."""
    out = []
    for _ in range(count):
        i = tuple(int(rng.integers(0, s)) for s in vals[name].shape)
        plus, minus = {k: v.copy() for k, v in vals.items()}, {k: v.copy() for k, v in vals.items()}
        plus[name][i] += h
        minus[name][i] -= h
        out.append((i, (prog.loss(plus, data) - prog.loss(minus, data)) / (2 * h)))
    return out


def compare_with_torch(torch, built, rng, rtol=1e-9):
    """``built`` = (sg loss, params, inputs, values, data, torch loss of (params, data) as tensors)."""
    loss, params, inputs, vals, data, twin = built
    prog = sg.compile(loss, params, inputs, dtype="float64")
    t = {k: torch.tensor(v, requires_grad=True) for k, v in vals.items()}
    d = {k: torch.tensor(v) for k, v in data.items()}
    want = twin(t, d)
    want.backward()
    got = prog.loss(vals, data)
    assert abs(got - want.item()) <= 1e-10 * max(1.0, abs(want.item())), (got, want.item())
    grads = prog.grad(vals, data)
    for k in vals:
        np.testing.assert_allclose(grads[k], t[k].grad.numpy(), rtol=rtol, atol=1e-10, err_msg=k)
        for i, fd in central_differences(prog, vals, data, k, rng):
            assert abs(grads[k][i] - fd) <= 1e-5 * max(1.0, abs(fd)), (k, i, grads[k][i], fd)


def compare_case(torch, cases, name):
    """``compare_with_torch`` of the case ``cases[name]`` (a builder of rng), its values drawn from a
    generator seeded by the name: each case the same values on every run, whatever runs before it."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    compare_with_torch(torch, cases[name](rng), rng)


def params(rng, shapes, scale=0.5):
    """({name: sg.tensor}, {name: scale × standard normal values}) for ``shapes`` {name: shape}."""
    return ({k: sg.tensor(k, s) for k, s in shapes.items()},
            {k: scale * rng.normal(size=s) for k, s in shapes.items()})


def normal(rng, *shape):
    """Standard normal values of ``shape`` (the port tests' data)."""
    return rng.normal(size=shape)


class Cases(dict):
    """name -> builder; used as the decorator ``@case`` that registers a builder under its name."""

    def __call__(self, fn):
        self[fn.__name__] = fn
        return fn
