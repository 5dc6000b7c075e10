"""sg.norm's guard at the zero vector, said in the user's terms in a hint.

sg.norm(x) is built as where(s > 0, s, 1)^½ − where(s > 0, 0, 1) with s = Σ x² (safe at 0: its
gradient there is 0, as torch's; `symgrad/frontend/tensor_norms.py`). A hint that quotes f's parts
showed it: "f holds sqrt(where((x**2).sum() > 0, (x**2).sum(), 1))" to a student who wrote
norm(x). Away from the zero vector — everywhere the check compares — the guard is s itself and its
offset 0, so a hint says sqrt((x**2).sum()).

>>> guard_words("1/(2*sqrt(where((x**2).sum() > 0, (x**2).sum(), 1)))")
'1/(2*sqrt((x**2).sum()))'
>>> guard_words("sqrt(where(s > 0, s, 1)) - where(s > 0, 0, 1)")
'sqrt(s)'
"""
from __future__ import annotations


def _args(text: str, start: int):
    """The top-level arguments of the call whose '(' is at ``start``, and the index after its ')'."""
    depth, args, cur = 0, [], start + 1
    for i in range(start, len(text)):
        ch = text[i]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0:
                args.append(text[cur:i].strip())
                return args, i + 1
        elif ch == "," and depth == 1:
            args.append(text[cur:i].strip())
            cur = i + 1
    return None, None


def guard_words(text: str) -> str:
    """``text`` with every where(s > 0, s, 1) written s and every ' - where(s > 0, 0, 1)' left out."""
    out, i = [], 0
    while True:
        j = text.find("where(", i)
        if j < 0:
            out.append(text[i:])
            break
        if j > 0 and (text[j - 1].isalnum() or text[j - 1] == "_"):
            out.append(text[i:j + 6])
            i = j + 6
            continue
        args, end = _args(text, j + 5)
        if args is None or len(args) != 3:
            out.append(text[i:j + 6])
            i = j + 6
            continue
        s = args[0][:-len(" > 0")] if args[0].endswith(" > 0") else None
        if s is not None and args[1] == s and args[2] == "1":
            out.append(text[i:j] + guard_words(s))
            i = end
            continue
        if s is not None and args[1] == "0" and args[2] == "1" and text[max(i, j - 3):j] == " - ":
            out.append(text[i:j - 3])
            i = end
            continue
        out.append(text[i:j + 6])
        i = j + 6
    return "".join(out)


__all__ = ["guard_words"]
