import json

import pytest

from faithscope.data import medical_bios
from faithscope.errors import ConfigError, DataError


def test_grouping_filters_and_strict_majority(fixtures):
    a, b = medical_bios.load(fixtures)
    assert (a.label, b.label) == ("nurse", "surgeon")
    assert a.fields["bio"][:6] == ("Jane", "Roe", "is", "a", "registered", "nurse")
    # kept for bio A: aaa {4,5,12}, bbb {5,8}, ccc {5,10,12}; the two filtered annotators
    # (one from each exclusion list) and the record without spans are dropped
    assert len(a.annotator_rationales) == 3
    assert set(a.annotator_rationales) == {frozenset({4, 5, 12}), frozenset({5, 8}), frozenset({5, 10, 12})}
    assert a.rationale == frozenset({5, 12})  # 3 of 3 and 2 of 3 in; 1 of 3 out
    # bio B: fff {0 (span starts in the prompt at "Bio:"'s colon), 3}, ggg {3,4,5}, hhh (reject) {5}
    assert b.rationale == frozenset({3, 5})
    assert a.source == "medical_bios/standard_biosbias_rationales.jsonl:1"
    assert b.source == "medical_bios/standard_biosbias_rationales.jsonl:6"
    assert a.id.startswith("bio-") and a.id != b.id


def test_accept_only_and_one_of_two_is_out(fixtures):
    a, b = medical_bios.load(fixtures, accept_only=True)
    assert len(b.annotator_rationales) == 2
    assert b.rationale == frozenset({3})  # "hearts" now 1 of 2: not a strict majority
    assert a.rationale == frozenset({5, 12})


def test_other_aggregations(fixtures):
    a, _ = medical_bios.load(fixtures, aggregation="any")
    assert a.rationale == frozenset({4, 5, 8, 10, 12})
    a, _ = medical_bios.load(fixtures, aggregation="all")
    assert a.rationale == frozenset({5})
    with pytest.raises(ConfigError):
        medical_bios.load(fixtures, aggregation="mean")


def test_filters_matter():
    assert medical_bios.is_excluded("bios_batch_1_v2-12345")
    assert medical_bios.is_excluded("bios_batch_4-611d088b4a63306f79950cc9")
    assert medical_bios.is_excluded("bios_batch_4-[prolific-id]")
    assert not medical_bios.is_excluded("bios_batch_2-aaa")


def test_no_annotator_ids_in_examples(fixtures):
    for ex in medical_bios.load(fixtures):
        assert "bios_batch" not in repr(ex)


def test_errors(fixtures):
    path = fixtures / "bad" / "medical_bios" / "standard_biosbias_rationales.jsonl"
    errors: list[DataError] = []
    exs = medical_bios.load(fixtures / "bad", on_error=errors.append)
    assert len(exs) == 1
    assert [(e.line, e.field) for e in errors] == [
        (2, None), (3, "label"), (4, "text"), (5, "spans"), (6, "label"), (7, "_annotator_id")]
    assert errors[3].problem.startswith("a span needs integer start < end within the text")
    assert str(errors[4]) == (f"{path}, line 6, field 'label': label 'surgeon' differs from 'nurse' "
                              "given to the same bio on line 1")
    with pytest.raises(DataError, match="line 2"):
        medical_bios.load(fixtures / "bad")


def test_real_file_389_records_113_bios(real_data):
    exs = medical_bios.load(real_data)
    assert len(exs) == 113
    assert sum(len(e.annotator_rationales) for e in exs) == 389
    assert sum(1 for e in exs if len(e.annotator_rationales) == 3) == 102
    counts = {lab: sum(1 for e in exs if e.label == lab) for lab in medical_bios.LABELS}
    assert counts == {"nurse": 32, "psychologist": 28, "physician": 20, "surgeon": 17, "dentist": 16}
    # the second exclusion list and an accept filter remove nothing more on this file
    assert sum(len(e.annotator_rationales) for e in medical_bios.load(real_data, accept_only=True)) == 389
    lines = (real_data / "medical_bios" / medical_bios.STANDARD_FILE).read_text(encoding="utf-8").splitlines()
    first_list_only = [r for r in map(json.loads, lines)
                       if "spans" in r and not any(x in r["_annotator_id"] for x in medical_bios.EXCLUDED_ANNOTATORS)]
    assert len(first_list_only) == 389
