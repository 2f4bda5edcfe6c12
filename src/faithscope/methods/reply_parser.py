"""Parse a model's "list the important words" reply and map it to input word positions.

Models answer in many shapes: ``a | b | c``, ``a, b, c``, numbered lines, quoted words,
``Words: ...`` prefixes, or prose. Separators are tried in order ``|``, then commas/newlines.
A reply with no separator counts as a list only when it is short (a few words); longer prose
is *unparseable*, recorded as such, never silently an empty rationale.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..data.words import normalize_word

_NUMBERING = re.compile(r"^\s*(?:\d+[.):]|[-*•])\s+")
_QUOTES = "\"'`“”‘’«»[](){}<>"
MAX_UNSEPARATED_WORDS = 3
MAX_INTRO_WORDS = 12


@dataclass(frozen=True)
class ParsedReply:
    """Selected positions (reply order), words not found in the input, parse status."""

    positions: tuple[int, ...]
    not_found: tuple[str, ...]
    parsed: bool
    n_words: int


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


def split_reply(reply: str) -> list[str] | None:
    """Items of the list, or ``None`` when the reply is not a list at all."""
    intros: list[str] = []
    stripped = [_strip_intro(ln, intros) for ln in reply.splitlines()]
    # small models repeat lines, and the generation budget can cut a repeated lead-in short
    lines = [s for s in dict.fromkeys(stripped) if s and not any(i.startswith(s) for i in intros)]
    text = "\n".join(lines)
    if "|" in text:
        items = [p for ln in lines for p in ln.split("|")]
    elif "," in text or len(lines) > 1:
        items = [p for ln in lines for p in ln.split(",")]
    else:
        items = [text]
        if len(text.split()) > MAX_UNSEPARATED_WORDS:
            return None
    cleaned = []
    for item in items:
        item = _NUMBERING.sub("", item.strip()).strip().strip(_QUOTES + " .;")
        if item:
            cleaned.append(item)
    return cleaned or None


def parse_reply(reply: str, input_words: tuple[str, ...], k: int | None = None) -> ParsedReply:
    """Map reply words to input positions, case-insensitively with punctuation stripped.

    Each reply word takes the first occurrence in the input not already taken, so repeating
    a word selects its next occurrence. With ``k`` (TOP-VAR) at most ``k`` positions are kept,
    in the order the model listed them.
    """
    items = split_reply(reply)
    if items is None:
        return ParsedReply((), (), False, 0)
    index: dict[str, list[int]] = {}
    for pos, word in enumerate(input_words):
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
            if free:
                taken.add(free[0])
                positions.append(free[0])
            elif key not in index:
                not_found.append(word)
    if k is not None:
        positions = positions[:k]
    return ParsedReply(tuple(positions), tuple(not_found), True, n_words)
