"""The ``selfexplain`` evaluation kind of a sweep: each cell is one ordinary, resumable
``faithscope selfexplain`` study directory of one model on one task (Madsen et al. 2024's
self-consistency checks of self-explanations; Doi et al. 2025's training when asked).

By default a cell only *checks* the model as it is (the study's ``before`` condition: every
style × mode on the dataset's evaluation sample, nothing trained), which is what a comparison
across models needs; ``experiments = ["main"]`` (and/or ``"cross-style"``) also trains the
model on its own pseudo-faithful explanations and checks it again (transformers models only:
training needs gradients). ``unseen-task`` needs several tasks in one study and is left to
``faithscope selfexplain``.

The plan's dataset names the study task (:data:`DATASETS`); its ``n`` is the evaluation size
and its ``seed`` the study's seed. The kind's own ``options`` (:data:`OPTION_TYPES`) are the
study's settings; the backend's run options (batch_size, max_batch_tokens, ...) stay run
options. The cell's identity hash covers the model, the sample and every study setting, so a
changed setting names a new cell directory. The composed table has one row per (model,
dataset, condition, style, mode) with every registry metric of the ``self_consistency``
family and its CI; the figures plot the headline rate against parameter count, one series
per style.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from ..errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    from ..reports.render import Table
    from .cells import Cell
    from .plan import DatasetEntry, EvaluationEntry

#: Study settings an evaluation's ``options`` may hold, with their TOML types.
OPTION_TYPES: dict[str, type] = {"styles": list, "modes": list, "experiments": list, "preset": str, "train_n": int, "epochs": int,
                                 "draws": int, "top_m": int, "method": str}
#: Registered dataset of a plan entry -> the study task it is evaluated as.
DATASETS = {"esnli": "snli", "esnli-plain": "snli", "agnews": "agnews", "sentiment140": "sentiment140", "demo": "demo"}
#: Experiments a one-task cell can run (``unseen-task`` needs several tasks in one study).
CELL_EXPERIMENTS = ("main", "cross-style")
#: Defaults where the study's own defaults are sized for a single study, not one cell of many.
DEFAULTS: dict[str, Any] = {"train_n": 10, "draws": 3}
#: Conditions of a cell, in table order (the study's names).
CONDITIONS = ("before", "after:main")


def split_options(options: dict[str, Any], where: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(run options, study options) of an evaluation's ``options``; the latter type- and
    range-checked here (names checked against the study's styles, modes and experiments)."""
    from ..selfexplain.spec import MODES, STYLES

    own = {k: v for k, v in options.items() if k in OPTION_TYPES}
    run = {k: v for k, v in options.items() if k not in OPTION_TYPES}
    for key, value in own.items():
        t = OPTION_TYPES[key]
        if not isinstance(value, t) or isinstance(value, bool):
            raise ConfigError(f"{where}: {key} must be {'a list of names' if t is list else 'a string' if t is str else 'an integer'}, got {value!r}")
        if t is int and value < 1:
            raise ConfigError(f"{where}: {key} must be at least 1, got {value}")
    for key, known in (("styles", STYLES), ("modes", MODES), ("experiments", CELL_EXPERIMENTS)):
        if key not in own:
            continue
        names = own[key]
        if not all(isinstance(x, str) for x in names) or (key != "experiments" and not names):
            raise ConfigError(f"{where}: {key} must be a non-empty list of names from {', '.join(known)}")
        bad = [x for x in names if x not in known]
        if bad:
            hint = " (unseen-task needs several tasks in one study: run faithscope selfexplain)" if "unseen-task" in bad else ""
            raise ConfigError(f"{where}: unknown {key} {', '.join(map(repr, bad))}; known: {', '.join(known)}{hint}")
        if len(set(names)) != len(names):
            raise ConfigError(f"{where}: {key} names one twice")
        own[key] = [x for x in known if x in names]  # canonical order: the same study whatever the order written
    if "preset" in own:
        from ..selfexplain.config import load_presets

        if own["preset"] not in load_presets():
            raise ConfigError(f"{where}: unknown preset {own['preset']!r}; presets: {', '.join(load_presets())}")
    return run, own


