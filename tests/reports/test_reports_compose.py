"""Composing runs: one column group per run, fine-tuned minus pre-trained differences."""

from __future__ import annotations

import csv

import pytest

from faithscope.reports import build_report
from faithscope.reports.compose import compute, diff_pair
from faithscope.reports.rundata import load_run
from faithscope.runs.store import ResultStore

from .conftest import build_store


def test_two_runs_pretrained_and_finetuned_get_a_difference(make_run, tmp_path):
    pre = make_run("pre")
    ft = make_run("ft", adapter="/adapters/epoch-3", attention_e3=(3, 4, 5))  # attention micro F1 5/6
    result = build_report([ft, pre], tmp_path / "cmp", bootstrap_resamples=20)
    md = (tmp_path / "cmp" / "table2_alignment.md").read_text()
    assert "- [1] tiny-model · fine-tuned (epoch-3) · tiny_set & co" in md
    assert "- [2] tiny-model · pre-trained · tiny_set & co" in md
    row = next(line for line in md.splitlines() if line.startswith("| Attention"))
    assert "83.33 (+33.33)" in row and "| 50.00 |" in row
    assert "fine-tuned minus pre-trained" in md
    with open(tmp_path / "cmp" / "table2_alignment.csv", newline="") as f:
        recs = [r for r in csv.DictReader(f) if r["method"] == "attention"]
    ft_rec = next(r for r in recs if r["state"].startswith("fine-tuned"))
    assert float(ft_rec["micro_f1_minus_pretrained"]) == pytest.approx(5 / 6 - 0.5)
    t4 = (tmp_path / "cmp" / "table4_faithfulness.md").read_text()
    assert "66.67 (+0.00)" in t4
    assert r"\multicolumn{11}{c}{tiny-model $\cdot$ fine-tuned (epoch-3)" in (tmp_path / "cmp" / "table2_alignment.tex").read_text()
    assert "Δ fine-tuned − pre-trained" in (tmp_path / "cmp" / "first_outputs.md").read_text()
    assert len(result.runs) == 2


def test_no_difference_across_datasets_or_two_pretrained_runs(make_run):
    a = compute(load_run(make_run("a")), 10)
    b = compute(load_run(make_run("b", dataset="other", adapter="/x")), 10)
    c = compute(load_run(make_run("c")), 10)
    assert diff_pair([a, b]) is None
    assert diff_pair([a, c]) is None
    assert diff_pair([a]) is None


def test_finetune_directory_stands_for_epoch_0_and_its_last_epoch(tmp_path):
    ft = tmp_path / "ft"
    build_store(ft / "epoch_0")
    build_store(ft / "epoch_1", adapter=str(ft / "adapters" / "epoch_1"))
    build_store(ft / "epoch_2", adapter=str(ft / "adapters" / "epoch_2"), attention_e3=(3, 4, 5))
    store = ResultStore.in_dir(ft)  # the fine-tune's own store: epoch summaries only, no predictions
    store.set_meta(config={"dataset": "tiny_set & co", "model": {"adapter": None}}, model_identity={"model": "tiny-model"})
    for e, acc in ((0, 0.3), (1, 0.5), (2, 0.7)):
        store.put_epoch(e, {"accuracy": acc, "zero_rate": 0.3})
    store.close()
    result = build_report([ft], bootstrap_resamples=10)
    assert [rt.data.run_dir.name for rt in result.runs] == ["epoch_0", "epoch_2"]
    assert [rt.data.state for rt in result.runs] == ["pre-trained", "fine-tuned (epoch_2)"]
    assert not result.runs[0].data.epochs and sorted(result.runs[1].data.epochs) == [0, 1, 2]
    row = next(line for line in (result.out_dir / "table2_alignment.md").read_text().splitlines() if line.startswith("| Attention"))
    assert "83.33 (+33.33)" in row
    assert "epochs" in result.files and result.out_dir == ft / "report"
    assert all(rt.summary.n_examples == 3 for rt in result.runs)


def test_a_store_without_predictions_is_not_called_collapsed(tmp_path):
    store = ResultStore.in_dir(tmp_path / "empty")
    store.set_meta(config={"dataset": "d"}, model_identity={"model": "m"}, labels=["a", "b"])
    store.close()
    summary = compute(load_run(tmp_path / "empty"), 10).summary
    assert summary.n_predicted == 0
    assert not any("collapsed" in w for w in summary.warnings)


def test_replies_that_name_no_label_are_unparseable_not_a_collapse_onto_an_empty_label(tmp_path, prediction_store):
    summary = prediction_store(tmp_path / "all", [None, None, None]).summary
    assert summary.n_unparseable == 3 and summary.accuracy == 0.0
    assert "" not in summary.pred_counts and summary.pred_counts == {"yes": 0, "no": 0}
    assert summary.warnings == ["the label of 3 of 3 examples could not be read from the reply (counted as wrong in the accuracy)"]


def test_a_collapse_among_readable_predictions_says_how_many_could_be_read(tmp_path, prediction_store):
    summary = prediction_store(tmp_path / "some", ["yes", None, "yes"]).summary
    assert summary.pred_counts == {"yes": 2, "no": 0} and summary.accuracy == pytest.approx(2 / 3)
    assert summary.warnings == [
        "the label of 1 of 3 examples could not be read from the reply (counted as wrong in the accuracy)",
        "the model predicts 'yes' for every example whose label could be read (2 of 3) (collapsed onto one label)"]
