"""A run killed with SIGKILL part-way resumes with the same command and ends with the results
of an uninterrupted run; a changed configuration in the same directory is refused."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from faithscope.errors import ConfigError
from faithscope.runs.config import RunConfig
from faithscope.runs.runner import run

METHODS = ("attention", "input_x_gradient", "random", "all-words")
N = 5


def config(out: Path, **kw) -> RunConfig:
    return RunConfig(dataset="demo", n=N, methods=METHODS, output_dir=str(out), batch_size=1, progress=False, **kw)


def cli_args(out: Path) -> list[str]:
    return [sys.executable, "-m", "faithscope.cli", "run", "--dataset", "demo", "-n", str(N), "--methods", ",".join(METHODS),
            "--output-dir", str(out), "--batch-size", "1", "--no-progress", "--no-report"]


def count(db: Path, table: str) -> int:
    try:
        with sqlite3.connect(db, timeout=1) as c:
            return c.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    except sqlite3.Error:
        return 0


def snapshot(out: Path) -> dict:
    with sqlite3.connect(out / "results.sqlite") as c:
        return {
            "predictions": sorted(c.execute("SELECT example_id, predicted, logprobs FROM predictions")),
            "rationales": sorted(c.execute("SELECT example_id, method, purpose, target_label, positions, scores FROM rationales")),
            "masked": sorted(c.execute("SELECT example_id, method, predicted, flipped, masked_logprob FROM masked")),
        }


def assert_same(a: dict, b: dict) -> None:
    import json

    for table in a:
        assert len(a[table]) == len(b[table]), table
        for ra, rb in zip(a[table], b[table]):
            for x, y in zip(ra, rb):
                if isinstance(x, float):
                    assert abs(x - y) < 1e-4
                elif isinstance(x, str) and x.startswith("[") and table == "rationales" and x != y:
                    xs, ys = json.loads(x), json.loads(y)  # float scores: equal up to batching noise
                    assert max(abs(p - q) for p, q in zip(xs, ys)) <= 1e-4 * max(abs(q) for q in ys), (ra, rb)
                else:
                    assert x == y, (table, ra, rb)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory, loaded_model) -> Path:
    """An uninterrupted run, the reference for both tests."""
    out = tmp_path_factory.mktemp("fresh") / "run"
    run(config(out), loaded_model=loaded_model).store.close()
    return out


def test_kill_minus_9_then_resume_matches_uninterrupted(tmp_path, loaded_model, fresh):
    killed = tmp_path / "killed"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(cli_args(killed), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    db = killed / "results.sqlite"
    total = N * 2 * len(METHODS)
    deadline = time.time() + 900  # generous: a loaded 2-core machine loads the model slowly
    try:
        while time.time() < deadline and proc.poll() is None:
            if count(db, "rationales") >= 2:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the run ended before it could be killed: " + proc.stderr.read().decode()[-500:]
        assert time.time() < deadline, "the run stored no rationale in time"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    stored = count(db, "rationales")
    assert 0 < stored < total, stored  # some but not all results were stored at the kill
    assert count(db, "masked") == 0

    resumed = run(config(killed), loaded_model=loaded_model)
    assert count(db, "rationales") == total
    assert_same(snapshot(killed), snapshot(fresh))
    resumed.store.close()


def test_rerun_computes_nothing_and_changed_config_is_refused(loaded_model, fresh):
    out = fresh
    from faithscope.runs.store import ResultStore

    stored = ResultStore.open_existing(out)
    timings = stored.timings()
    assert set(stored.stage_peaks()) == set(timings)  # every timed stage has its peak memory
    assert all(mib > 50 for mib in stored.stage_peaks().values())
    again = run(config(out), loaded_model=loaded_model)
    after = again.store.timings()
    for stage, (_, items) in after.items():
        assert items == timings[stage][1], f"stage {stage} recomputed something"
    with pytest.raises(ConfigError, match="another configuration.*mask"):
        run(config(out, mask="placeholder"), loaded_model=loaded_model)
    # speed knobs are not part of the configuration
    run(RunConfig(**{**config(out).__dict__, "batch_size": 4, "max_batch_tokens": 1024}), loaded_model=loaded_model)
