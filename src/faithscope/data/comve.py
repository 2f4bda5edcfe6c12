"""ComVE, SemEval-2020 Task 4 (dataset ``comve``, task ``comve``).

Subtask A asks which of two sentences is against common sense; subtask C gives three human
reasons why the false sentence is false, used here as the free-text human explanations.
Files (``comve/``, as published): ``subtaskA_test_data.csv`` (header ``id,sent0,sent1``),
``subtaskA_gold_answers.csv`` (no header: ``id,0|1``), ``subtaskC_gold_answers.csv`` (no
header: ``id,reason1,reason2,reason3``). Fields are ``sentence1``/``sentence2`` (sent0/sent1);
the label is ``"1"`` or ``"2"``: the sentence against common sense (gold 0 -> ``"1"``).
An id with no subtask-C row simply has no explanations (the reasons file is optional).
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from ..errors import DataError
from ..types import Example
from .common import ErrorHandler, check_words, csv_records, dataset_dir, emit, read_text, source_name
from .words import split_words

LABELS = ("1", "2")
FIELDS = ("sentence1", "sentence2")
DATA_FILE = "subtaskA_test_data.csv"
GOLD_FILE = "subtaskA_gold_answers.csv"
REASONS_FILE = "subtaskC_gold_answers.csv"


def _rows(path: Path) -> list[tuple[int, list[str]]]:
    """(physical line of the record's start, fields) for each non-empty CSV record."""
    return list(csv_records(csv.reader(read_text(path).splitlines(keepends=True)), path))


def load(
    data_dir: str | os.PathLike[str] | None,
    *,
    on_error: ErrorHandler | None = None,
    split: str = "test",
) -> list[Example]:
    """All subtask-A items in file order, with the subtask-C reasons as explanations."""
    folder = dataset_dir(data_dir, "comve", f"subtaskA_{split}_data.csv")
    data_path = folder / f"subtaskA_{split}_data.csv"
    gold_path = folder / GOLD_FILE if split == "test" else folder / f"subtaskA_{split}_answers.csv"
    reasons_path = folder / REASONS_FILE if split == "test" else folder / f"subtaskC_{split}_answers.csv"

    gold: dict[str, str] = {}
    for line, row in _rows(gold_path):
        if len(row) != 2:
            emit(DataError(str(gold_path), line, None, f"expected 2 fields (id, answer), found {len(row)}"), on_error)
            continue
        gold[row[0].strip()] = row[1].strip()
    reasons: dict[str, tuple[str, ...]] = {}
    if reasons_path.is_file():
        for _, row in _rows(reasons_path):
            if row:
                reasons[row[0].strip()] = tuple(r.strip() for r in row[1:] if r.strip())

    rows = _rows(data_path)
    if not rows or [c.strip() for c in rows[0][1]] != ["id", "sent0", "sent1"]:
        raise DataError(str(data_path), 1, None, "expected the header id,sent0,sent1")
    examples: list[Example] = []
    for line, row in rows[1:]:
        try:
            if len(row) != 3:
                raise DataError(str(data_path), line, None, f"expected 3 fields, found {len(row)}")
            item_id = row[0].strip()
            answer = gold.get(item_id)
            if answer is None:
                raise DataError(str(data_path), line, "id", f"id {item_id!r} has no gold answer in {gold_path.name}")
            if answer not in ("0", "1"):
                raise DataError(str(gold_path), None, "answer", f"id {item_id!r}: answer {answer!r} is not 0 or 1")
            first = check_words(split_words(row[1]), data_path, line, "sent0")
            second = check_words(split_words(row[2]), data_path, line, "sent1")
        except DataError as e:
            emit(e, on_error)
            continue
        examples.append(Example(
            id=item_id,
            fields={"sentence1": first, "sentence2": second},
            label=LABELS[int(answer)],
            explanations=reasons.get(item_id, ()),
            source=f"{source_name(data_path)}:{line}",
        ))
    return examples
