"""e-SNLI with word highlights: the published ``esnli_*.csv`` layout (dataset ``esnli``).

Reads ``esnli/*highlights*.csv`` (here: dev rows 1-500, ``esnli_dev_highlights_first500.csv``).
Columns: ``pairID, gold_label, Sentence1, Sentence2`` and, per annotator k,
``Explanation_k, Sentence1_marked_k, Sentence2_marked_k, Sentence1_Highlighted_k,
Sentence2_Highlighted_k``. The highlights are read from the ``_marked_`` columns (the dataset
author's advice): a highlighted word is wrapped in stars, punctuation inside (``*lunch.*``).
The ``_Highlighted_`` index lists split on single spaces, so a double space in a sentence
shifts them; the starred words, split on whitespace like the sentence, do not have that problem.

Why 2 of 3: the paper's random-baseline row matches the human rationale "words highlighted by
at least 2 of the 3 annotators" (SPEC); ``min_annotators`` changes that convention.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from ..errors import ConfigError, DataError
from ..types import Example
from .common import ErrorHandler, SeenIds, check_label, check_words, csv_records, dataset_dir, emit, read_text, source_name
from .words import parse_marked, split_words

LABELS = ("entailment", "contradiction", "neutral")
FIELDS = ("premise", "hypothesis")
BASE_COLUMNS = ("pairID", "gold_label", "Sentence1", "Sentence2")
DEFAULT_PATTERN = "*highlights*.csv"


def load(
    data_dir: str | os.PathLike[str] | None,
    *,
    on_error: ErrorHandler | None = None,
    min_annotators: int = 2,
    pattern: str = DEFAULT_PATTERN,
) -> list[Example]:
    """All pairs of the ``esnli/`` files matching ``pattern``, in file-name then row order."""
    folder = dataset_dir(data_dir, "esnli", pattern)
    files = sorted(folder.glob(pattern))
    if not files:
        raise DataError(str(folder / pattern), None, None,
                        "no e-SNLI highlights CSV found (expected esnli_dev_highlights_first500.csv)")
    examples: list[Example] = []
    seen = SeenIds("pairID")
    for path in files:
        for ex in read_highlights_csv(path, on_error=on_error, min_annotators=min_annotators):
            try:
                seen.check(ex.id, path, int(ex.source.rsplit(":", 1)[1]))
            except DataError as e:
                emit(e, on_error)
                continue
            examples.append(ex)
    return examples


def read_highlights_csv(path: Path, *, on_error: ErrorHandler | None = None, min_annotators: int = 2) -> list[Example]:
    """Parse one e-SNLI CSV; one :class:`Example` per data row (ids are the pairIDs)."""
    text = read_text(path)
    reader = csv.reader(text.splitlines(keepends=True))
    try:
        header = next(reader)
    except StopIteration:
        raise DataError(str(path), 1, None, "empty file (no header)") from None
    except csv.Error as e:
        raise DataError(str(path), 1, None, f"bad CSV header: {e}") from None
    col = {name.strip(): i for i, name in enumerate(header)}
    for name in BASE_COLUMNS:
        if name not in col:
            raise DataError(str(path), 1, name, "missing column in the header")
    annotators = _annotator_numbers(col, path)
    if not isinstance(min_annotators, int) or not 1 <= min_annotators <= len(annotators):
        raise ConfigError(f"min_annotators must be an integer from 1 to {len(annotators)} "
                          f"(this file has {len(annotators)} annotators), got {min_annotators!r}")

    examples: list[Example] = []
    for start, row in csv_records(reader, path):
        try:
            examples.append(_parse_row(row, col, annotators, path, start, min_annotators))
        except DataError as e:
            emit(e, on_error)
    return examples


def _annotator_numbers(col: dict[str, int], path: Path) -> list[int]:
    ks = sorted(int(name.rsplit("_", 1)[1]) for name in col
                if name.startswith("Sentence1_marked_") and name.rsplit("_", 1)[1].isdigit())
    if not ks:
        raise DataError(str(path), 1, "Sentence1_marked_1", "no Sentence1_marked_k columns: no highlights")
    for k in ks:
        if f"Sentence2_marked_{k}" not in col:
            raise DataError(str(path), 1, f"Sentence2_marked_{k}", "missing column in the header")
    return ks


def _parse_row(row: list[str], col: dict[str, int], annotators: list[int], path: Path, line: int,
               min_annotators: int) -> Example:
    if len(row) != len(col):
        raise DataError(str(path), line, None, f"expected {len(col)} fields, found {len(row)}")

    def get(name: str) -> str:
        return row[col[name]]

    pair_id = get("pairID").strip()
    if not pair_id:
        raise DataError(str(path), line, "pairID", "empty pairID")
    label = check_label(get("gold_label").strip(), LABELS, path, line, "gold_label")
    premise = check_words(split_words(get("Sentence1")), path, line, "Sentence1")
    hypothesis = check_words(split_words(get("Sentence2")), path, line, "Sentence2")
    offset = len(premise)

    per_annotator: list[frozenset[int]] = []
    for k in annotators:
        marks = _marks(get(f"Sentence1_marked_{k}"), premise, path, line, f"Sentence1_marked_{k}")
        marks2 = _marks(get(f"Sentence2_marked_{k}"), hypothesis, path, line, f"Sentence2_marked_{k}")
        per_annotator.append(marks | frozenset(offset + i for i in marks2))

    counts: dict[int, int] = {}
    for marks in per_annotator:
        for i in marks:
            counts[i] = counts.get(i, 0) + 1
    rationale = frozenset(i for i, c in counts.items() if c >= min_annotators)
    explanations = tuple(get(f"Explanation_{k}").strip() for k in annotators if f"Explanation_{k}" in col)
    return Example(
        id=pair_id,
        fields={"premise": premise, "hypothesis": hypothesis},
        label=label,
        rationale=rationale,
        annotator_rationales=tuple(per_annotator),
        explanations=explanations,
        source=f"{source_name(path)}:{line}",
    )


def _marks(marked: str, words: tuple[str, ...], path: Path, line: int, field: str) -> frozenset[int]:
    """Positions of starred words; the de-starred words must be the sentence's words."""
    marked_words, positions = parse_marked(marked)
    if marked_words != words:
        diff = next((i for i, (a, b) in enumerate(zip(marked_words, words)) if a != b),
                    min(len(marked_words), len(words)))
        got = marked_words[diff] if diff < len(marked_words) else "<end>"
        want = words[diff] if diff < len(words) else "<end>"
        raise DataError(str(path), line, field,
                        f"marked text without '*' differs from the sentence at word {diff}: {got!r} vs {want!r}")
    return positions
