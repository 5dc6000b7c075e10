"""The exceptions symgrad raises. Each message names the culprit and says what is supported."""


class SymgradError(Exception):
    """Base class of every error symgrad raises on purpose."""


class UnsupportedError(SymgradError, NotImplementedError):
    """An expression node or function that symgrad cannot lower or differentiate."""


class ShapeError(SymgradError, ValueError):
    """Operands whose shapes do not fit together (a product, a sum, a value passed at run time)."""


class WrtError(SymgradError, TypeError):
    """A `wrt` argument that is not a Symbol or MatrixSymbol (or a list of them)."""


class MissingValueError(SymgradError, LookupError):
    """A value (a parameter, an input of the batch) that a compiled program needs was not given."""

    def __str__(self):
        return str(self.args[0]) if self.args else ""


class FreeSymbolError(SymgradError, ValueError):
    """A symbol in an expression that is neither a declared parameter nor a declared input."""


class ArgumentError(SymgradError, ValueError, TypeError):
    """An argument whose value or type symgrad does not accept (``lr=inf``, ``batch=0``, a misspelled
    name in ``at=``, ``policy="first"``). The message names the argument and what is accepted. It is
    also a ValueError and a TypeError, so code written against the built-in errors still catches it."""


class DataError(SymgradError, ValueError):
    """A value handed to a compiled program at run time that it cannot use: a class label that is
    not an integer in range, ``None`` or text in the data, an empty batch."""


class ParseError(SymgradError, ValueError):
    """User text (an expression, a name, a number) that does not parse, or does not build."""


class UnsafeInputError(ParseError):
    """User text with something the parser's whitelist refuses: an attribute, a string literal, a
    function symgrad does not know, a look-alike character, a power or a size beyond the bounds."""


class BroadcastError(ShapeError):
    """Tensor shapes that do not broadcast by NumPy's rule (trailing dimensions equal or 1)."""


class AxisError(ShapeError, IndexError):
    """An axis (or an index) out of range for a tensor's number of dimensions (or size)."""


class ReshapeError(ShapeError):
    """A reshape to a shape with a different number of entries."""


class MixedArrayError(SymgradError, TypeError):
    """A MatrixSymbol expression (matrix calculus) inside a tensor expression (NumPy semantics)."""


class IntegerTensorError(SymgradError, TypeError):
    """An integer tensor (labels, indices) used where a real one is needed (differentiated), or a
    real tensor where indices are needed."""


class LabelRangeError(DataError, IndexError):
    """An integer label or index outside its axis at run time (also a DataError: bad data)."""


def show_value(value) -> str:
    """``value`` as a message shows it: a NumPy scalar (or 0-d array) as the Python number it holds —
    ``0.5``, not ``np.float64(0.5)``, which is how NumPy 2 writes its repr — anything else by repr."""
    item = getattr(value, "item", None)
    if item is not None and getattr(value, "ndim", None) == 0 and type(value).__module__ == "numpy":
        value = item()
    return repr(value)
