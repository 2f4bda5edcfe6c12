"""One table from one or several runs: column groups per run, fine-tuned minus pre-trained.

``faithscope report RUN_DIR [RUN_DIR ...]`` puts every run in a column group labelled by model
identity, weights state (pre-trained or the fine-tuned adapter) and dataset. When exactly two
runs share the dataset and model and one is pre-trained and the other fine-tuned, the
fine-tuned group's main cells carry the difference ``(+x.xx)`` in parentheses, as in the
paper's Tables 2 and 4. CSV records are long-format (one record per run x row) with raw
fractions and the differences in ``*_minus_pretrained`` columns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

from ..metrics import METRICS, get_metric, table_metrics
from .render import Table, metric_csv_columns, metric_header
from .rundata import RunData
from .summary import RunSummary, summarize
from .tables import ORDER_T2, ORDER_T4, AlignmentRow, FaithfulnessRow, alignment_rows, display, faithfulness_rows, ordered, run_scored_aopc

DASH = "–"


@dataclass
class RunTables:
    """Everything computed for one run: its data, first outputs and the two tables."""

    data: RunData
    summary: RunSummary
    alignment: list[AlignmentRow]
    faithfulness: list[FaithfulnessRow]


def compute(data: RunData, n_resamples: int = 1000, seed: int = 0) -> RunTables:
    return RunTables(data, summarize(data, n_resamples, seed), alignment_rows(data, n_resamples, seed),
                     faithfulness_rows(data, None, n_resamples, seed))


def diff_pair(runs: list[RunTables]) -> tuple[int, int] | None:
    """``(pre-trained index, fine-tuned index)`` when the runs are exactly such a pair."""
    if len(runs) != 2:
        return None
    a, b = runs[0].data, runs[1].data
    if a.dataset != b.dataset or a.model_name != b.model_name or bool(a.adapter) == bool(b.adapter):
        return None
    return (1, 0) if a.adapter else (0, 1)


def pct(x: float | None) -> str:
    return DASH if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.2f}"


def num(x: float | None, digits: int = 3) -> str:
    return DASH if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def ci_text(ci: tuple[float, float], scale: float = 100.0, digits: int = 2) -> str:
    lo, hi = ci
    if math.isnan(lo) or math.isnan(hi):
        return DASH
    return f"[{scale * lo:.{digits}f}, {scale * hi:.{digits}f}]"


def with_diff(text: str, value: float | None, base: float | None, scale: float = 100.0) -> str:
    if value is None or base is None or math.isnan(value) or math.isnan(base):
        return text
    return f"{text} ({scale * (value - base):+.2f})"


def skipped_note(n: int) -> str:
    """The N cell's note for TOP-VAR examples with k = 0 that were left out (none: no note)."""
    return f" (+{n} k=0 skipped)" if n else ""


@dataclass(frozen=True)
class Column:
    """A value column: header, cell text of a row, and the value a fine-tuned minus
    pre-trained difference is taken of (shown ×``diff_scale``)."""

    header: str
    cell: Callable[[Any], str]
    diff: Callable[[Any], float | None] | None = None
    diff_scale: float = 100.0


def metric_value(row: Any, metric: str) -> float | None:
    """A row's value of registry metric ``metric``: from the row's ``metrics`` mapping when it
    keeps one (Table 2 rows), else its attribute of that name (Table 4 rows)."""
    values = getattr(row, "metrics", None)
    if isinstance(values, dict):
        return values.get(metric)
    return getattr(row, metric, None)


def metric_ci(row: Any, metric: str) -> tuple[float, float] | None:
    """The row's 95% CI of ``metric`` (from its ``cis`` mapping), ``None`` if it has none."""
    cis = getattr(row, "cis", None)
    return cis.get(metric) if isinstance(cis, dict) else None


def metric_cell(metric: str, value: float | None) -> str:
    """Display text of a value: a percentage for [0, 1] metrics, else a 3-digit number."""
    return pct(value) if get_metric(metric).percent else num(value)


