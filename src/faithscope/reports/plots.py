"""Figures of a report (matplotlib, Agg backend), each written as PNG and SVG.

Per run: predicted vs gold label distribution; flip rate per method and alignment F1 per
method, with 95% CI error bars (one bar group per run when runs are composed).

Per fine-tuning run, from ``ResultStore.epochs()`` (``{epoch: summary}``; the summary keys
are documented in :mod:`faithscope.reports.epochs` — ``accuracy``, ``zero_rate``,
``label_distribution`` {label: share}, ``alignment`` {method: micro F1}, ``flip_rate``
{method: rate}, ``mask_all_flip_rate``, ``pretrained_accuracy``; fractions in [0, 1]):
Fig. 2 accuracy per epoch with the pre-trained and zero-rate lines; Fig. 3 accuracy and
alignment F1 per epoch (prompt-topk and input_x_gradient); Fig. 4 accuracy and flip rate per
epoch (same methods and mask-ALL); Fig. A.1 predicted-label distribution per epoch (stacked).
The functions take plain data (no store) so that they can be tested and reused; each returns
the paths it wrote, or ``[]`` when there is nothing to draw.
"""

from __future__ import annotations

import functools
import math
import textwrap
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .epochs import FIG_METHODS, Epochs, label_shares, pretrained_accuracy, series
from .tables import display

Interval = tuple[float, float, float]
"""(value, CI low, CI high) as fractions."""

STYLE = {"font.size": 10, "axes.titlesize": 11, "svg.hashsalt": "faithscope"}
"""rc settings applied around each figure only (a fixed hash salt makes SVG output stable);
figures are built with :class:`matplotlib.figure.Figure`, never pyplot, so importing this
module changes no global matplotlib state (backend or rcParams)."""


def _styled(fn: Callable[..., list[Path]]) -> Callable[..., list[Path]]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> list[Path]:
        with matplotlib.rc_context(STYLE):
            return fn(*args, **kwargs)
    return wrapper


def _figure(width: float, height: float) -> tuple[Figure, Axes]:
    fig = Figure(figsize=(width, height))
    return fig, fig.subplots()


