"""`as_torch()` on the tokens of a sequence: a head declared per example (or over a batch (N, D)),
called with (B, T, D), as ``nn.Linear`` is, returns (B, T, ...), and its loss with labels (B, T) is
the mean over the B·T tokens (``F.cross_entropy`` of the flattened logits). Until 2026-12-01
(eleventh session) it was a ShapeError, "the input 'x' has shape (2, 5, 8); it is declared (N, 8)".
Checked against torch.autograd (outputs, loss, the gradients of the parameters and of the tokens) on
both targets (Triton under TRITON_INTERPRET=1)."""
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import ShapeError

torch = pytest.importorskip("torch")

N = sp.Symbol("N", integer=True, positive=True)
D, H, C = 8, 6, 3


def _head(target, over_batch):
    if over_batch:
        x, y = sg.tensor("x", (N, D)), sg.tensor("y", (N,), integer=True)
    else:
        x, y = sg.tensor("x", (D,)), sg.tensor("y", (), integer=True)
    W1, b1, W2, b2 = sg.tensor("W1", (D, H)), sg.tensor("b1", (H,)), sg.tensor("W2", (H, C)), sg.tensor("b2", (C,))
    logits = sg.tanh(x @ W1 + b1) @ W2 + b2
    prog = sg.compile(sg.cross_entropy(logits, y), [W1, b1, W2, b2], [x, y], target=target, outputs=[logits])
    head = prog.as_torch()
    with torch.no_grad():
        for p in head.parameters():
            p.copy_(0.5 * torch.randn(p.shape, generator=torch.Generator().manual_seed(p.numel())))
    return head


def _torch(head, h):
    return torch.tanh(h @ head.W1 + head.b1) @ head.W2 + head.b2


@pytest.mark.parametrize("target, over_batch", [("triton", True), ("triton", False), ("numpy", True), ("numpy", False)])
def test_tokens_are_the_examples_of_a_head(target, over_batch):
    head = _head(target, over_batch)
    gen = torch.Generator().manual_seed(0)
    h = torch.randn(2, 5, D, generator=gen, requires_grad=True)
    labels = torch.randint(0, C, (2, 5), generator=gen)

    out = head(h)
    assert out.shape == (2, 5, C)
    want = _torch(head, h)
    torch.testing.assert_close(out, want, rtol=1e-5, atol=1e-6)
    cot = torch.randn(2, 5, C, generator=gen)
    got = torch.autograd.grad((out * cot).sum(), [h, head.W1, head.b2])
    ref = torch.autograd.grad((want * cot).sum(), [h, head.W1, head.b2])
    for g, r in zip(got, ref):
        torch.testing.assert_close(g, r, rtol=1e-5, atol=1e-6)

    loss = head.loss(h, labels)
    want = torch.nn.functional.cross_entropy(_torch(head, h).reshape(-1, C), labels.reshape(-1))
    torch.testing.assert_close(loss, want, rtol=1e-5, atol=1e-6)
    got = torch.autograd.grad(loss, [h, head.W1, head.b1])
    ref = torch.autograd.grad(want, [h, head.W1, head.b1])
    for g, r in zip(got, ref):
        torch.testing.assert_close(g, r, rtol=1e-5, atol=1e-6)
    with torch.no_grad():
        assert head(h).shape == (2, 5, C)


def test_leading_axes_that_differ_are_named():
    head = _head("numpy", True)
    with pytest.raises(ShapeError, match=r"leading axes differ: 'x' \(2, 5\), 'y' \(2, 4\)"):
        head.loss(torch.randn(2, 5, D), torch.randint(0, C, (2, 4)))
    with pytest.raises(ShapeError, match=r"leading axes differ: 'x' \(10,\), 'y' \(2, 5\)"):
        head.loss(torch.randn(10, D), torch.randint(0, C, (2, 5)))
    with pytest.raises(ShapeError, match=r"the input 'x' has shape \(2, 5, 7\)"):     # no example's shape: as before
        head(torch.randn(2, 5, 7))
