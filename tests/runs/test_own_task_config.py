"""RunConfig for your own data and tasks (issue 16): the task file and data file are part of
the run's identity, and runs of built-in datasets keep the identity they had before."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from faithscope.errors import ConfigError
from faithscope.runs.config import OPTIONAL_RESULT_KEYS, RunConfig, config_diff
from faithscope.runs.runner import load_dataset_for, resolve_run_task

REPO = Path(__file__).resolve().parents[2]
TASK = REPO / "examples" / "own-data" / "sentiment.toml"
REVIEWS = REPO / "examples" / "own-data" / "reviews.jsonl"


def test_builtin_runs_keep_their_result_keys():
    """A store written before these keys existed compares equal (no spurious 'config differs')."""
    result = RunConfig(dataset="fever").result_dict()
    assert not set(OPTIONAL_RESULT_KEYS) & set(result) and "task_dir" not in result
    config = RunConfig(dataset="fever", task_dir=("somewhere",))
    assert config.result_dict() == result and config.config_hash() == RunConfig(dataset="fever").config_hash()


def test_task_and_data_file_hashes_are_result_keys(tmp_path):
    task = tmp_path / "s.toml"
    task.write_bytes(TASK.read_bytes())
    config = RunConfig(data_file=str(REVIEWS), task=str(task))
    assert config.dataset == "file"
    resolve_run_task(config)
    assert config.task_sha256 == hashlib.sha256(TASK.read_bytes()).hexdigest()
    assert config.data_sha256 == hashlib.sha256(REVIEWS.read_bytes()).hexdigest()
    assert config.task_path == str(task.resolve())
    before = config.result_dict()
    task.write_text(TASK.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    edited = RunConfig(data_file=str(REVIEWS), task=str(task))
    resolve_run_task(edited)
    assert [d.split(":")[0] for d in config_diff(before, edited.result_dict())] == ["task_sha256"]
    assert edited.config_hash() != config.config_hash()
    loaded = load_dataset_for(edited)
    assert loaded.task == "sentiment" and len(loaded.examples) == 8


@pytest.mark.parametrize("kwargs, message", [
    (dict(dataset="file"), "--dataset file needs --data-file FILE"),
    (dict(data_file="x.jsonl"), "--data-file needs --task"),
    (dict(dataset="eraser", data_dir="d"), "--dataset eraser needs --task"),
    (dict(dataset="fever", data_file="x.jsonl", task="t"), "cannot be combined with --dataset fever"),
    (dict(dataset="fever", split="val"), "--split chooses the file of an ERASER directory"),
])
def test_bad_combinations(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        RunConfig(**kwargs)


def test_a_builtin_dataset_with_a_task_that_lacks_its_labels(tmp_path):
    task = tmp_path / "two.toml"
    task.write_text((REPO / "src" / "faithscope" / "tasks" / "demo.toml").read_text(encoding="utf-8")
                    .replace('labels = ["entailment", "contradiction", "neutral"]', 'labels = ["entailment", "contradiction"]')
                    .replace('neutral = " neutral"\n', ""), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"dataset 'demo' has label\(s\) \['neutral'\] that task 'demo' does not have"):
        load_dataset_for(RunConfig(dataset="demo", task=str(task)))
