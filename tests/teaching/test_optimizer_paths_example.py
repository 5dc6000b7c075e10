"""examples/teaching/optimizer_paths.py: the optimizers' paths on a 2-D loss surface. Each path's
first steps are checked against the lecture notes' update rules written out by hand here (seed 004,
§4.2.2–4.2.5: momentum as a velocity, Nesterov with its look-ahead gradient, AdaGrad's sum M_t,
RMSProp's decaying M_t, Adam's corrected G and M) with the gradients differentiated by hand; the
picture is checked to be written with every optimizer's colour on it."""
import sys

import numpy as np
import pytest

from test_teaching_examples import load, run

paths_mod = load("optimizer_paths")
STEPS = 6


def _grad_quadratic(p):          # L = ½(w₁² + 10·w₂²)
    return np.array([p[0], 10 * p[1]])


def _grad_rosenbrock(p):         # L = (1 − w₁)² + 10·(w₂ − w₁²)²
    w1, w2 = p
    return np.array([-2 * (1 - w1) - 40 * w1 * (w2 - w1 ** 2), 20 * (w2 - w1 ** 2)])


def _sgd(grad, p, eta):
    out = [p]
    for _ in range(STEPS):
        p = p - eta * grad(p)
        out.append(p)
    return out


def _momentum(grad, p, eta, alpha, nesterov=False):
    """v ← α·v − η·∇J(W) (Nesterov: ∇J at the preview W + α·v), W ← W + v. torch's Nesterov keeps
    the preview point itself, W + α·v, as its parameter: that is what its path shows."""
    v, out = np.zeros(2), [p]
    for _ in range(STEPS):
        v = alpha * v - eta * grad(p + alpha * v if nesterov else p)
        p = p + v
        out.append(p + alpha * v if nesterov else p)
    return out


def _adagrad(grad, p, eta, eps=1e-10):
    m, out = np.zeros(2), [p]
    for _ in range(STEPS):
        g = grad(p)
        m = m + g ** 2
        p = p - eta * g / (np.sqrt(m) + eps)
        out.append(p)
    return out


def _rmsprop(grad, p, eta, beta, eps=1e-8):
    m, out = np.zeros(2), [p]
    for _ in range(STEPS):
        g = grad(p)
        m = (1 - beta) * g ** 2 + beta * m
        p = p - eta * g / (np.sqrt(m) + eps)
        out.append(p)
    return out


def _adam(grad, p, eta, alpha, beta, eps=1e-8):
    # the notes divide by 1 − α^(t−1), 0 on the first step; Kingma & Ba (and torch) use α^t
    G, M, out = np.zeros(2), np.zeros(2), [p]
    for t in range(1, STEPS + 1):
        g = grad(p)
        G = (1 - alpha) * g + alpha * G
        M = (1 - beta) * g ** 2 + beta * M
        p = p - eta * (G / (1 - alpha ** t)) / (np.sqrt(M / (1 - beta ** t)) + eps)
        out.append(p)
    return out


def _by_hand(surface, grad):
    start = np.array(surface.start, dtype=float)
    opts = dict(surface.optimizers)
    return {"SGD": _sgd(grad, start, opts["SGD"].lr),
            "momentum": _momentum(grad, start, opts["momentum"].lr, opts["momentum"].momentum),
            "Nesterov": _momentum(grad, start, opts["Nesterov"].lr, opts["Nesterov"].momentum, nesterov=True),
            "AdaGrad": _adagrad(grad, start, opts["AdaGrad"].lr),
            "RMSProp": _rmsprop(grad, start, opts["RMSProp"].lr, opts["RMSProp"].alpha),
            "Adam": _adam(grad, start, opts["Adam"].lr, *opts["Adam"].betas)}


@pytest.mark.parametrize("surface, grad", [(paths_mod.QUADRATIC, _grad_quadratic),
                                           (paths_mod.ROSENBROCK, _grad_rosenbrock)], ids=["quadratic", "rosenbrock"])
