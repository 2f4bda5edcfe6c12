"""``StudyConfig``: everything ``faithscope selfexplain`` needs, checked before any work.

The study (Doi, Isonuma, Yanaka 2025 with Madsen et al. 2024's checks) runs a list of
*conditions* — the base model (``before``) and one LoRA adapter per training set — over
tasks × styles × modes. Which conditions exist is set by ``experiments``:

* ``main`` — ``after:main``: trained on every style of every task;
* ``cross-style`` — ``after:style=<s>`` per style: trained on one style, evaluated on all
  (the 3×3 matrix);
* ``unseen-task`` — ``after:unseen=<t>`` per task: trained on the other tasks, evaluated on
  ``t`` (needs at least two tasks);
* none (``()`` or ``"none"``) — only ``before``: the checks of the model as it is, nothing
  trained (what a sweep's ``selfexplain`` cell runs by default).

The training settings are the preset's :class:`~faithscope.selfexplain.presets.TrainSettings`
(se-train), with ``epochs`` and ``seed`` overriding the preset's when given. The stored
config (:meth:`StudyConfig.result_dict`) leaves out what changes only where files go or what
is shown (``output_dir``, ``data_dir``, ``progress``), so a rerun from another working
directory or without progress bars resumes the same study.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping

from ..errors import ConfigError
from ..models.loading import ModelSpec
from .spec import MODES, STYLES

EXPERIMENTS = ("main", "cross-style", "unseen-task")
"""The study's experiments, in the order the plan runs them (after the ``before`` condition)."""

#: Keys that change only where files come from or go, or what is shown — free to differ on resume.
NON_RESULT_KEYS = frozenset({"output_dir", "data_dir", "progress"})


def _names(value: Any, what: str) -> tuple[str, ...]:
    """A tuple of names from a tuple/list or a comma-separated string (``"a,b"``)."""
    if isinstance(value, str):
        items = [v.strip() for v in value.split(",")]
    elif isinstance(value, (list, tuple)):
        items = [str(v).strip() for v in value]
    else:
        raise ConfigError(f"{what}: expected a comma-separated list, got {value!r}")
    items = [v for v in items if v]
    if not items:
        raise ConfigError(f"{what}: give at least one")
    if len(set(items)) != len(items):
        raise ConfigError(f"{what}: {','.join(items)} names one twice")
    return tuple(items)


def _check_subset(items: tuple[str, ...], known: tuple[str, ...] | list[str], what: str) -> None:
    bad = [i for i in items if i not in known]
    if bad:
        raise ConfigError(f"unknown {what} {', '.join(repr(b) for b in bad)}; known: {', '.join(known)}")


def _positive(value: Any, what: str, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{what} must be a positive integer, got {value!r}")


def load_presets() -> Mapping[str, Any]:
    """se-train's ``PRESETS`` (``cpu``, ``paper``): name → ``TrainSettings``."""
    from .presets import PRESETS  # se-train's module

    return PRESETS


def resolve_settings(preset: str, *, epochs: int | None, seed: int, presets: Mapping[str, Any] | None = None) -> Any:
    """The preset's ``TrainSettings`` with ``epochs`` (when given) and ``seed`` put in."""
    table = load_presets() if presets is None else presets
    if preset not in table:
        raise ConfigError(f"unknown --preset {preset!r}; presets: {', '.join(table)}")
    settings = table[preset]
    names = {f.name for f in dataclasses.fields(settings)}
    changes: dict[str, Any] = {}
    if epochs is not None and "epochs" in names:
        changes["epochs"] = epochs
    if "seed" in names:
        changes["seed"] = seed
    return dataclasses.replace(settings, **changes) if changes else settings


@dataclass
class StudyConfig:
    """The whole study: data, tasks × styles × modes, sizes, model, experiments, output."""

    preset: str = "cpu"
    data_dir: str | None = None
    tasks: tuple[str, ...] = ("snli", "agnews", "sentiment140")
    styles: tuple[str, ...] = STYLES
    modes: tuple[str, ...] = MODES
    train_n: int = 100
    eval_n: int = 50
    epochs: int | None = None
    """Training epochs; ``None`` = the preset's."""
    model: ModelSpec = field(default_factory=ModelSpec)
    """The base model as ``faithscope run``/``finetune`` take it (``adapter`` = one merged into
    the base before anything, e.g. an earlier fine-tune)."""
    output_dir: str = "runs/selfexplain"
    seed: int = 0
    experiments: tuple[str, ...] = ("main",)
    progress: bool = True
    eval_chunk: int = 16
    """Examples per stored evaluation chunk: a kill loses at most one chunk."""
    draws: int = 10
    """Random-word draws of the second view (explained words vs as many random words)."""
    top_m: int = 5
    """Top-ranked words the pseudo-explanation builder confirms by deletion."""
    method: str = "input_x_gradient"
    """Attribution method ranking words for the pseudo explanations."""
    settings: Any = None
    """The resolved ``TrainSettings`` (filled by :meth:`resolve` from the preset)."""

    def __post_init__(self) -> None:
        self.tasks = _names(self.tasks, "--tasks")
        self.styles = _names(self.styles, "--styles")
        self.modes = _names(self.modes, "modes")
        # no experiment = the checks of the model as it is (the ``before`` condition only; a sweep's selfexplain cells)
        self.experiments = _names(self.experiments, "--experiments") if self.experiments not in ((), [], "", "none") else ()
        _check_subset(self.styles, STYLES, "style(s)")
        _check_subset(self.modes, MODES, "mode(s)")
        _check_subset(self.experiments, EXPERIMENTS, "experiment(s)")
        _positive(self.train_n, "--train-n")
        _positive(self.eval_n, "--eval-n")
        _positive(self.epochs, "--epochs", allow_none=True)
        _positive(self.eval_chunk, "eval_chunk")
        _positive(self.draws, "draws")
        _positive(self.top_m, "top_m")
        if "unseen-task" in self.experiments and len(self.tasks) < 2:
            raise ConfigError("--experiments unseen-task trains on the other tasks: give at least two --tasks")
        # canonical order, so that "a,b" and "b,a" are the same study
        self.styles = tuple(s for s in STYLES if s in self.styles)
        self.modes = tuple(m for m in MODES if m in self.modes)
        self.experiments = tuple(e for e in EXPERIMENTS if e in self.experiments)

    def resolve(self, presets: Mapping[str, Any] | None = None) -> "StudyConfig":
        """Fill :attr:`settings` from the preset (``presets`` replaces se-train's table in tests)."""
        self.settings = resolve_settings(self.preset, epochs=self.epochs, seed=self.seed, presets=presets)
        return self

    def check_tasks(self, known: tuple[str, ...] | list[str]) -> None:
        """Every task is one the study knows (:mod:`faithscope.selfexplain.tasks`)."""
        _check_subset(self.tasks, tuple(known), "task(s)")

    def as_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "settings"}
        out["model"] = self.model.as_dict()
        out["tasks"], out["styles"], out["modes"], out["experiments"] = (list(out[k]) for k in ("tasks", "styles", "modes", "experiments"))
        out["settings"] = _plain(self.settings)
        return out

    def result_dict(self) -> dict[str, Any]:
        """What the numbers depend on (stored; a rerun with another value is refused)."""
        return {k: v for k, v in self.as_dict().items() if k not in NON_RESULT_KEYS}


def _plain(value: Any) -> Any:
    """A JSON-ready copy of a dataclass/tuple tree."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value
