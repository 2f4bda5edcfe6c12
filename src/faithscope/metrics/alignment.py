"""Human alignment of rationales: ERASER token-level precision, recall and F1 (DeYoung et al. 2020).

A rationale is a set of global word positions (see :mod:`faithscope.types`). Alignment compares
the positions a method selected (``pred``) with the human rationale for the TRUE label
(``gold``). Conventions follow the ERASER scorer so that numbers are comparable with it:

* empty prediction -> precision 0; empty truth -> recall 0; F1 = 0 when P + R = 0;
* *macro* F1 = mean of per-example F1; *micro* F1 = F1 of the pooled precision
  ``sum(tp) / sum(|pred|)`` and recall ``sum(tp) / sum(|gold|)`` (the paper's Table 2 default,
  see SPEC.md);
* IOU-F1: a predicted span counts as a hit when its best intersection-over-union with a gold
  span is >= 0.5; spans are maximal runs of consecutive positions;
* AUPRC for scored methods is average precision (the step-wise sum that sklearn's
  ``average_precision_score`` computes), not the trapezoidal area.

Aggregates over zero examples are undefined and return NaN rather than a misleading 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral
from typing import Collection, Iterable, Literal, Sequence

import numpy as np

Pair = tuple[Collection[int], Collection[int]]
"""``(predicted positions, gold positions)`` of one example."""


@dataclass(frozen=True)
class PRF:
    """Precision, recall and F1 with the counts they came from (so they can be pooled)."""

    p: float
    r: float
    f1: float
    tp: int
    n_pred: int
    n_gold: int


def _f1(p: float, r: float) -> float:
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def _from_counts(tp: int, n_pred: int, n_gold: int) -> PRF:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    return PRF(p, r, _f1(p, r), tp, n_pred, n_gold)


def _positions(xs: Iterable[int], what: str) -> frozenset[int]:
    """Validate word positions: non-negative integers (numpy integers accepted)."""
    if isinstance(xs, (str, bytes)):
        raise ValueError(f"{what} positions must be a collection of integers, got a string {xs!r}")
    out: set[int] = set()
    for x in xs:
        if isinstance(x, bool) or not isinstance(x, Integral):
            raise ValueError(f"{what} positions must be integers, got {x!r}")
        if x < 0:
            raise ValueError(f"{what} positions must be non-negative, got {x}")
        out.add(int(x))
    return frozenset(out)


def prf(pred: Collection[int], gold: Collection[int]) -> PRF:
    """Token-level precision/recall/F1 of one example's predicted positions against gold."""
    ps, gs = _positions(pred, "predicted"), _positions(gold, "gold")
    return _from_counts(len(ps & gs), len(ps), len(gs))


def pool_prf(scores: Iterable[PRF]) -> PRF:
    """Micro average: P, R and F1 recomputed from the summed counts. NaN for no examples."""
    items = list(scores)
    if not items:
        return PRF(math.nan, math.nan, math.nan, 0, 0, 0)
    return _from_counts(sum(s.tp for s in items), sum(s.n_pred for s in items), sum(s.n_gold for s in items))


def mean_prf(scores: Iterable[PRF]) -> PRF:
    """Macro average: the mean of per-example P, R and F1 (F1 is *not* recomputed from the
    mean P and R); counts are summed. NaN for no examples."""
    items = list(scores)
    if not items:
        return PRF(math.nan, math.nan, math.nan, 0, 0, 0)
    n = len(items)
    return PRF(
        sum(s.p for s in items) / n,
        sum(s.r for s in items) / n,
        sum(s.f1 for s in items) / n,
        sum(s.tp for s in items),
        sum(s.n_pred for s in items),
        sum(s.n_gold for s in items),
    )


def micro_prf(pairs: Iterable[Pair]) -> PRF:
    """Pooled P/R/F1 over ``(pred, gold)`` pairs (ERASER ``instance_micro`` style)."""
    return pool_prf(prf(p, g) for p, g in pairs)


def micro_f1(pairs: Iterable[Pair]) -> float:
    """Pooled F1: P = sum(tp)/sum(|pred|), R = sum(tp)/sum(|gold|), F1 from those."""
    return micro_prf(pairs).f1


