"""The name a user most likely meant: "did you mean ...?" in the messages about the keys of data,
values and data files (`sg.train`, ``symgrad train``). A leaf module: the training modules and the
command line import it without importing each other."""
from __future__ import annotations

import difflib


def closest_name(name: str, names) -> str | None:
    """The one of ``names`` that ``name`` most likely misspells: the same up to case, else difflib's
    closest (cutoff 0.5); None when none is close. For "did you mean ...?" about a key of data, values
    or a data file."""
    names = list(names)
    close = [n for n in names if n.lower() == name.lower()] or difflib.get_close_matches(name, names, n=1,
                                                                                      cutoff=0.5)
    return close[0] if close else None
