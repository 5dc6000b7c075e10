"""JAX as an optional peer of the bench scripts: loading it, one thread for it, the check that its
loss and gradients are ours.

JAX is not a dependency of symgrad (CI does not install it): `load` gives ``None`` when it cannot be
imported, and the scripts print "not installed" in its column.

One thread. ``XLA_FLAGS=--xla_cpu_multi_thread_eigen=false`` alone does not keep jax.jit on one
thread (jaxlib 0.10.2 on this machine: a 1024² matrix product still spent CPU time on three to four
threads, counted per thread from /proc/self/task/*/stat; ``--xla_cpu_use_xnnpack=false`` and
synchronous dispatch did not change that). XLA sizes its CPU thread pool by the CPUs the process may
run on when its client starts, so `one_xla_thread` starts it with the process restricted to one CPU
and then gives every thread all CPUs back: the same product then ran on one thread. (Keeping the
whole process on one CPU instead made jax.jit ~20x slower at small sizes when its steps took turns
with the other methods': XLA's threads then wait for the CPU the others run on.)
"""
from __future__ import annotations

import contextlib
import os

import numpy as np

NOT_INSTALLED = "not installed"
XLA_FLAGS = "--xla_cpu_multi_thread_eigen=false"


def one_xla_thread() -> str:
    """Start jax's CPU client with a one-thread pool (see the module's docstring), if jax is
    installed; a line saying so, for the scripts' headers. Call it before anything runs in jax: a
    client already started keeps its pool."""
    os.environ.setdefault("XLA_FLAGS", XLA_FLAGS)
    got = load()
    if got is None:
        return f"jax {NOT_INSTALLED}"
    if not hasattr(os, "sched_setaffinity"):
        return "XLA's thread pool as jax sizes it (no sched_setaffinity here)"
    every = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(every)})
    try:
        got[0].devices()                               # the client and its thread pool start here
    finally:
        for tid in os.listdir("/proc/self/task"):
            try:
                os.sched_setaffinity(int(tid), every)
            except OSError:                            # a thread that ended meanwhile
                pass
    return "XLA's thread pool started on one CPU"


def load():
    """``(jax, jax.numpy)``, or ``None`` when jax cannot be imported."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    return jax, jnp


@contextlib.contextmanager
def float64_check():
    """Within it, jax computes in float64 where given float64 (``jax_enable_x64``, put back after).

    The checks compare gradients in float64: in float32 a deep network can hold an activation so
    near a relu's kink that rounding sends it to the other side in one library and not the other
    (bench/tensor_step.py's 10-layer batch-norm MLP: one entry of layer 2 at 2.5e-7, JAX's float32
    forward 4e-6 off, ours 3e-6 — same math, other luck), and that entry's gradient then differs
    wholesale. In float64 JAX's gradients and ours agreed there to 1e-14."""
    got = load()
    if got is None:
        yield
        return
    before = got[0].config.jax_enable_x64
    got[0].config.update("jax_enable_x64", True)
    try:
        yield
    finally:
        got[0].config.update("jax_enable_x64", before)


def version() -> str:
    got = load()
    if got is None:
        return f"jax {NOT_INSTALLED}"
    import jaxlib
    return f"jax {got[0].__version__}, jaxlib {jaxlib.__version__}"


def assert_same(what: str, ours_loss: float, ours_grads: dict, jax_loss: float, jax_grads: dict,
                rtol: float = 1e-3) -> None:
    """JAX's loss and gradients are ours, in float32: the loss to ``rtol``; every gradient entry to
    ``rtol`` of its own size plus ``rtol`` of the tensor's largest entry (float32 sums in another
    order differ most where a gradient is near zero) plus 1e-5 of the largest entry of all (a
    gradient that is zero in exact arithmetic, as a bias before a batch norm's, is rounding noise
    in both)."""
    assert abs(ours_loss - jax_loss) <= rtol * abs(ours_loss), (what, "loss", ours_loss, jax_loss)
    assert set(ours_grads) == set(jax_grads), (what, sorted(ours_grads), sorted(jax_grads))
    floor = 1e-5 * max(float(np.abs(g).max()) for g in ours_grads.values())
    for k, g in ours_grads.items():
        g, j = np.asarray(g, np.float64), np.asarray(jax_grads[k], np.float64).reshape(np.shape(g))
        np.testing.assert_allclose(j, g, rtol=rtol, atol=rtol * float(np.abs(g).max()) + floor,
                                   err_msg=f"{what}: jax's gradient of {k} is not ours")


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (the machine, for the scripts' headers)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform
    return platform.processor() or platform.machine()
