"""Metrics: pure functions on plain Python/numpy data (rationale position sets, label-score
records), no model code.

Each reported metric is described by a :class:`MetricInfo` (name, short column label, what it
measures, its range, whether higher is better and the table it is a column of) in the
:data:`METRICS` registry. Reports build their metric columns from it (header = label plus the
better direction's arrow, percent display for [0, 1] metrics; see
:mod:`faithscope.reports.compose`), and ``faithscope list metrics`` prints it: adding a table
column is one registry entry plus the value in the table's rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from faithscope.errors import ConfigError
from faithscope.metrics.alignment import (
    PRF,
    auprc,
    field_auprcs,
    field_instances,
    iou_f1,
    iou_prf,
    iou_scores,
    macro_f1,
    macro_prf,
    mean_auprc,
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
from faithscope.metrics.self_consistency import RateCell, explained_word_rates, failure_counts, self_consistency_rates
from faithscope.metrics.stats import Correlation, mean_std, pearson, skewness

Family = Literal["alignment", "faithfulness", "counterfactual", "self_consistency"]


@dataclass(frozen=True)
class MetricInfo:
    """What a metric means: its ``range`` (lo, hi; infinite ends allowed), whether a higher
    value is better (more human-aligned or more faithful), its short column ``label`` and the
    paper table (2 or 4) it is a column of (``None``: computed and stored, not a column)."""

    name: str
    description: str
    range: tuple[float, float]
    higher_is_better: bool
    family: Family
    label: str = ""
    table: int | None = None

    @property
    def arrow(self) -> str:
        """``↑`` when higher is better, ``↓`` otherwise."""
        return "↑" if self.higher_is_better else "↓"

    @property
    def header(self) -> str:
        """The column header: label (or name) and the better direction, e.g. ``micro F1 ↑``."""
        return f"{self.label or self.name} {self.arrow}"

    @property
    def percent(self) -> bool:
        """Shown as a percentage (a [0, 1] rate or score) rather than as a plain number."""
        return self.range == (0.0, 1.0)

    def range_text(self) -> str:
        """The range as ``[lo, hi]`` with ``-inf``/``inf`` for open ends."""
        return "[" + ", ".join("-inf" if x == -_INF else "inf" if x == _INF else f"{x:g}" for x in self.range) + "]"


_INF = math.inf
_ALL = [
    MetricInfo("alignment_f1_micro", "F1 of token precision and recall pooled over examples, against the human rationale (Table 2 leads with it)", (0.0, 1.0), True, "alignment", "micro F1", 2),
    MetricInfo("alignment_f1_macro", "mean per-example token F1 (premise and hypothesis together); examples with neither a human rationale nor a prediction left out", (0.0, 1.0), True, "alignment", "macro F1 /example", 2),
    MetricInfo("alignment_f1_macro_field", "ERASER macro: mean token F1 per (example, field) instance; instances with neither a human rationale nor a prediction left out", (0.0, 1.0), True, "alignment", "macro F1 /field (ERASER)", 2),
    MetricInfo("iou_f1", "ERASER partial-match macro F1 per (example, field): F1 of mean span precision and mean span recall, a span hits at IOU >= 0.5", (0.0, 1.0), True, "alignment", "IOU-F1", 2),
    MetricInfo("iou_f1_micro", "ERASER partial-match micro F1: span hits (IOU >= 0.5) pooled over (example, field) instances", (0.0, 1.0), True, "alignment", "IOU-F1 micro"),
    MetricInfo("auprc", "area under the precision-recall curve of per-word scores per (example, field) with human words, averaged (scored methods; ERASER)", (0.0, 1.0), True, "alignment", "AUPRC", 2),
    MetricInfo("precision", "share of selected words that are in the human rationale (pooled ERASER token precision)", (0.0, 1.0), True, "alignment", "P", 2),
    MetricInfo("recall", "share of human rationale words that were selected (pooled ERASER token recall)", (0.0, 1.0), True, "alignment", "R", 2),
    MetricInfo("flip_rate", "share of examples whose predicted label changes when the rationale is masked", (0.0, 1.0), True, "faithfulness", "flip rate", 4),
    MetricInfo("logprob_change", "masked minus original log-prob of the originally predicted label (more negative = rationale mattered)", (-_INF, _INF), False, "faithfulness", "Δ log p", 4),
    MetricInfo("comprehensiveness", "p(pred|x) - p(pred|x without rationale), label-set-renormalised (ERASER)", (-1.0, 1.0), True, "faithfulness", "compr.", 4),
    MetricInfo("sufficiency", "p(pred|x) - p(pred|rationale only), label-set-renormalised (ERASER)", (-1.0, 1.0), False, "faithfulness", "suff.", 4),
    MetricInfo("aopc_comprehensiveness", "comprehensiveness averaged over bins of the top 1/5/10/20/50% words (ERASER AOPC)", (-1.0, 1.0), True, "faithfulness", "AOPC compr.", 4),
    MetricInfo("aopc_sufficiency", "sufficiency averaged over bins of the top 1/5/10/20/50% words (ERASER AOPC)", (-1.0, 1.0), False, "faithfulness", "AOPC suff.", 4),
    # Counterfactual tests of free-text self-explanations (faithscope.metrics.counterfactual).
    MetricInfo("ct_flip_rate", "share of word insertions that change the predicted label (higher = a stronger test, not a better model)", (0.0, 1.0), True, "counterfactual", "CT flip rate"),
    MetricInfo("ct_unfaithfulness", "among examples with a flip, share with a flip whose explanation omits the inserted word (Atanasova et al. 2023)", (0.0, 1.0), False, "counterfactual", "CT unfaithfulness"),
    MetricInfo("cct", "point-biserial correlation of label-distribution TVD with mention of the inserted word (Siegel et al. 2024)", (-1.0, 1.0), True, "counterfactual", "CCT"),
    MetricInfo("phi_cct", "phi coefficient of prediction change with mention of the inserted word (Siegel et al. 2025)", (-1.0, 1.0), True, "counterfactual", "φ-CCT"),
    MetricInfo("tpr", "P(explanation mentions the inserted word | prediction changed)", (0.0, 1.0), True, "counterfactual", "TPR"),
    MetricInfo("fpr", "P(explanation mentions the inserted word | prediction unchanged)", (0.0, 1.0), False, "counterfactual", "FPR"),
    MetricInfo("verbosity", "mean words per explanation (descriptive: longer explanations mention more words by chance)", (0.0, _INF), False, "counterfactual", "verbosity"),
    # Self-consistency checks of self-explanations, Madsen et al. 2024 (faithscope.metrics.self_consistency).
    MetricInfo("sc_faithful", "share of examples whose self-explanation passes its self-consistency check; an unusable reply counts as not faithful", (0.0, 1.0), True, "self_consistency", "faithful"),
    MetricInfo("sc_faithful_parsed", "share passing the self-consistency check among examples with a usable reply", (0.0, 1.0), True, "self_consistency", "faithful (parsed)"),
    MetricInfo("sc_correct", "accuracy of the original forced-choice prediction", (0.0, 1.0), True, "self_consistency", "correct"),
    MetricInfo("sc_faithful_correct", "share of examples both faithful (check passed) and correctly predicted; unusable = not faithful", (0.0, 1.0), True, "self_consistency", "faithful∧correct"),
    MetricInfo("sc_unparsed", "share of examples whose explanation reply could not be used (parse or check-format failure)", (0.0, 1.0), False, "self_consistency", "unparsed"),
    MetricInfo("sc_word_flip", "share of examples whose prediction changes when the explained words are deleted", (0.0, 1.0), True, "self_consistency", "flip (explained)"),
    MetricInfo("sc_word_flip_random", "the same with as many random words deleted (mean over seeded draws; the baseline, same direction as the measure)", (0.0, 1.0), True, "self_consistency", "flip (random)"),
    MetricInfo("sc_word_prob_drop", "drop of the predicted label's probability when the explained words are deleted", (-1.0, 1.0), True, "self_consistency", "Δp (explained)"),
    MetricInfo("sc_word_prob_drop_random", "the same with as many random words deleted (mean over seeded draws; the baseline, same direction as the measure)", (-1.0, 1.0), True, "self_consistency", "Δp (random)"),
]
METRICS: dict[str, MetricInfo] = {m.name: m for m in _ALL}
"""Every reported metric by name, in display order."""


def list_metrics() -> list[MetricInfo]:
    """All registered metrics, in display order (alignment first, then faithfulness)."""
    return list(METRICS.values())


def table_metrics(table: int) -> list[MetricInfo]:
    """The metrics that are columns of paper table ``table`` (2 or 4), in display order."""
    return [m for m in METRICS.values() if m.table == table]


def get_metric(name: str) -> MetricInfo:
    """The metric called ``name``; a :class:`ConfigError` naming the known ones otherwise."""
    try:
        return METRICS[name]
    except KeyError:
        raise ConfigError(f"unknown metric {name!r}; known metrics: {', '.join(METRICS)}") from None


__all__ = [
    "AOPC_BINS", "METRICS", "PRF", "Correlation", "MetricInfo", "RateCell",
    "aopc", "aopc_comprehensiveness", "aopc_curve", "aopc_per_example", "aopc_sufficiency", "auprc",
    "bootstrap_ci", "bootstrap_ci_indices", "comprehensiveness", "explained_word_rates", "failure_counts", "field_auprcs", "field_instances", "flip_rate", "flipped",
    "get_metric", "iou_f1", "iou_prf", "iou_scores", "list_metrics", "logprob_change", "macro_f1", "macro_prf", "mean_auprc", "mean_prf",
    "mean_std", "micro_f1", "micro_prf", "pearson", "percentile_interval", "pool_prf", "prf",
    "resample_indices", "self_consistency_rates", "skewness", "spans", "sufficiency", "table_metrics", "target_logprobs", "target_probs",
]
