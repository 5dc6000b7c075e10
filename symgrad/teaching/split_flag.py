"""Whether a derivation is the copy `loss_terms.split_penalties` made (its loss's factors split out,
L = L_data + L_reg): the steps, the picture, the term ordering and the reading order ask it here,
and `loss_terms` marks the copy here. (A module of its own: the naming reads it, and `loss_terms`
reads the naming.)"""
from __future__ import annotations


def is_split(d) -> bool:
    """Whether ``d`` is a copy `loss_terms.split_penalties` made."""
    return getattr(d, "_penalties_split", False)


def mark_split(d):
    """``d`` marked as such a copy (it is not looked at for factors again)."""
    d._penalties_split = True
    return d
