"""Per-epoch summaries of a fine-tuning run, and the analyses of them (Tables 3 and 5).

The fine-tuner stores one summary per epoch with ``ResultStore.put_epoch(epoch, summary)``
(epoch 0 = the pre-trained model, before any update); ``ResultStore.epochs()`` returns them as
``{epoch: summary}``. :func:`epoch_summary` builds such a summary from the stored results of
one evaluation, so the fine-tuner and the reports agree on it. The keys (fractions in
[0, 1] unless said otherwise; every key is optional for the readers here, which skip what is
missing):

``accuracy``            float, accuracy on the evaluation examples
``accuracy_ci``         [low, high], 95% bootstrap CI of the accuracy
``zero_rate``           float, majority-class share of the gold labels (the zero-rate baseline)
``n``                   int, number of evaluation examples
``label_distribution``  {label: share of predictions}, in the task's label order
``gold_distribution``   {label: share of gold labels}
``alignment``           {method: micro F1 of its alignment rationales}
``alignment_macro``     {method: macro F1}
``flip_rate``           {method: flip rate of masking its faithfulness rationale}
``logprob_change``      {method: mean log-prob change of the predicted label on masking}
``mask_all_flip_rate``  float, flip rate of masking ALL input words (None if not run)
``pretrained_accuracy`` float, accuracy of the pre-trained model (epoch 0), repeated for plots

Plots (:mod:`faithscope.reports.plots`) and :func:`correlations` read these keys only.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from ..metrics import Correlation, pearson
from .rundata import RunData
from .summary import summarize
from .tables import alignment_rows, faithfulness_rows

Epochs = Mapping[int, Mapping[str, Any]]
FIG_METHODS = ("prompt-topk", "input_x_gradient")
"""Methods the paper's Figures 3 and 4 follow across epochs."""


def epoch_summary(data: RunData, pretrained_accuracy: float | None = None, n_resamples: int = 200, seed: int = 0) -> dict[str, Any]:
    """The per-epoch summary (keys above) of one evaluation's stored results."""
    s = summarize(data, n_resamples, seed)
    align = alignment_rows(data, n_resamples, seed)
    faith = faithfulness_rows(data, None, n_resamples, seed)
    return {
        "accuracy": s.accuracy, "accuracy_ci": list(s.accuracy_ci), "zero_rate": s.zero_rate, "n": s.n_examples,
        "label_distribution": s.pred_shares, "gold_distribution": s.gold_shares,
        "alignment": {r.method: r.micro_f1 for r in align}, "alignment_macro": {r.method: r.macro_f1 for r in align},
        "flip_rate": {r.method: r.flip_rate for r in faith}, "logprob_change": {r.method: r.logprob_change for r in faith},
        "mask_all_flip_rate": s.mask_all.flip_rate if s.mask_all else None,
        "pretrained_accuracy": pretrained_accuracy,
    }


def _num(x: Any) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


def sorted_epochs(epochs: Epochs) -> list[int]:
    """Epoch numbers in order (JSON may have turned them into strings)."""
    return sorted(int(e) for e in epochs)


def _get(epochs: Epochs, e: int) -> Mapping[str, Any]:
    return epochs.get(e, epochs.get(str(e), {}))  # type: ignore[call-overload]


def series(epochs: Epochs, key: str, sub: str | None = None) -> tuple[list[int], list[float]]:
    """``(epochs, values)`` of ``summary[key]`` (or ``summary[key][sub]``); NaN where missing."""
    xs = sorted_epochs(epochs)
    ys = []
    for e in xs:
        v = _get(epochs, e).get(key)
        if sub is not None:
            v = v.get(sub) if isinstance(v, Mapping) else None
        ys.append(_num(v))
    return xs, ys


def pretrained_accuracy(epochs: Epochs) -> float:
    """The stored ``pretrained_accuracy``, else the accuracy at epoch 0 (NaN if neither)."""
    for e in sorted_epochs(epochs):
        v = _num(_get(epochs, e).get("pretrained_accuracy"))
        if not math.isnan(v):
            return v
    return _num(_get(epochs, 0).get("accuracy")) if 0 in sorted_epochs(epochs) else math.nan


def methods_in(epochs: Epochs, key: str) -> list[str]:
    """Every method that appears under ``summary[key]`` in some epoch."""
    seen: list[str] = []
    for e in sorted_epochs(epochs):
        v = _get(epochs, e).get(key)
        if isinstance(v, Mapping):
            seen.extend(m for m in v if m not in seen)
    return seen


def correlations(epochs: Epochs, key: str) -> dict[str, Correlation]:
    """Pearson r (with p) across epochs between accuracy and ``key`` of every method:
    ``key="alignment"`` gives the paper's Table 3, ``key="flip_rate"`` its Table 5."""
    _, acc = series(epochs, "accuracy")
    out = {}
    for m in methods_in(epochs, key):
        _, ys = series(epochs, key, m)
        pairs = [(a, y) for a, y in zip(acc, ys) if not (math.isnan(a) or math.isnan(y))]
        out[m] = pearson([a for a, _ in pairs], [y for _, y in pairs])
    return out


def label_shares(epochs: Epochs) -> tuple[list[int], list[str], list[list[float]]]:
    """``(epochs, labels, shares[label_index][epoch_index])`` of the predicted-label shares."""
    xs = sorted_epochs(epochs)
    labels = methods_in(epochs, "label_distribution")
    shares = [series(epochs, "label_distribution", lab)[1] for lab in labels]
    return xs, labels, [[0.0 if math.isnan(v) else v for v in row] for row in shares]
