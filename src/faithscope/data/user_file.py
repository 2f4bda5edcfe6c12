"""A data file of your own (``--data-file FILE --task NAME|FILE.toml``; dataset ``file``).

Formats by extension: ``.jsonl``/``.ndjson`` (one JSON object per line), ``.csv`` (a header
row, then one record per row) and ``.parquet`` (needs ``pyarrow`` or ``duckdb``). One record
per example, with:

* each of the task's fields as text (``"premise": "A man ..."``); words are whitespace words,
  as everywhere in faithscope;
* ``label``: one of the task's labels (exactly, or the one equal to it ignoring case);
* ``id`` (optional): the example id; default ``line-N`` (N = the record's line; the row number
  for Parquet);
* ``explanation`` (optional): a free-text human explanation;
* the human rationale in ONE of these forms, or none (then k = 0 for TOP-VAR):

  - ``rationale_words``: global word positions over the task's fields in order (the first word
    of the second field is ``len(first field's words)``); a JSON list, in a CSV cell also
    ``"0 3 4"`` or ``"0,3,4"``;
  - ``rationale_spans``: character spans ``[start, end)`` per field into that field's text,
    ``{"text": [[0, 5], [12, 17]]}``; a word that a span overlaps is marked;
  - ``<field>_marked``: the field's text with ``*word*`` marks (e-SNLI's convention,
    punctuation may sit inside the stars: ``*lunch.*``). The plain field may then be left out;
    when both are given the marked text without stars must equal it.

All three forms give the same positions for the same marked words (tests/data/test_user_file.py).
A malformed record is a :class:`DataError` naming file, line and field (``--skip-invalid``
counts and skips them). Keys starting with ``rationale`` other than the two above, and
``X_marked`` for a field the task does not have, are errors (a misspelt form must not
silently give an example without a rationale); other extra keys are ignored.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from ..errors import ConfigError, DataError
from ..types import Example
from .common import ErrorHandler, SeenIds, check_words, csv_records, emit, match_label, parse_json_object, read_text, source_name
from .words import parse_marked, split_words, words_in_char_spans

if TYPE_CHECKING:
    from ..tasks import Task

FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet"}
MARKED = "_marked"
WORDS_KEY, SPANS_KEY = "rationale_words", "rationale_spans"
PARQUET_HINT = "reading Parquet needs pyarrow or duckdb: pip install pyarrow (or pip install 'faithscope[parquet]')"


def load(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    on_error: ErrorHandler | None = None,
    task: "Task | None" = None,
    path: str | os.PathLike[str] | None = None,
) -> list[Example]:
    """Every valid record of ``path`` as an :class:`Example` of ``task`` (``data_dir`` is unused)."""
    if path is None:
        raise ConfigError("dataset 'file' reads your own data: pass --data-file FILE (.jsonl, .csv or .parquet)")
    if task is None:
        raise ConfigError("--data-file needs a task: pass --task NAME or --task FILE.toml (labels, prompts, fields)")
    file = Path(path).expanduser()
    examples: list[Example] = []
    seen = SeenIds("id")
    records = 0
    for line, rec in read_records(file):
        records += 1
        try:
            ex = parse_record(rec, task, file, line)
            seen.check(ex.id, file, line)
        except DataError as e:
            emit(e, on_error)
            continue
        examples.append(ex)
    if not records:
        raise DataError(str(file), None, None, "no records")
    return examples


def file_format(path: Path) -> str:
    """``jsonl``, ``csv`` or ``parquet`` from the file's extension, or a ConfigError."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ConfigError(f"--data-file {path}: unknown extension {path.suffix or '(none)'!r}; use one of {', '.join(FORMATS)}")
    return fmt


