import shutil

import pytest

from faithscope.data import esnli, esnli_plain
from faithscope.errors import ConfigError, DataError

PREMISE = ("A", "man,", "in", "a", "red", "hat,", "plays", "guitar.")


def test_highlights_two_of_three(fixtures):
    exs = esnli.load(fixtures)
    assert [e.id for e in exs] == ["100.jpg#0r1e", "100.jpg#0r1c", "100.jpg#0r1n"]
    assert [e.label for e in exs] == ["entailment", "contradiction", "neutral"]
    e, c, n = exs
    assert e.fields["premise"] == PREMISE
    assert e.fields["hypothesis"] == ("A", "man", "plays", "music.")
    # annotators: {1,6,7}+{10,11}; {7}+{11}; {1,6,7}+{9}  (hypothesis offset = 8)
    assert e.annotator_rationales == (frozenset({1, 6, 7, 10, 11}), frozenset({7, 11}), frozenset({1, 6, 7, 9}))
    assert e.rationale == frozenset({1, 6, 7, 11})
    # double space in "A woman  sleeps." does not shift positions: woman=9, sleeps.=10
    assert c.fields["hypothesis"] == ("A", "woman", "sleeps.")
    assert c.rationale == frozenset({1, 6, 9, 10})
    assert n.rationale == frozenset({12, 13})
    assert e.explanations == ('A man who plays guitar, plays "music".', "Guitar is music.", "He plays.")
    assert e.source == "esnli/tiny_highlights.csv:2" and n.source == "esnli/tiny_highlights.csv:4"


def test_highlights_threshold_option(fixtures):
    e = esnli.load(fixtures, min_annotators=3)[0]
    assert e.rationale == frozenset({7})
    e = esnli.load(fixtures, min_annotators=1)[0]
    assert e.rationale == frozenset({1, 6, 7, 9, 10, 11})
    with pytest.raises(ConfigError, match="min_annotators"):
        esnli.load(fixtures, min_annotators=4)


def test_highlights_marked_mismatch_error_text(fixtures):
    path = fixtures / "bad" / "esnli" / "bad_highlights.csv"
    with pytest.raises(DataError) as info:
        esnli.load(fixtures / "bad")
    assert str(info.value) == (
        f"{path}, line 3, field 'Sentence2_marked_2': marked text without '*' differs from the "
        "sentence at word 3: 'songs.' vs 'music.'"
    )


def test_highlights_skip_invalid_collects_reasons(fixtures):
    errors: list[DataError] = []
    exs = esnli.load(fixtures / "bad", on_error=errors.append)
    assert [e.id for e in exs] == ["100.jpg#0r1e"]
    assert [(err.line, err.field) for err in errors] == [(3, "Sentence2_marked_2"), (4, "gold_label"), (5, "Sentence1")]
    assert errors[1].problem == "unknown label 'maybe'; expected one of entailment, contradiction, neutral"
    assert errors[2].problem == "empty text"


def test_highlights_missing_column(tmp_path):
    (tmp_path / "x_highlights.csv").write_text("pairID,gold_label,Sentence1\r\n1,neutral,a\r\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        esnli.load(tmp_path)
    assert (info.value.line, info.value.field, info.value.problem) == (1, "Sentence2", "missing column in the header")


def test_detokenize():
    assert esnli_plain.detokenize("A man , in a hat , plays `` Hey Jude '' . ") == 'A man, in a hat, plays "Hey Jude".'
    assert esnli_plain.detokenize("Kids do n't like the dog 's bark .") == "Kids don't like the dog's bark."
    assert esnli_plain.detokenize("People ( three of them ) wait !") == "People (three of them) wait!"


def test_plain_split(fixtures):
    exs = esnli_plain.load(fixtures)
    assert [e.id for e in exs] == ["test-1", "test-2", "test-3"]
    assert [e.label for e in exs] == ["entailment", "contradiction", "entailment"]
    assert exs[0].text("premise") == 'A man, in a red hat, plays "Hey Jude" on a guitar.'
    assert exs[1].fields["premise"] == ("Two", "kids", "don't", "like", "the", "dog's", "bark.")
    assert exs[2].text("hypothesis") == "People wait."
    assert exs[1].explanations == ("not liking is not loving.", "they don't love it", "dislike contradicts love.")
    assert all(e.rationale == frozenset() and e.annotator_rationales == () for e in exs)
    raw = esnli_plain.load(fixtures, detokenize=False)
    assert raw[0].fields["premise"][:3] == ("A", "man", ",")


def test_plain_line_count_mismatch(fixtures, tmp_path):
    shutil.copytree(fixtures / "esnli", tmp_path / "esnli")
    (tmp_path / "esnli" / "labels.test").write_text("entailment\nneutral\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        esnli_plain.load(tmp_path)
    assert info.value.path == str(tmp_path / "esnli" / "labels.test")
    assert "has 2 lines but s1.test has 3" in info.value.problem


def test_plain_bad_label_and_empty_premise(fixtures, tmp_path):
    shutil.copytree(fixtures / "esnli", tmp_path / "esnli")
    (tmp_path / "esnli" / "labels.test").write_text("entailment\nmaybe\nneutral\n", encoding="utf-8")
    s1 = tmp_path / "esnli" / "s1.test"
    lines = s1.read_text(encoding="utf-8").splitlines()
    s1.write_text("\n".join([lines[0], lines[1], "  "]) + "\n", encoding="utf-8")
    errors: list[DataError] = []
    exs = esnli_plain.load(tmp_path, on_error=errors.append)
    assert [e.id for e in exs] == ["test-1"]
    assert [(e.line, e.field) for e in errors] == [(2, "label"), (3, "premise")]
