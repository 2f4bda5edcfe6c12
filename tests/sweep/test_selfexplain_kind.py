"""The ``selfexplain`` evaluation kind of a sweep: plan errors, cell identity and status, and a
real two-model sweep on the embedded model whose composed table equals a recomputation from
the cells' stores with plain sqlite3."""

from __future__ import annotations

import csv
import json
import sqlite3

import pytest

from faithscope.errors import ConfigError
from faithscope.selfexplain.store import StudyStore, study_status
from faithscope.sweep import dry_run, parse_plan, run_sweep
from faithscope.sweep.cells import build_cells

from .conftest import plan_error as err

SE_PLAN = '''
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
name = "se"
kind = "selfexplain"
options = { styles = ["attribution"], modes = ["one"], draws = 1, batch_size = 4 }
'''



@pytest.mark.parametrize("change, needle", [
    (('kind = "selfexplain"', 'kind = "selfexplain"\nmethods = ["random"]'), "takes no methods"),
    (('styles = ["attribution"]', 'styles = ["attribution", "paraphrase"]'), "unknown styles 'paraphrase'"),
    (('styles = ["attribution"]', 'styles = []'), "styles must be a non-empty list"),
    (('styles = ["attribution"]', 'styles = "attribution"'), "styles must be a list of names"),
    (('modes = ["one"]', 'modes = ["one", "one"]'), "modes names one twice"),
    (("draws = 1", "draws = 0"), "draws must be at least 1"),
    (("draws = 1", 'draws = 1, experiments = ["unseen-task"]'), "unseen-task needs several tasks in one study"),
    (("draws = 1", 'draws = 1, preset = "gpu"'), "unknown preset 'gpu'; presets: cpu, paper"),
    (("draws = 1", "drawz = 1"), "unknown key(s) drawz"),
    (("n = 2", "n = 2\nfirst = true"), "first = true is not supported"),
])
def test_plan_errors(change, needle):
    msg = err(SE_PLAN.replace(*change))
    assert needle in msg, msg


def test_unknown_option_names_the_kinds_keys():
    allowed = err(SE_PLAN.replace("draws = 1", "drawz = 1")).split("allowed:")[1]
    assert "styles" in allowed and "experiments" in allowed


def test_dataset_without_a_study_task_refused(shared_data):
    msg = err(SE_PLAN.replace('dataset = "demo"', 'dataset = "fever"'), data_dir=str(shared_data))
    assert "not dataset 'fever'" in msg and "sentiment140" in msg


def test_cell_identity_covers_study_settings(tmp_path):
    base = build_cells(parse_plan(SE_PLAN), tmp_path)
    assert base[0].dir.name.split("-")[0] == "small__demo2__se"
    assert base[0].evaluation.kind_options == {"styles": ["attribution"], "modes": ["one"], "draws": 1}
    same = build_cells(parse_plan(SE_PLAN.replace("batch_size = 4", "batch_size = 2")), tmp_path)
    assert [c.dir for c in same] == [c.dir for c in base]  # batching does not change results
    reordered = SE_PLAN.replace('styles = ["attribution"]', 'styles = ["redaction", "attribution"]')
    swapped = SE_PLAN.replace('styles = ["attribution"]', 'styles = ["attribution", "redaction"]')
    assert [c.dir for c in build_cells(parse_plan(reordered), tmp_path)] == [c.dir for c in build_cells(parse_plan(swapped), tmp_path)]
    for change in (("draws = 1", "draws = 2"), ('modes = ["one"]', 'modes = ["many"]'), ("n = 2", "n = 3"),
                   ("draws = 1", 'draws = 1, experiments = ["main"]'), ('styles = ["attribution"]', 'styles = ["redaction"]')):
        other = build_cells(parse_plan(SE_PLAN.replace(*change)), tmp_path)
        assert {c.dir for c in other}.isdisjoint({c.dir for c in base}), change


def test_cell_study_config():
    from faithscope.sweep.selfexplain_kind import study_config

    cell = build_cells(parse_plan(SE_PLAN.replace("draws = 1", 'draws = 1, experiments = ["main"], train_n = 4, epochs = 1')), "/tmp/x")[0]
    cfg = study_config(cell)
    assert (cfg.tasks, cfg.styles, cfg.modes, cfg.eval_n, cfg.train_n, cfg.epochs, cfg.draws, cfg.experiments) == \
        (("demo",), ("attribution",), ("one",), 2, 4, 1, 1, ("main",))
    assert cfg.output_dir == str(cell.dir)
    plain = study_config(build_cells(parse_plan(SE_PLAN), "/tmp/x")[0])
    assert plain.experiments == () and plain.train_n == 10  # checks of the model as it is, nothing trained


