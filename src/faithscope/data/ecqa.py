"""ECQA joined with CommonsenseQA (dataset ``ecqa``, task ``ecqa``).

Reads ``ecqa/cqa_data_<split>.csv`` as written by ECQA's ``generate_data.py`` (a pandas CSV:
unnamed index column, ``q_no, q_concept, q_text, q_op1..q_op5, q_ans, taskA_pos, taskA_neg,
taskB``). Records end in CRLF while line breaks inside fields are bare LF, so the file is
parsed as one CSV text (never line by line). Fields: ``question`` (``q_text``) and
``choices`` (``"(A) opt1 (B) opt2 ..."``); the label is the letter of the **first** option
equal to ``q_ans`` (the file has no answer key; 10 test questions repeat the answer text,
where the first copy wins). The explanation is ``taskB``, the free-flow explanation.
"""

from __future__ import annotations

import csv
import io
import os

from ..errors import DataError
from ..types import Example
from .common import ErrorHandler, check_words, csv_records, dataset_dir, emit, read_text, source_name
from .words import split_words

LABELS = ("A", "B", "C", "D", "E")
FIELDS = ("question", "choices")
COLUMNS = ("q_no", "q_text", "q_op1", "q_op2", "q_op3", "q_op4", "q_op5", "q_ans", "taskB")


def choices_text(options: list[str]) -> str:
    """``["greedy", "worry"]`` -> ``"(A) greedy (B) worry"`` (whitespace inside options collapsed)."""
    return " ".join(f"({letter}) {' '.join(opt.split())}" for letter, opt in zip(LABELS, options))


def load(
    data_dir: str | os.PathLike[str] | None,
    *,
    on_error: ErrorHandler | None = None,
    split: str = "test",
) -> list[Example]:
    """All questions of one split, in file order (ids are the CommonsenseQA ``q_no``)."""
    folder = dataset_dir(data_dir, "ecqa", f"cqa_data_{split}.csv")
    path = folder / f"cqa_data_{split}.csv"
    reader = csv.reader(io.StringIO(read_text(path), newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise DataError(str(path), 1, None, "empty file (no header)") from None
    col = {name.strip(): i for i, name in enumerate(header)}
    for name in COLUMNS:
        if name not in col:
            raise DataError(str(path), 1, name, "missing column in the header")
    examples: list[Example] = []
    for start, row in csv_records(reader, path):
        try:
            if len(row) != len(header):
                raise DataError(str(path), start, None, f"expected {len(header)} fields, found {len(row)}")
            get = lambda name: row[col[name]]  # noqa: E731
            options = [" ".join(get(f"q_op{i}").split()) for i in range(1, 6)]
            answer = " ".join(get("q_ans").split())
            if answer not in options:
                raise DataError(str(path), start, "q_ans", f"answer {answer!r} is not one of the five options")
            question = check_words(split_words(get("q_text")), path, start, "q_text")
            for i, opt in enumerate(options, 1):
                if not opt:
                    raise DataError(str(path), start, f"q_op{i}", "empty option")
        except DataError as e:
            emit(e, on_error)
            continue
        explanation = " ".join(get("taskB").split())
        examples.append(Example(
            id=get("q_no").strip(),
            fields={"question": question, "choices": split_words(choices_text(options))},
            label=LABELS[options.index(answer)],
            explanations=(explanation,) if explanation else (),
            source=f"{source_name(path)}:{start}",
        ))
    return examples