def metric_column(metric: str, diff: bool = True) -> Column:
    """The column of registry metric ``metric``: header and ↑/↓ from the registry, cells from
    :func:`metric_value`, differences in percentage points for percent metrics."""
    info = get_metric(metric)
    return Column(metric_header(metric), lambda r: metric_cell(metric, metric_value(r, metric)),
                  (lambda r: metric_value(r, metric)) if diff else None, 100.0 if info.percent else 1.0)


def metric_ci_column(metric: str) -> Column:
    """The 95% CI column that follows ``metric``'s column."""
    scale, digits = (100.0, 2) if get_metric(metric).percent else (1.0, 3)
    return Column("95% CI", lambda r: ci_text(metric_ci(r, metric) or (math.nan, math.nan), scale, digits))


def metric_columns(table: int, rows: list[Any], omit_absent: bool = False) -> list[Column]:
    """The metric columns of paper table ``table``: one per registry entry of that table, in
    registry order, each followed by a 95% CI column when any row has a CI for it. Adding a
    column is a registry entry (``table=...``) plus the value in the rows. ``omit_absent``
    leaves out a metric that no row has (every value ``None``: not computed in any run, e.g.
    AOPC with ``--no-aopc``), so an absent metric is no column rather than a column of blanks."""
    cols: list[Column] = []
    for info in table_metrics(table):
        if omit_absent and rows and all(metric_value(r, info.name) is None for r in rows):
            continue
        cols.append(metric_column(info.name))
        if any(metric_ci(r, info.name) is not None for r in rows):
            cols.append(metric_ci_column(info.name))
    return cols


def metric_notes(table: int) -> list[str]:
    """One note per metric column of ``table``: header, meaning, range (from the registry)."""
    return [f"{m.header}: {m.description}; range {m.range_text()}." for m in table_metrics(table)]


T2_EXTRA_COLUMNS = [
    Column("N", lambda r: str(r.n) + (f" ×{r.draws}" if r.draws > 1 else "") + skipped_note(r.skipped)),
    Column("parse fail %", lambda r: pct(r.parse_fail)),
    Column("not in input %", lambda r: pct(r.not_found)),
]


def t2_columns(runs: list["RunTables"]) -> list[Column]:
    """Table 2's columns: the registry's Table 2 metrics (with CIs), then N and prompting quality."""
    return metric_columns(2, [r for rt in runs for r in rt.alignment]) + T2_EXTRA_COLUMNS


T4_EXTRA_COLUMNS = [
    Column("words masked", lambda r: num(r.mean_masked, 1)),
    Column("outside window", lambda r: str(r.outside_window)),
    Column("N", lambda r: str(r.n) + skipped_note(r.skipped)),
    Column("parse fail %", lambda r: pct(r.parse_fail)),
    Column("no label orig/masked", lambda r: f"{r.orig_unparseable}/{r.masked_unparseable}"),
    Column("no p(y)", lambda r: str(r.no_probs)),
]


def t4_columns(runs: list["RunTables"]) -> list[Column]:
    """Table 4's columns: the registry's Table 4 metrics (each with its CI), then counts."""
    return metric_columns(4, [r for rt in runs for r in rt.faithfulness], omit_absent=True) + T4_EXTRA_COLUMNS


def _method_table(title: str, runs: list[RunTables], attr: str, columns: list[Column], order: tuple[str, ...], notes: list[str]) -> Table:
    pair = diff_pair(runs)
    per_run = [{r.method: r for r in getattr(rt, attr)} for rt in runs]
    methods = ordered(set().union(*per_run) if per_run else set(), order)
    rows = []
    for m in methods:
        values: list[str] = []
        for i, rows_i in enumerate(per_run):
            row = rows_i.get(m)
            base = per_run[pair[0]].get(m) if pair and i == pair[1] else None
            for col in columns:
                if row is None:
                    values.append(DASH)
                    continue
                text = col.cell(row)
                if base is not None and col.diff:
                    text = with_diff(text, col.diff(row), col.diff(base), col.diff_scale)
                values.append(text)
        rows.append((list(display(m)), values))
    if pair:
        notes = notes + ["Values in parentheses: fine-tuned minus pre-trained (percentage points for % columns)."]
    return Table(title, ["Method", "Selection"], [c.header for _ in runs for c in columns], rows,
                 [(rt.data.label, len(columns)) for rt in runs], notes)


