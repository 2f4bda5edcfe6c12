"""Parse a self-explanation reply into label, explanation and a parse-failure reason.

The explanation is the first non-empty line of the reply (the prompts ask for one
sentence), with a leading ``Explanation:`` cue removed and cut before an inline ``Label:``;
with ``expect_label`` the label is read from the reply too (``Label: x`` anywhere, or, for a
predict-then-explain reply, the first word). Failures are recorded, never hidden as an empty
explanation: ``"empty explanation"``, ``"no label"``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from .prompt import EXPLANATION_CUE, LABEL_CUE

_STRIP = " \t\"'`*.,;:!?()[]{}"


@dataclass(frozen=True)
class ParsedReply:
    label: str | None
    explanation: str
    failure: str | None = None
    """Why the reply is unusable (``None`` = parsed)."""

    @property
    def ok(self) -> bool:
        return self.failure is None

    @property
    def n_words(self) -> int:
        return len(self.explanation.split())


def match_label(text: str, labels: Sequence[str]) -> str | None:
    """The label ``text`` names: its first word equal (case-insensitively, quotes and
    punctuation stripped) to a label, else ``None``."""
    lows = {lab.lower(): lab for lab in labels}
    for word in text.split():
        w = word.strip(_STRIP).lower()
        if w in lows:
            return lows[w]
        if w:
            return None
    return None


def parse_reply(reply: str, labels: Sequence[str], *, expect_label: bool = False, order: str = "pe") -> ParsedReply:
    """See the module docstring."""
    text = reply.strip()
    label: str | None = None
    if expect_label:
        m = re.search(re.escape(LABEL_CUE) + r"\s*(.*)", text, re.IGNORECASE)
        if m:
            label = match_label(m.group(1), labels)
        elif order == "pe":
            label = match_label(text, labels)
            if label is not None:  # drop the label line
                text = text.split("\n", 1)[1] if "\n" in text else text[len(text.split()[0]):]
    lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
    if lines and lines[0].lower().startswith(LABEL_CUE.lower()) and len(lines) > 1:
        lines = lines[1:]
    first = lines[0] if lines else ""
    if first.lower().startswith(EXPLANATION_CUE.lower()):
        first = first[len(EXPLANATION_CUE):].strip()
    cut = first.lower().find(LABEL_CUE.lower())
    if cut >= 0:
        first = first[:cut].strip()
    if first.lower().startswith(LABEL_CUE.lower().rstrip(":")):
        first = ""
    failure = None
    if not first.strip(_STRIP):
        failure = "empty explanation"
        first = ""
    elif expect_label and label is None:
        failure = "no label"
    return ParsedReply(label=label, explanation=first, failure=failure)


def is_label_only(explanation: str, label_words: Sequence[str]) -> bool:
    """Whether a non-empty explanation is nothing but label words (e.g. a fine-tuned model's
    "neutral entailment neutral ..."): it parses, but explains nothing, and can only mention an
    inserted word by chance. Reported as a rate beside the parse failures, not stored."""
    vocab = {w.lower() for lab in label_words for w in lab.split()}
    words = [w.strip(_STRIP).lower() for w in explanation.split()]
    words = [w for w in words if w]
    return bool(words) and all(w in vocab for w in words)
