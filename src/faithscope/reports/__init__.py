"""Reports from stored results only (never re-running a model): Tables 2 and 4 of Fayyaz et
al. (Markdown, CSV, LaTeX), the first outputs (accuracy, zero-rate baseline, label
distribution), the mask-ALL diagnostic, figures (PNG + SVG) and one self-contained HTML page.

``build_report([run_dir])`` writes everything into ``run_dir/report``; several run
directories are composed into one report (one column group per run, and the fine-tuned minus
pre-trained differences when the runs are such a pair) in the ``out_dir`` the caller gives.

Modules: :mod:`.rundata` (reading a store), :mod:`.summary` (first outputs, diagnostics),
:mod:`.tables` (Table 2/4 numbers), :mod:`.compose` (tables of one or more runs),
:mod:`.render` (Markdown/LaTeX/CSV), :mod:`.plots`, :mod:`.epochs` (per-epoch summaries and
their correlations), :mod:`.epoch_tables` (per-epoch table, Tables 3/5), :mod:`.html`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from ..errors import ConfigError
from .compose import RunTables, compute, first_outputs, records_first_outputs, records_table2, records_table4, table2, table4
from .epoch_tables import correlation_table, epoch_table
from .epochs import epoch_summary
from .html import write_html
from .json_safe import json_safe
from .plots import run_plots
from .render import Table, write_table
from .rundata import RunData, load_report_runs, load_run
from .summary import MASK_ALL_THRESHOLD, RunSummary, summarize


@dataclass
class ReportResult:
    """Where a report went and what it computed: ``files`` maps an artefact name
    (``first_outputs``, ``table2``, ``table4``, ``summary``, ``html``, ``plots``, and for runs with
    per-epoch summaries ``epochs`` and ``correlations``, suffixed ``_run<i>`` when composed)
    to its paths."""

    out_dir: Path
    files: dict[str, list[Path]]
    runs: list[RunTables] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    counterfactual: list[dict] = field(default_factory=list)
    """One summary record per counterfactual run directory (:func:`~faithscope.counterfactual.report.summary_record`)."""

    @property
    def html(self) -> Path | None:
        paths = self.files.get("html")
        return paths[0] if paths else None

    def all_files(self) -> list[Path]:
        return [p for paths in self.files.values() for p in paths]


def _default_out_dir(run_dirs: Sequence[Path], out_dir: Path | str | None) -> Path:
    if out_dir is not None:
        return Path(out_dir)
    if len(run_dirs) == 1:
        return run_dirs[0] / "report"
    raise ConfigError("several run directories are composed into one report: give an output directory (--out DIR)")


def build_report(run_dirs: Sequence[Path | str], out_dir: Path | str | None = None, bootstrap_resamples: int = 1000, seed: int = 0,
                 n_examples: int = 10) -> ReportResult:
    """Read each run's store, compute the tables, write all files; returns their paths.

    ``bootstrap_resamples`` and ``seed`` fix every 95% CI; ``n_examples`` is how many
    examples the HTML page shows with highlighted rationales.
    """
    dirs = [Path(d) for d in run_dirs]
    if not dirs:
        raise ConfigError("give at least one run directory to report on")
    if isinstance(bootstrap_resamples, bool) or not isinstance(bootstrap_resamples, int) or bootstrap_resamples < 1:
        raise ConfigError(f"bootstrap resamples must be a positive integer, got {bootstrap_resamples!r}")
    from ..selfexplain.store import is_study_dir

    if any(is_study_dir(d) for d in dirs):  # a `faithscope selfexplain` directory: its own tables and HTML section
        if len(dirs) > 1:
            raise ConfigError("a selfexplain study directory is reported on its own: faithscope report STUDY_DIR")
        from ..selfexplain.report import write_study_report

        study = write_study_report(dirs[0], _default_out_dir(dirs, out_dir), bootstrap_resamples, seed)
        return ReportResult(study.out_dir, study.files, [], study.tables)
    out = _default_out_dir(dirs, out_dir)
    from ..counterfactual.report import TABLE_STEM, counterfactual_records, counterfactual_table
    from ..counterfactual.store import is_counterfactual_run

    cf_dirs = [d for d in dirs if is_counterfactual_run(d)]
    runs = [compute(data, bootstrap_resamples, seed) for d in dirs if d not in cf_dirs for data in load_report_runs(d)]
    out.mkdir(parents=True, exist_ok=True)
    tables: list[Table] = []
    files: dict[str, list[Path]] = {}
    if runs or not cf_dirs:
        tables = [first_outputs(runs), table2(runs), table4(runs)]
        files = {
            "first_outputs": write_table(tables[0], records_first_outputs(runs), out / "first_outputs", latex=False),
            "table2": write_table(tables[1], records_table2(runs), out / "table2_alignment"),
            "table4": write_table(tables[2], records_table4(runs), out / "table4_faithfulness"),
        }
    cf_records = counterfactual_records(cf_dirs, bootstrap_resamples, seed) if cf_dirs else []
    if cf_records:
        tables.append(counterfactual_table(cf_records, bootstrap_resamples))
        files["counterfactual"] = write_table(tables[-1], cf_records, out / TABLE_STEM)
    for i, rt in enumerate(runs, start=1):
        if rt.data.epochs:
            suffix = f"_run{i}" if sum(bool(r.data.epochs) for r in runs) > 1 else ""
            for name, (table, records) in (("epochs", epoch_table(rt.data.epochs, rt.data.label)),
                                           ("correlations", correlation_table(rt.data.epochs, rt.data.label))):
                tables.append(table)
                files[f"{name}{suffix}"] = write_table(table, records, out / f"{name}{suffix}")
    summary = out / "summary.json"
    payload = {"runs": [rt.summary.as_dict() | {"run_dir": str(rt.data.run_dir), "epochs": rt.data.epochs} for rt in runs],
               "bootstrap_resamples": bootstrap_resamples, "seed": seed}
    if cf_records:
        payload["counterfactual_runs"] = cf_records
    summary.write_text(json.dumps(json_safe(payload), indent=1, default=str, allow_nan=False), encoding="utf-8")
    files["summary"] = [summary]
    figures = run_plots(runs, out / "plots") if runs else {}
    if cf_records:
        from ..counterfactual.plots import counterfactual_plots

        figures = {**figures, **{f"cf_{k}": v for k, v in counterfactual_plots(cf_records, out / "plots").items()}}
    files["plots"] = [p for paths in figures.values() for p in paths]
    files["html"] = [write_html(runs, tables, figures, out, n_examples, title_extra=[_cf_label(r) for r in cf_records])]
    return ReportResult(out, files, runs, tables, cf_records)


def _cf_label(record: dict) -> str:
    """A counterfactual run's name in the page title."""
    return f"{record['model']} {record['dataset']} counterfactual {record['style']}/{record['order']}"


