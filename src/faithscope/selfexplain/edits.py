"""Edits of an example's words for the self-consistency checks (pure functions, no model).

* :func:`redact_words` — every occurrence of the listed words in ALL input fields is replaced
  by the marker (attribution check). Matching is on :func:`~faithscope.data.words.normalize_word`
  (case-insensitive, whole words, punctuation at the word's ends ignored); the replaced word
  keeps its outer punctuation (``"dog."`` -> ``"[REDACTED]."``) so the sentence shape stays;
* :func:`replace_field` — the edit field's words become the rewrite's words (redaction and
  counterfactual checks);
* :func:`redaction_positions` — whether a rewrite is a redaction of the original and which
  original words its markers cover (the rule is in its docstring);
* :func:`changed_positions` — which original words a counterfactual rewrite changed.

Positions returned are indices into the word tuple given (callers add the field offset to
get global positions, :meth:`~faithscope.types.Example.field_offsets`).
"""

from __future__ import annotations

import difflib
import unicodedata
from dataclasses import replace
from typing import Iterable, Sequence

from ..data.words import normalize_word, split_words
from ..types import Example


def _is_punct(ch: str) -> bool:
    return unicodedata.category(ch).startswith("P") or ch in "`´^~"


def is_punctuation(word: str) -> bool:
    """A token made only of punctuation (``"."``, ``"--"``): ignored when rewrites are compared."""
    return bool(word) and all(_is_punct(ch) for ch in word)


def _outer_punct(word: str) -> tuple[str, str]:
    start, end = 0, len(word)
    while start < end and _is_punct(word[start]):
        start += 1
    while end > start and _is_punct(word[end - 1]):
        end -= 1
    return (word[:start], word[end:]) if start < end else ("", "")


def word_keys(words: Iterable[str]) -> set[str]:
    """Matching keys of listed words (empty and punctuation-only words give no key)."""
    return {normalize_word(w) for w in words if w and not is_punctuation(w) and normalize_word(w)}


def matching_positions(example: Example, words: Iterable[str]) -> tuple[int, ...]:
    """Global positions of every occurrence of ``words`` in all of ``example``'s fields."""
    keys = word_keys(words)
    return tuple(i for i, w in enumerate(example.words) if not is_punctuation(w) and normalize_word(w) in keys)


def redact_positions(example: Example, positions: Iterable[int], marker: str) -> Example:
    """``example`` with the words at global ``positions`` replaced by ``marker`` (outer punctuation kept)."""
    chosen = set(positions)
    fields: dict[str, tuple[str, ...]] = {}
    offset = 0
    for name, ws in example.fields.items():
        out = []
        for i, w in enumerate(ws):
            if offset + i in chosen:
                pre, post = _outer_punct(w)
                out.append(pre + marker + post)
            else:
                out.append(w)
        fields[name] = tuple(out)
        offset += len(ws)
    return replace(example, fields=fields)


def redact_words(example: Example, words: Iterable[str], marker: str) -> tuple[Example, int]:
    """``example`` with every occurrence of ``words`` (all fields) replaced by ``marker``, and
    how many words were replaced."""
    positions = matching_positions(example, words)
    return redact_positions(example, positions, marker), len(positions)


def delete_positions(example: Example, positions: Iterable[int]) -> Example:
    """``example`` without the words at global ``positions`` (the masking convention: deletion)."""
    chosen = set(positions)
    fields: dict[str, tuple[str, ...]] = {}
    offset = 0
    for name, ws in example.fields.items():
        fields[name] = tuple(w for i, w in enumerate(ws) if offset + i not in chosen)
        offset += len(ws)
    return replace(example, fields=fields)


def replace_field(example: Example, field: str, text: str) -> Example:
    """``example`` with ``field``'s words replaced by the whitespace words of ``text``."""
    fields = dict(example.fields)
    fields[field] = split_words(text)
    return replace(example, fields=fields)


def _content(words: Sequence[str]) -> list[tuple[int, str]]:
    """(index, key) of the words that are not punctuation-only."""
    return [(i, normalize_word(w)) for i, w in enumerate(words) if not is_punctuation(w)]


def redaction_positions(original: Sequence[str], rewrite: Sequence[str], marker: str) -> tuple[int, ...] | None:
    """Indices of the ``original`` words that ``rewrite``'s markers cover, or ``None`` when
    ``rewrite`` is not a redaction of ``original``.

    The rule: drop punctuation-only tokens on both sides (so ``"dog ."`` and ``"dog."`` agree);
    a rewrite token that contains ``marker`` (case-insensitive, e.g. ``[REDACTED].``) is a
    marker; every other rewrite token must equal, by :func:`normalize_word` (case and outer
    punctuation ignored), the next original word, in order; each marker stands for a run of
    one or more consecutive original words (a model often redacts a phrase with one marker).
    No word may be added, dropped or changed outside the markers. A rewrite without any marker
    is not a redaction. When several alignments exist, the first (markers cover as few words
    as early as possible) is returned; the number of covered words is the same for all.
    """
    low = marker.casefold()
    orig = _content(original)
    rew = [(w, None if low in w.casefold() else normalize_word(w)) for w in rewrite if not is_punctuation(w)]
    if not any(key is None for _, key in rew):
        return None
    n, m = len(rew), len(orig)
    # reach[i][j]: rewrite tokens i.. can match original words j..
    reach = [[False] * (m + 1) for _ in range(n + 1)]
    reach[n][m] = True
    for i in range(n - 1, -1, -1):
        key = rew[i][1]
        for j in range(m - 1, -1, -1):
            if key is None:  # a marker covers orig[j] and then either stops or covers more
                reach[i][j] = reach[i + 1][j + 1] or reach[i][j + 1]
            else:
                reach[i][j] = orig[j][1] == key and reach[i + 1][j + 1]
    if not reach[0][0]:
        return None
    covered: list[int] = []
    i = j = 0
    while i < n:
        if rew[i][1] is None:
            covered.append(orig[j][0])
            if reach[i + 1][j + 1]:
                i += 1
            j += 1
        else:
            i += 1
            j += 1
    return tuple(covered)


def same_words(original: Sequence[str], rewrite: Sequence[str]) -> bool:
    """Whether two word sequences are equal up to case, outer punctuation and punctuation-only tokens."""
    return [k for _, k in _content(original)] == [k for _, k in _content(rewrite)]


def changed_positions(original: Sequence[str], rewrite: Sequence[str]) -> tuple[int, ...]:
    """Indices of the ``original`` words a rewrite replaced or deleted (word-level diff on the
    :func:`normalize_word` keys; insertions change no original word)."""
    orig = _content(original)
    rew = [k for _, k in _content(rewrite)]
    matcher = difflib.SequenceMatcher(a=[k for _, k in orig], b=rew, autojunk=False)
    out: list[int] = []
    for tag, a0, a1, _, _ in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            out.extend(orig[k][0] for k in range(a0, a1))
    return tuple(out)


def n_edited_words(original: Sequence[str], rewrite: Sequence[str]) -> int:
    """Words changed by a rewrite: per differing diff block, the larger of its two sides."""
    a = [k for _, k in _content(original)]
    b = [k for _, k in _content(rewrite)]
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    return sum(max(a1 - a0, b1 - b0) for tag, a0, a1, b0, b1 in matcher.get_opcodes() if tag != "equal")
