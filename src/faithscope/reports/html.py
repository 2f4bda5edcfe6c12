"""One self-contained HTML page per report (``report.html``): no external JS, CSS or fonts.

It shows, per run, the metadata (model identity, config, versions, sample note, timings),
the first-outputs table and Tables 2 and 4, the mask-ALL warning in a red box when it is
triggered, the figures (embedded as base64 SVG ``data:`` images, so the page stays valid when
moved and figures cannot clash), and for the first few examples their text with the human
rationale and each method's selected words highlighted, plus the raw prompting replies.

Every piece of text from data or models (dataset words, labels, model replies, paths,
config values) goes through :func:`html.escape`: replies are untrusted and may contain markup.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any, Mapping, Sequence

from .render import Table
from .rundata import PROMPTING, RunData
from .tables import ORDER_T2, display, ordered

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2em auto;max-width:1200px;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.8em 0;font-size:.85em}th,td{border:1px solid #ccc;padding:.25em .5em;vertical-align:top}
th{background:#f2f2f2}td.num{text-align:right;white-space:nowrap}
.warn{border:2px solid #c00;background:#fee;color:#600;padding:.7em 1em;margin:1em 0;font-weight:600}
.note{color:#555;font-size:.85em}pre{background:#f7f7f7;border:1px solid #ddd;padding:.5em;white-space:pre-wrap;word-break:break-word;font-size:.85em}
mark.h{background:#ffe58a}mark.m{background:#b9dcff}mark.b{background:#8fd18f}
figure{display:inline-block;margin:.5em 1em .5em 0}figure img{max-width:560px;border:1px solid #eee}
details{margin:.4em 0}.bad{color:#c00}.field{color:#777;font-style:italic;margin-right:.3em}
"""


def esc(value: Any) -> str:
    """Escape any value for HTML text or attribute context."""
    return html.escape(str(value), quote=True)


