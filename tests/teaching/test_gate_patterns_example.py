"""examples/teaching/gate_patterns.py: the add gate distributes the gradient, the max gate routes it,
the mul gate switches it (cs231n's f = 2·(x·y + max(z, w)) at x = 3, y = −4, z = 2, w = −1: f = −20,
∇f = (−8, 6, 2, 0), written by hand from the slide), in the text and on the picture's edges, and
equal to torch.autograd's."""
import pytest

from test_teaching_examples import grad_line, lines_in, load, picture, run

torch = pytest.importorskip("torch")


def test_the_patterns_read_as_the_slide(capsys, tmp_path):
    out = run("gate_patterns", capsys, tmp_path)
    lines_in(out, ["f = 2·(x·y + max(w, z))", "u₃ = u₁ + u₂ = −10", "f = 2·u₃ = −20",
                   "+ is a gradient distributor", "max is a gradient router", "× is a gradient switcher",
                   "∂f/∂x = y·2 = −8, ∂f/∂y = x·2 = 6", "z = 2, the larger, receives all of it (2); w = −1 receives 0"])
    assert [grad_line(out, v) for v in ("∂f/∂x", "∂f/∂y", "∂f/∂z", "∂f/∂w")] == ["−8", "6", "2", "0"]


def test_the_picture_carries_the_patterns():
    pic = picture(load("gate_patterns"))
    assert pic["x"] == ("3", "−8") and pic["y"] == ("−4", "6")          # switched
    assert pic["z"] == ("2", "2") and pic["w"] == ("−1", "0")            # routed
    assert pic["u₁"] == ("−12", "2") and pic["u₂"] == ("2", "2")         # distributed


def test_torch_agrees():
    mod = load("gate_patterns")
    v = {k: torch.tensor(float(val), dtype=torch.float64, requires_grad=True) for k, val in
         {"x": 3, "y": -4, "z": 2, "w": -1}.items()}
    f = 2 * (v["x"] * v["y"] + torch.maximum(v["z"], v["w"]))
    f.backward()
    got = {str(k): val for k, _, val in mod.build().steps.gradients}
    assert got == {k: float(t.grad) for k, t in v.items()}
