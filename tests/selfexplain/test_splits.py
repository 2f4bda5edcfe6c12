"""Train/eval splits of the study tasks are disjoint by normalised text."""

from dataclasses import replace

import pytest

from faithscope.data import load_dataset
from faithscope.errors import ConfigError
from faithscope.finetune.data import text_key
from faithscope.selfexplain import splits
from faithscope.selfexplain.splits import task_splits
from faithscope.selfexplain.tasks import STUDY_TASKS, study_task, task_spec


def test_every_study_task_has_its_datasets_and_prompts():
    assert {"snli", "agnews", "sentiment140"} <= set(STUDY_TASKS)
    for name in STUDY_TASKS:
        spec = task_spec(name)
        assert spec.task.name == study_task(name).task_file
    with pytest.raises(ConfigError, match="unknown self-explanation task 'mnli'"):
        study_task("mnli")


def test_one_pool_split_is_disjoint_and_eval_does_not_depend_on_train_n():
    train, evaluation = task_splits("demo", None, train_n=30, eval_n=10, seed=3)
    assert len(train) == 30 and len(evaluation) == 10
    assert not {text_key(e) for e in train} & {text_key(e) for e in evaluation}
    _, evaluation2 = task_splits("demo", None, train_n=5, eval_n=10, seed=3)
    assert [e.id for e in evaluation] == [e.id for e in evaluation2]
    assert [e.id for e in task_splits("demo", None, train_n=5, eval_n=10, seed=4)[1]] != [e.id for e in evaluation]


def test_a_repeated_text_never_lands_on_both_sides(monkeypatch):
    pool = load_dataset("demo").examples[:6]
    twins = pool + [replace(e, id=e.id + "-twin", fields={k: tuple(w.upper() for w in v) for k, v in e.fields.items()}) for e in pool]

    class Loaded:
        examples = twins

    monkeypatch.setattr(splits, "load_dataset", lambda name, data_dir: Loaded)
    train, evaluation = task_splits("demo", None, train_n=3, eval_n=3, seed=0)
    assert not {text_key(e) for e in train} & {text_key(e) for e in evaluation}
    # 5 evaluation rows cover t >= 3 texts, whose 2t rows are all excluded: at most 6 rows are left for training
    with pytest.raises(ConfigError, match="training examples are disjoint from the evaluation set, fewer than --train-n 7"):
        task_splits("demo", None, train_n=7, eval_n=5, seed=0)


def test_too_small_pool_and_bad_counts():
    with pytest.raises(ConfigError, match="has 48 examples, fewer than --train-n 40 \\+ --eval-n 10"):
        task_splits("demo", None, train_n=40, eval_n=10)
    with pytest.raises(ConfigError, match="eval_n must be an integer >= 1"):
        task_splits("demo", None, train_n=1, eval_n=0)


def test_real_splits_disjoint(shared_data):
    for name, (tn, en) in {"snli": (50, 20), "agnews": (50, 20), "sentiment140": (50, 20)}.items():
        train, evaluation = task_splits(name, str(shared_data), train_n=tn, eval_n=en, seed=0)
        assert (len(train), len(evaluation)) == (tn, en)
        assert not {text_key(e) for e in train} & {text_key(e) for e in evaluation}
        spec = task_spec(name)
        assert {e.label for e in train + evaluation} <= set(spec.task.labels)
