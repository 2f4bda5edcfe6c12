"""Pearson, skewness and mean/std against hand-computed values and scipy."""

import math
import warnings

import numpy as np
import pytest
from scipy import stats

from faithscope.metrics.stats import Correlation, mean_std, pearson, skewness

FIXED = [
    [2.0, 8.0, 0.0, 4.0, 1.0, 9.0, 9.0, 0.0],
    [0.01, 0.02, 0.03, 0.5, 0.9, 0.02, 0.01, 3.2, 0.04],
    [-1.5, 2.25, 0.0, -0.75, 4.0],
]


def test_skewness_hand_computed():
    # [0, 0, 3]: mean 1, deviations -1, -1, 2; m2 = 6/3 = 2, m3 = 6/3 = 2; g1 = 2 / 2**1.5
    assert skewness([0, 0, 3]) == pytest.approx(1 / math.sqrt(2))
    assert skewness([1, 2, 3]) == pytest.approx(0.0)


@pytest.mark.parametrize("values", FIXED)
def test_skewness_matches_scipy_biased(values):
    assert skewness(values) == pytest.approx(stats.skew(values, bias=True), rel=1e-12)


def test_skewness_undefined_cases():
    assert math.isnan(skewness([]))
    assert math.isnan(skewness([4.0, 4.0, 4.0]))
    with pytest.raises(ValueError):
        skewness([1.0, float("nan")])


def test_pearson_hand_computed():
    # dx = -1,0,1; dy = -1,1,0: r = 1 / sqrt(2 * 2) = 0.5
    # t = 0.5 * sqrt(1) / sqrt(0.75) = 1/sqrt(3); df 1 (Cauchy): p = 2 * (1/2 - atan(t)/pi) = 2/3
    r, p = pearson([1, 2, 3], [1, 3, 2])
    assert r == pytest.approx(0.5)
    assert p == pytest.approx(2 / 3)


@pytest.mark.parametrize("x, y", [(FIXED[0][:5], FIXED[2]), (FIXED[1][:5], FIXED[2]), (FIXED[0], FIXED[0][::-1])])
def test_pearson_matches_scipy(x, y):
    res = stats.pearsonr(x, y)
    c = pearson(x, y)
    assert (c.r, c.p) == (pytest.approx(res[0], rel=1e-12), pytest.approx(res[1], rel=1e-9))
    assert c.n == len(x) and c.reason is None and c.defined


@pytest.mark.parametrize(
    "x, y, why",
    [
        ([1, 2, 3, 4], [0.5, 0.5, 0.5, 0.5], "y is constant"),
        ([2, 2, 2], [1, 2, 3], "x is constant"),
        ([1, 2], [2, 1], "at least 3"),
        ([1, 2, float("nan")], [1, 2, 3], "non-finite"),
    ],
)
def test_pearson_undefined_is_nan_with_reason_and_silent(x, y, why):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails the test
        c = pearson(x, y)
    assert isinstance(c, Correlation)
    assert math.isnan(c.r) and math.isnan(c.p) and not c.defined
    assert why in c.reason


def test_pearson_length_mismatch_raises():
    with pytest.raises(ValueError):
        pearson([1, 2, 3], [1, 2])


def test_mean_std():
    mean, std = mean_std([1, 2, 3, 4])
    assert mean == 2.5
    assert std == pytest.approx(math.sqrt(5 / 3))  # sum of squares 5, n - 1 = 3
    assert mean_std([1, 2, 3, 4], ddof=0)[1] == pytest.approx(math.sqrt(1.25))
    m, s = mean_std([7.0])
    assert m == 7.0 and math.isnan(s)
    assert all(math.isnan(v) for v in mean_std([]))
    assert mean_std(np.array([2.0, 2.0]))[1] == 0.0
