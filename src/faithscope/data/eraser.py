"""Any ERASER-format dataset (dataset ``eraser``, needs ``--task``): DeYoung et al. 2020.

An ERASER directory holds ``{train,val,test}.jsonl`` (one *annotation* per line) and the
documents, either as files ``docs/<docid>`` or as one ``docs.jsonl`` of
``{"docid": ..., "document": ...}`` lines (ERASER's ``load_documents`` reads either, never both).
An annotation is::

    {"annotation_id": "...", "classification": "SUPPORTS", "query": "...", "query_type": null,
     "docids": ["Doc_A", "Doc_B"],
     "evidences": [[{"docid": "Doc_A", "start_token": 0, "end_token": 8, "text": "...", ...}], ...]}

Words are the whitespace tokens of a document, all its lines joined; ERASER token offsets
count them over the whole document. Every span is checked: its tokens, joined by one space,
must spell its ``text`` (whitespace-normalised), so a shifted offset or a mis-cut document is a
:class:`DataError`, never a silently wrong rationale. ``docids`` may be ``null`` (Movie
Reviews): the documents are then those its evidence spans name, or the document named like
the annotation id.

How a task's fields receive the annotation (the task file's optional ``[eraser]`` table):
``query_field`` (default: the first field when the task has more than one, else none; ``""``
= the query is not shown, as for e-SNLI whose two documents are premise and hypothesis) takes
the ``query`` split on whitespace; the other fields take the documents in ``docids`` order,
one each, and documents beyond the last field are appended to it (so a one-field task reads
all documents of an annotation as one text). Human rationale = the union of the tokens of all
evidence spans of all evidence groups (ERASER's scorer takes the union too), shifted to global
positions; the query carries none. The label is ``classification``, matched to the task's
labels exactly or, failing that, case-insensitively (``SUPPORTS`` -> ``supports``).

The parsing helpers here (:class:`Documents`, :func:`evidence_spans`, :func:`span_positions`,
:func:`annotation_id`) are shared with :mod:`.fever`, which is this format with one document.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from ..errors import ConfigError, DataError
from ..types import Example
from .common import ErrorHandler, SeenIds, check_words, emit, match_label, parse_json_object, read_text, source_name
from .words import split_words

if TYPE_CHECKING:  # the loader receives the resolved task; data must not import tasks at run time
    from ..tasks import Task

SPLITS = ("train", "val", "test")
SPAN_KEYS = ("docid", "start_token", "end_token", "text")
REQUIRED_KEYS = ("annotation_id", "classification", "evidences")


def load(
    data_dir: str | os.PathLike[str] | None,
    *,
    on_error: ErrorHandler | None = None,
    task: "Task | None" = None,
    split: str = "test",
) -> list[Example]:
    """All annotations of ``<data_dir>/<split>.jsonl`` in line order, with the fields of ``task``."""
    if task is None:
        raise ConfigError("dataset 'eraser' needs a task: pass --task NAME or --task FILE.toml (labels, prompts, fields)")
    if split not in SPLITS:
        raise ConfigError(f"unknown ERASER split {split!r}; choose one of {', '.join(SPLITS)}")
    if data_dir is None:
        raise ConfigError("dataset 'eraser' reads the ERASER directory given by --data-dir DIR (holding test.jsonl and docs/ or docs.jsonl)")
    folder = Path(data_dir).expanduser()
    if not folder.is_dir():
        raise ConfigError(f"--data-dir {folder} does not exist (dataset 'eraser' needs the ERASER directory)")
    path = folder / f"{split}.jsonl"
    if not path.is_file():
        raise DataError(str(path), None, None, "file not found; an ERASER directory holds {train,val,test}.jsonl and docs/ "
                        "or docs.jsonl: pass it as --data-dir (and --split)")
    return read_annotations(path, Documents(folder), task, on_error=on_error)


@dataclass(frozen=True)
class FieldMap:
    """Which task field gets the query and which get the documents (see the module doc)."""

    query_field: str | None
    document_fields: tuple[str, ...]

    @classmethod
    def of(cls, task: "Task") -> "FieldMap":
        query = task.eraser_query_field
        if query is None:
            query = task.fields[0] if len(task.fields) > 1 else ""
        docs = tuple(f for f in task.fields if f != query)
        if not docs:
            raise ConfigError(f"task {task.name!r}: an ERASER task needs a field for the documents besides query_field {query!r}")
        return cls(query or None, docs)


def read_annotations(path: Path, docs: "Documents", task: "Task", *, on_error: ErrorHandler | None = None) -> list[Example]:
    """Parse one ERASER annotation file against its documents, into examples of ``task``."""
    fields = FieldMap.of(task)
    examples: list[Example] = []
    seen = SeenIds("annotation_id")
    for line, raw in enumerate(read_text(path).splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            ex = _parse_record(raw, path, line, docs, task, fields)
            seen.check(ex.id, path, line)
            examples.append(ex)
        except DataError as e:
            emit(e, on_error)
    return examples


def _parse_record(raw: str, path: Path, line: int, docs: "Documents", task: "Task", fields: FieldMap) -> Example:
    rec = parse_json_object(raw, path, line)
    check_keys(rec, REQUIRED_KEYS, path, line)
    ann_id = annotation_id(rec, path, line)
    label = match_label(rec["classification"], task.labels, path, line, "classification")
    spans = evidence_spans(rec["evidences"], path, line)
    docids = document_ids(rec, ann_id, spans, docs, path, line)
    if len(docids) < len(fields.document_fields):
        raise DataError(str(path), line, "docids", f"task {task.name!r} has {len(fields.document_fields)} document field(s) "
                        f"({', '.join(fields.document_fields)}) but this annotation has {len(docids)} document(s)")

    words: dict[str, list[str]] = {f: [] for f in task.fields}
    if fields.query_field is not None:
        query = rec.get("query")
        if not isinstance(query, str):
            raise DataError(str(path), line, "query", f"must be a string (task field {fields.query_field!r} shows it)")
        words[fields.query_field] = list(check_words(split_words(query), path, line, "query"))
    doc_start: dict[str, tuple[str, int]] = {}  # docid -> (field, offset of its first word inside that field)
    for i, docid in enumerate(docids):
        field = fields.document_fields[min(i, len(fields.document_fields) - 1)]
        if docid in doc_start:
            raise DataError(str(path), line, "docids", f"document {docid!r} is listed twice")
        doc_start[docid] = (field, len(words[field]))
        words[field].extend(docs.words(docid, path, line))

    field_offsets, start = {}, 0
    for f in task.fields:
        field_offsets[f] = start
        start += len(words[f])
    rationale: set[int] = set()
    for span in spans:
        if span["docid"] not in doc_start:
            raise DataError(str(path), line, "evidences",
                            f"span refers to document {span['docid']!r}, which is not among the annotation's documents {list(docids)}")
        field, within = doc_start[span["docid"]]
        doc = docs.words(span["docid"], path, line)
        rationale.update(field_offsets[field] + within + t for t in span_positions(span, doc, path, line))
    return Example(
        id=ann_id,
        fields={f: tuple(words[f]) for f in task.fields},
        label=label,
        rationale=frozenset(rationale),
        source=f"{source_name(path)}:{line}",
    )


# -- helpers shared with fever.py ----------------------------------------------------------

def check_keys(rec: dict[str, Any], keys: Iterable[str], path: Path, line: int) -> None:
    """Each of ``keys`` is in the record, else a DataError naming the first missing one."""
    for key in keys:
        if key not in rec:
            raise DataError(str(path), line, key, "missing key")


def annotation_id(rec: dict[str, Any], path: Path, line: int) -> str:
    """The record's ``annotation_id`` as a non-empty string (ERASER ids may be numbers)."""
    ann_id = rec["annotation_id"]
    if not isinstance(ann_id, (str, int)) or isinstance(ann_id, bool) or str(ann_id).strip() == "":
        raise DataError(str(path), line, "annotation_id", f"must be a non-empty string, got {ann_id!r}")
    return str(ann_id)


