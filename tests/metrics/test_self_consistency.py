"""Self-consistency rates against hand-computed values and an independent bootstrap."""

import math

import numpy as np
import pytest

from faithscope.metrics import METRICS, explained_word_rates, failure_counts, self_consistency_rates
from faithscope.metrics.self_consistency import RATE_METRICS, WORD_METRICS
from faithscope.selfexplain.types import CheckRow


def row(i, faithful, correct, failure=None):
    return CheckRow(example_id=str(i), task="t", style="attribution", mode="one", gold="a", predicted="a" if correct else "b",
                    target=None, reply="", explanation="", failure=failure, recheck=None if failure else "x",
                    faithful=None if failure else faithful, correct=correct)


# 6 rows: F = faithful, C = correct, U = unusable reply
ROWS = [row(0, True, True), row(1, True, False), row(2, False, True), row(3, False, False),
        row(4, None, True, failure="empty reply"), row(5, None, True, failure="no redaction marker")]


def test_rates_by_hand():
    r = self_consistency_rates(ROWS, n_resamples=200)
    assert (r["sc_faithful"].value, r["sc_faithful"].n) == (2 / 6, 6)  # unusable rows count as not faithful
    assert (r["sc_faithful_parsed"].value, r["sc_faithful_parsed"].n) == (2 / 4, 4)
    assert (r["sc_correct"].value, r["sc_correct"].n) == (4 / 6, 6)
    assert r["sc_faithful_correct"].value == 1 / 6
    assert r["sc_unparsed"].value == 2 / 6
    assert failure_counts(ROWS) == {"empty reply": 1, "no redaction marker": 1}
    for m in RATE_METRICS + WORD_METRICS:
        assert METRICS[m].family == "self_consistency"


def test_ci_is_the_percentile_bootstrap_of_the_rows():
    r = self_consistency_rates(ROWS, n_resamples=500, seed=7)
    v = np.array([1, 1, 0, 0, 0, 0], dtype=float)
    idx = np.random.default_rng(7).integers(0, 6, size=(500, 6))
    lo, hi = np.percentile(v[idx].mean(axis=1), [2.5, 97.5])
    assert r["sc_faithful"].ci == pytest.approx((lo, hi))
    # the parsed rate resamples all rows and leaves out the unusable ones in each resample
    p = np.array([1, 1, 0, 0, np.nan, np.nan])
    with np.errstate(all="ignore"):
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reps = np.nanmean(p[idx], axis=1)
    reps = reps[np.isfinite(reps)]
    assert r["sc_faithful_parsed"].ci == pytest.approx(tuple(np.percentile(reps, [2.5, 97.5])))


def test_empty_and_all_unparsed():
    r = self_consistency_rates([])
    assert math.isnan(r["sc_faithful"].value) and r["sc_faithful"].n == 0
    bad = self_consistency_rates(ROWS[4:])
    assert bad["sc_faithful"].value == 0.0 and bad["sc_unparsed"].value == 1.0 and bad["sc_faithful_parsed"].n == 0


def test_word_rates_leave_out_rows_without_words():
    recs = [{"flip": True, "random_flip": 0.5, "prob_drop": 0.4, "random_prob_drop": 0.1},
            {"flip": False, "random_flip": 0.0, "prob_drop": -0.2, "random_prob_drop": 0.3},
            {"flip": None, "random_flip": None, "prob_drop": None, "random_prob_drop": None}]
    r = explained_word_rates(recs, n_resamples=100)
    assert r["sc_word_flip"].value == 0.5 and r["sc_word_flip"].n == 2
    assert r["sc_word_flip_random"].value == 0.25
    assert r["sc_word_prob_drop"].value == pytest.approx(0.1) and r["sc_word_prob_drop_random"].value == pytest.approx(0.2)
