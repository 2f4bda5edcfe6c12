"""Faithfulness of rationales, computed from stored label-score records (never from a model).

Everything is measured for the label the model predicted on the ORIGINAL input (SPEC: faithfulness
is w.r.t. the predicted label, over all examples, correct or not):

* flip rate: share of examples whose predicted label changes when the rationale is masked;
* log-prob change: ``log p(y|x_masked) - log p(y|x)`` of the originally predicted label ``y``
  (negative = masking hurt the prediction; which log-prob is used is the caller's choice,
  :func:`target_logprobs` gives the raw verbalizer log-probs by default);
* ERASER (DeYoung et al. 2020) comprehensiveness ``p(y|x) - p(y|x without rationale)`` (higher =
  the rationale was needed) and sufficiency ``p(y|x) - p(y|rationale only)`` (lower = the
  rationale alone suffices); AOPC averages either over bins of top-scored words (default
  1/5/10/20/50 %) exactly as the ERASER scorer does: the mean over bins and examples of
  ``p(y|x) - p(y|x_bin)``, without a zero-removal point.

Probabilities are *label-set-renormalised*: the softmax of the labels' verbalizer log-probs
over the task's label set (``LabelScores.probs``), so they sum to 1 over the labels, as a
classifier's would in ERASER. Per-example functions return numpy arrays so that callers can
bootstrap them; aggregates over zero examples are NaN.
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np

from faithscope.types import LabelScores

AOPC_BINS: tuple[float, ...] = (0.01, 0.05, 0.10, 0.20, 0.50)
"""ERASER's AOPC bins: fractions of the words (top-scored first) that are removed or kept."""


def _same_length(name_a: str, a: Sequence, name_b: str, b: Sequence) -> None:
    if len(a) != len(b):
        raise ValueError(f"{name_a} and {name_b} must have one entry per example; got {len(a)} and {len(b)}")


def _values(name: str, xs: Sequence[float], probability: bool) -> np.ndarray:
    v = np.asarray(xs, dtype=float)
    if v.ndim != 1:
        raise ValueError(f"{name} must be a flat sequence with one number per example, got shape {v.shape}")
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{name} must hold finite numbers")
    if probability and (np.any(v < 0) or np.any(v > 1)):
        raise ValueError(f"{name} must hold probabilities in [0, 1]")
    return v


def _mean(v: np.ndarray) -> float:
    return float(v.mean()) if v.size else math.nan


def flipped(orig_pred: Sequence[str], masked_pred: Sequence[str]) -> list[bool]:
    """Per example: did the predicted label change when the rationale was masked?"""
    _same_length("orig_pred", orig_pred, "masked_pred", masked_pred)
    return [a != b for a, b in zip(orig_pred, masked_pred)]


def flip_rate(orig_pred: Sequence[str], masked_pred: Sequence[str]) -> float:
    """Share of examples whose predicted label changed (NaN for no examples)."""
    flips = flipped(orig_pred, masked_pred)
    return sum(flips) / len(flips) if flips else math.nan


def logprob_change(orig_lp: Sequence[float], masked_lp: Sequence[float]) -> np.ndarray:
    """Per example ``masked - original`` log-prob of the originally predicted label."""
    _same_length("orig_lp", orig_lp, "masked_lp", masked_lp)
    return _values("masked_lp", masked_lp, False) - _values("orig_lp", orig_lp, False)


def comprehensiveness(p_orig: Sequence[float], p_without: Sequence[float]) -> np.ndarray:
    """Per example ``p(y|x) - p(y|x without rationale)``; higher means the rationale mattered."""
    _same_length("p_orig", p_orig, "p_without", p_without)
    return _values("p_orig", p_orig, True) - _values("p_without", p_without, True)


def sufficiency(p_orig: Sequence[float], p_only: Sequence[float]) -> np.ndarray:
    """Per example ``p(y|x) - p(y|rationale only)``; lower means the rationale suffices."""
    _same_length("p_orig", p_orig, "p_only", p_only)
    return _values("p_orig", p_orig, True) - _values("p_only", p_only, True)


