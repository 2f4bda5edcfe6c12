"""The local executor: cells one after another, each model loaded once.

Cells are grouped by model (plan order); a group whose cells are all finished loads nothing.
Before a model is loaded the previous one is released and the available RAM is compared with
an estimate of the new model's size (parameter count x bytes per weight x headroom): a model
that does not fit fails its cells with that reason instead of swapping the machine to a halt.
A failed cell is reported with its error and the others continue, unless ``fail_fast``.
Progress: one overall bar over cells, plus the running cell's own stage bars.
"""

from __future__ import annotations

import gc
import logging
import time
import traceback
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from typing import Any, Callable, Sequence

from tqdm.auto import tqdm

from ..errors import FaithscopeError, ModelError
from .cells import Cell
from .kinds import get_kind
from .plan import ModelEntry

log = logging.getLogger(__name__)
BYTES_PER_WEIGHT = {"float32": 4, "bfloat16": 2, "float16": 2}


@dataclass(frozen=True)
class CellOutcome:
    """What happened to one cell: ``done`` (ran now), ``skipped`` (finished before) or ``failed``."""

    name: str
    dir: Path
    status: str
    error: str | None = None
    seconds: float = 0.0
    report: Path | None = None


def run_cell(cell: Cell, loaded_model: Any = None) -> Path:
    """Run (or resume) one cell and write its report; returns the report page."""
    kind = get_kind(cell.evaluation.kind, f"cell {cell.name}")
    kind.run(cell, loaded_model)  # type: ignore[misc]  # get_kind refuses kinds without run
    return kind.report(cell) if kind.report else cell.dir


def report_if_missing(cell: Cell) -> Path | None:
    """A finished cell's report page, written now if it is not there yet."""
    page = cell.dir / "report" / "report.html"
    kind = get_kind(cell.evaluation.kind, f"cell {cell.name}")
    if not page.is_file() and kind.report is not None:
        return kind.report(cell)
    return page if page.is_file() else None


def available_mib() -> float | None:
    """``MemAvailable`` from /proc/meminfo in MiB; ``None`` where it cannot be read."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def estimate_mib(model: ModelEntry, headroom: float) -> float | None:
    """Resident memory a transformers model needs: parameters x bytes per weight x headroom
    (GGUF files are de-quantised to ``dtype``); ``None`` when the plan gives no ``params``."""
    if model.params is None:
        return None
    return model.params * BYTES_PER_WEIGHT.get(model.spec.dtype, 4) * headroom / 2**20


def check_memory(model: ModelEntry, headroom: float, available: Callable[[], float | None] = available_mib) -> None:
    need = estimate_mib(model, headroom)
    have = available()
    if need is None or have is None:
        log.info("model %s: no memory estimate (give params = N in the plan)", model.name)
        return
    if need > have:
        raise ModelError(f"model {model.name!r} needs about {need:.0f} MiB ({model.params} parameters x {model.spec.dtype} x {headroom}) "
                         f"but only {have:.0f} MiB are available; free memory or run it with --executor ray on a bigger machine")


def _load(model: ModelEntry) -> Any:
    from ..models.loading import load_model

    return load_model(model.spec)


def _error_text(e: BaseException) -> str:
    if isinstance(e, FaithscopeError):
        return str(e)
    return f"{type(e).__name__}: {e}"


def run_local(cells: Sequence[Cell], fail_fast: bool = False, headroom: float = 1.5, progress: bool = True,
              loader: Callable[[ModelEntry], Any] = _load, loaded: dict[str, Any] | None = None) -> list[CellOutcome]:
    """Run every cell that is not finished; returns one outcome per cell, in order.

    ``loaded`` maps model names to models the caller already loaded (reused, not released);
    ``loader`` loads the others (tests count its calls)."""
    outcomes: list[CellOutcome] = []
    loaded = dict(loaded or {})
    bar = tqdm(total=len(cells), desc="sweep cells", unit="cell", disable=not progress, dynamic_ncols=True, position=0)
    stop = False
    try:
        for _, group_iter in groupby(cells, key=lambda c: c.model.name):
            group = list(group_iter)
            model = group[0].model
            todo = [c for c in group if c.status() != "done"]
            for c in group:
                if c not in todo:
                    outcomes.append(CellOutcome(c.name, c.dir, "skipped", report=_safe_report(c)))
                    bar.update(1)
            if not todo or stop:
                for c in todo:
                    outcomes.append(CellOutcome(c.name, c.dir, "failed", "not run: an earlier cell failed (--fail-fast)"))
                continue
            instance, load_error = None, None
            if model.backend == "transformers":
                instance = loaded.get(model.name)
                if instance is None:
                    gc.collect()  # the previous group's model is released before this one loads
                    try:
                        check_memory(model, headroom)
                        instance = loader(model)
                    except Exception as e:  # noqa: BLE001 - reported per cell, the sweep goes on
                        load_error = _error_text(e)
            for c in todo:
                if stop:
                    outcomes.append(CellOutcome(c.name, c.dir, "failed", "not run: an earlier cell failed (--fail-fast)"))
                    continue
                bar.set_postfix_str(c.name)
                start = time.perf_counter()
                try:
                    if load_error is not None:
                        raise ModelError(load_error)
                    page = run_cell(c, instance)
                    outcomes.append(CellOutcome(c.name, c.dir, "done", seconds=time.perf_counter() - start, report=page))
                except Exception as e:  # noqa: BLE001
                    log.debug("cell %s failed:\n%s", c.name, traceback.format_exc())
                    outcomes.append(CellOutcome(c.name, c.dir, "failed", _error_text(e), time.perf_counter() - start))
                    tqdm.write(f"cell {c.name} failed: {_error_text(e)}")
                    stop = fail_fast
                bar.update(1)
            instance = None
    finally:
        bar.close()
    return outcomes


def _safe_report(cell: Cell) -> Path | None:
    try:
        return report_if_missing(cell)
    except Exception as e:  # noqa: BLE001 - a report problem must not hide finished results
        log.warning("cell %s: report not written: %s", cell.name, _error_text(e))
        return None
