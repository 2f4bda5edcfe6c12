"""One self-contained HTML page per report (``report.html``): no external JS, CSS or fonts.

It shows the reliability warnings at the top (mask-ALL, label collapse, parse failures,
truncation; each links to the examples concerned), the first-outputs table and Tables 2 and
4 (each method cell links to the examples behind the number), the figures (embedded as
base64 SVG ``data:`` images, so the page stays valid when moved and figures cannot clash),
per run its metadata (model identity, config, versions, sample note, timings), and the
**example explorer** over every example (:mod:`.explorer` builds its data; the script
``static/explorer.js`` renders it on demand, with filters, sorting and search).

Every piece of text from data or models (dataset words, labels, model replies, paths,
config values) goes through :func:`html.escape` in the HTML, and through
:func:`~faithscope.reports.explorer.blob_json` (``<``, ``>``, ``&`` as ``\\u003c`` ...) in the
one JSON blob, which the script reads and sets with ``textContent`` only. A
``Content-Security-Policy`` meta tag forbids every remote load and allows only the one inline
script (by its SHA-256 hash): a reply that carries markup can neither run nor fetch anything.
For readers without JavaScript a ``<noscript>`` block keeps the first examples as static HTML.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from importlib import resources
from pathlib import Path
from typing import Any, Mapping, Sequence

from .explorer import blob_json, explorer_blob, table_links, warning_links
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


def static_text(name: str) -> str:
    """A file shipped in ``reports/static`` (the explorer's script and style)."""
    return resources.files("faithscope.reports").joinpath("static", name).read_text(encoding="utf-8")


def csp(script: str) -> str:
    """The page's Content-Security-Policy: nothing remote, only ``script`` (by hash) runs."""
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    return (f"default-src 'none'; script-src 'sha256-{digest}'; style-src 'unsafe-inline'; img-src data:; "
            "font-src 'none'; connect-src 'none'; form-action 'none'; base-uri 'none'")


def filter_attr(filt: Mapping[str, Any] | None) -> str:
    """A ``data-fs-filter`` attribute (escaped JSON) that the explorer turns into a filter."""
    if not filt:
        return ""
    return f' data-fs-filter="{esc(json.dumps(dict(filt), sort_keys=True))}" tabindex="0" role="link"'


def table_html(table: Table, links: Mapping[tuple[int, int], Mapping[str, Any]] | None = None) -> str:
    """A :class:`~faithscope.reports.render.Table` as an HTML table with group headers;
    ``links`` maps (row, value column) to the explorer filter of that cell."""
    links = links or {}
    out = [f"<h3>{esc(table.title)}</h3>", "<table>"]
    if table.groups:
        out.append("<tr>" + "".join("<th></th>" for _ in table.row_header)
                   + "".join(f'<th colspan="{w}">{esc(label)}</th>' for label, w in table.groups) + "</tr>")
    out.append("<tr>" + "".join(f"<th>{esc(h)}</th>" for h in table.row_header + table.columns) + "</tr>")
    for r, (heads, values) in enumerate(table.rows):
        out.append("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in heads)
                   + "".join(f'<td class="num"{filter_attr(links.get((r, c)))}>{esc(v)}</td>' for c, v in enumerate(values)) + "</tr>")
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


def explorer_html(runs: Sequence[Any]) -> tuple[str, str]:
    """The explorer's container and data blob, and its script (returned apart for the CSP hash)."""
    n = sum(len(rt.data.examples) for rt in runs)
    body = (f'<h2 id="explorer">Examples ({n})</h2>'
            '<p class="note">Every example of the run. Filter, sort and search below; click a Table 2/4 cell or a warning to see the examples behind it.</p>'
            '<div id="fs-explorer"></div>'
            f'<script type="application/json" id="fs-data">{blob_json(explorer_blob(runs))}</script>')
    return body, static_text("explorer.js")


def render_html(runs: Sequence[Any], tables: Sequence[Table], figures: Mapping[str, Sequence[Path]], out_dir: Path, n_examples: int = 10,
                title_extra: Sequence[str] = ()) -> str:
    """The whole page for computed runs (:class:`~faithscope.reports.compose.RunTables`);
    ``n_examples`` is how many examples the ``<noscript>`` fallback shows statically;
    ``title_extra`` names further runs whose tables are in ``tables`` (counterfactual runs)."""
    title = "faithscope report: " + "; ".join([rt.data.label for rt in runs] + list(title_extra))
    body = [f"<h1>{esc(title)}</h1>"]
    for w in warning_links(runs):
        link = f' <a href="#explorer"{filter_attr(w.filter)}>show the examples</a>' if w.filter else ""
        body.append(f'<div class="warn">{esc(w.text)}{link}</div>')
    body.append("<h2>Results</h2>")
    body += [table_html(t, table_links(t, runs)) for t in tables]
    all_figs = [p for paths in figures.values() for p in paths]
    if all_figs:
        body += ["<h2>Figures</h2>", figures_html(all_figs, out_dir)]
    for i, rt in enumerate(runs, start=1):
        body += [f"<h2>Run [{i}]: {esc(rt.data.label)}</h2>", metadata_html(rt.data, rt.summary)]
    script = ""
    if any(rt.data.examples for rt in runs):
        explorer, script = explorer_html(runs)
        body.append(explorer)
        static = [f"<h3>Run [{i}]: first {min(n_examples, len(rt.data.examples))} examples</h3>" + examples_html(rt.data, n_examples)
                  for i, rt in enumerate(runs, start=1) if rt.data.examples and n_examples > 0]
        if static:
            body.append("<noscript><p class=\"note\">The explorer needs JavaScript; the first examples without it:</p>" + "\n".join(static) + "</noscript>")
    head = (f'<meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="{esc(csp(script))}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(title)}</title><style>{CSS}{static_text('explorer.css')}</style>")
    tail = f"<script>{script}</script>" if script else ""
    return f"<!DOCTYPE html>\n<html lang=\"en\"><head>{head}</head><body>\n" + "\n".join(body) + f"\n{tail}\n</body></html>\n"


def write_html(runs: Sequence[Any], tables: Sequence[Table], figures: Mapping[str, Sequence[Path]], out_dir: Path, n_examples: int = 10,
               title_extra: Sequence[str] = ()) -> Path:
    path = out_dir / "report.html"
    path.write_text(render_html(runs, tables, figures, out_dir, n_examples, title_extra), encoding="utf-8")
    return path
