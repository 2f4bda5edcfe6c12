"""Metrics: pure functions on plain Python/numpy data (rationale position sets, label-score
records), no model code.

Each reported metric is described by a :class:`MetricInfo` (name, what it measures, its range
and whether higher is better) in the :data:`METRICS` registry, so that reports can label axes,
mark the better direction and the CLI can list them (``list_metrics()``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from faithscope.errors import ConfigError
from faithscope.metrics.alignment import (
    PRF,
    auprc,
    iou_f1,
    iou_prf,
    macro_f1,
    macro_prf,
    mean_prf,
    micro_f1,
    micro_prf,
    pool_prf,
    prf,
    spans,
)
from faithscope.metrics.bootstrap import bootstrap_ci, bootstrap_ci_indices, percentile_interval, resample_indices
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
from faithscope.metrics.stats import Correlation, mean_std, pearson, skewness

Family = Literal["alignment", "faithfulness", "counterfactual"]


@dataclass(frozen=True)
class MetricInfo:
    """What a metric means: its ``range`` (lo, hi; infinite ends allowed) and whether a
    higher value is better (more human-aligned or more faithful)."""

    name: str
    description: str
    range: tuple[float, float]
    higher_is_better: bool
    family: Family


_INF = math.inf
_ALL = [
    MetricInfo("alignment_f1_micro", "F1 of pooled token precision and recall against the human rationale (Table 2 default)", (0.0, 1.0), True, "alignment"),
    MetricInfo("alignment_f1_macro", "mean of per-example token F1 against the human rationale", (0.0, 1.0), True, "alignment"),
    MetricInfo("precision", "share of selected words that are in the human rationale (ERASER token precision)", (0.0, 1.0), True, "alignment"),
    MetricInfo("recall", "share of human rationale words that were selected (ERASER token recall)", (0.0, 1.0), True, "alignment"),
    MetricInfo("iou_f1", "ERASER partial-match F1: predicted spans hitting a human span with IOU >= 0.5", (0.0, 1.0), True, "alignment"),
    MetricInfo("auprc", "average precision of per-word scores against the human rationale (scored methods)", (0.0, 1.0), True, "alignment"),
    MetricInfo("flip_rate", "share of examples whose predicted label changes when the rationale is masked", (0.0, 1.0), True, "faithfulness"),
    MetricInfo("logprob_change", "masked minus original log-prob of the originally predicted label (more negative = rationale mattered)", (-_INF, _INF), False, "faithfulness"),
    MetricInfo("comprehensiveness", "p(pred|x) - p(pred|x without rationale), label-set-renormalised (ERASER)", (-1.0, 1.0), True, "faithfulness"),
    MetricInfo("sufficiency", "p(pred|x) - p(pred|rationale only), label-set-renormalised (ERASER)", (-1.0, 1.0), False, "faithfulness"),
    MetricInfo("aopc_comprehensiveness", "comprehensiveness averaged over bins of the top 1/5/10/20/50% words (ERASER AOPC)", (-1.0, 1.0), True, "faithfulness"),
    MetricInfo("aopc_sufficiency", "sufficiency averaged over bins of the top 1/5/10/20/50% words (ERASER AOPC)", (-1.0, 1.0), False, "faithfulness"),
    # Counterfactual tests of free-text self-explanations (faithscope.metrics.counterfactual).
    MetricInfo("ct_flip_rate", "share of word insertions that change the predicted label (higher = a stronger test, not a better model)", (0.0, 1.0), True, "counterfactual"),
    MetricInfo("ct_unfaithfulness", "among examples with a flip, share with a flip whose explanation omits the inserted word (Atanasova et al. 2023)", (0.0, 1.0), False, "counterfactual"),
    MetricInfo("cct", "point-biserial correlation of label-distribution TVD with mention of the inserted word (Siegel et al. 2024)", (-1.0, 1.0), True, "counterfactual"),
    MetricInfo("phi_cct", "phi coefficient of prediction change with mention of the inserted word (Siegel et al. 2025)", (-1.0, 1.0), True, "counterfactual"),
    MetricInfo("tpr", "P(explanation mentions the inserted word | prediction changed)", (0.0, 1.0), True, "counterfactual"),
    MetricInfo("fpr", "P(explanation mentions the inserted word | prediction unchanged)", (0.0, 1.0), False, "counterfactual"),
    MetricInfo("verbosity", "mean words per explanation (descriptive: longer explanations mention more words by chance)", (0.0, _INF), False, "counterfactual"),
]
METRICS: dict[str, MetricInfo] = {m.name: m for m in _ALL}
"""Every reported metric by name, in display order."""


def list_metrics() -> list[MetricInfo]:
    """All registered metrics, in display order (alignment first, then faithfulness)."""
    return list(METRICS.values())


def get_metric(name: str) -> MetricInfo:
    """The metric called ``name``; a :class:`ConfigError` naming the known ones otherwise."""
    try:
        return METRICS[name]
    except KeyError:
        raise ConfigError(f"unknown metric {name!r}; known metrics: {', '.join(METRICS)}") from None


__all__ = [
    "AOPC_BINS", "METRICS", "PRF", "Correlation", "MetricInfo",
    "aopc", "aopc_comprehensiveness", "aopc_curve", "aopc_per_example", "aopc_sufficiency", "auprc",
    "bootstrap_ci", "bootstrap_ci_indices", "comprehensiveness", "flip_rate", "flipped", "get_metric",
    "iou_f1", "iou_prf", "list_metrics", "logprob_change", "macro_f1", "macro_prf", "mean_prf",
    "mean_std", "micro_f1", "micro_prf", "pearson", "percentile_interval", "pool_prf", "prf",
    "resample_indices", "skewness", "spans", "sufficiency", "target_logprobs", "target_probs",
]