def save(fig: Figure, stem: Path) -> list[Path]:
    """Write ``stem.png`` and ``stem.svg`` (Agg / SVG renderers, no GUI)."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    paths = [stem.with_suffix(".png"), stem.with_suffix(".svg")]
    fig.savefig(paths[0], dpi=150)
    fig.savefig(paths[1], metadata={"Date": None})
    return paths


def _method_label(m: str) -> str:
    """Bar label: the row name, plus the selection where it tells prompting rows apart."""
    name, selection = display(m)
    return f"{name}\n{selection}" if m.startswith("prompt") else name


def _title(ax: Axes, title: str) -> None:
    """Set a title, wrapping long lines (run labels) so they stay inside the figure."""
    ax.set_title("\n".join(textwrap.fill(line, 70) for line in title.split("\n")), fontsize=10)


def _bar_values(ax: Axes, bars: Any) -> None:
    ax.bar_label(bars, fmt="%.1f", fontsize=7, padding=2)


@_styled
def plot_label_distribution(labels: Sequence[str], gold: Mapping[str, int], predicted: Mapping[str, int], title: str, stem: Path) -> list[Path]:
    """Bar chart of gold vs predicted label shares (%) of one run."""
    if not labels:
        return []
    n_gold, n_pred = max(sum(gold.values()), 1), max(sum(predicted.values()), 1)
    xs = range(len(labels))
    fig, ax = _figure(max(4.5, 1.3 * len(labels) + 2), 3.6)
    _bar_values(ax, ax.bar([x - 0.2 for x in xs], [100 * gold.get(lab, 0) / n_gold for lab in labels], 0.4, label="gold", color="#999999"))
    _bar_values(ax, ax.bar([x + 0.2 for x in xs], [100 * predicted.get(lab, 0) / n_pred for lab in labels], 0.4, label="predicted", color="#1f77b4"))
    ax.set_xticks(list(xs), labels)
    ax.set_ylabel("share of examples (%)")
    ax.set_ylim(0, 110)
    _title(ax, title)
    ax.legend()
    return save(fig, stem)


@_styled
def plot_methods(values: Mapping[str, Mapping[str, Interval]], title: str, ylabel: str, stem: Path) -> list[Path]:
    """Grouped bars per method (one colour per run) with CI error bars; values in %."""
    methods: list[str] = []
    for per_method in values.values():
        methods.extend(m for m in per_method if m not in methods)
    if not methods:
        return []
    runs = list(values)
    width = 0.8 / len(runs)
    fig, ax = _figure(max(6.0, 0.9 * len(methods) + 2), 4.0)
    for j, run in enumerate(runs):
        xs, ys, lo, hi = [], [], [], []
        for i, m in enumerate(methods):
            if m not in values[run] or math.isnan(values[run][m][0]):
                continue
            v, a, b = (100 * x for x in values[run][m])
            xs.append(i - 0.4 + width * (j + 0.5))
            ys.append(v)
            lo.append(0.0 if math.isnan(a) else max(v - a, 0.0))
            hi.append(0.0 if math.isnan(b) else max(b - v, 0.0))
        bars = ax.bar(xs, ys, width, yerr=[lo, hi], capsize=3, label=run)
        if len(runs) == 1:
            _bar_values(ax, bars)
    ax.set_xticks(range(len(methods)), [_method_label(m) for m in methods], fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 110)
    _title(ax, title)
    if len(runs) > 1:
        ax.legend(fontsize=7, loc="upper right")
    return save(fig, stem)


def _pct(ys: Sequence[float]) -> list[float]:
    return [100 * y for y in ys]


def _has(ys: Sequence[float]) -> bool:
    return any(not math.isnan(y) for y in ys)


def _epoch_axes(title: str) -> tuple[Figure, Axes]:
    fig, ax = _figure(6.0, 3.8)
    ax.set_xlabel("epoch (0 = pre-trained)")
    ax.set_ylabel("%")
    ax.set_ylim(0, 100)
    _title(ax, title)
    return fig, ax


@_styled
def plot_accuracy_epochs(epochs: Epochs, stem: Path, title: str = "Fig. 2: accuracy per epoch") -> list[Path]:
    """Accuracy per epoch with the pre-trained accuracy and the zero-rate baseline as lines."""
    xs, acc = series(epochs, "accuracy")
    if not _has(acc):
        return []
    fig, ax = _epoch_axes(title)
    ax.set_ylabel("accuracy (%)")
    ax.plot(xs, _pct(acc), marker="o", label="accuracy")
    pre = pretrained_accuracy(epochs)
    if not math.isnan(pre):
        ax.axhline(100 * pre, color="grey", linestyle="--", label="pre-trained")
    _, zero = series(epochs, "zero_rate")
    zs = [z for z in zero if not math.isnan(z)]
    if zs:
        ax.axhline(100 * zs[-1], color="red", linestyle=":", label="zero-rate baseline")
    ax.set_xticks(xs)
    ax.legend(fontsize=8)
    return save(fig, stem)


@_styled
def _accuracy_and(epochs: Epochs, key: str, methods: Sequence[str], title: str, ylabel: str, stem: Path, extra: str | None = None) -> list[Path]:
    xs, acc = series(epochs, "accuracy")
    lines = [(f"{display(m)[0]} ({display(m)[1]})", series(epochs, key, m)[1]) for m in methods]
    if extra:
        lines.append(("mask ALL", series(epochs, extra)[1]))
    lines = [(name, ys) for name, ys in lines if _has(ys)]
    if not lines and not _has(acc):
        return []
    fig, ax = _epoch_axes(title)
    ax.set_ylabel(ylabel)
    if _has(acc):
        ax.plot(xs, _pct(acc), marker="o", color="black", label="accuracy")
    for name, ys in lines:
        ax.plot(xs, _pct(ys), marker="s", linestyle="--", label=name)
    ax.set_xticks(xs)
    ax.legend(fontsize=8)
    return save(fig, stem)


def plot_alignment_epochs(epochs: Epochs, stem: Path, methods: Sequence[str] = FIG_METHODS) -> list[Path]:
    """Fig. 3: accuracy and alignment micro F1 per epoch of ``methods``."""
    return _accuracy_and(epochs, "alignment", methods, "Fig. 3: accuracy and alignment F1 per epoch", "accuracy / micro F1 (%)", stem)


def plot_flip_epochs(epochs: Epochs, stem: Path, methods: Sequence[str] = FIG_METHODS) -> list[Path]:
    """Fig. 4: accuracy and flip rate per epoch of ``methods`` and of masking ALL."""
    return _accuracy_and(epochs, "flip_rate", methods, "Fig. 4: accuracy and flip rate per epoch", "accuracy / flip rate (%)", stem, extra="mask_all_flip_rate")


@_styled
def plot_label_epochs(epochs: Epochs, stem: Path) -> list[Path]:
    """Fig. A.1: predicted-label distribution per epoch as stacked bars."""
    xs, labels, shares = label_shares(epochs)
    if not labels:
        return []
    fig, ax = _epoch_axes("Fig. A.1: predicted-label distribution per epoch")
    ax.set_ylabel("share of predictions (%)")
    ax.set_ylim(0, 105)
    bottom = [0.0] * len(xs)
    for lab, row in zip(labels, shares):
        ax.bar(xs, _pct(row), 0.6, bottom=bottom, label=lab)
        bottom = [b + 100 * v for b, v in zip(bottom, row)]
    ax.set_xticks(xs)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return save(fig, stem)


def epoch_plots(epochs: Epochs, out_dir: Path, prefix: str = "") -> dict[str, list[Path]]:
    """All four fine-tuning figures into ``out_dir``; only those with data are written."""
    if not epochs:
        return {}
    made = {"fig2_accuracy": plot_accuracy_epochs(epochs, out_dir / f"{prefix}fig2_accuracy_epochs"),
            "fig3_alignment": plot_alignment_epochs(epochs, out_dir / f"{prefix}fig3_alignment_epochs"),
            "fig4_flip_rate": plot_flip_epochs(epochs, out_dir / f"{prefix}fig4_flip_rate_epochs"),
            "figA1_labels": plot_label_epochs(epochs, out_dir / f"{prefix}figA1_label_distribution_epochs")}
    return {k: v for k, v in made.items() if v}


def run_plots(runs: Sequence[Any], out_dir: Path) -> dict[str, list[Path]]:
    """Every figure of a report from computed runs (:class:`~faithscope.reports.compose.RunTables`):
    label distribution per run, flip rate and alignment F1 per method (runs side by side), and
    the fine-tuning figures of runs that stored epoch summaries."""
    made: dict[str, list[Path]] = {}
    many = len(runs) > 1
    for i, rt in enumerate(runs, start=1):
        prefix = f"run{i}_" if many else ""
        s = rt.summary
        made[f"{prefix}label_distribution"] = plot_label_distribution(
            s.labels, s.gold_counts, s.pred_counts, f"Gold vs predicted labels\n{s.label}", out_dir / f"{prefix}label_distribution")
        made.update({f"{prefix}{k}": v for k, v in epoch_plots(rt.data.epochs, out_dir, prefix).items()})
    tag = (lambda i, rt: f"[{i}] {rt.data.state} · {rt.data.dataset}") if many else (lambda i, rt: rt.data.label)
    made["flip_rate"] = plot_methods({tag(i, rt): {r.method: (r.flip_rate, *r.flip_ci) for r in rt.faithfulness} for i, rt in enumerate(runs, 1)},
                                     "Flip rate on masking the rationale (95% CI)", "flip rate (%)", out_dir / "flip_rate")
    made["alignment"] = plot_methods({tag(i, rt): {r.method: (r.micro_f1, *r.micro_ci) for r in rt.alignment} for i, rt in enumerate(runs, 1)},
                                     "Alignment with human rationales (95% CI)", "micro F1 (%)", out_dir / "alignment_f1")
    return {k: v for k, v in made.items() if v}
