"""Counterfactual tables from the store only: CSV (raw numbers), Markdown and LaTeX, and the
TPR-vs-FPR and CCT-vs-φ-CCT figures (:mod:`.plots`).

One row per run (model x dataset x style x order). Metric columns are named as in the
metric registry (``ct_flip_rate``, ``ct_unfaithfulness``, ``cct``, ``phi_cct``, ``tpr``,
``fpr``, ``verbosity``) with ``<name>_ci_low``/``<name>_ci_high`` beside them, then how often
the model's replies could not be used (``parse_failure_rate``, ``empty_explanation_rate``), so
a model that does not explain at all shows it.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

from ..metrics import METRICS
from ..metrics.counterfactual import COUNTERFACTUAL_METRICS, summarize
from ..reports.render import Table, write_table
from .store import CounterfactualStore

TABLE_STEM = "counterfactual"


def summary_record(store: CounterfactualStore, n_resamples: int = 1000, seed: int = 0) -> dict[str, Any]:
    """The run's metrics with CIs and parse statistics, as one flat record."""
    meta = store.meta()
    cfg, model = meta["config"], meta["model"]
    rec: dict[str, Any] = {
        "model": str(model.get("name") or model.get("model") or ""),
        "adapter": str(model.get("adapter") or ""),
        "dataset": cfg.get("dataset", ""), "style": cfg.get("style", ""), "order": cfg.get("order", ""),
        "positions": cfg.get("positions"), "words": cfg.get("words"), "n_examples": store.n_examples(),
    }
    stats = store.parse_stats()
    rec["n_interventions"] = stats["n_interventions"]
    values = summarize(store.outcomes(), n_resamples=n_resamples, seed=seed)
    for name in COUNTERFACTUAL_METRICS:
        v = values[name]
        rec[name], rec[f"{name}_ci_low"], rec[f"{name}_ci_high"] = v.value, v.ci_low, v.ci_high
    rec["parse_failure_rate"] = stats["parse_failure_rate"]
    rec["empty_explanation_rate"] = stats["empty_explanation_rate"]
    return rec


def _fmt(v: Any, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return f"{v:.{digits}f}" if isinstance(v, float) else str(v)


def counterfactual_table(records: Sequence[dict[str, Any]]) -> Table:
    columns = [f"{m} [95% CI]" for m in COUNTERFACTUAL_METRICS] + ["parse failures", "empty explanations"]
    rows = []
    for r in records:
        heads = [r["model"] + (f" + {r['adapter']}" if r["adapter"] else ""), r["dataset"], r["style"], r["order"],
                 str(r["n_examples"]), str(r["n_interventions"])]
        vals = [f"{_fmt(r[m])} [{_fmt(r[m + '_ci_low'])}, {_fmt(r[m + '_ci_high'])}]" for m in COUNTERFACTUAL_METRICS]
        vals += [_fmt(r["parse_failure_rate"]), _fmt(r["empty_explanation_rate"])]
        rows.append((heads, vals))
    notes = [f"{m}: {METRICS[m].description} ({'higher' if METRICS[m].higher_is_better else 'lower'} is better)"
             for m in COUNTERFACTUAL_METRICS]
    notes.append("CIs: percentile bootstrap over examples (1000 resamples). Mention: case-insensitive whole word.")
    return Table(title="Counterfactual tests of self-explanations", row_header=["model", "dataset", "style", "order", "examples", "interventions"],
                 columns=columns, rows=rows, notes=notes)


def write_counterfactual_tables(run_dirs: Sequence[Path], out_dir: Path) -> list[Path]:
    """``counterfactual.{csv,md,tex}`` in ``out_dir`` for the given run directories."""
    records = []
    for d in run_dirs:
        store = CounterfactualStore(d)
        try:
            records.append(summary_record(store))
        finally:
            store.close()
    from .plots import counterfactual_plots

    paths = write_table(counterfactual_table(records), records, Path(out_dir) / TABLE_STEM)
    for figure in counterfactual_plots(records, Path(out_dir)).values():
        paths.extend(figure)
    return paths
