"""Stand-in Programs for the training-loop tests, in plain NumPy with hand-written gradients.

They have the methods of a compiled `Program` (sg.compile, branch `numpy`) that `sg.train` uses —
loss, grad, step, init_state, forward — so the loop is tested without the compiler. The optimizer
update is symgrad.compiling.optim's rules evaluated with `Optimizer.lambdify`.
"""
import numpy as np


class StandIn:
    """Values {name: array}; state {"t": steps taken, "slots": {name: {slot: array}}}."""

    def __init__(self, optimizer, return_loss=False, in_place=False):
        self.optimizer, self.update = optimizer, optimizer.lambdify()
        self.return_loss, self.in_place = return_loss, in_place

    def loss(self, values, batch):
        return self.loss_and_grad(values, batch)[0]

    def grad(self, values, batch):
        return self.loss_and_grad(values, batch)[1]

    def init_state(self, values):
        return {"t": 0, "slots": {k: self.optimizer.init_state(np.shape(v)) for k, v in values.items()}}

    def step(self, values, state, batch):
        loss, grads = self.loss_and_grad(values, batch)
        t = state["t"] + 1
        new_values, slots = {}, {}
        for k, v in values.items():
            new_values[k], slots[k] = self.update(v, grads[k], state["slots"][k], t)
            if self.in_place:                       # overwrite the caller's arrays, as an in-place step would
                v[...] = new_values[k]
                new_values[k] = v
        new_state = {"t": t, "slots": slots}
        return (new_values, new_state, loss) if self.return_loss else (new_values, new_state)


class SoftmaxRegression(StandIn):
    """z = W·x + b, loss = mean over the batch of −Σ t·log softmax(z); inputs x (B, n), t (B, k)."""

    def forward(self, values, batch):
        return batch["x"] @ values["W"].T + values["b"][:, 0]

    def loss_and_grad(self, values, batch):
        z = self.forward(values, batch)
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        t, B = batch["t"], len(z)
        loss = -np.sum(t * logp) / B
        dz = (np.exp(logp) - t) / B                  # ∂loss/∂z = (softmax(z) − t)/B
        return loss, {"W": dz.T @ batch["x"], "b": dz.sum(axis=0)[:, None]}


class Exp(StandIn):
    """loss = mean exp(w·x) over a batch of scalars x; overflows to inf for large w·x."""

    def forward(self, values, batch):
        return np.exp(values["w"] * batch["x"])

    def loss_and_grad(self, values, batch):
        with np.errstate(over="ignore", invalid="ignore"):
            e = np.exp(values["w"] * batch["x"])
            return float(np.mean(e)), {"w": np.mean(batch["x"] * e)}


def blobs(n, k=3, dim=4, seed=0, sample_seed=None):
    """n samples of k well-separated Gaussian classes in `dim` dimensions, one-hot targets. The
    classes are fixed by `seed`, the samples by `sample_seed` (a held-out set: another one)."""
    centers = np.random.default_rng(seed).normal(scale=4.0, size=(k, dim))
    rng = np.random.default_rng(1000 + seed if sample_seed is None else sample_seed)
    labels = rng.integers(0, k, size=n)
    x = centers[labels] + rng.normal(size=(n, dim))
    return {"x": x, "t": np.eye(k)[labels]}


def init(dim=4, k=3, seed=1):
    rng = np.random.default_rng(seed)
    return {"W": rng.normal(scale=0.1, size=(k, dim)), "b": np.zeros((k, 1))}


# A softmax regression as a model file for `symgrad train` (the CLI tests write it to model.py).
SOFTMAX_MODEL_FILE = '''
import sympy as sp, symgrad as sg
W, b = sp.MatrixSymbol("W", 3, 4), sp.MatrixSymbol("b", 3, 1)
x, t = sp.MatrixSymbol("x", 4, 1), sp.MatrixSymbol("t", 3, 1)
outputs = [W * x + b]
loss = sg.cross_entropy(outputs[0], t)
params, inputs, target = [W, b], [x, t], t
optimizer = sg.optim.Adam(lr=0.05)
'''


def softmax_run_files(tmp_path, n=120):
    """tmp_path with what a `symgrad train` test runs on: model.py (SOFTMAX_MODEL_FILE), data.npz
    (n blobs) and val.npz (n // 2 held-out blobs of the same classes)."""
    (tmp_path / "model.py").write_text(SOFTMAX_MODEL_FILE)
    np.savez(tmp_path / "data.npz", **blobs(n, seed=0))
    np.savez(tmp_path / "val.npz", **blobs(n // 2, sample_seed=7))
    return tmp_path


# The same kind of classifier over tensors with integer labels: x (N, 4), y (N,), 3 classes.
LABELS_MODEL_FILE = '''
import sympy as sp, symgrad as sg
N = sp.Symbol("N", integer=True, positive=True)
x, y = sg.tensor("x", (N, 4)), sg.tensor("y", (N,), integer=True)
W, b = sg.tensor("W", (4, 3)), sg.tensor("b", (3,))
outputs = [x @ W + b]
loss = sg.cross_entropy(x @ W + b, y)
params, inputs, target = [W, b], [x, y], y
'''
