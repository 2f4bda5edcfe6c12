"""The study tables' own numbers: the paired Δ and its CI, against hand values and an
independent resampling."""

from __future__ import annotations

import numpy as np
import pytest

from faithscope.selfexplain.report import headline_value, paired_delta, study_metrics
from faithscope.selfexplain.types import CheckRow


def row(eid: str, faithful: bool | None, correct: bool = True) -> CheckRow:
    return CheckRow(example_id=eid, task="t", style="attribution", mode="one", gold="a", predicted="a" if correct else "b",
                    target=None, reply="r", explanation="w", failure="unparsed" if faithful is None else None,
                    recheck=None, faithful=faithful, correct=correct)


def test_metric_columns_come_from_the_registry_headline_first():
    names = [m.name for m in study_metrics()]
    assert names[0] == "sc_faithful" and "sc_correct" in names and "sc_faithful_correct" in names
    assert all(m.family == "self_consistency" for m in study_metrics())


def test_paired_delta_is_after_minus_before_paired_by_example():
    before = [row("1", True), row("2", False), row("3", False), row("4", True)]
    after = [row("4", True), row("3", False), row("2", True), row("1", True)]  # another order: paired by id
    v, lo, hi = paired_delta(before, after, "sc_faithful", n_resamples=500, seed=3)
    assert v == pytest.approx(0.25)  # (3 - 2) / 4
    # independent resampling of the per-example differences (id order 1..4: 0, +1, 0, 0)
    d = np.array([0.0, 1.0, 0.0, 0.0])
    idx = np.random.default_rng(3).integers(0, 4, size=(500, 4))
    reps = d[idx].mean(axis=1)
    assert (lo, hi) == pytest.approx(tuple(np.percentile(reps, [2.5, 97.5])))
    assert headline_value(after, "sc_faithful") - headline_value(before, "sc_faithful") == pytest.approx(v)


def test_paired_delta_of_an_identical_change_has_a_point_ci_and_unparsed_counts_as_not_faithful():
    before = [row(str(i), None) for i in range(5)]  # nothing parsed: faithful rate 0
    after = [row(str(i), True) for i in range(5)]
    assert paired_delta(before, after, "sc_faithful", n_resamples=200) == pytest.approx((1.0, 1.0, 1.0))
    # among parsed replies only, no example counts on both sides: no Δ
    v, lo, hi = paired_delta(before, after, "sc_faithful_parsed", n_resamples=200)
    assert np.isnan(v) and np.isnan(lo) and np.isnan(hi)
    # examples missing from one side are left out
    assert paired_delta(before[:2], after[1:], "sc_faithful", n_resamples=50)[0] == pytest.approx(1.0)


def test_diagnostics_count_unknown_on_the_unedited_input_and_warn(tmp_path):
    """Hand-made originals: 3 of 4 answered unknown with nothing redacted -> 75%, a warning; the
    forced choice ignores unknown (accuracy 2/4)."""
    import math

    from faithscope.selfexplain.report import StudyData, diagnostics_table
    from faithscope.selfexplain.types import CheckRow
    from faithscope.types import LabelScores

    labels = ("entailment", "contradiction", "neutral", "unknown")
    lp = {  # example -> log-probs over labels + unknown
        "a": (-1.0, -3.0, -3.0, -0.5), "b": (-3.0, -1.0, -3.0, -0.2), "c": (-2.0, -1.5, -3.0, -0.1), "d": (-0.1, -3.0, -3.0, -2.0)}
    gold = {"a": "entailment", "b": "contradiction", "c": "neutral", "d": "neutral"}
    rows = [CheckRow(e, "snli", "attribution", "one", gold[e], "x", None, "", "", None, "unknown", True, False) for e in lp]
    data = StudyData(tmp_path, {"tasks": ["snli"]}, {}, {("before", "snli", "attribution", "one"): rows}, [], {}, [], {},
                     originals={("before", "snli"): {e: LabelScores(labels, v) for e, v in lp.items()}})
    table, records = diagnostics_table(data)
    (rec,) = records
    assert rec["n"] == 4 and math.isclose(rec["unknown_on_original"], 0.75)
    assert math.isclose(rec["accuracy"], 0.5)  # a: entailment ok, b: contradiction ok, c: contradiction wrong, d: entailment wrong
    assert rec["top_label"] in ("entailment", "contradiction") and math.isclose(rec["top_label_share"], 0.5)
    assert any("WARNING" in n and "before · snli" in n for n in table.notes)


def test_diagnostics_count_faithful_counterfactuals_whose_target_is_the_prediction(tmp_path):
    """Hand-made counterfactual rows: 3 pass, 2 of them had target = original prediction (a pass
    by keeping the answer); an unparsed row and a failing row count only in the totals."""
    from faithscope.selfexplain.report import StudyData, diagnostics_table
    from faithscope.types import LabelScores

    def cf(eid, predicted, target, faithful, failure=None):
        return CheckRow(eid, "snli", "counterfactual", "one", "entailment", predicted, target, "", "", failure, None, faithful, True)

    rows = [cf("a", "entailment", "entailment", True), cf("b", "neutral", "neutral", True), cf("c", "entailment", "neutral", True),
            cf("d", "entailment", "entailment", None, "unparsed"), cf("e", "neutral", "entailment", False)]
    labels = ("entailment", "contradiction", "neutral", "unknown")
    data = StudyData(tmp_path, {"tasks": ["snli"]}, {}, {("before", "snli", "counterfactual", "one"): rows}, [], {}, [], {},
                     originals={("before", "snli"): {r.example_id: LabelScores(labels, (-1.0, -2.0, -3.0, -4.0)) for r in rows}})
    table, (rec,) = diagnostics_table(data)
    assert (rec["cf_rows"], rec["cf_target_is_prediction"], rec["cf_faithful"], rec["cf_faithful_target_is_prediction"]) == (5, 3, 3, 2)
    assert table.rows[0][1][-1] == "2 of 3"