def table_html(table: Table) -> str:
    """A :class:`~faithscope.reports.render.Table` as an HTML table with group headers."""
    out = [f"<h3>{esc(table.title)}</h3>", "<table>"]
    if table.groups:
        out.append("<tr>" + "".join("<th></th>" for _ in table.row_header)
                   + "".join(f'<th colspan="{w}">{esc(label)}</th>' for label, w in table.groups) + "</tr>")
    out.append("<tr>" + "".join(f"<th>{esc(h)}</th>" for h in table.row_header + table.columns) + "</tr>")
    for heads, values in table.rows:
        out.append("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in heads) + "".join(f'<td class="num">{esc(c)}</td>' for c in values) + "</tr>")
    out.append("</table>")
    if table.notes:
        out.append("<ul class=\"note\">" + "".join(f"<li>{esc(n)}</li>" for n in table.notes) + "</ul>")
    return "\n".join(out)


def _kv_table(items: Mapping[str, Any]) -> str:
    rows = []
    for k, v in items.items():
        text = json.dumps(v, indent=1, default=str) if isinstance(v, (dict, list)) else str(v)
        rows.append(f"<tr><th>{esc(k)}</th><td><pre>{esc(text)}</pre></td></tr>" if isinstance(v, (dict, list))
                    else f"<tr><th>{esc(k)}</th><td>{esc(text)}</td></tr>")
    return "<table>" + "".join(rows) + "</table>"


def metadata_html(data: RunData, summary: Any) -> str:
    """Model identity, weights state, dataset, sample note, versions, config and timings."""
    timings = {stage: f"{sec:.1f} s for {items} items" + (f", peak memory {data.stage_peaks[stage]:.0f} MiB" if stage in data.stage_peaks else "")
               for stage, (sec, items) in data.timings.items()}
    basics = {"run directory": str(data.run_dir), "model": data.model_name, "weights": data.state, "dataset": data.dataset,
              "examples": summary.n_examples, "sample": data.meta.get("sample_note", ""), "masking": data.mask_strategy,
              "peak memory": f"{summary.peak_rss_mib:.0f} MiB" if summary.peak_rss_mib is not None else "not recorded"}
    parts = [_kv_table(basics), "<details><summary>model identity</summary>" + _kv_table(data.identity) + "</details>",
             "<details><summary>package versions</summary>" + _kv_table(data.meta.get("versions") or {}) + "</details>",
             "<details><summary>configuration</summary><pre>" + esc(json.dumps(data.config, indent=1, sort_keys=True, default=str)) + "</pre></details>"]
    if timings:
        parts.append("<details open><summary>stage timings</summary>" + _kv_table(timings) + "</details>")
    return "\n".join(parts)


def figures_html(paths: Sequence[Path], out_dir: Path) -> str:
    """Each figure's SVG embedded as a data URI, with a link to its PNG (relative path)."""
    out = []
    for svg in (p for p in paths if p.suffix == ".svg"):
        data = base64.b64encode(svg.read_bytes()).decode("ascii")
        png = svg.with_suffix(".png")
        link = png.relative_to(out_dir) if png.is_relative_to(out_dir) else png
        out.append(f'<figure><img alt="{esc(svg.stem)}" src="data:image/svg+xml;base64,{data}">'
                   f'<figcaption class="note"><a href="{esc(link.as_posix())}">{esc(svg.stem)}.png</a></figcaption></figure>')
    return "\n".join(out)


def highlight(fields: Mapping[str, Sequence[str]], selected: set[int], human: set[int] | None = None) -> str:
    """The example's words with ``selected`` positions marked; with ``human`` given, words in
    both are marked ``b`` (green), selected-only ``m`` (blue). Positions are global."""
    out, pos = [], 0
    for name, words in fields.items():
        out.append(f'<span class="field">{esc(name)}:</span>')
        for w in words:
            cls = None
            if pos in selected:
                cls = "b" if human is not None and pos in human else ("m" if human is not None else "h")
            out.append(f'<mark class="{cls}">{esc(w)}</mark>' if cls else esc(w))
            pos += 1
    return " ".join(out)


def examples_html(data: RunData, n: int = 10) -> str:
    """The first ``n`` examples: text with the human rationale, each method's words for the
    TRUE label (alignment), and the raw prompting replies for both labels."""
    methods = ordered([m for m in data.methods("alignment") if m not in ("human", "all-words", "all")], ORDER_T2)
    out = ['<p class="note">Highlights: <mark class="h">human rationale</mark>, '
           '<mark class="b">selected and human</mark>, <mark class="m">selected only</mark>.</p>']
    for ex in data.examples[:n]:
        pred = data.predictions.get(ex["id"])
        human = set(ex["human"])
        fields = ex["fields"]
        head = f"{ex['id']} · gold {ex['label']} · predicted {pred.predicted if pred else '(none)'}"
        rows = [f"<tr><th>human</th><td>{highlight(fields, human)}</td></tr>"]
        for m in methods:
            rat = data.rationales[(m, "alignment")].get(ex["id"])
            if rat is None:
                continue
            name, sel = display(m)
            flag = "" if rat.parsed else ' <span class="bad">(reply not parsed)</span>'
            rows.append(f"<tr><th>{esc(name)} {esc(sel)}{flag}</th><td>{highlight(fields, set(rat.positions), human)}</td></tr>")
        replies = []
        for m in PROMPTING:
            for purpose in ("alignment", "faithfulness"):
                rat = data.rationales.get((m, purpose), {}).get(ex["id"])
                if rat is not None and rat.raw_reply is not None:
                    missing = f" · not in input: {', '.join(rat.not_found)}" if rat.not_found else ""
                    replies.append(f"<p class=\"note\">{esc(m)} · {esc(purpose)} (label {esc(rat.target_label)}) · "
                                   f"{'parsed' if rat.parsed else 'NOT parsed'}{esc(missing)}</p><pre>{esc(rat.raw_reply)}</pre>")
        out.append(f"<details open><summary>{esc(head)}</summary><table>{''.join(rows)}</table>"
                   + (f"<details><summary>raw prompting replies</summary>{''.join(replies)}</details>" if replies else "")
                   + "</details>")
    return "\n".join(out)


def render_html(runs: Sequence[Any], tables: Sequence[Table], figures: Mapping[str, Sequence[Path]], out_dir: Path, n_examples: int = 10) -> str:
    """The whole page for computed runs (:class:`~faithscope.reports.compose.RunTables`)."""
    title = "faithscope report: " + "; ".join(rt.data.label for rt in runs)
    body = [f"<h1>{esc(title)}</h1>"]
    for rt in runs:
        for w in rt.summary.warnings:
            body.append(f'<div class="warn">{esc(rt.data.label)}: {esc(w)}</div>')
    body.append("<h2>Results</h2>")
    body += [table_html(t) for t in tables]
    all_figs = [p for paths in figures.values() for p in paths]
    if all_figs:
        body += ["<h2>Figures</h2>", figures_html(all_figs, out_dir)]
    for i, rt in enumerate(runs, start=1):
        body += [f"<h2>Run [{i}]: {esc(rt.data.label)}</h2>", metadata_html(rt.data, rt.summary)]
        if rt.data.examples and n_examples > 0:
            body += [f"<h3>First {min(n_examples, len(rt.data.examples))} examples</h3>", examples_html(rt.data, n_examples)]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{esc(title)}</title><style>{CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def write_html(runs: Sequence[Any], tables: Sequence[Table], figures: Mapping[str, Sequence[Path]], out_dir: Path, n_examples: int = 10) -> Path:
    path = out_dir / "report.html"
    path.write_text(render_html(runs, tables, figures, out_dir, n_examples), encoding="utf-8")
    return path