def _pct(x: float) -> str:
    return "n/a" if x is None or math.isnan(x) else f"{100 * x:.1f}%"


def _num(x: float | None) -> str:
    return "n/a" if x is None or math.isnan(x) else f"{x:.3f}"


def print_summary(result: ReportResult) -> str:
    """A short plain-text summary for the terminal: per run accuracy (CI), zero-rate,
    predicted-label distribution, mask-ALL diagnostic and warnings; then where files are."""
    lines = []
    for i, rt in enumerate(result.runs, start=1):
        s: RunSummary = rt.summary
        lines.append(f"[{i}] {s.label}  (N={s.n_examples})")
        lo, hi = s.accuracy_ci
        lines.append(f"    accuracy {_pct(s.accuracy)} [95% CI {_pct(lo)}, {_pct(hi)}]; zero-rate baseline {_pct(s.zero_rate)} ({s.majority_label})")
        lines.append("    predicted labels: " + ", ".join(f"{lab} {_pct(v)}" for lab, v in s.pred_shares.items()))
        if s.mask_all is None:
            lines.append("    mask-ALL: not run (add the 'all-words' method to get the diagnostic)")
        else:
            lines.append(f"    mask-ALL flip rate {_pct(s.mask_all.flip_rate)} (threshold {_pct(MASK_ALL_THRESHOLD)})")
        lines += [f"    WARNING: {w}" for w in s.warnings]
        if s.sample_note:
            lines.append(f"    note: {s.sample_note}")
    for r in result.counterfactual:
        lines.append(f"[counterfactual] {_cf_label(r)}  (N={r['n_examples']} examples, {r['n_interventions']} interventions)")
        from ..counterfactual.report import counterfactual_metrics

        lines.append("    " + ", ".join(f"{m.name} {_num(r[m.name])}" for m in counterfactual_metrics())
                     + f"; parse failures {_pct(r['parse_failure_rate'])}, empty explanations {_pct(r['empty_explanation_rate'])}"
                     f", label-only explanations {_pct(r.get('label_only_rate', float('nan')))}")
    names = sorted({p.name for key, paths in result.files.items() if key != "plots" for p in paths})
    lines.append(f"report in {result.out_dir}: {', '.join(names)}; {len(result.files.get('plots', []))} figure files in plots/")
    return "\n".join(lines)


__all__ = ["ReportResult", "RunData", "RunSummary", "RunTables", "build_report", "compute", "epoch_summary", "load_run",
           "print_summary", "summarize"]
