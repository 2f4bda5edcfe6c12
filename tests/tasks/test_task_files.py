"""Task files of your own (issue 16): every bad file is one clear line, a task file is data
only (no code runs), ``--task`` resolves a file path or a name (with --task-dir)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from faithscope.errors import ConfigError
from faithscope.tasks import load_task, parse_task_file, resolve_task, task_entries
from faithscope.tasks.render import attribution_prompt, classification_prompt, rationale_prompt
from faithscope.types import Example

GOOD = '''name = "mini"
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


def write(tmp_path: Path, text: str, name: str = "mini.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_good_file_and_the_builtin_ones_are_valid(tmp_path):
    task = parse_task_file(write(tmp_path, GOOD))
    assert task.fields == ("claim", "evidence") and task.labels == ("yes", "no") and len(task.sha256) == 64
    for entry in task_entries():
        assert entry.task is not None, entry.error


@pytest.mark.parametrize("old, new, message", [
    # missing or misplaced placeholders
    ('topk = "{claim} {evidence} {label} top {k} words?"', 'topk = "{claim} {evidence} {label} top words?"',
     "prompt 'topk' lacks placeholder(s) {k}"),
    ('unbound = "{claim} {evidence} {label} words?"', 'unbound = "{claim} {evidence} words?"',
     "prompt 'unbound' lacks placeholder(s) {label}"),
    ('classification = "{claim} {evidence} Label:"', 'classification = "{claim} Label:"',
     "prompt 'classification' does not show field(s) ['evidence']"),
    ('classification = "{claim} {evidence} Label:"', 'classification = "{claim} {evidence} Label: {label}"',
     "prompt 'classification' uses unknown placeholder(s) ['label']; it may use ['claim', 'evidence']"),
    ('attribution = "{claim} {evidence} Label: {label}"', 'attribution = "{claim} {evidence} {label}: Label"',
     "the attribution prompt must end with {label}"),
    ('attribution = "{claim} {evidence} Label: {label}"', 'attribution = "{label} {claim} {evidence} Label: {label}"',
     "the attribution prompt may show {label} only at its end"),
    ('classification = "{claim} {evidence} Label:"', 'classification = "{claim} {evidence} Label: {"',
     "prompt 'classification' is not a valid template (Single '{' encountered in format string)"),
    ('classification = "{claim} {evidence} Label:"', 'classification = "{claim} {evidence} {} Label:"',
     "prompt 'classification' has an empty or numbered placeholder {}"),
    ('classification = "{claim} {evidence} Label:"', 'classification = "{claim!r} {evidence} Label:"',
     "placeholder {claim} must be plain, without '!' conversion or ':' format"),
    # unknown fields
    ('classification = "{claim} {evidence} Label:"', 'classification = "{claim} {evidence} {title} Label:"',
     "prompt 'classification' uses unknown placeholder(s) ['title']"),
    ('labels = ["yes", "no"]', 'labels = ["yes", "no"]\ntruncate_field = "title"', "truncate_field 'title' is not one of"),
    ('labels = ["yes", "no"]', 'labels = ["yes", "no"]\nreply_fields = ["title"]', "reply_fields ['title'] are not among the task's fields"),
    ('labels = ["yes", "no"]', 'labels = ["yes", "no"]\ntruncate_feild = "claim"', "unknown key(s) ['truncate_feild']"),
    ('fields = ["claim", "evidence"]', 'fields = ["claim", "label"]', "field name(s) ['label'] not allowed"),
    ('fields = ["claim", "evidence"]', 'fields = ["claim", "claim"]', "duplicate field(s) ['claim'] in 'fields'"),
    ('[prompts]', '[prompts]\nexplain = "{claim}"', "unknown prompt(s) ['explain'] under [prompts]"),
    # labels and verbalizers
    ('labels = ["yes", "no"]', 'labels = ["yes", "no", "yes"]', "duplicate label(s) ['yes'] in 'labels'"),
    ('no = " no"', 'no = " no"\nmaybe = " maybe"', "verbalizer(s) for unknown label(s) ['maybe']"),
    ('no = " no"', 'no = ""', "the verbalizer of label 'no' must be a non-empty string"),
    ('no = " no"', 'no = "   "', "the verbalizer of label 'no' must be a non-empty string"),
    ('no = " no"', 'no = " yes"', "labels ['no', 'yes'] share one verbalizer"),
    ('no = " no"', '', "no verbalizer for label(s) no"),
    ('top {k} words?"', 'top {k} words?"\n[eraser]\nquery_field = "title"', "[eraser] query_field 'title' is not one of the task's fields"),
])
def test_bad_task_files_are_one_clear_line(tmp_path, old, new, message):
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(ConfigError) as info:
        parse_task_file(path)
    line = str(info.value)
    assert line.startswith(f"{path}: ") and message in line and "\n" not in line


def test_not_toml_and_not_utf8(tmp_path):
    with pytest.raises(ConfigError, match=re.escape("not valid TOML")):
        parse_task_file(write(tmp_path, "fields = [\n"))
    path = tmp_path / "latin.toml"
    path.write_bytes(GOOD.replace("Label", "L\xe9bel").encode("latin-1"))
    with pytest.raises(ConfigError, match="not valid UTF-8"):
        parse_task_file(path)


def test_python_in_a_task_file_stays_inert_text(tmp_path, monkeypatch):
    """Code in a task file's strings is never run: literal text stays literal, and a placeholder
    that would evaluate something (attribute or index lookups, calls) is refused."""
    marker = tmp_path / "pwned"
    code = f"__import__('os').system('touch {marker}')"
    text = GOOD.replace('Label:"', f'Label: {code}"', 1).replace('name = "mini"', f'name = "mini"\ndescription = "{code}"')
    task = parse_task_file(write(tmp_path, text))
    ex = Example("e", {"claim": ("c",), "evidence": ("e",)}, "yes")
    prompt = classification_prompt(task, ex).text
    assert prompt == f"c e Label: {code}" and not marker.exists()
    for evil in ("{claim.__class__}", "{claim[0]}", "{__import__('os')}", "{evidence.__init__.__globals__}"):
        with pytest.raises(ConfigError, match="unknown placeholder"):
            parse_task_file(write(tmp_path, GOOD.replace("Label:\"", f"{evil} Label:\"", 1), "evil.toml"))
    assert not marker.exists()
    # the task module reads TOML with tomllib only: no eval/exec/import machinery on file contents
    import faithscope.tasks as tasks_module

    source = Path(tasks_module.__file__).read_text(encoding="utf-8")
    assert not re.search(r"\b(eval|exec|importlib|__import__|runpy)\s*\(", source)


def test_prompts_of_a_file_task_render(tmp_path):
    task = parse_task_file(write(tmp_path, GOOD))
    ex = Example("e", {"claim": ("The", "sky"), "evidence": ("is", "blue")}, "yes", frozenset({3}))
    assert attribution_prompt(task, ex).text == "The sky is blue Label:"
    assert rationale_prompt(task, ex, "no", 2).text == "The sky is blue no top 2 words?"


def test_resolve_task_by_file_by_name_and_in_task_dirs(tmp_path, monkeypatch):
    path = write(tmp_path, GOOD)
    assert resolve_task(str(path)).path == str(path)
    with pytest.raises(ConfigError, match="--task nope.toml: task file not found"):
        resolve_task("nope.toml")
    with pytest.raises(ConfigError, match="unknown task 'mini'"):
        resolve_task("mini")
    assert resolve_task("mini", (str(tmp_path),)).path == str(path)
    monkeypatch.setenv("FAITHSCOPE_TASKS", str(tmp_path))
    assert load_task("mini").name == "mini"
    shadow = write(tmp_path, GOOD.replace('name = "mini"', 'name = "fever"'), "fever.toml")
    write(tmp_path, "fields = [", "broken.toml")
    entries = {(e.name, e.origin): e for e in task_entries()}
    assert entries[("fever", "FAITHSCOPE_TASKS")].path == shadow
    assert entries[("fever", "built-in")].shadowed_by == str(shadow)
    assert entries[("broken", "FAITHSCOPE_TASKS")].task is None and "not valid TOML" in entries[("broken", "FAITHSCOPE_TASKS")].error
