"""Composed outputs at the top of a sweep directory, from the cells' stores only.

- ``<evaluation>.md/.csv/.tex``: one table per evaluation, one row per (model, dataset) cell:
  N, accuracy with its 95% CI, the zero-rate baseline, and for every method the headline
  metric of each paper table of the evaluation kind (the first registry entry of Table 2,
  micro F1, and of Table 4, flip rate) with its 95% CI. CSV holds raw fractions.
- ``plots/<evaluation>__<dataset>__<metric>.png/.svg``: each headline metric (and accuracy)
  against parameter count (log x), one colour per method, a pretrained model and its
  instruction-tuned partner joined by a line; models without ``params`` are left out (noted).
- a kind with its own table (``counterfactual``: one row per cell with CT/CCT/φ-CCT/TPR/FPR
  and CIs) writes that instead, its headline metrics against parameter count, and its own
  figures in ``plots/<evaluation>/`` (TPR vs FPR, CCT vs φ-CCT).
- ``index.html``: every cell with its status and a link to its ``report.html``, the composed
  tables and the figures. All text is HTML-escaped.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from ..metrics import get_metric, table_metrics
from ..reports.compose import RunTables, ci_text, compute, metric_cell, metric_ci, metric_value, pct
from ..reports.render import Table, write_table
from ..reports.rundata import load_run
from ..reports.tables import ORDER_T2, display, ordered
from .cells import Cell
from .kinds import KINDS

#: Table 4 rows keep their CIs as attributes; where a name differs from ``<metric>_ci``.
_ROW_CI_ATTR = {"flip_rate": "flip_ci", "logprob_change": "logprob_ci"}


@dataclass
class ComposeResult:
    out_dir: Path
    files: dict[str, list[Path]] = field(default_factory=dict)
    tables: dict[str, Table] = field(default_factory=dict)
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def headline_metrics(kind: str) -> list[str]:
    """The headline metric of each paper table of ``kind``: that table's first registry entry."""
    return [ms[0].name for t in KINDS[kind].paper_tables if (ms := table_metrics(t))]


def _rows_by_method(rt: RunTables, metric: str) -> dict[str, Any]:
    rows = rt.alignment if get_metric(metric).family == "alignment" else rt.faithfulness
    return {r.method: r for r in rows}


def _row_ci(row: Any, metric: str) -> tuple[float, float] | None:
    ci = metric_ci(row, metric)
    return ci if ci is not None else getattr(row, _ROW_CI_ATTR.get(metric, f"{metric}_ci"), None)


def _nan(x: float | None) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def evaluation_table(name: str, kind: str, cells: Sequence[Cell], computed: dict[str, RunTables]) -> tuple[Table, list[dict[str, Any]]]:
    """The composed table of one evaluation (display strings) and its CSV records (raw values)."""
    metrics = headline_metrics(kind)
    done = [c for c in cells if c.name in computed]
    methods = ordered({m for c in done for metric in metrics for m in _rows_by_method(computed[c.name], metric)}, ORDER_T2)
    # A server reply that names no label is counted wrong; the column says how many, so an accuracy of 0 from
    # unreadable replies is not mistaken for a model that answers wrongly (shown only when some cell has them).
    unreadable = any(computed[c.name].summary.n_unparseable for c in done)
    columns = ["N", "accuracy", "95% CI", "zero-rate", *(["label unreadable"] if unreadable else [])]
    for metric in metrics:
        for m in methods:
            columns += [f"{display(m)[0]} {get_metric(metric).header}", "95% CI"]
    rows, records = [], []
    for c in done:
        rt = computed[c.name]
        s = rt.summary
        unreadable_share = s.n_unparseable / s.n_predicted if s.n_predicted else math.nan
        cells_text = [str(s.n_examples), pct(s.accuracy), ci_text(s.accuracy_ci), pct(s.zero_rate), *([pct(unreadable_share)] if unreadable else [])]
        rec: dict[str, Any] = {"model": c.model.name, "dataset": c.dataset.name, "evaluation": name, "family": c.model.family,
                               "params": c.model.params, "tuned": c.model.tuned, "partner": c.model.partner, "epoch": c.model.epoch,
                               "n": s.n_examples, "accuracy": s.accuracy, "accuracy_ci_low": s.accuracy_ci[0],
                               "accuracy_ci_high": s.accuracy_ci[1], "zero_rate": s.zero_rate, "label_unreadable": unreadable_share,
                               "cell_dir": str(c.dir)}
        for metric in metrics:
            by_method = _rows_by_method(rt, metric)
            info = get_metric(metric)
            scale, digits = (100.0, 2) if info.percent else (1.0, 3)
            for m in methods:
                row = by_method.get(m)
                value = metric_value(row, metric) if row is not None else None
                ci = _row_ci(row, metric) if row is not None else None
                cells_text += [metric_cell(metric, value), ci_text(ci, scale, digits) if ci else "–"]
                rec[f"{m}__{metric}"] = value
                rec[f"{m}__{metric}_n"] = getattr(row, "n", None)
                rec[f"{m}__{metric}_ci_low"], rec[f"{m}__{metric}_ci_high"] = ci if ci else (None, None)
        rows.append(([c.model.name, c.dataset.name], cells_text))
        records.append(rec)
    notes = [f"{get_metric(m).header}: {get_metric(m).description}." for m in metrics]
    missing = [c.name for c in cells if c.name not in computed]
    if missing:
        notes.append(f"not finished (no row): {', '.join(missing)}")
    return Table(f"Sweep: evaluation {name} ({kind})", ["model", "dataset"], columns, rows, notes=notes), records