def check_cell(dataset: "DatasetEntry", evaluation: "EvaluationEntry", where: str) -> None:
    """Refuse, before anything runs, a dataset the study has no task for."""
    if dataset.dataset not in DATASETS:
        raise ConfigError(f"{where}: the selfexplain kind runs on {', '.join(DATASETS)}, not dataset {dataset.dataset!r}")
    if dataset.first:
        raise ConfigError(f"{where}: the selfexplain kind draws its evaluation split with the dataset's seed; first = true is not supported")
    if dataset.options:
        raise ConfigError(f"{where}: the selfexplain kind takes no {', '.join(sorted(dataset.options))} for its dataset")


def status(run_dir: Path, key: str) -> str:
    from ..selfexplain.store import study_status

    return study_status(run_dir)


def study_config(cell: "Cell") -> Any:
    """The :class:`~faithscope.selfexplain.config.StudyConfig` of one cell."""
    from ..selfexplain.config import StudyConfig

    opts = {**DEFAULTS, **cell.evaluation.kind_options}
    config = cell.config
    kw: dict[str, Any] = dict(preset=opts.get("preset", "cpu"), data_dir=config.data_dir, tasks=(DATASETS[cell.dataset.dataset],),
                              train_n=opts["train_n"], epochs=opts.get("epochs"), model=config.model, output_dir=str(cell.dir),
                              seed=cell.dataset.seed, experiments=tuple(opts.get("experiments", ())), progress=config.progress,
                              draws=opts["draws"])
    for key in ("styles", "modes"):
        if key in opts:
            kw[key] = tuple(opts[key])
    for key in ("top_m", "method"):
        if key in opts:
            kw[key] = opts[key]
    if cell.dataset.n is not None:
        kw["eval_n"] = cell.dataset.n
    return StudyConfig(**kw)


@dataclass
class _Served:
    """The study's "loaded model" for a served model: only its identity (no weights here)."""

    identity: dict[str, Any] = field(default_factory=dict)


def run(cell: "Cell", loaded_model: Any) -> None:
    """Run (or resume) the cell's study with the executor's loaded model (or the server)."""
    from ..runs.runner import make_backend
    from ..selfexplain.study import Stages, run_study

    config = cell.config
    study = study_config(cell)
    if config.backend != "transformers":
        if study.experiments:
            raise ConfigError(f"cell {cell.name}: training self-explanations ({', '.join(study.experiments)}) needs gradients, "
                              f"which --backend {config.backend} cannot give; check the served model with experiments = []")
        served = make_backend(config)
        stages = Stages(load_model=lambda spec: _Served(dict(served.identity)), make_backend=lambda loaded: served)
        try:
            run_study(study, stages=stages)
        finally:
            served.close()
        return

    def load(spec: Any) -> Any:
        if loaded_model is not None:
            return loaded_model
        from ..models.loading import load_model

        return load_model(spec)

    run_study(study, stages=Stages(load_model=load, make_backend=lambda loaded: make_backend(config, loaded)))


def report(cell: "Cell") -> Path:
    """The cell's own study report (``report/report.html``)."""
    from ..selfexplain.report import write_study_report

    return write_study_report(cell.dir).html or cell.dir / "report" / "report.html"


def _metrics() -> list[Any]:
    from ..selfexplain.report import study_metrics

    return study_metrics()