def document_ids(rec: dict[str, Any], ann_id: str, spans: list[dict[str, Any]], docs: "Documents", path: Path, line: int) -> tuple[str, ...]:
    """The annotation's documents: ``docids``, or (``null``/absent) those its spans name, or
    the document named like the annotation (ERASER Movie Reviews)."""
    docids = rec.get("docids")
    if docids is None:
        named = tuple(dict.fromkeys(s["docid"] for s in spans))
        if named:
            return named
        if docs.has(ann_id):
            return (ann_id,)
        raise DataError(str(path), line, "docids", "no docids, no evidence spans and no document named like the annotation id")
    if not isinstance(docids, list) or not docids or not all(isinstance(d, str) for d in docids):
        raise DataError(str(path), line, "docids", f"expected a non-empty list of document ids, got {docids!r}")
    return tuple(docids)


def evidence_spans(evidences: Any, path: Path, line: int) -> list[dict[str, Any]]:
    """Flatten the alternative evidence groups into one list of span objects (shape-checked)."""
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
            if not isinstance(span["docid"], str):
                raise DataError(str(path), line, "evidences", f"a span's docid must be a string, got {span['docid']!r}")
            spans.append(span)
    return spans


def span_positions(span: dict[str, Any], doc: tuple[str, ...], path: Path, line: int) -> range:
    """Document token positions ``[start_token, end_token)`` of one span, after checking that
    they lie inside the document and spell the span's text."""
    docid = span["docid"]
    start, end = span["start_token"], span["end_token"]
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)) or not 0 <= start < end <= len(doc):
        raise DataError(str(path), line, "evidences",
                        f"token span [{start!r}, {end!r}) is not inside document {docid!r} ({len(doc)} words)")
    text = span["text"]
    if not isinstance(text, str) or " ".join(doc[start:end]) != " ".join(text.split()):
        raise DataError(str(path), line, "evidences",
                        f"tokens [{start}, {end}) of document {docid!r} do not reproduce the span text")
    return range(start, end)


