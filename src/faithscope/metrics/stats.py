"""Small statistics the reports need: Pearson correlation, skewness, mean and spread.

* :func:`pearson` wraps ``scipy.stats.pearsonr`` (correlations of accuracy, alignment and
  faithfulness across fine-tuning epochs, paper Tables 3/5). Across ten epochs a metric is
  often constant (e.g. a flip rate stuck at 0), where r is undefined: we return NaN with a
  reason instead of raising or printing a warning, so a report can say *why* a cell is empty.
* :func:`skewness` is the Fisher-Pearson coefficient g1 = m3 / m2**1.5 (biased moments, as
  ``scipy.stats.skew(bias=True)``), used to describe how concentrated attribution scores are.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np
from scipy import stats as _st


@dataclass(frozen=True)
class Correlation:
    """Pearson's r and its two-sided p-value; unpacks as ``r, p = pearson(x, y)``.

    ``reason`` says why r is NaN (too few points, constant input, non-finite values) or
    carries a caveat (near-constant input); ``None`` when the result is unremarkable.
    """

    r: float
    p: float
    n: int
    reason: str | None = None

    def __iter__(self) -> Iterator[float]:
        return iter((self.r, self.p))

    @property
    def defined(self) -> bool:
        return not math.isnan(self.r)


def _flat(name: str, xs: Sequence[float]) -> np.ndarray:
    v = np.asarray(xs, dtype=float)
    if v.ndim != 1:
        raise ValueError(f"{name} must be a flat sequence of numbers, got shape {v.shape}")
    return v


def pearson(x: Sequence[float], y: Sequence[float]) -> Correlation:
    """Pearson correlation of paired values, NaN (with a reason) where it is undefined.

    Undefined cases: fewer than 3 pairs (with 2 points r is always +-1, a meaningless p=1),
    non-finite values, or a constant ``x`` or ``y``. Lengths that differ are a caller error.
    """
    a, b = _flat("x", x), _flat("y", y)
    if a.size != b.size:
        raise ValueError(f"x and y must be paired; got {a.size} and {b.size} values")
    n = int(a.size)
    if n < 3:
        return Correlation(math.nan, math.nan, n, f"needs at least 3 pairs, got {n}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return Correlation(math.nan, math.nan, n, "non-finite values")
    for name, v in (("x", a), ("y", b)):
        if np.all(v == v[0]):
            return Correlation(math.nan, math.nan, n, f"{name} is constant")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = _st.pearsonr(a, b)
    r, p = float(res[0]), float(res[1])
    reason = None
    if caught:
        reason = "; ".join(sorted({str(w.message).splitlines()[0] for w in caught}))
    if math.isnan(r) and reason is None:
        reason = "undefined (scipy returned NaN)"
    return Correlation(r, p, n, reason)


def skewness(values: Sequence[float]) -> float:
    """Fisher-Pearson coefficient of skewness g1 = m3 / m2**1.5 with biased central moments.

    NaN for no values or (numerically) constant values, where it is undefined; scipy uses
    the same constancy test (``m2 <= (eps * mean)**2``).
    """
    v = _flat("values", values)
    if not np.all(np.isfinite(v)):
        raise ValueError("values must be finite numbers to compute skewness")
    if v.size == 0:
        return math.nan
    mean = v.mean()
    d = v - mean
    m2 = float(np.mean(d**2))
    m3 = float(np.mean(d**3))
    if m2 <= (np.finfo(float).eps * mean) ** 2 or m2 == 0:
        return math.nan
    return m3 / m2**1.5


def mean_std(values: Sequence[float], ddof: int = 1) -> tuple[float, float]:
    """Mean and standard deviation (sample std, ``ddof=1``, by default: spread over seeds or
    examples is an estimate). ``(nan, nan)`` for no values; std NaN when ``n <= ddof``."""
    v = _flat("values", values)
    if ddof < 0:
        raise ValueError(f"ddof must be >= 0, got {ddof}")
    if v.size == 0:
        return (math.nan, math.nan)
    std = float(v.std(ddof=ddof)) if v.size > ddof else math.nan
    return (float(v.mean()), std)
