"""AG News and Sentiment140 loaders: each quirk of the data README (sections 6, 7) on a tiny
fixture written for it, and, when present, the real shared files."""

import pytest

from faithscope.data import ag_news, load_dataset, sentiment140
from faithscope.errors import DataError
from faithscope.selfexplain import load_self_consistency
from faithscope.tasks import load_task


def _text(example):
    return example.text("text")


def test_agnews_labels_from_classes_and_ids(fixtures):
    exs = ag_news.load(fixtures)
    assert [e.label for e in exs] == ["business", "sci_tech", "sports", "world"]  # class 3, 4, 2, 1
    assert [e.id for e in exs] == ["test-1", "test-2", "test-3", "test-4"]
    assert exs[0].source == "ag_news/test.csv:1"
    assert _text(exs[0]) == "Fears for T N pension after talks Unions representing workers at Turner Newall say they " \
                            "are 'disappointed' after talks."  # title + description, the lost-& gap collapsed


def test_agnews_lost_ampersand_entities(fixtures):
    exs = ag_news.load(fixtures)
    assert _text(exs[1]).split("prize")[0].endswith("the $10 million ")  # " #36;" -> "$", the space of the lost & gone
    third = _text(exs[2])
    assert third.startswith("Eriksson doesn't feel pressure England coach said he isn't under")  # " #39;" -> "'"
    assert "pressure,\u2019 he said: \u201cFine\u201d" in third  # other #NNN;: Windows-1252 code points 145-151
    assert "<TXN.N>\u2014done" in third  # &lt;/&gt; unescaped, #151; = em dash
    assert "#" not in third and "&" not in third
    assert _text(exs[3]).endswith("BAGHDAD \u2014 Militants \"said\" Netscape & Google.")  # #8212;, #038;


def test_agnews_backslash_line_breaks(fixtures):
    exs = ag_news.load(fixtures)
    assert exs[1].fields["text"][:4] == ("Second", "Team", "Sets", "Launch")  # single backslash in the title
    assert "A second team of rocketeers" in _text(exs[1])
    assert "a contest for privately funded" in _text(exs[1])  # a double backslash is one break too
    assert _text(exs[3]).startswith("Attack in the north")  # "\n" is a break before an n-word, not an escape
    assert not any("\\" in _text(e) for e in exs)


def test_agnews_repair_off_keeps_the_published_text(fixtures):
    raw = ag_news.load(fixtures, repair=False)
    assert "#39;t" in _text(raw[2]) and "second\\team" in _text(raw[1])


def test_agnews_bad_class(tmp_path, fixtures):
    d = tmp_path / "ag_news"
    d.mkdir()
    (d / "classes.txt").write_text((fixtures / "ag_news" / "classes.txt").read_text())
    (d / "test.csv").write_text('"5","t","d"\n"1","t","d"\n')
    with pytest.raises(DataError, match="class '5' is not 1-4"):
        ag_news.load(tmp_path)
    errors: list[DataError] = []
    assert [e.id for e in ag_news.load(tmp_path, on_error=errors.append)] == ["test-2"] and len(errors) == 1


def test_sentiment140_neutral_dropped_by_default(fixtures):
    exs = sentiment140.load(fixtures)
    assert [(e.id, e.label) for e in exs] == [("3", "positive"), ("9", "negative")]
    kept = sentiment140.load(fixtures, neutral=True)
    assert [(e.id, e.label) for e in kept] == [("3", "positive"), ("7", "neutral"), ("9", "negative")]
    assert _text(kept[1]) == 'Reading about the "twitter api" today'  # "" is a quote inside a field
    assert exs[1].source == "sentiment140/testdata.manual.2009.06.14.csv:3"


def test_sentiment140_entities_unescaped(fixtures):
    assert _text(sentiment140.load(fixtures)[1]) == "so bored & my tattoo hurts <3 R&R > work"
    assert _text(sentiment140.load(fixtures, unescape=False)[1]) == "so bored &amp; my tattoo hurts &lt;3 R&amp;R &gt; work"


def test_sentiment140_bad_polarity_and_duplicate_id(tmp_path):
    d = tmp_path / "sentiment140"
    d.mkdir()
    (d / sentiment140.TEST_FILE).write_text('"1","3","d","q","u","meh"\n"4","5","d","q","u","a"\n"0","5","d","q","u","b"\n')
    errors: list[DataError] = []
    assert [e.id for e in sentiment140.load(tmp_path, on_error=errors.append)] == ["5"]
    assert "polarity '1' is not 0, 2 or 4" in str(errors[0]) and "duplicate id '5'" in str(errors[1])


@pytest.mark.parametrize("name", ["agnews", "sentiment140"])
def test_task_files_have_a_self_consistency_table(name, fixtures):
    task = load_task(name)
    spec = load_self_consistency(task)
    ex = load_dataset(name, fixtures).examples[0]
    assert spec.edit_field == "text" and set(task.labels) == set(spec.label_verbalizers())
    assert spec.classify_prompt(ex).endswith("Answer:") and "[REDACTED]" in spec.classify_prompt(ex)
    other = task.labels[1]
    assert spec.explain_prompt("counterfactual", "one", ex, task.labels[0], target=other).endswith(":")


def test_agnews_real(real_data):
    exs = ag_news.load(real_data)
    assert len(exs) == 7600
    assert {lab: sum(e.label == lab for e in exs) for lab in ag_news.LABELS} == dict.fromkeys(ag_news.LABELS, 1900)
    joined = "\n".join(_text(e) for e in exs)
    assert "#39;" not in joined and "\\" not in joined and "&lt;" not in joined
    assert "the $10 million Ansari X Prize" in _text(exs[1])


def test_sentiment140_real(real_data):
    exs = sentiment140.load(real_data)
    assert len(exs) == 359 and sum(e.label == "positive" for e in exs) == 182
    assert len(sentiment140.load(real_data, neutral=True)) == 498
    assert not any("&amp;" in _text(e) for e in exs)
