"""Self-consistency rates of self-explanations (Madsen et al. 2024), with bootstrap CIs.

Input: check rows (:class:`faithscope.selfexplain.types.CheckRow` or anything with
``failure``, ``faithful`` and ``correct``), one per example of one (task, style, mode) cell.
A row whose reply could not be used has ``failure`` set and ``faithful`` None. The rates:

* ``sc_faithful`` — share of ALL rows whose check passed; an unusable reply counts as **not**
  faithful (a model that does not follow the explanation instructions earns no credit; this
  is the headline rate, comparable across models whatever they parse);
* ``sc_faithful_parsed`` — the same share among the rows with a usable reply only (shown
  beside, so that "faithful when it follows the format" stays visible);
* ``sc_correct`` — accuracy of the original (forced-choice) prediction, over all rows;
* ``sc_faithful_correct`` — faithful ∧ correct over all rows (unusable = not faithful);
* ``sc_unparsed`` — share of rows whose reply could not be used.

The second view (:mod:`faithscope.selfexplain.word_faithfulness`) deletes the explained words
and as many random words: ``sc_word_flip``/``sc_word_flip_random`` (share of rows whose
forced-choice prediction changes) and ``sc_word_prob_drop``/``sc_word_prob_drop_random``
(drop of the predicted label's probability), over the rows with explained words.

Each cell carries its N (the denominator) and a seeded percentile-bootstrap CI over the
rows (:func:`faithscope.metrics.bootstrap.bootstrap_ci`, mean of 0/1 values, NaN = left out).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Iterable, Mapping, Protocol, Sequence

import numpy as np

from .bootstrap import bootstrap_ci

RATE_METRICS = ("sc_faithful", "sc_faithful_parsed", "sc_correct", "sc_faithful_correct", "sc_unparsed")
WORD_METRICS = ("sc_word_flip", "sc_word_flip_random", "sc_word_prob_drop", "sc_word_prob_drop_random")


class CheckLike(Protocol):
    failure: str | None
    faithful: bool | None
    correct: bool


@dataclass(frozen=True)
class RateCell:
    """One rate: its value, 95% (or ``confidence``) CI and the number of rows it is over."""

    value: float
    ci: tuple[float, float]
    n: int


def per_row_values(rows: Sequence[CheckLike], metric: str) -> list[float]:
    """The 0/1 value each row contributes to ``metric`` (NaN = the row is not in its denominator)."""
    def one(r: CheckLike) -> float:
        usable = r.failure is None and r.faithful is not None
        if metric == "sc_faithful":
            return float(usable and bool(r.faithful))
        if metric == "sc_faithful_parsed":
            return float(bool(r.faithful)) if usable else math.nan
        if metric == "sc_correct":
            return float(bool(r.correct))
        if metric == "sc_faithful_correct":
            return float(usable and bool(r.faithful) and bool(r.correct))
        if metric == "sc_unparsed":
            return float(not usable)
        raise KeyError(f"unknown self-consistency rate {metric!r}; known: {', '.join(RATE_METRICS)}")
    return [one(r) for r in rows]


def _cell(values: Sequence[float], n_resamples: int, seed: int, confidence: float) -> RateCell:
    v = np.asarray(values, dtype=float)
    kept = v[np.isfinite(v)]
    if kept.size == 0:
        return RateCell(math.nan, (math.nan, math.nan), 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # resamples with no finite value are NaN, left out
        ci = bootstrap_ci(list(v), statistic=np.nanmean, n_resamples=n_resamples, seed=seed, confidence=confidence)
    return RateCell(float(kept.mean()), ci, int(kept.size))


def self_consistency_rates(rows: Sequence[CheckLike], *, n_resamples: int = 1000, seed: int = 0,
                           confidence: float = 0.95) -> dict[str, RateCell]:
    """Every rate of :data:`RATE_METRICS` over ``rows`` (one table cell)."""
    return {m: _cell(per_row_values(rows, m), n_resamples, seed, confidence) for m in RATE_METRICS}


def failure_counts(rows: Iterable[CheckLike]) -> dict[str, int]:
    """How many rows failed for each reason (the parse/check failure strings)."""
    out: dict[str, int] = {}
    for r in rows:
        if r.failure is not None:
            out[r.failure] = out.get(r.failure, 0) + 1
    return out


def explained_word_rates(records: Sequence[Mapping[str, object]], *, n_resamples: int = 1000, seed: int = 0,
                         confidence: float = 0.95) -> dict[str, RateCell]:
    """The second view's rates over the records of
    :func:`faithscope.selfexplain.word_faithfulness.explained_word_faithfulness` (records
    without explained words, ``flip`` None, are left out)."""
    keys = {"sc_word_flip": "flip", "sc_word_flip_random": "random_flip",
            "sc_word_prob_drop": "prob_drop", "sc_word_prob_drop_random": "random_prob_drop"}
    out = {}
    for metric, key in keys.items():
        values = [math.nan if r.get(key) is None else float(r[key]) for r in records]  # type: ignore[arg-type]
        out[metric] = _cell(values, n_resamples, seed, confidence)
    return out
