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

from .render import Table
from .rundata import RunData
from .summary import RunSummary, summarize
from .tables import ORDER_T2, ORDER_T4, AlignmentRow, FaithfulnessRow, alignment_rows, display, faithfulness_rows, ordered

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


@dataclass(frozen=True)
class Column:
    """A value column: header, cell text of a row, and the attribute a difference is taken of."""

    header: str
    cell: Callable[[Any], str]
    diff_attr: str | None = None


T2_COLUMNS = [
    Column("micro F1", lambda r: pct(r.micro_f1), "micro_f1"),
    Column("95% CI", lambda r: ci_text(r.micro_ci)),
    Column("macro F1", lambda r: pct(r.macro_f1), "macro_f1"),
    Column("P", lambda r: pct(r.precision)),
    Column("R", lambda r: pct(r.recall)),
    Column("N", lambda r: str(r.n) + (f" ×{r.draws}" if r.draws > 1 else "")),
    Column("parse fail %", lambda r: pct(r.parse_fail)),
    Column("not in input %", lambda r: pct(r.not_found)),
]
T4_COLUMNS = [
    Column("flip rate", lambda r: pct(r.flip_rate), "flip_rate"),
    Column("95% CI", lambda r: ci_text(r.flip_ci)),
    Column("Δ log p", lambda r: num(r.logprob_change), None),
    Column("Δ log p 95% CI", lambda r: ci_text(r.logprob_ci, 1.0, 3)),
    Column("compr.", lambda r: num(r.comprehensiveness)),
    Column("words masked", lambda r: num(r.mean_masked, 1)),
    Column("N", lambda r: str(r.n)),
    Column("parse fail %", lambda r: pct(r.parse_fail)),
]


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
                if base is not None and col.diff_attr:
                    text = with_diff(text, getattr(row, col.diff_attr), getattr(base, col.diff_attr))
                values.append(text)
        rows.append((list(display(m)), values))
    if pair:
        notes = notes + ["Values in parentheses: fine-tuned minus pre-trained (percentage points)."]
    return Table(title, ["Method", "Selection"], [c.header for _ in runs for c in columns], rows,
                 [(rt.data.label, len(columns)) for rt in runs], notes)


def table2(runs: list[RunTables]) -> Table:
    """Table 2: alignment with the human rationale (TRUE label), % with 95% bootstrap CIs."""
    notes = ["Micro F1 pools token counts over examples (the paper's Table 2 default); macro F1 averages per-example F1.",
             "RANDOM averages over its stored draws (N ×draws); prompting replies that could not be parsed count as empty rationales."]
    for i, rt in enumerate(runs, start=1):
        empty = max((r.empty_gold for r in rt.alignment), default=0)
        if empty:
            notes.append(f"[{i}] {empty} examples have an empty human rationale (recall 0 by ERASER convention).")
    return _method_table("Table 2: alignment with human rationales (F1 %)", runs, "alignment", T2_COLUMNS, ORDER_T2, notes)


TABLE4_BASES = ("Bases of the effect columns: Δ log p is on the verbaliser log-probabilities (the label tokens' log p, not renormalised); "
                "compr. is on the distribution renormalised over the labels.")
"""Which probability each effect column of Table 4 is computed on (the two differ)."""


def table4(runs: list[RunTables]) -> Table:
    """Table 4: flip rate on masking each method's rationale (PREDICTED label)."""
    strategies = ", ".join(sorted({rt.data.mask_strategy for rt in runs}))
    notes = [f"Masking strategy: {strategies}. Δ log p = mean log-prob change of the originally predicted label (masked − original).",
             "compr. = ERASER comprehensiveness, p(y|x) − p(y|x without rationale) over the label set.",
             TABLE4_BASES]
    for i, rt in enumerate(runs, start=1):
        if rt.summary.mask_all is not None and rt.summary.mask_all.low:
            notes.append(f"[{i}] WARNING: {rt.summary.mask_all.message}")
    return _method_table("Table 4: faithfulness, flip rate on masking the rationale (%)", runs, "faithfulness", T4_COLUMNS, ORDER_T4, notes)


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


def _method_records(runs: list[RunTables], attr: str, fields: Callable[[Any], dict[str, Any]], diffs: tuple[str, ...]) -> list[dict[str, Any]]:
    pair = diff_pair(runs)
    base = {r.method: r for r in getattr(runs[pair[0]], attr)} if pair else {}
    out = []
    for i, rt in enumerate(runs, start=1):
        for row in getattr(rt, attr):
            rec = {**_run_fields(i, rt), "method": row.method, "row": row.name, "selection": row.selection, **fields(row)}
            if pair and i - 1 == pair[1] and row.method in base:
                rec.update({f"{k}_minus_pretrained": getattr(row, k) - getattr(base[row.method], k) for k in diffs})
            out.append(rec)
    return out


def records_table2(runs: list[RunTables]) -> list[dict[str, Any]]:
    return _method_records(runs, "alignment", lambda r: {
        "n": r.n, "micro_f1": r.micro_f1, "micro_f1_ci_low": r.micro_ci[0], "micro_f1_ci_high": r.micro_ci[1], "macro_f1": r.macro_f1,
        "precision": r.precision, "recall": r.recall, "parse_fail_rate": r.parse_fail, "not_in_input_share": r.not_found,
        "random_draws": r.draws, "empty_human_rationales": r.empty_gold}, ("micro_f1", "macro_f1"))


def records_table4(runs: list[RunTables]) -> list[dict[str, Any]]:
    out = _method_records(runs, "faithfulness", lambda r: {
        "strategy": None, "n": r.n, "flip_rate": r.flip_rate, "flip_rate_ci_low": r.flip_ci[0], "flip_rate_ci_high": r.flip_ci[1],
        "logprob_change": r.logprob_change, "logprob_change_ci_low": r.logprob_ci[0], "logprob_change_ci_high": r.logprob_ci[1],
        "comprehensiveness": r.comprehensiveness, "comprehensiveness_ci_low": r.comprehensiveness_ci[0],
        "comprehensiveness_ci_high": r.comprehensiveness_ci[1], "mean_words_masked": r.mean_masked, "parse_fail_rate": r.parse_fail},
        ("flip_rate", "logprob_change"))
    for rec in out:
        rec["strategy"] = runs[rec["run"] - 1].data.mask_strategy
    return out
