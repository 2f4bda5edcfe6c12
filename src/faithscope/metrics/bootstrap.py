"""Seeded percentile-bootstrap confidence intervals for per-example metrics.

Every table cell in a report carries a CI, so it must be reproducible: the resampling uses
``numpy.random.default_rng(seed)`` and draws all example indices at once as an
``(n_resamples, n)`` array of ``rng.integers(0, n)``. Both functions draw the same indices for
the same ``(n, n_resamples, seed)``, so a mean computed either way gets the same interval.

:func:`bootstrap_ci` is for statistics of a flat list of per-example values (mean flip,
per-example F1 -> macro F1). :func:`bootstrap_ci_indices` is for statistics that need the
whole per-example records, such as micro F1 (pooled counts): it resamples example indices
and hands each index array to ``stat_fn``.

Resamples on which the statistic is NaN (e.g. a correlation of a constant resample) are left
out of the percentiles; if none is finite, or there are no examples, the CI is ``(nan, nan)``.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np

Statistic = Callable[..., float]


def _check(n_resamples: int, confidence: float) -> None:
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, int) or n_resamples < 1:
        raise ValueError(f"n_resamples must be a positive integer, got {n_resamples!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence}")


def resample_indices(n: int, n_resamples: int = 1000, seed: int = 0) -> np.ndarray:
    """The ``(n_resamples, n)`` array of example indices both bootstrap functions use."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    rng = np.random.default_rng(seed)
    return rng.integers(0, n, size=(n_resamples, n)) if n else np.empty((n_resamples, 0), dtype=np.int64)


def percentile_interval(stats: Sequence[float], confidence: float = 0.95) -> tuple[float, float]:
    """The central ``confidence`` interval of bootstrap replicates (NaN replicates ignored)."""
    v = np.asarray(stats, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return (math.nan, math.nan)
    alpha = (1 - confidence) / 2
    lo, hi = np.percentile(v, [100 * alpha, 100 * (1 - alpha)])
    return (float(lo), float(hi))


def _replicates(samples: np.ndarray, statistic: Statistic, vectorized: bool | None) -> np.ndarray:
    """Apply ``statistic`` to each row: along ``axis=-1`` in one call when it supports that
    (numpy reductions do), otherwise row by row."""
    if vectorized is not False:
        try:
            out = np.asarray(statistic(samples, axis=-1), dtype=float)
        except TypeError:
            if vectorized:
                raise
        else:
            if out.shape == (samples.shape[0],):
                return out
            if vectorized:
                raise ValueError(f"statistic(samples, axis=-1) gave shape {out.shape}, expected ({samples.shape[0]},)")
    return np.array([float(statistic(row)) for row in samples], dtype=float)


def bootstrap_ci(
    values: Sequence[float],
    statistic: Statistic = np.mean,
    n_resamples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    vectorized: bool | None = None,
) -> tuple[float, float]:
    """Percentile-bootstrap CI of ``statistic`` over per-example ``values``.

    ``vectorized=None`` tries ``statistic(samples, axis=-1)`` and falls back to a loop;
    ``True``/``False`` force one way. Empty ``values`` give ``(nan, nan)``.
    """
    _check(n_resamples, confidence)
    v = np.asarray(values, dtype=float)
    if v.ndim != 1:
        raise ValueError(f"values must be a flat sequence of numbers, got shape {v.shape}")
    if v.size == 0:
        return (math.nan, math.nan)
    samples = v[resample_indices(v.size, n_resamples, seed)]
    return percentile_interval(_replicates(samples, statistic, vectorized), confidence)


def bootstrap_ci_indices(
    n: int,
    stat_fn: Callable[[np.ndarray], float],
    n_resamples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> tuple[float, float]:
    """Percentile-bootstrap CI of a statistic of resampled *examples*.

    ``stat_fn`` receives one resample as an array of ``n`` example indices (with repeats) and
    returns the statistic recomputed on those examples, e.g.
    ``lambda idx: micro_f1([pairs[i] for i in idx])``. ``n == 0`` gives ``(nan, nan)``.
    """
    _check(n_resamples, confidence)
    idx = resample_indices(n, n_resamples, seed)
    if n == 0:
        return (math.nan, math.nan)
    return percentile_interval([float(stat_fn(row)) for row in idx], confidence)
