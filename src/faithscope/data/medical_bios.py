"""MedicalBios human rationales (dataset ``medical_bios``): Eberle et al. 2023, Prodigy export.

Reads ``medical_bios/standard_biosbias_rationales.jsonl``: one record per (bio, annotator).
The bio is ``text.split("Bio: ")[-1]`` (the authors' key) and its words are ``bio.split()``.
Each annotator's ``spans`` are character offsets into ``text``; a bio word is marked when a
span overlaps it (spans inside the prompt are ignored, as the authors' code keeps only the
tokens after ``Bio:``). Records are grouped by bio text: one :class:`Example` per bio.

Filters: exactly those of the authors' ``prodigy_annotations_utils.py`` —
drop a record whose ``_annotator_id`` *contains* any id of :data:`EXCLUDED_ANNOTATORS` or
:data:`EXCLUDED_SCREEN_ANNOTATORS`, and drop records without a ``spans`` key. On the shipped
file that keeps 389 of 584 records over 113 bios (102 bios with 3 annotators). The second
list removes nothing beyond the first here, and every kept record is ``answer == "accept"``;
``accept_only=True`` adds that filter anyway. If an annotator appears twice for one bio, the
later record wins (the authors keyed annotations by annotator id).

Default rationale: words marked by a STRICT majority of the bio's kept annotators
(``mean > 0.5``, the authors' ``majority``); ``aggregation="any"`` or ``"all"`` are options.
Annotator and session ids are used only for filtering and are never put in an Example.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError, DataError
from ..types import Example
from .common import ErrorHandler, SeenIds, check_label, check_words, dataset_dir, emit, parse_json_object, read_text, source_name
from .words import split_words, word_spans

LABELS = ("psychologist", "surgeon", "nurse", "dentist", "physician")
STANDARD_FILE = "standard_biosbias_rationales.jsonl"
BIO_MARKER = "Bio: "
EXCLUDED_ANNOTATORS = (
    "bios_batch_1_v2-12345", "bios_batch_4-[prolific-id]", "bios_batch_4-607717eaae6e81fa5a889d7f",
    "bios_batch_4_repeated-5a8367b9190420000155ec2a", "bios_batch_3-[612cecf6ebfcc62494f287eb]",
)
EXCLUDED_SCREEN_ANNOTATORS = (
    "5c85963b2421a3000142f159", "6131d01bc956974e057e9f72", "60fc0e57aed2db659b10be32",
    "60ef2e52a188d9859f92bb58", "id", "ilias", "611d088b4a63306f79950cc9",
)
AGGREGATIONS = ("majority", "any", "all")


@dataclass
class _Bio:
    label: str
    line: int
    words: tuple[str, ...]
    marks: dict[str, frozenset[int]] = field(default_factory=dict)  # annotator -> word positions


def load(
    data_dir: str | os.PathLike[str] | None,
    *,
    on_error: ErrorHandler | None = None,
    aggregation: str = "majority",
    accept_only: bool = False,
    file: str = STANDARD_FILE,
) -> list[Example]:
    """One Example per annotated bio, in order of first appearance in the file."""
    folder = dataset_dir(data_dir, "medical_bios", file)
    return read_annotations(folder / file, on_error=on_error, aggregation=aggregation, accept_only=accept_only)


def read_annotations(path: Path, *, on_error: ErrorHandler | None = None, aggregation: str = "majority",
                     accept_only: bool = False) -> list[Example]:
    """Filter, group and aggregate one Prodigy rationale export (see the module docstring)."""
    if aggregation not in AGGREGATIONS:
        raise ConfigError(f"unknown aggregation {aggregation!r}; choose one of {', '.join(AGGREGATIONS)}")
    bios: dict[str, _Bio] = {}
    for line, raw in enumerate(read_text(path).splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            _add_record(raw, path, line, bios, accept_only)
        except DataError as e:
            emit(e, on_error)
    examples: list[Example] = []
    seen = SeenIds("text")  # one example per distinct bio; its id is a hash prefix of the bio, checked like every loader's
    for bio_text, bio in bios.items():
        ex = _example(bio_text, bio, aggregation, path)
        try:
            seen.check(ex.id, path, bio.line)
        except DataError as e:
            emit(e, on_error)
            continue
        examples.append(ex)
    return examples


def is_excluded(annotator_id: str) -> bool:
    """Whether the authors' filters drop this annotator (substring match, as in their code)."""
    return any(bad in annotator_id for bad in EXCLUDED_ANNOTATORS + EXCLUDED_SCREEN_ANNOTATORS)


