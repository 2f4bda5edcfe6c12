"""The data of the HTML report's example explorer: one JSON blob over every example of every run.

The explorer (``static/explorer.js``) renders examples on demand from this blob, so a report
of 1,000 examples x 8 methods stays one small offline page. The blob is built generically from
the store rows: every method found in the run's rationales or masked rows, every stored field
of a masked row (columns other developers add to the store show up as ``key = value``), and
for fine-tunes every evaluated epoch's per-example results (``epoch_E/`` run directories).

What it also builds: the filters behind the reliability warnings and behind each Table 2/4
cell (clicking a cell shows the examples behind that number), as small dicts the page keeps
in ``data-fs-filter`` attributes. Everything here is data; the page escapes it (see
:func:`blob_json`), and the script sets every text with ``textContent``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from ..metrics import prf
from ..types import LabelScores, Rationale
from .json_safe import json_safe
from .render import Table
from .rundata import PROMPTING, RunData, load_run
from .tables import ORDER_T2, display, ordered

#: Purposes as the blob names them: ``a`` = alignment (TRUE label), ``f`` = faithfulness (PREDICTED).
PURPOSES = {"alignment": "a", "faithfulness": "f"}
NO_PREDICTION = "__none__"
"""The predicted-label filter value of examples without a prediction."""

NORMALISATION = "per example and method, divided by the largest |score| of its words (colour only; values in the tooltip are raw)"


def _num(x: Any, digits: int = 4) -> float | None:
    """A float rounded to ``digits`` significant digits (``None`` for NaN/inf/missing)."""
    if x is None or isinstance(x, bool):
        return None if x is None else float(x)
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(v):
        return None
    return float(f"{v:.{digits}g}")


def _dist(scores: LabelScores, labels: Sequence[str]) -> list[float | None]:
    probs = dict(zip(scores.labels, scores.probs))
    return [_num(probs.get(lab)) for lab in labels]


def _rationale(rat: Rationale, human: Sequence[int] | None) -> dict[str, Any]:
    """One stored rationale; ``f1`` (per-example token F1 against the human rationale) only
    for alignment rationales (``human`` given)."""
    out: dict[str, Any] = {"p": list(rat.positions), "t": rat.target_label}
    if rat.k is not None:
        out["k"] = rat.k
    if rat.scores is not None:
        out["s"] = [_num(s) for s in rat.scores]
    if rat.raw_reply is not None:
        out["r"] = rat.raw_reply
        out["ok"] = bool(rat.parsed)
        if rat.not_found:
            out["nf"] = list(rat.not_found)
    if human is not None:
        out["f1"] = _num(prf(rat.positions, human).f1)
    return out


def _masked(row: dict[str, Any]) -> dict[str, Any]:
    """Every stored field of a masked row (but its keys), plus the probability and log-prob changes."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key in ("example_id", "method", "strategy"):
            continue
        out[key] = bool(value) if key == "flipped" else (_num(value) if isinstance(value, float) else value)
    if "orig_prob" in row and "masked_prob" in row:
        out["dp"] = _num(row["masked_prob"] - row["orig_prob"]) if _finite(row["masked_prob"], row["orig_prob"]) else None
    if "orig_logprob" in row and "masked_logprob" in row:
        out["dlp"] = _num(row["masked_logprob"] - row["orig_logprob"]) if _finite(row["masked_logprob"], row["orig_logprob"]) else None
    return out


def _finite(*values: Any) -> bool:
    return all(isinstance(v, (int, float)) and math.isfinite(v) for v in values)


def run_methods(data: RunData) -> list[str]:
    """Every method with stored rationales or masked rows, in Table 2 order (unknown ones after)."""
    found = {m for m, _ in data.rationales} | {r["method"] for r in data.masked}
    return ordered(found, ORDER_T2)


