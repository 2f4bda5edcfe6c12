"""AG News topic classification, test split (dataset ``agnews``, task ``agnews``).

Files (``ag_news/``, as published in ``mhjabreel/CharCnn_Keras``, the copy torchtext pins):
``test.csv`` (no header; ``"class","title","description"``, every field quoted) and
``classes.txt`` (line i = the name of class i: World, Sports, Business, Sci/Tech). The model
input is one field ``text`` = title + " " + description; the label is the class *name* in
lower case with ``/`` replaced by ``_`` (``world``, ``sports``, ``business``, ``sci_tech``), so
that it is a plain identifier in the task file. Ids are ``<split>-<line>`` (the file has none).

The published text is damaged; :func:`clean` repairs it (data README, section 6):

* numeric HTML entities lost their ``&`` and a space stands where it was: ``Wednesday #39;s``
  is ``Wednesday's`` and ``the  #36;10 million`` is ``the $10 million``. The one space just
  before ``#NNN;`` (the lost ``&``) is removed and the entity decoded by
  :func:`html.unescape`, which reads the code points 128-159 as Windows-1252 as browsers do
  (``#146;`` -> ``’``, ``#151;`` -> ``—``);
* named entities survive intact (``&lt;TXN.N&gt;``) and are unescaped;
* a backslash marks a line break (``second\\team``; ``\\n`` is a break before an n-word, not an
  escape): every run of backslashes becomes one space.

Whitespace runs then collapse (words are whitespace tokens anyway).
"""

from __future__ import annotations

import csv
import html
import os
import re
from pathlib import Path

from ..errors import DataError
from ..types import Example
from .common import ErrorHandler, SeenIds, check_words, csv_records, dataset_dir, emit, read_text, source_name
from .words import split_words

LABELS = ("world", "sports", "business", "sci_tech")
"""The label names of ``classes.txt`` (World, Sports, Business, Sci/Tech) as task labels."""
FIELDS = ("text",)

_LOST_AMP_ENTITY = re.compile(r" ?#(\d{2,5});")
_BACKSLASHES = re.compile(r"\\+")


def label_name(class_name: str) -> str:
    """``"Sci/Tech"`` -> ``"sci_tech"``: a class name of ``classes.txt`` as a task label."""
    return re.sub(r"[^0-9a-z]+", "_", class_name.strip().lower()).strip("_")


def clean(text: str) -> str:
    """The repaired text of one AG News field (see the module docstring for each rule)."""
    text = _LOST_AMP_ENTITY.sub(lambda m: f"&#{m.group(1)};", text)
    text = html.unescape(text)
    text = _BACKSLASHES.sub(" ", text)
    return " ".join(text.split())


def load(
    data_dir: str | os.PathLike[str] | None,
    *,
    on_error: ErrorHandler | None = None,
    split: str = "test",
    repair: bool = True,
) -> list[Example]:
    """All articles of ``<split>.csv`` in file order; ``repair=False`` keeps the text as published."""
    folder = dataset_dir(data_dir, "ag_news", f"{split}.csv")
    classes_path = folder / "classes.txt"
    classes = [label_name(c) for c in read_text(classes_path).splitlines() if c.strip()]
    if tuple(classes) != LABELS:
        raise DataError(str(classes_path), None, None,
                        f"expected the classes {', '.join(LABELS)} (World, Sports, Business, Sci/Tech), found {classes}")
    path: Path = folder / f"{split}.csv"
    rows = csv_records(csv.reader(read_text(path).splitlines(keepends=True)), path)
    seen = SeenIds("line")
    examples: list[Example] = []
    for line, row in rows:
        try:
            if len(row) != 3:
                raise DataError(str(path), line, None, f"expected 3 fields (class, title, description), found {len(row)}")
            index = row[0].strip()
            if not index.isdigit() or not 1 <= int(index) <= len(LABELS):
                raise DataError(str(path), line, "class", f"class {index!r} is not 1-{len(LABELS)}")
            example_id = f"{split}-{line}"
            seen.check(example_id, path, line)
            raw = f"{row[1]} {row[2]}"
            words = check_words(split_words(clean(raw) if repair else raw), path, line, "text")
        except DataError as e:
            emit(e, on_error)
            continue
        examples.append(Example(id=example_id, fields={"text": words}, label=LABELS[int(index) - 1],
                                source=f"{source_name(path)}:{line}"))
    return examples
