"""The ``counterfactual`` evaluation kind of a sweep: plan errors, cell identity, and a real
two-model sweep on the embedded model whose composed table equals a recomputation from the
cells' stores."""

from __future__ import annotations

import csv
import json
import sqlite3

import pytest

from faithscope.counterfactual.report import summary_record
from faithscope.counterfactual.store import CounterfactualStore
from faithscope.errors import ConfigError
from faithscope.metrics.counterfactual import COUNTERFACTUAL_METRICS
from faithscope.sweep import dry_run, parse_plan, run_sweep
from faithscope.sweep.cells import build_cells

from .conftest import plan_error as err

CF_PLAN = '''
[[models]]
name = "small"
params = 135000000
tuned = "instruction"
partner = "small-pre"

[[models]]
name = "small-pre"
params = 135000000
tuned = "pretrained"

[[datasets]]
name = "demo2"
dataset = "demo"
n = 2

[[evaluations]]
name = "cf"
kind = "counterfactual"
options = { positions = 1, words = 2, max_new_tokens = 12, batch_size = 2 }
'''



@pytest.mark.parametrize("change, needle", [
    (('kind = "counterfactual"', 'kind = "counterfactual"\nmethods = ["random"]'), "takes no methods"),
    (("positions = 1", 'positions = 1, style = "imitate"'), "style must be one of instruction, human"),
    (("positions = 1", 'positions = 1, order = "pp"'), "order must be one of pe, ep"),
    (("positions = 1", "positions = 0"), "positions must be at least 1"),
    (("words = 2", 'words = "2"'), "words must be an integer"),
    (("positions = 1", "positions = 1, inflections = 1"), "inflections must be true/false"),
    (("positions = 1", "postions = 1"), "unknown key(s) postions"),
    (("positions = 1", 'positions = 1, style = "human"'), "style = \"human\" needs human explanations; dataset 'demo'"),
    (("n = 2", "n = 2\nfirst = true"), "first = true is not supported"),
])
def test_plan_errors(change, needle):
    msg = err(CF_PLAN.replace(*change))
    assert needle in msg, msg


def test_unknown_option_names_the_kinds_keys():
    assert "positions" in err(CF_PLAN.replace("positions = 1", "postions = 1")).split("allowed:")[1]


def test_dataset_without_counterfactual_support_refused(shared_data):
    text = CF_PLAN.replace('dataset = "demo"', 'dataset = "agnews"')
    with pytest.raises(ConfigError) as e:
        parse_plan(text, data_dir=str(shared_data))
    assert "not dataset 'agnews'" in str(e.value)


def test_cell_identity_covers_counterfactual_settings(tmp_path):
    base = build_cells(parse_plan(CF_PLAN), tmp_path)
    assert [c.dir.name.split("-")[0] for c in base][0] == "small__demo2__cf"
    same = build_cells(parse_plan(CF_PLAN.replace("batch_size = 2", "batch_size = 3")), tmp_path)
    assert [c.dir for c in same] == [c.dir for c in base]  # batching does not change results
    for change in (("words = 2", "words = 3"), ("positions = 1", 'positions = 1, order = "ep"'), ("n = 2", "n = 3")):
        other = build_cells(parse_plan(CF_PLAN.replace(*change)), tmp_path)
        assert {c.dir for c in other}.isdisjoint({c.dir for c in base}), change
    assert [c.evaluation.kind_options for c in base][0] == {"positions": 1, "words": 2, "max_new_tokens": 12}
    assert all(c.config.batch_size == 2 for c in base)


def test_counterfactual_sweep_on_the_embedded_model(tmp_path, counting_loader, lexicon):
    plan = parse_plan(CF_PLAN)
    out = tmp_path / "sweep"
    assert [s for _, s in dry_run(plan, out)] == ["new", "new"]
    result = run_sweep(plan, out, progress=False)
    assert [o.status for o in result.outcomes] == ["done", "done"], [o.error for o in result.outcomes]
    assert counting_loader == ["small", "small-pre"]
    assert [s for _, s in dry_run(plan, out)] == ["done", "done"]

    with open(out / "cf.csv", encoding="utf-8") as f:
        records = list(csv.DictReader(f))
    assert [r["model"] for r in records] == ["small", "small-pre"]
    for rec, c in zip(records, result.cells):
        assert (c.dir / "report" / "report.html").is_file()
        store = CounterfactualStore(c.dir, readonly=True)
        try:
            direct = summary_record(store)
            assert json.loads(json.dumps(store.meta()["config"]))["words"] == 2
        finally:
            store.close()
        with sqlite3.connect(c.dir / "results.sqlite") as db:
            pairs = db.execute("SELECT label, orig_predicted FROM cf_examples").fetchall()
            n_iv = db.execute("SELECT COUNT(*) FROM cf_interventions").fetchone()[0]
        assert int(rec["n_examples"]) == len(pairs) == 2 and int(rec["n_interventions"]) == n_iv
        assert float(rec["accuracy"]) == pytest.approx(sum(a == b for a, b in pairs) / len(pairs))
        assert rec["params"] == "135000000" and rec["tuned"] == c.model.tuned
        for m in COUNTERFACTUAL_METRICS:
            if direct[m] == direct[m]:  # not NaN (e.g. CCT with no spread)
                assert float(rec[m]) == pytest.approx(direct[m])
            else:
                assert rec[m] in ("", "nan")
    for ext in ("md", "tex"):
        assert (out / f"cf.{ext}").is_file()
    for metric in ("accuracy", "phi_cct"):
        assert (out / "plots" / f"cf__demo2__{metric}.png").stat().st_size > 0
    assert "Sweep: evaluation cf (counterfactual)" in (out / "index.html").read_text(encoding="utf-8")

    # rerun: nothing loaded, nothing recomputed
    counting_loader.clear()
    again = run_sweep(plan, out, progress=False)
    assert [o.status for o in again.outcomes] == ["skipped", "skipped"] and counting_loader == []
