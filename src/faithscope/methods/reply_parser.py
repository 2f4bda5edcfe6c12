"""Parse a model's "list the important words" reply and map it to input word positions.

Models answer in many shapes: ``a | b | c``, ``a, b, c``, numbered lines, quoted words,
``Words: ...`` prefixes, or prose. Separators are tried in order ``|``, then commas/newlines.
A reply with no separator counts as a list only when it is short (a few words); longer prose
is *unparseable*, recorded as such, never silently an empty rationale.

Small models often answer with the prompt's own template instead of a list. Such replies are
parse failures too, each with its reason (:data:`PARSE_FAILURES`), so that a template echo is
never scored as a rationale:

* ``degenerate repetition``: one item makes up at least half of the items and occurs at least
  :data:`MIN_REPEATS` times (``- A\\n- A\\n- A ...``, a model stuck in a loop);
* ``echoes the prompt``: an item repeats :data:`ECHO_NGRAM` consecutive words of the prompt's
  instruction text that are not also consecutive input words ("The top 2 most important words
  from the");
* ``mostly not input words``: more than half of the reply words are not words of the fields the
  reply may select from.

Which fields a reply selects from and what a word that occurs several times there selects
(``first`` free occurrence, or ``every`` occurrence) come from the task file
(:attr:`faithscope.tasks.Task.reply_fields`, :attr:`~faithscope.tasks.Task.reply_occurrence`).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import AbstractSet, Sequence

from ..data.words import normalize_word

_NUMBERING = re.compile(r"^\s*(?:\d+[.):]|[-*•])(?:\s+|$)")
_QUOTES = "\"'`“”‘’«»[](){}<>"
MAX_UNSEPARATED_WORDS = 3
MAX_INTRO_WORDS = 12
MIN_REPEATS = 3
"""An item repeated this often, and making up half of the items or more, is a loop."""
ECHO_NGRAM = 4
"""This many consecutive instruction words inside one item make the reply a template echo."""
MAX_NOT_FOUND_SHARE = 0.5
"""A reply with a larger share of words that are not selectable input words is not a rationale."""

EMPTY = "empty reply"
NOT_A_LIST = "not a list"
NO_ITEMS = "no items"
REPETITION = "degenerate repetition"
ECHO = "echoes the prompt"
NOT_INPUT = "mostly not input words"
PARSE_FAILURES = (EMPTY, NOT_A_LIST, NO_ITEMS, REPETITION, ECHO, NOT_INPUT)
"""Every reason a reply can fail to parse (stored with the rationale)."""

OCCURRENCES = ("first", "every")


@dataclass(frozen=True)
class ParsedReply:
    """Selected positions (reply order), words not found in the input, parse status.

    ``reason`` says why a reply could not be parsed (one of :data:`PARSE_FAILURES`), ``None``
    when it was."""

    positions: tuple[int, ...]
    not_found: tuple[str, ...]
    parsed: bool
    n_words: int
    reason: str | None = None


def _strip_intro(line: str, intros: list[str]) -> str:
    """Drop a lead-in such as ``Words:`` or ``The most relevant words ... are:``.

    A line that ends with a colon is all lead-in; a short head before a colon is a lead-in to
    the text after it. Heads are remembered in ``intros``."""
    line = line.strip()
    head, colon, tail = line.partition(":")
    if colon and (not tail.strip() or (len(head.split()) <= MAX_INTRO_WORDS and '"' not in head and "|" not in head)):
        intros.append(head.strip())
        return tail.strip()
    return line


def _lines(reply: str) -> list[str]:
    """The reply's lines with lead-ins dropped, repeated lines included."""
    intros: list[str] = []
    stripped = [_strip_intro(ln, intros) for ln in reply.splitlines()]
    # the generation budget can cut a repeated lead-in short
    return [s for s in stripped if s and not any(i.startswith(s) for i in intros)]


def _items(lines: list[str]) -> list[str] | None:
    """Every item of the list in reply order; ``None`` = not a list."""
    text = "\n".join(lines)
    if "|" in text:
        items = [p for ln in lines for p in ln.split("|")]
    elif "," in text or len(set(lines)) > 1:
        items = [p for ln in lines for p in ln.split(",")]
    else:  # one line, maybe repeated verbatim: a list only when it is short
        items = lines
        if lines and len(lines[0].split()) > MAX_UNSEPARATED_WORDS:
            return None
    cleaned = []
    for item in items:
        item = _NUMBERING.sub("", item.strip()).strip().strip(_QUOTES + " .;")
        if item:
            cleaned.append(item)
    return cleaned


