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

A task given as ``--task FILE.toml`` (:func:`resolve_task`) is read with the same schema. A task
file is data only: it is parsed with ``tomllib`` and its prompts are filled by
:mod:`.render`, which substitutes only the task's field names, ``{label}`` and ``{k}`` (no
``str.format`` attribute or index lookups, no ``eval``, no imports); anything else in a string is
literal prompt text. Checks that need a tokenizer (a verbalizer that encodes to no tokens) are in
:mod:`.check`. The optional ``[eraser]`` table says which field receives an ERASER annotation's
query (``query_field``; see :mod:`faithscope.data.eraser`).
"""

from __future__ import annotations

import hashlib
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
TOP_LEVEL_KEYS = ("name", "description", "fields", "labels", "verbalizers", "prompts", "truncate_field", "reply_fields",
                  "reply_occurrence", "rationale_stop", "selfexplain", "self_consistency", "counterfactual", "eraser")
"""Every key a task file may have (a misspelt key is an error, not silently ignored)."""
RESERVED_FIELDS = ("label", "k", "id")
"""Placeholders of the prompts (``label``, ``k``) and the record id of a data file: not field names."""


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
    sha256: str = ""
    """Hash of the task file's bytes (recorded with a run given ``--task``, so that a changed
    task file is not mixed into the same results)."""
    eraser_query_field: str | None = None
    """``[eraser] query_field``: the field an ERASER query goes to; ``""`` none; ``None`` the default."""

    @property
    def builtin(self) -> bool:
        """The task file ships with faithscope."""
        return bool(self.path) and Path(self.path).parent == _HERE
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


def _task_dirs(extra_dirs: tuple[str | os.PathLike[str], ...] = ()) -> list[Path]:
    """Folders searched for ``NAME.toml``: ``extra_dirs`` (``--task-dir``), then
    ``FAITHSCOPE_TASKS`` (``os.pathsep``-separated), then the built-in folder."""
    env = os.environ.get("FAITHSCOPE_TASKS")
    from_env = [Path(p) for p in env.split(os.pathsep) if p] if env else []
    return [Path(d) for d in extra_dirs] + from_env + [_HERE]


def read_task_table(task: Task, key: str, what: str) -> tuple[dict, dict]:
    """The optional table ``[key]`` of ``task``'s file and the whole parsed file, or a one-line
    ConfigError naming ``what`` the table holds (for the tables the systems built on a task
    read themselves: ``[selfexplain]``, ``[self_consistency]``)."""
    path = Path(task.path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"{path}: cannot read the task file: {e}") from None
    table = raw.get(key)
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: task {task.name!r} has no [{key}] table ({what})")
    return table, raw


def list_tasks(extra_dirs: tuple[str | os.PathLike[str], ...] = ()) -> list[str]:
    names: set[str] = set()
    for d in _task_dirs(extra_dirs):
        names.update(p.stem for p in d.glob("*.toml"))
    return sorted(names)


def task_files(extra_dirs: tuple[str | os.PathLike[str], ...] = ()) -> list[Path]:
    """Every task file found, in search order (a name in an earlier folder shadows a later one)."""
    return [p for d in _task_dirs(extra_dirs) for p in sorted(d.glob("*.toml"))]


@dataclass(frozen=True)
class TaskEntry:
    """One task file found by :func:`task_entries` (``faithscope list tasks``)."""

    name: str
    path: Path
    origin: str
    """``built-in``, ``FAITHSCOPE_TASKS`` or ``--task-dir``."""
    task: Task | None
    error: str = ""
    """Why the file is not a valid task (``task`` is then ``None``)."""
    shadowed_by: str = ""
    """The path of an earlier file of the same name, which ``--task NAME`` uses instead."""


def task_entries(extra_dirs: tuple[str | os.PathLike[str], ...] = ()) -> list[TaskEntry]:
    """Every task file in search order, parsed; an invalid file is listed with its error."""
    env = os.environ.get("FAITHSCOPE_TASKS")
    origins = [(Path(d), "--task-dir") for d in extra_dirs] + [(Path(p), "FAITHSCOPE_TASKS") for p in (env.split(os.pathsep) if env else []) if p]
    origins.append((_HERE, "built-in"))
    first: dict[str, Path] = {}
    out: list[TaskEntry] = []
    for folder, origin in origins:
        for path in sorted(folder.glob("*.toml")):
            try:
                task, error = parse_task_file(path), ""
            except ConfigError as e:
                task, error = None, str(e).removeprefix(f"{path}: ")
            shadow = str(first[path.stem]) if path.stem in first else ""
            first.setdefault(path.stem, path)
            out.append(TaskEntry(path.stem, path, origin, task, error, shadow))
    return out


def load_task(name: str, extra_dirs: tuple[str | os.PathLike[str], ...] = ()) -> Task:
    """Read and validate ``NAME.toml`` (``extra_dirs`` and user task folders first, then the built-in ones)."""
    for d in _task_dirs(extra_dirs):
        path = d / f"{name}.toml"
        if path.is_file():
            return parse_task_file(path)
    raise ConfigError(f"unknown task {name!r}; known tasks: {', '.join(list_tasks(extra_dirs))} "
                      "(or pass --task FILE.toml)")


def looks_like_path(spec: str) -> bool:
    """``--task`` names a file (ends in ``.toml`` or holds a path separator) rather than a task name."""
    return spec.endswith(".toml") or "/" in spec or os.sep in spec


def resolve_task(spec: str, extra_dirs: tuple[str | os.PathLike[str], ...] = ()) -> Task:
    """The task ``--task`` names: a task file path (``FILE.toml``) or a task name."""
    if looks_like_path(spec):
        path = Path(spec).expanduser()
        if not path.is_file():
            raise ConfigError(f"--task {spec}: task file not found")
        return parse_task_file(path)
    return load_task(spec, extra_dirs)


def _placeholders(template: str, path: Path, kind: str) -> list[str]:
    """Names of the ``{...}`` placeholders of one prompt, or a ConfigError for a malformed one."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as e:  # a single '{' or '}'
        raise ConfigError(f"{path}: prompt {kind!r} is not a valid template ({e}); write a literal brace as {{{{ or }}}}") from None
    names = []
    for _, name, spec, conv in parsed:
        if name is None:
            continue
        if name == "" or name.isdigit():
            raise ConfigError(f"{path}: prompt {kind!r} has an empty or numbered placeholder {{{name}}}; name a field, {{label}} or {{k}}")
        if spec or conv:
            raise ConfigError(f"{path}: prompt {kind!r}: placeholder {{{name}}} must be plain, without '!' conversion or ':' format")
        names.append(name)
    return names


