"""A PyTorch training script ported to symgrad three ways, each compared with the original.

    PYTHONPATH=. python examples/port_torch_training.py [--epochs 20] [--triton]

The original (``train_torch``) is a torch script as one writes it: an MLP 64-128-64-10 with
``nn.Linear``, ``nn.LayerNorm``, GELU and ``nn.Dropout(0.1)`` on scikit-learn's 8×8 digits with integer
labels; ``torch.optim.AdamW`` with parameter groups (no weight decay on biases and LayerNorm); a
linear warm-up then a cosine decay (``LambdaLR``, as Hugging Face's ``get_cosine_schedule_with_warmup``);
``clip_grad_norm_(…, 1.0)``; shuffled minibatches; evaluation each epoch in ``model.eval()``; early
stopping with the best epoch's ``state_dict`` saved and loaded back.

The ports, all starting from the torch model's own initial weights:

1. ``sg.compile(..., target="numpy")`` + ``sg.train``: the layers declared as torch writes them
   (``sg.linear``, ``sg.layer_norm``, ``sg.gelu``, ``sg.dropout``), the symbols named after the
   ``state_dict`` keys (``"fc1.weight"``) so that the weights go in and out by name; the optimizer,
   its groups, the schedule (``WarmupCosine``) and the clipping compiled into one NumPy step;
   ``sg.train(patience=...)`` for the early stopping. First checked step by step against torch in
   float64 with dropout off (the trajectories agree to ~1e-14), then trained with dropout.
2. ``prog.as_torch()`` inside the original loop: ``module.load_state_dict(model.state_dict())``,
   torch's AdamW, its scheduler and ``clip_grad_norm_`` unchanged.
3. ``target="triton"`` (``--triton``; without a GPU the kernels run under ``TRITON_INTERPRET=1``,
   slowly, so a small network): the same optimizer, groups, schedule and clipping in the kernels,
   stepped against the NumPy target.

Printed: each port's largest difference from its reference, and the test accuracy of the torch
script and of ``sg.train`` (both with dropout: different masks, so close but not equal).
"""
from __future__ import annotations

import argparse
import math
import os
import tempfile
import time

# one BLAS thread for NumPy (and one thread for torch, in main): at these sizes more threads only
# contend, the more so on a shared machine (set before NumPy is imported, when run as a script)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import sympy as sp  # noqa: E402

import symgrad as sg  # noqa: E402
from symgrad.compiling.schedules import WarmupCosine  # noqa: E402

N = sp.Symbol("N", integer=True, positive=True)
SIZES = (64, 128, 64, 10)
LR, DECAY, WARMUP_STEPS, CLIP, P_DROP = 3e-3, 0.05, 20, 1.0, 0.1


def digits(seed=0):
    """Train / validation / test splits of the 1797 digits: pixels in [0, 1], labels 0..9 (int64)."""
    from sklearn.datasets import load_digits
    X, y = load_digits(return_X_y=True)
    order = np.random.default_rng(seed).permutation(len(X))
    X, y = (X[order] / 16).astype(np.float32), y[order].astype(np.int64)
    cut = [(0, 1200), (1200, 1500), (1500, len(X))]
    return [{"x": X[a:b], "y": y[a:b]} for a, b in cut]


# -- the torch original ---------------------------------------------------------------------------
def torch_model(sizes=SIZES, p=P_DROP):
    import torch.nn as nn

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            d, h1, h2, c = sizes
            self.fc1, self.ln1 = nn.Linear(d, h1), nn.LayerNorm(h1)
            self.fc2, self.ln2 = nn.Linear(h1, h2), nn.LayerNorm(h2)
            self.out, self.drop = nn.Linear(h2, c), nn.Dropout(p)

        def forward(self, x):
            x = self.drop(nn.functional.gelu(self.ln1(self.fc1(x))))
            x = self.drop(nn.functional.gelu(self.ln2(self.fc2(x))))
            return self.out(x)
    return MLP()


def decayed(name: str) -> bool:
    """The usual split: weight decay on the Linear weights only (not on biases, not on LayerNorm)."""
    return name.endswith("weight") and not name.startswith("ln")


def torch_optimizer(model, total_steps):
    import torch
    params = list(model.named_parameters())
    opt = torch.optim.AdamW([{"params": [p for n, p in params if decayed(n)], "weight_decay": DECAY},
                             {"params": [p for n, p in params if not decayed(n)], "weight_decay": 0.0}], lr=LR)
    w = WARMUP_STEPS
    warmup_cosine = lambda s: s / w if s < w else 0.5 * (1 + math.cos(math.pi * (s - w) / (total_steps - w)))
    return opt, torch.optim.lr_scheduler.LambdaLR(opt, warmup_cosine)