def split_reply(reply: str) -> list[str] | None:
    """Items of the list (a line repeated verbatim counts once), or ``None`` when the reply is
    not a list at all."""
    return _items(list(dict.fromkeys(_lines(reply)))) or None


def _key(item: str) -> tuple[str, ...]:
    return tuple(k for k in (normalize_word(w) for w in item.split()) if k)


def _ngrams(words: Sequence[str], n: int) -> set[tuple[str, ...]]:
    keys = [k for k in (normalize_word(w) for w in words) if k]
    return {tuple(keys[i:i + n]) for i in range(len(keys) - n + 1)}


def is_repetition(items: Sequence[str]) -> bool:
    """One item (case and punctuation aside) is at least half of the items and repeats
    :data:`MIN_REPEATS` times or more."""
    counts = Counter(k for k in map(_key, items) if k)
    if not counts:
        return False
    top = counts.most_common(1)[0][1]
    return top >= MIN_REPEATS and 2 * top >= sum(counts.values())


def echoes(items: Sequence[str], instruction_words: Sequence[str], input_words: Sequence[str]) -> bool:
    """Some item holds :data:`ECHO_NGRAM` consecutive instruction words that are not also
    consecutive input words."""
    if not instruction_words:
        return False
    prompt = _ngrams(instruction_words, ECHO_NGRAM) - _ngrams(input_words, ECHO_NGRAM)
    return any(_ngrams(item.split(), ECHO_NGRAM) & prompt for item in items)


def _failed(reason: str) -> ParsedReply:
    return ParsedReply((), (), False, 0, reason)


def parse_reply(reply: str, input_words: tuple[str, ...], k: int | None = None, *, selectable: AbstractSet[int] | None = None,
                occurrence: str = "first", instruction_words: Sequence[str] = ()) -> ParsedReply:
    """Map reply words to input positions, case-insensitively with punctuation stripped.

    Only positions in ``selectable`` (default: all) can be selected; a reply word that is not a
    word there counts as not found. With ``occurrence="first"`` each reply word takes the first
    selectable occurrence not already taken, so repeating a word selects its next occurrence;
    with ``"every"`` it takes all its selectable occurrences. With ``k`` (TOP-VAR) at most ``k``
    positions are kept, in the order the model listed them. ``instruction_words`` (the prompt's
    words outside the input fields) let a template echo be recognised (module doc).
    """
    if occurrence not in OCCURRENCES:
        raise ValueError(f"occurrence must be one of {OCCURRENCES}, got {occurrence!r}")
    if not reply.strip():
        return _failed(EMPTY)
    lines = _lines(reply)
    raw_items = _items(lines)
    if raw_items is None:
        return _failed(NOT_A_LIST)
    if not raw_items:
        return _failed(NO_ITEMS)
    if is_repetition(raw_items):
        return _failed(REPETITION)
    items = _items(list(dict.fromkeys(lines))) or []  # a line repeated verbatim counts once
    if echoes(items, instruction_words, input_words):
        return _failed(ECHO)
    index: dict[str, list[int]] = {}
    for pos, word in enumerate(input_words):
        if selectable is None or pos in selectable:
            index.setdefault(normalize_word(word), []).append(pos)
    taken: set[int] = set()
    positions: list[int] = []
    not_found: list[str] = []
    n_words = 0
    for item in items:
        for word in item.split():
            key = normalize_word(word)
            if not key:
                continue
            n_words += 1
            free = [p for p in index.get(key, ()) if p not in taken]
            if key not in index:
                not_found.append(word)
            chosen = free[:1] if occurrence == "first" else free
            taken.update(chosen)
            positions.extend(chosen)
    if n_words == 0:
        return _failed(NO_ITEMS)
    if len(not_found) > MAX_NOT_FOUND_SHARE * n_words:
        return _failed(NOT_INPUT)
    if k is not None:
        positions = positions[:k]
    return ParsedReply(tuple(positions), tuple(not_found), True, n_words)
