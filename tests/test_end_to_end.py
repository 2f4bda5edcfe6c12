"""End to end: run -> store -> report, through the Python API and the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from faithscope.cli import main
from faithscope.runs.config import RunConfig
from faithscope.runs.runner import run


def test_demo_run_then_cli_report(tmp_path, loaded_model, capsys):
    out = tmp_path / "demo"
    res = run(RunConfig(dataset="demo", n=4, methods=("prompt-topk", "input_x_gradient", "random", "human", "all-words"),
                        output_dir=str(out), progress=False, max_new_tokens=24), loaded_model=loaded_model)
    assert len(res.store.predictions()) == 4
    assert len(list(res.store.rationales())) == 4 * 2 * 5
    assert {r["method"] for r in res.store.masked()} == {"prompt-topk", "input_x_gradient", "random", "human", "all-words"}
    main(["report", str(out)])
    printed = capsys.readouterr().out
    assert "accuracy" in printed and "zero-rate" in printed
    for name in ("table2_alignment.md", "table2_alignment.csv", "table2_alignment.tex", "table4_faithfulness.md", "first_outputs.md", "report.html"):
        assert (out / "report" / name).is_file(), name
    table4 = (out / "report" / "table4_faithfulness.md").read_text()
    assert "All" in table4 and "Input×Gradient" in table4


@pytest.mark.slow
def test_cli_run_on_real_esnli(tmp_path, shared_data):
    out = tmp_path / "esnli"
    proc = subprocess.run([sys.executable, "-m", "faithscope.cli", "run", "--dataset", "esnli", "--data-dir", str(shared_data), "-n", "30",
                           "--output-dir", str(out), "--no-progress"], capture_output=True, text=True, timeout=3000, env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "accuracy" in proc.stdout
    summary = json.loads((out / "report" / "summary.json").read_text())
    assert summary
    assert (out / "report" / "report.html").stat().st_size > 1000