def train_torch(model, train, val, epochs, batch_size=64, patience=5, seed=0):
    """The torch script's loop; returns the best epoch and the per-epoch validation losses."""
    import torch
    F = torch.nn.functional
    total = epochs * math.ceil(len(train["y"]) / batch_size)
    opt, sched = torch_optimizer(model, total)
    X, Y = torch.tensor(train["x"]), torch.tensor(train["y"])
    Xv, Yv = torch.tensor(val["x"]), torch.tensor(val["y"])
    best, best_epoch, bad, losses = math.inf, 0, 0, []
    path = os.path.join(tempfile.mkdtemp(), "best.pt")
    gen = torch.Generator().manual_seed(seed)
    for epoch in range(1, epochs + 1):
        model.train()
        for idx in torch.randperm(len(Y), generator=gen).split(batch_size):
            loss = F.cross_entropy(model(X[idx]), Y[idx])
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)
            opt.step()
            sched.step()
        model.eval()
        with torch.no_grad():
            losses.append(F.cross_entropy(model(Xv), Yv).item())
        if losses[-1] < best:
            best, best_epoch, bad = losses[-1], epoch, 0
            torch.save(model.state_dict(), path)
        else:
            bad += 1
            if bad >= patience:
                break
    model.load_state_dict(torch.load(path))
    return best_epoch, losses


def torch_accuracy(model, data):
    import torch
    model.eval()
    with torch.no_grad():
        return float((model(torch.tensor(data["x"])).argmax(1).numpy() == data["y"]).mean())


# -- the port -------------------------------------------------------------------------------------
def declare(sizes=SIZES, p=P_DROP):
    """The same network over a batch of N examples, its symbols named as the torch model's state_dict."""
    d, h1, h2, c = sizes
    x, y = sg.tensor("x", (N, d)), sg.tensor("y", (N,), integer=True)
    shapes = {"fc1.weight": (h1, d), "fc1.bias": (h1,), "ln1.weight": (h1,), "ln1.bias": (h1,),
              "fc2.weight": (h2, h1), "fc2.bias": (h2,), "ln2.weight": (h2,), "ln2.bias": (h2,),
              "out.weight": (c, h2), "out.bias": (c,)}
    P = {name: sg.tensor(name, shape) for name, shape in shapes.items()}
    drop = (lambda h: sg.dropout(h, p)) if p else (lambda h: h)
    h = drop(sg.gelu(sg.layer_norm(sg.linear(x, P["fc1.weight"], P["fc1.bias"]), (h1,), P["ln1.weight"], P["ln1.bias"])))
    h = drop(sg.gelu(sg.layer_norm(sg.linear(h, P["fc2.weight"], P["fc2.bias"]), (h2,), P["ln2.weight"], P["ln2.bias"])))
    logits = sg.linear(h, P["out.weight"], P["out.bias"])
    return sg.cross_entropy(logits, y), logits, list(P.values()), [x, y]


def optimizer(params, total_steps, warmup=WARMUP_STEPS):
    """torch_optimizer's AdamW, groups, schedule and clipping, as one symgrad optimizer."""
    return sg.optim.AdamW(lr=WarmupCosine(LR, warmup=warmup, total=total_steps), weight_decay=DECAY,
                          groups=[{"params": [q for q in params if not decayed(q.name)], "weight_decay": 0.0}],
                          clip_grad_norm=CLIP)


def weights(model) -> dict:
    """The torch model's state_dict as NumPy arrays (copies), keyed as the symbols are named."""
    return {k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()}


def step_parity(train, steps=30, batch_size=64, seed=0):
    """Largest |difference| of every parameter after ``steps`` compiled steps from torch's, float64,
    dropout off (torch's and symgrad's dropout masks come from different generators)."""
    import torch
    F = torch.nn.functional
    torch.manual_seed(seed)
    model = torch_model(p=0.0).double()
    loss, logits, params, inputs = declare(p=0.0)
    prog = sg.compile(loss, params, inputs, outputs=[logits], optimizer=optimizer(params, steps), dtype="float64")
    values, state = weights(model), None
    opt, sched = torch_optimizer(model, steps)
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        idx = rng.choice(len(train["y"]), batch_size, replace=False)
        batch = {"x": train["x"][idx].astype(np.float64), "y": train["y"][idx]}
        values, state = prog.step(values, state, batch)
        out = F.cross_entropy(model(torch.tensor(batch["x"])), torch.tensor(batch["y"]))
        opt.zero_grad()
        out.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)
        opt.step()
        sched.step()
    return max(float(np.abs(values[k] - v).max()) for k, v in weights(model).items())


def as_torch_parity(train, steps=30, batch_size=64, seed=0):
    """The compiled program as a torch layer inside the original loop (torch's AdamW, scheduler and
    clipping), against the torch model itself: largest |difference| of the parameters."""
    import torch
    F = torch.nn.functional
    torch.manual_seed(seed)
    model = torch_model(p=0.0).double()
    loss, logits, params, inputs = declare(p=0.0)
    module = sg.compile(loss, params, inputs, outputs=[logits], dtype="float64").as_torch()
    module.load_state_dict(model.state_dict())         # by the torch model's own keys
    runs = [(m, *torch_optimizer(m, steps)) for m in (model, module)]
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        idx = rng.choice(len(train["y"]), batch_size, replace=False)
        X, Y = torch.tensor(train["x"][idx], dtype=torch.float64), torch.tensor(train["y"][idx])
        for m, opt, sched in runs:
            out = F.cross_entropy(m(X), Y)
            opt.zero_grad()
            out.backward()
            torch.nn.utils.clip_grad_norm_(m.parameters(), CLIP)
            opt.step()
            sched.step()
    got = module.torch_state_dict()                    # keyed as model.state_dict() is
    return max(float((v - got[k]).abs().max()) for k, v in model.state_dict().items())


