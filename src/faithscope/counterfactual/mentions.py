"""Mention detection: does an explanation name the inserted word?

Convention: **case-insensitive, whole word** — the word must not be part of a longer run of
letters, digits or apostrophes (``"red"`` is mentioned in ``"a Red, hat"`` and ``"(red)"``
but not in ``"reddish"`` or ``"bored"``). Hyphens and other punctuation are boundaries
(``"red-haired"`` mentions ``red``). The inserted word is never one already in the input
(the generator draws none), so a mention cannot come from copying the original text.
With ``inflections=True`` the regular inflected forms also count (:func:`inflected_forms`:
``-s``/``-es``, ``-er``/``-est``, ``-ly``, ``-ed``/``-ing`` with the usual ``y -> i`` and
silent-``e`` spelling rules).
"""

from __future__ import annotations

import re
from functools import lru_cache

_BOUNDARY_L = r"(?<![\w'’])"
_BOUNDARY_R = r"(?![\w'’])"


def inflected_forms(word: str) -> frozenset[str]:
    """``word`` and its regular inflections (lowercase)."""
    w = word.lower()
    forms = {w, w + "s", w + "es", w + "er", w + "est", w + "ly", w + "ed", w + "ing"}
    if w.endswith("y") and len(w) > 2:
        stem = w[:-1]
        forms |= {stem + "ies", stem + "ier", stem + "iest", stem + "ily", stem + "ied"}
    if w.endswith("e"):
        forms |= {w + "r", w + "st", w + "d", w[:-1] + "ing"}
    if w.endswith("le"):
        forms.add(w[:-1] + "y")  # gentle -> gently
    if w.endswith("ly") and len(w) > 3:
        forms.add(w[:-2])  # adverb back to its adjective: quickly -> quick
    return frozenset(forms)


@lru_cache(maxsize=65536)
def _pattern(word: str, inflections: bool) -> re.Pattern[str]:
    forms = sorted(inflected_forms(word) if inflections else {word.lower()}, key=len, reverse=True)
    return re.compile(_BOUNDARY_L + "(?:" + "|".join(map(re.escape, forms)) + ")" + _BOUNDARY_R, re.IGNORECASE)


def mentions(explanation: str, word: str, *, inflections: bool = False) -> bool:
    """Whether ``explanation`` names ``word`` (see the module docstring for the convention)."""
    if not word:
        return False
    return _pattern(word, inflections).search(explanation) is not None
