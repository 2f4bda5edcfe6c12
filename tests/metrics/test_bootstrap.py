"""Bootstrap CIs: determinism, agreement with a hand-written resampling loop, edge cases."""

import math

import numpy as np
import pytest
from scipy import stats

from faithscope.metrics.alignment import micro_f1
from faithscope.metrics.bootstrap import bootstrap_ci, bootstrap_ci_indices, percentile_interval

VALUES = [0.0, 1.0, 1.0, 0.0, 1.0, 0.5, 0.25, 0.0, 1.0, 0.75, 0.2, 0.9]


def _reference(values, statistic, n_resamples, seed, confidence=0.95):
    """Textbook percentile bootstrap: one resample per loop step, same numpy Generator."""
    rng = np.random.default_rng(seed)
    v = np.asarray(values, dtype=float)
    reps = [statistic(v[rng.integers(0, len(v), size=len(v))]) for _ in range(n_resamples)]
    a = (1 - confidence) / 2
    return tuple(np.percentile(reps, [100 * a, 100 * (1 - a)]))


def test_deterministic_given_seed():
    assert bootstrap_ci(VALUES, seed=3) == bootstrap_ci(VALUES, seed=3)
    assert bootstrap_ci(VALUES, seed=3) != bootstrap_ci(VALUES, seed=4)


@pytest.mark.parametrize("statistic", [np.mean, np.median])
@pytest.mark.parametrize("confidence", [0.95, 0.8])
def test_matches_reference_loop(statistic, confidence):
    got = bootstrap_ci(VALUES, statistic, n_resamples=500, seed=7, confidence=confidence)
    want = _reference(VALUES, statistic, 500, 7, confidence)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def test_non_vectorised_statistic_matches_vectorised():
    def trimmed(x):  # takes no axis argument -> row-by-row loop
        return float(np.sort(x)[1:-1].mean())

    got = bootstrap_ci(VALUES, trimmed, n_resamples=300, seed=1)
    np.testing.assert_allclose(got, _reference(VALUES, trimmed, 300, 1), atol=1e-12)
    with pytest.raises(TypeError):
        bootstrap_ci(VALUES, trimmed, n_resamples=10, vectorized=True)


def test_contains_point_estimate():
    values = np.arange(1, 21, dtype=float)
    lo, hi = bootstrap_ci(values)
    assert lo < values.mean() < hi
    assert 1 <= lo and hi <= 20


def test_close_to_scipy_percentile_bootstrap():
    # different random streams: only loose agreement is expected
    values = np.linspace(0, 1, 40) ** 2
    ours = bootstrap_ci(values, n_resamples=4000, seed=0)
    res = stats.bootstrap((values,), np.mean, n_resamples=4000, method="percentile", rng=np.random.default_rng(1))
    theirs = (res.confidence_interval.low, res.confidence_interval.high)
    np.testing.assert_allclose(ours, theirs, atol=0.02)


def test_empty_and_constant():
    assert all(math.isnan(x) for x in bootstrap_ci([]))
    assert all(math.isnan(x) for x in bootstrap_ci_indices(0, lambda idx: 0.0))
    assert bootstrap_ci([0.3, 0.3, 0.3]) == pytest.approx((0.3, 0.3))


def test_indices_variant_equals_values_variant_for_the_mean():
    v = np.asarray(VALUES)
    by_index = bootstrap_ci_indices(len(v), lambda idx: v[idx].mean(), n_resamples=200, seed=5)
    np.testing.assert_allclose(by_index, bootstrap_ci(v, n_resamples=200, seed=5), atol=1e-12)


def test_indices_variant_for_micro_f1():
    pairs = [({0}, {0}), ({0, 1, 2, 3}, {0}), (set(), {5, 6}), ({1, 2}, {2, 3})]
    n_res, seed = 300, 2
    rng = np.random.default_rng(seed)
    reps = [micro_f1([pairs[i] for i in rng.integers(0, 4, size=4)]) for _ in range(n_res)]
    want = tuple(np.percentile(reps, [2.5, 97.5]))
    got = bootstrap_ci_indices(len(pairs), lambda idx: micro_f1([pairs[i] for i in idx]), n_res, seed)
    np.testing.assert_allclose(got, want, atol=1e-12)
    assert got[0] <= micro_f1(pairs) <= got[1]


def test_nan_replicates_are_ignored():
    assert percentile_interval([float("nan"), 1.0, 1.0]) == (1.0, 1.0)
    assert all(math.isnan(x) for x in percentile_interval([float("nan")]))


@pytest.mark.parametrize("kwargs", [{"confidence": 1.0}, {"confidence": 0.0}, {"n_resamples": 0}])
def test_invalid_arguments(kwargs):
    with pytest.raises(ValueError):
        bootstrap_ci(VALUES, **kwargs)