def table2(runs: list[RunTables]) -> Table:
    """Table 2: alignment with the human rationale (TRUE label), % with 95% bootstrap CIs.
    It leads with micro F1 (SPEC); both macro definitions and ERASER's IOU-F1 and AUPRC follow."""
    notes = ["Table 2 leads with micro F1 (pooled token counts, the paper's default, see SPEC); both macro F1s leave out "
             "instances with neither a human rationale nor a prediction (ERASER).",
             *metric_notes(2),
             "RANDOM averages over its stored draws (N ×draws); prompting replies that could not be parsed count as empty rationales."]
    blank: dict[str, dict[str, list[str]]] = {}  # metric -> reason -> row labels
    for rt in runs:
        for r in rt.alignment:
            for metric, why in r.reasons.items():
                labels = blank.setdefault(metric, {}).setdefault(why, [])
                label = " ".join(dict.fromkeys(display(r.method)))
                if label not in labels:
                    labels.append(label)
    for metric, by_reason in blank.items():
        for why, labels in by_reason.items():
            notes.append(f"{metric_header(metric)} blank (–) for {', '.join(labels)}: {why}.")
    for i, rt in enumerate(runs, start=1):
        empty = max((r.empty_gold for r in rt.alignment), default=0)
        if empty:
            notes.append(f"[{i}] {empty} examples have an empty human rationale: recall 0 in micro F1; left out of macro F1 "
                         "where the method selects nothing there, F1 0 otherwise.")
        outside = rt.data.human_outside()
        if outside:
            notes.append(f"[{i}] truncation: {sum(outside.values())} human-rationale words of {len(outside)} truncated examples lie outside "
                         "the model's visible window; they are excluded from the human rationale and from every method's rationale.")
    return _method_table("Table 2: alignment with human rationales (F1 %)", runs, "alignment", t2_columns(runs), ORDER_T2, notes)


TABLE4_BASES = ("Bases of the effect columns: Δ log p is on the verbaliser log-probabilities (the label tokens' log p, not renormalised); "
                "compr. is on the distribution renormalised over the labels.")
"""Which probability each effect column of Table 4 is computed on (the two differ)."""


def table4(runs: list[RunTables]) -> Table:
    """Table 4: flip rate on masking each method's rationale (PREDICTED label)."""
    strategies = ", ".join(sorted({rt.data.mask_strategy for rt in runs}))
    notes = [f"Masking strategy: {strategies}. Δ log p = mean log-prob change of the originally predicted label (masked − original).",
             "compr. = ERASER comprehensiveness, p(y|x) − p(y|x without rationale) over the label set; sufficiency = "
             "p(y|x) − p(y|rationale only) (lower = more sufficient).",
             "AOPC (scored methods only): mean over examples and the bins 1/5/10/20/50 % of the visible words, ranked by the stored "
             "word scores, of p(y|x) − p(y|x_bin), top words removed (aopc_comprehensiveness) or only they kept (aopc_sufficiency); "
             "a bin holds max(1, ceil(b·n)) words, no 0 % bin.",
             "outside window = rationale words cut by truncation (the model never saw them): excluded from masking, counted.",
             "N = all examples. no label orig/masked = server replies naming no label: on the original input the example "
             "counts in N as not flipped (not flippable), on the masked input as flipped. no p(y) = examples a server "
             "classified only by its reply text (no label probabilities): left out of Δ log p and compr., kept in the flip rate.",
             TABLE4_BASES]
    no_aopc = [i for i, rt in enumerate(runs, start=1) if not run_scored_aopc(rt.data)]
    if no_aopc and len(no_aopc) == len(runs):
        notes = [n for n in notes if not n.startswith("AOPC (scored methods only)")]
        notes.append("AOPC not computed (run with --no-aopc): its columns are left out.")
    elif no_aopc:
        notes.append(f"AOPC not computed in run(s) {', '.join(f'[{i}]' for i in no_aopc)} (--no-aopc): their AOPC cells are blank (–).")
    for i, rt in enumerate(runs, start=1):
        if rt.summary.mask_all is not None and rt.summary.mask_all.low:
            notes.append(f"[{i}] WARNING: {rt.summary.mask_all.message}")
    return _method_table("Table 4: faithfulness, flip rate on masking the rationale (%)", runs, "faithfulness", t4_columns(runs), ORDER_T4, notes)