def scaling_plots(name: str, kind: str, records: list[dict[str, Any]], out_dir: Path) -> list[Path]:
    """Each headline metric (and accuracy) against parameter count, per dataset (PNG + SVG)."""
    paths: list[Path] = []
    series_of: list[tuple[str, str, list[str]]] = [("accuracy", "accuracy", ["accuracy"])]
    if KINDS[kind].table is not None:  # a kind with its own records: one series per headline key
        series_of += [(metric, get_metric(metric).header, [metric]) for metric in KINDS[kind].headline]
    for metric in headline_metrics(kind):
        methods = sorted({k.split("__")[0] for r in records for k in r if k.endswith(f"__{metric}")})
        series_of.append((metric, get_metric(metric).header, [f"{m}__{metric}" for m in methods]))
    for dataset in sorted({r["dataset"] for r in records}):
        recs = [r for r in records if r["dataset"] == dataset]
        for metric, label, keys in series_of:
            series = [(key, display(key.split("__")[0])[0] if "__" in key else label) for key in keys]
            paths += scaling_figure(recs, series, label, f"{name} · {dataset}: {label}", out_dir / f"{name}__{dataset}__{metric}")
    return paths


def _params_text(n: float) -> str:
    """A parameter count as people write it: 135M, 7B."""
    return f"{n / 1e9:g}B" if n >= 1e9 else f"{n / 1e6:g}M"


