"""Sweeps: a plan of models x datasets x evaluations, run locally or on Ray, composed.

``plan`` parses and validates the TOML plan; ``cells`` turns it into cells (one ordinary,
resumable run directory each, named by model/dataset/evaluation and config hash); ``local``
and ``ray_executor`` run the unfinished cells; ``compose`` writes the tables, scaling plots and
the index page at the top of the sweep directory. ``kinds`` is the registry of evaluation kinds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .cells import Cell, build_cells
from .local import CellOutcome, run_local
from .plan import Plan, load_plan, parse_plan

EXECUTORS = ("local", "ray")


@dataclass
class SweepResult:
    cells: list[Cell]
    outcomes: list[CellOutcome]
    composed: Any

    @property
    def failed(self) -> list[CellOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]


def dry_run(plan: Plan, sweep_dir: Path | str) -> list[tuple[Cell, str]]:
    """Every cell with its status (done/partial/new); creates nothing."""
    return [(c, c.status()) for c in build_cells(plan, Path(sweep_dir).resolve())]


def run_sweep(plan: Plan, sweep_dir: Path | str, executor: str = "local", fail_fast: bool = False, ray_address: str | None = None,
              progress: bool = True, loaded: dict[str, Any] | None = None, compose_outputs: bool = True) -> SweepResult:
    """Run (or resume) every cell of ``plan`` into ``sweep_dir``, then compose the outputs."""
    if executor not in EXECUTORS:
        raise ConfigError(f"unknown --executor {executor!r}; choose one of {', '.join(EXECUTORS)}")
    root = Path(sweep_dir).resolve()
    cells = build_cells(plan, root)
    for c in cells:
        c.config.progress = progress
    if executor == "ray":
        from .ray_executor import run_ray

        outcomes = run_ray(cells, ray_address, plan.resources, fail_fast, progress)
    else:
        outcomes = run_local(cells, fail_fast, plan.resources.memory_headroom, progress, loaded=loaded)
    composed = None
    if compose_outputs:
        from .compose import compose

        composed = compose(root, cells, {o.name: o.status for o in outcomes})
    return SweepResult(cells, outcomes, composed)


__all__ = ["Cell", "CellOutcome", "EXECUTORS", "Plan", "SweepResult", "build_cells", "dry_run", "load_plan", "parse_plan", "run_sweep"]
