"""``faithscope task check TASK.toml``: validate a task and show exactly what the model receives.

:func:`~faithscope.tasks.parse_task_file` does every check that needs no model. What needs a
tokenizer is here: each verbalizer must encode to at least one token (the label is scored as
its teacher-forced token sequence; an empty sequence would score 0 = probability 1) and no two
labels may encode to the same tokens (they could not be told apart). The runner calls
:func:`check_backend_verbalizers` as soon as its backend exists, before any scoring.

The rendered prompts (classification; attribution with its teacher-forced target; UNBOUND and
TOP-VAR rationale prompts) are those the run sends with ``--prompt-format plain``, filled with
the first record of ``--example-file`` (a data file in the ``--data-file`` format) or with one
placeholder word per field.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from ..data.user_file import parse_record, read_records
from ..errors import ConfigError, DataError
from ..types import Example
from . import Task
from .render import attribution_prompt, classification_prompt, rationale_prompt

Encode = Callable[[str], Sequence[int]]
"""A tokenizer's encoding of a verbalizer without special tokens (as the backend scores it)."""
DEFAULT_K = 3


@dataclass(frozen=True)
class TaskCheck:
    """A validated task, the example its prompts were rendered with, and those prompts."""

    task: Task
    example: Example
    example_source: str
    prompts: dict[str, str]
    """Prompt kind -> the exact text (attribution: prompt + the label's verbalizer, the target)."""
    verbalizer_tokens: dict[str, tuple[int, ...]] | None
    """Label -> token ids of its verbalizer; ``None`` when no tokenizer was loaded."""


def check_verbalizers(task: Task, encode: Encode) -> dict[str, tuple[int, ...]]:
    """Token ids of each label's verbalizer; a ConfigError when one encodes to nothing or two
    labels encode alike."""
    ids: dict[str, tuple[int, ...]] = {}
    for label in task.labels:
        ids[label] = tuple(encode(task.verbalizers[label]))
        if not ids[label]:
            raise ConfigError(f"{task.path or task.name}: the verbalizer {task.verbalizers[label]!r} of label {label!r} "
                              "encodes to no tokens with this model's tokenizer; give it visible text, e.g. \" " + label + "\"")
    seen: dict[tuple[int, ...], str] = {}
    for label, toks in ids.items():
        if toks in seen:
            raise ConfigError(f"{task.path or task.name}: labels {seen[toks]!r} and {label!r} have verbalizers that encode to "
                              f"the same tokens {list(toks)}; the model could not tell them apart")
        seen[toks] = label
    return ids


def check_backend_verbalizers(task: Task, backend: Any) -> None:
    """:func:`check_verbalizers` with the backend's own encoding, where it has a tokenizer
    (a server backend has none here; it reports labels it cannot score itself)."""
    verbalizer_ids = getattr(backend, "verbalizer_ids", None)
    if verbalizer_ids is None:
        return

    def encode(text: str) -> Sequence[int]:
        try:
            return verbalizer_ids(text)
        except ValueError:  # HFBackend refuses an empty encoding itself
            return ()

    check_verbalizers(task, encode)


def placeholder_example(task: Task) -> Example:
    """An example with one placeholder word per field (``<premise>``), labelled with the first label."""
    return Example(id="placeholder", fields={f: (f"<{f}>",) for f in task.fields}, label=task.labels[0])


def example_from_file(task: Task, path: Path) -> tuple[Example, str]:
    """The first record of a data file (``--data-file`` format) as an example of ``task``."""
    for line, rec in read_records(path):
        return parse_record(rec, task, path, line), f"{path}, line {line}"
    raise DataError(str(path), None, None, "no records")


def render_prompts(task: Task, example: Example) -> dict[str, str]:
    """The four prompts of ``task`` for ``example`` as the model receives them (plain format)."""
    k = len(example.rationale) or DEFAULT_K
    return {
        "classification": classification_prompt(task, example).text,
        "attribution": attribution_prompt(task, example).text + task.verbalizer(example.label),
        "unbound": rationale_prompt(task, example, example.label, None).text,
        "topk": rationale_prompt(task, example, example.label, k).text,
    }


def check_task(task: Task, encode: Encode | None = None, example_file: Path | None = None) -> TaskCheck:
    """Validate ``task`` (verbalizers with ``encode`` when given) and render its prompts."""
    tokens = check_verbalizers(task, encode) if encode is not None else None
    if example_file is not None:
        example, source = example_from_file(task, Path(example_file))
    else:
        example, source = placeholder_example(task), "one placeholder word per field (pass --example-file FILE for a real record)"
    return TaskCheck(task, example, source, render_prompts(task, example), tokens)


def format_check(check: TaskCheck) -> str:
    """The report ``faithscope task check`` prints."""
    t = check.task
    lines = [f"task {t.name!r} ({t.path}) is valid",
             f"fields: {', '.join(t.fields)} (truncated first: {t.truncate_field}; a reply selects from: "
             f"{', '.join(t.selectable_reply_fields)}, occurrence rule {t.reply_occurrence})"]
    for label in t.labels:
        toks = f" -> tokens {list(check.verbalizer_tokens[label])}" if check.verbalizer_tokens is not None else ""
        lines.append(f"label {label!r}: verbalizer {t.verbalizers[label]!r}{toks}")
    if check.verbalizer_tokens is None:
        lines.append("verbalizers not tokenised (--no-tokenizer); `faithscope run` checks them with the model's tokenizer")
    ex = check.example
    lines.append(f"example: {check.example_source}; label {ex.label!r}; human rationale: "
                 + (", ".join(f"{i}:{ex.words[i]}" for i in sorted(ex.rationale)) or "none"))
    notes = {"classification": "the model is scored on each label's verbalizer right after this text",
             "attribution": "attribution target = the label's verbalizer at the end",
             "unbound": f"with the label {ex.label!r}", "topk": f"with the label {ex.label!r} and k = {len(ex.rationale) or DEFAULT_K}"}
    for kind, text in check.prompts.items():
        lines += ["", f"--- {kind} prompt ({notes[kind]}) ---", text]
    return "\n".join(lines)
