"""Every hand derivation of the corpus (tests/check_corpus.py) is classified as its author expected,
and the wrong ones get the hint named there."""
from collections import Counter

import pytest

import symgrad as sg
from check_corpus import ENTRIES
from symgrad.checking.hint_kind import Hint

VERDICT = {"right": "equal", "wrong": "not equal",
           "kink": "equal except at points where f is not differentiable"}


def assert_kind_given(r):
    """A hint's kind is given by the recogniser that made it (a `Hint`), never read back out of its
    text: every hint of the corpus has one, and to_dict() reports that one."""
    if r.hint is not None:
        assert isinstance(r.hint, Hint) and r.hint.kind, repr(r.hint)
        assert r.to_dict()["hint"] == {"kind": r.hint.kind, "text": str(r.hint)}


def test_corpus_size():
    n = Counter(e.expected for e in ENTRIES)
    assert n["right"] >= 30 and n["wrong"] >= 30
    assert len({e.name for e in ENTRIES}) == len(ENTRIES)


@pytest.mark.parametrize("e", ENTRIES, ids=[e.name for e in ENTRIES])
def test_entry(e):
    r = sg.check(e.f, e.wrt, e.claimed, at=e.at)
    assert r.verdict == VERDICT[e.expected], str(r)
    assert bool(r) == (e.expected != "wrong")
    if e.expected == "wrong":
        assert r.counterexample is not None
        if e.hint is not None:
            assert r.hint is not None and r.hint.startswith(e.hint), str(r)
        assert_kind_given(r)
    else:
        assert r.counterexample is None


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_equal_forms_are_never_called_wrong(seed):
    """The issue's examples of right answers in another form, at other random points."""
    forms = [e for e in ENTRIES if e.name in ("sigmoid: s(1-s)", "sigmoid: exp form",
                                                "|Ax-b|^2: 2A'(Ax-b)", "|Ax-b|^2: 2(A'Ax - A'b)")]
    assert len(forms) == 4
    for e in forms:
        assert sg.check(e.f, e.wrt, e.claimed, seed=seed).verdict == "equal"


# ---------------------------------------------------------------------------------------------------
# The hand-written backwards (cs231n's assignment 3): each right one is torch's, each wrong one is "not
# equal", with the slip named where the corpus names one.

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from check_corpus import _DH, _HEADS, _PAIRS, _TAU, BACKWARD_ENTRIES, CTC_TARGET  # noqa: E402


def _rnn(x, h0, Wx, Wh, b):
    h, hs = h0, []
    for t in range(x.shape[1]):
        h = torch.tanh(x[:, t] @ Wx + h @ Wh + b)
        hs.append(h)
    return torch.stack(hs, 1)


def _simclr(z):
    n2 = z.shape[0]
    logits = (z @ z.T / _TAU).masked_fill(torch.eye(n2, dtype=torch.bool), -1e9)
    return F.cross_entropy(logits, (torch.arange(n2) + _PAIRS) % n2)


def _cos(out_left, out_right):
    l, r = out_left, out_right
    return (l * r).sum(1, keepdim=True) / (l.norm(dim=1, keepdim=True) * r.norm(dim=1, keepdim=True))


def _attention(query, key, value, Wq, bq, Wk, bk, Wv, bv, Wp, bp, attn_mask):
    n, s, e = query.shape
    split = lambda x: x.reshape(n, s, _HEADS, _DH).transpose(1, 2)  # noqa: E731
    Q, K, V = split(F.linear(query, Wq, bq)), split(F.linear(key, Wk, bk)), split(F.linear(value, Wv, bv))
    scores = (Q @ K.transpose(2, 3) / _DH ** 0.5).masked_fill(attn_mask == 0, float("-inf"))
    return F.linear((torch.softmax(scores, -1) @ V).transpose(1, 2).reshape(n, s, e), Wp, bp)


def _upsample1d(A, k=2):
    Z = torch.zeros(A.shape[:2] + (k * (A.shape[2] - 1) + 1,), dtype=A.dtype)
    Z[:, :, ::k] = A
    return Z


def _gru_cell(x, h, Wrx, Wzx, Wnx, Wrh, Wzh, Wnh, brx, bzx, bnx, brh, bzh, bnh):
    """torch's own GRUCell, its weights the (r, z, n) rows stacked."""
    cell = torch.nn.GRUCell(x.shape[0], h.shape[0], dtype=torch.float64)
    params = {"weight_ih": torch.cat([Wrx, Wzx, Wnx]), "weight_hh": torch.cat([Wrh, Wzh, Wnh]),
              "bias_ih": torch.cat([brx, bzx, bnx]), "bias_hh": torch.cat([brh, bzh, bnh])}
    return torch.func.functional_call(cell, params, (x[None], h[None]))[0]


def _ctc(logits):
    """−log P(target | y) by torch's own ctc_loss (its value), with the gradient of the same recursion in
    log space, log-sum-exp over the allowed predecessors, differentiated by torch.autograd (torch's
    ctc_loss backward takes its input for log_softmax's output, and returns the logits' gradient)."""
    lp = torch.log(logits)
    ext = [0]
    for s in CTC_TARGET:
        ext += [s, 0]
    S, neg = len(ext), torch.tensor(-1e30, dtype=lp.dtype)     # log 0, with a gradient of 0 (not nan)
    a = [lp[0, ext[0]], lp[0, ext[1]]] + [neg] * (S - 2)
    for t in range(1, lp.shape[0]):
        a = [torch.logsumexp(torch.stack([a[r]] + ([a[r - 1]] if r else [])
                                         + ([a[r - 2]] if r >= 2 and ext[r] != 0 and ext[r] != ext[r - 2] else [])), 0)
             + lp[t, ext[r]] for r in range(S)]
    loss = -torch.logaddexp(a[-1], a[-2])
    ref = F.ctc_loss(lp.detach()[:, None, :], torch.tensor([CTC_TARGET]), torch.tensor([lp.shape[0]]),
                     torch.tensor([len(CTC_TARGET)]), reduction="sum")
    torch.testing.assert_close(loss.detach(), ref, rtol=1e-10, atol=1e-12)
    return loss