def records(name: str, cells: Sequence["Cell"], n_resamples: int = 1000, seed: int = 0) -> list[dict[str, Any]]:
    """One record per (finished cell, condition, style, mode): every self-consistency rate with
    its CI and N, the accuracy (forced choice on the unedited inputs), and the plan's model metadata."""
    from ..metrics.self_consistency import self_consistency_rates
    from ..selfexplain.report import load_study

    out = []
    for c in cells:
        if c.status() != "done":
            continue
        data = load_study(c.dir)
        task = DATASETS[c.dataset.dataset]
        for condition in CONDITIONS:
            for style in data.styles:
                for mode in data.modes:
                    rows = data.get(condition, task, style, mode)
                    if not rows:
                        continue
                    rates = self_consistency_rates(rows, n_resamples=n_resamples, seed=seed)
                    rec: dict[str, Any] = {"model": c.model.name, "dataset": c.dataset.name, "evaluation": name, "task": task,
                                           "condition": condition, "style": style, "mode": mode, "n": len(rows),
                                           "family": c.model.family, "params": c.model.params, "tuned": c.model.tuned,
                                           "partner": c.model.partner, "epoch": c.model.epoch,
                                           "cell_dir": str(c.dir)}
                    for metric, cell in rates.items():
                        rec[metric], (rec[f"{metric}_ci_low"], rec[f"{metric}_ci_high"]), rec[f"{metric}_n"] = cell.value, cell.ci, cell.n
                    rec["accuracy"] = rec["sc_correct"]  # the forced choice on the unedited inputs, under the name the plots share
                    out.append(rec)
    return out


def table(name: str, cells: Sequence["Cell"], n_resamples: int = 1000, seed: int = 0) -> tuple["Table", list[dict[str, Any]]]:
    """The composed table of one selfexplain evaluation (display strings) and its CSV records."""
    from ..reports.render import Table
    from ..selfexplain.report import interval_cell

    metrics = _metrics()
    recs = records(name, cells, n_resamples, seed)
    columns = ["N"] + [f"{m.header}{' (%)' if m.percent else ''}" for m in metrics]
    rows = [([r["model"], r["dataset"], r["condition"], r["style"], r["mode"]],
             [str(r["n"])] + [interval_cell((r[m.name], r[f"{m.name}_ci_low"], r[f"{m.name}_ci_high"]), m) for m in metrics]) for r in recs]
    notes = [f"{m.label or m.name}: {m.description} ({'higher' if m.higher_is_better else 'lower'} is better)" for m in metrics]
    notes += [f"95% percentile bootstrap CIs over examples ({n_resamples} resamples). before = the model as the plan gives it; "
              "after:main = the same after LoRA on its own pseudo-faithful explanations (experiments = [\"main\"]).",
              "mode one = one-word explanations; many = unconstrained multi-word explanations.",
              "accuracy (CSV column): forced-choice accuracy on the unedited inputs of the rows."]
    missing = [c.name for c in cells if c.status() != "done"]
    if missing:
        notes.append(f"not finished (no row): {', '.join(missing)}")
    return Table(f"Sweep: evaluation {name} (selfexplain)", ["model", "dataset", "condition", "style", "mode"], columns, rows,
                 notes=notes), recs


def extra_plots(records: Sequence[Mapping[str, Any]], out_dir: Path) -> list[Path]:
    """The headline rate against parameter count, one series per style (and the accuracy):
    a figure per (dataset, condition, mode)."""
    from .compose import scaling_figure

    headline = _metrics()[0]
    paths: list[Path] = []
    groups = sorted({(r["dataset"], r["condition"], r["mode"]) for r in records})
    for dataset, condition, mode in groups:
        wide: dict[str, dict[str, Any]] = {}
        for r in records:
            if (r["dataset"], r["condition"], r["mode"]) == (dataset, condition, mode):
                w = wide.setdefault(r["model"], {k: r[k] for k in ("model", "params", "tuned", "partner")})
                w[r["style"]] = r[headline.name]
                w["accuracy"] = r["accuracy"]  # the forced choice on the unedited inputs: one value per condition, whatever the style
        styles = sorted({r["style"] for r in records})
        label = headline.header
        paths += scaling_figure(list(wide.values()), [(s, s) for s in styles] + [("accuracy", "accuracy")], f"{label} / accuracy",
                                f"{dataset} · {condition} · mode {mode}: {label} per style",
                                out_dir / f"{dataset}__{condition.replace(':', '-')}__{mode}__{headline.name}")
    return paths