def read_records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line, record)`` of each record of ``path``: the JSONL line, the CSV line where the row
    starts, the Parquet row number (from 1). A syntax error is a DataError naming the line."""
    fmt = file_format(path)
    if not path.is_file():
        raise DataError(str(path), None, None, "file not found (--data-file)")
    if fmt == "jsonl":
        for line, raw in enumerate(read_text(path).splitlines(), start=1):
            if raw.strip():
                yield line, parse_json_object(raw, path, line)
    elif fmt == "csv":
        yield from _csv(path)
    else:
        yield from enumerate(_parquet_rows(path), start=1)


def _csv(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.reader(read_text(path).splitlines(keepends=True))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise DataError(str(path), 1, None, "empty file (no header)") from None
    except csv.Error as e:
        raise DataError(str(path), 1, None, f"bad CSV header: {e}") from None
    dup = sorted({h for h in header if header.count(h) > 1})
    if dup:
        raise DataError(str(path), 1, dup[0], "duplicate column in the header")
    for start, row in csv_records(reader, path):
        if len(row) != len(header):
            raise DataError(str(path), start, None, f"expected {len(header)} fields, found {len(row)}")
        yield start, {h: v for h, v in zip(header, row) if v != ""}  # an empty cell is an absent value


def _parquet_rows(path: Path) -> list[dict[str, Any]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        pq = None
    if pq is not None:
        try:
            return pq.read_table(path).to_pylist()
        except Exception as e:  # pyarrow raises ArrowInvalid/OSError for a file that is not Parquet
            raise DataError(str(path), None, None, f"not a readable Parquet file: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
    try:
        import duckdb
    except ImportError:
        raise ConfigError(f"--data-file {path}: {PARQUET_HINT}") from None
    try:
        rel = duckdb.read_parquet(str(path))
        cols = rel.columns
        return [dict(zip(cols, row)) for row in rel.fetchall()]
    except Exception as e:  # duckdb.Error subclasses
        raise DataError(str(path), None, None, f"not a readable Parquet file: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from None


def parse_record(rec: dict[str, Any], task: "Task", path: Path, line: int) -> Example:
    """One record as an :class:`Example` of ``task`` (fields in task order, global positions)."""
    rec = {k: v for k, v in rec.items() if v is not None}  # JSON null / Parquet null / empty CSV cell = absent
    for key in rec:
        if key.startswith("rationale") and key not in (WORDS_KEY, SPANS_KEY):
            raise DataError(str(path), line, key, f"unknown rationale form; use {WORDS_KEY}, {SPANS_KEY} or <field>{MARKED}")
        if key.endswith(MARKED) and key[: -len(MARKED)] not in task.fields:
            raise DataError(str(path), line, key, f"no task field {key[: -len(MARKED)]!r} to mark; the fields are {', '.join(task.fields)}")

    fields: dict[str, tuple[str, ...]] = {}
    marks: dict[str, frozenset[int]] = {}
    for name in task.fields:
        text, marked = _text(rec, name, path, line), _text(rec, name + MARKED, path, line)
        if text is None and marked is None:
            raise DataError(str(path), line, name, f"missing field (give {name!r} or {name + MARKED!r})")
        words = split_words(text) if text is not None else None
        if marked is not None:
            marked_words, positions = parse_marked(marked)
            if "" in marked_words:
                raise DataError(str(path), line, name + MARKED, "a '*' marks no word (stars must wrap a word: *word*)")
            if words is not None and marked_words != words:
                diff = next((i for i, (a, b) in enumerate(zip(marked_words, words)) if a != b), min(len(marked_words), len(words)))
                raise DataError(str(path), line, name + MARKED, f"the marked text without '*' differs from {name!r} at word {diff}")
            words = marked_words
            if "*" in marked:
                marks[name] = positions
        fields[name] = check_words(words, path, line, name)

    forms = [k for k in (WORDS_KEY, SPANS_KEY) if k in rec] + [n + MARKED for n in marks][:1]
    if len(forms) > 1:
        raise DataError(str(path), line, forms[1], f"the human rationale is given in more than one form "
                        f"({', '.join(forms)}); give one of {WORDS_KEY}, {SPANS_KEY} or <field>{MARKED}")
    offsets, start = {}, 0
    for name in task.fields:
        offsets[name] = start
        start += len(fields[name])
    if WORDS_KEY in rec:
        rationale = _global_words(rec[WORDS_KEY], start, path, line)
    elif SPANS_KEY in rec:
        rationale = _spans(rec[SPANS_KEY], rec, task, offsets, path, line)
    else:
        rationale = frozenset(offsets[n] + i for n, ps in marks.items() for i in ps)

    label = match_label(_scalar(rec, "label", path, line), task.labels, path, line, "label")
    example_id = _scalar(rec, "id", path, line, required=False) or f"line-{line}"
    explanation = rec.get("explanation")
    if explanation is not None and not isinstance(explanation, str):
        raise DataError(str(path), line, "explanation", "must be a string")
    return Example(
        id=example_id,
        fields=fields,
        label=label,
        rationale=rationale,
        annotator_rationales=(rationale,) if rationale else (),
        explanations=(explanation.strip(),) if explanation and explanation.strip() else (),
        source=f"{source_name(path, 1)}:{line}",
    )


def _text(rec: dict[str, Any], key: str, path: Path, line: int) -> str | None:
    value = rec.get(key)
    if value is not None and not isinstance(value, str):
        raise DataError(str(path), line, key, f"must be a string, got {type(value).__name__}")
    return value


def _scalar(rec: dict[str, Any], key: str, path: Path, line: int, required: bool = True) -> str | None:
    """``label``/``id`` as a stripped string (a number is accepted as its text)."""
    value = rec.get(key)
    if value is None:
        if required:
            raise DataError(str(path), line, key, "missing")
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise DataError(str(path), line, key, f"must be a string, got {value!r}")
    text = str(value).strip()
    if not text:
        raise DataError(str(path), line, key, "empty")
    return text


def _global_words(value: Any, n_words: int, path: Path, line: int) -> frozenset[int]:
    """``rationale_words``: a list of ints (JSON list; a CSV cell may also be "0 3" or "0,3")."""
    if isinstance(value, str):
        text = value.strip()
        try:
            value = json.loads(text) if text.startswith("[") else [int(t) for t in text.replace(",", " ").split()]
        except ValueError:
            raise DataError(str(path), line, WORDS_KEY, f"not a list of word positions: {text!r}") from None
    if not isinstance(value, (list, tuple)) or not all(isinstance(i, int) and not isinstance(i, bool) for i in value):
        raise DataError(str(path), line, WORDS_KEY, f"must be a list of integer word positions, got {value!r}")
    bad = [i for i in value if not 0 <= i < n_words]
    if bad:
        raise DataError(str(path), line, WORDS_KEY, f"position(s) {bad} outside the example's {n_words} words (0 to {n_words - 1})")
    return frozenset(value)


def _spans(value: Any, rec: dict[str, Any], task: "Task", offsets: dict[str, int], path: Path, line: int) -> frozenset[int]:
    """``rationale_spans``: ``{field: [[start, end], ...]}`` character spans into each field's text."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as e:
            raise DataError(str(path), line, SPANS_KEY, f"not valid JSON: {e.msg} (column {e.colno})") from None
    if not isinstance(value, dict):
        raise DataError(str(path), line, SPANS_KEY, 'must map fields to lists of [start, end] spans, e.g. {"text": [[0, 5]]}')
    out: set[int] = set()
    for name, spans in value.items():
        if spans is None:  # a Parquet struct column has every field; an absent one is null
            continue
        if name not in task.fields:
            raise DataError(str(path), line, SPANS_KEY, f"unknown field {name!r}; the fields are {', '.join(task.fields)}")
        text = rec.get(name)
        if not isinstance(text, str):
            raise DataError(str(path), line, SPANS_KEY, f"character spans of {name!r} need the field's plain text {name!r}")
        pairs: list[tuple[int, int]] = []
        for span in spans if isinstance(spans, (list, tuple)) else [None]:
            if (not isinstance(span, (list, tuple)) or len(span) != 2
                    or not all(isinstance(v, int) and not isinstance(v, bool) for v in span) or not 0 <= span[0] < span[1] <= len(text)):
                raise DataError(str(path), line, SPANS_KEY,
                                f"{name!r}: a span must be [start, end] with 0 <= start < end <= {len(text)} (characters), got {span!r}")
            pairs.append((span[0], span[1]))
        for s, e in pairs:
            if not words_in_char_spans(text, [(s, e)]):
                raise DataError(str(path), line, SPANS_KEY, f"{name!r}: span [{s}, {e}) covers no word (only whitespace)")
        out.update(offsets[name] + i for i in words_in_char_spans(text, pairs))
    return frozenset(out)