def macro_prf(pairs: Iterable[Pair]) -> PRF:
    """Per-example P/R/F1 averaged over ``(pred, gold)`` pairs."""
    return mean_prf(prf(p, g) for p, g in pairs)


def macro_f1(pairs: Iterable[Pair]) -> float:
    """Mean of per-example F1 over ``(pred, gold)`` pairs."""
    return macro_prf(pairs).f1


def spans(positions: Collection[int], breaks: Collection[int] = ()) -> list[tuple[int, int]]:
    """Maximal runs of consecutive positions as half-open ``(start, end)`` spans.

    ``breaks`` are positions where a new span must start even if the previous position is
    selected, e.g. the first word of each field (``Example.field_offsets().values()``), so
    that a run never crosses from the premise into the hypothesis.
    """
    starts = set(_positions(breaks, "break"))
    out: list[tuple[int, int]] = []
    for x in sorted(_positions(positions, "span")):
        if out and out[-1][1] == x and x not in starts:
            out[-1] = (out[-1][0], x + 1)
        else:
            out.append((x, x + 1))
    return out


def _iou(a: tuple[int, int], b: tuple[int, int]) -> float:
    inter = max(0, min(a[1], b[1]) - max(a[0], b[0]))
    return inter / ((a[1] - a[0]) + (b[1] - b[0]) - inter)


def iou_prf(
    pred: Collection[int], gold: Collection[int], threshold: float = 0.5, breaks: Collection[int] = ()
) -> PRF:
    """ERASER partial-match P/R/F1 of one example, counted in spans rather than words.

    A predicted span is a true positive when its best IOU with any gold span is >= threshold;
    P = hits / #predicted spans, R = hits / #gold spans. Because spans are maximal runs, two
    predicted spans cannot both reach IOU >= 0.5 with the same gold span, so R <= 1.
    """
    if not 0 < threshold <= 1:
        raise ValueError(f"IOU threshold must be in (0, 1], got {threshold}")
    ps, gs = spans(pred, breaks), spans(gold, breaks)
    tp = sum(1 for p in ps if gs and max(_iou(p, g) for g in gs) >= threshold)
    return _from_counts(tp, len(ps), len(gs))


def iou_f1(
    pairs: Iterable[Pair], threshold: float = 0.5, average: Literal["micro", "macro"] = "micro"
) -> float:
    """IOU-F1 over ``(pred, gold)`` pairs; ``micro`` pools span counts, ``macro`` averages
    per-example F1 (the same meaning of micro/macro as for token F1)."""
    if average not in ("micro", "macro"):
        raise ValueError(f"average must be 'micro' or 'macro', got {average!r}")
    scores = [iou_prf(p, g, threshold) for p, g in pairs]
    return (pool_prf(scores) if average == "micro" else mean_prf(scores)).f1


def auprc(scores: Sequence[float], gold: Collection[int]) -> float:
    """Average precision of per-word ``scores`` (one per global position) against gold positions.

    AP = sum_n (R_n - R_{n-1}) P_n over thresholds at each distinct score, highest first;
    tied scores enter together (as in sklearn). NaN when ``gold`` is empty (undefined: no
    positives), as ERASER skips such examples.
    """
    s = np.asarray(scores, dtype=float)
    if s.ndim != 1:
        raise ValueError(f"scores must be one-dimensional (one per word), got shape {s.shape}")
    if not np.all(np.isfinite(s)):
        raise ValueError("scores must be finite numbers")
    gs = _positions(gold, "gold")
    if gs and max(gs) >= len(s):
        raise ValueError(f"gold position {max(gs)} is outside the {len(s)} scored words")
    if not gs:
        return math.nan
    y = np.zeros(len(s), dtype=bool)
    y[sorted(gs)] = True
    order = np.argsort(-s, kind="mergesort")
    s_sorted, y_sorted = s[order], y[order]
    last = np.r_[np.nonzero(np.diff(s_sorted))[0], len(s) - 1]  # last index of each score level
    tp = np.cumsum(y_sorted)[last]
    fp = np.cumsum(~y_sorted)[last]
    precision = tp / (tp + fp)
    recall = tp / len(gs)
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))
