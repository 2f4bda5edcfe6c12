"""The Ray executor: each unfinished cell is one Ray task, on a cluster or a local instance.

``ray.init(address=ADDR)`` joins an existing cluster (every node must have faithscope, its
data directory and the sweep directory on a shared path); without an address a local
instance is started (``ray.init(num_cpus=2)``; Ray has no ``local_mode`` any more). A task
writes its worker pid to ``CELL_DIR/worker.pid``, loads its model, runs the cell exactly as
the local executor does (the same :func:`~faithscope.sweep.local.run_cell`) and writes the
report, so results land in the sweep directory the same way. Every batch a run stores is
committed, so a worker that dies mid-cell loses only the batch in flight: the cell is reported
failed (after ``resources.max_retries`` Ray retries) and rerunning the sweep resumes it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Sequence

from tqdm.auto import tqdm

from ..errors import ConfigError
from .cells import Cell
from .local import CellOutcome, _error_text, _safe_report, run_cell
from .plan import Resources

PID_FILE = "worker.pid"
LOCAL_NUM_CPUS = 2


def _cell_task(cell: Cell) -> str:
    """Body of one Ray task (runs in a worker process)."""
    cell.dir.mkdir(parents=True, exist_ok=True)
    (cell.dir / PID_FILE).write_text(str(os.getpid()), encoding="utf-8")
    loaded = None
    if cell.model.backend == "transformers":
        from ..models.loading import load_model

        loaded = load_model(cell.model.spec)
    return str(run_cell(cell, loaded))


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ConfigError("--executor ray needs Ray: pip install 'faithscope[ray]'") from None
    return ray


def _ray_error(ray: Any, e: BaseException) -> str:
    if isinstance(e, ray.exceptions.RayTaskError) and getattr(e, "cause", None) is not None:
        return _error_text(e.cause)
    first = str(e).strip().splitlines()
    return f"{type(e).__name__}: {first[0] if first else ''}"


def run_ray(cells: Sequence[Cell], address: str | None = None, resources: Resources = Resources(), fail_fast: bool = False,
            progress: bool = True, num_cpus: int = LOCAL_NUM_CPUS) -> list[CellOutcome]:
    """Run every unfinished cell as a Ray task; returns one outcome per cell, in order."""
    ray = _import_ray()
    started = False
    if not ray.is_initialized():
        try:
            if address:
                ray.init(address=address, include_dashboard=False, log_to_driver=progress)
            else:
                ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=progress)
        except ConnectionError as e:
            raise ConfigError(f"--ray-address {address!r}: cannot connect to a Ray cluster ({e})") from None
        started = True
    task = ray.remote(_cell_task)
    outcomes: dict[str, CellOutcome] = {}
    pending: dict[Any, tuple[Cell, float]] = {}
    bar = tqdm(total=len(cells), desc="sweep cells (ray)", unit="cell", disable=not progress, dynamic_ncols=True)
    try:
        for c in cells:
            if c.status() == "done":
                outcomes[c.name] = CellOutcome(c.name, c.dir, "skipped", report=_safe_report(c))
                bar.update(1)
                continue
            cpus = c.model.num_cpus if c.model.num_cpus is not None else resources.num_cpus
            gpus = c.model.num_gpus if c.model.num_gpus is not None else resources.num_gpus
            ref = task.options(num_cpus=cpus, num_gpus=gpus, max_retries=resources.max_retries, name=f"faithscope-cell:{c.name}").remote(c)
            pending[ref] = (c, time.perf_counter())
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                c, start = pending.pop(ref)
                try:
                    page = ray.get(ref)
                    outcomes[c.name] = CellOutcome(c.name, c.dir, "done", seconds=time.perf_counter() - start, report=Path(page))
                except Exception as e:  # noqa: BLE001 - a lost worker or a failing cell: reported, the others go on
                    outcomes[c.name] = CellOutcome(c.name, c.dir, "failed", _ray_error(ray, e), time.perf_counter() - start)
                    tqdm.write(f"cell {c.name} failed: {outcomes[c.name].error}")
                    if fail_fast:
                        for other, (oc, _) in pending.items():
                            ray.cancel(other, force=True)
                            outcomes[oc.name] = CellOutcome(oc.name, oc.dir, "failed", "not run: an earlier cell failed (--fail-fast)")
                        pending.clear()
                bar.update(1)
    finally:
        bar.close()
        if started:
            ray.shutdown()
    return [outcomes[c.name] for c in cells]
