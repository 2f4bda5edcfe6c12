"""The ``[self_consistency]`` table of a task file: Madsen et al. (2024) prompts as data.

Three explanation styles, each judged by a self-consistency check (SPEC, "Self-consistency
checks"):

* ``attribution`` — the model lists the words most important for its answer; those words are
  replaced by :attr:`SelfConsistencySpec.marker` (case-insensitive, whole words) and the model
  classifies the redacted input with :attr:`~SelfConsistencySpec.unknown` allowed: faithful if
  it answers unknown;
* ``redaction`` — the model rewrites the :attr:`~SelfConsistencySpec.edit_field` with the words
  needed for the decision replaced by the marker; same check;
* ``counterfactual`` — the model rewrites the edit field so that the label becomes a given
  target label; faithful if the model then predicts the target.

Table keys (all strings unless said):

``input``
    template showing every task field (``{premise}``, ...), as in ``[selfexplain]``;
``classify``
    the classification prompt with "unknown" allowed; shows ``{input}``; the answer is scored
    as the next tokens (verbalizers of the task's labels plus :attr:`unknown_verbalizer`);
``attribution``, ``redaction``, ``counterfactual``
    the explanation prompts; each shows ``{input}`` and may use ``{label}`` (the answer being
    explained, verbalised without its leading space), ``{target}`` (counterfactual only),
    ``{field}`` (the edit field's name), ``{marker}``, ``{unknown}`` and ``{constraint}``;
    each ends with the cue after which the reply (or, in training, the target) follows;
``[self_consistency.constraint]``
    ``one`` and ``many``: the sentence ``{constraint}`` becomes in one-word mode (as trained)
    and in unconstrained multi-word mode;
``edit_field`` (default: the task's ``truncate_field``), ``marker`` (``"[REDACTED]"``),
``unknown`` (``"unknown"``), ``unknown_verbalizer`` (``" " + unknown``), ``target_from``
(``"gold"``, as Madsen's code, or ``"prediction"``), ``stop`` (list, default ``["\\n"]``),
``max_new_tokens`` (int, per style table ``[self_consistency.max_new_tokens]`` or one int).

Placeholders are filled by plain substitution of the names above — never ``str.format`` on
user text and never evaluation of anything in the file.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from ..errors import ConfigError
from ..tasks import Task, read_task_table
from ..tasks.render import render
from ..types import Example

STYLES = ("attribution", "redaction", "counterfactual")
"""Madsen et al.'s three explanation styles, in the order tables show them."""
MODES = ("one", "many")
"""``one``: one-word-constrained explanations (as trained); ``many``: unconstrained."""
TARGET_FROM = ("gold", "prediction")
_OUTER = ("input", "label", "target", "field", "marker", "unknown", "constraint")


@dataclass(frozen=True)
class SelfConsistencySpec:
    """The ``[self_consistency]`` table of one task (see the module docstring)."""

    task: Task
    input: str
    classify: str
    prompts: Mapping[str, str]
    constraints: Mapping[str, str]
    edit_field: str
    marker: str = "[REDACTED]"
    unknown: str = "unknown"
    unknown_verbalizer: str = " unknown"
    target_from: str = "gold"
    stop: tuple[str, ...] = ("\n",)
    max_new_tokens: Mapping[str, int] | None = None

    # --- what the model is scored on ---------------------------------------------------
    def answer_verbalizers(self) -> dict[str, str]:
        """Verbalizers of the re-classification: the task's labels plus unknown."""
        out = {lab: self.task.verbalizer(lab) for lab in self.task.labels}
        out[self.unknown] = self.unknown_verbalizer
        return out

    def label_verbalizers(self) -> dict[str, str]:
        """Verbalizers of the original prediction: the task's labels only (forced choice)."""
        return {lab: self.task.verbalizer(lab) for lab in self.task.labels}

    def budget(self, style: str) -> int:
        return int((self.max_new_tokens or {}).get(style, 48))

    # --- rendering -------------------------------------------------------------------
    def render_input(self, example: Example) -> str:
        return render(self.input, example).text

    def classify_prompt(self, example: Example) -> str:
        """The classification prompt (unknown allowed) of ``example`` as it is (maybe redacted)."""
        return _fill(self.classify, {"input": self.render_input(example), "marker": self.marker, "unknown": self.unknown,
                                     "field": self.edit_field})

    def explain_prompt(self, style: str, mode: str, example: Example, label: str, target: str | None = None) -> str:
        """The explanation prompt of ``style`` in ``mode`` for the answer ``label``."""
        if style not in STYLES:
            raise ConfigError(f"unknown explanation style {style!r}; styles: {', '.join(STYLES)}")
        if mode not in MODES:
            raise ConfigError(f"unknown explanation mode {mode!r}; modes: {', '.join(MODES)}")
        if style == "counterfactual" and target is None:
            raise ConfigError("the counterfactual style needs a target label")
        values = {"input": self.render_input(example), "label": self.task.verbalizer(label).strip(),
                  "field": self.edit_field, "marker": self.marker, "unknown": self.unknown,
                  "constraint": self.constraints[mode]}
        if target is not None:
            values["target"] = self.task.verbalizer(target).strip()
        return _fill(self.prompts[style], values)

    def edit_text(self, example: Example) -> str:
        """The edit field's text as the model sees it (its words joined by spaces)."""
        return " ".join(example.fields[self.edit_field])


