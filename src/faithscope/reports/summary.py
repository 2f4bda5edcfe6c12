"""First outputs of a run: accuracy, zero-rate baseline, label distributions, diagnostics.

These are the numbers to read *before* any rationale table (Fayyaz et al. 2024, section 4.4.1):
a small pre-trained model often collapses onto one label, so its accuracy equals the
zero-rate (majority-class) baseline, and masking even ALL input words rarely changes its
prediction. When the flip rate of masking ALL words is below :data:`MASK_ALL_THRESHOLD` the
model barely reads its input and every faithfulness number of that run is unreliable; the
summary carries that warning so that every report shows it.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..metrics import bootstrap_ci, flip_rate
from .rundata import RunData

MASK_ALL_THRESHOLD = 0.05
MASK_ALL_WARNING = ("masking ALL input words flips the prediction for only {rate:.1f}% of the examples "
                    "(< {thr:.0f}%): the model barely reads its input; faithfulness numbers are unreliable "
                    "(Fayyaz et al. 2024, section 4.4.1)")


@dataclass(frozen=True)
class MaskAllDiagnostic:
    """Flip rate of masking every input word (Table 4's ALL row) and whether it is too low."""

    flip_rate: float
    ci: tuple[float, float]
    n: int
    low: bool

    @property
    def message(self) -> str:
        if self.low:
            return MASK_ALL_WARNING.format(rate=100 * self.flip_rate, thr=100 * MASK_ALL_THRESHOLD)
        return f"masking ALL input words flips {100 * self.flip_rate:.1f}% of the predictions (N={self.n})"


@dataclass(frozen=True)
class RunSummary:
    """Accuracy and the label diagnostics of one run (shares are fractions in [0, 1])."""

    label: str
    dataset: str
    n_examples: int
    n_predicted: int
    accuracy: float
    accuracy_ci: tuple[float, float]
    majority_label: str | None
    zero_rate: float
    labels: list[str]
    gold_counts: dict[str, int]
    pred_counts: dict[str, int]
    truncated_examples: int
    truncated_words: int
    mask_all: MaskAllDiagnostic | None
    timings: dict[str, tuple[float, int]] = field(default_factory=dict)
    peak_rss_mib: float | None = None
    stage_peak_rss_mib: dict[str, float] = field(default_factory=dict)
    sample_note: str = ""
    """E.g. "asked for 100 examples but only 48 are available" (shown with the warnings)."""
    skipped_invalid: int = 0
    """Malformed records skipped with ``--skip-invalid`` (shown with the warnings)."""
    skipped_reasons: tuple[str, ...] = ()
    truncated_ids: list[str] = field(default_factory=list)
    """Examples cut by truncation (the HTML report links them)."""
    human_outside_window: int = 0
    """Human-rationale words outside the visible window: excluded from alignment and masking."""
    n_unparseable: int = 0
    """Predictions whose reply named no label (server backends): counted as wrong, never as a label."""

    @property
    def gold_shares(self) -> dict[str, float]:
        return _shares(self.gold_counts)

    @property
    def pred_shares(self) -> dict[str, float]:
        return _shares(self.pred_counts)

    @property
    def warnings(self) -> list[str]:
        """Everything a reader must see before trusting the tables."""
        out = []
        if self.skipped_invalid:
            first = f" (first: {self.skipped_reasons[0]})" if self.skipped_reasons else ""
            out.append(f"skipped {self.skipped_invalid} invalid record(s) with --skip-invalid{first}")
        if self.mask_all is not None and self.mask_all.low:
            out.append(self.mask_all.message)
        if self.truncated_examples:
            out.append(f"truncation: {self.truncated_examples} examples were cut to fit the context window ({self.truncated_words} words "
                       f"dropped; {self.human_outside_window} human-rationale words outside the window, excluded from alignment and masking)")
        if self.n_predicted < self.n_examples:
            out.append(f"only {self.n_predicted} of {self.n_examples} examples have a prediction (run unfinished?)")
        if self.n_unparseable:
            out.append(f"the label of {self.n_unparseable} of {self.n_predicted} examples could not be read from the reply "
                       "(counted as wrong in the accuracy)")
        readable = self.n_predicted - self.n_unparseable
        if readable and max(self.pred_counts.values(), default=0) == readable and len(self.labels) > 1:
            only = max(self.pred_counts, key=self.pred_counts.__getitem__)
            which = f" whose label could be read ({readable} of {self.n_predicted})" if self.n_unparseable else ""
            out.append(f"the model predicts {only!r} for every example{which} (collapsed onto one label)")
        return out

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (for ``summary.json`` and per-epoch summaries)."""
        return {
            "label": self.label, "dataset": self.dataset, "n_examples": self.n_examples, "n_predicted": self.n_predicted,
            "accuracy": self.accuracy, "accuracy_ci": list(self.accuracy_ci), "majority_label": self.majority_label,
            "zero_rate": self.zero_rate, "gold_counts": self.gold_counts, "pred_counts": self.pred_counts, "n_unparseable": self.n_unparseable,
            "label_distribution": self.pred_shares, "gold_distribution": self.gold_shares,
            "truncated_examples": self.truncated_examples, "truncated_words": self.truncated_words,
            "truncated_example_ids": list(self.truncated_ids), "human_rationale_words_outside_window": self.human_outside_window,
            "mask_all_flip_rate": self.mask_all.flip_rate if self.mask_all else None,
            "mask_all_ci": list(self.mask_all.ci) if self.mask_all else None,
            "mask_all_low": self.mask_all.low if self.mask_all else None,
            "warnings": self.warnings, "timings": {k: list(v) for k, v in self.timings.items()},
            "peak_rss_mib": self.peak_rss_mib, "stage_peak_rss_mib": self.stage_peak_rss_mib, "sample_note": self.sample_note,
            "skipped_invalid": self.skipped_invalid, "skipped_reasons": list(self.skipped_reasons),
        }


def _shares(counts: dict[str, int]) -> dict[str, float]:
    total = sum(counts.values())
    return {k: (v / total if total else math.nan) for k, v in counts.items()}


def mask_all_diagnostic(data: RunData, bootstrap_resamples: int = 1000, seed: int = 0) -> MaskAllDiagnostic | None:
    """The ALL row's flip rate with its CI, or ``None`` when the run did not mask ALL."""
    rows = [r for r in data.masked_rows() if r["method"] in ("all-words", "all")]  # "all": stores from before the rename
    if not rows:
        return None
    # over all rows; an original reply that named no label is in N and not flipped (as in Table 4)
    rate = sum(flip_rate([r["orig_predicted"]], [r["predicted"]]) for r in rows if r["orig_predicted"]) / len(rows)
    ci = bootstrap_ci([float(r["flipped"]) for r in rows], n_resamples=bootstrap_resamples, seed=seed)
    return MaskAllDiagnostic(rate, ci, len(rows), rate < MASK_ALL_THRESHOLD)


def summarize(data: RunData, bootstrap_resamples: int = 1000, seed: int = 0) -> RunSummary:
    """Compute the first outputs of one run from its stored predictions."""
    labels = data.labels
    gold = Counter(e["label"] for e in data.examples)
    predicted = [(e["label"], data.predictions[e["id"]]) for e in data.examples if e["id"] in data.predictions]
    # An unparseable reply predicts "" (no label): counted apart, so it is never shown as a label of its own.
    pred = Counter(s.predicted for _, s in predicted if s.source != "unparseable")
    unparseable = sum(1 for _, s in predicted if s.source == "unparseable")
    correct = np.array([float(g == s.predicted) for g, s in predicted])
    accuracy = float(correct.mean()) if correct.size else math.nan
    ci = bootstrap_ci(correct, n_resamples=bootstrap_resamples, seed=seed)
    all_labels = labels + sorted((set(gold) | set(pred)) - set(labels))
    majority = max(all_labels, key=lambda lab: (gold[lab], -all_labels.index(lab))) if data.examples else None
    zero_rate = gold[majority] / len(data.examples) if majority is not None else math.nan
    truncated = [s.truncated_words for _, s in predicted if s.truncated_words]
    truncated_ids = [e["id"] for e in data.examples if e["id"] in data.predictions and data.predictions[e["id"]].truncated_words]
    peak = data.meta.get("peak_rss_mib")
    return RunSummary(
        label=data.label, dataset=data.dataset, n_examples=len(data.examples), n_predicted=len(predicted),
        accuracy=accuracy, accuracy_ci=ci, majority_label=majority, zero_rate=zero_rate, labels=all_labels,
        gold_counts={lab: gold[lab] for lab in all_labels}, pred_counts={lab: pred[lab] for lab in all_labels},
        truncated_examples=len(truncated), truncated_words=sum(truncated),
        mask_all=mask_all_diagnostic(data, bootstrap_resamples, seed), timings=dict(data.timings),
        peak_rss_mib=float(peak) if peak is not None else None, stage_peak_rss_mib=dict(data.stage_peaks), sample_note=str(data.meta.get("sample_note") or ""),
        truncated_ids=truncated_ids, human_outside_window=sum(data.human_outside().values()),
        skipped_invalid=int(data.meta.get("skipped_invalid") or 0), skipped_reasons=tuple(data.meta.get("skipped_reasons") or ()),
        n_unparseable=unparseable,
    )
