"""Your own data file (issue 16): JSONL / CSV / Parquet, every rationale form -> the same
word positions, malformed records as one line naming file, line and field."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest

from faithscope.data import load_dataset, user_file
from faithscope.errors import ConfigError, DataError
from faithscope.tasks import resolve_task

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "own-data"
PREMISE, HYPOTHESIS = "A man plays a guitar on stage.", "A man performs music."
# premise words 0-6, hypothesis words 7-10: "plays"=2, "guitar"=4, "performs"=9, "music."=10 (hand-counted)
EXPECTED = frozenset({2, 4, 9, 10})
BASE = {"id": "ex1", "label": "entailment"}
FORMS = {
    "rationale_words": {**BASE, "premise": PREMISE, "hypothesis": HYPOTHESIS, "rationale_words": [2, 4, 9, 10]},
    # character spans per field; [15, 20] cuts "music." before its period and still marks the word
    "rationale_spans": {**BASE, "premise": PREMISE, "hypothesis": HYPOTHESIS,
                        "rationale_spans": {"premise": [[6, 11], [14, 20]], "hypothesis": [[6, 14], [15, 20]]}},
    "marked": {**BASE, "premise_marked": "A man *plays* a *guitar* on stage.", "hypothesis_marked": "A man *performs* *music.*"},
    "marked_and_plain": {**BASE, "premise": PREMISE, "premise_marked": "A man *plays* a *guitar* on stage.",
                         "hypothesis": HYPOTHESIS, "hypothesis_marked": "A man *performs* *music.*"},
}
TASK = resolve_task("demo")  # fields premise, hypothesis; labels entailment, contradiction, neutral


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def write_csv(path: Path, records: list[dict]) -> Path:
    columns = sorted({k for r in records for k in r})
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(columns)
        for r in records:
            w.writerow([json.dumps(r[c]) if isinstance(r.get(c), (list, dict)) else r.get(c, "") for c in columns])
    return path


def write_parquet(path: Path, records: list[dict]) -> Path:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(records), path)
    return path


WRITERS = {"jsonl": write_jsonl, "csv": write_csv, "parquet": write_parquet}


@pytest.mark.parametrize("fmt", sorted(WRITERS))
@pytest.mark.parametrize("form", sorted(FORMS))
def test_every_rationale_form_in_every_format_gives_the_same_positions(tmp_path, fmt, form):
    path = WRITERS[fmt](tmp_path / f"data.{fmt}", [FORMS[form]])
    (ex,) = user_file.load(task=TASK, path=path)
    assert ex.rationale == EXPECTED
    assert ex.fields == {"premise": tuple(PREMISE.split()), "hypothesis": tuple(HYPOTHESIS.split())}
    assert (ex.id, ex.label) == ("ex1", "entailment")
    assert [ex.words[i] for i in sorted(ex.rationale)] == ["plays", "guitar", "performs", "music."]


def test_csv_cells_take_space_or_comma_separated_positions(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text(f'premise,hypothesis,label,rationale_words\n"{PREMISE}","{HYPOTHESIS}",entailment,"2 4,9, 10"\n', encoding="utf-8")
    (ex,) = user_file.load(task=TASK, path=path)
    assert ex.rationale == EXPECTED and ex.id == "line-2"  # no id column: the record's line


def test_no_rationale_and_default_ids(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [{"premise": PREMISE, "hypothesis": HYPOTHESIS, "label": "Neutral"}, {}])
    loaded = load_dataset("file", path=str(path), task=TASK, skip_invalid=True)
    (ex,) = loaded.examples
    assert (ex.id, ex.label, ex.rationale) == ("line-1", "neutral", frozenset())  # label matched ignoring case
    assert loaded.skipped == 1 and loaded.skipped_reasons == [f"{path}, line 2, field 'premise': missing field (give 'premise' or 'premise_marked')"]


def test_the_example_file_set(tmp_path):
    """examples/own-data/reviews.jsonl: *marked* words of a one-field sentiment task."""
    task = resolve_task(str(EXAMPLES / "sentiment.toml"))
    exs = user_file.load(task=task, path=EXAMPLES / "reviews.jsonl")
    assert len(exs) == 8 and [e.label for e in exs] == ["positive", "negative"] * 4
    assert [exs[0].words[i] for i in sorted(exs[0].rationale)] == ["quickly", "lovely"]
    assert exs[0].fields["review"][0] == "The" and "*" not in " ".join(exs[0].words)


GOOD = FORMS["rationale_words"]


@pytest.mark.parametrize("record, field, problem", [
    ({**GOOD, "label": "yes"}, "label", "unknown label 'yes'; expected one of entailment, contradiction, neutral"),
    ({k: v for k, v in GOOD.items() if k != "label"}, "label", "missing"),
    ({**GOOD, "premise": 3}, "premise", "must be a string, got int"),
    ({**GOOD, "hypothesis": "   "}, "hypothesis", "empty text"),
    ({**GOOD, "rationale_words": [2, 11]}, "rationale_words", "position(s) [11] outside the example's 11 words (0 to 10)"),
    ({**GOOD, "rationale_words": [2, True]}, "rationale_words", "must be a list of integer word positions, got [2, True]"),
    ({**GOOD, "premise_marked": "A man *plays* a guitar on stage."}, "premise_marked",
     "the human rationale is given in more than one form (rationale_words, premise_marked); give one of "
     "rationale_words, rationale_spans or <field>_marked"),
    ({**GOOD, "premise_marked": "A man *plays* a *guitar* on the stage."}, "premise_marked",
     "the marked text without '*' differs from 'premise' at word 6"),
    ({**GOOD, "premise_marked": "A man ** plays"}, "premise_marked", "a '*' marks no word (stars must wrap a word: *word*)"),
    ({**GOOD, "rationale_word": [1]}, "rationale_word", "unknown rationale form; use rationale_words, rationale_spans or <field>_marked"),
    ({**GOOD, "claim_marked": "*x*"}, "claim_marked", "no task field 'claim' to mark; the fields are premise, hypothesis"),
    ({**FORMS["rationale_spans"], "rationale_spans": {"premise": [[6, 40]]}}, "rationale_spans",
     "'premise': a span must be [start, end] with 0 <= start < end <= 30 (characters), got [6, 40]"),
    ({**FORMS["rationale_spans"], "rationale_spans": {"premise": [[5, 6]]}}, "rationale_spans", "'premise': span [5, 6) covers no word (only whitespace)"),
    ({**FORMS["rationale_spans"], "rationale_spans": {"bio": [[0, 1]]}}, "rationale_spans", "unknown field 'bio'; the fields are premise, hypothesis"),
    ({**GOOD, "id": "ex0"}, "id", "duplicate id 'ex0' (first on line 1)"),
])
def test_malformed_records_are_one_line_naming_file_line_and_field(tmp_path, record, field, problem):
    path = write_jsonl(tmp_path / "d.jsonl", [{**GOOD, "id": "ex0"}, record])
    with pytest.raises(DataError) as info:
        user_file.load(task=TASK, path=path)
    assert (info.value.line, info.value.field, info.value.problem) == (2, field, problem)
    assert str(info.value) == f"{path}, line 2, field {field!r}: {problem}"
    loaded = load_dataset("file", path=str(path), task=TASK, skip_invalid=True)
    assert [e.id for e in loaded.examples] == ["ex0"] and loaded.skipped == 1


def test_file_level_problems(tmp_path):
    bad_json = tmp_path / "d.jsonl"
    bad_json.write_text(json.dumps(GOOD) + "\n{nope\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"d.jsonl, line 2: not valid JSON"):
        user_file.load(task=TASK, path=bad_json)
    short = tmp_path / "d.csv"
    short.write_text("premise,hypothesis,label\nA b,c d\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"d.csv, line 2: expected 3 fields, found 2"):
        user_file.load(task=TASK, path=short)
    with pytest.raises(ConfigError, match=r"unknown extension '.txt'; use one of .jsonl, .ndjson, .csv, .parquet"):
        user_file.load(task=TASK, path=tmp_path / "d.txt")
    (tmp_path / "e.jsonl").write_text("\n", encoding="utf-8")
    with pytest.raises(DataError, match="no records"):
        user_file.load(task=TASK, path=tmp_path / "e.jsonl")
    with pytest.raises(ConfigError, match="needs a task"):
        load_dataset("file", path=str(bad_json))


def test_parquet_without_pyarrow_or_duckdb_says_what_to_install(tmp_path, monkeypatch):
    for mod in ("pyarrow", "pyarrow.parquet", "duckdb"):
        monkeypatch.setitem(sys.modules, mod, None)  # import fails as if not installed
    path = tmp_path / "d.parquet"
    path.write_bytes(b"PAR1")
    with pytest.raises(ConfigError) as info:
        user_file.load(task=TASK, path=path)
    assert str(info.value) == f"--data-file {path}: reading Parquet needs pyarrow or duckdb: pip install pyarrow (or pip install 'faithscope[parquet]')"
