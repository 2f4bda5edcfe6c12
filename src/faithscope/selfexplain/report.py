"""The study's tables and HTML section, from the store only (never re-running a model).

Metric columns come from the metric registry: every :class:`~faithscope.metrics.MetricInfo`
of the self-consistency family (se-checks' :mod:`faithscope.metrics.self_consistency`), in
registry order, with its label, arrow and percent display; its value on a set of check rows is
that module's point function. The **headline** metric (the cross-style matrix, the heatmap,
the one- vs multi-word table) is the family's first registry entry.

Tables (each as Markdown, CSV with raw fractions and CI bounds, LaTeX; stems in brackets):

Written into ``<study dir>/report/`` (``report.html`` there holds the study's HTML section).

* ``[selfexplain_main]`` the paper-style table: style × task × mode, each metric before
  training, after ``after:main`` and the difference Δ = after − before, with 95% CIs;
* ``[selfexplain_cross_style]`` trained style (rows: ``before``, each ``after:style=<s>``,
  ``after:main``) × evaluated style, headline metric pooled over tasks, one-word mode (as
  trained); the heatmap ``plots/selfexplain_cross_style.{png,svg}``;
* ``[selfexplain_unseen]`` per held-out task t × style: before, ``after:unseen=t``, Δ, and
  ``after:main`` (t seen) beside, for every metric;
* ``[selfexplain_diagnostics]`` per condition × task: accuracy, most predicted label, and how
  often the model answers unknown with nothing redacted — with a warning when that is ≥ 50%,
  since then the attribution/redaction checks pass whatever is redacted;
* ``[selfexplain_modes]`` one-word vs multi-word: headline metric per style × task × mode,
  before/after/Δ;
* ``[selfexplain_second_view]`` mean of every numeric field of the second-view records
  (explained words vs as many random words) per condition × task × style × mode;
* ``[selfexplain_pseudo]`` pseudo-explanation yield per task (kept per style, drops by reason);
* ``[selfexplain_stages]`` time, items and peak memory per condition × stage, and totals.

CIs: percentile bootstrap over examples (``n_resamples``, ``seed``); Δ is **paired**: the
same resampled example indices for before and after (the evaluation split is the same), so
its CI is that of the per-example change, not of two independent rates.
"""

from __future__ import annotations

import html
import json
import math
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..errors import ConfigError
from ..metrics import METRICS, MetricInfo
from ..metrics.bootstrap import percentile_interval, resample_indices
from ..reports.render import Table, write_table
from .spec import MODES, STYLES
from .store import StudyStore
from .study import BEFORE
from .types import CheckRow

FAMILY = "self_consistency"
MAIN = "after:main"
HTML_NAME = "report.html"
Interval = tuple[float, float, float]


# -- the metric family, from the registry ------------------------------------------------------------
def _sc() -> Any:
    from ..metrics import self_consistency

    return self_consistency


def study_metrics() -> list[MetricInfo]:
    """The registry's self-consistency metrics computed on check rows, in registry order (the
    headline first); the second-view metrics (on deletion records) are in :func:`word_metrics`."""
    rates = set(_sc().RATE_METRICS)
    return [m for m in METRICS.values() if m.family == FAMILY and m.name in rates]


def word_metrics() -> list[MetricInfo]:
    """The registry's second-view metrics (explained vs random words deleted)."""
    words = set(_sc().WORD_METRICS)
    return [m for m in METRICS.values() if m.family == FAMILY and m.name in words]


# -- numbers -----------------------------------------------------------------------------------------
def _rates(rows: Sequence[CheckRow], n_resamples: int, seed: int) -> dict[str, Interval]:
    """se-checks' rates of one cell: metric → (value, CI low, CI high)."""
    if not rows:
        return {}
    return {name: (c.value, c.ci[0], c.ci[1]) for name, c in
            _sc().self_consistency_rates(rows, n_resamples=n_resamples, seed=seed).items()}


_NAN3 = (math.nan, math.nan, math.nan)


