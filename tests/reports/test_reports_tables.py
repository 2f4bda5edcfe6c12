"""Table 2 / Table 4 numbers and the first outputs on the tiny hand-written store (conftest),
checked against hand-computed values and against scikit-learn computed independently."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass

import numpy as np
import pytest

import faithscope.metrics as fm
from faithscope.reports import build_report
from faithscope.reports.compose import metric_columns
from faithscope.reports.render import metric_header
from faithscope.reports.rundata import load_run
from faithscope.reports.summary import MASK_ALL_THRESHOLD, summarize
from faithscope.reports.tables import NO_SCORES, alignment_row, alignment_rows, faithfulness_rows
from faithscope.types import Rationale

from .conftest import ATTENTION_SCORES

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


def _word_labels(data, method):
    """Per example: (human 0/1 per word, selected 0/1 per word, field starts), from the store."""
    out = []
    rats = data.rationales[(method, "alignment")]
    for e in data.examples:
        n = e["n_words"]
        y = np.zeros(n, dtype=int)
        y[list(e["human"])] = 1
        p = np.zeros(n, dtype=int)
        p[list(rats[e["id"]].positions)] = 1
        starts = np.cumsum([0] + [len(w) for w in e["fields"].values()])[:-1].tolist()
        out.append((y, p, starts))
    return out


@pytest.mark.parametrize("method", ["attention", "prompt-topk", "human"])
def test_table2_f1s_equal_scikit_learn_on_word_labels(tiny_run, method):
    """Micro F1 = sklearn's binary F1 over all words of all examples concatenated; the macros =
    the mean of sklearn's per-instance F1 over instances with a human word or a selection."""
    sk = pytest.importorskip("sklearn.metrics")
    data = load_run(tiny_run)
    row = {r.method: r for r in alignment_rows(data, R)}[method]
    labels = _word_labels(data, method)
    y_all, p_all = np.concatenate([y for y, _, _ in labels]), np.concatenate([p for _, p, _ in labels])
    assert row.micro_f1 == pytest.approx(sk.f1_score(y_all, p_all, zero_division=0))
    assert row.precision == pytest.approx(sk.precision_score(y_all, p_all, zero_division=0))
    assert row.recall == pytest.approx(sk.recall_score(y_all, p_all, zero_division=0))
    per_example = [sk.f1_score(y, p, zero_division=0) for y, p, _ in labels if y.any() or p.any()]
    assert row.macro_f1 == pytest.approx(np.mean(per_example))
    per_field = [sk.f1_score(y[lo:hi], p[lo:hi], zero_division=0) for y, p, st in labels
                 for lo, hi in zip(st, st[1:] + [len(y)]) if y[lo:hi].any() or p[lo:hi].any()]
    assert row.metrics["alignment_f1_macro_field"] == pytest.approx(np.mean(per_field))


def test_field_macro_and_iou_hand_computed(tiny_run):
    att = rows_by_method(alignment_rows(load_run(tiny_run), R))["attention"]
    # fields e1 0-3 | 4, e2 0-1 | 2-3, e3 0-2 | 3-5. Instances with a human word or a selection:
    # e1 premise pred {1,3} gold {1,2}: F1 1/2; e2 premise {0} vs {0}: 1; e3 premise {0,1} vs {}: 0;
    # e3 hypothesis {5} vs {3,4,5}: P 1, R 1/3, F1 1/2 -> (1/2 + 1 + 0 + 1/2) / 4 = 1/2
    assert att.macro_f1_field == pytest.approx(0.5)
    # spans: e1 [1,2) hits [1,3) (IOU 1/2), [3,4) misses: P 1/2, R 1; e2 P 1, R 1; e3 premise [0,2) no
    # gold: P 0; e3 hypothesis [5,6) vs [3,6): IOU 1/3 misses: P 0, R 0.
    # mean P (1/2 + 1 + 0 + 0)/4 = 3/8, mean R (1 + 1 + 0)/3 = 2/3 -> F1 (1/2)/(25/24) = 12/25
    assert att.metrics["iou_f1"] == pytest.approx(12 / 25)
    # micro: 2 hits, 5 predicted spans, 3 gold spans -> P 2/5, R 2/3, F1 1/2
    assert att.metrics["iou_f1_micro"] == pytest.approx(0.5)


def test_human_macro_is_100_with_an_empty_human_rationale():
    # ERASER leaves an example with neither a human rationale nor a prediction out (it was a 0)
    human = {"a": [0, 1], "b": []}
    rats = {eid: Rationale("human", tuple(g), "x", len(g)) for eid, g in human.items()}
    row = alignment_row("human", rats, human, n_resamples=R, starts={"a": [0, 2], "b": [0, 3]})
    assert row.macro_f1 == pytest.approx(1.0) and row.macro_f1_field == pytest.approx(1.0)
    assert row.micro_f1 == pytest.approx(1.0) and row.metrics["iou_f1"] == pytest.approx(1.0)
    assert row.empty_gold == 1


