"""torch.autograd's gradients of a norm layer, the reference the norm-backward tests compare with."""
from __future__ import annotations


def torch_norm_grads(x, gamma, beta, dout, axis, eps=1e-5):
    """(dx, dgamma, dbeta) of sum(dout * (gamma * (x - mean) / sqrt(var + eps) + beta)), its statistics
    over ``axis`` (kept), in float64 by torch.autograd."""
    import torch
    ts = [torch.tensor(a, requires_grad=True) for a in (x, gamma, beta)]
    mu, var = ts[0].mean(axis, keepdim=True), ts[0].var(axis, keepdim=True, unbiased=False)
    (((ts[0] - mu) / torch.sqrt(var + eps) * ts[1] + ts[2]) * torch.tensor(dout)).sum().backward()
    return [t.grad.numpy() for t in ts]
