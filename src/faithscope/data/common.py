"""Helpers shared by the dataset loaders: locating files, reporting malformed records,
and the checks every record gets (known label, no empty field).

A loader never decides on its own whether a malformed record stops the load: it hands the
:class:`DataError` to :func:`emit`, which raises it (the default) or passes it to the
caller's ``on_error`` handler (``load_dataset(..., skip_invalid=True)`` counts them).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from ..errors import ConfigError, DataError

ErrorHandler = Callable[[DataError], None]
"""Receives each malformed record's error when the caller chose to skip invalid records."""

DATA_ENV = "FAITHSCOPE_DATA"
HOW_TO_POINT = f"pass --data-dir DIR (data_dir=...) or set {DATA_ENV}"


def emit(error: DataError, on_error: ErrorHandler | None) -> None:
    """Raise ``error``, or hand it to ``on_error`` so that the loader can skip the record."""
    if on_error is None:
        raise error
    on_error(error)


def dataset_dir(data_dir: str | os.PathLike[str] | None, subdir: str, marker: str) -> Path:
    """The folder holding one dataset's files.

    ``data_dir`` is the data root (holding ``esnli/``, ``fever/``, ...) or the dataset's own
    folder; ``marker`` is a file or folder name that identifies the dataset's folder. ``None``
    falls back to the ``FAITHSCOPE_DATA`` environment variable.
    """
    if data_dir is None:
        env = os.environ.get(DATA_ENV)
        if not env:
            raise ConfigError(f"dataset folder {subdir}/ needs a data directory: {HOW_TO_POINT}")
        data_dir = env
    root = Path(data_dir).expanduser()
    if not root.is_dir():
        raise ConfigError(f"data directory {root} does not exist: {HOW_TO_POINT}")
    if (root / subdir).is_dir():
        return root / subdir
    if any(root.glob(marker)):
        return root
    raise DataError(str(root / subdir), None, None,
                    f"folder not found (the data directory must hold {subdir}/); {HOW_TO_POINT}")


def require_file(path: Path) -> Path:
    """``path`` if it is a file, else a DataError that says how to point at the data."""
    if not path.is_file():
        raise DataError(str(path), None, None, f"file not found; {HOW_TO_POINT}")
    return path


def read_text(path: Path) -> str:
    """The whole file as UTF-8 text, without a byte-order mark (bad UTF-8 is a DataError)."""
    require_file(path)
    try:
        return path.read_text(encoding="utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as e:
        raise DataError(str(path), None, None, f"not valid UTF-8 ({e.reason} at byte {e.start})") from None


def source_name(path: Path, levels: int = 2) -> str:
    """A short, machine-independent name for ``Example.source``: the last ``levels`` parts."""
    return "/".join(path.parts[-levels:])


def check_label(label: object, labels: Iterable[str], path: Path, line: int, field: str) -> str:
    """The label if it is one of ``labels``; otherwise a DataError naming the record."""
    allowed = tuple(labels)
    if not isinstance(label, str) or label not in allowed:
        raise DataError(str(path), line, field, f"unknown label {label!r}; expected one of {', '.join(allowed)}")
    return label


def match_label(value: object, labels: Iterable[str], path: Path, line: int, field: str) -> str:
    """The task label ``value`` names: exactly, or else the one label equal to it ignoring case."""
    allowed = tuple(labels)
    if isinstance(value, str):
        if value in allowed:
            return value
        folded = [lab for lab in allowed if lab.casefold() == value.casefold()]
        if len(folded) == 1:
            return folded[0]
    raise DataError(str(path), line, field, f"unknown label {value!r}; expected one of {', '.join(allowed)}")


def check_words(words: tuple[str, ...], path: Path, line: int, field: str) -> tuple[str, ...]:
    """The words of a field, or a DataError when the field is empty (nothing to classify)."""
    if not words:
        raise DataError(str(path), line, field, "empty text")
    return words


def parse_json_object(raw: str, path: Path, line: int) -> dict[str, Any]:
    """One JSON Lines record as a dict, or a DataError naming the file, line and problem."""
    try:
        rec = json.loads(raw)
    except json.JSONDecodeError as e:
        raise DataError(str(path), line, None, f"not valid JSON: {e.msg} (column {e.colno})") from None
    if not isinstance(rec, dict):
        raise DataError(str(path), line, None, "a record must be a JSON object")
    return rec


class SeenIds:
    """The one duplicate-id rule of every loader: the second record with an id already seen
    is a :class:`DataError` naming both places (raised, or counted with ``--skip-invalid``;
    the first record is kept either way). Never merged silently."""

    def __init__(self, field: str = "id"):
        self.field = field
        self.first: dict[str, tuple[str, int]] = {}

    def check(self, example_id: str, path: Path, line: int) -> None:
        """Remember ``example_id`` or raise the duplicate error."""
        if example_id in self.first:
            first_path, first_line = self.first[example_id]
            where = f"line {first_line}" if first_path == str(path) else f"{first_path}, line {first_line}"
            raise DataError(str(path), line, self.field, f"duplicate {self.field} {example_id!r} (first on {where})")
        self.first[example_id] = (str(path), line)


def csv_records(reader: Any, path: Path) -> Iterator[tuple[int, list[str]]]:
    """``(physical line where the record starts, fields)`` of each non-empty record of a
    ``csv.reader`` (after its header, if the caller read one): quoted fields may span lines,
    so the start line is tracked from ``reader.line_num``; a CSV syntax error is a DataError."""
    import csv

    line = reader.line_num  # last physical line consumed; the next record starts after it
    while True:
        start = line + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            raise DataError(str(path), reader.line_num, None, f"bad CSV: {e}") from None
        line = reader.line_num
        if row and row != [""]:
            yield start, row
