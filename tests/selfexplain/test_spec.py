"""The [self_consistency] table: rendering by plain substitution and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from faithscope.errors import ConfigError
from faithscope.selfexplain import load_self_consistency
from faithscope.tasks import load_task, parse_task_file
from faithscope.types import Example

EX = Example(id="x", fields={"premise": ("A", "{label}", "dog."), "hypothesis": ("An", "animal.")}, label="entailment")


def test_prompts_substitute_once_and_never_format_user_text():
    spec = load_self_consistency(load_task("demo"))
    prompt = spec.explain_prompt("counterfactual", "one", EX, "entailment", target="neutral")
    assert 'Premise: "A {label} dog."' in prompt  # a brace in the data stays as written
    assert "becomes neutral. Use exactly one word." in prompt
    assert prompt.endswith("Edited hypothesis:")
    assert "[REDACTED]" in spec.classify_prompt(EX) and '"unknown"' in spec.classify_prompt(EX)
    assert spec.answer_verbalizers()["unknown"] == " unknown"
    assert set(spec.label_verbalizers()) == {"entailment", "contradiction", "neutral"}
    assert "Use as many words" in spec.explain_prompt("attribution", "many", EX, "entailment")


def _task_with(tmp_path: Path, table: str) -> Path:
    base = Path(load_task("demo").path).read_text(encoding="utf-8").split("[self_consistency]")[0]
    path = tmp_path / "t.toml"
    path.write_text(base + table, encoding="utf-8")
    return path


GOOD = '''[self_consistency]
input = "{premise} {hypothesis}"
classify = "{input} Answer:"
attribution = "{input} {label} {constraint} Words:"
redaction = "{input} {marker} Redacted:"
counterfactual = "{input} becomes {target}. Edited:"
[self_consistency.constraint]
one = "One."
many = "Many."
'''


@pytest.mark.parametrize("edit, message", [
    (("classify = \"{input} Answer:\"", "classify = \"Answer:\""), "classify must show {input}"),
    (("redaction = \"{input} {marker} Redacted:\"", "redaction = \"{input} {target} Redacted:\""), "unknown placeholder(s) ['target']"),
    (("becomes {target}", "becomes X"), "must name the {target} label"),
    (("input = \"{premise} {hypothesis}\"", "input = \"{premise}\""), "must show exactly the fields"),
    (("[self_consistency]\n", "[self_consistency]\nunknown = \"neutral\"\n"), "not a task label"),
    (("[self_consistency]\n", "[self_consistency]\nedit_field = \"claim\"\n"), "edit_field 'claim'"),
    (("many = \"Many.\"\n", ""), "needs strings one and many"),
])
def test_bad_tables_get_one_line(tmp_path, edit, message):
    old, new = edit
    assert old in GOOD
    task = parse_task_file(_task_with(tmp_path, GOOD.replace(old, new)))
    with pytest.raises(ConfigError) as err:
        load_self_consistency(task)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_good_table_defaults(tmp_path):
    spec = load_self_consistency(parse_task_file(_task_with(tmp_path, GOOD)))
    assert spec.edit_field == "premise"  # the task's truncate_field
    assert spec.marker == "[REDACTED]" and spec.target_from == "gold" and spec.stop == ("\n",)
    assert spec.explain_prompt("redaction", "one", EX, "neutral") == "A {label} dog. An animal. [REDACTED] Redacted:"
