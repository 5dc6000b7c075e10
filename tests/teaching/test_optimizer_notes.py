"""`opt.view(form="notes")` for the adaptive optimizers: the text reads as the lecture writes the
rule (quoted below, not taken from symgrad's output), and the printed lines are the same function as
torch.optim's step — evaluated with sympy.lambdify at random states against one torch step, and
iterated from zero along torch's trajectory."""
import subprocess

import numpy as np
import pytest
import sympy as sp

from symgrad.compiling import optim as O
from symgrad.teaching.render import latex_document
from teachtools import need

torch = pytest.importorskip("torch")

# The lecture's Adam (the brief's slide; the seed notes write G, M, α, β for m, v, β₁, β₂ and the
# same bias corrections, Definition 4.10):
#   m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²,  m̂ = m/(1−β₁ᵗ),  v̂ = v/(1−β₂ᵗ),  p ← p − η·m̂/(√v̂ + ε)
NOTES_ADAM = ["m ← β₁·m + (1 − β₁)·g", "v ← β₂·v + (1 − β₂)·g²", "m̂ = m/(1 − β₁ᵗ)", "v̂ = v/(1 − β₂ᵗ)",
              "p ← p − η·m̂/(√v̂ + ε)"]
# The seed notes, Definitions 4.8 and 4.9: w ← w − ηg/(√M + ε), M := Σ g² (AdaGrad) and
# M := (1 − β)g² + βM (RMSProp; torch's α is the notes' β). Slots written s and v as in the default view.
NOTES_ADAGRAD = ["s ← s + g²", "p ← p − η·g/(√s + ε)"]
NOTES_RMSPROP = ["v ← α·v + (1 − α)·g²", "p ← p − η·g/(√v + ε)"]


def _lines(view):
    return [line.strip() for line in view.render("unicode").splitlines()[1:]]


def test_adam_reads_as_the_notes_write_it():
    assert _lines(O.Adam().view(form="notes")) == NOTES_ADAM
    assert _lines(O.Adagrad().view(form="notes")) == NOTES_ADAGRAD
    assert _lines(O.RMSprop().view(form="notes")) == NOTES_RMSPROP
    tex = O.Adam().view(form="notes").latex()
    assert r"\hat{m} &= \frac{m}{1 - \beta_{1}^{t}}" in tex
    assert r"\frac{\eta \hat{m}}{\sqrt{\hat{v}} + \epsilon}" in tex
    # the torch form stays the default: the lecture asks for the notes' form by name
    assert "m̂" not in O.Adam().view().render("unicode")


def test_centred_rmsprop_computes_before_it_uses():
    lines = _lines(O.RMSprop(centered=True, momentum=0.5).view(form="notes"))
    assert lines == ["v ← α·v + (1 − α)·g²", "g̅ ← α·g̅ + (1 − α)·g", "b ← μ·b + g/(√(v − g̅²) + ε)", "p ← p − η·b"]


CASES = [
    ("adam", O.Adam(lr=0.1, betas=(0.8, 0.9)), torch.optim.Adam, dict(lr=0.1, betas=(0.8, 0.9))),
    ("adam_eps", O.Adam(lr=0.1, eps=0.3), torch.optim.Adam, dict(lr=0.1, eps=0.3)),
    ("adam_wd", O.Adam(lr=0.1, weight_decay=0.2), torch.optim.Adam, dict(lr=0.1, weight_decay=0.2)),
    ("amsgrad", O.Adam(lr=0.1, amsgrad=True), torch.optim.Adam, dict(lr=0.1, amsgrad=True)),
    ("adamw", O.AdamW(lr=0.1, weight_decay=0.3), torch.optim.AdamW, dict(lr=0.1, weight_decay=0.3)),
    ("adagrad", O.Adagrad(lr=0.1, lr_decay=0.2, eps=0.1), torch.optim.Adagrad, dict(lr=0.1, lr_decay=0.2, eps=0.1)),
    ("rmsprop", O.RMSprop(lr=0.01, alpha=0.9, eps=0.1), torch.optim.RMSprop, dict(lr=0.01, alpha=0.9, eps=0.1)),
    ("rmsprop_cm", O.RMSprop(lr=0.01, alpha=0.9, centered=True, momentum=0.5), torch.optim.RMSprop,
     dict(lr=0.01, alpha=0.9, centered=True, momentum=0.5)),
]
# the view's state symbol (by name) -> torch's state key
TORCH_SLOT = {"m": "exp_avg", "v_max": "max_exp_avg_sq", "s": "sum", "gbar": "grad_avg", "b": "momentum_buffer"}