def paired_delta(before: Sequence[CheckRow], after: Sequence[CheckRow], metric: str, n_resamples: int = 1000,
                 seed: int = 0) -> Interval:
    """Δ = mean over examples of (after − before) per-example values of ``metric``, over the
    examples that count in both (for the all-rows rates: exactly after rate − before rate),
    with a paired percentile bootstrap: the same resampled examples on both sides."""
    a_by = {r.example_id: r for r in after}
    pairs = [(r, a_by[r.example_id]) for r in before if r.example_id in a_by]
    if not pairs:
        return _NAN3
    sc = _sc()
    vb = np.asarray(sc.per_row_values([p[0] for p in pairs], metric), dtype=float)
    va = np.asarray(sc.per_row_values([p[1] for p in pairs], metric), dtype=float)
    d = va - vb
    if not np.isfinite(d).any():
        return _NAN3
    idx = resample_indices(len(d), n_resamples, seed)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        reps = np.nanmean(d[idx], axis=1)
    lo, hi = percentile_interval(reps)
    return (float(np.nanmean(d)), lo, hi)


def headline_value(rows: Sequence[CheckRow], metric: str) -> float:
    """The point value of ``metric`` on ``rows`` (NaN when no row counts)."""
    v = np.asarray(_sc().per_row_values(list(rows), metric), dtype=float)
    return float(np.nanmean(v)) if np.isfinite(v).any() else math.nan


@dataclass
class StudyData:
    """Everything the tables need, read from the store once."""

    out_dir: Path
    config: dict[str, Any]
    model: dict[str, Any]
    rows: dict[tuple[str, str, str, str], list[CheckRow]]
    """(condition, task, style, mode) → rows in evaluation-split order."""
    word_faith: list[dict[str, Any]]
    pseudo: dict[str, dict[str, Any]]
    timings: list[dict[str, Any]]
    trained: dict[str, dict[str, Any]]
    metrics: list[MetricInfo] = field(default_factory=list)
    originals: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    """(condition, task) → example id → LabelScores over labels + unknown on the unedited input."""

    @property
    def tasks(self) -> list[str]:
        return list(self.config.get("tasks") or sorted({k[1] for k in self.rows}))

    @property
    def styles(self) -> list[str]:
        return list(self.config.get("styles") or [s for s in STYLES if any(k[2] == s for k in self.rows)])

    @property
    def modes(self) -> list[str]:
        return list(self.config.get("modes") or [m for m in MODES if any(k[3] == m for k in self.rows)])

    def get(self, condition: str, task: str, style: str, mode: str) -> list[CheckRow]:
        return self.rows.get((condition, task, style, mode), [])


def load_study(out_dir: Path | str) -> StudyData:
    """Read a study directory's store (read-only)."""
    store = StudyStore(out_dir, readonly=True)
    try:
        meta = store.meta()
        rows: dict[tuple[str, str, str, str], list[CheckRow]] = defaultdict(list)
        for condition, task, row in store.checks():
            rows[(condition, task, row.style, row.mode)].append(row)
        pseudo = {}
        for task in store.pseudo_done():
            items = store.pseudo_items(task)
            pseudo[task] = {"n_examples": store.pseudo_done()[task], "kept": dict(_count(i.kind for i in items)),
                            "drops": dict(store.pseudo_drops(task))}
        originals = {(c, t): store.predictions(c, t) for c, t in sorted({(k[0], k[1]) for k in rows})}
        return StudyData(Path(out_dir), meta["config"], meta["model"], dict(rows), store.word_faith(), pseudo,
                         store.timings(), store.trained(), study_metrics(), originals)
    finally:
        store.close()


