"""sg.flip takes NumPy's axis= and torch's dims= (np.flip(w, axis=2) is how a student flips a kernel),
and 11-785's ConvTranspose1d (Upsample1d, then Conv1d_stride1) is sg.conv_transpose1d with the kernel
flipped and its channel axes swapped — the two declarations docs/checking.md offers, against torch."""
import numpy as np
import pytest
import torch

import symgrad as sg
from symgrad.errors import ArgumentError


def test_flip_spellings_agree_with_numpy():
    w = sg.tensor("w", (4, 3, 3))
    assert sg.flip(w, axis=2) == sg.flip(w, 2) == sg.flip(w, dims=(2,))
    assert sg.flip(w) == sg.flip(w, (0, 1, 2))          # np.flip(w): every axis
    with pytest.raises(ArgumentError, match="once"):
        sg.flip(w, 2, axis=2)


def test_course_conv_transpose_equals_conv_transpose1d():
    N, C, O, W, K, k = 2, 3, 4, 5, 3, 2
    A, w = sg.tensor("A", (N, C, W)), sg.tensor("w", (O, C, K))
    up = sg.stack([A, 0 * A], axis=3).reshape(N, C, k * W)[:, :, :k * (W - 1) + 1]
    ours = {"course": sg.conv1d(up, w),
            "transposed": sg.conv_transpose1d(A, sg.flip(w, axis=2).transpose(1, 0, 2), stride=k, padding=K - 1)}
    rng = np.random.default_rng(0)
    a, wv, dout = rng.normal(size=(N, C, W)), rng.normal(size=(O, C, K)), rng.normal(size=(N, O, k * (W - 1) - K + 2))
    at, wt = torch.tensor(a, requires_grad=True), torch.tensor(wv, requires_grad=True)
    upt = torch.zeros(N, C, k * (W - 1) + 1, dtype=torch.float64)
    upt[:, :, ::k] = at
    (torch.nn.functional.conv1d(upt, wt) * torch.tensor(dout)).sum().backward()
    D = sg.tensor("D", dout.shape)
    for name, z in ours.items():
        assert z.shape == dout.shape, name
        prog = sg.compile(sg.sum(z * D), params=[A, w], inputs=[D], dtype="float64")
        g = prog.grad({"A": a, "w": wv}, {"D": dout[None]})
        assert np.allclose(g["A"], at.grad.numpy(), atol=1e-12), name
        assert np.allclose(g["w"], wt.grad.numpy(), atol=1e-12), name
