"""A PyTorch program's workflow around an `as_torch()` CNN head, against the same model written in
torch (F.conv2d, the head's values): an nn.Conv2d stem and the head in one nn.Module trained by a
torch optimizer over batches of changing size (a DataLoader's last batch of 1), the stem frozen
half-way (fine-tuning), a state_dict saved with torch.save and loaded into a fresh model, and
torch.func.functional_call with other values. Tiny shapes: the kernels run under the interpreter."""
import io

import numpy as np
import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")
pytest.importorskip("triton")
F = torch.nn.functional
N = sp.Symbol("N", integer=True, positive=True)


@pytest.fixture(scope="module")
def prog():
    x, y = sg.tensor("x", (N, 2, 6, 6)), sg.tensor("y", (N,), integer=True)
    w, b = sg.tensor("w", (3, 2, 3, 3)), sg.tensor("b", (3,))
    V, c = sg.tensor("V", (27, 4)), sg.tensor("c", (4,))
    logits = sg.relu(sg.conv2d(x, w, b, stride=2, padding=1)).reshape(N, -1) @ V + c
    return sg.compile(sg.cross_entropy(logits, y), [w, b, V, c], [x, y], target="triton", outputs=[logits])


class Net(torch.nn.Module):
    def __init__(self, head):
        super().__init__()
        self.stem = torch.nn.Conv2d(1, 2, 3, padding=1)
        self.head = head

    def forward(self, a):
        return self.head(torch.tanh(self.stem(a)))


def _twin_forward(net, a, values=None):
    """The same network in torch, reading ``net``'s values (or ``values``, by state-dict name)."""
    p = values or dict(net.named_parameters())
    h = torch.tanh(F.conv2d(a, p["stem.weight"], p["stem.bias"], padding=1))
    z = F.relu(F.conv2d(h, p["head.w"], p["head.b"], stride=2, padding=1))
    return z.reshape(a.shape[0], -1) @ p["head.V"] + p["head.c"]


def _new(prog, seed):
    torch.manual_seed(seed)
    net = Net(prog.as_torch(generator=torch.Generator().manual_seed(seed)))
    with torch.no_grad():
        net.head.b.uniform_(0.1, 0.3)        # (off relu's kink: relu′(0) is 1 here, 0 in torch)
    return net


def test_a_training_loop_with_a_frozen_stem_and_a_last_batch_of_one_equals_torch(prog):
    ours, twin = _new(prog, 0), _new(prog, 0)
    twin.load_state_dict(ours.state_dict())
    opt_o, opt_t = (torch.optim.Adam(m.parameters(), lr=0.05) for m in (ours, twin))
    gen = torch.Generator().manual_seed(1)
    for k, B in enumerate((5, 3, 1, 4)):
        if k == 2:                                   # fine-tuning: the stem frozen from here on
            for m in (ours, twin):
                m.stem.requires_grad_(False)
        a, y = torch.randn(B, 1, 6, 6, generator=gen), torch.randint(0, 4, (B,), generator=gen)
        for m, opt, fwd in ((ours, opt_o, ours), (twin, opt_t, lambda a: _twin_forward(twin, a))):
            opt.zero_grad()
            F.cross_entropy(fwd(a), y).backward()
            opt.step()
        assert k < 2 or ours.stem.weight.grad is None          # (zero_grad set it to None; nothing since)
        for (n, p), q in zip(ours.named_parameters(), twin.parameters()):
            np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-4, atol=1e-5,
                                       err_msg=f"{n} after step {k + 1} (batch {B})")


def test_a_saved_state_dict_loads_into_a_fresh_model_and_functional_call_takes_other_values(prog):
    net = _new(prog, 2)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.05)
    buf = io.BytesIO()
    torch.save(net.state_dict(), buf)
    buf.seek(0)
    fresh = _new(prog, 3)
    fresh.load_state_dict(torch.load(buf))         # weights_only: plain tensors, strict keys
    a = torch.randn(3, 1, 6, 6, generator=torch.Generator().manual_seed(4))
    assert torch.equal(fresh(a), net(a))
    other = {n: p.detach() * 0.5 for n, p in net.named_parameters()}
    got = torch.func.functional_call(net, other, (a,))
    np.testing.assert_allclose(got.detach().numpy(), _twin_forward(net, a, other).detach().numpy(), rtol=1e-5,
                               atol=1e-6)