def _count(values: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


# -- formatting --------------------------------------------------------------------------------------
def _fmt(v: float, m: MetricInfo | None = None, signed: bool = False) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if m is not None and m.percent:
        return f"{100 * v:+.1f}" if signed else f"{100 * v:.1f}"
    return f"{v:+.3f}" if signed else f"{v:.3f}"


def interval_cell(iv: Interval, m: MetricInfo, signed: bool = False) -> str:
    """``value [low, high]`` of a metric (percent or not, as the registry entry says); "–" for NaN."""
    v, lo, hi = iv
    if isinstance(v, float) and math.isnan(v):
        return "–"
    return f"{_fmt(v, m, signed)} [{_fmt(lo, m, signed)}, {_fmt(hi, m, signed)}]"


def _unit(m: MetricInfo) -> str:
    return " (%)" if m.percent else ""


def _put(rec: dict[str, Any], prefix: str, iv: Interval) -> None:
    rec[prefix], rec[f"{prefix}_ci_low"], rec[f"{prefix}_ci_high"] = iv


# -- tables ------------------------------------------------------------------------------------------
def main_table(data: StudyData, n_resamples: int = 1000, seed: int = 0) -> tuple[Table, list[dict[str, Any]]]:
    """Style × task × mode: each metric before, after ``after:main`` and Δ (paired), with CIs."""
    has_after = any(k[0] == MAIN for k in data.rows)
    columns, rows, records = [], [], []
    for m in data.metrics:
        columns += [f"{m.header} before{_unit(m)}"] + ([f"{m.header} after{_unit(m)}", f"Δ {m.label or m.name}{_unit(m)}"] if has_after else [])
    for style in data.styles:
        for task in data.tasks:
            for mode in data.modes:
                before, after = data.get(BEFORE, task, style, mode), data.get(MAIN, task, style, mode)
                if not before and not after:
                    continue
                rec: dict[str, Any] = {"style": style, "task": task, "mode": mode, "n_before": len(before), "n_after": len(after)}
                rb, ra = _rates(before, n_resamples, seed), _rates(after, n_resamples, seed)
                cells = []
                for m in data.metrics:
                    b = rb.get(m.name, _NAN3)
                    _put(rec, f"{m.name}_before", b)
                    cells.append(interval_cell(b, m))
                    if has_after:
                        a, d = ra.get(m.name, _NAN3), paired_delta(before, after, m.name, n_resamples, seed)
                        _put(rec, f"{m.name}_after", a)
                        _put(rec, f"{m.name}_delta", d)
                        cells += [interval_cell(a, m), interval_cell(d, m, signed=True)]
                rows.append(([style, task, mode, str(len(before))], cells))
                records.append(rec)
    notes = [f"{m.label or m.name}: {m.description} ({'higher' if m.higher_is_better else 'lower'} is better)" for m in data.metrics]
    notes.append(f"before = the base model; after = {MAIN} (LoRA on every style of every task); Δ = after − before on the same "
                 f"examples, paired bootstrap; CIs: 95% percentile bootstrap over examples ({n_resamples} resamples); percentages.")
    notes.append("mode one = one-word explanations (as trained); many = unconstrained multi-word explanations.")
    if not has_after:
        notes.append(f"no {MAIN} condition in this study (--experiments without main): before only.")
    return Table("Self-consistency of self-explanations before and after training (Madsen et al. checks)",
                 ["style", "task", "mode", "N"], columns, rows, notes=notes), records


def cross_style_matrix(data: StudyData, mode: str = "one") -> tuple[list[str], list[str], np.ndarray]:
    """(row labels, evaluated styles, values): headline metric pooled over tasks per condition row."""
    if not data.metrics:
        return [], [], np.zeros((0, 0))
    name = data.metrics[0].name
    conditions = [BEFORE] + [f"after:style={s}" for s in data.styles] + [MAIN]
    conditions = [c for c in conditions if any(k[0] == c for k in data.rows)]
    values = np.full((len(conditions), len(data.styles)), np.nan)
    for i, c in enumerate(conditions):
        for j, s in enumerate(data.styles):
            pooled = [r for t in data.tasks for r in data.get(c, t, s, mode)]
            if pooled:
                values[i, j] = headline_value(pooled, name)
    return conditions, list(data.styles), values


def cross_style_table(data: StudyData, mode: str = "one") -> tuple[Table, list[dict[str, Any]]]:
    labels, styles, values = cross_style_matrix(data, mode)
    m = data.metrics[0] if data.metrics else None
    rows, records = [], []
    for label, vals in zip(labels, values):
        rows.append(([label], [_fmt(float(v), m) for v in vals]))
        records.append({"trained_on": label, "mode": mode, "metric": m.name if m else ""}
                       | {f"eval_{s}": float(v) for s, v in zip(styles, vals)})
    head = (m.header + _unit(m)) if m else ""
    return Table(f"Cross-style: {head} by trained style (rows) × evaluated style (columns), pooled over tasks, mode {mode}",
                 ["trained on"], [f"eval {s}" for s in styles], rows,
                 notes=["after:style=<s> is trained on style s only (every task); before = base model; after:main = all styles."]), records


def unseen_table(data: StudyData, n_resamples: int = 1000, seed: int = 0, mode: str = "one") -> tuple[Table, list[dict[str, Any]]]:
    """Per held-out task × style: before, after:unseen=<task>, Δ (paired) and after:main beside."""
    columns = []
    for m in data.metrics:
        columns += [f"{m.header} before{_unit(m)}", f"{m.header} unseen{_unit(m)}", f"Δ {m.label or m.name}{_unit(m)}",
                    f"{m.header} seen (main){_unit(m)}"]
    rows, records = [], []
    for task in data.tasks:
        cond = f"after:unseen={task}"
        if not any(k[0] == cond for k in data.rows):
            continue
        for style in data.styles:
            before, after, seen = data.get(BEFORE, task, style, mode), data.get(cond, task, style, mode), data.get(MAIN, task, style, mode)
            rb, ra, rs = (_rates(x, n_resamples, seed) for x in (before, after, seen))
            rec: dict[str, Any] = {"held_out": task, "style": style, "mode": mode, "n": len(after)}
            cells = []
            for m in data.metrics:
                b, a, s = rb.get(m.name, _NAN3), ra.get(m.name, _NAN3), rs.get(m.name, _NAN3)
                d = paired_delta(before, after, m.name, n_resamples, seed)
                for name, iv in (("before", b), ("unseen", a), ("delta", d), ("seen", s)):
                    _put(rec, f"{m.name}_{name}", iv)
                cells += [interval_cell(b, m), interval_cell(a, m), interval_cell(d, m, signed=True), interval_cell(s, m)]
            rows.append(([task, style, str(len(after))], cells))
            records.append(rec)
    return Table(f"Unseen task: trained on the other tasks, evaluated on the held-out one (mode {mode})",
                 ["held-out task", "style", "N"], columns, rows,
                 notes=["unseen = after:unseen=<task>; seen (main) = after:main, trained on that task too; Δ = unseen − before, paired."]), records


def modes_table(data: StudyData, n_resamples: int = 1000, seed: int = 0) -> tuple[Table, list[dict[str, Any]]]:
    """One-word vs multi-word: the headline metric per style × task, before/after/Δ per mode."""
    if not data.metrics:
        return Table("One-word vs multi-word explanations", ["style", "task"], [], []), []
    m = data.metrics[0]
    columns = []
    for mode in data.modes:
        columns += [f"{mode}: before{_unit(m)}", f"{mode}: after{_unit(m)}", f"{mode}: Δ{_unit(m)}"]
    rows, records = [], []
    for style in data.styles:
        for task in data.tasks:
            rec: dict[str, Any] = {"style": style, "task": task, "metric": m.name}
            cells = []
            for mode in data.modes:
                before, after = data.get(BEFORE, task, style, mode), data.get(MAIN, task, style, mode)
                b = _rates(before, n_resamples, seed).get(m.name, _NAN3)
                a = _rates(after, n_resamples, seed).get(m.name, _NAN3)
                d = paired_delta(before, after, m.name, n_resamples, seed)
                for name, iv in (("before", b), ("after", a), ("delta", d)):
                    _put(rec, f"{mode}_{name}", iv)
                cells += [interval_cell(b, m), interval_cell(a, m), interval_cell(d, m, signed=True)]
            rows.append(([style, task], cells))
            records.append(rec)
    return Table(f"One-word (as trained) vs multi-word explanations: {m.header}", ["style", "task"], columns, rows,
                 notes=[f"after = {MAIN}; Δ paired over examples; CIs 95% percentile bootstrap."]), records


def second_view_table(data: StudyData, n_resamples: int = 1000, seed: int = 0) -> tuple[Table, list[dict[str, Any]]]:
    """The second-view metrics (se-checks' ``explained_word_rates``) per condition × task × style × mode."""
    groups: dict[tuple[str, str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for rec in data.word_faith:
        groups[(rec["condition"], rec["task"], rec["style"], rec["mode"])].append(rec)
    metrics = word_metrics()
    rows, records = [], []
    for key in sorted(groups):
        recs = groups[key]
        rates = _sc().explained_word_rates(recs, n_resamples=n_resamples, seed=seed)
        out: dict[str, Any] = dict(zip(("condition", "task", "style", "mode"), key)) | {"n": len(recs)}
        cells = []
        for m in metrics:
            c = rates[m.name]
            _put(out, m.name, (c.value, c.ci[0], c.ci[1]))
            out[f"{m.name}_n"] = c.n
            cells.append(interval_cell((c.value, c.ci[0], c.ci[1]), m))
        rows.append((list(key) + [str(len(recs))], cells))
        records.append(out)
    return Table("Second view: deleting the explained words vs as many random words",
                 ["condition", "task", "style", "mode", "N"], [m.header + _unit(m) for m in metrics], rows,
                 notes=[f"{m.label}: {m.description}" for m in metrics]
                 + ["Rows without explained words are left out of these rates (their N is in the CSV)."]), records


UNKNOWN_WARNING = 0.5
"""Share of unedited inputs answered unknown above which the report warns (see diagnostics_table)."""


def diagnostics_table(data: StudyData) -> tuple[Table, list[dict[str, Any]]]:
    """Per condition × task: accuracy, the share of the most predicted label and how often the
    model answers unknown with NOTHING redacted. When that share is high, the attribution and
    redaction checks ("faithful" = unknown after redaction) pass whatever the explanation says."""
    from .tasks import task_spec

    rows, records, warn = [], [], []
    for (condition, task), scores in sorted(data.originals.items()):
        if not scores:
            continue
        try:
            spec = task_spec(task)
            labels, unknown_word = tuple(spec.task.labels), spec.unknown
        except ConfigError:  # a task the study registry does not know (e.g. test fakes): no unknown answer to count
            labels, unknown_word = tuple(next(iter(scores.values())).labels), None
        gold = {r.example_id: r.gold for key, rs in data.rows.items() if key[:2] == (condition, task) for r in rs}
        forced = {eid: max((lab for lab in labels if lab in s.labels), key=lambda lab, s=s: s.logprobs[s.labels.index(lab)])
                  for eid, s in scores.items()}
        n = len(scores)
        unknown = sum(s.predicted == unknown_word for s in scores.values()) / n if unknown_word else float("nan")
        counts = _count(forced.values())
        top, top_n = max(counts.items(), key=lambda kv: kv[1])
        acc = sum(forced[e] == gold[e] for e in forced if e in gold) / max(1, sum(e in gold for e in forced))
        # A counterfactual whose target is the label the model already predicts passes when the model merely keeps
        # its answer: such passes say nothing about the edit, so they are counted beside the faithful ones.
        cf = [r for key, rs in data.rows.items() if key[:3] == (condition, task, "counterfactual") for r in rs]
        cf_faithful = [r for r in cf if r.failure is None and r.faithful]
        trivial = sum(r.target == r.predicted for r in cf_faithful)
        rec = {"condition": condition, "task": task, "n": n, "accuracy": acc, "top_label": top, "top_label_share": top_n / n,
               "unknown_on_original": unknown, "cf_rows": len(cf), "cf_target_is_prediction": sum(r.target == r.predicted for r in cf),
               "cf_faithful": len(cf_faithful), "cf_faithful_target_is_prediction": trivial}
        rows.append(([condition, task, str(n)], [f"{100 * acc:.1f}", f"{top} ({100 * top_n / n:.0f}%)", "–" if math.isnan(unknown) else f"{100 * unknown:.1f}",
                                                 f"{trivial} of {len(cf_faithful)}" if cf else "–"]))
        records.append(rec)
        if unknown >= UNKNOWN_WARNING:
            warn.append(f"{condition} · {task}")
    notes = ["accuracy: forced choice over the task's labels on the unedited input; unknown on original: the share of unedited "
             "inputs on which labels + unknown are answered unknown.",
             "faithful counterfactuals with target = prediction: of the counterfactual rows (all modes) that pass, how many had "
             "a target equal to the original prediction; they pass when the model merely keeps its answer, so they say little "
             "about the edit."]
    if warn:
        notes.append(f"WARNING: the model answers unknown on at least {100 * UNKNOWN_WARNING:.0f}% of the UNEDITED inputs in "
                     f"{', '.join(warn)}: there the attribution and redaction checks pass whatever is redacted, so their "
                     "'faithful' rates say little (the counterfactual check is not affected).")
    return Table("Diagnostics: accuracy, predicted labels, unknown with nothing redacted", ["condition", "task", "N"],
                 ["accuracy (%)", "most predicted", "unknown on original (%)", "faithful counterfactuals with target = prediction"],
                 rows, notes=notes), records


def pseudo_table(data: StudyData) -> tuple[Table, list[dict[str, Any]]]:
    reasons = sorted({r for p in data.pseudo.values() for r in p["drops"]})
    rows, records = [], []
    for task, p in data.pseudo.items():
        rec = {"task": task, "n_examples": p["n_examples"]} | {f"kept_{s}": p["kept"].get(s, 0) for s in data.styles} \
            | {f"drop: {r}": p["drops"].get(r, 0) for r in reasons}
        rows.append(([task, str(p["n_examples"])], [str(p["kept"].get(s, 0)) for s in data.styles] + [str(p["drops"].get(r, 0)) for r in reasons]))
        records.append(rec)
    return Table("Pseudo-faithful one-word explanations built with the base model (training split)", ["task", "examples"],
                 [f"kept {s}" for s in data.styles] + [f"dropped: {r}" for r in reasons], rows), records


def stages_table(data: StudyData) -> tuple[Table, list[dict[str, Any]]]:
    rows, records = [], []
    totals: dict[str, float] = defaultdict(float)
    for t in data.timings:
        totals[t["stage"]] += t["seconds"]
        peak = t["peak_rss_mib"]
        rows.append(([t["condition"], t["stage"]], [f"{t['seconds']:.1f}", str(t["items"]), "–" if peak is None else f"{peak:.0f}"]))
        records.append(dict(t))
    for stage, sec in totals.items():
        peaks = [t["peak_rss_mib"] for t in data.timings if t["stage"] == stage and t["peak_rss_mib"] is not None]
        rows.append((["total", stage], [f"{sec:.1f}", str(sum(t["items"] for t in data.timings if t["stage"] == stage)),
                                        f"{max(peaks):.0f}" if peaks else "–"]))
    return Table("Stage breakdown: time and peak resident memory", ["condition", "stage"], ["seconds", "items", "peak RSS (MiB)"],
                 rows, notes=["Seconds and items add up over resumed runs; peak = highest resident memory seen in the stage."]), records


@dataclass
class StudyReport:
    out_dir: Path
    files: dict[str, list[Path]]
    tables: list[Table]

    @property
    def html(self) -> Path | None:
        paths = self.files.get("html")
        return paths[0] if paths else None


def study_tables(data: StudyData, n_resamples: int = 1000, seed: int = 0) -> dict[str, tuple[Table, list[dict[str, Any]]]]:
    out = {"selfexplain_main": main_table(data, n_resamples, seed), "selfexplain_diagnostics": diagnostics_table(data),
           "selfexplain_modes": modes_table(data, n_resamples, seed)}
    if any(k[0].startswith("after:style=") for k in data.rows):
        out["selfexplain_cross_style"] = cross_style_table(data)
    if any(k[0].startswith("after:unseen=") for k in data.rows):
        out["selfexplain_unseen"] = unseen_table(data, n_resamples, seed)
    out["selfexplain_second_view"] = second_view_table(data, n_resamples, seed)
    out["selfexplain_pseudo"] = pseudo_table(data)
    out["selfexplain_stages"] = stages_table(data)
    return out


def write_study_report(out_dir: Path | str, report_dir: Path | str | None = None, n_resamples: int = 1000, seed: int = 0,
                       n_examples: int = 5) -> StudyReport:
    """Every table (md/csv/tex), the figures and ``report.html`` into ``report_dir``
    (default: ``<study dir>/report``, as ``faithscope report DIR`` writes it)."""
    from .plots import study_plots

    data = load_study(out_dir)
    target = Path(report_dir) if report_dir is not None else Path(out_dir) / "report"
    target.mkdir(parents=True, exist_ok=True)
    files: dict[str, list[Path]] = {}
    tables = study_tables(data, n_resamples, seed)
    for stem, (table, records) in tables.items():
        files[stem] = write_table(table, records, target / stem)
    figures = study_plots(data, target / "plots")
    files["plots"] = [p for paths in figures.values() for p in paths]
    page = target / HTML_NAME
    page.write_text(study_page(data, [t for t, _ in tables.values()], files["plots"], target, n_examples), encoding="utf-8")
    files["html"] = [page]
    return StudyReport(target, files, [t for t, _ in tables.values()])


# -- HTML ------------------------------------------------------------------------------------------
def examples_html(data: StudyData, n: int = 5) -> str:
    """The first ``n`` evaluation examples per condition × task × style (one-word mode first):
    the model's raw reply, the parsed explanation, the recheck and the verdict; all escaped."""
    from ..reports.html import esc

    out = []
    for (condition, task, style, mode), rows in sorted(data.rows.items()):
        items = []
        for r in rows[:n]:
            verdict = "unparsed: " + r.failure if r.failure else ("faithful" if r.faithful else "not faithful")
            items.append(f"<tr><td>{esc(r.example_id)}</td><td>{esc(r.gold)}</td><td>{esc(r.predicted)}</td>"
                         f"<td>{esc(r.target or '')}</td><td><pre>{esc(r.reply)}</pre></td><td>{esc(r.explanation)}</td>"
                         f"<td>{esc(r.recheck or '')}</td><td>{esc(verdict)}</td></tr>")
        out.append(f"<details><summary>{esc(condition)} · {esc(task)} · {esc(style)} · {esc(mode)} ({len(rows)} rows)</summary>"
                   "<table><tr><th>example</th><th>gold</th><th>predicted</th><th>target</th><th>reply</th><th>explanation</th>"
                   f"<th>recheck</th><th>verdict</th></tr>{''.join(items)}</table></details>")
    return "\n".join(out)


def section_html(data: StudyData, tables: Sequence[Table], figures: Sequence[Path], out_dir: Path, n_examples: int = 5) -> str:
    """The study's section of the HTML report: tables, figures, examples, configuration."""
    from ..reports.html import esc, figures_html, table_html

    parts = ['<h2 id="selfexplain">Self-explanation study (Doi et al. 2025; Madsen et al. 2024 checks)</h2>']
    parts += [table_html(t) for t in tables]
    if figures:
        parts.append(figures_html(list(figures), out_dir))
    parts += ["<h3>Examples</h3>", examples_html(data, n_examples),
              "<details><summary>configuration</summary><pre>" + esc(json.dumps(data.config, indent=1, sort_keys=True, default=str)) + "</pre></details>",
              "<details><summary>model</summary><pre>" + esc(json.dumps(data.model, indent=1, sort_keys=True, default=str)) + "</pre></details>"]
    return "\n".join(parts)


def study_page(data: StudyData, tables: Sequence[Table], figures: Sequence[Path], out_dir: Path, n_examples: int = 5) -> str:
    """A self-contained page (no script; the report's CSS and content-security policy)."""
    from ..reports.html import CSS, csp, esc

    title = f"faithscope selfexplain: {data.out_dir.name}"
    head = (f'<meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="{esc(csp(""))}">'
            f"<title>{esc(title)}</title><style>{CSS}</style>")
    body = f"<h1>{html.escape(title)}</h1>\n" + section_html(data, tables, figures, out_dir, n_examples)
    return f"<!DOCTYPE html>\n<html lang=\"en\"><head>{head}</head><body>\n{body}\n</body></html>\n"