def test_status_new_partial_done(tmp_path):
    assert study_status(tmp_path) == "new"
    with StudyStore(tmp_path) as store:
        store.bind_config({"tasks": ["demo"]}, {})
    assert study_status(tmp_path) == "partial"  # a store whose study did not run to its end
    with StudyStore(tmp_path) as store:
        store.mark_finished()
    assert study_status(tmp_path) == "done"
    (tmp_path / "results.sqlite").write_bytes(b"not a database at all" * 10)
    assert study_status(tmp_path) == "partial"


def _one_model_plan() -> str:
    """SE_PLAN with its first model only."""
    return SE_PLAN.split('[[models]]\nname = "small-pre"')[0].replace('partner = "small-pre"\n', "") + "[[datasets]]" + \
        SE_PLAN.split("[[datasets]]")[1]


def _independent_rates(cell_dir) -> dict[tuple[str, str, str], dict[str, float]]:
    """sc rates per (condition, style, mode) straight from se_checks: faithful counts only a
    usable reply (no failure) whose check passed; unparsed = the rest."""
    with sqlite3.connect(cell_dir / "results.sqlite") as db:
        rows = db.execute("SELECT condition, style, mode, failure, faithful, correct FROM se_checks").fetchall()
    out: dict[tuple[str, str, str], dict[str, float]] = {}
    for key in {r[:3] for r in rows}:
        sel = [r for r in rows if r[:3] == key]
        usable = [r for r in sel if r[3] is None and r[4] is not None]
        out[key] = {"n": len(sel), "sc_faithful": sum(bool(r[4]) for r in usable) / len(sel),
                    "sc_correct": sum(bool(r[5]) for r in sel) / len(sel), "sc_unparsed": 1 - len(usable) / len(sel),
                    "sc_faithful_correct": sum(bool(r[4]) and bool(r[5]) for r in usable) / len(sel)}
    return out


def test_selfexplain_sweep_on_the_embedded_model(tmp_path, counting_loader):
    plan = parse_plan(SE_PLAN)
    out = tmp_path / "sweep"
    assert [s for _, s in dry_run(plan, out)] == ["new", "new"]
    result = run_sweep(plan, out, progress=False)
    assert [o.status for o in result.outcomes] == ["done", "done"], [o.error for o in result.outcomes]
    assert counting_loader == ["small", "small-pre"]
    assert [s for _, s in dry_run(plan, out)] == ["done", "done"]

    with open(out / "se.csv", encoding="utf-8") as f:
        records = list(csv.DictReader(f))
    assert [(r["model"], r["condition"], r["style"], r["mode"]) for r in records] == \
        [("small", "before", "attribution", "one"), ("small-pre", "before", "attribution", "one")]
    for rec, c in zip(records, result.cells):
        assert (c.dir / "report" / "report.html").is_file()
        direct = _independent_rates(c.dir)
        assert set(direct) == {("before", "attribution", "one")}  # nothing trained: the model as it is
        want = direct[("before", "attribution", "one")]
        assert int(rec["n"]) == want["n"] == 2
        for m in ("sc_faithful", "sc_correct", "sc_unparsed", "sc_faithful_correct"):
            assert float(rec[m]) == pytest.approx(want[m]), m
        with sqlite3.connect(c.dir / "results.sqlite") as db:
            preds = db.execute("SELECT p.labels, p.logprobs, c.gold FROM se_predictions p "
                               "JOIN se_checks c USING (condition, task, example_id)").fetchall()
        # forced choice: the best of the task's labels on the unedited input, "unknown" left out
        forced = [max((lp, lab) for lab, lp in zip(json.loads(labels), json.loads(lps)) if lab != "unknown")[1]
                  for labels, lps, _ in preds]
        assert len(preds) == 2 and float(rec["accuracy"]) == pytest.approx(sum(f == g for f, (_, _, g) in zip(forced, preds)) / 2)
        assert rec["params"] == "135000000" and rec["tuned"] == c.model.tuned
    for ext in ("md", "tex"):
        assert (out / f"se.{ext}").is_file()
    assert (out / "plots" / "se" / "demo2__before__one__sc_faithful.png").stat().st_size > 0
    assert not list((out / "plots").glob("se__*"))  # no generic per-cell scaling plots: several records per cell
    assert "Sweep: evaluation se (selfexplain)" in (out / "index.html").read_text(encoding="utf-8")

    # rerun: nothing loaded, nothing recomputed
    counting_loader.clear()
    again = run_sweep(plan, out, progress=False)
    assert [o.status for o in again.outcomes] == ["skipped", "skipped"] and counting_loader == []