def _dist_text(counts: dict[str, int], shares: dict[str, float]) -> str:
    return "; ".join(f"{lab} {counts[lab]} ({pct(shares[lab])}%)" for lab in counts)


def first_outputs(runs: list[RunTables]) -> Table:
    """Accuracy, zero-rate baseline and label distributions, one row per run."""
    pair = diff_pair(runs)
    rows = []
    for rt in runs:
        s = rt.summary
        mask_all = DASH if s.mask_all is None else pct(s.mask_all.flip_rate) + (" (LOW)" if s.mask_all.low else "")
        rows.append(([s.label], [str(s.n_examples), pct(s.accuracy), ci_text(s.accuracy_ci), f"{pct(s.zero_rate)} ({s.majority_label})",
                                 _dist_text(s.pred_counts, s.pred_shares), _dist_text(s.gold_counts, s.gold_shares),
                                 str(s.truncated_examples), mask_all]))
    notes = []
    if pair:
        pre, ft = runs[pair[0]].summary, runs[pair[1]].summary
        rows.append((["Δ fine-tuned − pre-trained"], ["", f"{100 * (ft.accuracy - pre.accuracy):+.2f}"] + [""] * 6))
    for rt in runs:
        notes += [f"{rt.summary.label}: {w}" for w in rt.summary.warnings]
        if rt.summary.sample_note:  # e.g. -n larger than the dataset
            notes.append(f"{rt.summary.label}: note: {rt.summary.sample_note}")
    return Table("First outputs: accuracy, zero-rate baseline, label distribution (%)", ["Run"],
                 ["N", "accuracy", "95% CI", "zero-rate (majority)", "predicted labels", "gold labels", "truncated", "mask-ALL flip"], rows, [], notes)


def _run_fields(i: int, rt: RunTables) -> dict[str, Any]:
    d = rt.data
    return {"run": i, "run_label": d.label, "run_dir": str(d.run_dir), "model": d.model_name, "state": d.state,
            "adapter": d.adapter or "", "dataset": d.dataset}


def records_first_outputs(runs: list[RunTables]) -> list[dict[str, Any]]:
    out = []
    for i, rt in enumerate(runs, start=1):
        s = rt.summary
        rec = {**_run_fields(i, rt), "n": s.n_examples, "n_predicted": s.n_predicted, "accuracy": s.accuracy,
               "accuracy_ci_low": s.accuracy_ci[0], "accuracy_ci_high": s.accuracy_ci[1], "majority_label": s.majority_label,
               "zero_rate": s.zero_rate, "truncated_examples": s.truncated_examples, "truncated_words": s.truncated_words,
               "mask_all_flip_rate": s.mask_all.flip_rate if s.mask_all else None, "mask_all_low": s.mask_all.low if s.mask_all else None}
        for lab in s.labels:
            rec[f"pred_{lab}_count"], rec[f"pred_{lab}_share"] = s.pred_counts[lab], s.pred_shares[lab]
            rec[f"gold_{lab}_count"], rec[f"gold_{lab}_share"] = s.gold_counts[lab], s.gold_shares[lab]
        out.append(rec)
    pair = diff_pair(runs)
    if pair:
        out[pair[1]]["accuracy_minus_pretrained"] = runs[pair[1]].summary.accuracy - runs[pair[0]].summary.accuracy
    return out


def _diff_value(row: Any, key: str) -> float | None:
    return metric_value(row, key) if key in METRICS else getattr(row, key)


def _method_records(runs: list[RunTables], attr: str, fields: Callable[[Any], dict[str, Any]], diffs: tuple[str, ...]) -> list[dict[str, Any]]:
    pair = diff_pair(runs)
    base = {r.method: r for r in getattr(runs[pair[0]], attr)} if pair else {}
    out = []
    for i, rt in enumerate(runs, start=1):
        for row in getattr(rt, attr):
            rec = {**_run_fields(i, rt), "method": row.method, "row": row.name, "selection": row.selection, **fields(row)}
            if pair and i - 1 == pair[1] and row.method in base:
                for k in diffs:
                    now, before = _diff_value(row, k), _diff_value(base[row.method], k)
                    rec[f"{k}_minus_pretrained"] = None if now is None or before is None else now - before
            out.append(rec)
    return out