def _add_record(raw: str, path: Path, line: int, bios: dict[str, _Bio], accept_only: bool) -> None:
    rec = parse_json_object(raw, path, line)
    for key in ("text", "label", "_annotator_id"):
        if key not in rec:
            raise DataError(str(path), line, key, "missing key")
    annotator = rec["_annotator_id"]
    if not isinstance(annotator, str):
        raise DataError(str(path), line, "_annotator_id", "must be a string")
    if is_excluded(annotator) or "spans" not in rec or (accept_only and rec.get("answer") != "accept"):
        return  # the authors' filters: not malformed, just not used

    text = rec["text"]
    if not isinstance(text, str):
        raise DataError(str(path), line, "text", "must be a string")
    label_raw = rec["label"]
    label = check_label(label_raw.lower() if isinstance(label_raw, str) else label_raw, LABELS, path, line, "label")
    bio_text = text.split(BIO_MARKER)[-1]
    words = check_words(split_words(bio_text), path, line, "text")
    marks = _marked_words(rec["spans"], text, len(text) - len(bio_text), path, line)

    bio = bios.get(bio_text)
    if bio is None:
        bios[bio_text] = _Bio(label=label, line=line, words=words, marks={annotator: marks})
        return
    if bio.label != label:
        raise DataError(str(path), line, "label",
                        f"label {label!r} differs from {bio.label!r} given to the same bio on line {bio.line}")
    bio.marks[annotator] = marks


def _marked_words(spans: Any, text: str, bio_start: int, path: Path, line: int) -> frozenset[int]:
    """Bio word positions overlapped by any character span ``[start, end)`` into ``text``."""
    if not isinstance(spans, list):
        raise DataError(str(path), line, "spans", "must be a list")
    ranges: list[tuple[int, int]] = []
    for span in spans:
        start = span.get("start") if isinstance(span, dict) else None
        end = span.get("end") if isinstance(span, dict) else None
        if not isinstance(start, int) or not isinstance(end, int) or isinstance(start, bool) \
                or isinstance(end, bool) or not 0 <= start < end <= len(text):
            raise DataError(str(path), line, "spans",
                            f"a span needs integer start < end within the text ({len(text)} characters), got {span!r}")
        ranges.append((start, end))
    marked: set[int] = set()
    for i, (ws, we) in enumerate(word_spans(text[bio_start:])):
        ws, we = ws + bio_start, we + bio_start
        if any(s < we and e > ws for s, e in ranges):
            marked.add(i)
    return frozenset(marked)


def _example(bio_text: str, bio: _Bio, aggregation: str, path: Path) -> Example:
    per_annotator = tuple(bio.marks.values())
    n = len(per_annotator)
    counts: dict[int, int] = {}
    for marks in per_annotator:
        for i in marks:
            counts[i] = counts.get(i, 0) + 1
    if aggregation == "majority":
        rationale = frozenset(i for i, c in counts.items() if 2 * c > n)
    elif aggregation == "any":
        rationale = frozenset(counts)
    else:
        rationale = frozenset(i for i, c in counts.items() if c == n)
    return Example(
        id="bio-" + hashlib.sha1(bio_text.encode("utf-8")).hexdigest()[:12],
        fields={"bio": bio.words},
        label=bio.label,
        rationale=rationale,
        annotator_rationales=per_annotator,
        source=f"{source_name(path)}:{bio.line}",
    )