def test_auprc_of_a_scored_method_against_hand_and_scikit_learn(make_run):
    sk = pytest.importorskip("sklearn.metrics")
    data = load_run(make_run("scored", attention_scores=True))
    rows = rows_by_method(alignment_rows(data, R))
    # e1 premise scores (.1 .9 .2 .8), human {1, 2}: points (R, P) (1/2, 1) (1/2, 1/2) (1, 2/3) (1, 1/2)
    #   -> 1/2 + 7/24 = 19/24; e1's hypothesis and e3's premise have no human word (left out);
    # e2 premise (.5 .1), human {0}: 1; e3 hypothesis all human words: 1 -> (19/24 + 2) / 3 = 67/72
    assert rows["attention"].metrics["auprc"] == pytest.approx(67 / 72)
    want = []
    for e in data.examples:
        scores = ATTENTION_SCORES[e["id"]]
        bounds = np.cumsum([0] + [len(w) for w in e["fields"].values()]).tolist()
        for lo, hi in zip(bounds, bounds[1:]):
            y = [int(i in e["human"]) for i in range(lo, hi)]
            if any(y):
                p, r, _ = sk.precision_recall_curve(y, scores[lo:hi])
                want.append(sk.auc(r, p))
    assert rows["attention"].metrics["auprc"] == pytest.approx(np.mean(want))
    for method in ("prompt-topk", "random", "human"):
        assert rows[method].metrics["auprc"] is None and rows[method].reasons["auprc"] == NO_SCORES


def test_table2_outputs_report_iou_and_auprc_with_registry_headers(make_run, tmp_path):
    result = build_report([make_run("scored", attention_scores=True)], tmp_path / "rep", bootstrap_resamples=R)
    md = (tmp_path / "rep" / "table2_alignment.md").read_text()
    header = next(line for line in md.splitlines() if line.startswith("| Method"))
    cells = [c.strip() for c in header.strip("|").split("|")]
    assert cells[2:10] == ["micro F1 ↑", "95% CI", "macro F1 /example ↑", "macro F1 /field (ERASER) ↑", "IOU-F1 ↑", "AUPRC ↑", "P ↑", "R ↑"]
    assert cells[2:10:1] == [metric_header(m.name) if m else "95% CI" for m in
                             [fm.get_metric("alignment_f1_micro"), None, *fm.table_metrics(2)[1:]]]
    att = [c.strip() for c in next(line for line in md.splitlines() if line.startswith("| Attention")).strip("|").split("|")]
    assert att[2] == "50.00" and att[5] == "50.00" and att[6] == "48.00" and att[7] == f"{100 * 67 / 72:.2f}"
    prompt = [c.strip() for c in next(line for line in md.splitlines() if line.startswith("| Prompting")).strip("|").split("|")]
    assert prompt[7] == "–"
    assert f"AUPRC ↑ blank (–) for Prompting TOP-VAR, Random TOP-VAR, Human HUMAN: {NO_SCORES}." in md
    tex = (tmp_path / "rep" / "table2_alignment.tex").read_text()
    assert r"AUPRC $\uparrow$" in tex and r"IOU-F1 $\uparrow$" in tex and f"{100 * 67 / 72:.2f}" in tex
    with open(tmp_path / "rep" / "table2_alignment.csv", newline="") as f:
        recs = {r["method"]: r for r in csv.DictReader(f)}
    assert float(recs["attention"]["auprc"]) == pytest.approx(67 / 72)
    assert float(recs["attention"]["iou_f1"]) == pytest.approx(12 / 25)
    assert float(recs["attention"]["alignment_f1_macro_field"]) == pytest.approx(0.5)
    assert recs["human"]["auprc"] == "" and recs["human"]["auprc_missing_reason"] == NO_SCORES
    assert result.html is not None and "AUPRC ↑" in result.html.read_text()


@dataclass
class _T4Row:
    method: str
    flip_rate: float


def test_a_new_registry_metric_becomes_a_column_by_itself(monkeypatch):
    toy = fm.MetricInfo("toy_score", "a test metric", (0.0, 1.0), False, "alignment", "toy", 2)
    monkeypatch.setitem(fm.METRICS, "toy_score", toy)
    row = alignment_row("human", {"a": Rationale("human", (0,), "x", 1)}, {"a": [0]}, n_resamples=R)
    row.metrics["toy_score"] = 0.25
    cols = metric_columns(2, [row])
    toy_col = next(c for c in cols if c.header == "toy ↓")
    assert toy_col.cell(row) == "25.00"
    # Table 4 rows keep values as attributes: the same column mechanism reads them
    flip = next(c for c in metric_columns(4, [_T4Row("x", 0.5)]) if c.header == "flip rate ↑")
    assert flip.cell(_T4Row("x", 0.5)) == "50.00"
    assert math.isclose(flip.diff(_T4Row("x", 0.5)), 0.5)


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
