"""The kernels of a compiled Triton program replaced by stubs that count their launches: what is
left of ``Program.step`` is its host code, timed without a GPU (bench/gpu_step.py --host,
bench/host_step_ab.py). Imports nothing of symgrad, so it serves any checkout's program."""
from __future__ import annotations

import re


def stub_kernels(prog, launches: list | None = None, module: dict | None = None) -> list:
    """Replace every ``@triton.jit`` kernel of ``prog``'s generated module (``name_kernel``, not the
    ``launch_`` wrappers; or of ``module``, the globals of another generated module: an
    ``as_torch()`` module's vector-Jacobian product) by a stub; returns the counter ``[launches so
    far]`` (``launches``: one to go on counting in).

    A stub does what Triton's launcher does on the host before the kernel runs and that depends on
    the generated code: it evaluates the grid, a ``lambda META: ...`` called with the kernel's first
    autotuning configuration (the GPU's launcher calls it at every launch), so the grid's cost is
    timed too."""
    launches = [0] if launches is None else launches

    class Stub:
        def __init__(self, meta):
            self.meta = meta

        def __getitem__(self, grid):
            def launch(*args, **kwargs):
                launches[0] += 1
                if callable(grid):
                    grid({**self.meta, **kwargs})
            return launch
    module = prog.compiled.step.__globals__ if module is None else module
    for name in [n for n in module if re.search(r"_kernel\d*$", n) and not n.startswith("launch_")]:
        kernel = module[name]
        configs = getattr(kernel, "configs", None) or []
        meta = getattr(kernel, "meta", None)        # (a module stubbed before: two programs share it)
        module[name] = Stub(meta if meta is not None else dict(configs[0].kwargs) if configs else {})
    return launches