def test_each_path_follows_the_notes_update_rule(surface, grad):
    expected = _by_hand(surface, grad)
    got = paths_mod.paths(surface)
    assert list(got) == ["SGD", "momentum", "Nesterov", "AdaGrad", "RMSProp", "Adam"]
    for label, pts in got.items():
        assert pts.shape == (surface.steps + 1, 2)
        np.testing.assert_allclose(pts[:STEPS + 1], np.array(expected[label]), rtol=1e-10, atol=1e-12,
                                   err_msg=label)


def test_the_paths_reach_the_quadratic_minimum_except_the_slow_ones():
    # a sanity check of the lecture's story on the quadratic: plain SGD zig-zags to the minimum
    ends = {k: np.linalg.norm(v[-1]) for k, v in paths_mod.paths(paths_mod.QUADRATIC).items()}
    start = np.linalg.norm(paths_mod.QUADRATIC.start)
    assert all(e < 0.2 * start for e in ends.values()), ends
    sgd = paths_mod.paths(paths_mod.QUADRATIC)["SGD"]
    assert np.all(np.sign(sgd[1:12, 1]) != np.sign(sgd[:11, 1]))      # w₂ changes sign every step


def test_the_picture_is_written_with_every_path_on_it(tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib.image as mpimg
    written = paths_mod.save(tmp_path / "paths.png")
    assert written.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    img = mpimg.imread(written)[..., :3]
    for label, colour in paths_mod.COLOURS.items():
        rgb = np.array([int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)])
        near = np.all(np.abs(img - rgb) < 0.03, axis=-1).sum()
        assert near > 200, f"{label}'s colour {colour} is (almost) not on the picture: {near} pixels"
    gold = np.all(np.abs(img - np.array([1.0, 0.843, 0.0])) < 0.03, axis=-1).sum()
    assert gold > 50, "the minimum's star is not on the picture"


def test_the_optimizers_example_writes_the_picture(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    text = run("optimizers", capsys, tmp_path)
    assert (tmp_path / "optimizer_paths.png").stat().st_size > 10_000
    assert "optimizer_paths.png" in text


def test_without_matplotlib_the_example_says_how_to_install_it(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)      # import matplotlib raises ImportError
    assert paths_mod.write_picture(tmp_path) is None
    assert "pip install matplotlib" in capsys.readouterr().out
    assert not (tmp_path / "optimizer_paths.png").exists()


def test_the_example_prints_the_rules_it_draws(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    text = run("optimizer_paths", capsys, tmp_path)
    for line in ("v ← μ·v − η·g(p + μ·v)", "s ← s + g²", "v ← α·v + (1 − α)·g²", "p ← p − η·m̂/(√v̂ + ε)"):
        assert line in text, text
    assert (tmp_path / "optimizer_paths.png").exists()


def test_the_legends_give_each_learning_rate_and_rosenbrock_says_why_no_path_is_there(tmp_path):
    # the learning rates decide the paths, and differ per surface: each panel's legend says them
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt
    fig = paths_mod.figure()
    try:
        for ax, surface in zip(fig.axes, paths_mod.SURFACES):
            labels = ax.get_legend().get_texts()
            lr = dict(surface.optimizers)["Adam"].lr
            assert f"Adam (η = {lr:g})" in [t.get_text() for t in labels]
        quad_ax, rosen_ax = fig.axes
        assert "Adam (η = 0.3)" in [t.get_text() for t in quad_ax.get_legend().get_texts()]
        caption = rosen_ax.get_legend().get_title().get_text()
        ends = {k: np.linalg.norm(v[-1] - 1) for k, v in paths_mod.paths(paths_mod.ROSENBROCK).items()}
        assert min(ends.values()) > 0.05                  # the story the caption tells is so
        assert "150 steps no path has reached the minimum" in caption and "expected" in caption
    finally:
        plt.close(fig)