def train_symgrad(model, train, val, epochs, batch_size=64, patience=5, seed=0):
    """sg.train from the torch model's initial weights, with dropout; returns (history, program,
    the seconds sg.compile took)."""
    loss, logits, params, inputs = declare()
    total = epochs * math.ceil(len(train["y"]) / batch_size)
    started = time.perf_counter()
    prog = sg.compile(loss, params, inputs, outputs=[logits], optimizer=optimizer(params, total), seed=seed)
    compile_seconds = time.perf_counter() - started            # printed apart from the training's
    history = sg.train(prog, train, epochs=epochs, batch_size=batch_size, values=weights(model), seed=seed,
                       validation=val, metrics=["loss", "accuracy"], patience=patience, progress=False,
                       checkpoint=os.path.join(tempfile.mkdtemp(), "last.npz"))
    return history, prog, compile_seconds


def triton_parity(steps=3, sizes=(16, 16, 8, 4), seed=0):
    """The Triton target against the NumPy target on a small network, float32, dropout off: the
    largest |difference| of the parameters after ``steps`` steps."""
    import torch
    loss, logits, params, inputs = declare(sizes, p=0.0)
    opt = optimizer(params, 2 * steps, warmup=1)       # past the warm-up (lr 0 at step 1) at once
    tri = sg.compile(loss, params, inputs, outputs=[logits], optimizer=opt, target="triton")
    ref = sg.compile(loss, params, inputs, outputs=[logits], optimizer=opt)
    torch.manual_seed(seed)
    values = weights(torch_model(sizes, p=0.0))
    vt, st = {k: torch.tensor(v) for k, v in values.items()}, None
    vn, sn = values, None
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        batch = {"x": rng.normal(size=(8, sizes[0])).astype(np.float32), "y": rng.integers(0, sizes[-1], 8)}
        vt, st = tri.step(vt, st, {k: torch.tensor(v) for k, v in batch.items()})
        vn, sn = ref.step(vn, sn, batch)
    return max(float(np.abs(vt[k].cpu().numpy() - vn[k]).max()) for k in vn)


def main(epochs=20, triton=False, seed=0):
    import torch
    torch.set_num_threads(1)
    train, val, test = digits(seed)
    torch.manual_seed(seed)
    model = torch_model()
    initial = torch_model()
    initial.load_state_dict(model.state_dict())        # symgrad starts from the same weights

    started = time.perf_counter()
    best_epoch, _ = train_torch(model, train, val, epochs, seed=seed)
    torch_seconds = time.perf_counter() - started
    torch_acc = torch_accuracy(model, test)

    started = time.perf_counter()
    history, prog, compile_seconds = train_symgrad(initial, train, val, epochs, seed=seed)
    sg_seconds = time.perf_counter() - started
    (scores,) = prog.forward(history.values, {"x": test["x"]})
    sg_acc = float((scores.argmax(1) == test["y"]).mean())
    back = torch_model()
    back.load_state_dict({k: torch.tensor(v) for k, v in history.values.items()})   # and back into torch
    back_acc = torch_accuracy(back, test)

    print(f"torch script:    best epoch {best_epoch}, test accuracy {torch_acc:.3f} ({torch_seconds:.1f} s)")
    print(f"sg.train (NumPy): best epoch {history.best_epoch}"
          f"{' (stopped early)' if history.stopped_early else ''}, test accuracy {sg_acc:.3f} "
          f"({sg_seconds - compile_seconds:.1f} s, after sg.compile's {compile_seconds:.1f} s); "
          f"the same weights in the torch model: {back_acc:.3f}")
    step_diff = step_parity(train)
    print(f"compiled step vs torch, 30 steps (float64, dropout off): largest parameter difference {step_diff:.1e}")
    module_diff = as_torch_parity(train)
    print(f"as_torch() in the torch loop vs torch, 30 steps: largest parameter difference {module_diff:.1e}")
    triton_diff = None
    if triton:
        triton_diff = triton_parity()
        print(f"target='triton' vs target='numpy', 3 steps (float32, a 16-16-8-4 network): "
              f"largest parameter difference {triton_diff:.1e}")
    return {"torch_accuracy": torch_acc, "symgrad_accuracy": sg_acc, "back_accuracy": back_acc,
            "step_diff": step_diff, "module_diff": module_diff, "triton_diff": triton_diff,
            "history": history}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--triton", action="store_true",
                    help="also step the Triton target (under TRITON_INTERPRET=1 without a GPU: slow)")
    args = ap.parse_args()
    if args.triton:
        import torch
        if not torch.cuda.is_available():
            os.environ.setdefault("TRITON_INTERPRET", "1")     # before triton is first imported
    main(args.epochs, args.triton)
