"""Analyses of a fine-tune from its stored results only: Tables 3 and 5, skewness (Fig. A.2).

* **Table 3**: Pearson r (two-sided p, ``scipy.stats.pearsonr`` through
  :func:`faithscope.metrics.pearson`) across epochs 0..E between accuracy and the alignment
  micro F1 of each method; **Table 5**: the same between accuracy and each method's flip rate
  (the ``all`` method's flip rate is the mask-ALL row). A correlation over a constant series
  or fewer than 3 epochs is undefined and says why instead of showing a number.
* **Skewness (Fig. A.2)**: for every evaluation example, the Fisher-Pearson coefficient of
  skewness (g1, biased moments, = ``scipy.stats.skew``) of its word-level Input x Gradient
  scores for the PREDICTED label (the faithfulness rationale's stored scores, one per input
  word); reported as mean +- sample std over the examples, before fine-tuning (epoch 0) and
  after (the last epoch). The paper reports 3.37 +- 0.31 before and 1.42 +- 0.36 after for
  Llama-2-7B: fine-tuning spreads the attribution over more words.

:func:`write_analysis` writes, into ``OUTPUT/analysis/``: the per-epoch table and Tables 3/5
(Markdown, CSV, LaTeX, via :mod:`faithscope.reports`), ``skewness.json``, ``analysis.md``,
and the figures (PNG + SVG): Fig. 2, 3, 4 and A.1 from :mod:`faithscope.reports.plots`, and
``figA2_skewness`` (per-example skewness before vs after, and the word scores of one example).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ..metrics import Correlation, mean_std, skewness
from ..reports.epochs import Epochs, correlations, sorted_epochs
from ..reports.json_safe import json_safe
from ..reports.rundata import RunData, load_run

SKEW_METHOD = "input_x_gradient"


def per_example_skewness(data: RunData, method: str = SKEW_METHOD, purpose: str = "faithfulness") -> dict[str, float]:
    """``{example_id: g1 of its word scores}`` (examples with fewer than 3 words or constant
    scores, where g1 is undefined, are left out)."""
    out: dict[str, float] = {}
    for eid, rat in data.rationales.get((method, purpose), {}).items():
        if rat.scores is None or len(rat.scores) < 3:
            continue
        g1 = skewness(rat.scores)
        if not math.isnan(g1):
            out[eid] = g1
    return out


def skewness_summary(data: RunData, method: str = SKEW_METHOD, purpose: str = "faithfulness") -> dict[str, Any]:
    """Mean and sample std of the per-example skewness, with the number of examples."""
    values = list(per_example_skewness(data, method, purpose).values())
    mean, std = mean_std(values)
    return {"mean": mean, "std": std, "n": len(values), "method": method, "purpose": purpose}


def table3(epochs: Epochs) -> dict[str, Correlation]:
    """Pearson r of alignment micro F1 with accuracy across epochs, per method (Table 3)."""
    return correlations(epochs, "alignment")


def table5(epochs: Epochs) -> dict[str, Correlation]:
    """Pearson r of flip rate with accuracy across epochs, per method (Table 5)."""
    return correlations(epochs, "flip_rate")


def _run_dir(output_dir: Path, epochs: Epochs, epoch: int) -> Path:
    summary = epochs.get(epoch) or epochs.get(str(epoch)) or {}  # type: ignore[call-overload]
    return Path(summary.get("run_dir") or output_dir / f"epoch_{epoch}")


def skewness_before_after(output_dir: Path | str, epochs: Epochs, method: str = SKEW_METHOD) -> dict[str, Any] | None:
    """Skewness summaries of epoch 0 and of the last epoch, and their per-example values."""
    out = Path(output_dir)
    xs = sorted_epochs(epochs)
    if not xs or xs[0] != 0 or len(xs) < 2:
        return None
    first, last = _run_dir(out, epochs, 0), _run_dir(out, epochs, xs[-1])
    if not (first / "results.sqlite").is_file() or not (last / "results.sqlite").is_file():
        return None
    before, after = load_run(first), load_run(last)
    if (method, "faithfulness") not in before.rationales:
        return None
    return {"method": method, "before_epoch": 0, "after_epoch": xs[-1],
            "before": skewness_summary(before, method), "after": skewness_summary(after, method),
            "before_values": per_example_skewness(before, method), "after_values": per_example_skewness(after, method),
            "example": _example_scores(before, after, method)}


def _example_scores(before: RunData, after: RunData, method: str) -> dict[str, Any] | None:
    """Word scores of one example before and after (the first stored example with both)."""
    b = before.rationales.get((method, "faithfulness"), {})
    a = after.rationales.get((method, "faithfulness"), {})
    for ex in before.examples:
        rb, ra = b.get(ex["id"]), a.get(ex["id"])
        if rb is not None and ra is not None and rb.scores and ra.scores:
            words = [w for f in ex["fields"].values() for w in f]
            return {"id": ex["id"], "words": words, "before": list(rb.scores), "after": list(ra.scores),
                    "before_label": rb.target_label, "after_label": ra.target_label}
    return None


def plot_skewness(result: Mapping[str, Any], stem: Path) -> list[Path]:
    """Fig. A.2 companion: per-example skewness histograms before/after, and one example's
    normalised word scores before/after (PNG + SVG)."""
    import matplotlib
    from matplotlib.figure import Figure

    from ..reports.plots import save

    with matplotlib.rc_context({"font.size": 9, "svg.hashsalt": "faithscope"}):
        example = result.get("example")
        fig = Figure(figsize=(10.0, 3.8) if example else (5.5, 3.8))
        axes = fig.subplots(1, 2 if example else 1, squeeze=False)[0]
        ax = axes[0]
        bvals, avals = list(result["before_values"].values()), list(result["after_values"].values())
        both = bvals + avals
        if both:
            bins = np.linspace(min(both), max(both), 21) if max(both) > min(both) else 10
            for vals, name, key, color in ((bvals, f"epoch {result['before_epoch']} (pre-trained)", "before", "tab:red"),
                                           (avals, f"epoch {result['after_epoch']} (fine-tuned)", "after", "tab:blue")):
                s = result[key]
                ax.hist(vals, bins=bins, alpha=0.55, color=color, label=f"{name}: {s['mean']:.2f} ± {s['std']:.2f} (N={s['n']})")
        ax.set_xlabel("Fisher-Pearson skewness of the word scores")
        ax.set_ylabel("examples")
        ax.set_title(f"Skewness of {result['method']} scores per example")
        ax.legend(fontsize=7)
        if example:
            ax2 = axes[1]
            words = example["words"]
            x = np.arange(len(words))
            for key, color, off in (("before", "tab:red", -0.2), ("after", "tab:blue", 0.2)):
                v = np.asarray(example[key], dtype=float)
                top = np.max(np.abs(v)) or 1.0
                ax2.bar(x + off, v / top, 0.4, color=color, label=f"{key} ({example[key + '_label']})")
            ax2.set_xticks(x)
            ax2.set_xticklabels(words, rotation=70, fontsize=7)
            ax2.set_ylabel("score / max |score|")
            ax2.set_title(f"Word scores of example {example['id']}", fontsize=9)
            ax2.legend(fontsize=7)
        return save(fig, stem)


def _fmt_corr(c: Correlation | None) -> str:
    if c is None:
        return "–"
    if math.isnan(c.r):
        return f"undefined ({c.reason})"
    return f"{c.r:.2f} ({c.p:.2f})"


def _pct(x: Any) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "–"
    return "–" if math.isnan(v) else f"{100 * v:.1f}"


def markdown_summary(epochs: Epochs, skew: Mapping[str, Any] | None, methods: list[str]) -> str:
    """A readable summary: metrics per epoch, Tables 3/5, skewness before/after."""
    xs = sorted_epochs(epochs)
    get = lambda e: epochs.get(e) or epochs.get(str(e)) or {}  # noqa: E731
    labels: list[str] = []
    for e in xs:
        labels += [lab for lab in (get(e).get("label_distribution") or {}) if lab not in labels]
    lines = ["# Fine-tuning analysis", "", "## Per epoch (epoch 0 = pre-trained; %)", ""]
    head = ["epoch", "train loss", "accuracy", "zero-rate", "mask-ALL flip"] + [f"pred {lab}" for lab in labels]
    head += [f"F1 {m}" for m in methods] + [f"flip {m}" for m in methods]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for e in xs:
        s = get(e)
        loss = s.get("train_loss")
        row = [str(e), f"{loss:.3f}" if isinstance(loss, (int, float)) else "–", _pct(s.get("accuracy")), _pct(s.get("zero_rate")),
               _pct(s.get("mask_all_flip_rate"))]
        row += [_pct((s.get("label_distribution") or {}).get(lab)) for lab in labels]
        row += [_pct((s.get("alignment") or {}).get(m)) for m in methods]
        row += [_pct((s.get("flip_rate") or {}).get(m)) for m in methods]
        lines.append("| " + " | ".join(row) + " |")
    t3, t5 = table3(epochs), table5(epochs)
    lines += ["", "## Tables 3 and 5: Pearson r (p) with accuracy across epochs", "",
              "| method | alignment F1 vs accuracy (Table 3) | flip rate vs accuracy (Table 5) |", "|---|---|---|"]
    for m in [m for m in methods if m in t3 or m in t5]:
        lines.append(f"| {m} | {_fmt_corr(t3.get(m))} | {_fmt_corr(t5.get(m))} |")
    if skew:
        b, a = skew["before"], skew["after"]
        lines += ["", f"## Skewness of {skew['method']} word scores (Fig. A.2)", "",
                  f"- epoch {skew['before_epoch']} (pre-trained): {b['mean']:.2f} ± {b['std']:.2f} over {b['n']} examples",
                  f"- epoch {skew['after_epoch']} (fine-tuned): {a['mean']:.2f} ± {a['std']:.2f} over {a['n']} examples",
                  "", "Paper (Llama-2-7B): 3.37 ± 0.31 before, 1.42 ± 0.36 after."]
    return "\n".join(lines) + "\n"


def write_analysis(output_dir: Path | str, epochs: Epochs, methods: list[str] | None = None, label: str = "fine-tune") -> dict[str, list[Path]]:
    """Write tables, skewness and figures of a fine-tune into ``OUTPUT/analysis``."""
    from ..reports.epoch_tables import correlation_table, epoch_table
    from ..reports.plots import epoch_plots
    from ..reports.render import write_table

    out = Path(output_dir) / "analysis"
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, list[Path]] = {}
    if not epochs:
        return files
    methods = methods or []
    for name, (table, records) in (("epochs", epoch_table(epochs, label)), ("correlations", correlation_table(epochs, label))):
        files[name] = write_table(table, records, out / name)
    skew = skewness_before_after(output_dir, epochs)
    if skew is not None:
        path = out / "skewness.json"
        path.write_text(json.dumps(json_safe(skew), indent=1), encoding="utf-8")
        files["skewness"] = [path]
        files["figA2_skewness"] = plot_skewness(skew, out / "plots" / "figA2_skewness")
    files.update(epoch_plots(epochs, out / "plots"))
    corr = {"table3": {m: {"r": c.r, "p": c.p, "n": c.n, "reason": c.reason} for m, c in table3(epochs).items()},
            "table5": {m: {"r": c.r, "p": c.p, "n": c.n, "reason": c.reason} for m, c in table5(epochs).items()}}
    cpath = out / "tables_3_5.json"
    cpath.write_text(json.dumps(json_safe(corr), indent=1), encoding="utf-8")
    files["tables_3_5"] = [cpath]
    md = out / "analysis.md"
    md.write_text(markdown_summary(epochs, skew, methods), encoding="utf-8")
    files["analysis"] = [md]
    return files
