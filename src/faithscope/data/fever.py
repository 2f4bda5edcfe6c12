"""FEVER in ERASER form (dataset ``fever``): ``fever/<split>.jsonl`` plus ``fever/docs/<docid>``.

Fields: ``claim`` = the ``query`` split on whitespace, ``evidence`` = the words of the claim's
one document (the file's lines joined; ERASER token offsets count whitespace tokens over the
whole document). Human rationale = the union of the tokens of every evidence span of every
(alternative) evidence set, shifted by the number of claim words; the claim carries none.
Every span is checked: ``" ".join(doc.split()[start_token:end_token]) == text``, so a
mis-cut document or a shifted offset is a DataError, not a silently wrong rationale.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import DataError
from ..types import Example
from .common import ErrorHandler, SeenIds, check_label, check_words, dataset_dir, emit, parse_json_object, read_text, source_name
from .words import split_words

LABELS = ("supports", "refutes")
REQUIRED_KEYS = ("annotation_id", "classification", "query", "docids", "evidences")
SPAN_KEYS = ("docid", "start_token", "end_token", "text")


def load(
    data_dir: str | os.PathLike[str] | None,
    *,
    on_error: ErrorHandler | None = None,
    split: str = "test",
) -> list[Example]:
    """All claims of ``fever/<split>.jsonl`` in line order (ids are the ``annotation_id``)."""
    folder = dataset_dir(data_dir, "fever", f"{split}.jsonl")
    return read_jsonl(folder / f"{split}.jsonl", folder / "docs", on_error=on_error)


def read_jsonl(path: Path, docs_dir: Path, *, on_error: ErrorHandler | None = None) -> list[Example]:
    """Parse one ERASER FEVER annotation file against its document folder."""
    docs: dict[str, tuple[str, ...]] = {}
    examples: list[Example] = []
    seen = SeenIds("annotation_id")
    for line, raw in enumerate(read_text(path).splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            ex = _parse_record(raw, path, line, docs_dir, docs)
            seen.check(ex.id, path, line)
            examples.append(ex)
        except DataError as e:
            emit(e, on_error)
    return examples


def _parse_record(raw: str, path: Path, line: int, docs_dir: Path, docs: dict[str, tuple[str, ...]]) -> Example:
    rec = parse_json_object(raw, path, line)
    for key in REQUIRED_KEYS:
        if key not in rec:
            raise DataError(str(path), line, key, "missing key")

    ann_id = rec["annotation_id"]
    if not isinstance(ann_id, (str, int)) or isinstance(ann_id, bool) or str(ann_id).strip() == "":
        raise DataError(str(path), line, "annotation_id", f"must be a non-empty string, got {ann_id!r}")
    cls = rec["classification"]
    label = check_label(cls.lower() if isinstance(cls, str) else cls, LABELS, path, line, "classification")
    if not isinstance(rec["query"], str):
        raise DataError(str(path), line, "query", "must be a string")
    claim = check_words(split_words(rec["query"]), path, line, "query")

    docids = rec["docids"]
    if not isinstance(docids, list) or len(docids) != 1 or not isinstance(docids[0], str):
        raise DataError(str(path), line, "docids", f"expected a list of exactly one document id, got {docids!r}")
    docid = docids[0]
    doc = _document(docid, docs_dir, docs, path, line)

    offset = len(claim)
    rationale: set[int] = set()
    for span in _spans(rec["evidences"], path, line):
        rationale.update(offset + t for t in _span_tokens(span, docid, doc, path, line))
    return Example(
        id=str(ann_id),
        fields={"claim": claim, "evidence": doc},
        label=label,
        rationale=frozenset(rationale),
        source=f"{source_name(path)}:{line}",
    )


def _document(docid: str, docs_dir: Path, cache: dict[str, tuple[str, ...]], path: Path, line: int) -> tuple[str, ...]:
    """The document's whitespace words (read once per docid)."""
    if docid in cache:
        return cache[docid]
    if not docid or "/" in docid or "\\" in docid or docid in (".", ".."):
        raise DataError(str(path), line, "docids", f"invalid document id {docid!r}")
    doc_path = docs_dir / docid
    if not doc_path.is_file():
        raise DataError(str(path), line, "docids", f"document file not found: {doc_path}")
    words = split_words(read_text(doc_path))
    if not words:
        raise DataError(str(path), line, "docids", f"empty text: document {doc_path} has no words")
    cache[docid] = words
    return words


def _spans(evidences: Any, path: Path, line: int) -> list[dict[str, Any]]:
    """Flatten the alternative evidence sets into one list of span objects (shape-checked)."""
    if not isinstance(evidences, list):
        raise DataError(str(path), line, "evidences", "must be a list of evidence sets")
    spans: list[dict[str, Any]] = []
    for evidence_set in evidences:
        if not isinstance(evidence_set, list):
            raise DataError(str(path), line, "evidences", "each evidence set must be a list of spans")
        for span in evidence_set:
            if not isinstance(span, dict):
                raise DataError(str(path), line, "evidences", "each span must be a JSON object")
            for key in SPAN_KEYS:
                if key not in span:
                    raise DataError(str(path), line, "evidences", f"a span has no {key!r}")
            spans.append(span)
    return spans


def _span_tokens(span: dict[str, Any], docid: str, doc: tuple[str, ...], path: Path, line: int) -> range:
    """Document token positions of one span, after checking they reproduce its text."""
    if span["docid"] != docid:
        raise DataError(str(path), line, "evidences",
                        f"span refers to document {span['docid']!r}, not the claim's document {docid!r}")
    start, end = span["start_token"], span["end_token"]
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)) or not 0 <= start < end <= len(doc):
        raise DataError(str(path), line, "evidences",
                        f"token span [{start!r}, {end!r}) is not inside document {docid!r} ({len(doc)} words)")
    if " ".join(doc[start:end]) != span["text"]:
        raise DataError(str(path), line, "evidences",
                        f"tokens [{start}, {end}) of document {docid!r} do not reproduce the span text")
    return range(start, end)
