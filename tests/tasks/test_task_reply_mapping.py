"""Task files declare which fields a prompting reply selects from and the repeated-word rule
(issue 11 item 2); both keys are optional, so a task file valid before stays valid."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from faithscope.errors import ConfigError
from faithscope.tasks import load_task, parse_task_file

BASE = '''name = "mini"
fields = ["claim", "evidence"]
labels = ["yes", "no"]
[verbalizers]
yes = " yes"
no = " no"
[prompts]
classification = "{claim} {evidence} Label:"
attribution = "{claim} {evidence} Label: {label}"
unbound = "{claim} {evidence} {label} words?"
topk = "{claim} {evidence} {label} top {k} words?"
'''


def write(tmp_path: Path, extra: str = "") -> Path:
    head, sep, rest = BASE.partition("[verbalizers]")
    path = tmp_path / "mini.toml"
    path.write_text(head + extra + "\n" + sep + rest, encoding="utf-8")
    return path


@pytest.mark.parametrize("name, fields", [
    ("fever", ("evidence",)),  # "the most important words from the given evidence"
    ("esnli", ("premise", "hypothesis")),  # "from the text": premise and hypothesis
    ("demo", ("premise", "hypothesis")),
    ("medical_bios", ("bio",)),
])
def test_builtin_tasks_declare_reply_fields(name, fields):
    task = load_task(name)
    assert task.selectable_reply_fields == fields
    assert task.reply_occurrence == "first"
    assert task.reply_mapping() == {"fields": list(fields), "occurrence": "first", "stop": list(task.rationale_stop)}


def test_a_task_file_without_the_new_keys_stays_valid(tmp_path):
    task = parse_task_file(write(tmp_path))
    assert task.selectable_reply_fields == ("claim", "evidence") and task.reply_occurrence == "first"


def test_reply_keys_are_read_in_task_field_order(tmp_path):
    task = parse_task_file(write(tmp_path, 'reply_fields = ["evidence", "claim"]\nreply_occurrence = "every"'))
    assert task.selectable_reply_fields == ("claim", "evidence") and task.reply_occurrence == "every"


@pytest.mark.parametrize("extra, message", [
    ('reply_fields = ["title"]', "reply_fields ['title'] are not among"),
    ("reply_fields = []", "non-empty list"),
    ('reply_fields = "evidence"', "non-empty list"),
    ('reply_occurrence = "last"', "reply_occurrence must be one of first, every"),
])
def test_bad_reply_keys_are_one_clear_error(tmp_path, extra, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_task_file(write(tmp_path, extra))
