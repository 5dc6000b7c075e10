"""sg.gradcheck at relu kinks: an entry whose central difference (p ± h) crosses a kink is reported
"at a kink: not compared", never "wrong"; a wrong gradient is still reported wrong, kink or not.

The oracle for "right" is the compiled program (checked elsewhere against sympy.diff and torch), and
the kinks are placed by hand: a pre-activation of one example set to 0 (or within the step of 0) by
moving its bias, so every difference of b1's and W1's entries of that unit crosses it."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg


def _relu_net(dtype="float32"):
    net = sg.mlp([3, 4, 2])                    # x (3, 1) → relu → (2, 1)
    t = sp.MatrixSymbol("t", 2, 1)
    return sg.compile(sg.mse(net.output, t), net.params, [net.input, t], dtype=dtype)


def _at_kink(offset=0.0, seed=0):
    """Values and a batch where unit 1's pre-activation of example 0 is ``offset`` (0: on the kink)."""
    rng = np.random.default_rng(seed)
    v = {"W1": rng.normal(size=(4, 3)), "b1": rng.normal(size=(4, 1)),
         "W2": rng.normal(size=(2, 4)), "b2": rng.normal(size=(2, 1))}
    batch = {"x": rng.normal(size=(5, 3)), "t": rng.normal(size=(5, 2))}
    z = v["W1"] @ batch["x"][0] + v["b1"][:, 0]
    v["b1"][1, 0] += offset - z[1]
    return v, batch


@pytest.mark.parametrize("offset", [0.0, 3e-7, -3e-7])
def test_an_entry_at_a_relu_kink_is_not_reported_wrong(offset):
    """Before: 'gradient WRONG for W1, b1' (b1[1, 0]: program −0.605, central difference −0.483)."""
    prog = _relu_net()
    v, batch = _at_kink(offset)
    r = sg.gradcheck(prog, v, batch)
    assert r, str(r)
    assert all(p.band != "wrong" for p in r.params.values()), str(r)


def test_the_entry_on_the_kink_is_named_and_said_not_compared():
    prog = _relu_net()
    v, batch = _at_kink(0.0)
    r = sg.gradcheck(prog, v, batch)
    b1 = r.params["b1"]
    assert (1, 0) in [k.index for k in b1.kinks], str(r)
    kink = next(k for k in b1.kinks if k.index == (1, 0))
    # the program's value is one of the two one-sided slopes (relu'(0) = 1: the right-hand one)
    assert min(kink.left, kink.right) - 1e-6 <= kink.analytic <= max(kink.left, kink.right) + 1e-6
    assert abs(kink.left - kink.right) > 1e-3
    text = str(r)
    assert "b1[1, 0]" in text and "at a kink: not compared" in text, text
    # the other entries of b1 were compared as usual
    assert b1.index is not None and b1.index != (1, 0)


class _grad_edited:
    """``prog`` with its gradient changed by ``edit`` (in place, on copies): a wrong program to find."""

    def __init__(self, prog, edit):
        self.prog, self.edit = prog, edit

    def loss(self, values, b):
        return self.prog.loss(values, b)

    def grad(self, values, b):
        g = {k: np.array(a) for k, a in self.prog.grad(values, b).items()}
        self.edit(g)
        return g


def test_a_wrong_gradient_is_still_wrong_next_to_a_kink():
    """The same network and kink, with b1's gradient doubled: b1 is wrong (its other entries show it)."""
    prog = _relu_net("float64")
    v, batch = _at_kink(0.0)

    def doubled(g):
        g["b1"] = 2 * g["b1"]
    r = sg.gradcheck(_grad_edited(prog, doubled), v, batch)
    assert not r and r.params["b1"].band == "wrong", str(r)
    assert "b1" in str(r).splitlines()[0]
    assert r.params["W1"].band != "wrong"


def test_a_wrong_value_at_the_kink_itself_is_wrong():
    """At the kink the program's value must be a one-sided slope (or between them): a value outside
    both is a wrong gradient, not a kink."""
    prog = _relu_net("float64")
    v, batch = _at_kink(0.0)

    def off_at_the_kink(g):
        g["b1"][1, 0] += 5.0
    r = sg.gradcheck(_grad_edited(prog, off_at_the_kink), v, batch)
    assert not r and r.params["b1"].band == "wrong" and r.params["b1"].index == (1, 0), str(r)
    assert not r.params["b1"].kinks


class Float32Relu:
    """A float32 program with no float64 twin (as the Triton target): L = mean over the batch of
    relu(x·w)², w a (3,) vector; its gradient is written by hand."""
    dtype = np.dtype(np.float32)

    def __init__(self, scale=1.0):
        self.scale = scale

    def loss(self, v, b):
        z = b["x"].astype(np.float32) @ np.asarray(v["w"], np.float32)
        return float(np.mean(np.maximum(z, 0) ** 2 + np.maximum(z, 0), dtype=np.float32))

    def grad(self, v, b):
        x = b["x"].astype(np.float32)
        z = x @ np.asarray(v["w"], np.float32)
        dz = (2 * np.maximum(z, 0) + (z >= 0)) / len(z)
        return {"w": self.scale * (x.T @ dz).astype(np.float32)}


