"""The study's figures (PNG + SVG through :func:`faithscope.reports.plots.save`), from a
:class:`~faithscope.selfexplain.report.StudyData` only:

* ``selfexplain_before_after`` — the headline metric per style × task (one-word mode),
  before vs ``after:main``, with 95% CI error bars;
* ``selfexplain_cross_style`` — the cross-style matrix as a heatmap (rows: the condition
  trained on one style, plus ``before`` and ``after:main``; columns: the evaluated style;
  each cell's value written in it).

Each function returns the paths it wrote, ``[]`` when there is nothing to draw.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib
import numpy as np

from ..reports.plots import STYLE, _figure, save

if TYPE_CHECKING:
    from .report import StudyData


def before_after_plot(data: "StudyData", stem: Path, mode: str = "one", n_resamples: int = 1000, seed: int = 0) -> list[Path]:
    from .report import _NAN3, BEFORE, MAIN, _rates

    if not data.metrics:
        return []
    m = data.metrics[0]
    groups = [(s, t) for s in data.styles for t in data.tasks if data.get(BEFORE, t, s, mode)]
    if not groups:
        return []
    conditions = [c for c in (BEFORE, MAIN) if any(data.get(c, t, s, mode) for s, t in groups)]
    with matplotlib.rc_context(STYLE):
        fig, ax = _figure(max(5.0, 0.9 * len(groups) + 2), 4.0)
        width = 0.8 / len(conditions)
        x = np.arange(len(groups))
        for k, c in enumerate(conditions):
            vals, lo, hi = [], [], []
            for s, t in groups:
                v, a, b = _rates(data.get(c, t, s, mode), n_resamples, seed).get(m.name, _NAN3)
                vals.append(v)
                lo.append(0.0 if math.isnan(v) or math.isnan(a) else v - a)
                hi.append(0.0 if math.isnan(v) or math.isnan(b) else b - v)
            ax.bar(x + (k - (len(conditions) - 1) / 2) * width, vals, width, yerr=[lo, hi], capsize=3, label=c)
        ax.set_xticks(x, [f"{s}\n{t}" for s, t in groups], fontsize=8)
        ax.set_ylabel(m.header)
        if m.percent:
            ax.set_ylim(0, 1)
        ax.set_title(f"{m.label or m.name} before vs after training (mode {mode})")
        ax.legend(fontsize=8)
        return save(fig, stem)


def cross_style_heatmap(data: "StudyData", stem: Path, mode: str = "one") -> list[Path]:
    from .report import cross_style_matrix

    labels, styles, values = cross_style_matrix(data, mode)
    if not any(lab.startswith("after:style=") for lab in labels) or values.size == 0:
        return []
    m = data.metrics[0]
    with matplotlib.rc_context(STYLE):
        fig, ax = _figure(1.6 * len(styles) + 2.5, 0.6 * len(labels) + 1.8)
        vmin, vmax = (0.0, 1.0) if m.percent else (float(np.nanmin(values)), float(np.nanmax(values)))
        image = ax.imshow(np.ma.masked_invalid(values), cmap="viridis", vmin=vmin, vmax=vmax, aspect="auto")
        ax.set_xticks(range(len(styles)), [f"eval {s}" for s in styles])
        ax.set_yticks(range(len(labels)), labels)
        for i in range(values.shape[0]):
            for j in range(values.shape[1]):
                v = values[i, j]
                text = "–" if math.isnan(v) else (f"{100 * v:.0f}%" if m.percent else f"{v:.2f}")
                ax.text(j, i, text, ha="center", va="center", color="white" if not math.isnan(v) and v < (vmin + vmax) / 2 else "black")
        fig.colorbar(image, ax=ax, label=m.header)
        ax.set_title(f"Cross-style {m.label or m.name} (mode {mode}, pooled over tasks)")
        return save(fig, stem)


def study_plots(data: "StudyData", out_dir: Path) -> dict[str, list[Path]]:
    out = Path(out_dir)
    return {"before_after": before_after_plot(data, out / "selfexplain_before_after"),
            "cross_style": cross_style_heatmap(data, out / "selfexplain_cross_style")}