def _numbers(opt):
    """Greek symbol -> the optimizer's number, the inverse of the view's lettering."""
    out = {}
    for name, letter in O.GREEK.items():
        if getattr(opt, name, 0) and not isinstance(getattr(opt, name), bool):
            out[sp.Symbol(letter, positive=True)] = getattr(opt, name)
    if hasattr(opt, "betas"):
        out[sp.Symbol("beta_1")], out[sp.Symbol("beta_2")] = opt.betas
    return out


def _step(view, numbers, env):
    """One step of the printed lines, in order (← and = both assign), each line a lambdified function."""
    env = dict(env)
    for lhs, rhs, rel, *_ in view.lines:
        rhs = rhs.xreplace(numbers)
        free = sorted(rhs.free_symbols, key=str)
        env[lhs.name] = sp.lambdify(free, rhs, "numpy")(*[env[s.name] for s in free])
    return env


@pytest.mark.parametrize("name,opt,cls,kw", CASES, ids=[c[0] for c in CASES])
def test_one_printed_step_is_torchs_step_at_random_states(name, opt, cls, kw):
    view = opt.view(form="notes")
    rng = np.random.default_rng(7)
    slots = {lhs.name for lhs, _, rel, *_ in view.lines if rel == "←"} - {"p", "g"}
    for trial in range(5):
        t = int(rng.integers(1, 20))
        p0, g0 = rng.normal(size=3), rng.normal(size=3)
        state = {k: rng.normal(size=3) for k in slots}
        for k in ("v", "s"):                               # sums/averages of squares are >= 0
            if k in state:
                state[k] = np.abs(state[k])
        if "v_max" in state:
            state["v_max"] = np.abs(rng.normal(size=3))
        if "gbar" in state:                                # v − ḡ² > 0, as a real average gives
            state["gbar"] = 0.5 * np.sqrt(state["v"]) * np.sign(state["gbar"])
        got = _step(view, _numbers(opt), {"p": p0, "g": g0, "t": t, **state})

        w = torch.tensor(p0, requires_grad=True)
        o = cls([w], **kw)
        w.grad = torch.tensor(g0)
        st = {"step": torch.tensor(float(t - 1))}
        names = {**TORCH_SLOT, "v": "square_avg" if cls is torch.optim.RMSprop else "exp_avg_sq"}
        st.update({names[k]: torch.tensor(v) for k, v in state.items()})
        o.state[w] = st
        o.step()
        np.testing.assert_allclose(got["p"], w.detach().numpy(), rtol=1e-12, atol=1e-14, err_msg=f"t={t}")


@pytest.mark.parametrize("name,opt,cls,kw", CASES, ids=[c[0] for c in CASES])
def test_the_printed_lines_follow_torchs_trajectory(name, opt, cls, kw):
    A, B = np.array([[3.0, 1.0], [1.0, 2.0]]), np.array([1.0, -1.0])
    view = opt.view(form="notes")
    env = {lhs.name: np.zeros(2) for lhs, _, rel, *_ in view.lines}
    env["p"] = np.array([0.5, -1.5])
    if isinstance(opt, O.Adagrad):
        env["s"] = np.full(2, opt.initial_accumulator_value)
    w = torch.tensor(env["p"], requires_grad=True)
    o = cls([w], **kw)
    for t in range(1, 5):
        env = _step(view, _numbers(opt), {**env, "g": A @ env["p"] - B, "t": t})
        o.zero_grad()
        (0.5 * w @ torch.tensor(A) @ w - torch.tensor(B) @ w).backward()
        o.step()
    np.testing.assert_allclose(env["p"], w.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_the_notes_pages_compile(tmp_path):
    views = [opt.view(form="notes") for _, opt, _, _ in CASES]
    body = "\n\n".join(v.latex() + "\n\n" + v._repr_latex_() for v in views)
    (tmp_path / "n.tex").write_text(latex_document(body))
    r = subprocess.run([need("pdflatex"), "-interaction=nonstopmode", "-halt-on-error", "n.tex"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout[-1500:]
