"""Counterfactual-test metrics of free-text self-explanations (pure functions).

Input: one :class:`InterventionOutcome` per intervention (which example it belongs to, the
total variation distance between the label distributions before/after, whether the predicted
label changed, whether the explanation on the edited input mentions the inserted word, and
that explanation's length in words).

* ``ct_flip_rate`` — share of interventions that change the prediction (Atanasova et al. 2023);
* ``ct_unfaithfulness`` — among examples with at least one flipping intervention, the share
  having a flipping intervention whose explanation does **not** mention the inserted word;
* ``cct`` — point-biserial correlation, over all interventions, between TVD and mention
  (Siegel et al. 2024); NaN when either is constant;
* ``phi_cct`` — φ coefficient between "prediction changed" and mention (Siegel et al. 2025);
  needs no probabilities; NaN when a margin is empty;
* ``tpr`` = P(mention | changed), ``fpr`` = P(mention | unchanged);
* ``verbosity`` — mean words per explanation (over interventions).

Confidence intervals resample **examples** (all interventions of an example together).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from .bootstrap import bootstrap_ci_indices

COUNTERFACTUAL_METRICS = ("ct_flip_rate", "ct_unfaithfulness", "cct", "phi_cct", "tpr", "fpr", "verbosity")


@dataclass(frozen=True)
class InterventionOutcome:
    example: str
    tvd: float
    changed: bool
    mention: bool
    n_words: int


def total_variation(p: Sequence[float], q: Sequence[float]) -> float:
    """½ Σ|p_i − q_i| of two distributions over the same labels (NaN if either has NaN)."""
    a, b = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"distributions of different sizes: {a.shape} vs {b.shape}")
    return float(0.5 * np.abs(a - b).sum())


def point_biserial(x: Sequence[float], flag: Sequence[bool]) -> float:
    """Pearson correlation of a continuous ``x`` with a binary ``flag`` (= point-biserial r)."""
    xs, ys = np.asarray(x, dtype=float), np.asarray(flag, dtype=float)
    keep = np.isfinite(xs)
    xs, ys = xs[keep], ys[keep]
    if xs.size < 2 or xs.std() == 0 or ys.std() == 0:
        return math.nan
    return float(np.corrcoef(xs, ys)[0, 1])


def phi(a: Sequence[bool], b: Sequence[bool]) -> float:
    """φ coefficient of two binary variables from their 2×2 table: (n11 n00 − n10 n01) /
    sqrt(n1· n0· n·1 n·0); NaN when a margin is zero."""
    x, y = np.asarray(a, dtype=bool), np.asarray(b, dtype=bool)
    n11 = float(np.sum(x & y)); n00 = float(np.sum(~x & ~y))
    n10 = float(np.sum(x & ~y)); n01 = float(np.sum(~x & y))
    denom = (n11 + n10) * (n01 + n00) * (n11 + n01) * (n10 + n00)
    if denom == 0:
        return math.nan
    return (n11 * n00 - n10 * n01) / math.sqrt(denom)


def _rate(num: np.ndarray, mask: np.ndarray) -> float:
    return float(num[mask].mean()) if mask.any() else math.nan


def flip_rate(outcomes: Sequence[InterventionOutcome]) -> float:
    return float(np.mean([o.changed for o in outcomes])) if outcomes else math.nan


def unfaithfulness(outcomes: Sequence[InterventionOutcome]) -> float:
    flipped: dict[str, bool] = {}
    for o in outcomes:
        if o.changed:
            flipped[o.example] = flipped.get(o.example, False) or not o.mention
    return float(np.mean(list(flipped.values()))) if flipped else math.nan


def cct(outcomes: Sequence[InterventionOutcome]) -> float:
    return point_biserial([o.tvd for o in outcomes], [o.mention for o in outcomes])


def phi_cct(outcomes: Sequence[InterventionOutcome]) -> float:
    return phi([o.changed for o in outcomes], [o.mention for o in outcomes])


def tpr(outcomes: Sequence[InterventionOutcome]) -> float:
    c = np.array([o.changed for o in outcomes], dtype=bool)
    m = np.array([o.mention for o in outcomes], dtype=float)
    return _rate(m, c) if outcomes else math.nan


def fpr(outcomes: Sequence[InterventionOutcome]) -> float:
    c = np.array([o.changed for o in outcomes], dtype=bool)
    m = np.array([o.mention for o in outcomes], dtype=float)
    return _rate(m, ~c) if outcomes else math.nan


def verbosity(outcomes: Sequence[InterventionOutcome]) -> float:
    return float(np.mean([o.n_words for o in outcomes])) if outcomes else math.nan


FUNCTIONS: dict[str, Callable[[Sequence[InterventionOutcome]], float]] = {
    "ct_flip_rate": flip_rate, "ct_unfaithfulness": unfaithfulness, "cct": cct, "phi_cct": phi_cct,
    "tpr": tpr, "fpr": fpr, "verbosity": verbosity,
}


@dataclass(frozen=True)
class MetricValue:
    value: float
    ci_low: float
    ci_high: float


def summarize(outcomes: Sequence[InterventionOutcome], n_resamples: int = 1000, seed: int = 0,
              confidence: float = 0.95) -> dict[str, MetricValue]:
    """Every counterfactual metric with its percentile-bootstrap CI over examples."""
    by_example: dict[str, list[InterventionOutcome]] = {}
    for o in outcomes:
        by_example.setdefault(o.example, []).append(o)
    groups = list(by_example.values())
    out: dict[str, MetricValue] = {}
    for name in COUNTERFACTUAL_METRICS:
        fn = FUNCTIONS[name]

        def stat(idx: np.ndarray, fn=fn) -> float:
            # resampled examples keep distinct identities so repeats count as separate examples
            pooled = [InterventionOutcome(f"{k}:{o.example}", o.tvd, o.changed, o.mention, o.n_words)
                      for k, i in enumerate(idx) for o in groups[i]]
            return fn(pooled)

        lo, hi = bootstrap_ci_indices(len(groups), stat, n_resamples=n_resamples, seed=seed, confidence=confidence)
        out[name] = MetricValue(fn(list(outcomes)), lo, hi)
    return out
