"""ComVE and ECQA loaders on tiny fixtures and, when present, the real shared files."""

import pytest

from faithscope.data import comve, ecqa, esnli_plain, load_dataset
from faithscope.errors import DataError


def test_comve_fixture(fixtures):
    exs = comve.load(fixtures)
    assert [e.id for e in exs] == ["7", "8", "9"]
    assert [e.label for e in exs] == ["2", "1", "1"]  # gold 1 -> second sentence
    assert exs[1].fields["sentence1"] == ("The", "sun", "rises", "in", "the", "west,", "they", "said.")
    assert exs[0].explanations == ("An elephant is much bigger than a fridge.", "elephants are too large",
                                   "No fridge holds an elephant, it is huge.")
    assert exs[2].explanations == ()  # no subtask-C row for id 9
    assert exs[0].source == "comve/subtaskA_test_data.csv:2"


def test_comve_missing_gold(tmp_path, fixtures):
    d = tmp_path / "comve"
    d.mkdir()
    (d / "subtaskA_test_data.csv").write_text("id,sent0,sent1\n1,a b,c d\n", encoding="utf-8")
    (d / "subtaskA_gold_answers.csv").write_text("2,0\n", encoding="utf-8")
    with pytest.raises(DataError, match="no gold answer"):
        comve.load(tmp_path)
    errors: list[DataError] = []
    assert comve.load(tmp_path, on_error=errors.append) == [] and len(errors) == 1


def test_ecqa_fixture(fixtures):
    exs = ecqa.load(fixtures)
    assert [e.id for e in exs] == ["abc1", "abc2"]
    a, b = exs
    assert a.label == "A" and a.fields["question"] == ("Where", "would", "you", "find", "a", "fish?")
    assert " ".join(a.fields["choices"]) == "(A) river (B) desert (C) sky (D) space ship (E) oven"
    assert a.explanations == ("Fish live in water, and a river has water.",)
    assert b.label == "A"  # duplicated answer text: the first copy wins
    assert a.source == "ecqa/cqa_data_test.csv:2" and b.source == "ecqa/cqa_data_test.csv:5"  # record 1 spans lines 2-4


def test_ecqa_bad_answer(fixtures):
    with pytest.raises(DataError, match="not one of the five options") as info:
        ecqa.load(fixtures / "bad")
    assert info.value.line == 2
    errors: list[DataError] = []
    assert [e.id for e in ecqa.load(fixtures / "bad", on_error=errors.append)] == ["abc1"]


def test_comve_real(real_data):
    exs = comve.load(real_data)
    assert len(exs) == 1000
    first = exs[0]
    assert first.id == "1175" and first.label == "1"
    assert first.text("sentence1") == "He loves to stroll at the park with his bed"
    assert first.explanations[0] == "A bed is too heavy to carry with when strolling at a park"
    assert sum(len(e.explanations) == 3 for e in exs) >= 990


def test_ecqa_real(real_data):
    exs = ecqa.load(real_data)
    assert len(exs) == 2194
    counts = {lab: sum(e.label == lab for e in exs) for lab in ecqa.LABELS}
    assert counts == {"A": 456, "B": 430, "C": 407, "D": 472, "E": 429}  # README's answer positions
    assert exs[0].id == "26f7c29d5acb341f79610f7c040412a4" and exs[0].label == "C"
    assert all(e.explanations for e in exs)


def test_esnli_plain_three_explanations_real(real_data):
    exs = esnli_plain.load(real_data)
    assert len(exs) == 9824
    assert exs[0].explanations == ("not all churches have cracks in the ceiling",
                                   "there is no indication that there are cracks in the ceiling of the church.",
                                   "not all churches have cracks in the ceiling.")
    assert all(len(e.explanations) == 3 for e in exs)


def test_registered(fixtures):
    assert load_dataset("comve", fixtures).task == "comve"
    assert load_dataset("ecqa", fixtures, n=1).examples[0].id in ("abc1", "abc2")
