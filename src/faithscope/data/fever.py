"""FEVER in ERASER form (dataset ``fever``): ``fever/<split>.jsonl`` plus ``fever/docs/<docid>``.

Fields: ``claim`` = the ``query`` split on whitespace, ``evidence`` = the words of the claim's
one document (the file's lines joined; ERASER token offsets count whitespace tokens over the
whole document). Human rationale = the union of the tokens of every evidence span of every
(alternative) evidence set, shifted by the number of claim words; the claim carries none.
Every span is checked: ``" ".join(doc.split()[start_token:end_token]) == text``, so a
mis-cut document or a shifted offset is a DataError, not a silently wrong rationale.
FEVER is ERASER's format with one document per claim: the parsing is :mod:`.eraser`'s
(``--dataset eraser --task fever`` on the same folder gives the same examples).
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import DataError
from ..types import Example
from .common import ErrorHandler, SeenIds, check_words, dataset_dir, emit, match_label, parse_json_object, read_text, source_name
from .eraser import Documents, annotation_id, check_keys, evidence_spans, span_positions
from .words import split_words

LABELS = ("supports", "refutes")
REQUIRED_KEYS = ("annotation_id", "classification", "query", "docids", "evidences")


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
    docs = Documents(docs_dir.parent, docs_dir)
    examples: list[Example] = []
    seen = SeenIds("annotation_id")
    for line, raw in enumerate(read_text(path).splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            ex = _parse_record(raw, path, line, docs)
            seen.check(ex.id, path, line)
            examples.append(ex)
        except DataError as e:
            emit(e, on_error)
    return examples


def _parse_record(raw: str, path: Path, line: int, docs: Documents) -> Example:
    """One claim; the generic ERASER checks (:mod:`.eraser`) plus FEVER's one-document rule."""
    rec = parse_json_object(raw, path, line)
    check_keys(rec, REQUIRED_KEYS, path, line)
    ann_id = annotation_id(rec, path, line)
    label = match_label(rec["classification"], LABELS, path, line, "classification")
    if not isinstance(rec["query"], str):
        raise DataError(str(path), line, "query", "must be a string")
    claim = check_words(split_words(rec["query"]), path, line, "query")

    docids = rec["docids"]
    if not isinstance(docids, list) or len(docids) != 1 or not isinstance(docids[0], str):
        raise DataError(str(path), line, "docids", f"expected a list of exactly one document id, got {docids!r}")
    docid = docids[0]
    doc = docs.words(docid, path, line)

    offset = len(claim)
    rationale: set[int] = set()
    for span in evidence_spans(rec["evidences"], path, line):
        if span["docid"] != docid:
            raise DataError(str(path), line, "evidences",
                            f"span refers to document {span['docid']!r}, not the claim's document {docid!r}")
        rationale.update(offset + t for t in span_positions(span, doc, path, line))
    return Example(
        id=ann_id,
        fields={"claim": claim, "evidence": doc},
        label=label,
        rationale=frozenset(rationale),
        source=f"{source_name(path)}:{line}",
    )
