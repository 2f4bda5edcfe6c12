"""``faithscope report`` on counterfactual run directories (issue 13): the counterfactual table
(CT flip rate, unfaithfulness, CCT, φ-CCT, TPR, FPR, verbosity with CIs) in CSV/Markdown/LaTeX
and in report.html, numbers recomputed here from the stored rows, every text escaped, mixed
with an ordinary run, and the run directory left unchanged."""

from __future__ import annotations

import csv
import hashlib
import html
import re

import pytest

from faithscope.counterfactual.api import run_counterfactual
from faithscope.counterfactual.report import counterfactual_metrics
from faithscope.counterfactual.store import CounterfactualStore, is_counterfactual_run
from faithscope.metrics import METRICS
from faithscope.metrics.counterfactual import COUNTERFACTUAL_METRICS, InterventionOutcome, summarize
from faithscope.reports import build_report, print_summary

from reports.conftest import build_store  # tests/ is on sys.path (rootdir conftest), tests/reports a package
from .fakes import FakeBackend

SMALL = dict(dataset="demo", n=6, positions=2, words=2, batch_size=3, seed=1, write_tables=False)
EVIL = '<script>window.__pwned=1</script>"><img src=x onerror=alert(1)>'


class EvilFake(FakeBackend):
    @property
    def identity(self):
        return {"name": EVIL}


@pytest.fixture()
def cf_run(tmp_path, lexicon):
    return run_counterfactual(output_dir=tmp_path / "cf", backend=EvilFake(), **SMALL)


def _digest(d):
    return hashlib.sha256((d / "results.sqlite").read_bytes()).hexdigest()


def test_registry_lists_the_counterfactual_metrics_in_table_order():
    assert [m.name for m in counterfactual_metrics()] == list(COUNTERFACTUAL_METRICS)


def test_report_of_a_counterfactual_run_shows_its_table(cf_run, tmp_path):
    before = _digest(cf_run)
    result = build_report([cf_run], tmp_path / "rep", bootstrap_resamples=200)
    assert _digest(cf_run) == before  # reading never changes the run
    assert not (tmp_path / "rep" / "table2_alignment.csv").exists()  # no Table 2/4 for a run without rationales
    with open(tmp_path / "rep" / "counterfactual.csv", newline="", encoding="utf-8") as f:
        (rec,) = list(csv.DictReader(f))
    # independent recomputation from the stored rows
    store = CounterfactualStore(cf_run)
    rows = store.interventions()
    store.close()
    changed = [bool(r["changed"]) for r in rows]
    mention = [bool(r["mention"]) for r in rows]
    assert float(rec["ct_flip_rate"]) == pytest.approx(sum(changed) / len(rows))
    if any(not c for c in changed):
        assert float(rec["fpr"]) == pytest.approx(sum(m for m, c in zip(mention, changed) if not c) / sum(not c for c in changed))
    assert float(rec["verbosity"]) == pytest.approx(sum(r["n_words"] for r in rows) / len(rows))
    outcomes = [InterventionOutcome(r["example_id"], r["tvd"], bool(r["changed"]), bool(r["mention"]), r["n_words"]) for r in rows]
    ref = summarize(outcomes, n_resamples=200, seed=0)
    for name in COUNTERFACTUAL_METRICS:
        for key, v in ((name, ref[name].value), (f"{name}_ci_low", ref[name].ci_low), (f"{name}_ci_high", ref[name].ci_high)):
            if v == v:  # not NaN
                assert float(rec[key]) == pytest.approx(v), key
    assert rec["n_interventions"] == str(len(rows)) and rec["n_examples"] == "6"

    page = (tmp_path / "rep" / "report.html").read_text(encoding="utf-8")
    assert "Counterfactual tests of self-explanations" in page
    for m in counterfactual_metrics():
        assert html.escape(m.header, quote=True) + " [95% CI]" in page or m.header + " [95% CI]" in page
    cell = f"{float(rec['ct_flip_rate']):.3f} [{float(rec['ct_flip_rate_ci_low']):.3f}, {float(rec['ct_flip_rate_ci_high']):.3f}]"
    assert cell in page
    assert "<script>window.__pwned" not in page and "<img src=x" not in page
    assert html.escape(EVIL) in page  # the model name is shown, escaped
    md = (tmp_path / "rep" / "counterfactual.md").read_text(encoding="utf-8")
    assert METRICS["phi_cct"].header in md
    assert (tmp_path / "rep" / "plots" / "cf_tpr_fpr.svg").is_file()
    assert "φ-CCT" in page and re.search(r"cf_tpr_fpr", page)
    text = print_summary(result)
    assert "[counterfactual]" in text and "phi_cct" in text


def test_report_mixes_a_counterfactual_run_with_an_ordinary_run(cf_run, tmp_path):
    ordinary = build_store(tmp_path / "ordinary")
    assert not is_counterfactual_run(ordinary) and is_counterfactual_run(cf_run)
    result = build_report([ordinary, cf_run], tmp_path / "both", bootstrap_resamples=100)
    titles = [t.title for t in result.tables]
    assert any(t.startswith("Table 2") for t in titles) and any(t.startswith("Table 4") for t in titles)
    assert titles[-1] == "Counterfactual tests of self-explanations"
    assert len(result.runs) == 1 and len(result.counterfactual) == 1
    page = (tmp_path / "both" / "report.html").read_text(encoding="utf-8")
    assert "Counterfactual tests of self-explanations" in page and "Table 4" in page
    assert (tmp_path / "both" / "counterfactual.csv").is_file() and (tmp_path / "both" / "table2_alignment.csv").is_file()


def test_cli_report_on_a_counterfactual_run(cf_run, tmp_path, capsys):
    from faithscope.cli import main

    try:
        main(["report", str(cf_run), "--out", str(tmp_path / "cli")])
    except SystemExit as exc:  # typer exits 0 after a command
        assert exc.code in (0, None)
    out = capsys.readouterr().out
    assert "[counterfactual]" in out and "ct_flip_rate" in out
    assert "Counterfactual tests of self-explanations" in (tmp_path / "cli" / "report.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("text, expected", [
    ("neutral entailment neutral contradiction", True),   # a fine-tuned classifier's "explanation"
    ("Neutral, entailment. NEUTRAL!", True),               # case and punctuation do not matter
    ("the man is not sleeping, so contradiction", False),  # a real explanation that names a label
    ("", False),                                            # empty: counted as empty, not label-only
    ("...", False),
])
def test_is_label_only(text, expected):
    from faithscope.explanations.parse import is_label_only

    assert is_label_only(text, ["entailment", "neutral", "contradiction"]) is expected


def test_label_only_rate_in_the_table(cf_run):
    from faithscope.counterfactual.report import _label_words, counterfactual_table, label_only_rate, summary_record

    store = CounterfactualStore(cf_run, readonly=True)
    try:
        texts = store.explanations()
        rec = summary_record(store, n_resamples=50)
    finally:
        store.close()
    words = _label_words("demo")
    assert words and set(words) >= {"entailment", "neutral", "contradiction"}
    assert rec["label_only_rate"] == pytest.approx(sum(t != "" and all(w.strip(".,!").lower() in words for w in t.split())
                                                       for t in texts) / len(texts))
    assert label_only_rate(["neutral neutral", "a cat", "neutral", ""], words) == pytest.approx(0.5)
    table = counterfactual_table([rec])
    assert table.columns[-1] == "label-only explanations" and len(table.rows[0][1]) == len(table.columns)
