"""A stand-in for a compiled program's generator, to hand its dropout masks given uniforms (the
tests compare with torch under the same masks)."""


class GivenUniforms:
    """``random(shape, dtype)`` hands out the given uniforms, in order (the program draws its masks in
    the order of the dropout calls), and notes the shapes asked for."""

    def __init__(self, *uniforms):
        self.uniforms = list(uniforms)
        self.shapes = []

    def random(self, shape, dtype=None):
        self.shapes.append(tuple(shape))
        return self.uniforms.pop(0).astype(dtype)


def assert_evaluation_draws_nothing(prog, values, x, y, want_loss, want_logits):
    """``.loss`` and ``.forward`` run with dropout off: torch's numbers without a mask, nothing
    drawn from the program's generator, and no generator in the generated ``loss``."""
    import numpy as np
    import pytest
    state = prog.rng.bit_generator.state
    assert prog.loss(values, {"x": x, "y": y}) == pytest.approx(want_loss, rel=1e-12)
    np.testing.assert_allclose(prog.forward(values, {"x": x})[0], want_logits, rtol=1e-12)
    assert prog.rng.bit_generator.state == state                # nothing drawn
    assert "rng" not in prog.source.split("def loss(")[1].split("def grad(")[0]
