"""``prog.as_torch()``'s ``module.loss`` gives a parameter the loss reaches only through
stop_gradient (torch: ``.detach()``), or not at all, no ``.grad`` (None), as torch's autograd does,
so torch's optimizers skip it; one reached through sign (a zero derivative) gets a zero ``.grad``
and is decayed. Until 2026-11-30, seventh session, every parameter got a tensor, zeros for those."""
import warnings

import numpy as np
import sympy as sp
import torch

import symgrad as sg

w, a, s, u, x = sp.symbols("w a s u x", real=True)
START = {"w": 0.5, "a": 2.0, "s": -1.5, "u": 3.0}


def test_module_loss_gives_none_where_torch_gives_none_and_adamw_agrees():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sg.optim.NoGradientWarning)
        prog = sg.compile((w * x - 1) ** 2 + sp.sign(a) * x + sg.stop_gradient(s) * x, [w, a, s, u], [x],
                          dtype="float64")
    module = prog.as_torch({k: np.array(v) for k, v in START.items()})
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in START.items()}
    opt_m = torch.optim.AdamW([module.parameter(k) for k in START], lr=0.1, weight_decay=0.5)
    opt_t = torch.optim.AdamW(list(t.values()), lr=0.1, weight_decay=0.5)
    X = torch.tensor(np.random.default_rng(0).normal(size=6))
    for _ in range(3):
        opt_m.zero_grad()
        opt_t.zero_grad()
        module.loss(X).backward()
        ((t["w"] * X - 1) ** 2 + torch.sign(t["a"]) * X + t["s"].detach() * X).mean().backward()
        for k in START:
            got, want = module.parameter(k).grad, t[k].grad
            assert (got is None) == (want is None), k
            if want is not None:
                torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-14)
        opt_m.step()
        opt_t.step()
    for k in START:
        torch.testing.assert_close(module.parameter(k).detach(), t[k].detach(), rtol=1e-12, atol=1e-14)
    assert module.parameter("s").item() == START["s"] and module.parameter("a").item() < START["a"]
