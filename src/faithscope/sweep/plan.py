"""A sweep plan (TOML): models x datasets x evaluations, parsed into typed entries.

Every mistake in a plan is one :class:`~faithscope.errors.ConfigError` line naming the table,
the entry and the key: unknown keys, missing ``[[models]]``/``[[datasets]]``/``[[evaluations]]``,
duplicate names, wrong types, a dataset whose data directory is not there, a partner that is
not a model of the plan, an evaluation kind that is not available in this version. The run
options of an evaluation (any :class:`~faithscope.runs.config.RunConfig` key) are checked by
building the RunConfig, so a plan is refused before any model is loaded.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ..data import DATASETS, dataset_spec
from ..errors import ConfigError
from ..models.embedded import EMBEDDED_NAME
from ..models.loading import DTYPES, ModelSpec
from ..runs.config import RunConfig
from .kinds import KINDS, get_kind

TUNED = ("pretrained", "instruction")
TOP_KEYS = {"models", "datasets", "evaluations", "options", "resources"}
MODEL_KEYS = {"name", "model", "gguf_file", "adapter", "epochs", "dtype", "device", "backend", "base_url", "endpoint", "extra_body",
              "api_key_env", "top_logprobs", "prompt_format", "max_length", "family", "params", "tuned", "partner", "num_cpus", "num_gpus"}
DATASET_KEYS = {"name", "dataset", "n", "seed", "first", "min_annotators", "skip_invalid"}
EVALUATION_KEYS = {"name", "kind", "methods", "options"}
RESOURCE_KEYS = {"num_cpus", "num_gpus", "max_retries", "memory_headroom"}
#: RunConfig keys the plan sets itself (from the model and dataset entries, or the sweep directory).
PLAN_SET_KEYS = {"dataset", "data_dir", "n", "first", "seed", "min_annotators", "skip_invalid", "methods", "model", "backend", "base_url",
                 "endpoint", "extra_body", "api_key_env", "top_logprobs", "output_dir", "progress"}
RUN_OPTION_KEYS = {f.name for f in fields(RunConfig)} - PLAN_SET_KEYS


@dataclass(frozen=True)
class ModelEntry:
    """One model of the plan: how to load it, its run settings, and its metadata for tables/plots."""

    name: str
    spec: ModelSpec
    backend: str = "transformers"
    run_options: dict[str, Any] = field(default_factory=dict)
    """RunConfig keys this model sets (base_url, endpoint, extra_body, prompt_format, ...)."""
    family: str | None = None
    params: int | None = None
    tuned: str | None = None
    partner: str | None = None
    epoch: int | None = None
    num_cpus: float | None = None
    num_gpus: float | None = None


@dataclass(frozen=True)
class DatasetEntry:
    name: str
    dataset: str
    n: int | None = None
    seed: int = 0
    first: bool = False
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EvaluationEntry:
    name: str
    kind: str
    methods: tuple[str, ...] | None
    options: dict[str, Any] = field(default_factory=dict)
    """Run options (RunConfig keys) of this evaluation's cells."""
    kind_options: dict[str, Any] = field(default_factory=dict)
    """The kind's own settings (e.g. a counterfactual evaluation's style, positions, words)."""


@dataclass(frozen=True)
class Resources:
    """Per-cell Ray resources (models may override), Ray task retries, local memory headroom."""

    num_cpus: float = 1.0
    num_gpus: float = 0.0
    max_retries: int = 0
    memory_headroom: float = 1.5
    """The local executor needs ``headroom x`` the weights' size of available RAM before loading."""


@dataclass(frozen=True)
class Plan:
    models: list[ModelEntry]
    datasets: list[DatasetEntry]
    evaluations: list[EvaluationEntry]
    options: dict[str, Any]
    resources: Resources
    data_dir: str | None
    source: str = ""


# -- small typed getters ---------------------------------------------------------------
def _type_name(t: type | tuple[type, ...]) -> str:
    ts = t if isinstance(t, tuple) else (t,)
    return " or ".join({str: "a string", int: "an integer", float: "a number", bool: "true/false", dict: "a table", list: "a list"}[x] for x in ts)


