"""A self-explanation reply -> the explanation it gives, or why it cannot be used.

Two reply kinds (one per explanation style family):

* **word lists** (attribution): :func:`parse_word_list` splits the reply on commas, pipes,
  semicolons and newlines, then each item on whitespace (every listed word is kept, in order,
  duplicates dropped; the count is recorded), and strips quotes and punctuation at each word's
  ends. A leading ``Words:`` cue the model may repeat is dropped. The reply is a **failure**
  when it is empty or when none of its words occurs in the example's input (then there is
  nothing to redact, and the check would test nothing);
* **rewrites** (redaction, counterfactual): :func:`parse_rewrite` takes the first non-empty
  line, strips surrounding quotes and a leading ``<field>:`` cue (also ``Redacted <field>:``/
  ``Edited <field>:``, case-insensitive) the model may echo; an empty result is a failure.
  Whether a rewrite is a *redaction* or a real *counterfactual* edit is judged in
  :mod:`.checks` with :mod:`.edits`.

Failure reasons are short fixed strings (:data:`FAILURES`), counted in the tables.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..data.words import normalize_word
from ..types import Example
from .edits import is_punctuation

EMPTY = "empty reply"
NO_INPUT_WORD = "no listed word occurs in the input"
NO_MARKER = "no redaction marker"
NOT_A_REDACTION = "not a redaction of the input"
IDENTICAL = "identical to the input"
FAILURES = (EMPTY, NO_INPUT_WORD, NO_MARKER, NOT_A_REDACTION, IDENTICAL)
"""Every reason a reply can be unusable, in the order the tables list them."""

_ITEM_SPLIT = re.compile(r"[,|;\n]+")
_QUOTES = "\"'`“”‘’«»"


@dataclass(frozen=True)
class WordList:
    """A parsed attribution reply: the listed ``words`` (in reply order, deduplicated by
    matching key), those found in the input and those not, or the ``failure`` reason."""

    words: tuple[str, ...]
    found: tuple[str, ...]
    not_found: tuple[str, ...]
    failure: str | None


def _strip_cue(text: str, cues: tuple[str, ...]) -> str:
    for cue in cues:
        m = re.match(rf"\s*{re.escape(cue)}\s*:\s*", text, flags=re.IGNORECASE)
        if m:
            return text[m.end():]
    return text


def parse_word_list(reply: str, example: Example) -> WordList:
    """The words an attribution reply lists, checked against all of ``example``'s fields."""
    text = _strip_cue(reply.strip(), ("words", "word"))
    words: list[str] = []
    seen: set[str] = set()
    for item in _ITEM_SPLIT.split(text):
        for token in item.split():
            token = token.strip(_QUOTES)
            if not token or is_punctuation(token):
                continue
            key = normalize_word(token)
            if key and key not in seen:
                seen.add(key)
                words.append(token)
    if not words:
        return WordList((), (), (), EMPTY)
    inside = {normalize_word(w) for w in example.words}
    found = tuple(w for w in words if normalize_word(w) in inside)
    not_found = tuple(w for w in words if normalize_word(w) not in inside)
    return WordList(tuple(words), found, not_found, None if found else NO_INPUT_WORD)


def parse_rewrite(reply: str, field: str, cues: tuple[str, ...] = ()) -> str | None:
    """The rewritten edit field a redaction/counterfactual reply gives, or ``None`` if empty.

    ``cues`` are extra leading cues to strip (the checks pass the prompt's own final cue,
    e.g. ``Redacted article``)."""
    line = next((ln.strip() for ln in reply.splitlines() if ln.strip()), "")
    label = field.replace("_", " ")
    line = _strip_cue(line, (*cues, f"redacted {label}", f"edited {label}", label))
    line = line.strip().strip(_QUOTES).strip()  # quotes around the rewrite (the prompt quotes the input)
    return line or None