def _alignment_metric_fields(r: AlignmentRow) -> dict[str, Any]:
    """Every alignment metric of the row under its registry name (with CI bounds and the
    reason a value is missing), so that a new registry metric reaches the CSV by itself."""
    out: dict[str, Any] = {}
    for info in METRICS.values():
        if info.family != "alignment" or info.name not in r.metrics:
            continue
        ci = metric_ci(r, info.name)
        names = metric_csv_columns(info.name, ci is not None)
        out[names[0]] = r.metrics[info.name]
        if ci is not None:
            out[names[1]], out[names[2]] = ci
        if info.name in r.reasons:
            out[f"{info.name}_missing_reason"] = r.reasons[info.name]
    return out


def records_table2(runs: list[RunTables]) -> list[dict[str, Any]]:
    """Long-format Table 2 records: registry-named metric columns, then the earlier names
    (``micro_f1``, ``macro_f1``, ...) kept for existing readers."""
    out = _method_records(runs, "alignment", lambda r: {
        "n": r.n, **_alignment_metric_fields(r),
        "micro_f1": r.micro_f1, "micro_f1_ci_low": r.micro_ci[0], "micro_f1_ci_high": r.micro_ci[1], "macro_f1": r.macro_f1,
        "parse_fail_rate": r.parse_fail, "not_in_input_share": r.not_found,
        "random_draws": r.draws, "empty_human_rationales": r.empty_gold, "skipped_k0": r.skipped},
        ("micro_f1", "macro_f1", *(m.name for m in table_metrics(2))))
    for rec in out:  # truncation: words of the human rationale the model never saw (excluded)
        rec["human_words_outside_window"] = sum(runs[rec["run"] - 1].data.human_outside().values())
    return out


def _ci_bound(ci: tuple[float, float] | None, i: int) -> float | None:
    """One bound of a CI; ``None`` when the metric is absent (not computed in the run)."""
    return None if ci is None else ci[i]


def records_table4(runs: list[RunTables]) -> list[dict[str, Any]]:
    out = _method_records(runs, "faithfulness", lambda r: {
        "strategy": None, "n": r.n, "flip_rate": r.flip_rate, "flip_rate_ci_low": r.flip_ci[0], "flip_rate_ci_high": r.flip_ci[1],
        "logprob_change": r.logprob_change, "logprob_change_ci_low": r.logprob_ci[0], "logprob_change_ci_high": r.logprob_ci[1],
        "comprehensiveness": r.comprehensiveness, "comprehensiveness_ci_low": r.comprehensiveness_ci[0],
        "comprehensiveness_ci_high": r.comprehensiveness_ci[1],
        "sufficiency": r.sufficiency, "sufficiency_ci_low": r.sufficiency_ci[0], "sufficiency_ci_high": r.sufficiency_ci[1],
        "aopc_comprehensiveness": r.aopc_comprehensiveness, "aopc_comprehensiveness_ci_low": _ci_bound(r.aopc_comprehensiveness_ci, 0),
        "aopc_comprehensiveness_ci_high": _ci_bound(r.aopc_comprehensiveness_ci, 1),
        "aopc_sufficiency": r.aopc_sufficiency, "aopc_sufficiency_ci_low": _ci_bound(r.aopc_sufficiency_ci, 0),
        "aopc_sufficiency_ci_high": _ci_bound(r.aopc_sufficiency_ci, 1), "aopc_computed": r.aopc_comprehensiveness is not None,
        "n_aopc": r.n_aopc, "rationale_words_outside_window": r.outside_window,
        "mean_words_masked": r.mean_masked, "parse_fail_rate": r.parse_fail,
        "orig_no_label": r.orig_unparseable, "masked_no_label": r.masked_unparseable, "no_probabilities": r.no_probs, "skipped_k0": r.skipped},
        ("flip_rate", "logprob_change"))
    for rec in out:
        rec["strategy"] = runs[rec["run"] - 1].data.mask_strategy
    return out