def _get(entry: dict[str, Any], key: str, types: type | tuple[type, ...], where: str, default: Any = None) -> Any:
    if key not in entry:
        return default
    value = entry[key]
    ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in (types if isinstance(types, tuple) else (types,)))
    if not ok:
        raise ConfigError(f"{where}: {key} must be {_type_name(types)}, got {value!r}")
    return value


def _check_keys(entry: Any, allowed: set[str], where: str) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: must be a table, got {entry!r}")
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
    return entry


def _entries(raw: dict[str, Any], key: str, source: str) -> list[dict[str, Any]]:
    items = raw.get(key)
    if not items:
        raise ConfigError(f"{source}: the plan has no [[{key}]]; add at least one")
    if not isinstance(items, list):
        raise ConfigError(f"{source}: {key} must be an array of tables ([[{key}]])")
    return items


def _name(entry: dict[str, Any], where: str, seen: set[str], default: str | None = None) -> str:
    name = _get(entry, "name", str, where, default)
    if not name:
        raise ConfigError(f"{where}: needs a name")
    if "/" in name or name.startswith(".") or name != name.strip():
        raise ConfigError(f"{where}: name {name!r} must not contain '/' or start with '.'")
    if name in seen:
        raise ConfigError(f"{where}: duplicate name {name!r}")
    seen.add(name)
    return name


# -- models ---------------------------------------------------------------------------
def _adapter_epochs(adapter_root: Path, epochs: Any, where: str) -> list[tuple[int, Path]]:
    """The epoch adapters of a ``faithscope finetune`` output directory (``adapters/epoch_E``)."""
    from ..finetune.trainer import ADAPTER_WEIGHTS, ADAPTERS

    found = {int(p.name.split("_", 1)[1]): p for p in (adapter_root / ADAPTERS).glob("epoch_*")
             if p.name.split("_", 1)[1].isdigit() and (p / ADAPTER_WEIGHTS).is_file()}
    if not found:
        raise ConfigError(f"{where}: {adapter_root} holds no epoch adapters ({ADAPTERS}/epoch_E/{ADAPTER_WEIGHTS}); is it a `faithscope finetune` output?")
    if epochs == "all":
        return sorted(found.items())
    if not isinstance(epochs, list) or not all(isinstance(e, int) and not isinstance(e, bool) for e in epochs):
        raise ConfigError(f"{where}: epochs must be \"all\" or a list of epoch numbers, got {epochs!r}")
    missing = [e for e in epochs if e not in found]
    if missing:
        raise ConfigError(f"{where}: no adapter for epoch(s) {missing} in {adapter_root}; it has {sorted(found)}")
    return [(e, found[e]) for e in epochs]


