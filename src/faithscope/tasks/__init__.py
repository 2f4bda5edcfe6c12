"""Tasks as data: one TOML file per task holds its labels, verbalizers and prompts.

A user adds a task by dropping ``NAME.toml`` into this folder or into a folder named by the
``FAITHSCOPE_TASKS`` environment variable. The prompts are those of Fayyaz et al. 2024,
Tables A.3-A.5, with the paper's ``<p>`` tags read as paragraph breaks.
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
    return Task(
        name=str(raw.get("name", path.stem)),
        description=str(raw.get("description", "")),
        fields=fields,
        labels=labels,
        verbalizers=verbalizers,
        prompts=prompts,
        truncate_field=truncate_field,
        path=str(path),
    )
