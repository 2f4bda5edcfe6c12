"""Table 2 / Table 4 numbers and the first outputs on the tiny hand-written store (conftest)."""

from __future__ import annotations

import pytest

from faithscope.metrics import micro_prf
from faithscope.reports.rundata import load_run
from faithscope.reports.summary import MASK_ALL_THRESHOLD, summarize
from faithscope.reports.tables import _pooled_f1, alignment_rows, faithfulness_rows

R = 50  # bootstrap resamples: enough to exercise the code, fast


def rows_by_method(rows):
    return {r.method: r for r in rows}


def test_alignment_micro_macro_against_hand_computed(tiny_run):
    t2 = rows_by_method(alignment_rows(load_run(tiny_run), R))
    att = t2["attention"]
    assert att.n == 3
    assert att.micro_f1 == pytest.approx(0.5) and att.precision == pytest.approx(0.5) and att.recall == pytest.approx(0.5)
    assert att.macro_f1 == pytest.approx((0.5 + 1 + 1 / 3) / 3)
    assert att.micro_ci[0] <= att.micro_f1 <= att.micro_ci[1]
    assert att.parse_fail is None and att.not_found is None
    assert t2["human"].micro_f1 == pytest.approx(1.0) and t2["human"].macro_f1 == pytest.approx(1.0)


def test_prompting_row_parse_failures_and_words_not_in_input(tiny_run):
    p = rows_by_method(alignment_rows(load_run(tiny_run), R))["prompt-topk"]
    assert (p.precision, p.recall, p.micro_f1) == pytest.approx((1.0, 0.5, 2 / 3))
    assert p.macro_f1 == pytest.approx((2 / 3 + 0 + 0.8) / 3)  # the unparsed reply is an empty rationale
    assert p.parse_fail == pytest.approx(1 / 3)
    assert p.not_found == pytest.approx(2 / 5)  # 2 of 5 reply words are not in the input
    assert p.name == "Prompting" and p.selection == "TOP-VAR"


def test_random_row_averages_over_all_draws(tiny_run):
    r = rows_by_method(alignment_rows(load_run(tiny_run), R))["random"]
    assert r.draws == 2
    assert r.micro_f1 == pytest.approx(0.5)  # draw 0 perfect, draw 1 disjoint
    assert r.macro_f1 == pytest.approx(0.5)
    assert r.precision == pytest.approx(0.5) and r.recall == pytest.approx(0.5)
    # every resample of the CI averages the two draws too: 1 and 0 -> exactly 0.5
    assert r.micro_ci == pytest.approx((0.5, 0.5))


def test_pooled_f1_matches_the_metrics_module():
    pairs = [({1, 2, 3}, {2, 3}), (set(), {0}), ({4}, set())]
    m = micro_prf(pairs)
    assert _pooled_f1(m.tp, m.n_pred, m.n_gold) == pytest.approx(m.f1)
    assert _pooled_f1(0, 0, 0) == 0.0


def test_flip_rate_logprob_change_and_comprehensiveness(tiny_run):
    t4 = rows_by_method(faithfulness_rows(load_run(tiny_run), n_resamples=R))
    att = t4["attention"]
    assert att.n == 3 and att.flip_rate == pytest.approx(2 / 3)
    assert att.logprob_change == pytest.approx((-2.0 - 0.5 + 0.0) / 3)
    assert att.comprehensiveness == pytest.approx((0.4 + 0.1 + 0.0) / 3)
    assert att.logprob_ci[0] <= att.logprob_change <= att.logprob_ci[1]
    assert att.mean_masked == pytest.approx(2.0)
    assert t4["all-words"].flip_rate == pytest.approx(1 / 3)
    assert t4["prompt-topk"].parse_fail == pytest.approx(1 / 3)  # faithfulness replies: e3 unparsed
    assert [r.method for r in faithfulness_rows(load_run(tiny_run), n_resamples=R)][:1] == ["all-words"]


def test_first_outputs(tiny_run):
    s = summarize(load_run(tiny_run), R)
    assert s.n_examples == 3 and s.accuracy == pytest.approx(2 / 3)
    assert s.majority_label == "entailment" and s.zero_rate == pytest.approx(2 / 3)
    assert s.pred_counts == {"entailment": 1, "neutral": 1, "contradiction": 1}
    assert s.gold_counts == {"entailment": 2, "neutral": 0, "contradiction": 1}
    assert s.mask_all is not None and not s.mask_all.low and s.warnings == []
    assert s.peak_rss_mib == 100.0 and s.timings["label_scoring"] == (1.5, 3)


def test_mask_all_warning_when_the_model_ignores_its_input(make_run):
    s = summarize(load_run(make_run("deaf", all_flips=(0, 0, 0))), R)
    assert s.mask_all.flip_rate == 0.0 < MASK_ALL_THRESHOLD and s.mask_all.low
    assert any("barely reads its input" in w for w in s.warnings)
