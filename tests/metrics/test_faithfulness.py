"""Faithfulness metrics on constructed label records with hand-computed expectations."""

import math

import numpy as np
import pytest

from faithscope.metrics.faithfulness import (
    AOPC_BINS,
    aopc,
    aopc_comprehensiveness,
    aopc_curve,
    aopc_per_example,
    aopc_sufficiency,
    comprehensiveness,
    flip_rate,
    flipped,
    logprob_change,
    sufficiency,
    target_logprobs,
    target_probs,
)
from faithscope.types import LabelScores


def test_flipped_and_flip_rate():
    orig = ["entailment", "neutral", "contradiction", "entailment"]
    masked = ["entailment", "contradiction", "contradiction", "neutral"]
    assert flipped(orig, masked) == [False, True, False, True]
    assert flip_rate(orig, masked) == 0.5
    assert flip_rate(["a", "b", "c"], ["b", "b", "c"]) == pytest.approx(1 / 3)


def test_flip_rate_edge_cases():
    assert math.isnan(flip_rate([], []))
    assert flip_rate(["a"], ["a"]) == 0.0
    with pytest.raises(ValueError):
        flip_rate(["a", "b"], ["a"])


def test_logprob_change_is_masked_minus_original():
    np.testing.assert_allclose(logprob_change([-1.0, -0.5], [-3.0, -0.25]), [-2.0, 0.25])
    with pytest.raises(ValueError):
        logprob_change([-1.0], [float("nan")])


def test_comprehensiveness_and_sufficiency():
    np.testing.assert_allclose(comprehensiveness([0.9, 0.6], [0.3, 0.7]), [0.6, -0.1])
    np.testing.assert_allclose(sufficiency([0.9, 0.6], [0.85, 0.2]), [0.05, 0.4])
    assert comprehensiveness([], []).size == 0


@pytest.mark.parametrize("bad", [[1.2], [-0.1], [float("nan")]])
def test_probabilities_are_validated(bad):
    with pytest.raises(ValueError):
        comprehensiveness([0.5], bad)


def test_aopc_hand_computed():
    p_orig = [0.8, 0.6]
    bins = {0.5: [0.2, 0.1], 0.01: [0.8, 0.6], 0.05: [0.7, 0.5]}  # unordered on purpose
    # drops: ex1 [0, 0.1, 0.6], ex2 [0, 0.1, 0.5]
    curve = aopc_curve(p_orig, bins)
    assert list(curve) == [0.01, 0.05, 0.5]
    assert [curve[b] for b in curve] == pytest.approx([0.0, 0.1, 0.55])
    np.testing.assert_allclose(aopc_per_example(p_orig, bins), [0.7 / 3, 0.6 / 3])
    assert aopc(p_orig, bins) == pytest.approx(1.3 / 6)  # no zero-removal point in the mean


def test_aopc_comprehensiveness_and_sufficiency_hand_computed():
    p_orig = [0.9, 0.5]
    # top 1% / 10% removed: drops ex1 0.9-0.7 = 0.2, 0.9-0.3 = 0.6; ex2 0.5-0.5 = 0, 0.5-0.1 = 0.4
    removed = {0.01: [0.7, 0.5], 0.10: [0.3, 0.1]}
    assert aopc_comprehensiveness(p_orig, removed) == pytest.approx((0.2 + 0.6 + 0.0 + 0.4) / 4)  # 0.3
    # only top 1% / 10% kept: ex1 0.9-0.4 = 0.5, 0.9-0.8 = 0.1; ex2 0.5-0.2 = 0.3, 0.5-0.6 = -0.1
    kept = {0.01: [0.4, 0.2], 0.10: [0.8, 0.6]}
    assert aopc_sufficiency(p_orig, kept) == pytest.approx((0.5 + 0.1 + 0.3 - 0.1) / 4)  # 0.2


def _eraser_instances_aopc(p_orig, bins):
    """ERASER rationale_benchmark/metrics.py::_instances_aopc: np.average of (beta_0 - beta_k)
    over an (instances x thresholds) array, thresholds sorted."""
    thresholds = sorted(bins)
    scores = np.array([[p0 - bins[t][i] for t in thresholds] for i, p0 in enumerate(p_orig)])
    return float(np.average(scores)), np.average(scores, axis=0).tolist()


def test_aopc_equals_erasers_instances_aopc_on_random_cases():
    rng = np.random.default_rng(3)
    for case in range(100):
        n = int(rng.integers(1, 12))
        p_orig = rng.random(n).tolist()
        removed = {b: rng.random(n).tolist() for b in AOPC_BINS}
        kept = {b: rng.random(n).tolist() for b in AOPC_BINS}
        want_c, points_c = _eraser_instances_aopc(p_orig, removed)
        want_s, _ = _eraser_instances_aopc(p_orig, kept)
        assert aopc_comprehensiveness(p_orig, removed) == pytest.approx(want_c), case
        assert aopc_sufficiency(p_orig, kept) == pytest.approx(want_s), case
        assert list(aopc_curve(p_orig, removed).values()) == pytest.approx(points_c), case


def test_aopc_errors_and_empty():
    with pytest.raises(ValueError):
        aopc([0.5], {})
    with pytest.raises(ValueError):
        aopc([0.5, 0.4], {0.1: [0.3]})
    assert math.isnan(aopc([], {b: [] for b in AOPC_BINS}))


LABELS = ("entailment", "neutral", "contradiction")


def _scores(probs, shift=0.0):
    """LabelScores whose raw log-probs are log(probs) + shift (unnormalised when shift != 0)."""
    return LabelScores(LABELS, tuple(math.log(p) + shift for p in probs))


def test_target_probs_use_original_prediction_and_renormalise():
    orig = [_scores([0.6, 0.3, 0.1]), _scores([0.1, 0.2, 0.7], shift=-1.0)]
    masked = [_scores([0.2, 0.5, 0.3], shift=-2.0), _scores([0.1, 0.8, 0.1])]
    p0, p1 = target_probs(orig, masked)
    # originally predicted: entailment, contradiction
    np.testing.assert_allclose(p0, [0.6, 0.7])
    np.testing.assert_allclose(p1, [0.2, 0.1])
    np.testing.assert_allclose(comprehensiveness(p0, p1), [0.4, 0.6])


def test_target_logprobs_raw_and_renormalised():
    orig = [_scores([0.6, 0.3, 0.1])]
    masked = [_scores([0.2, 0.5, 0.3], shift=-2.0)]
    l0, l1 = target_logprobs(orig, masked)
    np.testing.assert_allclose([l0[0], l1[0]], [math.log(0.6), math.log(0.2) - 2.0])
    l0, l1 = target_logprobs(orig, masked, renormalised=True)
    np.testing.assert_allclose([l0[0], l1[0]], [math.log(0.6), math.log(0.2)])
    np.testing.assert_allclose(logprob_change(l0, l1), [math.log(0.2 / 0.6)])


def test_target_probs_reject_mismatched_records():
    other = LabelScores(("yes", "no", "maybe"), (0.0, -1.0, -2.0))
    with pytest.raises(ValueError):
        target_probs([_scores([0.6, 0.3, 0.1])], [other])
    with pytest.raises(ValueError):
        target_probs([_scores([0.6, 0.3, 0.1])], [])
