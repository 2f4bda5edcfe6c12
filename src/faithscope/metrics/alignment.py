"""Human alignment of rationales: ERASER token-level precision, recall and F1 (DeYoung et al. 2020).

A rationale is a set of global word positions (see :mod:`faithscope.types`). Alignment compares
the positions a method selected (``pred``) with the human rationale for the TRUE label
(``gold``). Conventions follow ERASER's scorer (``rationale_benchmark/metrics.py``) so that
numbers are comparable with it:

* empty prediction -> precision 0; empty truth -> recall 0; F1 = 0 when P + R = 0;
* *micro* F1 = F1 of the pooled precision ``sum(tp) / sum(|pred|)`` and recall
  ``sum(tp) / sum(|gold|)`` (the paper's Table 2 default, see SPEC.md);
* *macro* F1 = mean of per-instance F1 over the instances that have a human rationale or a
  prediction: ERASER's instance keys are the union of the instances with truth and those with
  predictions, so an instance with neither is left out (it is not a 0). Two instance
  definitions: one example (:func:`macro_prf`) or, as in ERASER, one (example, field) pair
  (:func:`field_instances` then :func:`macro_prf`: premise and hypothesis count separately);
* IOU-F1 is ERASER's ``partial_match_score``: spans are maximal runs of consecutive positions
  that never cross a field boundary, a predicted span is a hit when its best IOU with a gold
  span of the same instance is >= 0.5; micro pools span counts, macro is the F1 of the mean
  precision (over instances with predicted spans) and the mean recall (over instances with
  gold spans);
* AUPRC for scored methods is, per instance, the trapezoidal area under scikit-learn's
  ``precision_recall_curve`` (``sklearn.metrics.auc``), averaged over instances.

Aggregates over zero instances are undefined and return NaN rather than a misleading 0.
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
    """Per-instance P/R/F1 averaged over the ``(pred, gold)`` pairs that have a human
    rationale or a prediction; a pair with neither is left out, as in ERASER (whose instance
    keys are the union of instances with truth and with predictions). NaN if none is left."""
    scores = [prf(p, g) for p, g in pairs]
    return mean_prf(s for s in scores if s.n_pred or s.n_gold)


def macro_f1(pairs: Iterable[Pair]) -> float:
    """Mean of per-instance F1 over the ``(pred, gold)`` pairs with a rationale or a prediction."""
    return macro_prf(pairs).f1


def field_instances(pred: Collection[int], gold: Collection[int], starts: Sequence[int]) -> list[tuple[frozenset[int], frozenset[int]]]:
    """Split one example's ``(pred, gold)`` into ERASER instances, one per input field.

    ``starts`` are the global positions of the fields' first words in order
    (``Example.field_offsets().values()``); a position belongs to the last field that starts
    at or before it. Positions keep their global numbering. Fields are returned in order, also
    those with neither side (macro averages leave those out).
    """
    bounds = sorted(set(int(x) for x in _positions(starts, "field start")) | {0})
    ps, gs = _positions(pred, "predicted"), _positions(gold, "gold")
    out = []
    for i, lo in enumerate(bounds):
        hi = bounds[i + 1] if i + 1 < len(bounds) else math.inf
        out.append((frozenset(x for x in ps if lo <= x < hi), frozenset(x for x in gs if lo <= x < hi)))
    return out


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
    """ERASER partial-match P/R/F1 of one instance, counted in spans rather than words.

    A predicted span is a true positive when its best IOU with any gold span is >= threshold;
    P = hits / #predicted spans, R = hits / #gold spans (``tp`` counts hits among predicted
    spans, as ERASER does). ``breaks`` start a new span (field starts), so that a span of a
    whole example never crosses a field boundary.
    """
    if not 0 < threshold <= 1:
        raise ValueError(f"IOU threshold must be in (0, 1], got {threshold}")
    ps, gs = spans(pred, breaks), spans(gold, breaks)
    tp = sum(1 for p in ps if gs and max(_iou(p, g) for g in gs) >= threshold)
    return _from_counts(tp, len(ps), len(gs))


def iou_scores(pairs: Iterable[Pair], threshold: float = 0.5) -> tuple[PRF, PRF]:
    """``(micro, macro)`` IOU P/R/F1 over instances, exactly as ERASER's ``partial_match_score``.

    Give one pair per (example, field) instance (:func:`field_instances`) for ERASER's
    numbers. Micro pools span counts. Macro P is the mean precision over the instances with
    predicted spans, macro R the mean recall over the instances with gold spans, and macro F1
    is the F1 of those two means (not a mean of F1s). No instance at all gives NaN; sides with
    no spans anywhere give 0, as in ERASER.
    """
    scores = [iou_prf(p, g, threshold) for p, g in pairs]
    if not scores:
        nan = PRF(math.nan, math.nan, math.nan, 0, 0, 0)
        return nan, nan
    micro = pool_prf(scores)
    with_pred = [s.p for s in scores if s.n_pred]
    with_gold = [s.r for s in scores if s.n_gold]
    mp = sum(with_pred) / len(with_pred) if with_pred else 0.0
    mr = sum(with_gold) / len(with_gold) if with_gold else 0.0
    macro = PRF(mp, mr, _f1(mp, mr), micro.tp, micro.n_pred, micro.n_gold)
    return micro, macro


def iou_f1(
    pairs: Iterable[Pair], threshold: float = 0.5, average: Literal["micro", "macro"] = "micro"
) -> float:
    """IOU-F1 over instance ``(pred, gold)`` pairs (see :func:`iou_scores`)."""
    if average not in ("micro", "macro"):
        raise ValueError(f"average must be 'micro' or 'macro', got {average!r}")
    micro, macro = iou_scores(pairs, threshold)
    return (micro if average == "micro" else macro).f1


def auprc(scores: Sequence[float], gold: Collection[int], offset: int = 0) -> float:
    """Area under the precision-recall curve of one instance's per-word ``scores``.

    Equal to scikit-learn's ``auc(recall, precision)`` of ``precision_recall_curve(y, scores)``
    (what ERASER's ``_auprc`` computes): one curve point per distinct score, highest first
    (tied scores enter together), plus the point (recall 0, precision 1), joined by
    trapezoids. ``scores[i]`` belongs to global position ``offset + i`` (a field's slice).
    NaN when ``gold`` is empty: without positives the curve is undefined (old scikit-learn
    returns NaN, new versions warn and return an arbitrary area), so such instances are left
    out of averages (:func:`mean_auprc`).
    """
    s = np.asarray(scores, dtype=float)
    if s.ndim != 1:
        raise ValueError(f"scores must be one-dimensional (one per word), got shape {s.shape}")
    if not np.all(np.isfinite(s)):
        raise ValueError("scores must be finite numbers")
    gs = _positions(gold, "gold")
    if gs and (min(gs) < offset or max(gs) >= offset + len(s)):
        raise ValueError(f"gold positions {sorted(gs)} are outside the {len(s)} scored words from position {offset}")
    if not gs:
        return math.nan
    y = np.zeros(len(s), dtype=bool)
    y[[g - offset for g in sorted(gs)]] = True
    order = np.argsort(-s, kind="mergesort")
    s_sorted, y_sorted = s[order], y[order]
    last = np.r_[np.nonzero(np.diff(s_sorted))[0], len(s) - 1]  # last index of each score level
    tp = np.cumsum(y_sorted)[last]
    fp = np.cumsum(~y_sorted)[last]
    precision = np.r_[1.0, tp / (tp + fp)]
    recall = np.r_[0.0, tp / len(gs)]
    return float(np.sum(np.diff(recall) * (precision[1:] + precision[:-1]) / 2))


def field_auprcs(scores: Sequence[float], gold: Collection[int], starts: Sequence[int]) -> list[float]:
    """AUPRC of each (example, field) instance that has human rationale words (ERASER's
    instance), from one score per global position; fields without gold words are skipped."""
    s = list(scores)
    bounds = sorted(set(int(x) for x in _positions(starts, "field start")) | {0})
    gs = _positions(gold, "gold")
    if gs and max(gs) >= len(s):
        raise ValueError(f"gold position {max(gs)} is outside the {len(s)} scored words")
    out = []
    for i, lo in enumerate(bounds):
        hi = bounds[i + 1] if i + 1 < len(bounds) else len(s)
        g = {x for x in gs if lo <= x < hi}
        if g:
            out.append(auprc(s[lo:hi], g, offset=lo))
    return out


def mean_auprc(values: Iterable[float]) -> float:
    """Mean over instances of their AUPRC, leaving out undefined (NaN) ones; NaN if none."""
    vs = [v for v in values if not math.isnan(v)]
    return sum(vs) / len(vs) if vs else math.nan