class Documents:
    """The documents of one ERASER directory: ``docs/<docid>`` files or one ``docs.jsonl``,
    read on first use and cached (a document's words are ``split_words`` of its whole text)."""

    def __init__(self, folder: Path, docs_dir: Path | None = None):
        self.folder = folder
        self.dir = docs_dir if docs_dir is not None else folder / "docs"
        self.jsonl = folder / "docs.jsonl"
        if docs_dir is None and self.dir.is_dir() and self.jsonl.is_file():
            raise DataError(str(folder), None, None, "holds both docs/ and docs.jsonl; keep one (ERASER reads one or the other)")
        self._cache: dict[str, tuple[str, ...]] = {}
        self._table: dict[str, tuple[str, int]] | None = None  # docs.jsonl: docid -> (text, line)

    def _from_jsonl(self) -> dict[str, tuple[str, int]]:
        if self._table is None:
            table: dict[str, tuple[str, int]] = {}
            for line, raw in enumerate(read_text(self.jsonl).splitlines(), start=1):
                if not raw.strip():
                    continue
                rec = parse_json_object(raw, self.jsonl, line)
                docid, text = rec.get("docid"), rec.get("document")
                if not isinstance(docid, str) or not docid:
                    raise DataError(str(self.jsonl), line, "docid", "missing or not a non-empty string")
                if not isinstance(text, str):
                    raise DataError(str(self.jsonl), line, "document", "missing or not a string")
                if docid in table:
                    raise DataError(str(self.jsonl), line, "docid", f"duplicate docid {docid!r} (first on line {table[docid][1]})")
                table[docid] = (text, line)
            self._table = table
        return self._table

    @property
    def uses_jsonl(self) -> bool:
        return not self.dir.is_dir() and self.jsonl.is_file()

    def has(self, docid: str) -> bool:
        if self.uses_jsonl:
            return docid in self._from_jsonl()
        return _safe_docid(docid) and (self.dir / docid).is_file()

    def words(self, docid: str, path: Path, line: int) -> tuple[str, ...]:
        """The document's whitespace words; a DataError naming the annotation that asked."""
        if docid in self._cache:
            return self._cache[docid]
        if self.uses_jsonl:
            entry = self._from_jsonl().get(docid)
            if entry is None:
                raise DataError(str(path), line, "docids", f"document {docid!r} not found in {self.jsonl}")
            where, text = f"{self.jsonl}, line {entry[1]}", entry[0]
        else:
            if not _safe_docid(docid):
                raise DataError(str(path), line, "docids", f"invalid document id {docid!r}")
            doc_path = self.dir / docid
            if not doc_path.is_file():
                raise DataError(str(path), line, "docids", f"document file not found: {doc_path}")
            where, text = str(doc_path), read_text(doc_path)
        words = split_words(text)
        if not words:
            raise DataError(str(path), line, "docids", f"empty text: document {where} has no words")
        self._cache[docid] = words
        return words


def _safe_docid(docid: str) -> bool:
    """A docid that names a file inside ``docs/`` (no path separators, not ``.``/``..``)."""
    return bool(docid) and "/" not in docid and "\\" not in docid and docid not in (".", "..")
