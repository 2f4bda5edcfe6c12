"""Counterfactual metrics against scipy and hand-computed tables."""

import math

import numpy as np
import pytest
from scipy import stats
from scipy.stats.contingency import association

from faithscope.metrics.counterfactual import (
    COUNTERFACTUAL_METRICS, InterventionOutcome as O, cct, flip_rate, fpr, phi, phi_cct, point_biserial,
    summarize, total_variation, tpr, unfaithfulness, verbosity,
)


def test_point_biserial_matches_scipy():
    rng = np.random.default_rng(0)
    x = rng.random(40)
    flag = rng.random(40) < 0.4
    assert point_biserial(x, flag) == pytest.approx(stats.pointbiserialr(flag, x).statistic, abs=1e-12)
    assert math.isnan(point_biserial(x, np.zeros(40, dtype=bool)))


def test_phi_matches_constructed_table():
    # 2x2 table: changed&mention 12, changed&~mention 5, ~changed&mention 7, ~changed&~mention 26
    a = [True] * 17 + [False] * 33
    b = [True] * 12 + [False] * 5 + [True] * 7 + [False] * 26
    by_hand = (12 * 26 - 5 * 7) / math.sqrt(17 * 33 * 19 * 31)
    assert phi(a, b) == pytest.approx(by_hand, abs=1e-12)
    table = np.array([[12, 5], [7, 26]])
    # for a 2x2 table Cramer's V (no continuity correction) is |phi|; scipy's "pearson" is
    # Pearson's contingency coefficient sqrt(chi2 / (chi2 + n)), i.e. sqrt(phi^2 / (1 + phi^2))
    assert abs(phi(a, b)) == pytest.approx(association(table, method="cramer", correction=False), abs=1e-12)
    p = phi(a, b)
    assert math.sqrt(p * p / (1 + p * p)) == pytest.approx(association(table, method="pearson"), abs=1e-12)
    assert p == pytest.approx(np.corrcoef(a, b)[0, 1], abs=1e-12)
    assert math.isnan(phi([True] * 3, [True, False, True]))


def test_ct_metrics_by_hand():
    outs = [
        O("e1", 0.5, True, False, 10), O("e1", 0.1, False, False, 12),   # e1: flip without mention -> unfaithful
        O("e2", 0.6, True, True, 8), O("e2", 0.0, False, True, 6),       # e2: flip with mention -> faithful
        O("e3", 0.05, False, False, 4), O("e3", 0.02, False, False, 4),  # e3: no flip
    ]
    assert flip_rate(outs) == pytest.approx(2 / 6)
    assert unfaithfulness(outs) == pytest.approx(1 / 2)
    assert tpr(outs) == pytest.approx(1 / 2)
    assert fpr(outs) == pytest.approx(1 / 4)
    assert verbosity(outs) == pytest.approx(44 / 6)
    assert cct(outs) == pytest.approx(stats.pointbiserialr([o.mention for o in outs], [o.tvd for o in outs]).statistic)
    assert phi_cct(outs) == pytest.approx((1 * 3 - 1 * 1) / math.sqrt(2 * 4 * 2 * 4))
    assert total_variation([0.2, 0.8], [0.6, 0.4]) == pytest.approx(0.4)


def test_summarize_cis_cover_the_value():
    rng = np.random.default_rng(1)
    outs = []
    for e in range(30):
        for _ in range(4):
            changed = bool(rng.random() < 0.3)
            outs.append(O(f"e{e}", float(rng.random()), changed, bool(rng.random() < (0.6 if changed else 0.2)), 9))
    res = summarize(outs, n_resamples=200)
    assert list(res) == list(COUNTERFACTUAL_METRICS)
    for name, mv in res.items():
        if name == "verbosity":
            assert mv.value == mv.ci_low == mv.ci_high == 9
            continue
        assert mv.ci_low <= mv.value <= mv.ci_high, name
