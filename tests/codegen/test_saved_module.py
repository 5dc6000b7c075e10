"""The saved NumPy module as a user meets it: its docstring states the calling convention, step
checks t before it touches anything, forward takes only the inputs the outputs read, and the step
frees each activation once the backward pass has used it."""
import re

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from tests.codegen.saved import load_saved as _saved

torch = pytest.importorskip("torch")


def _program(optimizer=None, widths=(3, 5, 4, 2)):
    net = sg.mlp(list(widths), act=sg.relu)
    t = sp.MatrixSymbol("t", widths[-1], 1)
    prog = sg.compile(sg.cross_entropy(net.output, t), net.params, [net.input, t], dtype="float64",
                      optimizer=optimizer, outputs=[net.output])
    return net, prog


def _data(rng, widths=(3, 5, 4, 2), B=6):
    X = rng.normal(size=(B, widths[0]))
    T = np.eye(widths[-1])[rng.integers(0, widths[-1], B)]
    values = {f"W{k}": rng.normal(size=(widths[k], widths[k - 1])) for k in range(1, len(widths))}
    values.update({f"b{k}": rng.normal(size=(widths[k], 1)) for k in range(1, len(widths))})
    return X, T, values


def test_docstring_states_argument_slot_and_step_order(tmp_path):
    net, prog = _program(sg.optim.Adam(lr=0.01))
    doc = _saved(prog, tmp_path).__doc__
    assert "params = [p0, p1, p2, p3, p4, p5]" in doc
    assert "batch = [x0, x1]" in doc
    # slot-major: every parameter's exp_avg, then every parameter's exp_avg_sq
    assert "slots = [s0_0, s1_0, s2_0, s3_0, s4_0, s5_0, s0_1, s1_1, s2_1, s3_1, s4_1, s5_1]" in doc
    assert "s<i>_0 is the slot 'exp_avg' of p<i>" in doc and "s<i>_1 is the slot 'exp_avg_sq' of p<i>" in doc
    assert "counting from 1" in doc and "t=1" in doc
    assert "forward(params, [x0])" in doc
    # the names p0, x1 ... are tied to the symbols in the comments that follow
    assert "#   p0  'W1'  (5, 3)" in prog.source and "#   x1  't'" in prog.source


