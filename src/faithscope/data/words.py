"""Words: the unit every rationale is made of.

A word is a whitespace token of the dataset's own text (ERASER convention, ``text.split()``).
Human rationales, model rationales and masking all count positions over these words, so the
splitting lives in one place. ``normalize_word`` is the matching key used when a model's
reply (prompting rationales) is mapped back to input words; ``parse_marked`` reads the
``*word*`` highlight convention of e-SNLI (also used by the shipped demo set).
"""

from __future__ import annotations

import unicodedata

MARK = "*"


def split_words(text: str) -> tuple[str, ...]:
    """Split ``text`` into words on any run of whitespace (``str.split()``), as ERASER does."""
    return tuple(text.split())


def word_spans(text: str) -> list[tuple[int, int]]:
    """Character ``[start, end)`` of each word of ``split_words(text)``, in order.

    Uses ``str.isspace`` so the words are exactly those of ``text.split()``; loaders whose
    annotations are character offsets (MedicalBios) map them to words with this.
    """
    spans: list[tuple[int, int]] = []
    start: int | None = None
    for i, ch in enumerate(text):
        if ch.isspace():
            if start is not None:
                spans.append((start, i))
                start = None
        elif start is None:
            start = i
    if start is not None:
        spans.append((start, len(text)))
    return spans


def words_in_char_spans(text: str, spans: list[tuple[int, int]]) -> frozenset[int]:
    """Positions of the words of ``split_words(text)`` that a character span ``[start, end)``
    overlaps (a span cutting into a word marks the whole word, as MedicalBios is read)."""
    return frozenset(i for i, (ws, we) in enumerate(word_spans(text)) if any(s < we and e > ws for s, e in spans))


def _is_punct(ch: str) -> bool:
    return unicodedata.category(ch).startswith("P") or ch in "`´^~"


def normalize_word(word: str) -> str:
    """Matching key for a word: NFKC, punctuation stripped at both ends, case-folded.

    ``"Packages."`` -> ``"packages"``, ``'"Hello,'`` -> ``"hello"``, ``"to-go"`` -> ``"to-go"``
    (inner punctuation is kept, so ``"don't"`` stays ``"don't"``). A word made only of
    punctuation (``"."``, ``"--"``) keeps its characters, so it can still match itself rather
    than every other punctuation word.
    """
    w = unicodedata.normalize("NFKC", word).strip()
    start, end = 0, len(w)
    while start < end and _is_punct(w[start]):
        start += 1
    while end > start and _is_punct(w[end - 1]):
        end -= 1
    core = w[start:end] if start < end else w
    return core.casefold()


def parse_marked(marked: str) -> tuple[tuple[str, ...], frozenset[int]]:
    """Read a ``*word*``-highlighted sentence: its words and the positions of starred words.

    The text is split on whitespace like the plain sentence, so leading spaces and double
    spaces do not shift positions. A token containing ``*`` is highlighted and its word is the
    token with every ``*`` removed (punctuation may sit inside the stars: ``*lunch.*``). The
    caller checks that the returned words equal the sentence's words.
    """
    words: list[str] = []
    marked_positions: set[int] = set()
    for i, token in enumerate(marked.split()):
        if MARK in token:
            marked_positions.add(i)
        words.append(token.replace(MARK, ""))
    return tuple(words), frozenset(marked_positions)