def _fill(template: str, values: Mapping[str, str]) -> str:
    """Substitute ``{name}`` placeholders in one pass (text inserted is never re-scanned)."""
    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in values:
            raise ConfigError(f"placeholder {{{name}}} has no value here")
        return values[name]
    return re.sub(r"\{(\w+)\}", sub, template)


def _placeholders(template: str) -> set[str]:
    try:
        return {f for _, f, _, _ in string.Formatter().parse(template) if f}
    except ValueError as e:
        raise ConfigError(f"malformed placeholder in {template[:40]!r}...: {e}") from None


def load_self_consistency(task: Task) -> SelfConsistencySpec:
    """Read and check the ``[self_consistency]`` table of ``task``'s file."""
    path = Path(task.path)
    table, _ = read_task_table(task, "self_consistency", "Madsen-style self-explanation prompts")

    def text(key: str) -> str:
        value = table.get(key)
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{path}: [self_consistency] needs a non-empty string {key!r}")
        return value

    inp = text("input")
    shown = _placeholders(inp)
    if shown != set(task.fields):
        raise ConfigError(f"{path}: [self_consistency] input must show exactly the fields {list(task.fields)}, shows {sorted(shown)}")
    templates = {key: text(key) for key in ("classify", *STYLES)}
    for key, tpl in templates.items():
        used = _placeholders(tpl)
        if "input" not in used:
            raise ConfigError(f"{path}: [self_consistency] {key} must show {{input}}")
        allowed = set(_OUTER) - ({"target"} if key != "counterfactual" else set()) - ({"label", "constraint", "target"} if key == "classify" else set())
        unknown = sorted(used - allowed)
        if unknown:
            raise ConfigError(f"{path}: [self_consistency] {key} uses unknown placeholder(s) {unknown}; allowed: {sorted(allowed)}")
    if "{target}" not in templates["counterfactual"]:
        raise ConfigError(f"{path}: [self_consistency] counterfactual must name the {{target}} label")
    constraints = table.get("constraint")
    if not isinstance(constraints, dict) or any(not isinstance(constraints.get(m), str) for m in MODES):
        raise ConfigError(f"{path}: [self_consistency.constraint] needs strings {' and '.join(MODES)}")
    edit_field = table.get("edit_field", task.truncate_field)
    if edit_field not in task.fields:
        raise ConfigError(f"{path}: [self_consistency] edit_field {edit_field!r} is not one of the task's fields {list(task.fields)}")
    unknown_word = table.get("unknown", "unknown")
    if not isinstance(unknown_word, str) or not unknown_word.strip() or unknown_word in task.labels:
        raise ConfigError(f"{path}: [self_consistency] unknown must be a non-empty string that is not a task label")
    marker = table.get("marker", "[REDACTED]")
    if not isinstance(marker, str) or not marker.strip() or " " in marker:
        raise ConfigError(f"{path}: [self_consistency] marker must be one non-empty word without spaces")
    target_from = table.get("target_from", "gold")
    if target_from not in TARGET_FROM:
        raise ConfigError(f"{path}: [self_consistency] target_from must be one of {', '.join(TARGET_FROM)}")
    stop = table.get("stop", ["\n"])
    if not isinstance(stop, list) or not all(isinstance(s, str) and s for s in stop):
        raise ConfigError(f"{path}: [self_consistency] stop must be a list of non-empty strings")
    budgets = table.get("max_new_tokens", {})
    if isinstance(budgets, int) and not isinstance(budgets, bool):
        budgets = {s: budgets for s in STYLES}
    if not isinstance(budgets, dict) or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in budgets.values()) \
            or set(budgets) - set(STYLES):
        raise ConfigError(f"{path}: [self_consistency] max_new_tokens must be a positive int or a table of them per style")
    return SelfConsistencySpec(
        task=task, input=inp, classify=templates["classify"], prompts={s: templates[s] for s in STYLES},
        constraints={m: constraints[m] for m in MODES}, edit_field=edit_field, marker=marker, unknown=unknown_word,
        unknown_verbalizer=str(table.get("unknown_verbalizer", " " + unknown_word)), target_from=target_from,
        stop=tuple(stop), max_new_tokens=dict(budgets))