def _per_example(data: RunData, methods: Sequence[str], labels: Sequence[str], full: bool) -> dict[str, dict[str, Any]]:
    """Per example id: prediction, label distribution and per method the rationales and masking
    outcome. ``full=False`` keeps what an epoch view needs (alignment rationales, masking)."""
    masked = {(r["example_id"], r["method"]): r for r in data.masked_rows()}
    out: dict[str, dict[str, Any]] = {}
    for ex in data.examples:
        eid, human = ex["id"], list(ex["human"])
        pred = data.predictions.get(eid)
        entry: dict[str, Any] = {"pred": pred.predicted if pred is not None else None,
                                 "dist": _dist(pred, labels) if pred is not None else None}
        if full:
            entry["trunc"] = pred.truncated_words if pred is not None else 0
            entry["src"] = pred.source if pred is not None else None
        per_method: dict[str, Any] = {}
        for m in methods:
            item: dict[str, Any] = {}
            for purpose, short in PURPOSES.items():
                if not full and short != "a":
                    continue
                rat = data.rationales.get((m, purpose), {}).get(eid)
                if rat is not None:
                    item[short] = _rationale(rat, human if short == "a" else None)
            row = masked.get((eid, m))
            if row is not None:
                item["x"] = _masked(row)
            if item:
                per_method[m] = item
        entry["m"] = per_method
        out[eid] = entry
    return out


def _legend(data: RunData) -> dict[str, str]:
    """Target, reduction and attention aggregation as stored with the scored methods' rationales
    (the run config when the rationales carry no settings)."""
    found: dict[str, set[str]] = {"target": set(), "reduction": set(), "attention": set()}
    for settings in data.settings.values():
        attribution = (settings.get("options") or {}).get("attribution") or {}
        for key in found:
            if attribution.get(key):
                found[key].add(str(attribution[key]))
    config = data.config.get("attribution") or {}
    legend = {key: ", ".join(sorted(vals)) or str(config.get(key) or "not recorded") for key, vals in found.items()}
    legend["aggregation"] = "sum of a word's subword scores"
    legend["normalisation"] = NORMALISATION
    return legend


def epoch_run_dirs(data: RunData) -> dict[int, Path]:
    """The ``epoch_E`` run directories beside a fine-tune's epoch run (empty for a plain run)."""
    if not data.epochs:
        return {}
    parent = data.run_dir.parent
    out = {}
    for p in parent.glob("epoch_*"):
        tail = p.name.split("_", 1)[1]
        if tail.isdigit() and (p / "results.sqlite").is_file():
            out[int(tail)] = p
    return dict(sorted(out.items()))


def run_blob(data: RunData, summary: Any, index: int) -> dict[str, Any]:
    """One run's part of the blob (``index`` is its 0-based position in the report)."""
    methods = run_methods(data)
    labels = list(summary.labels) if getattr(summary, "labels", None) else data.labels
    per = _per_example(data, methods, labels, full=True)
    examples = []
    for i, ex in enumerate(data.examples):
        fields, words, start = [], [], 0
        for name, ws in ex["fields"].items():
            fields.append([name, start])
            words.extend(ws)
            start += len(ws)
        examples.append({"id": ex["id"], "i": i, "gold": ex["label"], "w": words, "fl": fields, "h": list(ex["human"]), **per[ex["id"]]})
    epochs = []
    for epoch, run_dir in epoch_run_dirs(data).items():
        epoch_data = data if run_dir.resolve() == data.run_dir.resolve() else load_run(run_dir)
        epochs.append({"epoch": epoch, "state": epoch_data.state, "x": _per_example(epoch_data, methods, labels, full=False)})
    return {"index": index, "label": data.label, "labels": labels, "mask": data.mask_strategy, "legend": _legend(data),
            "methods": [{"name": m, "display": " ".join(display(m)), "prompting": m in PROMPTING,
                         "scored": any(r.scores is not None for (mm, _), rats in data.rationales.items() if mm == m for r in rats.values())}
                        for m in methods],
            "examples": examples, "epochs": epochs}


def explorer_blob(runs: Sequence[Any]) -> dict[str, Any]:
    """The whole blob for computed runs (:class:`~faithscope.reports.compose.RunTables`)."""
    return {"runs": [run_blob(rt.data, rt.summary, i) for i, rt in enumerate(runs)]}


