"""A hint as the recogniser makes it: its kind (the slip's short name, the words the table of slips
in docs/checking.md lists) and its text, kept apart so that nothing reads the kind back out of the
prose. `Hint` is a str — the sentence a person reads, ``"kind: text"`` — so ``r.hint`` prints, compares
and is searched as before; ``.kind`` is what `CheckResult.to_dict()` (and ``symgrad check --json``)
report.

>>> h = Hint("flipped sign", "the claim is −1 times the gradient.")
>>> h, h.kind
('flipped sign: the claim is −1 times the gradient.', 'flipped sign')
>>> Hint.sentence("claim right at one size only", "the claim holds at N = 5 only").kind
'claim right at one size only'
>>> kind_of("a plain sentence: no kind") is None
True
"""
from __future__ import annotations


class Hint(str):
    """The sentence ``"{kind}: {text}"``, with ``.kind`` and ``.text`` kept as given."""

    kind: str | None
    text: str

    def __new__(cls, kind: str | None, text: str):
        h = super().__new__(cls, f"{kind}: {text}" if kind else text)
        h.kind, h.text = kind, text
        return h

    @classmethod
    def sentence(cls, kind: str, sentence: str) -> "Hint":
        """A hint whose sentence does not begin with its kind's words (the sizes' "the claim holds at
        N = 5 only, …"): the str is ``sentence`` as it is, ``.kind`` the given kind."""
        h = super().__new__(cls, sentence)
        h.kind, h.text = kind, sentence
        return h

    def map(self, fn) -> "Hint":
        """The hint with ``fn`` (a str → str rewrite: a mask's name as the backward calls it) applied
        to its kind and its text alike, the kind kept apart."""
        if self.kind and str.startswith(self, f"{self.kind}: "):
            return Hint(fn(self.kind), fn(self.text))
        return Hint.sentence(fn(self.kind) if self.kind else None, fn(str(self)))

    def __reduce__(self):
        return (_rebuild, (self.kind, self.text, str(self)))


def _rebuild(kind, text, whole):
    h = Hint.sentence(kind, whole)
    h.text = text
    return h


def kind_of(hint) -> str | None:
    """The kind the recogniser gave a hint; None for text without one (a str that is no `Hint`)."""
    return getattr(hint, "kind", None) or None


def rewritten(hint, fn):
    """``fn`` applied to a hint's words, keeping it a `Hint` of the same kind when it is one."""
    if hint is None:
        return None
    return hint.map(fn) if isinstance(hint, Hint) else fn(hint)


__all__ = ["Hint", "kind_of", "rewritten"]
