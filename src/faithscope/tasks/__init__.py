"""Tasks as data: one TOML file per task holds its labels, verbalizers and prompts.

A user adds a task by dropping ``NAME.toml`` into this folder or into a folder named by the
``FAITHSCOPE_TASKS`` environment variable. The prompts are those of Fayyaz et al. 2024,
Tables A.3-A.5, with the paper's ``<p>`` tags read as paragraph breaks.

Two optional keys say how a prompting rationale (the model's list of words) maps back to input
positions: ``reply_fields``, the fields the UNBOUND/TOP-VAR prompt asks the model to pick words
from (FEVER: ``["evidence"]``; default: all fields), and ``reply_occurrence``, what a listed word
selects when it occurs several times in those fields: ``"first"`` (default: its first occurrence
not already taken, so one listed word selects one input word and a word listed twice selects
its next occurrence; TOP-VAR's k listed words stay k positions) or ``"every"`` (all its
occurrences). A third, ``rationale_stop``, lists stop sequences that end an UNBOUND/TOP-VAR reply:
generation stops there (besides EOS) and the reply parser reads the reply only up to the first
of them (after its leading whitespace), so a reply generated with or without the stops parses
to the same rationale (default: none). All three are recorded with every prompting result
(:meth:`Task.reply_mapping`).
"""

from __future__ import annotations

import os
import string
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from ..errors import ConfigError

PROMPT_KINDS = ("classification", "attribution", "unbound", "topk")
REPLY_OCCURRENCES = ("first", "every")
"""How a reply word that occurs several times in the reply fields is mapped (see module doc)."""
_HERE = Path(__file__).parent


@dataclass(frozen=True)
class Task:
    """Label set, verbalizers and prompt templates of one classification task."""

    name: str
    description: str
    fields: tuple[str, ...]
    labels: tuple[str, ...]
    verbalizers: Mapping[str, str]
    prompts: Mapping[str, str]
    truncate_field: str
    path: str = ""
    reply_fields: tuple[str, ...] = ()
    """Fields a prompting rationale selects from; empty = all :attr:`fields`."""
    reply_occurrence: str = "first"
    """``first`` or ``every``: what a reply word occurring several times selects."""
    rationale_stop: tuple[str, ...] = ()
    """Stop sequences of UNBOUND/TOP-VAR replies: a reply ends before the first one."""

    @property
    def selectable_reply_fields(self) -> tuple[str, ...]:
        """The fields a prompting reply may select words from, in task order."""
        return self.reply_fields or self.fields

    def reply_mapping(self) -> dict[str, object]:
        """The reply-to-position rule, as stored with every prompting rationale."""
        return {"fields": list(self.selectable_reply_fields), "occurrence": self.reply_occurrence, "stop": list(self.rationale_stop)}

    def verbalizer(self, label: str) -> str:
        try:
            return self.verbalizers[label]
        except KeyError:
            raise ConfigError(f"unknown label {label!r} for task {self.name!r}; labels: {', '.join(self.labels)}") from None


def _task_dirs() -> list[Path]:
    extra = os.environ.get("FAITHSCOPE_TASKS")
    return ([Path(p) for p in extra.split(os.pathsep) if p] if extra else []) + [_HERE]


def list_tasks() -> list[str]:
    names: set[str] = set()
    for d in _task_dirs():
        names.update(p.stem for p in d.glob("*.toml"))
    return sorted(names)


def load_task(name: str) -> Task:
    """Read and validate ``NAME.toml`` (user task folders first, then the built-in ones)."""
    for d in _task_dirs():
        path = d / f"{name}.toml"
        if path.is_file():
            return parse_task_file(path)
    raise ConfigError(f"unknown task {name!r}; known tasks: {', '.join(list_tasks())}")


def parse_task_file(path: Path) -> Task:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None

    def need(key: str, kind: type):
        if key not in raw:
            raise ConfigError(f"{path}: missing key {key!r}")
        if not isinstance(raw[key], kind):
            raise ConfigError(f"{path}: key {key!r} must be a {kind.__name__}")
        return raw[key]

    fields = tuple(need("fields", list))
    labels = tuple(need("labels", list))
    verbalizers = dict(need("verbalizers", dict))
    prompts = dict(need("prompts", dict))
    if not fields or not labels:
        raise ConfigError(f"{path}: 'fields' and 'labels' must not be empty")
    missing = [lab for lab in labels if lab not in verbalizers]
    if missing:
        raise ConfigError(f"{path}: no verbalizer for label(s) {', '.join(missing)}")
    for kind in PROMPT_KINDS:
        if kind not in prompts:
            raise ConfigError(f"{path}: missing prompt {kind!r} under [prompts]")
        used = {f for _, f, _, _ in string.Formatter().parse(prompts[kind]) if f}
        unknown = used - set(fields) - {"label", "k"}
        if unknown:
            raise ConfigError(f"{path}: prompt {kind!r} uses unknown placeholder(s) {sorted(unknown)}")
        absent = [f for f in fields if f not in used]
        if absent:
            raise ConfigError(f"{path}: prompt {kind!r} does not show field(s) {absent}")
    if not prompts["attribution"].endswith("{label}"):
        raise ConfigError(f"{path}: the attribution prompt must end with {{label}} (the attribution target)")
    truncate_field = raw.get("truncate_field", fields[-1])
    if truncate_field not in fields:
        raise ConfigError(f"{path}: truncate_field {truncate_field!r} is not one of {fields}")
    reply_fields = raw.get("reply_fields", list(fields))
    if not isinstance(reply_fields, list) or not reply_fields or not all(isinstance(f, str) for f in reply_fields):
        raise ConfigError(f"{path}: 'reply_fields' must be a non-empty list of field names")
    unknown_reply = [f for f in reply_fields if f not in fields]
    if unknown_reply:
        raise ConfigError(f"{path}: reply_fields {unknown_reply} are not among the task's fields {list(fields)}")
    occurrence = raw.get("reply_occurrence", "first")
    if occurrence not in REPLY_OCCURRENCES:
        raise ConfigError(f"{path}: reply_occurrence must be one of {', '.join(REPLY_OCCURRENCES)}, got {occurrence!r}")
    stops = raw.get("rationale_stop", [])
    if not isinstance(stops, list) or not all(isinstance(x, str) and x for x in stops):
        raise ConfigError(f"{path}: 'rationale_stop' must be a list of non-empty stop strings")
    return Task(
        name=str(raw.get("name", path.stem)),
        description=str(raw.get("description", "")),
        fields=fields,
        labels=labels,
        verbalizers=verbalizers,
        prompts=prompts,
        truncate_field=truncate_field,
        path=str(path),
        reply_fields=tuple(f for f in fields if f in reply_fields),
        reply_occurrence=occurrence,
        rationale_stop=tuple(stops),
    )
