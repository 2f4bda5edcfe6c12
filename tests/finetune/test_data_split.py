"""Training/evaluation split: disjointness by normalised text, training files, refusals."""

from __future__ import annotations

import json

import pytest

from faithscope.errors import ConfigError, DataError
from faithscope.finetune import resolve_config
from faithscope.finetune.data import FEVER_EVAL_RESERVE, build_split, check_disjoint, overlaps, read_train_file, text_key
from faithscope.tasks import load_task
from faithscope.types import Example

from .conftest import write_train_file


def ex(premise: str, hypothesis: str, id: str = "x", label: str = "neutral") -> Example:
    return Example(id=id, fields={"premise": tuple(premise.split()), "hypothesis": tuple(hypothesis.split())}, label=label, source=f"file:{id}")


def test_text_key_ignores_case_punctuation_and_tokenisation():
    a = ex("This church choir sings at a church .", "It 's loud .")
    b = ex("this Church choir sings at a church.", "It 's loud")
    assert text_key(a) == text_key(b)
    assert text_key(a) != text_key(ex("This church choir sings at a church .", "It is loud ."))


def test_check_disjoint_catches_an_overlap_with_different_ids_and_spelling():
    evaluation = [ex("A man sleeps on a bench.", "A man is resting.", id="dev-1"), ex("A dog runs.", "An animal moves.", id="dev-2")]
    train = [ex("A cat sits.", "An animal sits.", id="t-1"), ex("a man sleeps on a bench", "A man is resting!", id="t-2")]
    assert [(t.id, e.id) for t, e in overlaps(train, evaluation)] == [("t-2", "dev-1")]
    with pytest.raises(DataError, match="1 training example.*file:t-2 = evaluation file:dev-1"):
        check_disjoint(train, evaluation)
    check_disjoint(train[:1], evaluation)  # disjoint: no error


def test_key_fields_restrict_the_comparison():
    evaluation = [ex("A man sleeps.", "He rests.", id="e")]
    train = [ex("A man sleeps.", "Something else entirely.", id="t")]
    check_disjoint(train, evaluation)  # the pair differs
    with pytest.raises(DataError):
        check_disjoint(train, evaluation, key_fields=("premise",))


def test_train_file_overlapping_the_evaluation_set_is_refused(tmp_path):
    demo_first = json.loads((__import__("faithscope.data.demo", fromlist=["DEMO_FILE"]).DEMO_FILE).read_text().splitlines()[0])
    premise = demo_first["premise"].replace("*", "").upper()  # same text, other case
    hypothesis = demo_first["hypothesis"].replace("*", "")
    path = write_train_file(tmp_path / "train.jsonl", [(premise, hypothesis, "entailment"), ("A b c.", "d e f.", "neutral")])
    config = resolve_config("cpu", "demo", train_file=str(path), eval_n=4, progress=False)
    with pytest.raises(DataError, match="same normalised text as evaluation"):
        build_split(config)


def test_train_file_split(train_file):
    split = build_split(resolve_config("cpu", "demo", train_file=str(train_file), train_n=5, eval_n=4, progress=False))
    assert len(split.train) == 5 and len(split.evaluation) == 4
    assert {e.id for e in split.train} <= {f"train-{i}" for i in range(1, 9)}


def test_read_train_file_names_bad_lines(tmp_path):
    task = load_task("esnli")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"premise": "A b.", "hypothesis": "C d.", "label": "maybe"}\n', encoding="utf-8")
    with pytest.raises(DataError, match="line 1.*label"):
        read_train_file(bad, task)
    bad.write_text('{"premise": "A b.", "label": "neutral"}\n', encoding="utf-8")
    with pytest.raises(DataError, match="hypothesis"):
        read_train_file(bad, task)


def test_datasets_without_training_split_are_refused():
    with pytest.raises(ConfigError, match="no training split here; give one with --train-file"):
        build_split(resolve_config("cpu", "demo", eval_n=4, progress=False))


def test_medical_bios_refused_without_train_file(shared_data):
    with pytest.raises(ConfigError, match="'medical_bios' has no training split.*--train-file.*'bio'"):
        build_split(resolve_config("cpu", "medical_bios", data_dir=str(shared_data), progress=False))


def test_esnli_trains_on_plain_test_pairs_disjoint_from_highlight_rows(shared_data):
    split = build_split(resolve_config("cpu", "esnli", data_dir=str(shared_data), train_n=200, eval_n=20, progress=False))
    assert len(split.train) == 200 and len(split.evaluation) == 20
    assert all(e.id.startswith("test-") for e in split.train)
    assert all(e.source.startswith("esnli/s1.test") for e in split.train)
    assert not overlaps(split.train, split.evaluation)


def test_fever_reserve_is_never_trained_on(shared_data):
    from faithscope.data import load_dataset

    split = build_split(resolve_config("cpu", "fever", data_dir=str(shared_data), train_n=50, eval_n=10, progress=False))
    claims = load_dataset("fever", str(shared_data)).examples
    reserve = claims[:FEVER_EVAL_RESERVE]
    assert [e.id for e in split.evaluation] == [e.id for e in claims[:10]]
    assert not {e.id for e in split.train} & {e.id for e in reserve}
    assert not overlaps(split.train, reserve, ("claim",))
