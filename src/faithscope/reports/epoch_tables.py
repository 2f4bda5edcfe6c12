"""Tables of a fine-tuning run: metrics per epoch, and Tables 3/5 (Pearson r with accuracy).

Read from the per-epoch summaries (keys in :mod:`faithscope.reports.epochs`). Table 3 of the
paper correlates alignment F1 with accuracy across epochs, Table 5 the flip rate with
accuracy; a correlation that is undefined (constant series, fewer than 3 epochs) shows its
reason instead of a number.
"""

from __future__ import annotations

import math
from typing import Any

from .compose import DASH, num, pct
from .epochs import Epochs, correlations, methods_in, series, sorted_epochs
from .render import Table
from .tables import ORDER_T2, ORDER_T4, display, ordered


def _name(m: str) -> str:
    name, sel = display(m)
    return f"{name} {sel}" if m.startswith("prompt") else name


def epoch_table(epochs: Epochs, label: str) -> tuple[Table, list[dict[str, Any]]]:
    """Accuracy, zero-rate, mask-ALL flip rate, alignment F1 and flip rate per epoch."""
    align = ordered(methods_in(epochs, "alignment"), ORDER_T2)
    flips = ordered(methods_in(epochs, "flip_rate"), ORDER_T4)
    cols = ["accuracy", "zero-rate", "mask-ALL flip"] + [f"F1 {_name(m)}" for m in align] + [f"flip {_name(m)}" for m in flips]
    xs = sorted_epochs(epochs)
    data = {"accuracy": series(epochs, "accuracy")[1], "zero_rate": series(epochs, "zero_rate")[1],
            "mask_all_flip_rate": series(epochs, "mask_all_flip_rate")[1]}
    data |= {f"alignment_{m}": series(epochs, "alignment", m)[1] for m in align}
    data |= {f"flip_rate_{m}": series(epochs, "flip_rate", m)[1] for m in flips}
    rows, records = [], []
    for i, e in enumerate(xs):
        rows.append(([str(e)], [pct(v[i]) for v in data.values()]))
        records.append({"run_label": label, "epoch": e} | {k: v[i] for k, v in data.items()})
    table = Table("Metrics per epoch (%, epoch 0 = pre-trained)", ["Epoch"], cols, rows, [(label, len(cols))] if cols else [],
                  ["F1 = micro F1 of alignment rationales; flip = flip rate of masking faithfulness rationales."])
    return table, records


def _reason(c: Any) -> str:
    """The correlation's caveat, naming the series (x = accuracy, y = the metric)."""
    if not c.reason:
        return ""
    return " (" + c.reason.replace("x is constant", "accuracy is constant").replace("y is constant", "metric is constant") + ")"


def _corr_cells(c: Any) -> list[str]:
    if c is None:
        return [DASH, DASH, DASH]
    if math.isnan(c.r):
        return [DASH, DASH, f"{c.n}{_reason(c)}"]
    return [num(c.r, 3), f"{c.p:.3g}", f"{c.n}{_reason(c)}"]


def correlation_table(epochs: Epochs, label: str) -> tuple[Table, list[dict[str, Any]]]:
    """Tables 3 and 5: Pearson r and p across epochs of accuracy with alignment F1 and with
    flip rate, one row per method."""
    t3, t5 = correlations(epochs, "alignment"), correlations(epochs, "flip_rate")
    methods = ordered(set(t3) | set(t5), ORDER_T2)
    rows, records = [], []
    for m in methods:
        a, f = t3.get(m), t5.get(m)
        rows.append((list(display(m)), _corr_cells(a) + _corr_cells(f)))
        records.append({"run_label": label, "method": m,
                        "r_alignment_accuracy": a.r if a else None, "p_alignment_accuracy": a.p if a else None, "reason_alignment": a.reason if a else None,
                        "r_flip_rate_accuracy": f.r if f else None, "p_flip_rate_accuracy": f.p if f else None, "reason_flip_rate": f.reason if f else None,
                        "epochs": (a or f).n if (a or f) else None})
    table = Table("Tables 3/5: Pearson correlation with accuracy across epochs", ["Method", "Selection"],
                  ["r (F1)", "p (F1)", "epochs (F1)", "r (flip)", "p (flip)", "epochs (flip)"], rows,
                  [(label, 6)], ["Table 3: alignment micro F1 vs accuracy; Table 5: flip rate vs accuracy (scipy.stats.pearsonr)."])
    return table, records