def _models(raw: dict[str, Any], source: str, base: Path) -> list[ModelEntry]:
    out: list[ModelEntry] = []
    seen: set[str] = set()
    for i, m in enumerate(_entries(raw, "models", source), start=1):
        where = f"{source}: [[models]] #{i}"
        _check_keys(m, MODEL_KEYS, where)
        name = _name(m, where, seen)
        where = f"{source}: model {name!r}"
        backend = _get(m, "backend", str, where, "transformers")
        model = _get(m, "model", str, where, EMBEDDED_NAME if backend == "transformers" else None)
        if model is None:
            raise ConfigError(f"{where}: backend {backend!r} needs model = \"<served model name>\"")
        dtype = _get(m, "dtype", str, where, "float32")
        if dtype not in DTYPES:
            raise ConfigError(f"{where}: dtype {dtype!r}; choose one of {', '.join(DTYPES)}")
        run_options: dict[str, Any] = {}
        for key, types in (("base_url", str), ("endpoint", str), ("extra_body", dict), ("api_key_env", str), ("top_logprobs", int),
                           ("prompt_format", str), ("max_length", int)):
            if key in m:
                run_options[key] = _get(m, key, types, where)
        tuned = _get(m, "tuned", str, where)
        if tuned is not None and tuned not in TUNED:
            raise ConfigError(f"{where}: tuned must be one of {', '.join(TUNED)}, got {tuned!r}")
        params = _get(m, "params", int, where)
        if params is not None and params < 1:
            raise ConfigError(f"{where}: params must be a positive parameter count")
        meta = dict(family=_get(m, "family", str, where), params=params, tuned=tuned, partner=_get(m, "partner", str, where),
                    num_cpus=_get(m, "num_cpus", (int, float), where), num_gpus=_get(m, "num_gpus", (int, float), where))
        local = base / model if model != EMBEDDED_NAME and not Path(model).is_absolute() and (base / model).exists() else None
        model = str(local) if local is not None else model
        spec_kw = dict(gguf_file=_get(m, "gguf_file", str, where), dtype=dtype, device=_get(m, "device", str, where, "cpu"))
        adapter = _get(m, "adapter", str, where)
        if adapter is not None and backend != "transformers":
            raise ConfigError(f"{where}: an adapter needs backend = \"transformers\"")
        adapter_path = (base / adapter) if adapter is not None and not Path(adapter).is_absolute() else (Path(adapter) if adapter else None)
        if "epochs" in m:
            if adapter_path is None:
                raise ConfigError(f"{where}: epochs needs adapter = \"<faithscope finetune output directory>\"")
            for epoch, path in _adapter_epochs(adapter_path, m["epochs"], where):
                ename = f"{name}-epoch{epoch}"
                if ename in seen:
                    raise ConfigError(f"{where}: duplicate name {ename!r} (from epochs)")
                seen.add(ename)
                out.append(ModelEntry(ename, ModelSpec(model, adapter=str(path.resolve()), **spec_kw), backend, run_options,
                                      epoch=epoch, **{**meta, "tuned": meta["tuned"] or "instruction"}))
            continue
        if adapter_path is not None and not adapter_path.is_dir():
            raise ConfigError(f"{where}: adapter {adapter!r} is not a directory")
        spec = ModelSpec(model, adapter=str(adapter_path.resolve()) if adapter_path else None, **spec_kw)
        out.append(ModelEntry(name, spec, backend, run_options, **meta))
    names = {m.name for m in out}
    for m in out:
        if m.partner is not None and m.partner not in names:
            raise ConfigError(f"{source}: model {m.name!r}: partner {m.partner!r} is not a model of this plan ({', '.join(sorted(names))})")
        if m.partner == m.name:
            raise ConfigError(f"{source}: model {m.name!r} cannot be its own partner")
    return out


# -- datasets -------------------------------------------------------------------------
def _data_dir(raw_dir: str | None) -> str | None:
    return raw_dir if raw_dir is not None else os.environ.get("FAITHSCOPE_DATA")


def _datasets(raw: dict[str, Any], source: str, data_dir: str | None) -> list[DatasetEntry]:
    out = []
    seen: set[str] = set()
    for i, d in enumerate(_entries(raw, "datasets", source), start=1):
        where = f"{source}: [[datasets]] #{i}"
        _check_keys(d, DATASET_KEYS, where)
        name = _name(d, where, seen)
        where = f"{source}: dataset {name!r}"
        dataset = _get(d, "dataset", str, where, name)
        if dataset not in DATASETS:
            raise ConfigError(f"{where}: unknown dataset {dataset!r}; known datasets: {', '.join(sorted(DATASETS))} "
                              "(give dataset = \"...\" when the entry's name is not a dataset)")
        spec = dataset_spec(dataset)
        if spec.subdir is not None:
            if not data_dir:
                raise ConfigError(f"{where}: needs a data directory holding {spec.subdir}/ (--data-dir, FAITHSCOPE_DATA or options.data_dir)")
            if not (Path(data_dir) / spec.subdir).is_dir():
                raise ConfigError(f"{where}: not installed: {Path(data_dir) / spec.subdir} does not exist")
        n = _get(d, "n", int, where)
        if n is not None and n < 1:
            raise ConfigError(f"{where}: n must be a positive number of examples, got {n}")
        options = {k: _get(d, k, t, where) for k, t in (("min_annotators", int), ("skip_invalid", bool)) if k in d}
        out.append(DatasetEntry(name, dataset, n, _get(d, "seed", int, where, 0), _get(d, "first", bool, where, False), options))
    return out