def scaling_figure(recs: Sequence[dict[str, Any]], series: Sequence[tuple[str, str]], ylabel: str, title: str, stem: Path) -> list[Path]:
    """One figure (PNG + SVG at ``stem``): each (record key, legend label) of ``series`` against
    parameter count (log x); a pretrained model has an open marker and is joined to its
    instruction-tuned partner by a line; records without ``params`` are named in the title."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stem.parent.mkdir(parents=True, exist_ok=True)
    with_params = [r for r in recs if r["params"]]
    by_name = {r["model"]: r for r in with_params}
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for i, (key, legend) in enumerate(series):
        colour = f"C{i % 10}"
        pts = [(r["params"], r[key], r) for r in with_params if not _nan(r.get(key))]
        if not pts:
            continue
        ax.scatter([p for p, _, _ in pts], [v for _, v, _ in pts], color=colour, zorder=3, label=legend, marker="o")
        for p, v, r in pts:
            if r["tuned"] == "pretrained":
                ax.scatter([p], [v], facecolor="white", edgecolor=colour, zorder=4)
            partner = by_name.get(r["partner"]) if r["partner"] else None
            if partner is not None and not _nan(partner.get(key)):
                ax.plot([p, partner["params"]], [v, partner[key]], color=colour, linewidth=1, zorder=2)
            ax.annotate(r["model"], (p, v), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_xscale("log")
    # log minor ticks label themselves when the models span less than a decade, and the labels overlap
    from matplotlib.ticker import NullFormatter

    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xticks(sorted({r["params"] for r in with_params}), [_params_text(p) for p in sorted({r["params"] for r in with_params})])
    ax.set_xlabel("parameters (log scale)")
    ax.set_ylabel(ylabel)
    left_out = sorted({r["model"] for r in recs if not r["params"]})
    ax.set_title(title + (f"\n(no params: {', '.join(left_out)})" if left_out else ""), fontsize=9)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, title="open marker = pretrained; line = partners", title_fontsize=7)
    fig.tight_layout()
    paths = []
    for ext in ("png", "svg"):
        fig.savefig(stem.with_suffix(f".{ext}"), dpi=120)
        paths.append(stem.with_suffix(f".{ext}"))
    plt.close(fig)
    return paths


def _html_table(table: Table) -> str:
    e = html.escape
    head = "".join(f"<th>{e(h)}</th>" for h in table.row_header + table.columns)
    body = "".join("<tr>" + "".join(f"<td>{e(x)}</td>" for x in hdr + vals) + "</tr>" for hdr, vals in table.rows)
    notes = "".join(f"<li>{e(n)}</li>" for n in table.notes)
    return f"<h2>{e(table.title)}</h2><table><tr>{head}</tr>{body}</table><ul>{notes}</ul>"


def write_index(out_dir: Path, cells: Sequence[Cell], statuses: dict[str, str], tables: dict[str, Table], plots: list[Path]) -> Path:
    e = html.escape
    rows = []
    for c in cells:
        page = c.dir / "report" / "report.html"
        link = f'<a href="{e(page.relative_to(out_dir).as_posix() if page.is_relative_to(out_dir) else page.as_uri())}">report</a>' \
            if page.is_file() else "–"
        rows.append(f"<tr><td>{e(c.model.name)}</td><td>{e(c.dataset.name)}</td><td>{e(c.evaluation.name)}</td>"
                    f"<td>{e(statuses.get(c.name, c.status()))}</td><td>{link}</td></tr>")
    figs = "".join(f'<figure><img src="{e(p.relative_to(out_dir).as_posix())}" alt="{e(p.stem)}"><figcaption>{e(p.stem)}</figcaption></figure>'
                   for p in plots if p.suffix == ".png")
    page = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>faithscope sweep</title><style>"
            "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 6px;font-size:13px}"
            "img{max-width:640px}</style></head><body><h1>faithscope sweep</h1>"
            f"<p>{e(str(out_dir))}</p><h2>Cells</h2><table><tr><th>model</th><th>dataset</th><th>evaluation</th><th>status</th><th>report</th></tr>"
            + "".join(rows) + "</table>" + "".join(_html_table(t) for t in tables.values()) + f"<h2>Scaling</h2>{figs}</body></html>")
    path = out_dir / "index.html"
    path.write_text(page, encoding="utf-8")
    return path


def compose(out_dir: Path | str, cells: Sequence[Cell], statuses: dict[str, str] | None = None, bootstrap_resamples: int = 1000,
            seed: int = 0, plots: bool = True) -> ComposeResult:
    """Write the composed tables, plots and index page of the finished cells into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    result = ComposeResult(out)
    computed = {c.name: compute(load_run(c.dir), bootstrap_resamples, seed) for c in cells
                if KINDS[c.evaluation.kind].table is None and c.status() == "done"}
    figures: list[Path] = []
    for name in dict.fromkeys(c.evaluation.name for c in cells):
        group = [c for c in cells if c.evaluation.name == name]
        kind = group[0].evaluation.kind
        own = KINDS[kind].table
        table, records = own(name, group) if own is not None else evaluation_table(name, kind, group, computed)
        result.tables[name], result.records[name] = table, records
        result.files[name] = write_table(table, records, out / name)
        if plots and records:
            if KINDS[kind].scaling:
                figures += scaling_plots(name, kind, records, out / "plots")
            extra = KINDS[kind].extra_plots
            if extra is not None:
                figures += extra(records, out / "plots" / name)
    result.files["plots"] = figures
    result.files["html"] = [write_index(out, cells, statuses or {}, result.tables, figures)]
    return result
