"""Figures (PNG + SVG) from plain data, and the per-epoch analyses (Tables 3/5)."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from faithscope.reports.epochs import correlations, epoch_summary, series
from faithscope.reports.plots import epoch_plots, plot_label_distribution, plot_methods
from faithscope.reports.rundata import load_run

EPOCHS = {
    e: {"accuracy": acc, "zero_rate": 0.34, "pretrained_accuracy": 0.33,
        "label_distribution": {"entailment": 1 - 0.2 * e, "neutral": 0.1 * e, "contradiction": 0.1 * e},
        "alignment": {"prompt-topk": 0.1 + 0.01 * e * e, "input_x_gradient": 0.2 + 0.05 * e},
        "flip_rate": {"prompt-topk": 0.0, "input_x_gradient": 0.05 * e}, "mask_all_flip_rate": 0.1 * e}
    for e, acc in enumerate([0.33, 0.45, 0.61, 0.70])
}


def test_epoch_plots_write_png_and_svg(tmp_path):
    made = epoch_plots(EPOCHS, tmp_path)
    assert set(made) == {"fig2_accuracy", "fig3_alignment", "fig4_flip_rate", "figA1_labels"}
    for paths in made.values():
        assert sorted(p.suffix for p in paths) == [".png", ".svg"]
        assert all(p.stat().st_size > 1000 for p in paths)
    assert made["fig2_accuracy"][0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in made["fig2_accuracy"][1].read_text()


def test_epoch_plots_skip_what_is_missing(tmp_path):
    only_acc = {0: {"accuracy": 0.3}, 1: {"accuracy": 0.5}}
    made = epoch_plots(only_acc, tmp_path)
    assert "fig2_accuracy" in made and "figA1_labels" not in made
    assert epoch_plots({}, tmp_path) == {}


def test_run_plots_from_plain_values(tmp_path):
    assert len(plot_label_distribution(["a", "b"], {"a": 2, "b": 1}, {"a": 3}, "t", tmp_path / "labels")) == 2
    paths = plot_methods({"run": {"attention": (0.5, 0.3, 0.7), "random": (0.2, math.nan, math.nan)}}, "t", "%", tmp_path / "m")
    assert [p.suffix for p in paths] == [".png", ".svg"]
    assert plot_methods({}, "t", "%", tmp_path / "none") == []


def test_correlations_match_scipy():
    corr = correlations(EPOCHS, "alignment")
    acc = series(EPOCHS, "accuracy")[1]
    expected = stats.pearsonr(acc, series(EPOCHS, "alignment", "input_x_gradient")[1])
    assert corr["input_x_gradient"].r == pytest.approx(expected[0]) and corr["input_x_gradient"].p == pytest.approx(expected[1])
    flips = correlations(EPOCHS, "flip_rate")
    assert math.isnan(flips["prompt-topk"].r) and "constant" in flips["prompt-topk"].reason


def test_epoch_summary_of_a_stored_evaluation(tiny_run):
    s = epoch_summary(load_run(tiny_run), pretrained_accuracy=0.5, n_resamples=10)
    assert s["accuracy"] == pytest.approx(2 / 3) and s["zero_rate"] == pytest.approx(2 / 3)
    assert s["alignment"]["attention"] == pytest.approx(0.5) and s["flip_rate"]["attention"] == pytest.approx(2 / 3)
    assert s["mask_all_flip_rate"] == pytest.approx(1 / 3) and s["pretrained_accuracy"] == 0.5
    assert s["label_distribution"] == pytest.approx({"entailment": 1 / 3, "neutral": 1 / 3, "contradiction": 1 / 3})


def test_report_of_a_fine_tuning_run_has_epoch_tables_and_figures(tmp_path):
    from faithscope.reports import build_report
    from faithscope.runs.store import ResultStore

    store = ResultStore.in_dir(tmp_path / "ft")
    store.set_meta(config={"dataset": "esnli", "model": {"adapter": None}}, model_identity={"model": "m"})
    for e, summary in EPOCHS.items():
        store.put_epoch(e, summary)
    store.close()
    result = build_report([tmp_path / "ft"], bootstrap_resamples=10)
    assert {"epochs", "correlations"} <= set(result.files)
    corr = (result.out_dir / "correlations.md").read_text()
    r = stats.pearsonr(series(EPOCHS, "accuracy")[1], series(EPOCHS, "alignment", "input_x_gradient")[1])[0]
    assert f"| Input×Gradient | TOP-VAR | {r:.3f} |" in corr
    assert "metric is constant" in corr  # prompt-topk's flip rate never moves
    assert "| 3 | 70.00 | 34.00 |" in (result.out_dir / "epochs.md").read_text()
    assert sum(p.name.startswith("fig") for p in result.files["plots"]) == 8