def test_served_model_cannot_train(tmp_path):
    plan = parse_plan(SE_PLAN.replace('tuned = "pretrained"\n', 'tuned = "pretrained"\nbackend = "openai"\nmodel = "smollm2"\nbase_url = "http://127.0.0.1:9/v1"\n'
                                      'max_length = 2048\n').replace("draws = 1", 'draws = 1, experiments = ["main"]'))
    served = [c for c in build_cells(plan, tmp_path) if c.model.name == "small-pre"][0]
    from faithscope.sweep.selfexplain_kind import run

    with pytest.raises(ConfigError, match="needs gradients"):
        run(served, None)


@pytest.mark.slow  # ~45 s on 2 cores: pseudo explanations, one LoRA epoch, two evaluations
def test_a_training_cell_trains_a_copy_and_leaves_the_shared_model_untouched(tmp_path, counting_loader, loaded_model):
    """experiments = ["main"]: the cell builds pseudo explanations, trains LoRA on a copy of the
    executor's model and checks before and after; the model the executor shares with its next
    cells has the same weights afterwards."""
    import torch

    text = _one_model_plan().replace("draws = 1", 'draws = 1, experiments = ["main"], train_n = 2, epochs = 1')
    plan = parse_plan(text)
    before = {k: v.detach().clone() for k, v in loaded_model.model.state_dict().items()}
    result = run_sweep(plan, tmp_path / "sweep", progress=False)
    assert [o.status for o in result.outcomes] == ["done"], [o.error for o in result.outcomes]
    after = loaded_model.model.state_dict()
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)
    (cell,) = result.cells
    direct = _independent_rates(cell.dir)
    assert set(direct) == {("before", "attribution", "one"), ("after:main", "attribution", "one")}
    assert (cell.dir / "adapters" / "after-main").is_dir()
    with open(tmp_path / "sweep" / "se.csv", encoding="utf-8") as f:
        records = list(csv.DictReader(f))
    assert [(r["condition"], int(r["n"])) for r in records] == [("before", 2), ("after:main", 2)]
    for rec in records:
        assert float(rec["sc_faithful"]) == pytest.approx(direct[(rec["condition"], "attribution", "one")]["sc_faithful"])


def _served_reply(prompt: str) -> tuple[str, dict[str, float]]:
    """A scripted served model for the demo task: explains with the hypothesis's first word
    (attribution), redacts it (redaction), appends "not" (counterfactual), and classifies as
    unknown exactly when the input holds the marker; every label is in the top log-probs."""
    import re

    hyp = re.search(r'Hypothesis: "([^"]*)"', prompt).group(1)
    premise = re.search(r'Premise: "([^"]*)"', prompt).group(1)
    first = hyp.split()[0]
    tail = prompt.rstrip()
    ent = {" entail": -0.2, " neutral": -2.1, " contrad": -3.3, " unknown": -4.0}
    if tail.endswith("Words:"):
        return " " + first, ent
    if tail.endswith("Redacted hypothesis:"):
        return " " + hyp.replace(first, "[REDACTED]", 1), ent
    if tail.endswith("Edited hypothesis:"):
        return " " + hyp + " not", ent
    if "[REDACTED]" in premise + hyp:
        return " unknown", {" unknown": -0.1, " entail": -2.5, " neutral": -3.0, " contrad": -3.5}
    return " entailment", ent


def test_a_served_model_is_checked_through_the_openai_backend(tmp_path, fault_server):
    """A selfexplain cell of a model behind an OpenAI-compatible server (a scripted one here):
    the checks run through the server, and the stored verdicts are those the script implies."""
    server = fault_server(reply=_served_reply)
    # one model behind the server, every style, one-word mode
    text = _one_model_plan().replace('name = "small"', 'name = "served"').replace(
        "params = 135000000\n", f'backend = "openai"\nmodel = "fault"\nbase_url = "{server.base_url}"\n').replace(
        'styles = ["attribution"]', 'styles = ["attribution", "redaction", "counterfactual"]')
    result = run_sweep(parse_plan(text), tmp_path / "sweep", progress=False)
    assert [o.status for o in result.outcomes] == ["done"], [o.error for o in result.outcomes]
    assert server.total > 0
    (cell,) = result.cells
    with sqlite3.connect(cell.dir / "results.sqlite") as db:
        rows = db.execute("SELECT style, predicted, target, failure, faithful FROM se_checks ORDER BY style, example_id").fetchall()
    assert len(rows) == 6 and all(p == "entailment" for _, p, _, _, _ in rows)
    by_style = {s: [r for r in rows if r[0] == s] for s in ("attribution", "redaction", "counterfactual")}
    # redacting the explained word makes the script answer unknown: faithful
    assert all(f is None and v == 1 for _, _, _, f, v in by_style["attribution"] + by_style["redaction"])
    # the edited input still gets "entailment": faithful exactly when the target is entailment
    assert all(f is None for _, _, _, f, _ in by_style["counterfactual"])
    assert all((v == 1) == (t == "entailment") for _, _, t, f, v in by_style["counterfactual"])
