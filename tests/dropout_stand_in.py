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
