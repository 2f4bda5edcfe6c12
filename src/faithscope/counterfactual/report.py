"""Counterfactual tables from the store only: CSV (raw numbers), Markdown and LaTeX, and the
TPR-vs-FPR and CCT-vs-φ-CCT figures (:mod:`.plots`).

One row per run (model x dataset x style x order). Metric columns are named as in the
metric registry (``ct_flip_rate``, ``ct_unfaithfulness``, ``cct``, ``phi_cct``, ``tpr``,
``fpr``, ``verbosity``) with ``<name>_ci_low``/``<name>_ci_high`` beside them, then how often
the model's replies could not be used (``parse_failure_rate``, ``empty_explanation_rate``, and
``label_only_rate``: explanations that are only label words), so a model that does not explain
at all shows it.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

from ..metrics import METRICS, MetricInfo
from ..metrics.counterfactual import summarize
from ..reports.render import Table, write_table
from .store import CounterfactualStore

TABLE_STEM = "counterfactual"
TABLE_TITLE = "Counterfactual tests of self-explanations"


def counterfactual_metrics() -> list[MetricInfo]:
    """The registry's counterfactual metrics (family ``counterfactual``), in display order:
    the table's columns and the records' metric keys come from here."""
    return [m for m in METRICS.values() if m.family == "counterfactual"]


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
    for name in (m.name for m in counterfactual_metrics()):
        v = values[name]
        rec[name], rec[f"{name}_ci_low"], rec[f"{name}_ci_high"] = v.value, v.ci_low, v.ci_high
    rec["parse_failure_rate"] = stats["parse_failure_rate"]
    rec["empty_explanation_rate"] = stats["empty_explanation_rate"]
    rec["label_only_rate"] = label_only_rate(store.explanations(), _label_words(cfg.get("dataset", "")))
    return rec


def _label_words(dataset: str) -> list[str]:
    """The task's labels and verbalizers of a counterfactual ``--dataset`` name ([] if unknown)."""
    from ..data import DATASETS, dataset_spec
    from ..tasks import load_task
    from .runner import DATASET_ALIASES

    name = DATASET_ALIASES.get(dataset, dataset)
    if name not in DATASETS:
        return []
    task = load_task(dataset_spec(name).task)
    return [*task.labels, *task.verbalizers.values()]


def label_only_rate(explanations: Sequence[str], label_words: Sequence[str]) -> float:
    """Share of explanations that are nothing but label words (NaN with no explanations)."""
    from ..explanations.parse import is_label_only

    if not explanations:
        return float("nan")
    return sum(is_label_only(e, label_words) for e in explanations) / len(explanations)


def _fmt(v: Any, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return f"{v:.{digits}f}" if isinstance(v, float) else str(v)


def counterfactual_table(records: Sequence[dict[str, Any]], n_resamples: int = 1000) -> Table:
    """One row per run; a column per registry metric (header = label and better direction),
    the value with its 95% CI in the cell, then the parse-failure and empty-explanation rates."""
    metrics = counterfactual_metrics()
    columns = [f"{m.header} [95% CI]" for m in metrics] + ["parse failures", "empty explanations", "label-only explanations"]
    rows = []
    for r in records:
        heads = [r["model"] + (f" + {r['adapter']}" if r["adapter"] else ""), r["dataset"], r["style"], r["order"],
                 str(r["n_examples"]), str(r["n_interventions"])]
        vals = [f"{_fmt(r[m.name])} [{_fmt(r[m.name + '_ci_low'])}, {_fmt(r[m.name + '_ci_high'])}]" for m in metrics]
        vals += [_fmt(r["parse_failure_rate"]), _fmt(r["empty_explanation_rate"]), _fmt(r.get("label_only_rate"))]
        rows.append((heads, vals))
    notes = [f"{m.label or m.name}: {m.description} ({'higher' if m.higher_is_better else 'lower'} is better)" for m in metrics]
    notes.append(f"CIs: percentile bootstrap over examples ({n_resamples} resamples). Mention: case-insensitive whole word.")
    notes.append("label-only explanations: share of explanations made of nothing but label words (they parse, but explain "
                 "nothing; a fine-tuned classifier may write them).")
    return Table(title=TABLE_TITLE, row_header=["model", "dataset", "style", "order", "examples", "interventions"],
                 columns=columns, rows=rows, notes=notes)


def counterfactual_records(run_dirs: Sequence[Path], n_resamples: int = 1000, seed: int = 0) -> list[dict[str, Any]]:
    """One summary record per counterfactual run directory, read without changing it."""
    records = []
    for d in run_dirs:
        store = CounterfactualStore(d, readonly=True)
        try:
            records.append(summary_record(store, n_resamples, seed) | {"run_dir": str(d)})
        finally:
            store.close()
    return records


def write_counterfactual_tables(run_dirs: Sequence[Path], out_dir: Path, n_resamples: int = 1000, seed: int = 0,
                                records: Sequence[dict[str, Any]] | None = None) -> list[Path]:
    """``counterfactual.{csv,md,tex}`` and the figures in ``out_dir`` for the given run
    directories (or for ``records`` already computed from them)."""
    from .plots import counterfactual_plots

    if records is None:
        records = counterfactual_records(run_dirs, n_resamples, seed)
    paths = write_table(counterfactual_table(records, n_resamples), records, Path(out_dir) / TABLE_STEM)
    for figure in counterfactual_plots(records, Path(out_dir)).values():
        paths.extend(figure)
    return paths