# Which placeholders each prompt kind must and may show besides the fields.
_NEEDS = {"classification": set(), "attribution": {"label"}, "unbound": {"label"}, "topk": {"label", "k"}}


def parse_task_file(path: Path) -> Task:
    """Read and validate one task file; every problem is one ConfigError line naming the file."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ConfigError(f"{path}: cannot read the task file ({e.strerror or e})") from None
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not valid UTF-8 ({e.reason} at byte {e.start})") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None

    unknown_keys = sorted(set(raw) - set(TOP_LEVEL_KEYS))
    if unknown_keys:
        raise ConfigError(f"{path}: unknown key(s) {unknown_keys}; a task file has {', '.join(TOP_LEVEL_KEYS)}")

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
    for key, values in (("fields", fields), ("labels", labels)):
        bad = [v for v in values if not isinstance(v, str) or not v.strip() or v != v.strip()]
        if bad:
            raise ConfigError(f"{path}: {key} must be non-empty strings without surrounding spaces, got {bad!r}")
        dup = sorted({v for v in values if values.count(v) > 1})
        if dup:
            raise ConfigError(f"{path}: duplicate {key[:-1]}(s) {dup} in {key!r}")
    reserved = [f for f in fields if f in RESERVED_FIELDS or f.endswith("_marked") or not f.isidentifier()]
    if reserved:
        raise ConfigError(f"{path}: field name(s) {reserved} not allowed: a field is an identifier, not one of "
                          f"{', '.join(RESERVED_FIELDS)} and not ending in _marked")
    missing = [lab for lab in labels if lab not in verbalizers]
    if missing:
        raise ConfigError(f"{path}: no verbalizer for label(s) {', '.join(missing)}")
    extra = [k for k in verbalizers if k not in labels]
    if extra:
        raise ConfigError(f"{path}: verbalizer(s) for unknown label(s) {extra}; labels: {list(labels)}")
    for lab in labels:
        v = verbalizers[lab]
        if not isinstance(v, str) or not v.strip():
            raise ConfigError(f"{path}: the verbalizer of label {lab!r} must be a non-empty string (the text the model "
                              f"continues with, e.g. \" {lab}\"), got {v!r}")
    same = sorted({lab for lab in labels if [verbalizers[o] for o in labels].count(verbalizers[lab]) > 1})
    if same:
        raise ConfigError(f"{path}: labels {same} share one verbalizer; the model could not tell them apart")
    extra_prompts = sorted(set(prompts) - set(PROMPT_KINDS))
    if extra_prompts:
        raise ConfigError(f"{path}: unknown prompt(s) {extra_prompts} under [prompts]; the kinds are {', '.join(PROMPT_KINDS)}")
    for kind in PROMPT_KINDS:
        if kind not in prompts:
            raise ConfigError(f"{path}: missing prompt {kind!r} under [prompts]")
        if not isinstance(prompts[kind], str):
            raise ConfigError(f"{path}: prompt {kind!r} must be a string")
        used = set(_placeholders(prompts[kind], path, kind))
        unknown = used - set(fields) - _NEEDS[kind]
        if unknown:
            allowed = list(fields) + sorted(_NEEDS[kind])
            raise ConfigError(f"{path}: prompt {kind!r} uses unknown placeholder(s) {sorted(unknown)}; it may use {allowed}")
        absent = [f for f in fields if f not in used]
        if absent:
            raise ConfigError(f"{path}: prompt {kind!r} does not show field(s) {absent}")
        lacking = sorted(_NEEDS[kind] - used)
        if lacking:
            raise ConfigError(f"{path}: prompt {kind!r} lacks placeholder(s) {', '.join('{' + p + '}' for p in lacking)}")
    if not prompts["attribution"].endswith("{label}"):
        raise ConfigError(f"{path}: the attribution prompt must end with {{label}} (the attribution target)")
    if "{label}" in prompts["attribution"][: -len("{label}")]:
        raise ConfigError(f"{path}: the attribution prompt may show {{label}} only at its end (the attribution target)")
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
    query_field = _eraser_query_field(raw.get("eraser"), fields, path)
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
        sha256=hashlib.sha256(data).hexdigest(),
        eraser_query_field=query_field,
        rationale_stop=tuple(stops),
    )


def _eraser_query_field(table: object, fields: tuple[str, ...], path: Path) -> str | None:
    """``[eraser] query_field``: a field name, ``""`` (no query shown) or absent (``None``)."""
    if table is None:
        return None
    if not isinstance(table, dict) or set(table) - {"query_field"}:
        raise ConfigError(f"{path}: [eraser] may only hold query_field (the field that shows an ERASER query, or \"\")")
    query = table.get("query_field")
    if query is None:
        return None
    if not isinstance(query, str) or (query and query not in fields):
        raise ConfigError(f"{path}: [eraser] query_field {query!r} is not one of the task's fields {list(fields)} (or \"\")")
    return query