def test_saved_step_follows_its_docstring(tmp_path, rng):
    """Calling the saved module as its docstring says (slot-major slots, t = 1, 2, ...) gives
    torch.optim.Adam's trajectory."""
    widths = (3, 5, 4, 2)
    net, prog = _program(sg.optim.Adam(lr=0.01))
    mod = _saved(prog, tmp_path)
    X, T, values = _data(rng)
    names = [p.name for p in net.params]
    params = [values[n].copy() for n in names]
    slots = [np.zeros_like(p) for _ in ("exp_avg", "exp_avg_sq") for p in params]
    tv = [torch.tensor(values[n], requires_grad=True) for n in names]
    opt = torch.optim.Adam(tv, lr=0.01)
    Xt, labels = torch.tensor(X), torch.tensor(T.argmax(1))
    for t in (1, 2, 3):
        mod.step(params, slots, t, [X, T])
        opt.zero_grad()
        h = Xt
        for k in range(len(widths) - 1):
            h = h @ tv[2 * k].T + tv[2 * k + 1][:, 0]
            if k < len(widths) - 2:
                h = torch.relu(h)
        torch.nn.functional.cross_entropy(h, labels).backward()
        opt.step()
    for p, q in zip(params, tv):
        np.testing.assert_allclose(p, q.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("bad_t", [0, -1])
def test_step_checks_t_before_touching_anything(tmp_path, rng, bad_t):
    net, prog = _program(sg.optim.Adam(lr=0.01))
    mod = _saved(prog, tmp_path)
    X, T, values = _data(rng)
    params = [values[p.name].copy() for p in net.params]
    slots = [np.full_like(p, 0.5) for _ in range(2) for p in params]
    before = [a.copy() for a in params + slots]
    with pytest.raises(ValueError, match=r"counting from 1.*Nothing was changed"):
        mod.step(params, slots, bad_t, [X, T])
    for a, b in zip(params + slots, before):
        np.testing.assert_array_equal(a, b)


def test_forward_takes_only_the_inputs_the_outputs_read(tmp_path, rng):
    net, prog = _program()
    mod = _saved(prog, tmp_path)
    X, T, values = _data(rng)
    params = [values[p.name] for p in net.params]
    (out,) = mod.forward(params, [X])                      # the targets t are not read
    (ref,) = prog.forward(values, {"x": X})
    np.testing.assert_allclose(out, ref, rtol=1e-14)
    h = X
    for k in range(1, 4):                                  # the MLP by hand
        h = h @ values[f"W{k}"].T + values[f"b{k}"][:, 0]
        h = np.maximum(h, 0) if k < 3 else h
    np.testing.assert_allclose(out, h, rtol=1e-12)
    with pytest.raises(ValueError):                        # the old [X, None] no longer fits
        mod.forward(params, [X, None])


def _function(source: str, name: str) -> list:
    body = source.split(f"\ndef {name}(")[1].split("\ndef ")[0]
    return [ln.strip() for ln in body.splitlines()[1:] if ln.strip() and not ln.strip().startswith("#")]


def _live_activations(lines: list, until: str) -> set:
    """The temporaries v<id> bound and not yet deleted when the line starting with ``until`` runs."""
    live: set = set()
    for ln in lines:
        if ln.startswith(until):
            return live
        if ln.startswith("del "):
            live -= {n.strip() for n in ln[4:].split(",")}
            continue
        m = re.match(r"(v\d+) = ", ln)
        if m:
            live.add(m.group(1))
    raise AssertionError(f"no line starts with {until!r}")


def test_step_deletes_each_activation_after_its_last_use():
    """Every temporary of the step is deleted after its last use, and when the first layer's
    weight gradient is formed (the end of the backward pass) the activations of the layers above
    are gone: only δ of the first layer (and the loss's per-example values) remain."""
    net, prog = _program(sg.optim.SGD(lr=0.1), widths=(3, 8, 8, 8, 2))
    step = _function(prog.source, "step")
    bound = {m.group(1) for ln in step for m in [re.match(r"(v\d+) = ", ln)] if m}
    deleted = {n.strip() for ln in step if ln.startswith("del ") for n in ln[4:].split(",")}
    assert bound and bound <= deleted, bound - deleted
    for name in bound:              # deleted after the last line that reads it, not before
        uses = [i for i, ln in enumerate(step) if re.search(rf"\b{name}\b", ln) and not ln.startswith("del ")]
        (d,) = [i for i, ln in enumerate(step) if ln.startswith("del ") and re.search(rf"\b{name}\b", ln)]
        assert d > max(uses), (name, step)
    assert len(_live_activations(step, "g0 = ")) <= 2, step
    # each update comes as soon as its gradient is known: p0's last, right after g0
    assert step.index("p0 -= g0") > step.index("p1 -= g1") > step.index("p6 -= g6")


def test_step_memory_falls_below_the_end_of_backward_order(rng):
    """tracemalloc's peak over one step (NumPy reports its buffers) stays well below holding z and
    relu(z) of every hidden layer (8 activations at 4 layers, which the scheduler's order alone
    held: 8.4 activations measured): relu(z) is kept, z only as its sign, and each activation goes
    once the backward pass has used it."""
    import tracemalloc
    widths, B = (16, 256, 256, 256, 256, 4), 256
    net = sg.mlp(list(widths), act=sg.relu)
    t = sp.MatrixSymbol("t", widths[-1], 1)
    prog = sg.compile(sg.cross_entropy(net.output, t), net.params, [net.input, t],
                      optimizer=sg.optim.SGD(lr=0.01), dtype="float32")
    values = {p.name: (rng.normal(size=p.shape) * 0.1).astype(np.float32) for p in net.params}
    batch = {"x": rng.normal(size=(B, widths[0])).astype(np.float32),
             "t": np.eye(widths[-1], dtype=np.float32)[rng.integers(0, 4, B)]}
    state = prog.init_state(values)
    values, state = prog.step(values, state, batch)
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    prog.step(values, state, batch)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    activation = B * 256 * 4
    # relu(z) of the 4 hidden layers, their signs (a quarter each), δ of one layer and a weight
    # gradient: about 6.5 activations
    assert peak < 6.5 * activation, peak / activation
