import json

import pytest

from faithscope.data import fever
from faithscope.errors import DataError


def test_fever_fixture(fixtures):
    a, b = fever.load(fixtures)
    assert (a.id, a.label, b.id, b.label) == ("1", "supports", "2", "refutes")
    assert a.fields["claim"] == ("Alpha", "Town", "was", "founded", "in", "the", "1800s.")
    assert len(a.fields["evidence"]) == 22 and a.n_words == 29
    # two alternative evidence sets (sentences 1 and 0): union of doc tokens 0..16, shifted by 7 claim words
    assert a.rationale == frozenset(range(7, 24))
    assert b.rationale == frozenset(range(11, 17))
    assert " ".join(b.words[i] for i in sorted(b.rationale)) == "It is 300 km long ."
    assert b.source == "fever/test.jsonl:2"


def test_fever_errors(fixtures):
    path = fixtures / "bad" / "fever" / "test.jsonl"
    with pytest.raises(DataError) as info:
        fever.load(fixtures / "bad")
    assert str(info.value) == f"{path}, line 2: not valid JSON: Expecting property name enclosed in double quotes (column 24)"
    errors: list[DataError] = []
    exs = fever.load(fixtures / "bad", on_error=errors.append)
    assert [e.id for e in exs] == ["1"]
    assert [(e.line, e.field) for e in errors] == [
        (2, None), (3, "query"), (4, "classification"), (5, "docids"), (6, "evidences"), (7, "query")]
    assert errors[1].problem == "missing key"
    assert errors[2].problem == "unknown label 'NOT ENOUGH INFO'; expected one of supports, refutes"  # named as written in the file
    assert errors[3].problem == f"document file not found: {fixtures / 'bad' / 'fever' / 'docs' / 'Missing_Doc'}"
    assert errors[4].problem == "tokens [9, 17) of document 'Doc_A' do not reproduce the span text"
    assert errors[5].problem == "empty text"


def test_fever_real_spans_reproduce_text(real_data):
    """Every evidence span of the real test file maps to rationale words that spell its text."""
    exs = fever.load(real_data)
    assert len(exs) == 6111
    raw = [json.loads(l) for l in (real_data / "fever" / "test.jsonl").read_text(encoding="utf-8").splitlines()]
    n_spans = 0
    for ex, rec in zip(exs, raw, strict=True):
        offset = len(ex.fields["claim"])
        union: set[int] = set()
        for ev_set in rec["evidences"]:
            for span in ev_set:
                pos = range(offset + span["start_token"], offset + span["end_token"])
                assert " ".join(ex.words[i] for i in pos) == span["text"]
                union.update(pos)
                n_spans += 1
        assert ex.rationale == union and min(union) >= offset
    assert n_spans == 8464


def test_fever_duplicate_annotation_id_is_an_error_naming_both_lines(fixtures, tmp_path):
    """Two records with one annotation_id were merged into one example (N = 1) silently."""
    from faithscope.data import load_dataset

    src = fixtures / "fever"
    first = (src / "test.jsonl").read_text(encoding="utf-8").splitlines()[0]
    folder = tmp_path / "fever"
    (folder / "docs").mkdir(parents=True)
    for doc in (src / "docs").iterdir():
        (folder / "docs" / doc.name).write_bytes(doc.read_bytes())
    (folder / "test.jsonl").write_text(first + "\n" + first + "\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        fever.load(tmp_path)
    assert (info.value.line, info.value.field) == (2, "annotation_id")
    assert "duplicate annotation_id '1' (first on line 1)" in str(info.value)
    loaded = load_dataset("fever", tmp_path, skip_invalid=True)
    assert [e.id for e in loaded.examples] == ["1"] and loaded.skipped == 1
