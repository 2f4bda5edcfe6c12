"""The demo set shipped with faithscope (dataset and task ``demo``): 48 hand-written NLI pairs.

Written by the faithscope authors (not taken from SNLI) so that the default run works on a fresh
machine with no data directory. File ``data/demo/demo.jsonl``, one JSON object per line::

    {"id": "demo-01", "label": "entailment",
     "premise": "A woman ... is *walking* her *dog* along the *harbour.*",
     "hypothesis": "A person is *outdoors* with an *animal.*",
     "explanation": "Walking a dog along a harbour means being outdoors with an animal."}

``label`` is entailment / contradiction / neutral (16 each, interleaved). Highlighted words are
wrapped in stars as in e-SNLI's ``_marked_`` columns (punctuation inside the stars); the text
is the words with the stars removed, and the human rationale is the set of starred words, with
hypothesis positions counted after the premise words. As in e-SNLI, neutral pairs highlight only
hypothesis words. There is one annotator (the authors), so ``annotator_rationales`` has one set.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import DataError
from ..types import Example
from .common import ErrorHandler, SeenIds, check_label, check_words, emit, parse_json_object, read_text, source_name
from .words import parse_marked

LABELS = ("entailment", "contradiction", "neutral")
DEMO_FILE = Path(__file__).parent / "demo" / "demo.jsonl"
KEYS = ("id", "label", "premise", "hypothesis", "explanation")


def load(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    on_error: ErrorHandler | None = None,
    path: str | os.PathLike[str] | None = None,
) -> list[Example]:
    """The shipped demo pairs (``data_dir`` is ignored); ``path`` reads another file of this format."""
    file = Path(path) if path is not None else DEMO_FILE
    examples: list[Example] = []
    seen = SeenIds("id")
    for line, raw in enumerate(read_text(file).splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            ex = _parse(raw, file, line)
            seen.check(ex.id, file, line)
        except DataError as e:
            emit(e, on_error)
            continue
        examples.append(ex)
    return examples


def _parse(raw: str, path: Path, line: int) -> Example:
    rec = parse_json_object(raw, path, line)
    for key in KEYS:
        if not isinstance(rec.get(key), str):
            raise DataError(str(path), line, key, "missing key or not a string")
    if not rec["id"].strip():
        raise DataError(str(path), line, "id", "empty id")
    label = check_label(rec["label"], LABELS, path, line, "label")
    premise, p_marks = parse_marked(rec["premise"])
    hypothesis, h_marks = parse_marked(rec["hypothesis"])
    check_words(tuple(w for w in premise if w), path, line, "premise")
    check_words(tuple(w for w in hypothesis if w), path, line, "hypothesis")
    for name, words in (("premise", premise), ("hypothesis", hypothesis)):
        if "" in words:
            raise DataError(str(path), line, name, "a '*' marks no word (stars must wrap a word: *word*)")
    rationale = p_marks | frozenset(len(premise) + i for i in h_marks)
    return Example(
        id=rec["id"].strip(),
        fields={"premise": premise, "hypothesis": hypothesis},
        label=label,
        rationale=rationale,
        annotator_rationales=(rationale,),
        explanations=(rec["explanation"].strip(),),
        source=f"{source_name(path)}:{line}",
    )