def blob_json(blob: dict[str, Any]) -> str:
    """Strict JSON safe inside ``<script type="application/json">``: ``<``, ``>`` and ``&``
    are written as ``\\u003c``, ``\\u003e``, ``\\u0026`` so no text can close the element."""
    text = json.dumps(json_safe(blob), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


@dataclass(frozen=True)
class WarningLink:
    """A reliability warning and the explorer filter that shows the examples concerned."""

    run: int
    text: str
    filter: dict[str, Any] | None


def warning_links(runs: Sequence[Any]) -> list[WarningLink]:
    """The run summaries' warnings (mask-ALL, collapse, unfinished) plus parse failures,
    unparseable predictions and truncation, each with its filter."""
    out: list[WarningLink] = []
    for i, rt in enumerate(runs):
        s, data = rt.summary, rt.data
        label = data.label
        for w in s.warnings:
            filt: dict[str, Any] | None = None
            if s.mask_all is not None and w == s.mask_all.message:
                all_words = "all" if any(m == "all" for m, _ in data.rationales) else "all-words"  # "all": stores before the rename
                filt = {"method": all_words, "flip": "no", "purpose": "f"}
            elif "collapsed onto one label" in w:
                only = max(s.pred_counts, key=s.pred_counts.__getitem__)
                filt = {"pred": only}
            elif w.startswith("only ") and "have a prediction" in w:
                filt = {"pred": NO_PREDICTION}
            elif s.n_unparseable and w.startswith("the label of ") and "could not be read" in w:
                filt = {"parse": "fail"}
            out.append(WarningLink(i, f"{label}: {w}", None if filt is None else {"run": i, **filt}))
        for (method, purpose), rats in sorted(data.rationales.items()):
            failed = sum(1 for r in rats.values() if r.raw_reply is not None and not r.parsed)
            if failed:
                out.append(WarningLink(i, f"{label}: {' '.join(display(method))} ({purpose}): {failed} of {len(rats)} replies could not be parsed",
                                       {"run": i, "method": method, "purpose": PURPOSES.get(purpose, "a"), "parse": "fail"}))
        if s.truncated_examples:
            out.append(WarningLink(i, f"{label}: {s.truncated_examples} examples were truncated to fit the context window "
                                      f"({s.truncated_words} words dropped)", {"run": i, "trunc": "yes"}))
    return out


def _method_of(heads: Sequence[str], methods: Sequence[str]) -> str | None:
    for m in methods:
        if list(display(m)) == list(heads):
            return m
    return None


def table_links(table: Table, runs: Sequence[Any]) -> dict[tuple[int, int], dict[str, Any]]:
    """``(row, value column) -> filter`` for Tables 2 and 4: the cell's run and method, and
    for a flip-rate cell the flipped examples, for a parse-failure cell the failed replies;
    other cells sort the examples by per-example F1 (Table 2) or probability change (Table 4)."""
    if table.title.startswith("Table 2"):
        purpose, sort = "a", "f1-asc"
    elif table.title.startswith("Table 4"):
        purpose, sort = "f", "dp-asc"
    else:
        return {}
    col_run: list[int] = []
    for g, (_, width) in enumerate(table.groups or [("", len(table.columns))]):
        col_run.extend([g] * width)
    found = [run_methods(rt.data) for rt in runs]
    links: dict[tuple[int, int], dict[str, Any]] = {}
    for r, (heads, values) in enumerate(table.rows):
        for c in range(len(values)):
            run = col_run[c] if c < len(col_run) else 0
            if run >= len(runs):
                continue
            method = _method_of(heads, found[run])
            if method is None:
                continue
            header = table.columns[c].lower()
            filt: dict[str, Any] = {"run": run, "method": method, "purpose": purpose, "sort": sort}
            if "parse fail" in header:
                filt["parse"] = "fail"
            elif purpose == "f" and (header.startswith("flip rate") or (header == "95% ci" and c > 0 and table.columns[c - 1].lower().startswith("flip rate"))):
                filt["flip"] = "yes"
            links[(r, c)] = filt
    return links


__all__ = ["NO_PREDICTION", "WarningLink", "blob_json", "epoch_run_dirs", "explorer_blob", "run_blob", "run_methods", "table_links", "warning_links"]
