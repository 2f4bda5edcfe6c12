"""Counterfactual figures from summary records (:func:`.report.summary_record`):
TPR vs FPR (one point per model x style run; the Pareto view of Siegel et al. 2025) and CCT
vs φ-CCT across runs. PNG + SVG through :func:`faithscope.reports.plots.save`."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

import matplotlib

from ..reports.plots import STYLE, _figure, save


def _label(r: dict[str, Any]) -> str:
    model = r["model"] + (" + adapter" if r.get("adapter") else "")
    return f"{model} {r['dataset']} {r['style']}/{r['order']}"


def _scatter(records: Sequence[dict[str, Any]], x: str, y: str, title: str, stem: Path, diagonal: bool) -> list[Path]:
    pts = [r for r in records if all(isinstance(r.get(k), float) and math.isfinite(r[k]) for k in (x, y))]
    if not pts:
        return []
    with matplotlib.rc_context(STYLE):
        fig, ax = _figure(5.5, 4.5)
        for r in pts:
            xerr = [[r[x] - r[f"{x}_ci_low"]], [r[f"{x}_ci_high"] - r[x]]] if math.isfinite(r.get(f"{x}_ci_low", math.nan)) else None
            yerr = [[r[y] - r[f"{y}_ci_low"]], [r[f"{y}_ci_high"] - r[y]]] if math.isfinite(r.get(f"{y}_ci_low", math.nan)) else None
            ax.errorbar([r[x]], [r[y]], xerr=xerr, yerr=yerr, fmt="o", capsize=3, label=_label(r))
        if diagonal:
            ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        ax.set_title(title)
        ax.legend(fontsize=7, loc="best")
        return save(fig, stem)


def counterfactual_plots(records: Sequence[dict[str, Any]], out_dir: Path) -> dict[str, list[Path]]:
    """``cf_tpr_fpr`` and ``cf_cct_phi`` in ``out_dir`` (``[]`` for a figure with no data)."""
    out = Path(out_dir)
    return {
        "tpr_fpr": _scatter(records, "fpr", "tpr", "TPR vs FPR of mentioning the inserted word", out / "cf_tpr_fpr", True),
        "cct_phi": _scatter(records, "cct", "phi_cct", "CCT vs phi-CCT across runs", out / "cf_cct_phi", False),
    }
