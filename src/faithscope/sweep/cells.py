"""Cells of a sweep: one (model, dataset, evaluation) each, an ordinary run directory.

A cell's directory is ``SWEEP_DIR/cells/<model>__<dataset>__<evaluation>-<config hash>``: the
hash is the run's :meth:`~faithscope.runs.config.RunConfig.config_hash` over every
result-affecting setting (or the evaluation kind's own ``key``, which adds its settings), so a changed setting names a new directory and never reuses a
result computed under other settings, while an unchanged cell finds its old directory and is
skipped (finished) or resumed (partial) exactly as ``faithscope run`` resumes.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..methods import DEFAULT_METHODS
from ..models.gradients import AttributionConfig
from ..runs.config import RunConfig
from ..runs.store import STORE_NAME
from .kinds import KINDS
from .plan import DatasetEntry, EvaluationEntry, ModelEntry, Plan

CELLS_DIR = "cells"
STATUSES = ("done", "partial", "new")


@dataclass(frozen=True)
class Cell:
    model: ModelEntry
    dataset: DatasetEntry
    evaluation: EvaluationEntry
    config: RunConfig
    dir: Path

    @property
    def name(self) -> str:
        return f"{self.model.name}__{self.dataset.name}__{self.evaluation.name}"

    @property
    def key(self) -> str:
        return cell_key(self.evaluation, self.config)

    def status(self) -> str:
        own = KINDS[self.evaluation.kind].status
        return own(self.dir, self.key) if own is not None else cell_status(self.dir, self.key)


def cell_key(evaluation: EvaluationEntry, config: RunConfig) -> str:
    """A cell's identity hash: its kind's own (over its settings) or the run config's."""
    own = KINDS[evaluation.kind].key
    return own(config, evaluation.kind_options) if own is not None else config.config_hash()


def cell_config(plan: Plan, model: ModelEntry, dataset: DatasetEntry, evaluation: EvaluationEntry, output_dir: str = "") -> RunConfig:
    """The RunConfig of one cell: shared [options] < evaluation options < the model's own
    run settings; dataset, sample, methods and model from their entries."""
    options: dict[str, Any] = {**plan.options, **evaluation.options, **model.run_options}
    if "attribution" in options:
        options["attribution"] = AttributionConfig(**options["attribution"])
    if "methods" in options:
        options.pop("methods")
    where = f"{plan.source}: cell {model.name}/{dataset.name}/{evaluation.name}"
    check = KINDS[evaluation.kind].check
    if check is not None:
        check(dataset, evaluation, where)
    try:
        return RunConfig(dataset=dataset.dataset, data_dir=plan.data_dir, n=dataset.n, first=dataset.first, seed=dataset.seed,
                         methods=evaluation.methods or DEFAULT_METHODS, model=model.spec, backend=model.backend,
                         output_dir=output_dir, progress=True, **dataset.options, **options)
    except (TypeError, ValueError) as e:  # a wrong-typed option reaching the dataclass
        raise ConfigError(f"{where}: {e}") from None
    except ConfigError as e:
        raise ConfigError(f"{where}: {e}") from None


def build_configs(plan: Plan) -> list[tuple[ModelEntry, DatasetEntry, EvaluationEntry, RunConfig]]:
    """Every cell's RunConfig, in plan order (models outermost, so a model's cells are adjacent)."""
    return [(m, d, e, cell_config(plan, m, d, e)) for m in plan.models for d in plan.datasets for e in plan.evaluations]


def build_cells(plan: Plan, sweep_dir: Path | str) -> list[Cell]:
    root = Path(sweep_dir) / CELLS_DIR
    cells = []
    for m, d, e, config in build_configs(plan):
        path = root / f"{m.name}__{d.name}__{e.name}-{cell_key(e, config)[:12]}"
        config.output_dir = str(path)
        cells.append(Cell(m, d, e, config, path))
    return cells


def cell_status(run_dir: Path, config_hash: str) -> str:
    """``done`` (finished under this config), ``partial`` (started, cut short) or ``new``.

    Reads the store read-only, so a dry run creates nothing."""
    db = run_dir / STORE_NAME
    if not db.is_file():
        return "new"
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as c:
            meta = dict(c.execute("SELECT key, value FROM meta WHERE key IN ('config_hash', 'finished')").fetchall())
    except sqlite3.Error:
        return "partial"
    stored = json.loads(meta["config_hash"]) if "config_hash" in meta else None
    if stored is not None and stored != config_hash:
        raise ConfigError(f"{run_dir} holds a run of another configuration ({stored} != {config_hash}); remove it or use a new --output-dir")
    return "done" if "finished" in meta else "partial"