# -- evaluations ----------------------------------------------------------------------
def check_run_options(options: Any, where: str, also: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Validate shared/evaluation run options: known RunConfig keys of the right kind
    (``also``: an evaluation kind's own keys, already taken out, named in the error)."""
    _check_keys(options, RUN_OPTION_KEYS | also, where)
    if "attribution" in options:
        from ..models.gradients import AttributionConfig

        try:
            AttributionConfig(**_check_keys(options["attribution"], {f.name for f in fields(AttributionConfig)}, f"{where}.attribution"))
        except (TypeError, ValueError) as e:
            raise ConfigError(f"{where}.attribution: {e}") from None
    return dict(options)


def _evaluations(raw: dict[str, Any], source: str) -> list[EvaluationEntry]:
    from ..methods import get_method

    out = []
    seen: set[str] = set()
    for i, e in enumerate(_entries(raw, "evaluations", source), start=1):
        where = f"{source}: [[evaluations]] #{i}"
        _check_keys(e, EVALUATION_KEYS, where)
        kind = _get(e, "kind", str, where)
        if kind is None:
            raise ConfigError(f"{where}: needs kind = one of {', '.join(repr(k) for k in KINDS)}")
        kind_info = get_kind(kind, where)  # unknown or not available in this version: one line
        name = _name(e, where, seen, default=kind)
        where = f"{source}: evaluation {name!r}"
        methods = _get(e, "methods", list, where)
        if methods is not None and not kind_info.takes_methods:
            raise ConfigError(f"{where}: a {kind} evaluation takes no methods; remove the methods key")
        if methods is not None:
            if not methods or not all(isinstance(x, str) for x in methods):
                raise ConfigError(f"{where}: methods must be a non-empty list of method names")
            for x in methods:
                get_method(x)
        options, kind_options = dict(_get(e, "options", dict, where, {})), {}
        if kind_info.split_options is not None:
            options, kind_options = kind_info.split_options(options, f"{where}: options")
        options = check_run_options(options, f"{where}: options", kind_info.option_keys)
        out.append(EvaluationEntry(name, kind, tuple(methods) if methods else None, options, kind_options))
    return out


def _resources(raw: Any, source: str) -> Resources:
    where = f"{source}: [resources]"
    r = _check_keys(raw, RESOURCE_KEYS, where)
    res = Resources(float(_get(r, "num_cpus", (int, float), where, 1.0)), float(_get(r, "num_gpus", (int, float), where, 0.0)),
                    _get(r, "max_retries", int, where, 0), float(_get(r, "memory_headroom", (int, float), where, 1.5)))
    if res.num_cpus < 0 or res.num_gpus < 0 or res.max_retries < 0 or res.memory_headroom <= 0:
        raise ConfigError(f"{where}: num_cpus, num_gpus and max_retries must not be negative, memory_headroom must be positive")
    return res


def parse_plan(text: str, source: str = "plan", base_dir: Path | str = ".", data_dir: str | None = None) -> Plan:
    """Parse and validate a plan's TOML text. ``base_dir`` resolves relative model and adapter
    paths; ``data_dir`` (else ``options.data_dir``, else ``$FAITHSCOPE_DATA``) holds the datasets."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{source}: not valid TOML ({e})") from None
    _check_keys(raw, TOP_KEYS, source)
    options = dict(_get(raw, "options", dict, f"{source}: options", {}))
    plan_dir = options.pop("data_dir", None)
    if plan_dir is not None and not isinstance(plan_dir, str):
        raise ConfigError(f"{source}: options: data_dir must be a string")
    options = check_run_options(options, f"{source}: [options]")
    root = _data_dir(data_dir or plan_dir)
    base = Path(base_dir)
    plan = Plan(_models(raw, source, base), _datasets(raw, source, root), _evaluations(raw, source), options,
                _resources(raw.get("resources", {}), source), root, source)
    from .cells import build_configs

    build_configs(plan)  # every RunConfig of every cell is valid before anything runs
    return plan


def load_plan(path: Path | str, data_dir: str | None = None) -> Plan:
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"plan file {p} not found")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{p}: cannot read the plan ({e})") from None
    return parse_plan(text, str(p), p.parent, data_dir)
