"""Local executor end to end: each model loaded once, finished cells skipped, a failing cell
reported while the others run, --fail-fast, and the composed outputs."""

from __future__ import annotations

import csv
import html
import sqlite3

import pytest

from faithscope.errors import ModelError
from faithscope.sweep import dry_run, parse_plan, run_sweep
from faithscope.sweep.cells import build_cells
from faithscope.sweep.local import check_memory

from .conftest import DEMO_PLAN, ONE_CELL_PLAN


def test_local_sweep_end_to_end(tmp_path, counting_loader):
    plan = parse_plan(DEMO_PLAN)
    out = tmp_path / "sweep"
    assert [s for _, s in dry_run(plan, out)] == ["new"] * 4
    result = run_sweep(plan, out, progress=False)
    assert [o.status for o in result.outcomes] == ["done"] * 4, [o.error for o in result.outcomes]
    assert counting_loader == ["small", "small-pre"]  # one load per model, not per cell
    assert [s for _, s in dry_run(plan, out)] == ["done"] * 4
    for c in result.cells:
        assert (c.dir / "report" / "report.html").is_file()
        assert c.config.prompt_format == ("chat" if c.model.name == "small-pre" else "plain")

    # composed table: one row per cell, accuracy recomputed here from each cell's store
    with open(out / "rationales.csv", encoding="utf-8") as f:
        records = list(csv.DictReader(f))
    assert [(r["model"], r["dataset"]) for r in records] == [(c.model.name, c.dataset.name) for c in result.cells]
    for rec, c in zip(records, result.cells):
        with sqlite3.connect(c.dir / "results.sqlite") as db:
            pairs = db.execute("SELECT e.label, p.predicted FROM examples e JOIN predictions p USING (example_id)").fetchall()
        assert int(rec["n"]) == len(pairs) == c.config.n
        assert float(rec["accuracy"]) == pytest.approx(sum(a == b for a, b in pairs) / len(pairs))
        assert float(rec["human__alignment_f1_micro"]) == pytest.approx(1.0)  # the human rationale against itself
        assert rec["random__flip_rate"] != "" and rec["random__flip_rate_ci_low"] != ""
    for ext in ("md", "tex"):
        assert (out / f"rationales.{ext}").is_file()
    for metric in ("accuracy", "alignment_f1_micro", "flip_rate"):
        for ext in ("png", "svg"):
            assert (out / "plots" / f"rationales__demo2__{metric}.{ext}").stat().st_size > 0
    index = (out / "index.html").read_text(encoding="utf-8")
    assert index.count("report.html") == 4 and html.escape("[[") not in index

    # rerun: everything skipped, no model loaded
    counting_loader.clear()
    again = run_sweep(plan, out, progress=False)
    assert [o.status for o in again.outcomes] == ["skipped"] * 4 and counting_loader == []

    # a changed setting makes new cells beside the old ones, never reusing their results
    changed = parse_plan(DEMO_PLAN.replace("batch_size = 8", "batch_size = 8\nmask = \"placeholder\""))
    new_cells = build_cells(changed, out.resolve())
    assert {c.dir for c in new_cells}.isdisjoint({c.dir for c in result.cells})
    assert [s for _, s in dry_run(changed, out)] == ["new"] * 4


def test_partial_cell_is_listed_then_finished(tmp_path, counting_loader, loaded_model):
    from faithscope.runs.runner import Runner

    plan = parse_plan(ONE_CELL_PLAN)
    out = tmp_path / "sweep"
    cell = build_cells(plan, out.resolve())[0]
    cell.config.progress = False
    runner = Runner(cell.config, loaded_model=loaded_model)
    runner.classify()  # cut short after label scoring, as a killed run leaves it
    runner.store.close()
    runner.release()  # as a killed run leaves it: the lock goes with the process
    assert [s for _, s in dry_run(plan, out)] == ["partial"]
    result = run_sweep(plan, out, progress=False, compose_outputs=False)
    assert [o.status for o in result.outcomes] == ["done"] and cell.status() == "done"


def huge_plan(fail_fast_first: bool) -> str:
    broken = '[[models]]\nname = "huge"\nparams = 10000000000000\n\n'
    return broken + DEMO_PLAN if fail_fast_first else ONE_CELL_PLAN.replace("[[datasets]]", broken + "[[datasets]]", 1)


def test_failed_cell_reported_others_continue(tmp_path, counting_loader):
    result = run_sweep(parse_plan(huge_plan(False)), tmp_path / "s", progress=False, compose_outputs=False)
    status = {o.name: (o.status, o.error) for o in result.outcomes}
    assert status["huge__demo2__rationales"][0] == "failed" and "MiB are available" in status["huge__demo2__rationales"][1]
    assert status["small__demo2__rationales"] == ("done", None)


def test_fail_fast_stops(tmp_path, counting_loader):
    result = run_sweep(parse_plan(huge_plan(True)), tmp_path / "s", fail_fast=True, progress=False, compose_outputs=False)
    assert result.outcomes[0].status == "failed" and "MiB" in result.outcomes[0].error
    assert all(o.status == "failed" and "--fail-fast" in o.error for o in result.outcomes[1:])
    assert counting_loader == []


def test_memory_estimate():
    plan = parse_plan(DEMO_PLAN)
    model = plan.models[0]  # 135M float32 x 1.5 = 772.5 MiB
    check_memory(model, 1.5, lambda: 800.0)
    with pytest.raises(ModelError, match="needs about 772 MiB"):
        check_memory(model, 1.5, lambda: 700.0)