def test_a_float32_program_without_a_twin_at_a_kink():
    """Differenced in float32 the step is large (~1e-3), so kinks are crossed more often."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(6, 3))
    w = rng.normal(size=3)
    w[0] -= (x[0] @ w) / x[0, 0]              # example 0 exactly on the kink
    r = sg.gradcheck(Float32Relu(), {"w": w}, {"x": x})
    assert r.params["w"].band != "wrong", str(r)
    assert r.params["w"].kinks, str(r)
    wrong = sg.gradcheck(Float32Relu(scale=1.5), {"w": w}, {"x": x})
    assert not wrong and wrong.params["w"].band == "wrong", str(wrong)


def test_every_entry_at_a_kink_is_said_so():
    """A scalar parameter on a kink: nothing compared; the result says so and is not 'fine'."""
    class Relu:
        def loss(self, v, b):
            return float(np.mean(np.maximum(v["w"] * b["x"], 0)))

        def grad(self, v, b):
            return {"w": np.mean((v["w"] * b["x"] >= 0) * b["x"])}     # relu'(0) = 1

    r = sg.gradcheck(Relu(), {"w": np.array(0.0)}, {"x": np.array([1.0, 2.0])})
    w = r.params["w"]
    assert [k.index for k in w.kinks] == [None] and w.band.startswith("not compared"), str(r)
    assert "every entry checked is at a kink" in str(r)


def test_taylor_order_is_not_one_for_a_right_relu_network():
    """The Taylor test took its steps at 1e-2: along a random direction some relu of the batch
    switches, and the order read 1 ('2 when the gradient is right') for a right gradient. It now
    takes the smallest steps whose remainders stand above round-off."""
    net = sg.mlp([8, 32, 3])
    t = sp.MatrixSymbol("t", 3, 1)
    prog = sg.compile(sg.cross_entropy(net.output, t), net.params, [net.input, t], dtype="float64")
    rng = np.random.default_rng(3)
    v = {p.name: rng.normal(0, 1.0, p.shape) for p in net.params}
    batch = {"x": rng.normal(size=(512, 8)), "t": np.eye(3)[rng.integers(0, 3, 512)]}
    r = sg.gradcheck(prog, v, batch, max_entries=10)       # before: W1's order read -3.6
    assert r, str(r)
    for p in r.params.values():
        assert p.taylor_order == pytest.approx(2.0, abs=0.3), str(r)


def test_a_float32_network_without_a_twin_at_a_kink():
    """The Triton target under TRITON_INTERPRET=1 has no float64 twin: its losses are differenced in
    float32, at steps of 1e-2. First-order one-sided slopes then differ by curvature (h·L'') as much
    as the program's value does, and b1[1, 0] on the kink read 'wrong' (program −0.605, central
    difference −0.463). Stood in here by the NumPy float32 program without its twin."""
    prog = _relu_net("float32")

    class NoTwin:                      # as the Triton Program: float32, no in_float64
        dtype = np.dtype(np.float32)

        def loss(self, values, b):
            return prog.loss(values, b)

        def grad(self, values, b):
            return prog.grad(values, b)

    v, batch = _at_kink(0.0)
    r = sg.gradcheck(NoTwin(), v, batch)
    b1 = r.params["b1"]
    assert (1, 0) in [k.index for k in b1.kinks], str(r)
    assert b1.band != "wrong" and r.params["W1"].band != "wrong", str(r)


class _NoTwin:
    """The float32 NumPy program without its float64 twin (as the Triton Program), its gradient
    optionally scaled: ``scale`` ≠ 1 is a wrong gradient."""
    dtype = np.dtype(np.float32)

    def __init__(self, scale=1.0):
        self.prog, self.scale = _relu_net("float32"), scale

    def loss(self, values, b):
        return self.prog.loss(values, b)

    def grad(self, values, b):
        return {k: self.scale * np.asarray(g, float) for k, g in self.prog.grad(values, b).items()}


def test_float32_differences_within_their_round_off_are_not_a_wrong_gradient():
    """Away from kinks, a float32 loss's central difference at h = 1e-2 is good to about ε·|L|/h
    ≈ 1e-5 absolute: an entry of 0.0225 read 0.02253 (relative 1.3e-4, 'uncomfortable: probably
    wrong'), and a right Triton program failed. Such entries are now said to be within round-off."""
    v, batch = _at_kink(0.5, seed=1)
    r = sg.gradcheck(_NoTwin(), v, batch)
    assert r, str(r)
    for scale in (1.01, 0.5):                     # 1 % off is above float32's round-off here
        wrong = sg.gradcheck(_NoTwin(scale), v, batch)
        assert not wrong, str(wrong)


class _WritesIntoItsArguments:
    """A right gradient of L(w) = mean((w·x)²) whose .grad and .loss scribble on what they are handed,
    as a hand-written program updating v['w'] or normalising b['x'] in place would."""

    def loss(self, v, b):
        out = float(np.mean((v["w"] * b["x"]) ** 2))
        v["w"] += 1.0
        b["x"] *= 3.0
        return out

    def grad(self, v, b):
        g = v["w"] * np.mean(b["x"] ** 2, axis=0)
        v["w"] -= 0.5 * g            # an SGD step taken in place
        b["x"] += 1.0
        return {"w": g}


def test_gradcheck_hands_the_program_copies():
    values, batch = {"w": np.array([0.7, -1.2])}, {"x": np.array([[1.0, -2.0], [0.5, 3.0]])}
    kept = {k: v.copy() for k, v in {**values, **batch}.items()}
    r = sg.gradcheck(_WritesIntoItsArguments(), values, batch)
    assert r, str(r)
    for k, v in {**values, **batch}.items():
        assert np.array_equal(v, kept[k]), f"gradcheck let the program change the caller's {k!r}"