def _drops(p_orig: Sequence[float], p_bins: Mapping[float, Sequence[float]]) -> tuple[list[float], np.ndarray]:
    """Bins in ascending order and an (examples x bins) array of ``p_orig - p_bin``."""
    if not p_bins:
        raise ValueError("p_bins must hold at least one bin")
    orig = _values("p_orig", p_orig, True)
    bins = sorted(p_bins)
    cols = []
    for b in bins:
        _same_length("p_orig", p_orig, f"p_bins[{b}]", p_bins[b])
        cols.append(orig - _values(f"p_bins[{b}]", p_bins[b], True))
    return bins, np.stack(cols, axis=1) if cols[0].size else np.empty((0, len(bins)))


def aopc_curve(p_orig: Sequence[float], p_bins: Mapping[float, Sequence[float]]) -> dict[float, float]:
    """Mean ``p(y|x) - p(y|x_bin)`` per bin (ERASER's per-threshold points), bins ascending."""
    bins, d = _drops(p_orig, p_bins)
    return {b: _mean(d[:, j]) for j, b in enumerate(bins)}


def aopc_per_example(p_orig: Sequence[float], p_bins: Mapping[float, Sequence[float]]) -> np.ndarray:
    """Per example, the mean over bins of ``p(y|x) - p(y|x_bin)`` (for bootstrapping AOPC)."""
    return _drops(p_orig, p_bins)[1].mean(axis=1)


def aopc(p_orig: Sequence[float], p_bins: Mapping[float, Sequence[float]]) -> float:
    """ERASER AOPC: mean over bins and examples of ``p(y|x) - p(y|x_bin)``.

    ``p_bins`` maps each bin (e.g. 0.05) to the per-example probabilities of the originally
    predicted label after the bin's perturbation. With words *removed* this is AOPC
    comprehensiveness; with only those words *kept* it is AOPC sufficiency.
    """
    return _mean(aopc_per_example(p_orig, p_bins))


def aopc_comprehensiveness(p_orig: Sequence[float], p_without_bins: Mapping[float, Sequence[float]]) -> float:
    """AOPC of comprehensiveness: the top bin% words removed (higher = more faithful)."""
    return aopc(p_orig, p_without_bins)


def aopc_sufficiency(p_orig: Sequence[float], p_only_bins: Mapping[float, Sequence[float]]) -> float:
    """AOPC of sufficiency: only the top bin% words kept (lower = more faithful)."""
    return aopc(p_orig, p_only_bins)


def _check_records(orig: Sequence[LabelScores], other: Sequence[LabelScores]) -> None:
    _same_length("orig", orig, "other", other)
    for i, (a, b) in enumerate(zip(orig, other)):
        if tuple(a.labels) != tuple(b.labels):
            raise ValueError(f"example {i}: label sets differ ({a.labels} vs {b.labels})")


def _log_softmax(logprobs: Sequence[float]) -> np.ndarray:
    """Log of the label-set-renormalised probabilities, finite even where exp() underflows."""
    v = np.asarray(logprobs, dtype=float)
    m = v.max()
    return v - (m + np.log(np.exp(v - m).sum()))


def target_probs(orig: Sequence[LabelScores], other: Sequence[LabelScores]) -> tuple[np.ndarray, np.ndarray]:
    """Renormalised probability of each example's ORIGINALLY predicted label, on the original
    input and on the perturbed one: ``(p_orig, p_other)``, ready for the functions above."""
    _check_records(orig, other)
    p0, p1 = [], []
    for a, b in zip(orig, other):
        i = a.labels.index(a.predicted)
        p0.append(a.probs[i])
        p1.append(b.probs[i])
    return np.asarray(p0, dtype=float), np.asarray(p1, dtype=float)


def target_logprobs(
    orig: Sequence[LabelScores], other: Sequence[LabelScores], renormalised: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Log-prob of each example's ORIGINALLY predicted label on both inputs.

    By default the raw verbalizer log-probs (summed over the verbalizer's tokens, as stored);
    ``renormalised=True`` gives the log of the label-set-renormalised probabilities.
    """
    _check_records(orig, other)
    l0, l1 = [], []
    for a, b in zip(orig, other):
        i = a.labels.index(a.predicted)
        if renormalised:
            l0.append(_log_softmax(a.logprobs)[i])
            l1.append(_log_softmax(b.logprobs)[i])
        else:
            l0.append(a.logprobs[i])
            l1.append(b.logprobs[i])
    return np.asarray(l0, dtype=float), np.asarray(l1, dtype=float)
