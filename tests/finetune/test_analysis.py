"""Tables 3/5 correlations and the attribution skewness, against scipy on fixed numbers."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from faithscope.finetune.analysis import markdown_summary, per_example_skewness, skewness_summary, table3, table5
from faithscope.reports.rundata import RunData
from faithscope.types import Rationale

ACC = [0.33, 0.41, 0.52, 0.58, 0.61]
F1_IXG = [0.30, 0.33, 0.37, 0.41, 0.40]
F1_PROMPT = [0.45, 0.40, 0.44, 0.39, 0.42]
FLIP_IXG = [0.00, 0.12, 0.25, 0.31, 0.35]
FLIP_ALL = [0.00, 0.20, 0.41, 0.55, 0.60]

EPOCHS = {e: {"accuracy": ACC[e], "alignment": {"input_x_gradient": F1_IXG[e], "prompt-topk": F1_PROMPT[e]},
              "flip_rate": {"input_x_gradient": FLIP_IXG[e], "all": FLIP_ALL[e], "prompt-topk": 0.0},
              "mask_all_flip_rate": FLIP_ALL[e], "zero_rate": 0.344, "label_distribution": {"entailment": 1.0 - 0.1 * e, "neutral": 0.1 * e}}
          for e in range(5)}


def test_table3_matches_scipy_pearsonr():
    t3 = table3(EPOCHS)
    for method, ys in (("input_x_gradient", F1_IXG), ("prompt-topk", F1_PROMPT)):
        ref = stats.pearsonr(ACC, ys)
        assert t3[method].r == pytest.approx(ref.statistic, abs=1e-12)
        assert t3[method].p == pytest.approx(ref.pvalue, abs=1e-12)
        assert t3[method].n == 5


def test_table5_matches_scipy_and_says_why_a_constant_series_has_no_r():
    t5 = table5(EPOCHS)
    for method, ys in (("input_x_gradient", FLIP_IXG), ("all", FLIP_ALL)):
        ref = stats.pearsonr(ACC, ys)
        assert (t5[method].r, t5[method].p) == (pytest.approx(ref.statistic, abs=1e-12), pytest.approx(ref.pvalue, abs=1e-12))
    assert math.isnan(t5["prompt-topk"].r) and "constant" in t5["prompt-topk"].reason


def test_fixed_numbers_by_hand():
    # r from the definition, p from the t distribution with n - 2 degrees of freedom
    a, b = np.asarray(ACC), np.asarray(F1_IXG)
    r_ref = float(((a - a.mean()) * (b - b.mean())).sum() / np.sqrt(((a - a.mean()) ** 2).sum() * ((b - b.mean()) ** 2).sum()))
    p_ref = float(2 * stats.t.sf(abs(r_ref) * np.sqrt(3 / (1 - r_ref**2)), 3))
    r, p = table3(EPOCHS)["input_x_gradient"]
    assert r == pytest.approx(0.985006, abs=1e-6) and r == pytest.approx(r_ref, abs=1e-12)
    assert p == pytest.approx(0.002199, abs=1e-6) and p == pytest.approx(p_ref, rel=1e-9)


def _run(scores: dict[str, list[float]]) -> RunData:
    rats = {eid: Rationale("input_x_gradient", (0,), "entailment", 1, tuple(s)) for eid, s in scores.items()}
    return RunData(Path("."), {}, [], {}, {("input_x_gradient", "faithfulness"): rats}, [], {})


def test_per_example_skewness_matches_scipy_skew():
    scores = {"a": [0.1, 0.2, 0.15, 3.0, 0.05], "b": [1.0, 2.0, 3.0, 4.0, 10.0, 0.5], "c": [1.0, 1.0, 1.0], "d": [0.3, 0.1]}
    got = per_example_skewness(_run(scores))
    assert set(got) == {"a", "b"}  # constant scores and fewer than 3 words: undefined, left out
    for eid in ("a", "b"):
        assert got[eid] == pytest.approx(float(stats.skew(scores[eid], bias=True)), abs=1e-12)
    summary = skewness_summary(_run(scores))
    values = [stats.skew(scores[k], bias=True) for k in ("a", "b")]
    assert summary["n"] == 2
    assert summary["mean"] == pytest.approx(np.mean(values)) and summary["std"] == pytest.approx(np.std(values, ddof=1))


def test_markdown_summary_lists_epochs_and_tables():
    md = markdown_summary(EPOCHS, None, ["prompt-topk", "input_x_gradient", "all"])
    assert "| 4 |" in md and "Tables 3 and 5" in md and "0.99 (0.00)" in md
