"""Ray executor against a real local Ray instance (``ray.init(num_cpus=2)``): a worker killed
mid-cell loses no stored batch, the rerun completes the sweep, and the results equal those of
the local executor."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from faithscope.sweep import parse_plan, run_sweep
from faithscope.sweep.cells import build_cells

from .conftest import store_rows

pytest.importorskip("ray")

PLAN = '''
[[models]]
name = "small"
params = 135000000

[[datasets]]
name = "demo"
n = 6

[[evaluations]]
kind = "rationales"
methods = ["random", "human"]

[options]
batch_size = 1

[resources]
num_cpus = 1
max_retries = 0
'''


def count(db: Path, table: str) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as c:
            return c.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    except sqlite3.Error:
        return 0


def sweep_cmd(plan: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "faithscope.cli", "sweep", str(plan), "--executor", "ray", "--output-dir", str(out), "--no-progress"]


@pytest.mark.slow
def test_ray_worker_killed_mid_cell_then_rerun_equals_local(tmp_path, loaded_model):
    plan_file = tmp_path / "plan.toml"
    plan_file.write_text(PLAN, encoding="utf-8")
    out = tmp_path / "ray"
    (cell,) = build_cells(parse_plan(PLAN), out.resolve())
    db, pid_file = cell.dir / "results.sqlite", cell.dir / "worker.pid"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(sweep_cmd(plan_file, out), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 400
    while time.time() < deadline and proc.poll() is None and not (pid_file.is_file() and count(db, "predictions") > 0):
        time.sleep(0.02)
    assert proc.poll() is None, proc.communicate()[0]
    os.kill(int(pid_file.read_text()), signal.SIGKILL)
    output = proc.communicate(timeout=120)[0]
    assert proc.returncode == 1 and "failed" in output, output
    kept = count(db, "predictions")
    assert 0 < kept and cell.status() == "partial"  # the kill landed mid-cell; stored batches survive

    rerun = subprocess.run(sweep_cmd(plan_file, out), env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert cell.status() == "done" and count(db, "predictions") == 6
    assert (out / "rationales.csv").is_file() and (cell.dir / "report" / "report.html").is_file()

    local = run_sweep(parse_plan(PLAN), tmp_path / "local", progress=False, loaded={"small": loaded_model})
    assert [o.status for o in local.outcomes] == ["done"]
    assert store_rows(cell.dir) == store_rows(local.cells[0].dir)  # bit-identical, log-probabilities included
    import csv

    def composed(d: Path) -> list[dict]:
        with open(d / "rationales.csv", encoding="utf-8") as f:
            return [{k: v for k, v in r.items() if k != "cell_dir"} for r in csv.DictReader(f)]

    assert composed(out) == composed(tmp_path / "local")
