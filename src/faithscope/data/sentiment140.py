"""Sentiment140 hand-labelled test tweets (dataset ``sentiment140``, task ``sentiment140``).

File (``sentiment140/``, as published): ``testdata.manual.2009.06.14.csv``, no header, six
quoted columns ``polarity, id, date, query, user, text`` (data README, section 7). Polarity
``0`` = ``negative``, ``4`` = ``positive``, ``2`` = ``neutral``. The neutral class exists only
in this test file (the training file is labelled by emoticons), so, as most papers do, the
139 neutral tweets are dropped by default (359 remain); ``neutral=True`` keeps them (score
them with a task that has a ``neutral`` label; the shipped ``sentiment140`` task is binary).
The ``id`` column is a small unique integer and is the example id. HTML entities are left
escaped in the text (``R&amp;R``); ``unescape=True`` (default) shows the tweet as written.
The file is pure ASCII, so UTF-8 reads it as published.
"""

from __future__ import annotations

import csv
import html
import os

from ..errors import DataError
from ..types import Example
from .common import ErrorHandler, SeenIds, check_words, csv_records, dataset_dir, emit, read_text, source_name
from .words import split_words

LABELS = ("negative", "positive")
"""The task's labels (binary, neutral dropped by default)."""
POLARITY = {"0": "negative", "2": "neutral", "4": "positive"}
FIELDS = ("text",)
TEST_FILE = "testdata.manual.2009.06.14.csv"


def load(
    data_dir: str | os.PathLike[str] | None,
    *,
    on_error: ErrorHandler | None = None,
    neutral: bool = False,
    unescape: bool = True,
) -> list[Example]:
    """The hand-labelled tweets in file order (neutral ones only with ``neutral=True``)."""
    folder = dataset_dir(data_dir, "sentiment140", TEST_FILE)
    path = folder / TEST_FILE
    seen = SeenIds("id")
    examples: list[Example] = []
    for line, row in csv_records(csv.reader(read_text(path).splitlines(keepends=True)), path):
        try:
            if len(row) != 6:
                raise DataError(str(path), line, None,
                                f"expected 6 fields (polarity, id, date, query, user, text), found {len(row)}")
            label = POLARITY.get(row[0].strip())
            if label is None:
                raise DataError(str(path), line, "polarity", f"polarity {row[0]!r} is not 0, 2 or 4")
            tweet_id = row[1].strip()
            seen.check(tweet_id, path, line)
            if label == "neutral" and not neutral:
                continue
            text = html.unescape(row[5]) if unescape else row[5]
            words = check_words(split_words(text), path, line, "text")
        except DataError as e:
            emit(e, on_error)
            continue
        examples.append(Example(id=tweet_id, fields={"text": words}, label=label, source=f"{source_name(path)}:{line}"))
    return examples