ones, zeros = torch.ones, torch.zeros
BACKWARD_ORACLES = {    # the forward in torch, of the values by name (a loss, or out times dout)
    "rnn_step_backward": lambda x, prev_h, Wx, Wh, b: torch.tanh(x @ Wx + prev_h @ Wh + b),
    "rnn_backward": _rnn,
    "word_embedding_backward": lambda x, W: W[x],
    "temporal_affine_backward": lambda x, w, b: x @ w + b,
    "temporal_softmax_loss": lambda x, y, mask: (F.cross_entropy(x.reshape(-1, x.shape[2]), y.reshape(-1), reduction="none")
                                                 * mask.reshape(-1)).sum() / x.shape[0],
    "discriminator_loss": lambda logits_real, logits_fake: (
        F.binary_cross_entropy_with_logits(logits_real, ones(logits_real.shape, dtype=torch.float64))
        + F.binary_cross_entropy_with_logits(logits_fake, zeros(logits_fake.shape, dtype=torch.float64))),
    "generator_loss": lambda logits_fake: F.binary_cross_entropy_with_logits(
        logits_fake, ones(logits_fake.shape, dtype=torch.float64)),
    "ls_discriminator_loss": lambda logits_real, logits_fake: (0.5 * ((logits_real - 1) ** 2).mean()
                                                               + 0.5 * (logits_fake ** 2).mean()),
    "ls_generator_loss": lambda logits_fake: 0.5 * ((logits_fake - 1) ** 2).mean(),
    "sim_positive_pairs": _cos,
    "simclr_loss_vectorized": _simclr,
    "MultiHeadAttention backward": _attention,
    "Downsample1d backward": lambda A: A[:, :, ::2],
    "Upsample1d backward": _upsample1d,
    "GRUCell backward": _gru_cell,
    "CTCLoss backward": _ctc,
    "BatchNorm1d backward, eval": lambda Z, BW, Bb, running_M, running_V: F.batch_norm(
        Z, running_M[0].detach(), running_V[0].detach(), BW[0], Bb[0], training=False, eps=1e-8),
}


def _entry_values(e, rng, n=4):
    """Values for every tensor of e.out at N = n, labels in range, the mask the corpus fixes."""
    from symgrad.frontend import tensor as T
    vals = {}
    for t in sorted(sg.as_tensor(e.out).atoms(T.Tensor), key=lambda t: t.name):
        shape = tuple(int(sg.as_tensor(t).shape[i].subs({s: n for s in d.free_symbols})) if hasattr(d, "free_symbols")
                      else int(d) for i, d in enumerate(t.shape))
        if e.at and t.name in e.at:
            vals[t.name] = np.asarray(e.at[t.name])[:n] if t.name == "mask" else np.asarray(e.at[t.name])
        elif t.is_integer_tensor:
            vals[t.name] = rng.integers(0, 7, size=shape)
        elif e.options and t.name in e.options.get("assumptions", {}):
            vals[t.name] = rng.uniform(*e.options["assumptions"][t.name], size=shape)
        else:
            vals[t.name] = rng.normal(size=shape)
    return vals


@pytest.mark.parametrize("name", sorted(BACKWARD_ORACLES))
def test_each_right_backward_is_torchs(name):
    e = next(e for e in BACKWARD_ENTRIES if e.name == name)
    rng = np.random.default_rng(3)
    vals = _entry_values(e, rng)
    ts = {k: torch.tensor(v) if v.dtype.kind == "i" else torch.tensor(v, requires_grad=True) for k, v in vals.items()}
    out = BACKWARD_ORACLES[name](**ts)
    dout = np.float64(1.0) if out.dim() == 0 else rng.normal(size=tuple(out.shape))
    (out * torch.tensor(dout)).sum().backward()
    wrts = e.wrt if isinstance(e.wrt, (list, tuple)) else [e.wrt]
    got = e.backward(dout, **vals)
    got = list(got) if isinstance(got, (list, tuple)) else [got]
    assert len(got) == len(wrts)
    for g, w in zip(got, wrts):
        np.testing.assert_allclose(g, ts[w.name].grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=w.name)


def test_backward_corpus_size():
    n = Counter(e.expected for e in BACKWARD_ENTRIES)
    assert n["right"] == len(BACKWARD_ORACLES) and n["wrong"] >= 20
    assert len({e.name for e in BACKWARD_ENTRIES}) == len(BACKWARD_ENTRIES)


@pytest.mark.parametrize("e", BACKWARD_ENTRIES, ids=[e.name for e in BACKWARD_ENTRIES])
def test_backward_entry(e):
    r = sg.check_backward(e.out, e.wrt, e.backward, at=e.at, **(e.options or {}))
    assert r.verdict == VERDICT[e.expected], str(r)
    if e.expected == "wrong":
        assert r.counterexample is not None
        if e.hint is not None:
            assert r.hint is not None and r.hint.startswith(e.hint), str(r)
        assert_kind_given(r)
